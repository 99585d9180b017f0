"""``send --due``, the cron job: what came back first (the inbox), then every mail due now
that has not gone out.

The weekly mail goes whatever the inbox does. Like every use case it yields what the person
reads, progress, and last the exit code; the command line prints them.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import replace
from datetime import datetime

from mailer.commands.environment import Settings
from mailer.commands.inbox import read_inbox
from mailer.commands.mailing import (
    Output,
    exit_code_of,
    nothing_due_line,
    one_mail,
    waiting_lines,
)
from mailer.commands.output import Done, Line, Stop
from mailer.delivery.campaign import Request
from mailer.delivery.due import due_now
from mailer.delivery.renamed import orphans
from mailer.errors import EX_FAILURE, MailerError
from mailer.mail.outgoing import require_mail_settings
from mailer.series.schedule import local_today
from mailer.series.store import Store


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
        for output in one_mail(settings, store, request, now, quiet=quiet, stop=stop):
            if isinstance(output, Done):
                codes.append(output.code)
            else:
                yield output
    yield Done(exit_code_of([*codes, inbox_code] if inbox_code else codes))


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
