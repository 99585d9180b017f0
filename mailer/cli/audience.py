"""Commands for what comes back: ``inbox``, ``subscribers`` and the web part, ``serve``."""

from __future__ import annotations

from pathlib import Path
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
                             "announce subscribers --export subscribers.csv",
                             "announce subscribers --restore anna@example.org",
                             "announce subscribers --erase anna@example.org"))
def subscribers(
    ctx: typer.Context,
    restore: Annotated[Optional[str], typer.Option(  # noqa: UP045
        metavar="ADDR", help="Lift the suppression of this address.", show_default=False)
    ] = None,
    export: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        metavar="FILE", help="Write everyone (source, preferences, consent, suppression) as "
                             "CSV.", show_default=False)
    ] = None,
    erase: Annotated[Optional[str], typer.Option(  # noqa: UP045
        metavar="ADDR", help="Delete what announce keeps of this person; a keyed hash keeps "
                             "them from being mailed again.", show_default=False)
    ] = None,
) -> None:
    """List who gets the mail: where each came from, their preferences and consent, and who is
    suppressed (bounced, unsubscribed), and why."""
    from mailer.commands import subscribers as listing

    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    if restore is not None:
        print_lines([listing.restore(settings, restore)])
    elif erase is not None:
        print_lines(listing.erase(settings, store, erase))
    elif export is not None:
        print_lines([listing.export(settings, store, export)])
    else:
        print_lines(listing.subscribers(settings, store))


@app.command(epilog=examples("announce serve               # 127.0.0.1:8025, behind a proxy",
                             "announce serve --host 0.0.0.0 --port 8080"))
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(
        help="The address to listen on; keep 127.0.0.1 behind nginx or Apache.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        min=0, max=65535, help="The port to listen on (0: any free one).")] = 8025,
) -> None:
    """Run the web part (one-click unsubscribe, sign-up form, preferences) under waitress."""
    import signal

    from mailer.commands.serve import serve as serving

    session = session_of(ctx)
    store = session.store()

    def stop(number: int, frame: object) -> None:
        raise SystemExit(0)  # systemctl stop: the requests in hand finish, then it exits

    signal.signal(signal.SIGTERM, stop)
    serving(session.settings(store), store, host, port, say)
