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
from mailer.series.model import Kind

if TYPE_CHECKING:
    from datetime import datetime

    from mailer.cli.settings import Settings
    from mailer.cli.signals import Stop
    from mailer.delivery.loop import Report
    from mailer.delivery.sending import Request
    from mailer.mail.outgoing import Outgoing
    from mailer.series.store import Store
    from mailer.smtp.session import Ahead


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
    kind: KindOption = Kind.ANNOUNCEMENT,
    force: Annotated[bool, typer.Option(
        "--force", help="Send again even if the ledger says it went out.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only problems (for cron).")] = False,
    due: Annotated[bool, typer.Option(
        "--due", help="Send every mail that is due now and has not gone out (for cron).")] = False,
    now: Now = None,
) -> None:
    """Send this week's announcement (or a reminder or cancellation) to the list."""
    from mailer.delivery import sending
    from mailer.errors import InputError
    from mailer.mail.outgoing import require_mail_settings

    session = session_of(ctx)
    store = session.store()
    moment = session.moment(store, now)
    store.refuse_strays()
    settings = session.settings(store)
    require_mail_settings(settings.mail, test=bool(to))
    if due and (which or today or to or force or kind != Kind.ANNOUNCEMENT):
        raise InputError("send --due chooses the talks and kinds itself; give it only "
                         "--now, --dry-run and --quiet")
    from mailer.cli.signals import stop_on_signals

    with stop_on_signals() as stop:
        if due:
            code = _send_due(settings, store, moment, dry_run=dry_run, quiet=quiet, stop=stop)
        else:
            request = sending.Request(which, kind, today or session.today(store, None, moment),
                                      tuple(to or ()), force=force, dry_run=dry_run)
            code = _send_one(settings, store, request, moment, quiet=quiet, stop=stop)
    raise typer.Exit(stop.exit_code or code)


def _send_one(settings: Settings, store: Store, request: Request, now: datetime, *,
              quiet: bool, stop: Stop) -> int:
    """Prepare and send (or show) one mail; return its exit code."""
    from mailer.delivery import sending
    from mailer.delivery.sending import AlreadySent
    from mailer.mail.outgoing import write_preview
    from mailer.series.schedule import Nothing

    connections = None  # a dry run loads no smtplib
    if not request.dry_run:
        from mailer.smtp.session import Ahead

        connections = Ahead(settings.mail.smtp)
    try:
        outgoing = sending.prepare(store, settings.state, settings.mail, request, now,
                                   rendering=connections.start if connections else None)
        if isinstance(outgoing, Nothing | AlreadySent):
            if not quiet:
                say(outgoing.message if isinstance(outgoing, Nothing) else
                    ("Dry run: " if request.dry_run else "") + sending.already_sent_line(outgoing))
            return 0
        if connections is None:
            print_lines(sending.warning_lines(outgoing.warnings))
        else:  # the first connection opened while it rendered
            from mailer.delivery.suppression import said_once

            print_lines(sending.warning_lines(said_once(settings.state, outgoing.warnings)))
            report = _deliver(settings.state, outgoing, force=request.force, quiet=quiet,
                              stop=stop, connections=connections)
            print_lines(sending.report_lines(report, outgoing, quiet=quiet))
            return report.exit_code
    finally:
        if connections is not None:
            connections.close()
    outgoing.require_sendable()
    for line in [*sending.summary_lines(outgoing), "", outgoing.rendered.text.rstrip("\n"), ""]:
        say(line)
    folder = write_preview(settings.state, outgoing)
    say(f"Dry run: nothing was sent. Preview written to {folder}/")
    return 0


