"""The series remembers what went out (``seminars/.sent.log``), so a lost state folder mails
nobody twice; a copy of each mail is kept, and ``list --sent`` shows and writes it.

The bundled series, announced three days before at 08:00 with a reminder on the day from
09:00, to ten subscribers; its first talk is 2024-02-22 at 15:00 CET. Every run has its own
state folder, ``<series>/.state`` (ANNOUNCE_STATE_DIR): deleting it is what a fresh clone,
``git clean -fdx`` or a new machine does to ``.announce/``.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import copy_example, edit, subscribe, write
from smtpserver import Server

TALK = "2024-02-22-mathis"
LOG = Path("seminars") / ".sent.log"


@pytest.fixture
def season(series: Path) -> Path:
    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"\n'
                                     'remind_at: "09:00"'))
    subscribe(series, 10)
    return series


def due(root: Path, server: Server, now: str, *more: str, **env: str) -> tuple[int, str, int]:
    """Run the cron job at ``now``; return its exit code, output and how many it mailed."""
    before = len(server.received)
    result = invoke(root, "send", "--due", "--now", now, *more, server=server, **env)
    return result.code, result.both, len(server.received) - before


def lines(root: Path) -> list[dict[str, object]]:
    """The series' record, one mail a line."""
    text = (root / LOG).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line and not line.startswith("#")]


def lose_state(root: Path) -> None:
    shutil.rmtree(root / ".state")


