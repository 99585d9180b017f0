"""Speakers (contract §8): asked for what is missing, chased, briefed the day before.

A season simulation: ``send --due`` every morning through five weeks against a real SMTP
server, the record edited between runs as a speaker's answer would. The talk is on
2024-03-21 at 15:00 CET; New York moved to summer time on 2024-03-10 and Stockholm only on
2024-03-31, so a speaker there starts at 10:00 EDT, not at the winter 09:00.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from mailbox_samples import ANN, FREDRIK, SPEAKER_RECORD, TALK
from PIL import Image
from runners import invoke
from seriesfiles import edit, write
from smtpserver import Faults, Received, Server, parts

HOST = "olof@example.org"
RECORD = SPEAKER_RECORD + f"host: {{name: Olof Mogren, email: {HOST}}}\n"


@pytest.fixture
def season(series: Path) -> Path:
    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"\n'
                                     "speakers:\n  request_days_before: 21\n"
                                     "  chase_every_days: 7\n  deadline_days_before: 7\n"
                                     "  brief_days_before: 1"))
    write(series / "seminars" / f"{TALK}.yaml", RECORD)
    return series


def to_speakers(server: Server, start: int) -> list[EmailMessage]:
    people = {FREDRIK, ANN, HOST}
    return [r.message for r in server.received[start:] if set(r.rcpt_tos) & people]


def run_day(root: Path, server: Server, day: date) -> tuple[str, list[EmailMessage]]:
    start = len(server.received)
    result = invoke(root, "send", "--due", "--now", f"{day.isoformat()}T08:30", server=server)
    assert result.code == 0, result.both
    return result.both, to_speakers(server, start)


def test_a_season_of_requests_repeats_and_the_brief(season: Path, smtp_server: Server) -> None:
    got: dict[str, list[EmailMessage]] = {}
    said: dict[str, str] = {}
    day = date(2024, 2, 26)
    while day <= date(2024, 3, 21):
        if day == date(2024, 3, 10):  # the speakers answered with a title and an abstract
            write(season / "seminars" / f"{TALK}.yaml",
                  RECORD + "title: Microscopy at scale\nabstract: We image cells.\n")
        said[day.isoformat()], mails = run_day(season, smtp_server, day)
        if mails:
            got[day.isoformat()] = mails
        day += timedelta(days=1)
    assert sorted(got) == ["2024-02-29", "2024-03-07", "2024-03-14", "2024-03-20"]
    first = {str(m["To"]): m for m in got["2024-02-29"]}
    assert set(first) == {f"Fredrik Gustafsson <{FREDRIK}>", f"Ann Ek <{ANN}>"}
    ann = first[f"Ann Ek <{ANN}>"]
    text = parts(ann)["text/plain"].get_content()
    assert str(ann["Subject"]).startswith("[learning-machines] Your Learning Machines seminar "
                                          "on 2024-03-21: please send its title, abstract, bio")
    assert text.startswith("Dear Ann Ek,")
    assert "Thursday 21 March 2024, 15:00 CET (10:00 EDT (America/New_York) for you)" in text
    assert "with Fredrik Gustafsson" in text
    for label in ("Title:", "Abstract:", "About you:", "attach a photo (JPEG or PNG)"):
        assert label in text
    assert "by Thursday 14 March 2024" in text
    assert str(ann["Reply-To"]) == "lm-seminar@example.org"
    assert "List-Id" not in ann and "List-Unsubscribe" not in ann
    assert "Precedence" not in ann and "text/html" in parts(ann)
    second = got["2024-03-07"]
    assert len(second) == 2 and all("Reminder:" in str(m["Subject"]) for m in second)
    last = got["2024-03-14"]
    assert len(last) == 2 and all("Last reminder:" in str(m["Subject"]) for m in last)
    last_text = parts(last[0])["text/plain"].get_content()
    assert "still need its bio and photo" in last_text
    form = [line.strip() for line in last_text.splitlines()]
    assert "About you:" in form and "Title:" not in form and "Abstract:" not in form
    assert "its deadline (2024-03-14) has passed" in said["2024-03-15"]
    assert "its deadline (2024-03-14) has passed" not in said["2024-03-16"]  # told once
    [brief] = got["2024-03-20"]
    assert str(brief["Cc"]) == f"Olof Mogren <{HOST}>"
    brief_text = parts(brief)["text/plain"].get_content()
    assert "Time for Ann Ek: 10:00 EDT (America/New_York)" in brief_text
    assert "Your host: Olof Mogren (olof@example.org)" in brief_text
    assert "The audience was sent: Learning Machines seminar 2024-03-21 15:00: "\
           "Microscopy at scale" in brief_text
    [image] = [p for p in brief.walk() if p.get_content_type() == "image/jpeg"]
    assert Image.open(io.BytesIO(image.get_content())).size == (1920, 1080)
    listed = next(line for line in invoke(season, "list", "--all").out.splitlines()
                  if line.startswith(TALK))
    assert "request sent" in listed and "brief sent" in listed


def test_the_brief_reaches_every_speaker_and_the_host(season: Path,
                                                      smtp_server: Server) -> None:
    assert run_day(season, smtp_server, date(2024, 3, 20))[1]
    [received] = [r for r in smtp_server.received if HOST in r.rcpt_tos]
    assert sorted(received.rcpt_tos) == sorted([FREDRIK, ANN, HOST])


def test_a_complete_talk_is_never_asked(season: Path, smtp_server: Server) -> None:
    from seriesfiles import make_photo

    make_photo(season / "photos" / "gustafsson.jpg")
    write(season / "seminars" / f"{TALK}.yaml", RECORD + "title: T\nabstract: A\nbio: B\n"
                                                         "photo: photos/gustafsson.jpg\n")
    assert run_day(season, smtp_server, date(2024, 2, 29))[1] == []
    refused = invoke(season, "ask", TALK, "--today", "2024-02-29", server=smtp_server)
    assert refused.code == 2 and "there is nothing to ask for" in refused.err


def test_a_speaker_without_an_address_gets_nothing_and_list_says_so(
        season: Path, smtp_server: Server) -> None:
    write(season / "seminars" / f"{TALK}.yaml",
          "date: 2024-03-21\nspeaker: Fredrik Gustafsson\n")
    assert run_day(season, smtp_server, date(2024, 2, 29))[1] == []
    listed = next(line for line in invoke(season, "list", "--all", "--today",
                                          "2024-02-29").out.splitlines()
                  if line.startswith(TALK))
    assert "no speaker address" in listed
    write(season / "seminars" / "2099-01-15-ek.yaml", "date: 2099-01-15\nspeaker: Bo Ek\n")
    assert "2099-01-15-ek: still missing title, abstract, bio, photo; its speakers cannot be "\
           "asked (no email: address)" in invoke(season, "check").out


def test_a_run_that_stopped_half_way_finishes_the_round_once(season: Path,
                                                             smtp_server: Server) -> None:
    smtp_server.sink.faults = Faults(rcpt=lambda rcpt: "451 4.7.1 try later"
                                     if rcpt == ANN else None)
    invoke(season, "send", "--due", "--now", "2024-02-29T08:30", server=smtp_server,
           ANNOUNCE_RETRY_SECONDS="0")
    assert [m["To"] for m in to_speakers(smtp_server, 0)] == [
        f"Fredrik Gustafsson <{FREDRIK}>"]
    smtp_server.sink.faults = Faults()
    _, mails = run_day(season, smtp_server, date(2024, 2, 29))
    assert [str(m["To"]) for m in mails] == [f"Ann Ek <{ANN}>"]
    assert run_day(season, smtp_server, date(2024, 3, 1))[1] == []


def test_ask_by_hand_and_its_dry_run(season: Path, smtp_server: Server) -> None:
    dry = invoke(season, "ask", TALK, "--today", "2024-02-20", "--dry-run", server=smtp_server)
    assert dry.code == 0, dry.both
    assert "Kind: request" in dry.out and smtp_server.received == []
    sent = invoke(season, "ask", TALK, "--today", "2024-02-20", server=smtp_server)
    assert sent.code == 0, sent.both
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted([ANN, FREDRIK])
    started = invoke(season, "ask", TALK, "--today", "2024-03-22", server=smtp_server)
    assert started.code == 2 and "has started" in started.err


def test_bad_addresses_and_zones_name_the_key(season: Path) -> None:
    write(season / "seminars" / f"{TALK}.yaml", RECORD.replace(ANN, "ann at example")
          .replace("America/New_York", "Mars/Olympus"))
    result = invoke(season, "check")
    assert result.code == 2
    assert f"{TALK}.yaml:10: speakers[1].email: 'ann at example' is not an e-mail" in result.err
    assert f"{TALK}.yaml:11: speakers[1].timezone: \"Mars/Olympus\" is not an IANA" in result.err


def test_new_and_import_take_the_speakers_address(series: Path) -> None:
    result = invoke(series, "new", "2024-05-02", "--speaker", "Bo Ek", "--email", "bo@example.org")
    assert result.code == 0, result.both
    from mailer.series.store import Store

    assert Store(series).find("2024-05-02").speakers[0].email == "bo@example.org"
    bad = invoke(series, "new", "2024-05-09", "--speaker", "Cai Wu", "--email", "cai at x")
    assert bad.code == 2 and "email: 'cai at x' is not an e-mail address" in bad.err
    assert not list((series / "seminars").glob("2024-05-09-*"))
    sheet = write(series / "plan.csv", "date,speaker,email\n2024-05-16,Dan Li;Eva Berg,"
                                       "dan@example.org;eva@example.org\n")
    imported = invoke(series, "import", str(sheet))
    assert imported.code == 0, imported.both
    assert [s.email for s in Store(series).find("2024-05-16").speakers] == [
        "dan@example.org", "eva@example.org"]


def test_nothing_due_names_a_speaker_request_that_comes_before_the_next_announcement(
        season: Path, smtp_server: Server) -> None:
    result = invoke(season, "send", "--due", "--now", "2024-02-23T09:00", server=smtp_server)
    assert result.code == 0, result.both
    assert f"Next: the request of {TALK}, due from 2024-02-29 08:00 CET." in result.out


def run_at(root: Path, server: Server, now: str) -> tuple[list[Received], list[Received]]:
    """Run the cron job at ``now``; return what went to the list and to the talk's people."""
    start = len(server.received)
    result = invoke(root, "send", "--due", "--now", now, server=server)
    assert result.code == 0, result.both
    got = server.received[start:]
    return ([r for r in got if r.rcpt_tos == ["lm-seminar-list@example.org"]],
            [r for r in got if set(r.rcpt_tos) & {FREDRIK, ANN, HOST}])


