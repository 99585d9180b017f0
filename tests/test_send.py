"""Sending to a real SMTP server on loopback, and reading what it received."""

from __future__ import annotations

import re
from pathlib import Path

import vobject
from runners import invoke
from seriesfiles import write
from smtpserver import Server, free_port, parts


def test_send_delivers_one_complete_message_to_the_list(series: Path,
                                                        smtp_server: Server) -> None:
    result = invoke(series, "send", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert got.rcpt_tos == ["lm-seminar-list@example.org"]
    assert got.mail_from == "lm-seminar@example.org"
    message = got.message
    assert not message.defects
    for header in ("Date", "Message-ID", "From", "To", "Subject", "List-Id"):
        assert message[header], header
    assert message["To"] == "lm-seminar-list@example.org"
    assert message["List-Unsubscribe"] == "<mailto:lm-seminar-list-leave@example.org>"
    assert "Measuring behavior" in message["Subject"]
    assert all(len(line) <= 78 for line in got.data.split(b"\r\n")), "a line is over 78"
    found = parts(message)
    assert set(found) == {"text/plain", "text/html", "text/calendar"}
    text = found["text/plain"].get_content()
    assert "](" not in text and "**" not in text
    assert "https://rise.zoom.us/j/208117140?pwd=RloxWHBrY2ZReWJ2S0xNUzcxbExwUT09" in text
    assert "University of Tübingen" in text
    assert "Linköping University" in text
    html = found["text/html"].get_content()
    assert 'style="' in html  # CSS inlined onto the elements; only @media rules stay behind
    left = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    assert left is not None
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", left.group(1)).strip() == ""
    assert "https://rise.zoom.us/j/208117140?pwd=RloxWHBrY2ZReWJ2S0xNUzcxbExwUT09" in html
    assert "Tübingen" in html
    calendar_part = found["text/calendar"]
    assert calendar_part.get_param("method") == "PUBLISH"
    ics = calendar_part.get_content()
    parsed = vobject.readOne(ics, validate=True)
    event = parsed.vevent
    assert event.dtstart.value.isoformat() == "2024-02-22T15:00:00+01:00"
    assert str(event.dtstart.value.tzinfo) in ("Europe/Stockholm",) or\
        "TZID=Europe/Stockholm" in ics
    assert event.dtend.value.isoformat() == "2024-02-22T16:00:00+01:00"
    assert "rise.zoom.us" in ics.replace("\r\n ", "")
    assert "sent 1" in result.out


def test_second_send_sends_nothing_and_force_sends_again(series: Path,
                                                         smtp_server: Server) -> None:
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    again = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert again.code == 0, again.both
    assert "already sent" in again.out
    assert len(smtp_server.received) == 1
    forced = invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                    server=smtp_server)
    assert forced.code == 0, forced.both
    assert len(smtp_server.received) == 2
    ids = {item.message["Message-ID"] for item in smtp_server.received}
    assert len(ids) == 2


def test_dry_run_sends_nothing_prints_text_and_names_preview(series: Path,
                                                             smtp_server: Server) -> None:
    result = invoke(series, "send", "--dry-run", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    assert smtp_server.received == []
    assert "Subject: Learning Machines seminar 2024-02-22" in result.out
    assert "Recipients: 1" in result.out
    assert "Abstract: Quantifying behavior" in result.out
    folder = series / ".state" / "preview" / "2024-02-22-mathis-announcement"
    assert f"{folder}/" in result.out
    assert (folder / "message.eml").is_file()
    assert not (series / ".state" / "ledger.sqlite3").exists()
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert len(smtp_server.received) == 1


def test_to_sends_only_there_and_does_not_count(series: Path, smtp_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--to", "me@example.org", "--today", "2024-02-20",
                    server=smtp_server)
    assert result.code == 0, result.both
    assert "announcement of 2024-02-22-mathis: sent 1" in result.out
    assert smtp_server.addresses() == ["me@example.org"]
    assert smtp_server.received[0].message["To"] == "me@example.org"
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert smtp_server.addresses() == ["me@example.org", "lm-seminar-list@example.org"]


def test_this_weeks_seminar_for_several_days(series: Path) -> None:
    cases = {
        "2024-02-16": "2024-02-22-mathis",
        "2024-02-22": "2024-02-22-mathis",
        "2024-03-08": "2024-03-14-martinez-balvanera",
        "2024-03-29": "2024-04-04-kreis",
    }
    for today, expected in cases.items():
        result = invoke(series, "send", "--dry-run", "--today", today)
        assert result.code == 0, result.both
        assert f"Kind: announcement ({expected})" in result.out, (today, result.out)


def test_empty_window_exits_0_naming_the_next_talk(series: Path) -> None:
    # 2024-02-23: the next two weeks are cancelled; the next talk is 2024-03-14.
    result = invoke(series, "send", "--today", "2024-02-23")
    assert result.code == 0, result.both
    assert "No seminar to announce between 2024-02-23 and 2024-02-29" in result.out
    assert "Next: 2024-03-14-martinez-balvanera on 2024-03-14" in result.out
    after = invoke(series, "send", "--dry-run", "--today", "2024-04-05")
    assert after.code == 0
    assert "No talk is planned after that." in after.out


def test_quiet_prints_nothing_on_success(series: Path, smtp_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--quiet", "--today", "2024-02-20",
                    server=smtp_server)
    assert result.code == 0
    assert result.out == "" and result.err == ""


def test_server_unreachable_exits_75_in_one_line(series: Path) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                    ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(free_port()))
    assert result.code == 75, result.both
    assert "cannot reach the SMTP server 127.0.0.1:" in result.err
    assert "Traceback" not in result.both


