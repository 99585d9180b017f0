"""Our side of the network: reaching the relay, TLS, logins, one session, the pool."""
