"""The choosing rules of SPEC 5, as pure functions: no disk, no clock, no network.

Talks come in as iterables in date order (the store reads them lazily, so a rule that
stops early reads no more records than it needs); the moment comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from mailer.model import Seminar


def local_today(now: datetime, zone: tzinfo) -> date:
    """Return the date in the series' zone at ``now``.

    A cron host often runs in UTC: at 00:30 on Monday in Stockholm it is still Sunday
    there, and "this week's seminar" must be Stockholm's.
    """
    return now.astimezone(zone).date()


def window(today: date, days: int) -> tuple[date, date]:
    """Return the first and last day "this week's seminar" looks at."""
    return today, today + timedelta(days=days)


@dataclass(frozen=True)
class Choice:
    """The talk a rule picked, or none and the next talk after the window (for the message)."""

    talk: Seminar | None
    following: Seminar | None = None


def this_week(seminars: Iterable[Seminar], today: date, days: int) -> Choice:
    """The first talk not cancelled in ``today .. today + days`` (talks from today on)."""
    _, last = window(today, days)
    for seminar in seminars:
        if seminar.cancelled or seminar.date < today:
            continue
        if seminar.date <= last:
            return Choice(seminar)
        return Choice(None, seminar)
    return Choice(None)


def on_day(seminars: Iterable[Seminar], day: date) -> Choice:
    """The talk that takes place on ``day`` and is not cancelled (talks from ``day`` on)."""
    following = None
    for seminar in seminars:
        if seminar.date == day and not seminar.cancelled:
            return Choice(seminar)
        if seminar.date > day and not seminar.cancelled:
            following = seminar
            break
    return Choice(None, following)


def cancelled_in_window(seminars: Iterable[Seminar], today: date, days: int) -> Choice:
    """The first cancelled talk in ``today .. today + days``."""
    first, last = window(today, days)
    for seminar in seminars:
        if seminar.date > last:
            break
        if seminar.cancelled and seminar.date >= first:
            return Choice(seminar)
    return Choice(None)


def upcoming(later: Iterable[Seminar], count: int) -> list[Seminar]:
    """The next ``count`` talks that are not cancelled (talks after this one, in date order)."""
    found: list[Seminar] = []
    if count <= 0:
        return found
    for seminar in later:
        if not seminar.cancelled:
            found.append(seminar)
            if len(found) >= count:
                break
    return found
