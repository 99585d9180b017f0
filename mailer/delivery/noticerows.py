"""The ledger's notices: what is said only once, not at every run of cron (a warning, a file
left over), and when it was said. A part of :class:`mailer.delivery.ledger.Ledger`.
"""

from __future__ import annotations

from mailer.delivery.ledgerfile import LedgerFile


class NoticeRows(LedgerFile):
    """Say-once notices."""

    def first_time(self, notice: str) -> bool:
        """Record that ``notice`` was said; True only the first time (cron says it once)."""
        cursor = self._write("INSERT OR IGNORE INTO notices (key, said) VALUES (?, ?)",
                             (notice, self._stamp()))
        return cursor.rowcount == 1