def test_a_lost_state_folder_mails_nobody_again_and_says_once_how_to_restore(
        season: Path, smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[::2] == (0, 10)
    [went] = lines(season)
    assert (went["talk"], went["kind"], went["reached"], went["of"]) ==\
        (TALK, "announcement", 10, 10)
    assert went["first"] == "2024-02-19T08:00:00+01:00"
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-19T09:00")
    assert (code, mailed) == (0, 0), out
    assert (f"warning: the state folder .state/ is new to the announcement of {TALK}, but "
            "seminars/.sent.log says it went out on 2024-02-19 08:00 CET to 10 recipient(s): "
            "restore .state/ from a backup to keep resuming half-done sends; announce will not "
            "send what already went") in out
    assert out.count("warning:") == 1
    assert due(season, smtp_server, "2024-02-19T09:15", "--quiet") == (0, "", 0)  # said once
    assert "is new to the announcement" not in due(season, smtp_server, "2024-02-19T09:30")[1]
    by_hand = invoke(season, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert by_hand.code == 0 and len(smtp_server.received) == 10
    assert "went out on 2024-02-19 08:00 CET" in by_hand.out
    dry = invoke(season, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20")
    assert dry.code == 0 and "went out on 2024-02-19 08:00 CET" in dry.out
    forced = invoke(season, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                    server=smtp_server)
    assert forced.code == 0, forced.both
    assert len(smtp_server.received) == 20  # --force still sends, by hand
    assert len(lines(season)) == 1  # still one mail: its first moment kept


def test_a_lost_state_folder_sends_no_second_reminder(season: Path,
                                                      smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    assert due(season, smtp_server, "2024-02-22T09:00")[2] == 10
    assert [(w["kind"], w["reached"]) for w in lines(season)] ==\
        [("announcement", 10), ("reminder", 10)]
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-22T10:00")
    assert (code, mailed) == (0, 0), out
    assert f"is new to the reminder of {TALK}, but seminars/.sent.log says it went out on "\
           "2024-02-22 09:00 CET" in out
    assert f"is new to the announcement of {TALK}" in out
    assert due(season, smtp_server, "2024-02-22T10:15", "--quiet") == (0, "", 0)


def test_an_update_after_a_lost_state_folder_goes_once(season: Path,
                                                       smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    lose_state(season)
    edit(season / "seminars" / f"{TALK}.yaml", ('time: "15:00"', 'time: "16:00"'))
    # What people were told is the record's: the change is news, so the update goes to the
    # list (who got the announcement went with the state folder), and the announcement not.
    code, out, mailed = due(season, smtp_server, "2024-02-19T09:00")
    assert (code, mailed) == (0, 10), out
    subject = str(smtp_server.received[-1].message["Subject"])
    assert subject.startswith("Moved: Learning Machines seminar 2024-02-22 15:00 → "
                              "2024-02-22 16:00")
    update = [w for w in lines(season) if w["kind"] == "update"]
    assert len(update) == 1 and update[0]["told"]["when"] == "2024-02-22 16:00"  # type: ignore[index]
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-19T10:00")
    assert (code, mailed) == (0, 0), out  # people were told 16:00: no update is due
    assert f"is new to the announcement of {TALK}" in out
    by_hand = invoke(season, "send", TALK, "--kind", "update", "--today", "2024-02-20",
                     server=smtp_server)
    assert by_hand.code == 0 and len(smtp_server.received) == 20, by_hand.both
    assert f"is new to the update of {TALK}, but seminars/.sent.log says it went out on "\
           "2024-02-19 09:00 CET" in by_hand.out


def test_a_half_sent_campaign_is_not_finished_without_its_state_folder(
        season: Path, smtp_server: Server) -> None:
    smtp_server.sink.faults.data = lambda count: "452 4.3.1 queue full" if count >= 4 else None
    code, out, mailed = due(season, smtp_server, "2024-02-19T08:00")
    assert (code, mailed) == (75, 4), out
    [went] = lines(season)
    assert (went["reached"], went["of"]) == (4, 10)
    smtp_server.sink.faults.data = lambda count: None
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-19T08:15")
    assert (code, mailed) == (0, 0), out
    assert "to 4 of 10 and stopped there" in out
    assert f"announce send {TALK} --kind announcement --force" in out


def test_a_resumed_run_brings_the_count_up_to_date(season: Path, smtp_server: Server) -> None:
    smtp_server.sink.faults.data = lambda count: "452 4.3.1 queue full" if count >= 4 else None
    assert due(season, smtp_server, "2024-02-19T08:00")[::2] == (75, 4)
    smtp_server.sink.faults.data = lambda count: None
    assert due(season, smtp_server, "2024-02-19T08:15")[::2] == (0, 6)
    [went] = lines(season)
    assert (went["reached"], went["of"], went["first"]) == (10, 10, "2024-02-19T08:00:00+01:00")


def test_a_fresh_series_sends_as_before_and_starts_its_record(season: Path,
                                                              smtp_server: Server) -> None:
    assert not (season / LOG).exists()
    code, out, mailed = due(season, smtp_server, "2024-02-19T08:00")
    assert (code, mailed) == (0, 10) and "warning" not in out
    assert due(season, smtp_server, "2024-02-19T08:15")[2] == 0
    assert (season / LOG).is_file()


def test_a_state_folder_made_on_purpose_in_a_new_series_works(
        tmp_path: Path, smtp_server: Server) -> None:
    root = copy_example(tmp_path / "new-series")
    subscribe(root, 3)
    state = tmp_path / "elsewhere" / "state"
    env = {"ANNOUNCE_STATE_DIR": str(state)}
    result = invoke(root, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server, **env)
    assert result.code == 0 and len(smtp_server.received) == 3, result.both
    assert (state / "ledger.sqlite3").is_file() and not (root / ".state").exists()
    again = invoke(root, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server, **env)
    assert "already sent to 3" in again.out and len(smtp_server.received) == 3
    # Another new folder for the same series: the series' record remembers.
    other = invoke(root, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                   ANNOUNCE_STATE_DIR=str(tmp_path / "third"))
    assert other.code == 0 and len(smtp_server.received) == 3
    assert "is new to the announcement" in other.out


def test_list_sent_shows_and_writes_the_copy_that_went(season: Path,
                                                       smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    shown = invoke(season, "list", "--sent", "2024-02-22")
    assert shown.code == 0, shown.both
    assert shown.out.startswith("announcement 2024-02-19 08:00 CET  Learning Machines seminar "
                                "2024-02-22 15:00")
    assert f".state/sent/{TALK}-announcement-1.eml" in shown.out
    out = season / "copy.eml"
    written = invoke(season, "list", "--sent", TALK, "--kind", "announcement", "--out", str(out))
    assert written.code == 0, written.both
    data = out.read_bytes()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert not message.defects
    first = smtp_server.received[0]
    assert message["To"] == "person00000@example.org" == first.rcpt_tos[0]
    assert message["Message-ID"] == first.message["Message-ID"]
    assert message["Subject"] == first.message["Subject"]
    printed = invoke(season, "list", "--sent", TALK, "--kind", "announcement")
    assert printed.code == 0  # the runner reads CRLF as LF
    assert printed.out == data.decode("ascii").replace("\r\n", "\n")
    as_json = json.loads(invoke(season, "list", "--sent", TALK, "--json").out)
    assert [c["kind"] for c in as_json["copies"]] == ["announcement"]
    missing = invoke(season, "list", "--sent", TALK, "--kind", "reminder")
    assert missing.code == 2 and "no copy of the reminder" in missing.err
    assert invoke(season, "list", "--kind", "reminder").code == 2  # --kind needs --sent
    lose_state(season)
    after = invoke(season, "list", "--sent", TALK)
    assert "went out to 10 (seminars/.sent.log); no copy in .state/sent/" in after.out


def test_the_record_holds_no_address_and_check_accepts_it(season: Path,
                                                          smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    text = (season / LOG).read_text(encoding="utf-8")
    assert "@" not in text
    assert "person" not in text and "example.org" not in text
    result = invoke(season, "check")
    assert result.code == 0 and result.out.startswith("ok: series and 7 talk(s)"), result.both


def test_a_record_line_announce_did_not_write_stops_the_send(season: Path,
                                                             smtp_server: Server) -> None:
    write(season / LOG, '{"talk": "x", "kind": "announcement"}\n')
    result = invoke(season, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert result.code == 2 and smtp_server.received == []
    assert "seminars/.sent.log:1: not a line announce writes (no 'first')" in result.err
    assert invoke(season, "check").code == 2


def test_a_merge_conflict_in_the_record_keeps_both_sides(season: Path,
                                                         smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    [went] = (season / LOG).read_text(encoding="utf-8").splitlines()[3:]
    write(season / LOG, f"<<<<<<< HEAD\n{went}\n=======\n>>>>>>> other\n")
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-19T09:00")
    assert (code, mailed) == (0, 0) and "is new to the announcement" in out


def test_a_ledger_older_than_the_record_fills_it(season: Path, smtp_server: Server) -> None:
    assert due(season, smtp_server, "2024-02-19T08:00")[2] == 10
    (season / LOG).unlink()  # as if the announcement went before announce kept the record
    assert due(season, smtp_server, "2024-02-22T09:00")[2] == 10
    assert [(w["kind"], w["reached"]) for w in lines(season)] ==\
        [("announcement", 10), ("reminder", 10)]


@pytest.fixture
def asking(series: Path) -> Path:
    from mailbox_samples import SPEAKER_RECORD
    from mailbox_samples import TALK as ASKED

    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"\n'
                                     "speakers:\n  request_days_before: 21\n"
                                     "  chase_every_days: 7\n  deadline_days_before: 7\n"
                                     "  brief_days_before: 1"))
    write(series / "seminars" / f"{ASKED}.yaml", SPEAKER_RECORD)
    return series


def speakers_got(root: Path, server: Server, day: str) -> list[str]:
    from mailbox_samples import ANN, FREDRIK

    start = len(server.received)
    result = invoke(root, "send", "--due", "--now", f"{day}T08:30", server=server)
    assert result.code == 0, result.both
    return sorted(str(r.message["Subject"]).split(":")[0] for r in server.received[start:]
                  if {ANN, FREDRIK} & set(r.rcpt_tos))


def test_speakers_are_not_asked_or_briefed_twice_after_a_lost_state_folder(
        asking: Path, smtp_server: Server) -> None:
    assert len(speakers_got(asking, smtp_server, "2024-02-29")) == 2  # round 1, one each
    lose_state(asking)
    assert speakers_got(asking, smtp_server, "2024-03-01") == []
    assert [w["round"] for w in lines(asking) if w["kind"] == "request"] == [1]
    # The chase goes on from the record's round: a week later, round 2, once each.
    chase = speakers_got(asking, smtp_server, "2024-03-07")
    assert chase == ["[learning-machines] Reminder"] * 2
    lose_state(asking)
    assert speakers_got(asking, smtp_server, "2024-03-08") == []
    assert len(speakers_got(asking, smtp_server, "2024-03-20")) == 1  # the brief, to both
    lose_state(asking)
    assert speakers_got(asking, smtp_server, "2024-03-20") == []


def test_a_campaign_with_a_refusal_is_whole_not_half_sent(season: Path,
                                                          smtp_server: Server) -> None:
    smtp_server.sink.faults.rcpt =\
        lambda address: "550 5.1.1 no such user" if address.startswith("person00003") else None
    assert due(season, smtp_server, "2024-02-19T08:00")[::2] == (1, 9)
    [went] = lines(season)
    assert (went["reached"], went["refused"], went["of"]) == (9, 1, 10)
    lose_state(season)
    code, out, mailed = due(season, smtp_server, "2024-02-19T09:00")
    assert (code, mailed) == (0, 0), out
    assert "went out on 2024-02-19 08:00 CET to 9 recipient(s)" in out


def test_speakers_are_not_told_of_a_move_twice_after_a_lost_state_folder(
        asking: Path, smtp_server: Server) -> None:
    from mailbox_samples import TALK as ASKED

    assert speakers_got(asking, smtp_server, "2024-03-18") == []  # the list's announcement
    assert invoke(asking, "move", ASKED, "2024-03-22", "--today", "2024-03-18").code == 0
    start = len(smtp_server.received)
    assert due(asking, smtp_server, "2024-03-18T09:00")[0] == 0
    told = [str(r.message["Subject"]) for r in smtp_server.received[start:]]
    assert sum("your Learning Machines seminar" in s for s in told) == 1, told
    lose_state(asking)
    code, out, mailed = due(asking, smtp_server, "2024-03-18T10:00")
    assert (code, mailed) == (0, 0), out
    code, out, mailed = due(asking, smtp_server, "2024-03-19T08:30")
    assert (code, mailed) == (0, 0), out  # the announcement's moment: it went, and so did both
    assert [w["kind"] for w in lines(asking)].count("changed") == 1


def test_an_older_state_folder_does_not_tell_the_speakers_again(asking: Path,
                                                                smtp_server: Server) -> None:
    from mailbox_samples import TALK as ASKED

    speakers_got(asking, smtp_server, "2024-03-18")
    backup = asking.parent / "backup"
    shutil.copytree(asking / ".state", backup)  # the night's backup: the announcement only
    assert invoke(asking, "move", ASKED, "2024-03-22", "--today", "2024-03-18").code == 0
    assert len(speakers_got(asking, smtp_server, "2024-03-18")) == 1
    lose_state(asking)
    shutil.copytree(backup, asking / ".state")
    assert speakers_got(asking, smtp_server, "2024-03-18") == []
