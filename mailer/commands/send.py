"""``send``: one mail by hand (``send --due``, the cron job, is :mod:`mailer.commands.cron`).

It yields what the person reads (:class:`~mailer.commands.mailing.Line`), progress, and last
the exit code (:class:`~mailer.commands.mailing.Done`); the command line prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from mailer.commands.environment import Settings
from mailer.commands.mailing import Output, one_mail
from mailer.commands.output import Stop
from mailer.delivery.renamed import orphans
from mailer.delivery.request import Request
from mailer.errors import InputError
from mailer.mail.outgoing import require_mail_settings
from mailer.series.schedule import Nothing, pick
from mailer.series.store import Store

__all__ = ["Request", "send"]


def send(settings: Settings, store: Store, request: Request, now: datetime, *,
         quiet: bool = False, stop: Stop = lambda: False) -> Iterator[Output]:
    """Send (or, with ``request.dry_run``, show) one mail: ``announce send``."""
    store.refuse_strays()
    require_mail_settings(settings.mail, test=bool(request.to))
    if not (request.force or request.to or request.dry_run):
        _refuse_renamed(settings, store, request)
    yield from one_mail(settings, store, request, now, quiet=quiet, stop=stop)


def _refuse_renamed(settings: Settings, store: Store, request: Request) -> None:
    """A record that looks like an announced talk renamed by hand is held by hand too, as
    ``send --due`` holds it: its people would get the talk twice."""
    if request.kind.personal:  # the speakers' mail names its talk; a refusal is one_mail's
        return
    try:
        talk = pick(store, request.which, request.today, request.kind)
    except InputError:
        return  # one_mail says why, as it always has
    if isinstance(talk, Nothing):
        return
    lines, renamed = orphans(store, settings.state, request.today)
    if talk.id in renamed:
        line = next(line for line in lines if renamed[talk.id] in line)
        raise InputError(f"{line}. Give --force to send it anyway")
