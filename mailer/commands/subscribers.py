"""``subscribers``: who gets the mail and who is suppressed (bounced, unsubscribed), and why;
and lifting a suppression by hand."""

from __future__ import annotations

from datetime import datetime

from mailer.commands.environment import Settings
from mailer.commands.output import Line
from mailer.delivery.ledger import Ledger
from mailer.delivery.suppression import digest, kept, remember
from mailer.errors import InputError
from mailer.mail.outgoing import plan_recipients
from mailer.series.store import Store


def subscribers(settings: Settings, store: Store) -> list[Line]:
    """Every address on the list, active or suppressed; a suppression with its reason, when
    (in the series' zone) and the message that caused it."""
    plan = plan_recipients(store.root, settings.mail)
    with Ledger.existing(settings.state) as ledger:
        suppressed = ledger.suppressed() if ledger is not None else {}
    everyone = [b for b in (*plan.lists, *plan.subscribers) if b.envelope.lower() not in suppressed]
    recorded = kept(store.root)  # a suppression the state folder lost, the series kept
    active = [b for b in everyone if digest(b.envelope) not in recorded]
    lines = [Line(f"{len(active)} active, "
                  f"{len(suppressed) + len(everyone) - len(active)} suppressed")]
    lines += [Line(f"  active      {box.display()}") for box in active]
    lines += [Line(f"  suppressed  {box.envelope.lower()}: {recorded[digest(box.envelope)]} "
                   "(kept in seminars/.suppressed.log; the state folder does not know it)")
              for box in everyone if digest(box.envelope) in recorded]
    zone = store.series.zone
    for address, (reason, when, message) in suppressed.items():
        local = datetime.fromisoformat(when).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        lines.append(Line(f"  suppressed  {address}: {reason}, {local} (message {message})"))
    return lines


def restore(settings: Settings, address: str) -> Line:
    """Lift the suppression of ``address``: the next send reaches it again."""
    recorded = digest(address) in kept(settings.root)
    with Ledger(settings.state) as ledger:
        if not ledger.restore(address) and not recorded:
            raise InputError(f"--restore: {address} is not suppressed")
    remember(settings.root, [{"restored": digest(address)}])
    return Line(f"restored {address}: the next send reaches it again")
