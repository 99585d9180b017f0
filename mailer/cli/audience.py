"""Commands for what comes back: ``inbox`` and ``subscribers``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mailer.cli.app import Now, app, examples, print_lines, say, session_of


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
    from mailer.commands.inbox import read_inbox

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
    from mailer.commands import subscribers as listing

    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    if restore is not None:
        print_lines([listing.restore(settings, restore)])
    else:
        print_lines(listing.subscribers(settings, store))