def text_of(received: Received) -> str:
    return str(parts(received.message)["text/plain"].get_content()).replace("\r\n", "\n")


def test_a_moved_talk_tells_each_speaker_and_the_host_once_in_their_own_time(
        season: Path, smtp_server: Server) -> None:
    assert len(run_at(season, smtp_server, "2024-03-18T08:30")[0]) == 1  # announced
    assert invoke(season, "move", TALK, "2024-03-22", "--time", "16:00",
                  "--today", "2024-03-18").code == 0
    dry = invoke(season, "send", "--due", "--dry-run", "--now", "2024-03-18T09:00")
    assert "Kind: update" in dry.out and "Kind: changed" in dry.out
    listed, personal = run_at(season, smtp_server, "2024-03-18T09:00")
    assert [str(r.message["Subject"]).split(":")[0] for r in listed] == ["Moved"]
    [mail] = personal
    assert Counter(mail.rcpt_tos) == Counter([FREDRIK, ANN, HOST])  # one copy each
    message = mail.message
    assert message["Subject"] == ("[learning-machines] Moved: your Learning Machines seminar "
                                  "2024-03-21 15:00 → 2024-03-22 16:00")
    assert message["Cc"] == f"Olof Mogren <{HOST}>"
    assert message["Reply-To"] == "lm-seminar@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Id"] is None and message["List-Unsubscribe"] is None
    words = text_of(mail)
    assert "Thursday 21 March 2024, 15:00 CET → Friday 22 March 2024, 16:00 CET" in words
    assert ("Time for Ann Ek: Thursday 21 March 2024, 10:00 EDT → Friday 22 March 2024, "
            "11:00 EDT (America/New_York)") in words
    assert "Unsubscribe" not in str(parts(message)["text/html"].get_content())
    assert run_at(season, smtp_server, "2024-03-18T09:15") == ([], [])  # once
    assert invoke(season, "move", "2024-03-22", "2024-03-25", "--today", "2024-03-18").code == 0
    listed, personal = run_at(season, smtp_server, "2024-03-18T10:00")
    [again] = [r for r in personal if "Moved" in str(r.message["Subject"])]
    assert len(listed) == 1  # a new change set: one more each (and, by the new date's
    # deadline, a request for what is still missing)
    assert "Friday 22 March 2024, 16:00 CET → Monday 25 March 2024, 16:00 CET" in text_of(again)
    listed_line = next(line for line in invoke(season, "list", "--all").out.splitlines()
                       if line.startswith("2024-03-25-gustafsson"))
    assert "changed sent" in listed_line


