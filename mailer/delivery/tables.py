"""The ledger's tables (SQLite), its version, and the steps from each older version."""

from __future__ import annotations

LEDGER_VERSION = 5  # PRAGMA user_version: a ledger from a newer announce is never written to
OUR_TABLES = frozenset({"campaigns", "deliveries"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY,
    seminar TEXT NOT NULL,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    facts TEXT  -- announcements and updates: the date, place and link they told (JSON)
);
CREATE INDEX IF NOT EXISTS campaigns_by_talk ON campaigns (seminar, kind);
CREATE TABLE IF NOT EXISTS deliveries (
    campaign INTEGER NOT NULL REFERENCES campaigns (id),
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    code INTEGER NOT NULL,
    reply TEXT NOT NULL,
    at TEXT NOT NULL,
    message_id TEXT,  -- the Message-ID of the copy that went: what a bounce or reply names
    PRIMARY KEY (campaign, recipient)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_message ON deliveries (message_id);
CREATE TABLE IF NOT EXISTS audience (  -- an update goes to who got the announcement by then
    campaign INTEGER NOT NULL REFERENCES campaigns (id),
    recipient TEXT NOT NULL,
    PRIMARY KEY (campaign, recipient)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressed (  -- addresses no send goes to (bounces, unsubscribes)
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    message TEXT NOT NULL  -- the Message-ID (or file) of the mail that caused it
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bounces (  -- temporary failures, counted until three suppress
    address TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (address, message)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS handled (  -- inbox messages acted on, so a second run does nothing
    message TEXT PRIMARY KEY,
    what TEXT NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notes (  -- the inbox's own mail: receipts, confirmation requests
    message_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    purpose TEXT NOT NULL,  -- 'confirm-unsubscribe', 'unsubscribed', 'received'
    talk TEXT NOT NULL DEFAULT '',  -- a receipt: the talk whose record the reply filled
    at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notes_by_recipient ON notes (recipient, purpose);
CREATE TABLE IF NOT EXISTS notices (
    key TEXT PRIMARY KEY,
    said TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    seminar TEXT NOT NULL,
    digest TEXT NOT NULL,
    first_sent TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,  -- the order the versions went out in (SEQUENCE)
    PRIMARY KEY (seminar, digest)
) WITHOUT ROWID;
"""
# Version 1 ordered a talk's event versions by the clock (which --now sets); version 2
# numbers them as they go out.
TO_VERSION_2 = """
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 0;
UPDATE events SET n = (SELECT count(*) FROM events AS e
                       WHERE e.seminar = events.seminar AND e.first_sent <= events.first_sent);
"""
# Version 3 keeps what each announcement and update told (campaigns.facts).
TO_VERSION_3 = "ALTER TABLE campaigns ADD COLUMN facts TEXT;"
# Version 5 keeps each copy's Message-ID, the proof a bounce or a reply must name (contract §7).
TO_VERSION_5 = "ALTER TABLE deliveries ADD COLUMN message_id TEXT;"
