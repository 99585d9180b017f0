"""The ledger, the send loop (skip what went out, send, record), the send use case."""
