"""The organiser's mailbox: speakers' replies, bounces and unsubscribes (contract §7)."""
