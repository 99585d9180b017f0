"""What is due at a moment (``send --due``) from the records and the ledger read together
(mailer/delivery/due.py), called directly: no command line, no server.

A mail is due from its moment until the talk starts (whether it reached everyone is the send's
to settle, recipient by recipient); what went before decides the rest: no reminder after a
same-day announcement, a cancellation or an update only of an announced talk, a recording's
mail once, a speaker's next round a week after the last.

The series is in Stockholm; a talk's announcement is due three days before at 08:00, its
reminder on the day from 09:00, its recording's mail up to a week after it; speakers are asked
28 days before and chased every 7. Moments are given in UTC, as a cron host's clock has them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from seriesfiles import edit, write

from mailer.delivery.due import due_now
from mailer.delivery.history import Went, log_path
from mailer.delivery.ledger import LEDGER_FILE, SENT, Ledger
from mailer.series.kinds import Kind
from mailer.series.schedule import DueNow, talk_facts
from mailer.series.store import Store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SERIES = """\
name: Learning Machines
team: The Team
timezone: Europe/Stockholm
default_time: "15:00"
announce_days_before: 3
announce_at: "08:00"
remind_at: "09:00"
followup_days_after: 7
mail:
  from: Seminar <lm-seminar@example.org>
  to: lm-seminar-list@example.org
