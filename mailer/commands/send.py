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
from mailer.delivery.request import Request
from mailer.mail.outgoing import require_mail_settings
from mailer.series.store import Store

__all__ = ["Request", "send"]


def send(settings: Settings, store: Store, request: Request, now: datetime, *,
         quiet: bool = False, stop: Stop = lambda: False) -> Iterator[Output]:
    """Send (or, with ``request.dry_run``, show) one mail: ``announce send``."""
    store.refuse_strays()
    require_mail_settings(settings.mail, test=bool(request.to))
    yield from one_mail(settings, store, request, now, quiet=quiet, stop=stop)
