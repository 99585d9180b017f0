"""The ledger's file: its one SQLite connection, its tables, its version and the steps from each
older version; the parts of :class:`mailer.delivery.ledger.Ledger` read and write through it.

Opening a ledger checks it (SQLite's own check, our tables, not from a newer announce) and
brings an older one up to this version; ``readonly`` reads a copy in memory instead, so the
file is never written, not even upgraded. The database runs in WAL mode with
``synchronous=NORMAL``: a committed row survives the process being killed (kill -9); only a
power loss may take the last rows back, which would mean a repeated message, never a lost one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from mailer.errors import LedgerError
from mailer.paths import display_path

LEDGER_FILE = "ledger.sqlite3"
LEDGER_VERSION = 6  # PRAGMA user_version: a ledger from a newer announce is never written to
OUR_TABLES = frozenset({"campaigns", "deliveries"})
SENT = "sent"  # deliveries.status: the server took the copy
REFUSED = "refused"  # deliveries.status: the server refused it for good
# deliveries.status: unsubscribed while the campaign went, before their message was built:
# settled (the campaign is whole), never sent
SUPPRESSED = "suppressed"

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
CREATE TABLE IF NOT EXISTS members (  -- who signed up (contract §9): pending, then confirmed
    address TEXT PRIMARY KEY,  -- lower-cased
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,  -- pending | confirmed
    via TEXT NOT NULL,  -- mail | web
    asked TEXT NOT NULL,  -- when the sign-up came
    consent TEXT,  -- the Message-ID of the reply that confirmed (or "web link")
    consented TEXT  -- when
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS preferences (  -- a subscriber's own zone and reminders
    address TEXT PRIMARY KEY,
    zone TEXT,
    reminders INTEGER NOT NULL DEFAULT 1,
    changed TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS erased (  -- people whose data was erased: a keyed hash, still left out
    digest TEXT PRIMARY KEY,
    at TEXT NOT NULL
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
# Version 6 adds the sign-ups, preferences and erased people: new tables only (SCHEMA).


class LedgerWriteError(LedgerError):
    """A row could not be written (a full disk): the sender says how many went out."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerFile:
    """The open ledger: the connection (``db``), and reading, writing and stamping rows.

    ``clock`` stamps the rows (when a message went out); it is a seam for tests.
    """

    def __init__(self, folder: Path, *, create: bool = True,
                 clock: Callable[[], datetime] = _utc_now, readonly: bool = False) -> None:
        self.path = folder / LEDGER_FILE
        self._clock = clock
        where = display_path(self.path)
        self._help = (f"the ledger {where} cannot be used ({{why}}); nothing was sent. "
                      "Fix the folder's permissions or free space and run again")
        damaged = (f"the ledger {where} is damaged ({{why}}), so announce cannot tell what went "
                   "out; nothing was sent. Restore it from a backup, or try `sqlite3 "
                   f"{where} .recover`. Only if nothing was ever sent from this series "
                   "folder, delete it (a new ledger would send everything again)")
        try:
            exists = self.path.exists()
            if not exists and not create:
                raise LedgerError(f"{where}: no ledger yet")
            if exists and self.path.stat().st_size == 0:
                raise LedgerError(damaged.format(why="the file is empty"))
            self.db = self._connect(folder, readonly=readonly)
            try:
                version = self._check(damaged) if exists else LEDGER_VERSION
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._upgrade(version, exists=exists)
            except BaseException:
                self.db.close()  # a refused ledger leaves no connection (nor -wal file) open
                raise
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            raise LedgerError(damaged.format(why=exc)) from None
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(self._help.format(why=exc)) from None

    def _connect(self, folder: Path, *, readonly: bool) -> sqlite3.Connection:
        if not readonly:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            return sqlite3.connect(self.path, timeout=10, isolation_level=None)
        # a copy in memory: the file is never written, not even upgraded
        db = sqlite3.connect(":memory:", isolation_level=None)
        source = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                 timeout=10)
        try:
            source.backup(db)
        finally:
            source.close()
        return db

    def _upgrade(self, version: int, *, exists: bool) -> None:
        """Bring a ledger of an older ``version`` to this one, step by step (a new one is made
        whole); the version is written only when it changed."""
        if version < 2 and self._has_events():
            self.db.executescript(TO_VERSION_2)
        if exists and version < 3 and "facts" not in self._columns("campaigns"):
            self.db.executescript(TO_VERSION_3)
        if exists and version < 5 and "message_id" not in self._columns("deliveries"):
            self.db.executescript(TO_VERSION_5)
        self.db.executescript(SCHEMA)
        if version != LEDGER_VERSION or not exists:  # a reader leaves the file as it was
            self.db.execute(f"PRAGMA user_version = {LEDGER_VERSION}")

    def _columns(self, table: str) -> set[str]:
        return {str(row[1]) for row in self.db.execute(f"PRAGMA table_info({table})")}

    def _has_events(self) -> bool:
        return bool(self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone())

    def _check(self, damaged: str) -> int:
        """Refuse a ledger that SQLite finds damaged, that is not ours, or that is newer."""
        problems = [str(row[0]) for row in self.db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise LedgerError(damaged.format(why=f"SQLite's check: {problems[0]}"))
        tables = {str(row[0]) for row in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables >= OUR_TABLES:
            raise LedgerError(damaged.format(why="it holds no announce tables"))
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > LEDGER_VERSION:
            raise LedgerError(
                f"the ledger {display_path(self.path)} was written by a newer announce "
                f"(version {version}; this one knows {LEDGER_VERSION}); nothing was sent. "
                "Upgrade announce (pip install --upgrade announce)")
        return version

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.db.close()

    @classmethod
    @contextmanager
    def existing(cls, folder: Path, *, readonly: bool = False) -> Iterator[Self | None]:
        """Open the ledger for reading when there is one (previews and listings record
        nothing); ``readonly`` reads a copy in memory, so that a dry run leaves the file as
        it was, byte for byte (what it writes is forgotten)."""
        if not (folder / LEDGER_FILE).exists():
            yield None
            return
        with cls(folder, create=False, readonly=readonly) as ledger:
            yield ledger

    def _stamp(self, timespec: str = "seconds") -> str:
        return self._clock().astimezone(UTC).isoformat(timespec=timespec)

    def _read(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise LedgerError(f"the ledger {display_path(self.path)} could not be read ({exc}); "
                              "nothing was sent") from None

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[Any, ...] | None:
        rows = self._read(sql, args)
        return rows[0] if rows else None

    def _write(self, sql: str, args: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, args)
        except sqlite3.Error as exc:
            raise LedgerWriteError(f"the ledger {display_path(self.path)} could not be "
                                   f"written ({exc})") from None
