"""Addresses no send goes to: those that bounced for good and those that unsubscribed (contract §6).

They are kept in the ledger with the reason, the date and the message that caused it; the
subscriber file itself is never rewritten. ``announce subscribers --restore ADDR`` lifts one.
"""

from __future__ import annotations

from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.mail.outgoing import RecipientPlan


def unsuppressed(state: Path, plan: RecipientPlan) -> tuple[RecipientPlan, int]:
    """The plan without the suppressed addresses (``--force`` too), and how many there were.
    A test send with ``--to`` goes where it is told."""
    if plan.test:
        return plan, 0
    with Ledger.existing(state) as ledger:
        suppressed = set(ledger.suppressed()) if ledger is not None else set()
    if not suppressed:
        return plan, 0
    everyone = {b.envelope.lower() for b in (*plan.lists, *plan.subscribers, *plan.cc)}
    kept = plan.only(everyone - suppressed)
    return kept, plan.total - kept.total


SKIPPED = "suppressed address(es) skipped"


def skipped_warning(count: int) -> str:
    """The warning a send gives when it leaves suppressed addresses out."""
    return (f"{count} suppressed address(es) skipped (bounced or unsubscribed; "
            "`announce subscribers` lists them)")


def said_once(state: Path, warnings: tuple[str, ...]) -> tuple[str, ...]:
    """The warnings less a suppression count said before: the same count from run to run is
    no news (cron would mail it every week); a new suppression is said once."""
    if not any(SKIPPED in w for w in warnings):
        return warnings
    with Ledger(state) as ledger:
        return tuple(w for w in warnings if SKIPPED not in w or ledger.first_time(w))
