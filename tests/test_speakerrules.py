"""The rules for mail to speakers (contract §8) on plain values: when they are asked, chased,
told it is the last time, briefed, and told their announced talk moved.

The series is the bundled one's shape: Stockholm, talks at 15:00, announcements at 08:00;
speakers asked 28 days before, chased every 7, the deadline 10 days before, the brief the day
before. The talk is on Thursday 2024-03-21 (CET, UTC+1).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailer.series.model import Series, Speaker, SpeakerMail, Status, Talk
from mailer.series.schedule import talk_facts
from mailer.series.speakerrules import (
    Asked,
    Heard,
    Round,
    changed_due,
    deadline,
    is_last_round,
    next_to_speakers,
    request_round,
    speaker_due,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SERIES = Series(name="Learning Machines", team="T", timezone="Europe/Stockholm",
                default_time=time(15), announce_at=time(8))
DAY = date(2024, 3, 21)
ANN = "ann@example.org"
BO = "bo@example.org"
TALK = Talk(id="2024-03-21-ann", date=DAY, speakers=(Speaker("Ann", email=ANN),))
# The request opens 28 days before at 08:00 in Stockholm: 2024-02-22 07:00 UTC.
OPENS = datetime(2024, 2, 22, 8, tzinfo=STOCKHOLM)
# The brief from the day before at 08:00: 2024-03-20 07:00 UTC.
BRIEFS = datetime(2024, 3, 20, 8, tzinfo=STOCKHOLM)
COMPLETE = replace(TALK, title="T", abstract="A", bio="B", photo="photos/ann.jpg")


def kinds(talk: Talk, now: datetime, asked: Asked | None = None,
          series: Series = SERIES) -> list[tuple[str, str | None, int, bool]]:
    """What is due to the talk's speakers at ``now``: (kind, speaker, round, last)."""
    found, notes = speaker_due([talk], now, series, {talk.key: asked} if asked else {})
    assert notes == []
    return [(str(d.kind), d.speaker, d.round, d.last) for d in found]


def test_the_deadline_is_days_before_the_talk() -> None:
    assert deadline(SERIES, TALK) == date(2024, 3, 11)
    later = replace(SERIES, speaker_mail=SpeakerMail(deadline_days_before=0))
    assert deadline(later, TALK) == DAY


def test_a_first_round_goes_to_every_speaker_lower_cased() -> None:
    assert request_round(SERIES, TALK, Asked(), DAY, ["Ann@Example.ORG", BO]) ==\
        (1, frozenset({ANN, BO}))


def test_a_round_left_half_way_is_finished_before_any_new_one() -> None:
    first = datetime(2024, 2, 22, 7, tzinfo=UTC)
    asked = Asked((Round(1, first, frozenset({ANN})),))
    # Weeks later the round is still short of Bo: Bo gets round 1, Ann nothing.
    assert request_round(SERIES, TALK, asked, date(2024, 3, 10), [ANN, BO]) ==\
        (1, frozenset({BO}))


def test_a_settled_address_is_matched_whatever_its_case() -> None:
    asked = Asked((Round(1, datetime(2024, 2, 22, 7, tzinfo=UTC), frozenset({ANN})),))
    assert request_round(SERIES, TALK, asked, date(2024, 2, 23), ["ANN@example.org"]) is None


def test_a_round_that_reached_no_one_yet_is_never_repeated() -> None:
    asked = Asked((Round(1, None, frozenset({ANN})),))  # refused for good, nobody reached
    assert request_round(SERIES, TALK, asked, date(2024, 3, 10), [ANN]) is None


@pytest.mark.parametrize(("today", "expected"), [
    (date(2024, 2, 28), None),  # six days after the first went out
    (date(2024, 2, 29), (2, frozenset({ANN, BO}))),  # seven: the chase, to everyone
])
def test_the_chase_comes_chase_every_days_after_the_rounds_first_mail(
        today: date, expected: tuple[int, frozenset[str]] | None) -> None:
    asked = Asked((Round(1, datetime(2024, 2, 22, 7, tzinfo=UTC), frozenset({ANN, BO})),))
    assert request_round(SERIES, TALK, asked, today, [ANN, BO]) == expected


