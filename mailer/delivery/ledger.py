"""The SQLite ledger of sends (the lock that keeps two runs apart is in ``lock``).

One row per talk x kind x recipient, written and committed right after the
server's 250 (or 5xx refusal): a run that stops half way is resumed by the next
one, and at most the message in flight at a crash can go out twice. ``--force``
opens a new campaign for the talk x kind; older campaigns stay as history.

:class:`Ledger` is built from parts, one a kind of row: campaigns and deliveries
(``deliveryrows``), suppressed addresses and soft bounces (``suppressedrows``), the
inbox's log (``inboxrows``), say-once notices (``noticerows``), calendar versions
(``calendarrows``) and the people who signed up, their preferences and consent
(``memberrows``). They share one connection, opened, checked and upgraded by
``ledgerfile``.
"""

from __future__ import annotations

from mailer.delivery.calendarrows import CalendarRows
from mailer.delivery.deliveryrows import DeliveryRows, KindSummary
from mailer.delivery.inboxrows import InboxRows
from mailer.delivery.ledgerfile import (
    LEDGER_FILE,
    REFUSED,
    SENT,
    SUPPRESSED,
    LedgerWriteError,
)
from mailer.delivery.memberrows import MemberRows
from mailer.delivery.noticerows import NoticeRows
from mailer.delivery.suppressedrows import SuppressedRows

__all__ = ["LEDGER_FILE", "REFUSED", "SENT", "SUPPRESSED", "KindSummary", "Ledger",
           "LedgerWriteError"]


class Ledger(DeliveryRows, SuppressedRows, InboxRows, NoticeRows, CalendarRows, MemberRows):
    """The record of every send of a series; use it as a context manager.

    ``Ledger(folder, create=True, clock=..., readonly=False)`` and ``Ledger.existing(folder)``
    open it (see :class:`mailer.delivery.ledgerfile.LedgerFile`); ``clock`` stamps the rows
    (when a message went out), a seam for tests.
    """