"""

ANNOUNCEMENT = ("2024-03-21-ann", "announcement")
REMINDER = ("2024-03-21-ann", "reminder")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def series(root: Path, *records: tuple[str, str]) -> Store:
    """A series in ``root`` with ``records`` (file stem, YAML) and no state yet."""
    write(root / "seminars" / "series.yaml", SERIES)
    for stem, text in records:
        write(root / "seminars" / f"{stem}.yaml", text)
    return Store(root)


def talk(day: str, *more: str) -> tuple[str, str]:
    """A confirmed talk on ``day`` by a speaker with no address (no mail to speakers)."""
    return f"{day}-ann", "\n".join([f"date: {day}", "speaker: Ann Ek", "title: Cells",
                                     "status: confirmed", *more]) + "\n"


def state(root: Path) -> Path:
    return root / ".state"


def sent(root: Path, at: str, key: str, kind: Kind, facts: str | None = None,
         to: str = "a@example.org") -> None:
    """Write to the ledger that ``kind`` of ``key`` reached ``to`` at ``at`` (UTC)."""
    state(root).mkdir(exist_ok=True)
    with Ledger(state(root), clock=lambda: utc(at)) as ledger:
        campaign = ledger.campaign(key, kind, force=False, facts=facts)
        ledger.write_outcome(campaign, to, SENT, 250, "2.0.0 queued")


def kinds(plan: DueNow) -> list[tuple[str, str]]:
    return [(item.talk.id, str(item.kind)) for item in plan.due]


def at(store: Store, moment: str, **options: bool) -> DueNow:
    return due_now(store, state(store.root), utc(moment), **options)


def test_the_announcement_is_due_from_its_moment_and_named_as_next_before(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-21"))
    before = at(store, "2024-03-18T06:59")  # 07:59 in Stockholm (CET, UTC+1)
    assert kinds(before) == []
    assert before.next is not None
    assert (before.next[0].id, str(before.next[1])) == ("2024-03-21-ann", "announcement")
    assert before.next[2] == datetime(2024, 3, 18, 8, tzinfo=STOCKHOLM)
    assert kinds(at(store, "2024-03-18T07:00")) == [ANNOUNCEMENT]


def test_after_the_change_to_summer_time_08_00_is_06_00_utc(tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-04-04"))  # announced on Monday 1 April, CEST
    assert kinds(at(store, "2024-04-01T05:59")) == []
    assert kinds(at(store, "2024-04-01T06:00")) == [("2024-04-04-ann", "announcement")]


def test_the_reminder_comes_on_the_day_only_after_an_announcement_that_went_before(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-21"))
    # Never announced: on the day the announcement says it all, and no reminder goes.
    assert kinds(at(store, "2024-03-21T08:00")) == [ANNOUNCEMENT]
    sent(tmp_path, "2024-03-18T07:00", "2024-03-21-ann", Kind.ANNOUNCEMENT)
    assert kinds(at(store, "2024-03-21T07:59")) == [ANNOUNCEMENT]  # 08:59 on the day
    assert kinds(at(store, "2024-03-21T08:00")) == [ANNOUNCEMENT, REMINDER]
    assert kinds(at(store, "2024-03-21T14:00")) == []  # 15:00: the talk has started


def test_an_announcement_that_went_on_the_talks_own_day_gets_no_reminder(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-21"))
    sent(tmp_path, "2024-03-20T23:30", "2024-03-21-ann", Kind.ANNOUNCEMENT)  # 00:30 on the 21st
    assert kinds(at(store, "2024-03-21T09:00")) == [ANNOUNCEMENT]
    other = series(tmp_path / "other", talk("2024-03-21"))
    sent(other.root, "2024-03-20T22:30", "2024-03-21-ann", Kind.ANNOUNCEMENT)  # 23:30 on the 20th
    assert kinds(at(other, "2024-03-21T09:00")) == [ANNOUNCEMENT, REMINDER]


def test_a_send_the_ledger_dates_ahead_of_now_counts_as_now_and_remember_keeps_it_so(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-21"))
    # A clock that ran a day ahead stamped the announcement on the talk's own day.
    sent(tmp_path, "2024-03-21T10:00", "2024-03-21-ann", Kind.ANNOUNCEMENT)
    ledger = state(tmp_path) / LEDGER_FILE
    data = ledger.read_bytes()
    assert kinds(at(store, "2024-03-20T08:00")) == [ANNOUNCEMENT]
    assert ledger.read_bytes() == data  # a plan changes nothing
    # Left so, the stamp says the announcement went on the talk's day: no reminder then.
    assert kinds(at(store, "2024-03-21T08:00")) == [ANNOUNCEMENT]
    ahead = series(tmp_path / "week", talk("2024-03-21"))
    sent(ahead.root, "2024-03-28T10:00", "2024-03-21-ann", Kind.ANNOUNCEMENT)  # a week ahead
    assert kinds(at(ahead, "2024-03-21T08:00")) == [ANNOUNCEMENT]  # as if sent that morning
    assert kinds(at(store, "2024-03-20T08:00", remember=True)) == [ANNOUNCEMENT]
    with Ledger(state(tmp_path), create=False) as read:
        assert read.first_sent("2024-03-21-ann", Kind.ANNOUNCEMENT) == utc("2024-03-20T08:00")
    assert kinds(at(store, "2024-03-21T08:00")) == [ANNOUNCEMENT, REMINDER]


def test_an_announced_talk_beyond_the_window_gets_its_update_when_it_moves(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-07"), talk("2024-05-16"), talk("2024-05-23"))
    far = store.find("2024-05-16")
    told = json.dumps(talk_facts(store.series, far), sort_keys=True)
    sent(tmp_path, "2024-03-01T07:00", far.key, Kind.ANNOUNCEMENT, facts=told)
    assert kinds(at(store, "2024-03-02T08:00")) == []  # as told, and 7 March is not due yet
    for stem in ("2024-05-16-ann", "2024-05-23-ann"):
        edit(tmp_path / "seminars" / f"{stem}.yaml",
             ("status: confirmed", "status: confirmed\nlocation: Room 4"))
    # Only the one that was announced: the other is no one's business yet.
    assert kinds(at(Store(tmp_path), "2024-03-02T08:00")) == [("2024-05-16-ann", "update")]


def test_the_speakers_rounds_come_from_the_ledger(tmp_path: Path) -> None:
    asked = ("2024-04-18-bo", "date: 2024-04-18\nspeakers:\n  - name: Bo\n"
                              "    email: bo@example.org\nstatus: confirmed\n")
    store = series(tmp_path, asked)
    opens = "2024-03-21T07:00"  # 28 days before at 08:00 CET
    assert kinds(at(store, "2024-03-21T06:59")) == []
    first = at(store, opens)
    assert [(d.kind, d.speaker, d.round) for d in first.due] == [
        (Kind.REQUEST, "bo@example.org", 1)]
    sent(tmp_path, opens, "2024-04-18-bo", Kind.REQUEST, facts=json.dumps({"round": 1}),
         to="bo@example.org")
    assert kinds(at(store, "2024-03-27T22:59")) == []  # 23:59 on the 27th in Stockholm
    # A week after the day the round first went: from the start of that day there.
    again = at(store, "2024-03-27T23:00")
    assert [(d.kind, d.speaker, d.round) for d in again.due] == [
        (Kind.REQUEST, "bo@example.org", 2)]


def test_the_recordings_mail_goes_up_to_its_days_after_the_talk(tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-07", "recording: https://video.example.org/1"))
    followup = ("2024-03-07-ann", "followup")
    assert followup not in kinds(at(store, "2024-03-07T13:59"))  # before the talk
    assert kinds(at(store, "2024-03-07T14:00")) == [followup]  # 15:00: it has started
    assert kinds(at(store, "2024-03-14T22:59")) == [followup]  # 23:59 on the 14th
    assert kinds(at(store, "2024-03-14T23:00")) == []  # the 15th in Stockholm: too late
    sent(tmp_path, "2024-03-08T09:00", "2024-03-07-ann", Kind.FOLLOWUP)
    assert kinds(at(store, "2024-03-09T09:00")) == []


def test_what_the_series_record_has_is_not_sent_again_from_a_new_state_folder(
        tmp_path: Path) -> None:
    store = series(tmp_path, talk("2024-03-21"))
    went = Went("2024-03-21-ann", Kind.ANNOUNCEMENT, utc("2024-03-18T07:00"), reached=40, of=40)
    write(log_path(tmp_path), went.line() + "\n")
    assert not state(tmp_path).exists()
    plan = at(store, "2024-03-19T12:00")
    assert kinds(plan) == []  # it went from another state folder: said, not sent
    assert len(plan.waiting) == 1 and "2024-03-21-ann" in plan.waiting[0]
    assert kinds(at(store, "2024-03-21T08:00")) == [REMINDER]
    assert not state(tmp_path).exists()  # a plan writes no ledger


def test_a_cancelled_announced_talk_is_due_at_once_however_far_off(tmp_path: Path) -> None:
    series(tmp_path, talk("2024-06-13"), talk("2024-06-20"))
    for stem in ("2024-06-13-ann", "2024-06-20-ann"):  # both cancelled; one was announced
        edit(tmp_path / "seminars" / f"{stem}.yaml", ("status: confirmed", "status: cancelled"))
    sent(tmp_path, "2024-03-01T07:00", "2024-06-13-ann", Kind.ANNOUNCEMENT)
    assert kinds(at(Store(tmp_path), "2024-03-02T08:00")) == [("2024-06-13-ann", "cancellation")]