def test_a_cancelled_talk_tells_its_speakers_once(season: Path, smtp_server: Server) -> None:
    assert len(run_at(season, smtp_server, "2024-03-18T08:30")[0]) == 1
    edit(season / "seminars" / f"{TALK}.yaml",
         ("date: 2024-03-21", "date: 2024-03-21\nstatus: cancelled\nnote: Both are ill"))
    listed, personal = run_at(season, smtp_server, "2024-03-18T09:00")
    assert [str(r.message["Subject"]) for r in listed] == [
        "Cancelled: Learning Machines seminar on 2024-03-21"]
    [mail] = personal
    assert Counter(mail.rcpt_tos) == Counter([FREDRIK, ANN, HOST])
    assert mail.message["Subject"] == ("[learning-machines] Cancelled: your Learning Machines "
                                       "seminar on 2024-03-21")
    assert "is cancelled" in text_of(mail) and "Reason: Both are ill" in text_of(mail)
    assert run_at(season, smtp_server, "2024-03-18T09:15") == ([], [])
    again = invoke(season, "send", TALK, "--kind", "changed", "--today", "2024-03-18",
                   server=smtp_server)
    assert again.code == 0 and "already sent to 3" in again.out


def test_a_speaker_missed_by_the_change_mail_gets_it_on_the_next_run_alone(
        season: Path, smtp_server: Server) -> None:
    assert len(run_at(season, smtp_server, "2024-03-18T08:30")[0]) == 1
    assert invoke(season, "move", TALK, "2024-03-22", "--today", "2024-03-18").code == 0
    smtp_server.sink.faults = Faults(rcpt=lambda rcpt: "451 4.7.1 try later"
                                     if rcpt == ANN else None)
    invoke(season, "send", "--due", "--now", "2024-03-18T09:00", server=smtp_server)
    smtp_server.sink.faults = Faults()
    listed, personal = run_at(season, smtp_server, "2024-03-18T09:15")
    assert listed == [] and [r.rcpt_tos for r in personal] == [[ANN]]
    assert run_at(season, smtp_server, "2024-03-18T09:30") == ([], [])