def _send_due(settings: Settings, store: Store, now: datetime, *, dry_run: bool, quiet: bool,
              stop: Stop) -> int:
    """Send (or show) every mail due at ``now``; return the run's exit code."""
    from mailer.delivery import sending
    from mailer.season import orphans
    from mailer.series.schedule import local_today

    inbox_code = 0
    if settings.mail.inbox is not None:  # what came back first: replies, bounces, unsubscribes
        from mailer.errors import MailerError
        from mailer.inbox.run import read_inbox
        from mailer.series.store import Store

        try:
            read = read_inbox(store, settings.state, settings.mail, now, dry_run=dry_run)
        except MailerError as exc:  # the weekly mail goes whatever the inbox does
            say(f"announce: the inbox was not read: {exc}; sending what is due all the same",
                err=True)
            inbox_code = exc.exit_code
        except Exception as exc:  # a fault of announce's own: still never the week's mail
            say(f"announce: the inbox was not read: {type(exc).__name__}: {exc} (a fault in "
                "announce; please report it); sending what is due all the same", err=True)
            inbox_code = 1
        else:
            for line in read.lines:
                if not quiet or line in read.attention:
                    say(line, err=line in read.attention)
        store = Store(store.root)  # the records a reply filled, read afresh
    lines, renamed = orphans(store, settings.state, local_today(now, store.series.zone),
                             once=not dry_run)
    for line in lines:
        say(f"warning: {line}", err=True)
    from dataclasses import replace

    from mailer.delivery.due import due_now

    plan = due_now(store, settings.state, now, record=not dry_run)
    plan = replace(plan, due=tuple(d for d in plan.due if d.seminar.id not in renamed))
    print_lines(sending.waiting_lines(settings.state, plan, record=not dry_run))
    if not plan.due and not quiet:
        say(sending.nothing_due_line(plan, now))
    codes = []
    for item in plan.due:
        if stop():
            break
        codes.append(_send_one(settings, store, sending.Request(
            item.seminar.id, item.kind, local_today(now, store.series.zone), dry_run=dry_run,
            speaker=item.speaker, round=item.round, last=item.last), now, quiet=quiet,
            stop=stop))
    return sending.exit_code_of([*codes, inbox_code] if inbox_code else codes)


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
    from mailer.delivery import sending
    from mailer.delivery.asking import next_round, refuse
    from mailer.errors import InputError
    from mailer.mail.outgoing import require_mail_settings

    if which is None:
        raise InputError("ask: name the talk (its id or date)")
    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    require_mail_settings(settings.mail)
    day = session.today(store, today)
    seminar = store.find(which)
    moment = sending.standing_in(store, day, session.now)
    refuse(seminar, Kind.REQUEST, moment, store)
    number, last = next_round(store, settings.state, seminar, moment)
    from mailer.cli.signals import stop_on_signals

    codes = []
    with stop_on_signals() as stop:
        for person in seminar.asked():
            request = sending.Request(seminar.id, Kind.REQUEST, day, dry_run=dry_run,
                                      to=tuple(to or ()), speaker=person.email, round=number,
                                      last=last)
            codes.append(_send_one(settings, store, request, session.now, quiet=quiet,
                                   stop=stop))
    raise typer.Exit(stop.exit_code or sending.exit_code_of(codes))


def _progress(done: int, total: int) -> None:
    filled = 30 * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _deliver(state: Path, outgoing: Outgoing, *, force: bool, quiet: bool,
             stop: Stop, connections: Ahead) -> Report:
    from mailer.delivery.loop import Notice, Progress, Report
    from mailer.delivery.sending import send as run_send

    show_bar = not quiet and sys.stderr.isatty() and outgoing.plan.total > 36
    report = Report()
    shown = -1
    for event in run_send(state, outgoing, force=force, stop=stop, connections=connections):
        if isinstance(event, Progress) and show_bar and event.total:
            percent = 100 * event.done // event.total
            if percent != shown or event.done == event.total:  # redraw when the figure changes
                shown = percent
                _progress(event.done, event.total)
        elif isinstance(event, Notice) and not quiet:
            say(event.text, err=True)
        elif isinstance(event, Report):
            report = event
    return report


@app.command(epilog=examples(
    "announce preview --open                    # this week's, in the browser",
    "announce preview 2024-02-22 --out /tmp/p   # message.eml, .txt, .html, event.ics",
    "announce preview --kind reminder --today 2024-04-04"))
def preview(
    ctx: typer.Context,
    which: Which = None,
    today: Today = None,
    kind: KindOption = Kind.ANNOUNCEMENT,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Write message.eml, message.txt, message.html and event.ics here.",
        show_default="the state folder's preview/<id>-<kind>/")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML in the browser.")] = False,
) -> None:
    """Write the message as it would be sent, for a look before sending."""
    from mailer.delivery import sending
    from mailer.delivery.sending import AlreadySent
    from mailer.mail.outgoing import write_preview
    from mailer.series.schedule import Nothing

    session = session_of(ctx)
    store = session.store()
    settings = session.settings(store)
    request = sending.Request(which, kind, session.today(store, today), preview=True)
    outgoing = sending.prepare(store, settings.state, settings.mail, request, session.now)
    if isinstance(outgoing, Nothing):
        say(outgoing.message)
        return
    assert not isinstance(outgoing, AlreadySent)  # noqa: S101 (a preview never asks the ledger)
    print_lines(sending.warning_lines(outgoing.warnings))
    folder = write_preview(settings.state, outgoing, out)
    say(f"Preview of the {kind} of {outgoing.seminar.id} written to {folder}/")
    if open_:
        import webbrowser

        page = (folder / "message.html").resolve()
        if not webbrowser.open(page.as_uri()):
            say(f"no web browser found here; open {page} in one", err=True)
