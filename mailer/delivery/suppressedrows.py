"""The ledger's rows of who is left out (contract §7): suppressed addresses, and the temporary
failures counted until they suppress one. A part of :class:`mailer.delivery.ledger.Ledger`;
what suppression means for a send is ``suppression``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailer.delivery.ledgerfile import LedgerFile


class SuppressedRows(LedgerFile):
    """Suppressed addresses and soft bounces."""

    def suppressed(self) -> dict[str, tuple[str, str, str]]:
        """Every suppressed address (lower-cased) -> (reason, when, the message that caused it)."""
        return {str(a): (str(r), str(t), str(m)) for a, r, t, m in self._read(
            "SELECT address, reason, at, message FROM suppressed ORDER BY address", ())}

    def suppressed_among(self, addresses: Sequence[str]) -> set[str]:
        """Which of ``addresses`` are suppressed now (lower-cased): what a send asks just
        before it builds each message, so a primary-key lookup, not the whole table."""
        wanted = sorted({a.lower() for a in addresses})
        if not wanted:
            return set()
        marks = ", ".join("?" * len(wanted))
        return {str(r[0]) for r in self._read(
            f"SELECT address FROM suppressed WHERE address IN ({marks})",  # noqa: S608
            tuple(wanted))}

    def suppress(self, address: str, reason: str, message: str) -> bool:
        """Suppress ``address``; False when it already was."""
        cursor = self._write("INSERT OR IGNORE INTO suppressed (address, reason, at, message) "
                             "VALUES (?, ?, ?, ?)", (address.lower(), reason, self._stamp(),
                                                     message))
        return cursor.rowcount == 1

    def restore(self, address: str) -> bool:
        """Lift a suppression (and forget its temporary failures); False when there was none."""
        cursor = self._write("DELETE FROM suppressed WHERE address = ?", (address.lower(),))
        self._write("DELETE FROM bounces WHERE address = ?", (address.lower(),))
        return cursor.rowcount == 1

    def soft_bounce(self, address: str, message: str) -> int:
        """Count a temporary failure for ``address``; return how many there are now."""
        self._write("INSERT OR IGNORE INTO bounces (address, message, at) VALUES (?, ?, ?)",
                    (address.lower(), message, self._stamp()))
        row = self._one("SELECT count(*) FROM bounces WHERE address = ?", (address.lower(),))
        return int(row[0]) if row else 0
