"""The ledger's log of the inbox (contract §7): inbox messages acted on, the inbox's own mail
(notes), and which copy announce sent under which Message-ID (the proof an answer must name).
A part of :class:`mailer.delivery.ledger.Ledger`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mailer.delivery.ledgerfile import SENT, LedgerFile


@dataclass(frozen=True)
class SentCopy:
    """One copy announce sent: its Message-ID, recipient (lower-cased), kind (a mail kind, or
    an inbox note's purpose) and talk (the key; empty for a note about no talk)."""

    message_id: str
    recipient: str
    kind: str
    talk: str


class InboxRows(LedgerFile):
    """Handled inbox messages, the inbox's notes, and the copies an answer may name."""

    def was_handled(self, message: str) -> bool:
        """Whether an inbox message was acted on before."""
        return self._one("SELECT 1 FROM handled WHERE message = ?", (message,)) is not None

    def handled(self, message: str, what: str) -> None:
        """Note that an inbox message was acted on."""
        self._write("INSERT OR IGNORE INTO handled (message, what, at) VALUES (?, ?, ?)",
                    (message, what, self._stamp()))

    def sent_to(self, message_ids: Iterable[str]) -> list[SentCopy]:
        """What announce sent under these Message-IDs, to whom (contract §7: the proof a bounce,
        a reply or an unsubscribe must carry); unknown ids give nothing."""
        ids = sorted({m.strip() for m in message_ids if m.strip()})[:64]
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))  # only "?" marks are formatted into the queries
        sent = ("SELECT d.message_id, d.recipient, c.kind, c.seminar FROM deliveries d JOIN "
                "campaigns c ON d.campaign = c.id WHERE d.status = ? AND d.message_id IN ")
        noted = "SELECT message_id, recipient, purpose, talk FROM notes WHERE message_id IN "
        rows = self._read(f"{sent}({marks})", (SENT, *ids))
        rows += self._read(f"{noted}({marks})", tuple(ids))
        return [SentCopy(str(m), str(r), str(k), str(s)) for m, r, k, s in rows]

    def noted(self, message_id: str, recipient: str, purpose: str, talk: str = "") -> None:
        """Note a mail the inbox sent (a receipt, a request to confirm), by its Message-ID."""
        self._write("INSERT OR REPLACE INTO notes (message_id, recipient, purpose, talk, at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (message_id, recipient.lower(), purpose, talk, self._stamp()))

    def last_note(self, recipient: str, purpose: str) -> datetime | None:
        """When the inbox last sent ``recipient`` a mail for ``purpose``; None if never."""
        row = self._one("SELECT max(at) FROM notes WHERE recipient = ? AND purpose = ?",
                        (recipient.lower(), purpose))
        return None if row is None or row[0] is None else datetime.fromisoformat(row[0])
