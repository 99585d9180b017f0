"""``ask``: a talk's speakers asked now, by hand, for what is still missing (one mail each)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from mailer.commands.environment import Settings
from mailer.commands.mailing import Output, one_mail
from mailer.commands.output import Done, Stop, exit_code_of
from mailer.delivery.request import Request
from mailer.delivery.speakers import next_round
from mailer.delivery.tospeakers import refuse
from mailer.mail.outgoing import require_mail_settings
from mailer.series.kinds import Kind
from mailer.series.schedule import standing_in
from mailer.series.store import Store


def ask(settings: Settings, store: Store, which: str, day: date, now: datetime, *,
        dry_run: bool = False, to: Sequence[str] = (), quiet: bool = False,
        stop: Stop = lambda: False) -> Iterator[Output]:
    """Send (or show) the next round's request to each speaker of ``which`` with an address;
    with ``to``, a test copy of each to those addresses only."""
    require_mail_settings(settings.mail, test=bool(to))
    talk = store.find(which)
    moment = standing_in(store.series.zone, day, now)
    refuse(talk, Kind.REQUEST, moment, store)
    number, last = next_round(store, settings.state, talk, moment)
    codes = []
    for person in talk.asked():
        if stop():
            break
        request = Request(talk.id, Kind.REQUEST, day, dry_run=dry_run, to=tuple(to),
                          speaker=person.email, round=number, last=last)
        for output in one_mail(settings, store, request, now, quiet=quiet, stop=stop):
            if isinstance(output, Done):
                codes.append(output.code)
            else:
                yield output
    yield Done(exit_code_of(codes))
