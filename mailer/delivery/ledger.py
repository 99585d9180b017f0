"""The SQLite ledger of sends (the lock that keeps two runs apart is in ``lock``).

One row per talk x kind x recipient, written and committed right after the
server's 250 (or 5xx refusal): a run that stops half way is resumed by the next
one, and at most the message in flight at a crash can go out twice. ``--force``
opens a new campaign for the talk x kind; older campaigns stay as history.

The database runs in WAL mode with ``synchronous=NORMAL``: a committed row
survives the process being killed (kill -9); only a power loss may take the
last rows back, which would mean a repeated message, never a lost one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from mailer.delivery.inboxrows import SENT, InboxRows
from mailer.delivery.tables import (
    LEDGER_VERSION,
    OUR_TABLES,
    SCHEMA,
    TO_VERSION_2,
    TO_VERSION_3,
    TO_VERSION_5,
)
from mailer.errors import LedgerError
from mailer.paths import display_path
from mailer.series.model import Kind

__all__ = ["LEDGER_FILE", "REFUSED", "SENT", "KindSummary", "Ledger", "LedgerWriteError"]

LEDGER_FILE = "ledger.sqlite3"
REFUSED = "refused"


class LedgerWriteError(LedgerError):
    """A row could not be written (a full disk): the sender says how many went out."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class KindSummary:
    """What went out for one talk x kind, in its latest campaign."""

    sent: int
    refused: int
    last: str | None


