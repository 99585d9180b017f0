"""``send --due``, the cron job: what came back first (the inbox), then every mail due now
that has not gone out.

The weekly mail goes whatever the inbox does. Like every use case it yields what the person
reads, progress, and last the exit code; the command line prints them.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.commands.environment import Settings
from mailer.commands.inbox import read_inbox
from mailer.commands.output import Done, Line, Stop, exit_code_of, warning_lines
from mailer.delivery.due import due_now
from mailer.delivery.ledger import Ledger
from mailer.delivery.renamed import orphans
from mailer.delivery.request import Request
from mailer.errors import EX_FAILURE, InputError, MailerError
from mailer.mail.outgoing import require_mail_settings
from mailer.series.kinds import ANNOUNCING, Kind
from mailer.series.schedule import DueNow, local_today
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.commands.mailing import Output


def send_due(settings: Settings, store: Store, now: datetime, *, dry_run: bool = False,
             quiet: bool = False, stop: Stop = lambda: False) -> Iterator[Output]:
    """Read the inbox, then send (or show) every mail due at ``now``: ``send --due``.

    The weekly mail goes whatever the inbox does: an inbox that cannot be read is said first
    and its exit code kept for the end.
    """
    store.refuse_strays()
    require_mail_settings(settings.mail)
    inbox_code = 0
    if settings.mail.inbox is not None:  # what came back first: replies, bounces, unsubscribes
        inbox_code = yield from _inbox(settings, store, now, dry_run=dry_run, quiet=quiet)
        store = Store(store.root)  # the records a reply filled, read afresh
    day = local_today(now, store.series.zone)
    lines, renamed = orphans(store, settings.state, day, once=not dry_run)
    yield from (Line(f"warning: {line}", err=True) for line in lines)
    plan = due_now(store, settings.state, now, remember=not dry_run)
    plan = replace(plan, due=tuple(d for d in plan.due if d.talk.id not in renamed))
    yield from waiting_lines(settings.state, plan, remember=not dry_run)
    if not plan.due and not quiet:
        yield Line(nothing_due_line(plan, now))
    codes = []
    for item in plan.due:
        if stop():
            break
        request = Request(item.talk.id, item.kind, day, dry_run=dry_run,
                          speaker=item.speaker, round=item.round, last=item.last)
        for output in _one_mail(settings, store, request, now, quiet=quiet, stop=stop):
            if isinstance(output, Done):
                codes.append(output.code)
            else:
                yield output
    yield Done(exit_code_of([*codes, inbox_code] if inbox_code else codes))


def _one_mail(settings: Settings, store: Store, request: Request, now: datetime, *,
              quiet: bool, stop: Stop) -> Iterator[Output]:
    """One mail due now, sent or shown (:func:`mailer.commands.mailing.one_mail`). What
    renders and sends a mail loads here, with the first one due: a run with nothing due
    stays light (cron starts one every 15 minutes)."""
    from mailer.commands.mailing import one_mail  # noqa: PLC0415 (the renderer and smtplib load only once a mail is due)

    return one_mail(settings, store, request, now, quiet=quiet, stop=stop)


def _inbox(settings: Settings, store: Store, now: datetime, *, dry_run: bool,
           quiet: bool) -> Generator[Output, None, int]:
    """Read the inbox; what it says is yielded, its exit code returned (0 when read)."""
    try:
        read = read_inbox(store, settings.state, settings.mail, now, dry_run=dry_run)
    except MailerError as exc:  # the weekly mail goes whatever the inbox does
        yield Line(f"announce: the inbox was not read: {exc}; sending what is due all the "
                   "same", err=True)
        return exc.exit_code
    except Exception as exc:  # a fault of announce's own: still never the week's mail
        yield Line(f"announce: the inbox was not read: {type(exc).__name__}: {exc} (a fault "
                   "in announce; please report it); sending what is due all the same", err=True)
        return EX_FAILURE
    for line in read.lines:
        if not quiet or line in read.attention:
            yield Line(line, err=line in read.attention)
    return 0


def waiting_lines(state: Path, plan: DueNow, *, remember: bool) -> list[Line]:
    """Say what is due but held back; each once (the ledger remembers), unless not recording."""
    if not plan.waiting:
        return []
    if not remember:
        return warning_lines(plan.waiting)
    with Ledger(state) as ledger:
        return warning_lines([text for text in plan.waiting if ledger.first_time(text)])


def nothing_due_line(plan: DueNow, now: datetime) -> str:
    """Say that nothing is due, and what comes next."""
    zone = now.tzinfo
    text = f"Nothing is due at {now.astimezone(zone):%Y-%m-%d %H:%M %Z}."
    if plan.next is not None:
        talk, kind, moment = plan.next
        text += f" Next: the {kind} of {talk.id}, due from {moment:%Y-%m-%d %H:%M %Z}."
    return text


def refuse_due_options(*, which: str | None, today: object, to: object, force: bool,
                       kind: Kind) -> None:
    """``send --due`` chooses the talks and kinds itself."""
    if which or today or to or force or kind != ANNOUNCING:
        raise InputError("send --due chooses the talks and kinds itself; give it only "
                         "--now, --dry-run and --quiet")