def test_a_change_by_hand_and_what_it_refuses(season: Path, smtp_server: Server) -> None:
    unannounced = invoke(season, "send", TALK, "--kind", "changed", "--today", "2024-03-18",
                         server=smtp_server)
    assert unannounced.code == 2 and "no announcement of it" in unannounced.err
    assert len(run_at(season, smtp_server, "2024-03-18T08:30")[0]) == 1
    same = invoke(season, "send", TALK, "--kind", "changed", "--today", "2024-03-18",
                  server=smtp_server)
    assert same.code == 2 and "as its list was told" in same.err
    edit(season / "seminars" / f"{TALK}.yaml",
         ("date: 2024-03-21", "date: 2024-03-21\nlocation: Room 4, Kista"))
    sent = invoke(season, "send", TALK, "--kind", "changed", "--today", "2024-03-18",
                  server=smtp_server)
    assert sent.code == 0, sent.both
    mail = smtp_server.received[-1]
    assert str(mail.message["Subject"]).startswith("[learning-machines] Changed location: ")
    assert "→ Room 4, Kista" in text_of(mail)
    listed, personal = run_at(season, smtp_server, "2024-03-18T09:00")
    assert len(listed) == 1 and personal == []  # the list's update; the speakers have it


def test_the_rule_for_the_speakers_change_mail() -> None:
    from datetime import UTC, datetime, time

    from mailer.series.model import Series, Speaker, Status, Talk
    from mailer.series.schedule import talk_facts
    from mailer.series.speakerrules import Heard, change_facts, change_people, changed_due

    series = Series(name="S", team="T", timezone="Europe/Stockholm", default_time=time(15))
    talk = Talk(id="2024-03-21-a", date=date(2024, 3, 21),
                   speakers=(Speaker("A", email="a@example.org"),),
                   host=Speaker("H", email="h@example.org"))
    now = datetime(2024, 3, 18, 8, tzinfo=UTC)
    told = {**talk_facts(series, talk), "when": "2024-03-20 15:00"}  # the list was told 20th
    people = change_people(talk)
    assert people == {"a@example.org", "h@example.org"}

    def due_with(talk: Talk, heard: Heard) -> bool:
        return bool(changed_due([talk], now, series, {talk.key: heard}))

    assert due_with(talk, Heard(announced=True, told=told))  # the update is due
    assert not due_with(talk, Heard(announced=False, told=None))  # never announced
    assert not due_with(talk, Heard(announced=True, told=talk_facts(series, talk)))  # as told
    assert due_with(talk, Heard(announced=True, told=talk_facts(series, talk), listed=True))
    assert not due_with(talk, Heard(announced=True, told=told, heard=people))
    cancelled = replace(talk, status=Status.CANCELLED)
    assert due_with(cancelled, Heard(announced=True, told=talk_facts(series, talk)))
    assert change_facts(series, cancelled) != change_facts(series, talk)
    assert not changed_due([talk], datetime(2024, 3, 21, 15, tzinfo=UTC), series,
                           {talk.key: Heard(announced=True, told=told)})  # it has started
    nobody = replace(talk, speakers=(Speaker("A"),), host=None)
    assert not due_with(nobody, Heard(announced=True, told=told))


