"""Every mail says one thing, as a reader's software shows it: each mail read back from a real
SMTP server on loopback.

An update names a move with one word in its subject, heading and text, and each change once;
a talk without a title is named by its speakers and day, never "TBA"; an attachment is named
as the text names it; personal mail (to speakers) has no unsubscribe link and says it is
auto-generated (RFC 3834); a dry run with --to names the address it would go to.
"""

from __future__ import annotations

import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from mailbox_samples import ANN, FREDRIK, SPEAKER_RECORD, TALK
from runners import invoke
from seriesfiles import edit, write
from smtpserver import Server, parts

HOST = "olof@example.org"


@pytest.fixture
def season(series: Path) -> Path:
    """The bundled series, announced three days ahead; Fredrik's and Ann's talk on 2024-03-21
    (no title yet), asked from three weeks before and briefed the day before."""
    edit(series / "seminars" / "series.yaml",
         ("announce_days_before: 6", 'announce_days_before: 3\nannounce_at: "08:00"\n'
                                     "speakers:\n  request_days_before: 21\n"
                                     "  brief_days_before: 1"))
    write(series / "seminars" / f"{TALK}.yaml",
          SPEAKER_RECORD + f"host: {{name: Olof Mogren, email: {HOST}}}\n")
    return series


def due(root: Path, server: Server, day: date, at: str = "08:30") -> list[EmailMessage]:
    start = len(server.received)
    result = invoke(root, "send", "--due", "--now", f"{day.isoformat()}T{at}", server=server)
    assert result.code == 0, result.both
    return [r.message for r in server.received[start:]]


def html(message: EmailMessage) -> str:
    return str(parts(message)["text/html"].get_content())


def text(message: EmailMessage) -> str:
    return str(parts(message)["text/plain"].get_content()).replace("\r\n", "\n")


def heading(message: EmailMessage) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html(message), re.DOTALL)
    assert found, "no heading"
    return found.group(1)


def test_a_move_is_moved_in_subject_heading_and_text_and_said_once(
        season: Path, smtp_server: Server) -> None:
    edit(season / "seminars" / f"{TALK}.yaml", ("date: 2024-03-21", "date: 2024-03-21\n"
                                                "title: Fast models"))
    assert len(due(season, smtp_server, date(2024, 3, 18))) == 1  # the announcement
    moved = invoke(season, "move", TALK, "2024-03-22", "--time", "16:00", "--today",
                   "2024-03-18")
    assert moved.code == 0, moved.both
    [update] = [m for m in due(season, smtp_server, date(2024, 3, 18), "09:00")
                if m["To"] == "lm-seminar-list@example.org"]
    assert str(update["Subject"]).startswith("Moved: Learning Machines seminar 2024-03-21 "
                                             "15:00 → 2024-03-22 16:00: Fast models")
    assert heading(update) == "Moved: Fast models"
    words = text(update)
    assert words.startswith("Moved: the Learning Machines seminar has a new date and time.\n")
    assert "Changed" not in words
    assert words.count("2024-03-21 15:00 → 2024-03-22 16:00") == 1
    shown = re.sub(r"<[^>]+>", "", html(update).split('<h1', 1)[1])  # past the preheader
    assert shown.count("2024-03-21 15:00 → 2024-03-22 16:00") == 1
    assert "Changed" not in shown


def test_a_talk_without_a_title_is_named_by_its_speakers_and_day(
        season: Path, smtp_server: Server) -> None:
    [request, _] = due(season, smtp_server, date(2024, 2, 29))
    assert heading(request) == ("Your talk: Fredrik Gustafsson and Ann Ek, "
                                "Thursday 21 March 2024")
    assert len(due(season, smtp_server, date(2024, 3, 18))) == 1  # announced, as TBA
    edit(season / "seminars" / f"{TALK}.yaml", ("date: 2024-03-21", "date: 2024-03-21\n"
                                                "status: cancelled\nnote: Both are ill"))
    mails = due(season, smtp_server, date(2024, 3, 18), "09:00")
    [cancellation] = [m for m in mails if m["To"] == "lm-seminar-list@example.org"]
    assert heading(cancellation) == ("Cancelled: Fredrik Gustafsson and Ann Ek, "
                                     "Thursday 21 March 2024")
    assert all("TBA" not in heading(m) for m in mails)


def test_the_brief_attaches_the_backdrop_under_the_name_it_gives(
        season: Path, smtp_server: Server) -> None:
    [brief] = [m for m in due(season, smtp_server, date(2024, 3, 20))
               if "practical details" in str(m["Subject"])]
    said = re.search(r"The meeting backdrop is attached \(([^)]+)\)", text(brief))
    assert said, text(brief)
    [attached] = [p for p in brief.iter_attachments() if p.get_content_maintype() == "image"]
    assert attached.get_filename() == said.group(1)
    assert said.group(1).endswith(".jpg") and attached.get_content_type() == "image/jpeg"


def test_personal_mail_has_no_unsubscribe_and_list_mail_keeps_it(
        season: Path, smtp_server: Server) -> None:
    mails = due(season, smtp_server, date(2024, 2, 29))  # the requests
    mails += due(season, smtp_server, date(2024, 3, 18))  # the announcement
    mails += due(season, smtp_server, date(2024, 3, 20))  # the brief
    personal = [m for m in mails if m["To"] != "lm-seminar-list@example.org"]
    [listed] = [m for m in mails if m["To"] == "lm-seminar-list@example.org"]
    assert len(personal) == 3
    for message in personal:
        assert "Unsubscribe" not in html(message) and "Unsubscribe" not in text(message)
        assert message["List-Id"] is None and message["List-Unsubscribe"] is None
        assert message["Reply-To"] == "lm-seminar@example.org"
    assert listed["List-Id"] and listed["List-Unsubscribe"]
    assert ">Unsubscribe</a>" in html(listed)


def test_speaker_mail_from_cron_says_auto_generated_and_list_mail_does_not(
        season: Path, smtp_server: Server) -> None:
    requests = due(season, smtp_server, date(2024, 2, 29))
    chases = due(season, smtp_server, date(2024, 3, 7))
    [announcement] = due(season, smtp_server, date(2024, 3, 18))
    briefs = due(season, smtp_server, date(2024, 3, 20))
    assert sorted(m["To"].addresses[0].addr_spec for m in requests) == sorted([FREDRIK, ANN])
    assert len(chases) == 2 and len(briefs) == 1
    for message in (*requests, *chases, *briefs):
        assert message["Auto-Submitted"] == "auto-generated"
    assert announcement["Auto-Submitted"] is None


def test_a_dry_run_to_an_address_names_it(series: Path) -> None:
    result = invoke(series, "send", "2024-02-22", "--dry-run", "--to", "me@example.org", "--today",
                    "2024-02-20")
    assert result.code == 0, result.both
    [line] = [line for line in result.out.splitlines() if line.startswith("To: ")]
    assert line.startswith("To: me@example.org")
    assert "no recipients configured" not in result.out
