"""Calendar events: stable UIDs, the series' zone, a version digest that follows what changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import vobject

from mailer.render.calendar import build_calendar
from mailer.render.event import event_digest, uid
from mailer.series.model import Seminar, Series, Speaker, Status

SERIES = Series(name="Learning Machines", team="T", timezone="Europe/Stockholm",
                default_time=time(15, 0), video_link="https://example.org/call")
TALK = Seminar(id="2024-04-04-kreis", date=date(2024, 4, 4), time=time(16, 0),
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