def test_the_chase_counts_days_in_the_series_zone_not_utc() -> None:
    # 23:30 UTC on 1 March is 00:30 on 2 March in Stockholm: the round went out on the 2nd.
    asked = Asked((Round(3, datetime(2024, 3, 1, 23, 30, tzinfo=UTC), frozenset({ANN})),))
    assert request_round(SERIES, TALK, asked, date(2024, 3, 8), [ANN]) is None
    assert request_round(SERIES, TALK, asked, date(2024, 3, 9), [ANN]) == (4, frozenset({ANN}))


@pytest.mark.parametrize(("today", "last"), [
    (date(2024, 3, 3), False),  # a chase would still come on the 10th, before the deadline
    (date(2024, 3, 4), False),  # the next would come on the deadline (the 11th) itself
    (date(2024, 3, 5), True),  # the next would come after it
    (date(2024, 3, 11), True),
])
def test_the_last_round_is_the_one_no_chase_follows_before_the_deadline(today: date,
                                                                        last: bool) -> None:
    assert is_last_round(SERIES, TALK, today) is last


def test_the_request_opens_at_its_moment_in_the_series_zone() -> None:
    assert kinds(TALK, OPENS - timedelta(minutes=1)) == []
    assert kinds(TALK, OPENS.astimezone(UTC)) == [("request", ANN, 1, False)]


def test_a_complete_talk_asks_nothing_and_a_missing_photo_is_asked_for() -> None:
    assert kinds(COMPLETE, OPENS) == []
    assert kinds(replace(COMPLETE, photo=None), OPENS) == [("request", ANN, 1, False)]


def test_a_speaker_without_an_address_is_neither_asked_nor_briefed() -> None:
    talk = replace(TALK, speakers=(Speaker("Ann"), Speaker("Bo", email=BO)))
    assert kinds(talk, OPENS) == [("request", BO, 1, False)]
    nobody = replace(TALK, speakers=(Speaker("Ann"),))
    assert kinds(nobody, OPENS) == []
    assert kinds(replace(nobody, title="T"), BRIEFS) == []


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.OPEN])
def test_nothing_goes_to_the_speakers_of_a_week_without_a_talk(status: Status) -> None:
    assert kinds(replace(TALK, status=status), BRIEFS) == []


def test_nothing_goes_once_the_talk_has_started() -> None:
    start = datetime(2024, 3, 21, 15, tzinfo=STOCKHOLM)
    assert kinds(COMPLETE, start - timedelta(minutes=1)) == [("brief", None, 0, False)]
    assert kinds(COMPLETE, start) == []


def test_past_the_deadline_the_organiser_is_told_instead_of_the_speaker_asked() -> None:
    now = datetime(2024, 3, 12, 8, tzinfo=STOCKHOLM)  # the deadline was the 11th
    found, notes = speaker_due([TALK], now, SERIES, {})
    assert found == []
    assert len(notes) == 1
    assert notes[0].startswith("2024-03-21-ann still misses title, abstract, bio, photo")
    assert "(2024-03-11) has passed" in notes[0]
    on_the_day = datetime(2024, 3, 11, 23, 59, tzinfo=STOCKHOLM)  # the deadline's own day
    assert kinds(TALK, on_the_day) == [("request", ANN, 1, True)]


def test_the_deadline_day_is_the_series_day_not_utcs() -> None:
    # 23:30 UTC on the 11th is already the 12th in Stockholm: past the deadline.
    found, notes = speaker_due([TALK], datetime(2024, 3, 11, 23, 30, tzinfo=UTC), SERIES, {})
    assert (found, len(notes)) == ([], 1)


def test_a_request_after_the_last_chase_says_it_is_the_last() -> None:
    asked = Asked((Round(2, datetime(2024, 2, 29, 7, tzinfo=UTC), frozenset({ANN})),))
    assert kinds(TALK, datetime(2024, 3, 7, 8, tzinfo=STOCKHOLM), asked) ==\
        [("request", ANN, 3, True)]


