"""The ledger's calendar versions: each version of a talk's calendar event that went out, in
the order it went, which gives the event's SEQUENCE (a calendar takes the highest as current).
A part of :class:`mailer.delivery.ledger.Ledger`.
"""

from __future__ import annotations

from mailer.delivery.ledgerfile import LedgerFile


class CalendarRows(LedgerFile):
    """The versions of each talk's calendar event."""

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
