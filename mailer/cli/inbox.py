"""Commands for what comes back: ``inbox`` and ``subscribers``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mailer.cli.app import Now, app, examples, say, session_of


@app.command(epilog=examples("announce inbox --dry-run   # what it would do; changes nothing",
                             "announce inbox"))
def inbox(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what it would do; change nothing (no flag, no move, no edit).")
    ] = False,
    now: Now = None,
) -> None:
    """Act on the replies, bounces and unsubscribe requests in mail.inbox."""
    from mailer.inbox.run import read_inbox

    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    result = read_inbox(store, settings.state, settings.mail, session.moment(store, now),
                        dry_run=dry_run)
    for line in result.lines:
        say(line)


@app.command(epilog=examples("announce subscribers",
                             "announce subscribers --restore anna@example.org"))
def subscribers(
    ctx: typer.Context,
    restore: Annotated[Optional[str], typer.Option(  # noqa: UP045
        metavar="ADDR", help="Lift the suppression of this address.", show_default=False)
    ] = None,
) -> None:
    """List who gets the mail and who is suppressed (bounced, unsubscribed), and why."""
    from mailer.delivery.ledger import Ledger
    from mailer.errors import InputError
    from mailer.mail.outgoing import plan_recipients

    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    if restore is not None:
        with Ledger(settings.state) as ledger:
            if not ledger.restore(restore):
                raise InputError(f"--restore: {restore} is not suppressed")
        say(f"restored {restore}: the next send reaches it again")
        return
    plan = plan_recipients(store.root, settings.mail)
    with Ledger.existing(settings.state) as ledger:
        suppressed = ledger.suppressed() if ledger is not None else {}
    active = [b for b in (*plan.lists, *plan.subscribers) if b.envelope.lower() not in suppressed]
    say(f"{len(active)} active, {len(suppressed)} suppressed")
    for box in active:
        say(f"  active      {box.display()}")
    from datetime import datetime

    zone = store.series.zone
    for address, (reason, when, message) in suppressed.items():
        local = datetime.fromisoformat(when).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        say(f"  suppressed  {address}: {reason}, {local} (message {message})")
