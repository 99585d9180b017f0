"""``send --due``: one cron line sends the right mail at the right time, once, and catches up.

The bundled series with the announcement due three days before at 08:00 and a reminder on
the day from 09:00. The first talk is 2024-02-22 at 15:00 CET.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import edit
from smtpserver import Server, free_port, parts


@pytest.fixture
def cron_series(series: Path) -> Path:
    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"\n'
                                     'remind_at: "09:00"'))
    return series


def due(root: Path, server: Server, now: str, *more: str) -> tuple[int, str, list[str]]:
    """Run the cron job at ``now``; return its exit code, output and what the server got."""
    before = len(server.received)
    result = invoke(root, "send", "--due", "--now", now, *more, server=server)
    subjects = [str(r.message["Subject"]) for r in server.received[before:]]
    return result.code, result.both, subjects


def test_the_announcement_goes_at_its_moment_and_once(cron_series: Path,
                                                      smtp_server: Server) -> None:
    code, out, got = due(cron_series, smtp_server, "2024-02-19T07:59")
    assert (code, got) == (0, [])
    assert "Next: the announcement of 2024-02-22-mathis, due from 2024-02-19 08:00 CET." in out
    code, _, got = due(cron_series, smtp_server, "2024-02-19T08:00")
    assert code == 0
    assert len(got) == 1 and got[0].startswith("Learning Machines seminar 2024-02-22 15:00")
    assert due(cron_series, smtp_server, "2024-02-19T08:15", "--quiet") == (0, "", [])


def test_the_reminder_goes_on_the_day_and_nothing_after_the_talk(cron_series: Path,
                                                                 smtp_server: Server) -> None:
    assert due(cron_series, smtp_server, "2024-02-19T08:00")[0] == 0
    assert due(cron_series, smtp_server, "2024-02-22T08:45")[2] == []
    code, _, got = due(cron_series, smtp_server, "2024-02-22T09:00")
    assert code == 0
    assert len(got) == 1 and got[0].startswith("Today 15:00: Learning Machines seminar")
    assert due(cron_series, smtp_server, "2024-02-22T09:15")[2] == []
    assert due(cron_series, smtp_server, "2024-02-22T15:00")[2] == []  # started: nothing


def test_a_host_that_was_down_catches_up_but_not_after_the_talk(cron_series: Path,
                                                                smtp_server: Server) -> None:
    late = due(cron_series, smtp_server, "2024-02-21T23:30")
    assert len(late[2]) == 1 and "Measuring behavior" in late[2][0]
    other = cron_series.parent / "other"
    (cron_series / ".state").rename(other)  # a fresh ledger: nothing went out yet
    code, _, got = due(cron_series, smtp_server, "2024-02-22T15:01")
    assert (code, got) == (0, [])


def test_a_late_run_on_the_day_sends_the_announcement_not_both(cron_series: Path,
                                                               smtp_server: Server) -> None:
    code, _, got = due(cron_series, smtp_server, "2024-02-22T10:00")
    assert code == 0
    assert len(got) == 1 and got[0].startswith("Learning Machines seminar 2024-02-22")
    assert due(cron_series, smtp_server, "2024-02-22T10:15")[2] == []


def test_a_cancelled_talk_gets_one_cancellation_with_its_note(cron_series: Path,
                                                              smtp_server: Server) -> None:
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    edit(cron_series / "seminars" / "2024-02-22-mathis.yaml",
         ("status: confirmed", "status: cancelled\nnote: The speaker is ill."))
    code, _, got = due(cron_series, smtp_server, "2024-02-20T12:00")
    assert code == 0
    assert got == ["Cancelled: Learning Machines seminar on 2024-02-22"]
    text = parts(smtp_server.received[-1].message)["text/plain"].get_content()
    assert "Reason: The speaker is ill." in text
    assert due(cron_series, smtp_server, "2024-02-20T12:15")[2] == []
    assert due(cron_series, smtp_server, "2024-02-22T09:00")[2] == []  # no reminder either


def test_a_cancelled_talk_never_announced_gets_nothing(cron_series: Path,
                                                       smtp_server: Server) -> None:
    edit(cron_series / "seminars" / "2024-02-22-mathis.yaml",
         ("status: confirmed", "status: cancelled"))
    assert due(cron_series, smtp_server, "2024-02-20T12:00")[2] == []


def test_exit_75_is_retried_by_the_next_run(cron_series: Path, smtp_server: Server) -> None:
    down = invoke(cron_series, "send", "--due", "--now", "2024-02-19T08:00", "--quiet",
                  ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(free_port()))
    assert down.code == 75
    assert "cannot reach the SMTP server" in down.err
    assert len(due(cron_series, smtp_server, "2024-02-19T08:15")[2]) == 1


def test_a_tentative_talk_waits_and_says_so_once(cron_series: Path,
                                                 smtp_server: Server) -> None:
    edit(cron_series / "seminars" / "2024-02-22-mathis.yaml",
         ("status: confirmed", "status: tentative"))
    first = due(cron_series, smtp_server, "2024-02-19T08:00", "--quiet")
    assert first[0] == 0 and first[2] == []
    assert "2024-02-22-mathis is tentative: its announcement is due but waits" in first[1]
    assert due(cron_series, smtp_server, "2024-02-19T08:15", "--quiet") == (0, "", [])


def test_the_dry_run_shows_what_would_go(cron_series: Path, smtp_server: Server) -> None:
    code, out, got = due(cron_series, smtp_server, "2024-02-22T09:30", "--dry-run")
    assert (code, got) == (0, [])
    assert "Kind: announcement (2024-02-22-mathis)" in out
    assert "Dry run: nothing was sent." in out


def test_due_takes_no_talk_or_kind(cron_series: Path) -> None:
    result = invoke(cron_series, "send", "2024-02-22", "--due")
    assert result.code == 2
    assert "send --due chooses the talks and kinds itself" in result.err


def test_a_clock_that_ran_ahead_and_was_corrected_holds_back_no_reminder(
        cron_series: Path, smtp_server: Server) -> None:
    # The host's clock runs six days fast: on the real 2024-02-16 it reads the talk's day,
    # and the announcement goes out stamped 2024-02-22.
    assert due(cron_series, smtp_server, "2024-02-22T08:00")[2][0].startswith(
        "Learning Machines seminar 2024-02-22")
    assert due(cron_series, smtp_server, "2024-02-16T10:00")[2] == []  # corrected
    code, _, got = due(cron_series, smtp_server, "2024-02-22T09:00")
    assert code == 0
    assert len(got) == 1 and got[0].startswith("Today 15:00: Learning Machines seminar")


def test_a_dry_run_does_not_correct_the_ledger(cron_series: Path, smtp_server: Server) -> None:
    assert len(due(cron_series, smtp_server, "2024-02-22T08:00")[2]) == 1
    assert due(cron_series, smtp_server, "2024-02-16T10:00", "--dry-run")[2] == []
    assert due(cron_series, smtp_server, "2024-02-22T09:00")[2] == []  # still the same day


def test_a_moved_talk_cancelled_weeks_ahead_is_cancelled_at_the_next_run(
        cron_series: Path, smtp_server: Server) -> None:
    assert len(due(cron_series, smtp_server, "2024-02-19T08:00")[2]) == 1
    moved = invoke(cron_series, "move", "2024-02-22", "2024-04-02", "--today", "2024-02-20")
    assert moved.code == 0, moved.both
    code, out, got = due(cron_series, smtp_server, "2024-02-20T09:00")
    assert code == 0 and len(got) == 1 and got[0].startswith("Moved"), out
    edit(cron_series / "seminars" / "2024-04-02-mathis.yaml",
         ("status: confirmed", "status: cancelled"))
    code, out, got = due(cron_series, smtp_server, "2024-02-21T09:00")  # 41 days ahead
    assert (code, got) == (0, ["Cancelled: Learning Machines seminar on 2024-04-02"]), out
    assert due(cron_series, smtp_server, "2024-02-21T09:15")[2] == []


@pytest.mark.parametrize("setting", ["", "incomplete: hold\n"])
def test_a_talk_without_a_title_is_announced_or_held_as_the_series_says(
        cron_series: Path, smtp_server: Server, setting: str) -> None:
    edit(cron_series / "seminars" / "series.yaml", ("remind_at:", f"{setting}remind_at:"))
    edit(cron_series / "seminars" / "2024-02-22-mathis.yaml", ("\ntitle:", "\n# title:"))
    code, out, got = due(cron_series, smtp_server, "2024-02-19T08:00")
    assert code == 0, out
    if not setting:  # the default: the week is announced (TBA) and the organiser warned
        assert len(got) == 1 and "still missing title" in out
        return
    assert got == [] and "has no title yet: its announcement is due but held" in out
    assert due(cron_series, smtp_server, "2024-02-19T09:00", "--quiet") == (0, "", [])
    assert due(cron_series, smtp_server, "2024-02-22T09:30")[2] == []  # no reminder either
    edit(cron_series / "seminars" / "2024-02-22-mathis.yaml", ("\n# title:", "\ntitle:"))
    assert len(due(cron_series, smtp_server, "2024-02-22T09:45")[2]) == 1