class Ledger(InboxRows):
    """The record of every send of a series; use it as a context manager.

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
            if readonly:  # a copy in memory: the file is never written, not even upgraded
                self.db = sqlite3.connect(":memory:", isolation_level=None)
                source = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                         timeout=10)
                try:
                    source.backup(self.db)
                finally:
                    source.close()
            else:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            version = self._check(damaged) if exists else LEDGER_VERSION
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if version < 2 and self._has_events():
                self.db.executescript(TO_VERSION_2)
            if exists and version < 3 and "facts" not in self._columns("campaigns"):
                self.db.executescript(TO_VERSION_3)
            if exists and version < 5 and "message_id" not in self._columns("deliveries"):
                self.db.executescript(TO_VERSION_5)
            self.db.executescript(SCHEMA)
            if version != LEDGER_VERSION or not exists:  # a reader leaves the file as it was
                self.db.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            raise LedgerError(damaged.format(why=exc)) from None
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(self._help.format(why=exc)) from None

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

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.db.close()

    @classmethod
    @contextmanager
    def existing(cls, folder: Path, *, readonly: bool = False) -> Iterator[Ledger | None]:
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

    def latest_campaign(self, talk: str, kind: Kind) -> int | None:
        """Return the newest campaign of a talk x kind, if it was ever sent."""
        row = self._one(
            "SELECT id FROM campaigns WHERE seminar = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (talk, kind),
        )
        return None if row is None else int(row[0])

    def campaign(self, talk: str, kind: Kind, *, force: bool, facts: str | None = None,
                 audience: Iterable[str] = ()) -> int:
        """Return the campaign to continue, or a new one (always new with ``force``).

        An update continues only the campaign that told the same ``facts``; a new one keeps
        its ``audience`` (who got the announcement by then), so a resumed run mails the same
        people, and someone who subscribed since gets the current announcement instead.
        """
        if kind in (Kind.UPDATE, Kind.REQUEST, Kind.CHANGED):  # one a change set, a round
            latest = None if force or facts is None else\
                self.matching_campaign(talk, kind, facts)
        else:
            latest = None if force else self.latest_campaign(talk, kind)
        if latest is not None:
            return latest
        try:
            self.db.execute("BEGIN IMMEDIATE")
            cursor = self.db.execute(
                "INSERT INTO campaigns (seminar, kind, started, forced, facts) "
                "VALUES (?, ?, ?, ?, ?)", (talk, kind, self._stamp(), int(force), facts))
            number = int(cursor.lastrowid or 0)
            self.db.executemany("INSERT OR IGNORE INTO audience (campaign, recipient) "
                                "VALUES (?, ?)", [(number, r.lower()) for r in audience])
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise LedgerWriteError(f"the ledger {display_path(self.path)} could not be "
                                   f"written ({exc})") from None
        return number

    def matching_campaign(self, talk: str, kind: Kind, facts: str) -> int | None:
        """The newest campaign of a talk x kind with these ``facts`` (an update's change set,
        a request's round), to continue."""
        row = self._one("SELECT id FROM campaigns WHERE seminar = ? AND kind = ? AND facts = ? "
                        "ORDER BY id DESC LIMIT 1", (talk, kind, facts))
        return None if row is None else int(row[0])

    def rounds(self, talk: str) -> list[tuple[int, datetime | None, frozenset[str]]]:
        """A talk's request rounds: number, when it first reached anyone, who is settled."""
        found = []
        for campaign, facts in self._read(
                "SELECT id, facts FROM campaigns WHERE seminar = ? AND kind = ? ORDER BY id",
                (talk, Kind.REQUEST)):
            first = self._one("SELECT min(at) FROM deliveries WHERE campaign = ? AND status = ?",
                              (campaign, SENT))
            number = int(json.loads(facts)["round"]) if facts else 1
            found.append((number, datetime.fromisoformat(first[0]) if first and first[0]
                          else None, frozenset(self.settled(int(campaign)))))
        return found

    def briefed(self, talk: str) -> frozenset[str]:
        """Whom the talk's brief reached (or who refused it for good)."""
        campaign = self.latest_campaign(talk, Kind.BRIEF)
        return frozenset(self.settled(campaign)) if campaign is not None else frozenset()

    def audience(self, campaign: int) -> set[str]:
        """Who an update campaign is for."""
        return {str(r[0]) for r in self._read(
            "SELECT recipient FROM audience WHERE campaign = ?", (campaign,))}

    def reached(self, talk: str) -> set[str]:
        """Everyone (lower-cased) the talk's announcement reached, in any campaign."""
        return {str(r[0]) for r in self._read(
            "SELECT DISTINCT d.recipient FROM deliveries d JOIN campaigns c ON d.campaign = c.id "
            "WHERE c.seminar = ? AND c.kind = ? AND d.status = ?",
            (talk, Kind.ANNOUNCEMENT, SENT))}

    def told(self, talk: str) -> str | None:
        """What people were last told of the talk's date, place and link (JSON), if known:
        the newest announcement that reached anyone, or update that reached its whole
        audience (one stopped half way is still to finish, so it is due again)."""
        row = self._one(
            "SELECT c.facts FROM campaigns c WHERE c.seminar = ? AND ((c.kind = ? AND "
            "EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign = c.id AND d.status = ?)) OR "
            "(c.kind = ? AND EXISTS (SELECT 1 FROM audience a WHERE a.campaign = c.id) AND "
            "NOT EXISTS (SELECT 1 FROM audience a WHERE a.campaign = c.id AND NOT EXISTS ("
            "SELECT 1 FROM deliveries d WHERE d.campaign = c.id AND d.recipient = a.recipient))"
            ")) ORDER BY c.id DESC LIMIT 1", (talk, Kind.ANNOUNCEMENT, SENT, Kind.UPDATE))
        return None if row is None or row[0] is None else str(row[0])

    def settled(self, campaign: int) -> dict[str, str]:
        """Return each recipient (lower-cased) that got the message or refused it for good,
        with its status (``sent`` or ``refused``)."""
        rows = self._read("SELECT recipient, status FROM deliveries WHERE campaign = ?",
                          (campaign,))
        return {str(recipient): str(status) for recipient, status in rows}

    def write_outcome(self, campaign: int, recipient: str, status: str, code: int, reply: str,
               *, message_id: str | None = None) -> None:
        """YamlMap one recipient's outcome, durably, before the next message goes out;
        ``message_id`` is the copy's Message-ID, the proof a bounce or a reply names."""
        self._write(
            "INSERT OR REPLACE INTO deliveries (campaign, recipient, status, code, reply, at, "
            "message_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (campaign, recipient.lower(), status, code, reply, self._stamp(), message_id),
        )

    def summary(self, talk: str, kind: Kind) -> KindSummary | None:
        """Return what the latest campaign of a talk x kind delivered, or None if never sent."""
        row = self._one(
            "SELECT c.id, sum(d.status = ?), sum(d.status = ?), max(d.at) FROM campaigns c "
            "LEFT JOIN deliveries d ON d.campaign = c.id WHERE c.seminar = ? AND c.kind = ? "
            "GROUP BY c.id ORDER BY c.id DESC LIMIT 1",
            (SENT, REFUSED, talk, kind),
        )
        if row is None or not (row[1] or row[2]):
            return None
        return KindSummary(int(row[1] or 0), int(row[2] or 0), row[3])

    def first_sent(self, talk: str, kind: Kind) -> datetime | None:
        """When a talk x kind first reached anyone, in any campaign; None if it never did."""
        row = self._one(
            "SELECT min(d.at) FROM deliveries d JOIN campaigns c ON d.campaign = c.id "
            "WHERE c.seminar = ? AND c.kind = ? AND d.status = ?", (talk, kind, SENT),
        )
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])

    def announced(self) -> set[str]:
        """Every talk whose announcement reached anyone."""
        return {str(row[0]) for row in self._read(
            "SELECT DISTINCT c.seminar FROM campaigns c JOIN deliveries d ON d.campaign = c.id "
            "WHERE c.kind = ? AND d.status = ?", (Kind.ANNOUNCEMENT, SENT))}

    def clamp(self, now: datetime) -> int:
        """Bring stamps later than ``now`` back to ``now``; return how many there were.

        A stamp from the future was written by a clock that ran ahead (and has since been
        corrected). Left as it is, it would say a mail went out on a day it did not, and
        the rules that ask "when did it go?" (no reminder on the day of the announcement)
        would hold back a mail for good. What happened then happened no later than now.
        """
        stamp = now.astimezone(UTC).isoformat(timespec="seconds")
        cursor = self._write("UPDATE deliveries SET at = ? WHERE at > ?", (stamp, stamp))
        return int(cursor.rowcount)

    def first_time(self, notice: str) -> bool:
        """YamlMap that ``notice`` was said; True only the first time (cron says it once)."""
        cursor = self._write("INSERT OR IGNORE INTO notices (key, said) VALUES (?, ?)",
                             (notice, self._stamp()))
        return cursor.rowcount == 1

    def sequence(self, talk: str, digest: str) -> int:
        """Return the calendar SEQUENCE for the talk as it is now (grows with each sent change)."""
        digests = [str(r[0]) for r in self._read(
            "SELECT digest FROM events WHERE seminar = ? ORDER BY n", (talk,))]
        if digest in digests:
            return digests.index(digest)
        return len(digests)

    def event_sent(self, talk: str, digest: str) -> None:
        """Note that this version of the talk's calendar event went out."""
        self._write("INSERT OR IGNORE INTO events (seminar, digest, first_sent, n) VALUES "
                    "(?, ?, ?, (SELECT count(*) + 1 FROM events WHERE seminar = ?))",
                    (talk, digest, self._stamp("microseconds"), talk))
