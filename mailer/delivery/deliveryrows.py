"""The ledger's rows of what went out: campaigns, one row per recipient of each (written and
committed right after the server's 250 or 5xx refusal), and the audience an update is for.

``--force`` opens a new campaign for the talk x kind; older campaigns stay as history. A part
of :class:`mailer.delivery.ledger.Ledger`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from mailer.delivery.ledgerfile import REFUSED, SENT, LedgerFile, LedgerWriteError
from mailer.paths import display_path
from mailer.series.kinds import ANNOUNCING, Audience, Identity, Kind

# The kinds whose rows these queries read, as the declaration describes them.
_ASKED = next(k for k in Kind if k.mail.identity == Identity.ROUND)  # asked in rounds
_BRIEF = next(k for k in Kind if k.mail.audience == Audience.SPEAKERS
              and k.mail.identity == Identity.ONCE)  # the speakers' one practical mail
_TOLD_AGAIN = next(k for k in Kind if k.mail.identity == Identity.TOLD)  # a change told


@dataclass(frozen=True)
class KindSummary:
    """What went out for one talk x kind, in its latest campaign."""

    sent: int
    refused: int
    last: str | None


class DeliveryRows(LedgerFile):
    """Campaigns and their deliveries: what to continue, who is settled, what people were told."""

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
        if Kind(kind).mail.identity != Identity.ONCE:  # one a change set, a round
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
                (talk, _ASKED)):
            first = self._one("SELECT min(at) FROM deliveries WHERE campaign = ? AND status = ?",
                              (campaign, SENT))
            number = int(json.loads(facts)["round"]) if facts else 1
            found.append((number, datetime.fromisoformat(first[0]) if first and first[0]
                          else None, frozenset(self.settled(int(campaign)))))
        return found

    def briefed(self, talk: str) -> frozenset[str]:
        """Whom the talk's brief reached (or who refused it for good)."""
        campaign = self.latest_campaign(talk, _BRIEF)
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
            (talk, ANNOUNCING, SENT))}

    def reached_anyone(self, address: str) -> bool:
        """Whether announce ever delivered to ``address`` (a bounce must be for our mail)."""
        return self._one("SELECT 1 FROM deliveries WHERE recipient = ? AND status = ? LIMIT 1",
                         (address.lower(), SENT)) is not None

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
            ")) ORDER BY c.id DESC LIMIT 1", (talk, ANNOUNCING, SENT, _TOLD_AGAIN))
        return None if row is None or row[0] is None else str(row[0])

    def settled(self, campaign: int) -> dict[str, str]:
        """Return each recipient (lower-cased) that got the message or refused it for good,
        with its status (``sent`` or ``refused``)."""
        rows = self._read("SELECT recipient, status FROM deliveries WHERE campaign = ?",
                          (campaign,))
        return {str(recipient): str(status) for recipient, status in rows}

    def write_outcome(self, campaign: int, recipient: str, status: str, code: int, reply: str,
               *, message_id: str | None = None) -> None:
        """Record one recipient's outcome, durably, before the next message goes out;
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
            "WHERE c.kind = ? AND d.status = ?", (ANNOUNCING, SENT))}

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

    def campaigns_reached(self) -> list[tuple[str, str, str | None, str, int]]:
        """Every campaign that reached anyone, oldest first: talk, kind, facts, when it first
        went, how many it reached."""
        return [(str(t), str(k), None if f is None else str(f), str(at), int(n))
                for t, k, f, at, n in self._read(
                    "SELECT c.seminar, c.kind, c.facts, min(d.at), count(*) FROM campaigns c "
                    "JOIN deliveries d ON d.campaign = c.id WHERE d.status = ? GROUP BY c.id "
                    "ORDER BY c.id", (SENT,))]

    def facts_told(self, talk: str, kinds: tuple[Kind, ...], besides: str) -> list[str]:
        """The facts of a talk's campaigns of ``kinds`` that reached anyone and told something
        other than ``besides``, newest first."""
        marks = ", ".join("?" * len(kinds))
        return [str(r[0]) for r in self._read(
            f"SELECT c.facts FROM campaigns c WHERE c.seminar = ? AND c.kind IN ({marks}) "  # noqa: S608
            "AND c.facts IS NOT NULL AND c.facts != ? AND EXISTS (SELECT 1 FROM deliveries d "
            "WHERE d.campaign = c.id AND d.status = ?) ORDER BY c.id DESC",
            (talk, *kinds, besides, SENT))]
