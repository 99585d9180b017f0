"""The organiser's mailbox: speakers' replies, bounces and unsubscribes (SPEC 7)."""