def test_non_ascii_subject_is_encoded_and_intact(series: Path, smtp_server: Server) -> None:
    write(series / "seminars" / "2024-02-22-mathis.yaml",
          "date: 2024-02-22\nspeaker: Jonas Åström\naffiliation: Göteborgs universitet\n"
          "title: Über Lernen – naïve Bayes, 学習\nabstract: Ça marche.\nbio: Él es.\n")
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    got = smtp_server.received[0]
    assert got.data.isascii()
    subject = re.search(rb"^Subject: .*?(?=\r\n\S)", got.data, re.MULTILINE | re.DOTALL)
    assert subject is not None
    assert b"=?utf-8?" in subject.group(0)
    message = got.message
    assert "Über Lernen – naïve Bayes, 学習" in message["Subject"]
    assert "Jonas Åström" in message["Subject"]
    assert "Ça marche." in parts(message)["text/plain"].get_content()


def test_rerun_after_the_send_renders_nothing_and_warns_nothing(series: Path,
                                                               smtp_server: Server) -> None:
    first = invoke(series, "send", "2024-03-14", "--quiet", "--today", "2024-02-20",
                   server=smtp_server)
    assert first.code == 0
    assert "still missing title, abstract, bio" in first.err
    again = invoke(series, "send", "2024-03-14", "--quiet", "--today", "2024-02-20",
                   server=smtp_server)
    assert again.code == 0
    assert again.out == "" and again.err == ""
    loud = invoke(series, "send", "2024-03-14", "--today", "2024-02-20", server=smtp_server)
    assert "2024-03-14-martinez-balvanera: already sent to 1 recipient(s); nothing to do"\
        in loud.out
    assert "preview" not in loud.out
    assert len(smtp_server.received) == 1


def test_a_reminder_on_another_day_is_refused_by_hand(series: Path, smtp_server: Server) -> None:
    early = invoke(series, "send", "2024-02-22", "--kind", "reminder", "--today", "2024-02-13",
                   server=smtp_server)
    assert early.code == 2
    assert "is on 2024-02-22, not today (2024-02-13)" in early.err and "--force" in early.err
    assert smtp_server.received == []
    for never_refused in (["--dry-run"], ["--to", "me@example.org"]):
        assert invoke(series, "send", "2024-02-22", "--kind", "reminder", "--today",
                      "2024-02-13", *never_refused, server=smtp_server).code == 0
    forced = invoke(series, "send", "2024-02-22", "--kind", "reminder", "--today",
                    "2024-02-13", "--force", server=smtp_server)
    assert forced.code == 0, forced.both
    assert str(smtp_server.received[-1].message["Subject"]).startswith("Today 15:00")


def test_an_announcement_of_a_talk_that_has_started_is_refused(series: Path,
                                                                smtp_server: Server) -> None:
    late = invoke(series, "send", "2024-02-22", "--today", "2024-02-23", server=smtp_server)
    assert late.code == 2
    assert "2024-02-22-mathis has started (at 2024-02-22 15:00 CET)" in late.err
    assert smtp_server.received == []
    assert invoke(series, "preview", "2024-02-22", "--today", "2024-02-23").code == 0


def test_a_dry_run_after_the_send_says_it_went_out(series: Path, smtp_server: Server) -> None:
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    dry = invoke(series, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20")
    assert dry.code == 0
    assert "Dry run: announcement of 2024-02-22-mathis: already sent to 1 recipient(s)" in dry.out
    assert "Recipients:" not in dry.out


def test_a_cancellation_of_a_talk_never_announced_says_so(series: Path,
                                                         smtp_server: Server) -> None:
    result = invoke(series, "send", "2024-02-29", "--kind", "cancellation", "--today", "2024-02-20",
                    server=smtp_server)
    assert result.code == 0, result.both
    assert "2024-02-29-sportlov was never announced by announce" in result.err
