"""A season that changes: ``move``, ``update`` mails, and calendars that stay right.

The bundled series, announced three days ahead at 08:00: the first talk is 2024-02-22 at
15:00 CET. Everything goes to a real SMTP server on loopback; calendars are read with
icalendar, as a client that applies updates reads them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import icalendar
import pytest
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server, parts

from mailer.delivery.ledgerfile import LEDGER_VERSION

TALK = "2024-02-22-mathis"


@pytest.fixture
def cron_series(series: Path) -> Path:
    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"'))
    return series


def due(root: Path, server: Server, now: str, *more: str) -> tuple[int, str, list[str]]:
    """Run the cron job at ``now``; return its exit code, output and the subjects received."""
    before = len(server.received)
    result = invoke(root, "send", "--due", "--now", now, *more, server=server)
    return result.code, result.both, [str(r.message["Subject"])
                                      for r in server.received[before:]]


def event_of(message: object) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(parts(message)["text/calendar"].get_content())  # type: ignore[arg-type]
    [event] = calendar.walk("VEVENT")
    return event


def feed_events(root: Path) -> list[icalendar.Event]:
    result = invoke(root, "ics")
    assert result.code == 0, result.both
    return list(icalendar.Calendar.from_ical(result.out).walk("VEVENT"))


def record(root: Path, day: str) -> Path:
    [path] = (root / "seminars").glob(f"{day}-*.yaml")
    return path


def test_move_renames_keeps_identity_and_every_other_word(series: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    mine = write(site / "about.md", "our own page\n")
    assert invoke(series, "page", "--all", "--out", str(site)).code == 0
    before = record(series, "2024-02-22").read_text(encoding="utf-8")
    result = invoke(series, "move", "2024-02-22", "2024-02-23", "--time", "16:00",
                    "--today", "2024-02-19")
    assert result.code == 0, result.both
    assert not (series / "seminars" / f"{TALK}.yaml").exists()
    after = (series / "seminars" / "2024-02-23-mathis.yaml").read_text(encoding="utf-8")
    assert f"uid: {TALK}" in after and 'time: "16:00"' in after
    kept = [line for line in before.splitlines() if not line.startswith(("date:", "time:"))]
    assert all(line in after.splitlines() for line in kept)  # comments and order too
    [event] = [e for e in feed_events(series) if "Measuring behavior" in str(e["SUMMARY"])]
    assert str(event["UID"]).startswith(f"{TALK}.")
    assert event.decoded("DTSTART").isoformat() == "2024-02-23T16:00:00+01:00"
    assert invoke(series, "page", "--all", "--out", str(site)).code == 0
    assert not (site / "2024-02-22.md").exists() and (site / "2024-02-23.md").is_file()
    assert mine.is_file()


@pytest.mark.parametrize(("args", "says"), [
    (("2024-02-22", "2024-03-14"), "2024-03-14 has a talk already"),
    (("2024-02-22", "2024-02-18"), "2024-02-18 15:00 is in the past"),
    (("2024-02-22", "2024-02-29", "--today", "2024-02-23"), "has started"),
    (("2024-02-22", "2024-02-22"), "already; nothing was changed"),
    (("2024-02-22", "2201-01-01"), "'2201-01-01' is not in the years 1900 to 2200"),
    (("2024-02-22", "9999-12-31"), "'9999-12-31' is not in the years 1900 to 2200"),
    (("2024-02-22", "1899-12-31", "--today", "1900-01-01"), "'1899-12-31' is not in the years"),
    (("2024-02-22", "0001-01-01"), "'0001-01-01' is not in the years 1900 to 2200"),
])
def test_move_refuses_and_changes_nothing(series: Path, args: tuple[str, ...],
                                          says: str) -> None:
    before = {p.name: p.read_bytes() for p in (series / "seminars").iterdir()}
    today = () if "--today" in args else ("--today", "2024-02-19")
    result = invoke(series, "move", *args, *today)
    assert result.code == 2
    assert says in result.err and "Traceback" not in result.both
    assert {p.name: p.read_bytes() for p in (series / "seminars").iterdir()} == before


def test_a_move_sends_one_update_and_the_calendar_moves_the_event(
        cron_series: Path, smtp_server: Server) -> None:
    code, _, got = due(cron_series, smtp_server, "2024-02-19T08:00")
    assert code == 0 and len(got) == 1
    announced = event_of(smtp_server.received[-1].message)
    assert invoke(cron_series, "move", "2024-02-22", "2024-02-23", "--time", "16:00",
                  "--today", "2024-02-19").code == 0
    dry = invoke(cron_series, "send", "--due", "--dry-run", "--now", "2024-02-19T09:00")
    assert dry.code == 0 and "Kind: update" in dry.out
    assert len(smtp_server.received) == 1
    code, out, got = due(cron_series, smtp_server, "2024-02-19T09:00")
    assert code == 0, out
    assert got == ["Moved: Learning Machines seminar 2024-02-22 15:00 → 2024-02-23 16:00: "
                   "Measuring behavior and modeling the brain with machine learning "
                   "(Alexander Mathis, EPFL)"]
    text = parts(smtp_server.received[-1].message)["text/plain"].get_content().replace("\r", "")
    assert text.startswith("Moved: the Learning Machines seminar has a new date and time.\n\n"
                           "Date and time: 2024-02-22 15:00 → 2024-02-23 16:00\n")
    assert text.count("→") == 1  # each change said once
    update = event_of(smtp_server.received[-1].message)
    assert update["UID"] == announced["UID"]
    assert int(update["SEQUENCE"]) > int(announced.get("SEQUENCE", 0))
    assert due(cron_series, smtp_server, "2024-02-19T09:15")[2] == []  # once
    listed = next(line for line in invoke(cron_series, "list", "--all").out.splitlines()
                  if line.startswith("2024-02-23-mathis"))
    assert "announcement sent" in listed and "update sent" in listed
    [event] = [e for e in feed_events(cron_series) if e["UID"] == announced["UID"]]
    assert event.decoded("DTSTART").isoformat() == "2024-02-23T16:00:00+01:00"
    assert int(event["SEQUENCE"]) == int(update["SEQUENCE"])
    assert invoke(cron_series, "move", "2024-02-23", "2024-02-24", "--today",
                  "2024-02-19").code == 0
    code, _, got = due(cron_series, smtp_server, "2024-02-19T10:00")
    assert code == 0 and len(got) == 1 and "2024-02-23 16:00 → 2024-02-24 16:00" in got[0]
    second = event_of(smtp_server.received[-1].message)
    assert second["UID"] == announced["UID"]
    assert int(second["SEQUENCE"]) > int(update["SEQUENCE"])
    assert len([e for e in feed_events(cron_series) if e["UID"] == announced["UID"]]) == 1


def test_a_corrected_link_is_one_update_and_a_typo_fix_is_nothing(
        cron_series: Path, smtp_server: Server) -> None:
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    path = record(cron_series, "2024-02-22")
    edit(path, ("Quantifying behavior", "Quantifying behaviour"))
    assert due(cron_series, smtp_server, "2024-02-19T09:00")[2] == []
    write(path, path.read_text(encoding="utf-8") + "video_link: https://example.org/new\n")
    code, out, got = due(cron_series, smtp_server, "2024-02-19T10:00")
    assert code == 0, out
    assert len(got) == 1 and got[0].startswith("Changed Zoom link: Learning Machines seminar")
    text = parts(smtp_server.received[-1].message)["text/plain"].get_content()
    assert text.splitlines()[0] == "Changed: the Learning Machines seminar has a new Zoom link."
    [change] = [line for line in text.splitlines() if "→" in line]
    assert change.startswith("Zoom link: https://rise.zoom.us/j/208117140")
    assert change.endswith("→ https://example.org/new")
    assert due(cron_series, smtp_server, "2024-02-19T11:00")[2] == []


def test_a_change_back_before_the_run_sends_nothing(cron_series: Path,
                                                    smtp_server: Server) -> None:
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    path = record(cron_series, "2024-02-22")
    original = path.read_text(encoding="utf-8")
    write(path, original + 'time: "17:00"\n')
    write(path, original)
    assert due(cron_series, smtp_server, "2024-02-19T09:00")[2] == []


def test_the_update_goes_to_who_got_the_announcement_new_subscribers_get_it_new(
        cron_series: Path, smtp_server: Server) -> None:
    first = subscribe(cron_series, 2)
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 2
    write(cron_series / "subscribers.txt", "\n".join([*first, "late@example.org"]) + "\n")
    assert invoke(cron_series, "move", "2024-02-22", "2024-02-23", "--today",
                  "2024-02-19").code == 0
    code, out, got = due(cron_series, smtp_server, "2024-02-19T09:00")
    assert code == 0, out
    assert [r.rcpt_tos for r in smtp_server.received[-2:]] == [[first[0]], [first[1]]]
    assert all(subject.startswith("Moved:") for subject in got) and len(got) == 2
    code, out, got = due(cron_series, smtp_server, "2024-02-20T08:00")  # the new date's window
    assert code == 0, out
    assert [r.rcpt_tos for r in smtp_server.received[-1:]] == [["late@example.org"]]
    assert got == ["Learning Machines seminar 2024-02-23 15:00: Measuring behavior and "
                   "modeling the brain with machine learning (Alexander Mathis, EPFL)"]
    assert due(cron_series, smtp_server, "2024-02-20T09:00")[2] == []


def test_an_update_by_hand(cron_series: Path, smtp_server: Server) -> None:
    never = invoke(cron_series, "send", TALK, "--kind", "update", "--today", "2024-02-19",
                   server=smtp_server)
    assert never.code == 2 and "was never announced" in never.err
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    same = invoke(cron_series, "send", TALK, "--kind", "update", "--today", "2024-02-19",
                  server=smtp_server)
    assert same.code == 2 and "an update would say nothing new" in same.err
    edit(record(cron_series, "2024-02-22"),
         ("status: confirmed", "status: confirmed\nlocation: Room 4, Kista"))
    sent = invoke(cron_series, "send", TALK, "--kind", "update", "--today", "2024-02-19",
                  server=smtp_server)
    assert sent.code == 0, sent.both
    assert str(smtp_server.received[-1].message["Subject"]).startswith("Changed location:")
    edit(record(cron_series, "2024-02-22"), ("Room 4, Kista", "Room 5, Kista"))
    late = invoke(cron_series, "send", TALK, "--kind", "update", "--today", "2024-02-23",
                  server=smtp_server)
    assert late.code == 2 and "has started" in late.err


def test_a_record_renamed_by_hand_is_held_named_once_and_never_announced_twice(
        cron_series: Path, smtp_server: Server) -> None:
    """Far in the future, so that `check` (which asks the clock) sees a talk to come."""
    write(cron_series / "seminars" / "2099-01-15-ek.yaml",
          "date: 2099-01-15\nspeaker: Bo Ek\ntitle: Later\n")
    assert len(due(cron_series, smtp_server, "2099-01-12T08:00")[2]) == 1
    renamed = cron_series / "seminars" / "2099-01-15-bo-ek.yaml"
    (cron_series / "seminars" / "2099-01-15-ek.yaml").rename(renamed)
    check = invoke(cron_series, "check")
    assert "warning: 2099-01-15-ek was announced, and 2099-01-15-bo-ek looks like it renamed "\
           "by hand" in check.err
    assert "announce move" in check.err
    code, out, got = due(cron_series, smtp_server, "2099-01-12T09:00")
    assert (code, got) == (0, []), out  # held: not announced a second time
    assert "2099-01-15-ek was announced, and 2099-01-15-bo-ek looks like it" in out
    code, out, got = due(cron_series, smtp_server, "2099-01-13T10:00")
    assert (code, got) == (0, []) and "2099-01-15-ek was announced" not in out  # said once
    edit(renamed, ("date: 2099-01-15\n", "date: 2099-01-15\nuid: 2099-01-15-ek\n"))
    assert due(cron_series, smtp_server, "2099-01-13T11:00")[2] == []  # the same talk
    assert "looks like" not in invoke(cron_series, "check").err


@pytest.mark.parametrize("lost_state", [False, True])
def test_a_talk_renamed_by_hand_to_a_later_day_and_name_stays_held_after_its_old_day(
        cron_series: Path, smtp_server: Server, lost_state: bool) -> None:
    """The old day passing, a new name and a lost state folder end no hold: the series'
    record of sent mail still knows the talk was announced."""
    write(cron_series / "seminars" / "2099-01-15-mathis.yaml",
          "date: 2099-01-15\nspeaker: Alexander Mathis\ntitle: Later\n")
    assert len(due(cron_series, smtp_server, "2099-01-12T08:00")[2]) == 1
    (cron_series / "seminars" / "2099-01-15-mathis.yaml").unlink()
    write(cron_series / "seminars" / "2099-02-05-alexander-mathis.yaml",
          "date: 2099-02-05\nspeaker: Alexander Mathis\ntitle: Later\n")
    if lost_state:
        shutil.rmtree(cron_series / ".state")
    for moment in ("2099-01-12T09:00", "2099-01-20T08:00", "2099-02-02T08:00"):
        code, out, got = due(cron_series, smtp_server, moment)
        assert (code, got) == (0, []), out
    assert len(smtp_server.received) == 1
    check = invoke(cron_series, "check")
    assert "2099-01-15-mathis was announced, and 2099-02-05-alexander-mathis looks like it" \
        in check.err, check.both


def test_a_renamed_record_declared_a_new_talk_is_announced(cron_series: Path,
                                                           smtp_server: Server) -> None:
    write(cron_series / "seminars" / "2099-01-15-ek.yaml",
          "date: 2099-01-15\nspeaker: Bo Ek\ntitle: Later\n")
    assert len(due(cron_series, smtp_server, "2099-01-12T08:00")[2]) == 1
    write(cron_series / "seminars" / "2099-01-15-ek.yaml".replace("ek", "bo-ek"),
          "date: 2099-01-15\nuid: 2099-01-15-bo-ek\nspeaker: Bo Ek\ntitle: Another\n")
    (cron_series / "seminars" / "2099-01-15-ek.yaml").unlink()
    assert len(due(cron_series, smtp_server, "2099-01-12T09:00")[2]) == 1


def test_a_version_2_ledger_is_upgraded_and_sends_no_update_it_cannot_know(
        cron_series: Path, smtp_server: Server) -> None:
    import sqlite3

    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    ledger = cron_series / ".state" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:  # as announce left it before it kept what it told
        db.executescript("CREATE TABLE old AS SELECT id, seminar, kind, started, forced "
                         "FROM campaigns; DROP TABLE campaigns; CREATE TABLE campaigns (id "
                         "INTEGER PRIMARY KEY, seminar TEXT NOT NULL, kind TEXT NOT NULL, "
                         "started TEXT NOT NULL, forced INTEGER NOT NULL DEFAULT 0); "
                         "INSERT INTO campaigns SELECT * FROM old; DROP TABLE old; "
                         "DROP TABLE audience; PRAGMA user_version = 2;")
    edit(record(cron_series, "2024-02-22"), ('time: "15:00"', 'time: "16:15"'))
    code, out, got = due(cron_series, smtp_server, "2024-02-19T09:00")
    assert (code, got) == (0, []), out
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LEDGER_VERSION
    by_hand = invoke(cron_series, "send", TALK, "--kind", "update", "--today", "2024-02-19",
                     "--force", server=smtp_server)
    assert by_hand.code == 0, by_hand.both


@pytest.mark.parametrize(("cadence", "first", "second"), [
    ("weekly", "2024-04-11", "2024-04-18"), ("biweekly", "2024-04-18", "2024-05-02")])
def test_new_next_takes_the_next_free_date_by_cadence(series: Path, cadence: str, first: str,
                                                       second: str) -> None:
    edit(series / "seminars" / "series.yaml", ("upcoming_count: 4", f"upcoming_count: 4\n"
                                                                    f"cadence: {cadence}"))
    for name, day in (("Cai Wu", first), ("Dan Li", second)):
        result = invoke(series, "new", "--next", "--speaker", name, "--today", "2024-02-19")
        assert result.code == 0, result.both
        assert f"seminars/{day}-" in result.out
    assert invoke(series, "check").code == 0
    assert invoke(series, "new", "--speaker", "X").code == 2
    taken = invoke(series, "new", first, "--speaker", "Eva Berg")
    assert taken.code == 2 and f"{first} has a talk already" in taken.err


def test_new_next_never_takes_a_date_in_the_past(series: Path) -> None:
    result = invoke(series, "new", "--next", "--speaker", "Cai Wu", "--today", "2024-06-01")
    assert result.code == 0, result.both
    assert "seminars/2024-06-06-cai-wu.yaml" in result.out  # a Thursday, as the series' talks


def test_a_bad_cadence_names_the_key(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("upcoming_count: 4", "upcoming_count: 4\n"
                                                                    "cadence: monthly"))
    result = invoke(series, "check")
    assert result.code == 2 and "cadence" in result.err and "biweekly" in result.err


RECORDING = "https://youtu.be/dQw4w9WgXcQ"
SLIDES = "https://example.org/slides/mathis.pdf"


def test_the_recording_goes_once_after_the_talk_and_shows_everywhere(
        cron_series: Path, smtp_server: Server) -> None:
    edit(cron_series / "seminars" / "series.yaml",
         ("upcoming_count: 4", "upcoming_count: 4\nfollowup_days_after: 7"))
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    path = record(cron_series, "2024-02-22")
    write(path, path.read_text(encoding="utf-8") + f"recording: {RECORDING}\nslides: {SLIDES}\n")
    assert due(cron_series, smtp_server, "2024-02-22T14:00")[2] == []  # not before the talk
    code, out, got = due(cron_series, smtp_server, "2024-02-23T08:00")
    assert code == 0, out
    assert got == ["Recording: Learning Machines seminar 2024-02-22: Measuring behavior and "
                   "modeling the brain with machine learning (Alexander Mathis, EPFL)"]
    mail = parts(smtp_server.received[-1].message)
    text = mail["text/plain"].get_content()
    assert text.startswith("The recording of this week's Learning Machines seminar is online.")
    assert f"Recording: {RECORDING}" in text and f"Slides: {SLIDES}" in text
    assert f'href="{RECORDING}"' in mail["text/html"].get_content()
    assert "text/calendar" not in mail
    assert due(cron_series, smtp_server, "2024-02-24T08:00")[2] == []  # once
    page = invoke(cron_series, "page", TALK).out
    assert f"**Recording:** [{RECORDING}]({RECORDING})" in page
    assert f"**Slides:** [{SLIDES}]({SLIDES})" in page
    programme = invoke(cron_series, "program", "2024").out
    assert f"[recording]({RECORDING}) · [slides]({SLIDES})" in programme
    [event] = [e for e in feed_events(cron_series) if "Measuring" in str(e["SUMMARY"])]
    assert f"Recording: {RECORDING}" in str(event["DESCRIPTION"])
    listed = next(line for line in invoke(cron_series, "list", "--all").out.splitlines()
                  if line.startswith(TALK))
    assert "followup sent" in listed and "announcement sent" in listed


def test_no_followup_after_its_days_or_without_the_setting(cron_series: Path,
                                                           smtp_server: Server) -> None:
    path = record(cron_series, "2024-02-22")
    write(path, path.read_text(encoding="utf-8") + f"recording: {RECORDING}\n")
    assert due(cron_series, smtp_server, "2024-02-23T08:00")[2] == []  # no followup_days_after
    edit(cron_series / "seminars" / "series.yaml",
         ("upcoming_count: 4", "upcoming_count: 4\nfollowup_days_after: 3"))
    assert due(cron_series, smtp_server, "2024-02-26T08:00")[2] == []  # four days after
    early = invoke(cron_series, "send", "2024-03-14", "--kind", "followup", "--today",
                   "2024-02-26", server=smtp_server)
    assert early.code == 2 and "has no recording" in early.err


def test_a_renamed_record_is_held_by_hand_too_and_a_short_name_counts(
        cron_series: Path, smtp_server: Server) -> None:
    write(cron_series / "seminars" / "2099-01-15-xu.yaml",
          "date: 2099-01-15\nspeaker: Yonghao Xu\ntitle: Later\n")
    assert len(due(cron_series, smtp_server, "2099-01-12T08:00")[2]) == 1
    (cron_series / "seminars" / "2099-01-15-xu.yaml").unlink()
    write(cron_series / "seminars" / "2099-01-16-yonghao-xu.yaml",
          "date: 2099-01-16\nspeaker: Yonghao Xu\ntitle: Later\n")
    by_hand = invoke(cron_series, "send", "2099-01-16-yonghao-xu", "--today", "2099-01-12",
                     server=smtp_server)
    assert by_hand.code == 2 and "looks like it renamed by hand" in by_hand.err, by_hand.both
    assert due(cron_series, smtp_server, "2099-01-13T08:00")[2] == []
    assert len(smtp_server.received) == 1
