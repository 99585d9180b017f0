"""The choosing rules of contract §5 on plain values: this week's talk, today's, the cancelled
one, the next."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailer.series.model import Speaker, Status, Talk
from mailer.series.schedule import (
    cancelled_in_window,
    local_today,
    on_day,
    this_week,
    upcoming,
    window,
)

D = date(2024, 2, 22)


def talk(days: int, status: Status = Status.CONFIRMED) -> Talk:
    day = D + timedelta(days=days)
    return Talk(id=f"{day}-x", date=day, speakers=(Speaker("X"),), status=status)


WEEKS = [talk(0), talk(7, Status.CANCELLED), talk(14, Status.CANCELLED), talk(21),
         talk(28, Status.TENTATIVE), talk(35)]


def from_(day: date) -> list[Talk]:
    return [s for s in WEEKS if s.date >= day]


@pytest.mark.parametrize(("today", "picked", "following"), [
    (D - timedelta(days=6), D, None),          # the window's first day
    (D - timedelta(days=7), None, D),          # one day too early: names the next
    (D, D, None),                               # the talk's own day
    (D + timedelta(days=1), None, D + timedelta(days=21)),  # cancelled weeks are skipped
    (D + timedelta(days=15), D + timedelta(days=21), None),
    (D + timedelta(days=36), None, None),      # nothing planned after
])
def test_this_week(today: date, picked: date | None, following: date | None) -> None:
    choice = this_week(from_(today), today, 6)
    assert (choice.talk.date if choice.talk else None) == picked
    assert (choice.following.date if choice.following else None) == following


def test_window_is_inclusive() -> None:
    assert window(D, 6) == (D, D + timedelta(days=6))
    assert this_week(from_(D), D, 0).talk == WEEKS[0]


def test_on_day_skips_a_cancelled_talk_and_names_the_next() -> None:
    assert on_day(from_(D), D).talk == WEEKS[0]
    cancelled_day = D + timedelta(days=7)
    choice = on_day(from_(cancelled_day), cancelled_day)
    assert choice.talk is None
    assert choice.following == WEEKS[3]


def test_cancelled_in_window() -> None:
    assert cancelled_in_window(from_(D), D, 6).talk is None
    assert cancelled_in_window(from_(D), D, 7).talk == WEEKS[1]


def test_upcoming_skips_cancelled_and_stops_at_count() -> None:
    assert upcoming(WEEKS[1:], 2) == [WEEKS[3], WEEKS[4]]
    assert upcoming(WEEKS[1:], 0) == []


def test_upcoming_reads_no_more_talks_than_it_shows() -> None:
    read: list[Talk] = []

    def lazily() -> object:
        for talk in WEEKS[1:]:
            read.append(talk)
            yield talk

    assert len(upcoming(lazily(), 1)) == 1  # type: ignore[arg-type]
    assert read == WEEKS[1:4]


def test_local_today_is_the_series_date_not_utcs() -> None:
    # 23:30 UTC on Sunday is already Monday in Stockholm, and still Sunday in New York.
    now = datetime(2024, 3, 3, 23, 30, tzinfo=UTC)
    assert local_today(now, ZoneInfo("Europe/Stockholm")) == date(2024, 3, 4)
    assert local_today(now, ZoneInfo("America/New_York")) == date(2024, 3, 3)
