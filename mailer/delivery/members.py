"""Who a list mail goes to besides the organiser's file (contract §9): the confirmed sign-ups,
each subscriber's own time zone, and not the reminder to those who turned reminders off.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mailer.addresses import Mailbox
from mailer.delivery.ledger import Ledger
from mailer.delivery.memberrows import CONFIRMED, Preferences
from mailer.mail.outgoing import RecipientPlan
from mailer.series.kinds import Kind

SIGNED_UP = 0  # a subscriber's "line" when they signed up rather than being in the file


def with_members(state: Path, plan: RecipientPlan, kind: Kind) -> RecipientPlan:
    """``plan`` with the confirmed sign-ups after the file's subscribers (each address once),
    each subscriber's zone, and without who turned off a kind they may turn off."""
    if plan.test:
        return plan
    with Ledger.existing(state, readonly=True) as ledger:
        if ledger is None:
            return plan
        members = ledger.members(CONFIRMED)
        chosen = ledger.preferences()
    have = {b.envelope.lower() for b in (*plan.lists, *plan.subscribers)}
    joined = [Mailbox(m.address, m.name) for m in members if m.address not in have]
    boxes = (*plan.subscribers, *joined)
    lines = (*(plan.lines or (SIGNED_UP,) * len(plan.subscribers)),
             *(SIGNED_UP,) * len(joined))
    plan = replace(plan, subscribers=boxes, lines=lines,
                   source=plan.source or ("sign-ups" if joined else None))
    if kind.mail.optional:
        wanted = {b.envelope.lower() for b in boxes
                  if chosen.get(b.envelope.lower(), Preferences()).reminders}
        plan = plan.only(wanted | {b.envelope.lower() for b in (*plan.lists, *plan.cc)})
    zones = tuple(chosen.get(b.envelope.lower(), Preferences()).zone for b in plan.subscribers)
    return replace(plan, zones=zones) if any(zones) else plan
