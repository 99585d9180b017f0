"""``subscribers``: who gets the mail and who is suppressed (bounced, unsubscribed), and why;
and lifting a suppression by hand."""

from __future__ import annotations

from datetime import datetime

from mailer.commands.environment import Settings
from mailer.commands.output import Line
from mailer.delivery.ledger import Ledger
from mailer.errors import InputError
from mailer.mail.outgoing import plan_recipients
from mailer.series.store import Store


def subscribers(settings: Settings, store: Store) -> list[Line]:
    """Every address on the list, active or suppressed; a suppression with its reason, when
    (in the series' zone) and the message that caused it."""
    plan = plan_recipients(store.root, settings.mail)
    with Ledger.existing(settings.state) as ledger:
        suppressed = ledger.suppressed() if ledger is not None else {}
    active = [b for b in (*plan.lists, *plan.subscribers) if b.envelope.lower() not in suppressed]
    lines = [Line(f"{len(active)} active, {len(suppressed)} suppressed")]
    lines += [Line(f"  active      {box.display()}") for box in active]
    zone = store.series.zone
    for address, (reason, when, message) in suppressed.items():
        local = datetime.fromisoformat(when).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        lines.append(Line(f"  suppressed  {address}: {reason}, {local} (message {message})"))
    return lines


def restore(settings: Settings, address: str) -> Line:
    """Lift the suppression of ``address``: the next send reaches it again."""
    with Ledger(settings.state) as ledger:
        if not ledger.restore(address):
            raise InputError(f"--restore: {address} is not suppressed")
    return Line(f"restored {address}: the next send reaches it again")
