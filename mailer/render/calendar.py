"""iCalendar events for one talk and feeds of the whole series (RFC 5545, via icalendar).

A talk's UID is derived from its id and the series name only, so it stays the
same when the talk's time or title changes; SEQUENCE (given by the caller from
the ledger) grows when a talk that went out changes. Cancelled talks stay in the
feed with STATUS:CANCELLED, so that subscribed calendars drop them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import icalendar

from mailer import __version__
from mailer.addresses import parse_mailbox
from mailer.render.event import event_fields, uid
from mailer.series.model import Seminar, Series

PRODID = f"-//announce//announce {__version__}//EN"


def make_event(series: Series, seminar: Seminar, *, sequence: int, stamp: datetime) -> Any:
    """Build the VEVENT of one talk."""
    fields = event_fields(series, seminar)
    event = icalendar.Event()
    event.add("uid", uid(series, seminar))
    event.add("dtstamp", stamp)
    event.add("dtstart", seminar.start(series))
    event.add("dtend", seminar.end(series))
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


def build_calendar(series: Series, events: Iterable[tuple[Seminar, int]], *, stamp: datetime,
                   method: str | None = "PUBLISH") -> str:
    """Return a VCALENDAR holding one event per ``(talk, sequence)`` with its VTIMEZONE."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", series.name)
    calendar.add("x-wr-timezone", series.timezone)
    days: list[date] = []
    for seminar, sequence in events:
        calendar.add_component(make_event(series, seminar, sequence=sequence, stamp=stamp))
        days.append(seminar.date)
    if days:
        # Only the transitions around the talks: the whole 1970-2038 range makes every mail longer.
        calendar.add_missing_timezones(first_date=min(days) - timedelta(days=366),
                                       last_date=max(days) + timedelta(days=366))
    return str(calendar.to_ical().decode("utf-8"))

