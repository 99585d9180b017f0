"""iCalendar events for one talk and feeds of the whole series (RFC 5545, via icalendar).

A talk's UID is derived from its id and the series name only, so it stays the
same when the talk's time or title changes; SEQUENCE (given by the caller from
the ledger) grows when a talk that went out changes. Cancelled talks stay in the
feed with STATUS:CANCELLED, so that subscribed calendars drop them.

The VTIMEZONE of each zone the events use is written here, from zoneinfo, not by
icalendar's ``add_missing_timezones``: that one (``Timezone.from_tzinfo``, icalendar 7.3)
puts the spring change an hour late (``DTSTART:20240331T030000`` with ``TZOFFSETFROM:+0100``
is 02:00 UTC; the change is at 01:00 UTC). Here each change of offset in the years the
calendar covers is one STANDARD or DAYLIGHT whose DTSTART is the local time just before the
change, in its TZOFFSETFROM (RFC 5545 3.6.5); a zone that does not change gets one STANDARD.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import icalendar

from mailer.addresses import parse_mailbox
from mailer.render.event import event_fields, uid
from mailer.series.model import Series, Talk
from mailer.version import version


def make_event(series: Series, talk: Talk, *, sequence: int, stamp: datetime) -> Any:
    """Build the VEVENT of one talk."""
    fields = event_fields(series, talk)
    event = icalendar.Event()
    event.add("uid", uid(series, talk))
    event.add("dtstamp", stamp)
    event.add("dtstart", talk.start(series))
    event.add("dtend", talk.end(series))
    event.add("summary", fields["summary"])
    event.add("description", fields["description"])
    if fields["location"]:
        event.add("location", fields["location"])
    if fields["url"]:
        event.add("url", fields["url"])
    event.add("status", fields["status"])
    event.add("sequence", sequence)
    if series.mail.sender:
        organizer = parse_mailbox(series.mail.sender)
        address = icalendar.vCalAddress(f"mailto:{organizer.envelope}")
        if organizer.name:
            address.params["cn"] = organizer.name
        event.add("organizer", address)
    return event


def build_calendar(series: Series, events: Iterable[tuple[Talk, int]], *, stamp: datetime,
                   method: str | None = "PUBLISH") -> str:
    """Return a VCALENDAR holding one event per ``(talk, sequence)`` with its VTIMEZONE."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//announce//announce {version()}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", series.name)
    calendar.add("x-wr-timezone", series.timezone)
    days: list[date] = []
    for talk, sequence in events:
        calendar.add_component(make_event(series, talk, sequence=sequence, stamp=stamp))
        days.append(talk.date)
    zones = sorted({str(event[name].params["TZID"]) for event in calendar.walk("VEVENT")
                    for name in ("DTSTART", "DTEND") if "TZID" in event[name].params})
    if days:
        # The years of the talks, and the one before, whose last change is in force on 1
        # January: the whole 1970-2038 range would make every mail longer.
        first, last = min(days).year - 1, max(days).year
        for position, name in enumerate(zones):
            calendar.subcomponents.insert(position, vtimezone(name, first, last))
    return str(calendar.to_ical().decode("utf-8"))


class Change(NamedTuple):
    """One change of a zone's offset: when (UTC), the offsets before and after, the name and
    whether it is summer time after."""

    at: datetime
    before: timedelta
    after: timedelta
    name: str
    daylight: bool


def _state(zone: ZoneInfo, moment: datetime) -> tuple[timedelta, str, bool]:
    local = moment.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.tzname() or "", bool(local.dst())


def changes_between(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[Change]:
    """Every change of ``zone``'s offset, name or summer time in [start, end) (UTC), to the
    second: sampled every six hours, each change then found by halving."""
    step = timedelta(hours=6)
    moment, state = start, _state(zone, start)
    while moment < end:
        following = min(moment + step, end)
        then = _state(zone, following)
        if then != state:
            low, high = moment, following  # state at low; a change by high
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _state(zone, middle) == state:
                    low = middle
                else:
                    high = middle
            after = _state(zone, high)
            yield Change(high, state[0], after[0], after[1], after[2])
            moment, state = high, after
            continue
        moment = following


def _observance(kind: str, onset: datetime, before: timedelta, after: timedelta,
                name: str) -> Any:
    observance = icalendar.TimezoneDaylight() if kind == "DAYLIGHT" else\
        icalendar.TimezoneStandard()
    observance.add("dtstart", onset)  # naive: local time, in TZOFFSETFROM
    observance.add("tzname", name)
    observance["TZOFFSETFROM"] = icalendar.vUTCOffset(before)
    observance["TZOFFSETTO"] = icalendar.vUTCOffset(after)
    return observance


def vtimezone(name: str, first_year: int, last_year: int) -> Any:
    """The VTIMEZONE of the IANA zone ``name``: one observance for each change of offset in
    ``first_year`` .. ``last_year``, starting at the local time before it (RFC 5545 3.6.5);
    without a change in those years, one STANDARD."""
    zone = ZoneInfo(name)
    timezone = icalendar.Timezone()
    timezone.add("tzid", name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    found = list(changes_between(zone, start, datetime(last_year + 1, 1, 1, tzinfo=UTC)))
    for change in found:
        onset = (change.at + change.before).replace(tzinfo=None)
        timezone.add_component(_observance("DAYLIGHT" if change.daylight else "STANDARD",
                                           onset, change.before, change.after, change.name))
    if not found:  # one STANDARD since 1970 (local time, so naive)
        offset, tzname, _ = _state(zone, start)
        since = datetime(1970, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        timezone.add_component(_observance("STANDARD", since, offset, offset, tzname))
    return timezone
