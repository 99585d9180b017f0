"""Calendar events: stable UIDs, the series' zone, a version digest that follows what changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from mailer.render.calendar import build_calendar
from mailer.render.event import event_digest, uid
from mailer.series.model import Series, Speaker, Status, Talk

SERIES = Series(name="Learning Machines", team="T", timezone="Europe/Stockholm",
                default_time=time(15, 0), video_link="https://example.org/call")
TALK = Talk(id="2024-04-04-kreis", date=date(2024, 4, 4), time=time(16, 0),
               speakers=(Speaker("Karsten Kreis", "NVIDIA"),), title="Diffusion")
STAMP = datetime(2024, 3, 1, tzinfo=UTC)


def test_event_in_local_time_with_its_zone() -> None:
    ics = build_calendar(SERIES, [(TALK, 3)], stamp=STAMP)
    event = vobject.readOne(ics, validate=True).vevent
    assert event.dtstart.value.isoformat() == "2024-04-04T16:00:00+02:00"
    assert event.dtend.value.isoformat() == "2024-04-04T17:00:00+02:00"
    assert event.sequence.value == "3"
    assert event.uid.value == "2024-04-04-kreis.learning-machines@announce"
    assert "TZID=Europe/Stockholm" in ics and "BEGIN:VTIMEZONE" in ics
    assert "METHOD:PUBLISH" in ics


def test_uid_stays_and_digest_changes_with_what_a_calendar_shows() -> None:
    moved = replace(TALK, time=time(17, 0), title="Diffusion models")
    assert uid(SERIES, moved) == uid(SERIES, TALK)
    assert event_digest(SERIES, moved) != event_digest(SERIES, TALK)
    assert event_digest(SERIES, replace(TALK, bio="A bio")) == event_digest(SERIES, TALK)


def test_cancelled_talk_is_marked_cancelled() -> None:
    ics = build_calendar(SERIES, [(replace(TALK, status=Status.CANCELLED), 1)], stamp=STAMP)
    assert vobject.readOne(ics, validate=True).vevent.status.value == "CANCELLED"


SECOND = timedelta(seconds=1)


def zone_changes(zone: ZoneInfo, first_year: int, last_year: int) -> list[datetime]:
    """Every instant (UTC) at which ``zone``'s offset changes in those years, found
    independently of announce: hour by hour, then to the second."""
    found = []
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    while moment < end:
        following = moment + timedelta(hours=1)
        if moment.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            instant = next(moment + n * SECOND for n in range(1, 3601)
                           if (moment + n * SECOND).astimezone(zone).utcoffset()
                           != moment.astimezone(zone).utcoffset())
            found.append(instant)
        moment = following
    return found


@pytest.mark.parametrize("name", ["Europe/Stockholm", "America/New_York", "Australia/Sydney",
                                  "Asia/Kolkata"])
def test_vtimezone_matches_zoneinfo_to_the_second(name: str) -> None:
    """RFC 5545 3.6.5: an observance's DTSTART is local time in its TZOFFSETFROM, so
    DTSTART - TZOFFSETFROM is the UTC instant of the change."""
    series = replace(SERIES, timezone=name)
    talks = [(replace(TALK, id="2024-01-18-a", date=date(2024, 1, 18)), 0),
             (replace(TALK, id="2025-11-20-b", date=date(2025, 11, 20)), 0)]
    ics = build_calendar(series, talks, stamp=STAMP)
    [timezone] = icalendar.Calendar.from_ical(ics).walk("VTIMEZONE")
    assert str(timezone["TZID"]) == name
    zone = ZoneInfo(name)
    expected = zone_changes(zone, 2023, 2025)  # the talks' years and the one before
    observances = timezone.walk("STANDARD") + timezone.walk("DAYLIGHT")
    if not expected:  # no summer time: one STANDARD, the offset as it is
        [standard] = timezone.walk("STANDARD")
        offset = datetime(2024, 1, 18, tzinfo=zone).utcoffset()
        assert standard["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td == offset
        assert observances == [standard]
        return
    instants = []
    for observance in observances:
        onset = observance.decoded("DTSTART")
        assert onset.tzinfo is None  # local time
        before, after = observance["TZOFFSETFROM"].td, observance["TZOFFSETTO"].td
        instant = (onset - before).replace(tzinfo=UTC)
        assert (instant - SECOND).astimezone(zone).utcoffset() == before
        assert instant.astimezone(zone).utcoffset() == after
        daylight = bool(instant.astimezone(zone).dst())
        assert observance.name == ("DAYLIGHT" if daylight else "STANDARD")
        assert str(observance["TZNAME"]) == instant.astimezone(zone).tzname()
        instants.append(instant)
    assert sorted(instants) == expected
    for event in vobject.readOne(ics, validate=True).vevent_list:  # a client's reading
        start = event.dtstart.value
        assert start.utcoffset() == start.replace(tzinfo=zone).utcoffset()


def test_the_spring_change_is_at_the_local_time_before_it() -> None:
    """Stockholm's clocks went from 02:00 CET to 03:00 CEST on 2024-03-31 (01:00 UTC)."""
    ics = build_calendar(SERIES, [(TALK, 0)], stamp=STAMP)
    assert "BEGIN:DAYLIGHT\r\nDTSTART:20240331T020000\r\nTZNAME:CEST\r\nTZOFFSETFROM:+0100\r\n"\
           "TZOFFSETTO:+0200\r\nEND:DAYLIGHT" in ics
    assert "BEGIN:STANDARD\r\nDTSTART:20241027T030000\r\nTZNAME:CET\r\nTZOFFSETFROM:+0200\r\n"\
           "TZOFFSETTO:+0100\r\nEND:STANDARD" in ics