def test_a_test_send_of_speaker_mail_reaches_only_the_to_address(season: Path,
                                                                 smtp_server: Server) -> None:
    me = "organiser@example.net"
    brief = invoke(season, "send", TALK, "--kind", "brief", "--to", me, "--today", "2024-03-20",
                   server=smtp_server)
    asked = invoke(season, "ask", TALK, "--to", me, "--today", "2024-03-01", server=smtp_server)
    assert brief.code == 0 and asked.code == 0, brief.both + asked.both
    assert [r.rcpt_tos for r in smtp_server.received] == [[me], [me], [me]]
    assert {str(r.message["To"]) for r in smtp_server.received} == {me}
    assert "Fredrik" in text_of(smtp_server.received[0])
    # a test send is not the real one: the speakers are asked and the brief goes on its day
    _, asking = run_day(season, smtp_server, date(2024, 3, 1))
    assert sorted(r for m in asking for r in m["To"].addresses for r in [r.addr_spec]) ==\
        sorted([ANN, FREDRIK])
    start = len(smtp_server.received)
    run_day(season, smtp_server, date(2024, 3, 20))
    [real] = [r for r in smtp_server.received[start:] if HOST in r.rcpt_tos]
    assert Counter(real.rcpt_tos) == Counter([FREDRIK, ANN, HOST])
