"""Commands that make a mail: ``send`` and ``preview``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mailer.cli.app import (
    KindOption,
    Now,
    Today,
    Which,
    app,
    examples,
    print_lines,
    say,
    session_of,
)
from mailer.series.kinds import ANNOUNCING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mailer.commands.mailing import Output


@app.command(epilog=examples(
    "announce send --dry-run                      # this week's, shown, not sent",
    "announce send 2024-02-22 --to me@example.org  # a test to yourself",
    "announce send                                # this week's, to the list",
    "announce send --due --quiet                  # from cron: whatever is due now",
    "announce send --due --dry-run --now 2024-02-16T08:00"))
def send(
    ctx: typer.Context,
    which: Which = None,
    today: Today = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Build everything, print it, write a preview; send nothing.")] = False,
    to: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--to", help="Send only to this address (a test; not recorded as the real send).",
        show_default=False)] = None,
    kind: KindOption = ANNOUNCING,
    force: Annotated[bool, typer.Option(
        "--force", help="Send again even if the ledger says it went out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only problems (for cron).")] = False,
    due: Annotated[bool, typer.Option(
        "--due", help="Send every mail that is due now and has not gone out (for cron).")] = False,
    now: Now = None,
) -> None:
    """Send this week's announcement (or a reminder or cancellation) to the list."""
    session = session_of(ctx)
    store = session.store()
    moment = session.moment(store, now)
    settings = session.settings(store)
    from mailer.cli.signals import stop_on_signals

    if due:  # the cron job, which loads what sends a mail only once one is due
        from mailer.commands import cron

        cron.refuse_due_options(which=which, today=today, to=to, force=force, kind=kind)
    with stop_on_signals() as stop:
        if due:
            outputs = cron.send_due(settings, store, moment, dry_run=dry_run, quiet=quiet,
                                    stop=stop)
        else:
            from mailer.commands import send as sending

            request = sending.Request(which, kind, today or session.today(store, None, moment),
                                      tuple(to or ()), force=force, dry_run=dry_run)
            outputs = sending.send(settings, store, request, moment, quiet=quiet, stop=stop)
        code = show(outputs, quiet=quiet)
    raise typer.Exit(stop.exit_code or code)


@app.command(epilog=examples(
    "announce ask 2024-02-22 --today 2024-01-25      # ask its speakers for what is missing",
    "announce ask 2024-02-22 --dry-run               # show the request, send nothing"))
def ask(
    ctx: typer.Context,
    which: Which = None,
    today: Today = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show each request and write its preview; send nothing.")] = False,
    to: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--to", help="Send each request only to this address (a test; the speakers get "
                     "nothing and it is not recorded as the real request).",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only problems.")] = False,
) -> None:
    """Ask a talk's speakers now for what is still missing (one mail each, a form to reply)."""
    from mailer.commands.ask import ask as ask_speakers
    from mailer.errors import InputError

    if which is None:
        raise InputError("ask: name the talk (its id or date)")
    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    from mailer.cli.signals import stop_on_signals

    with stop_on_signals() as stop:
        code = show(ask_speakers(settings, store, which, session.today(store, today),
                                 session.now, dry_run=dry_run, to=tuple(to or ()), quiet=quiet,
                                 stop=stop), quiet=quiet)
    raise typer.Exit(stop.exit_code or code)


def _progress(done: int, total: int) -> None:
    filled = 30 * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def show(outputs: Iterator[Output], *, quiet: bool) -> int:
    """Print what a use case yields (a progress bar for a long send on a terminal); return
    its exit code."""
    from mailer.commands.output import Done, Line

    code = 1
    shown = -1
    for output in outputs:
        if isinstance(output, Line):
            say(output.text, err=output.err)
        elif isinstance(output, Done):
            code = output.code
        elif output.total and output.total > 36 and not quiet and sys.stderr.isatty():
            percent = 100 * output.done // output.total
            if percent != shown or output.done == output.total:  # redraw when it changes
                shown = percent
                _progress(output.done, output.total)
    return code


@app.command(epilog=examples(
    "announce preview --open                    # this week's, in the browser",
    "announce preview 2024-02-22 --out /tmp/p   # message.eml, .txt, .html, event.ics",
    "announce preview --kind reminder --today 2024-04-04"))
def preview(
    ctx: typer.Context,
    which: Which = None,
    today: Today = None,
    kind: KindOption = ANNOUNCING,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Write message.eml, message.txt, message.html and event.ics here.",
        show_default="the state folder's preview/<id>-<kind>/")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML in the browser.")] = False,
) -> None:
    """Write the message as it would be sent, for a look before sending."""
    from mailer.commands.preview import preview as write

    session = session_of(ctx)
    store = session.store()
    written = write(session.settings(store), store, which, kind=kind,
                    day=session.today(store, today), now=session.now, out=out)
    print_lines(list(written.lines))
    folder = written.folder
    if folder is None:
        return
    if open_:
        import webbrowser

        page = (folder / "message.html").resolve()
        if not webbrowser.open(page.as_uri()):
            say(f"no web browser found here; open {page} in one", err=True)