def test_the_brief_goes_to_a_confirmed_talk_until_every_speaker_has_it() -> None:
    talk = replace(COMPLETE, speakers=(Speaker("Ann", email=ANN), Speaker("Bo", email=BO)))
    assert kinds(talk, BRIEFS - timedelta(minutes=1)) == []
    assert kinds(talk, BRIEFS) == [("brief", None, 0, False)]
    assert kinds(talk, BRIEFS, Asked(briefed=frozenset({ANN}))) == [("brief", None, 0, False)]
    assert kinds(talk, BRIEFS, Asked(briefed=frozenset({ANN, BO}))) == []
    assert kinds(replace(talk, status=Status.TENTATIVE), BRIEFS) == []


def test_next_names_the_first_request_or_brief_to_come() -> None:
    before = OPENS - timedelta(days=1)
    assert next_to_speakers([TALK], before, SERIES, {}) == (TALK, "request", OPENS)
    # Asked already: the brief is what comes next.
    asked = {TALK.key: Asked((Round(1, OPENS, frozenset({ANN})),))}
    assert next_to_speakers([TALK], before, SERIES, asked) == (TALK, "brief", BRIEFS)
    assert next_to_speakers([COMPLETE], before, SERIES, {}) == (COMPLETE, "brief", BRIEFS)
    assert next_to_speakers([COMPLETE], BRIEFS, SERIES, {}) is None  # due now, not to come


def test_next_is_the_earliest_of_any_talk_and_none_past_the_limit() -> None:
    before = OPENS - timedelta(days=1)
    asked = {TALK.key: Asked((Round(1, OPENS, frozenset({ANN})),))}  # its brief: 20 March
    week_later = replace(TALK, id="2024-03-28-bo", date=date(2024, 3, 28),
                         speakers=(Speaker("Bo", email=BO),))  # asked from 29 February
    assert next_to_speakers([TALK, week_later], before, SERIES, asked) ==\
        (week_later, "request", datetime(2024, 2, 29, 8, tzinfo=STOCKHOLM))
    later = replace(week_later, id="2024-04-18-bo", date=date(2024, 4, 18))
    assert next_to_speakers([later], before, SERIES, {}, before=OPENS) is None
    found = next_to_speakers([later], before, SERIES, {})
    assert found is not None and found[2] == datetime(2024, 3, 21, 8, tzinfo=STOCKHOLM)


HOSTED = replace(TALK, host=Speaker("Host", email="Host@Example.org"))
TOLD = {**talk_facts(SERIES, HOSTED), "location": "Room 1"}  # the list was told another room
BEFORE = datetime(2024, 3, 18, 8, tzinfo=STOCKHOLM)


def changed(talk: Talk, heard: Heard, now: datetime = BEFORE) -> bool:
    found = changed_due([talk], now, SERIES, {talk.key: heard})
    assert all(str(d.kind) == "changed" and d.talk == talk for d in found)
    return bool(found)


def test_a_moved_talk_is_told_until_its_speaker_and_host_both_heard() -> None:
    assert changed(HOSTED, Heard(announced=True, told=TOLD))
    assert changed(HOSTED, Heard(announced=True, told=TOLD, heard=frozenset({ANN})))
    assert not changed(HOSTED, Heard(announced=True, told=TOLD,
                                     heard=frozenset({ANN, "host@example.org"})))


def test_an_open_week_or_a_started_talk_gets_no_changed_mail() -> None:
    heard = Heard(announced=True, told=TOLD)
    assert not changed(replace(HOSTED, status=Status.OPEN), heard)
    assert not changed(HOSTED, heard, datetime(2024, 3, 21, 14, tzinfo=UTC))  # 15:00 CET
    assert changed(HOSTED, heard, datetime(2024, 3, 21, 13, 59, tzinfo=UTC))


def test_a_host_alone_hears_of_a_cancellation() -> None:
    hosted_only = replace(HOSTED, speakers=(Speaker("Ann"),), status=Status.CANCELLED)
    assert changed(hosted_only, Heard(announced=True))
    assert not changed(hosted_only, Heard(announced=True,
                                          heard=frozenset({"host@example.org"})))
