"""Subscribers manage themselves by mail (contract §9): a sign-up is confirmed by a reply to the
mail that asks for it, forged sign-ups cost the victim one mail, preferences need proof.

The inbox is a Maildir; the mail announce sends goes to the tests' SMTP server, whose copies
give the Message-IDs a genuine reply names.
"""

from __future__ import annotations

import mailbox
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from mailbox_samples import reply, unsubscribe
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server

NOW = "2024-02-19T07:00"
STRANGER = "new.reader@example.net"


@pytest.fixture
def open_series(series: Path) -> Path:
    """The bundled series with an inbox and a sign-up address."""
    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", "  inbox:\n    maildir: inbox\n  subscribe: mailto:lm-join@example.org\n"
                       "  smtp:\n"))
    mailbox.Maildir(series / "inbox", create=True)
    return series


def deliver(root: Path, *messages: bytes) -> None:
    box = mailbox.Maildir(root / "inbox", create=False)
    for data in messages:
        box.add(data)


def message(sender: str, to: str, subject: str, text: str = "",
            in_reply_to: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="client.example")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    mail.set_content(text or "hello\n")
    return mail.as_bytes()


def to(server: Server, address: str) -> list[EmailMessage]:
    return [r.message for r in server.received if r.rcpt_tos == [address]]


def inbox(root: Path, server: Server, now: str = NOW) -> str:
    result = invoke(root, "inbox", "--now", now, server=server)
    assert result.code == 0, result.both
    return result.out


def test_a_stranger_signs_up_confirms_by_reply_and_gets_the_next_announcement_once(
        open_series: Path, smtp_server: Server) -> None:
    subscribe(open_series, 2)
    deliver(open_series, message(STRANGER, "lm-join@example.org", "Join"))
    out = inbox(open_series, smtp_server)
    assert f"a sign-up from {STRANGER}" in out
    [ask] = to(smtp_server, STRANGER)
    assert "confirm that you want to join" in str(ask["Subject"])
    assert "Auto-Submitted" in ask and "List-Unsubscribe" not in ask
    listing = invoke(open_series, "subscribers").out
    assert "2 active, 0 suppressed, 1 pending" in listing
    assert f"  pending     {STRANGER} (sign-up by mail; waits for its confirmation)" in listing
    deliver(open_series, reply(STRANGER, "yes please", subject=f"Re: {ask['Subject']}",
                               in_reply_to=str(ask["Message-ID"])))
    out = inbox(open_series, smtp_server)
    assert f"{STRANGER} joined the list" in out
    listing = invoke(open_series, "subscribers").out
    assert "3 active, 0 suppressed" in listing and "consent <" in listing
    sent = invoke(open_series, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert sent.code == 0, sent.both
    announcements = [m for m in to(smtp_server, STRANGER) if "Mathis" in str(m["Subject"])]
    assert len(announcements) == 1
    assert "List-Unsubscribe" in announcements[0]
    again = invoke(open_series, "send", "--due", "--now", "2024-02-19T09:00", server=smtp_server)
    assert again.code == 0 and len(to(smtp_server, STRANGER)) == 3  # ask, welcome, one mail


def test_twenty_forged_sign_ups_for_one_victim_send_one_confirmation(
        open_series: Path, smtp_server: Server) -> None:
    subscribe(open_series, 2)
    deliver(open_series, *(message(STRANGER, "lm-join@example.org", "subscribe")
                           for _ in range(20)))
    inbox(open_series, smtp_server)
    assert len(to(smtp_server, STRANGER)) == 1
    deliver(open_series, message(STRANGER, "lm-seminar@example.org", "subscribe"))
    out = inbox(open_series, smtp_server, "2024-02-19T10:00")
    assert "not asking" in out and len(to(smtp_server, STRANGER)) == 1  # once a day
    deliver(open_series, message(STRANGER, "lm-seminar@example.org", "subscribe"))
    inbox(open_series, smtp_server, "2024-02-20T10:00")
    assert len(to(smtp_server, STRANGER)) == 2
    listing = invoke(open_series, "subscribers").out
    assert "2 active" in listing  # the file's two; the stranger never answered


def test_a_reply_from_another_address_confirms_nobody(open_series: Path,
                                                      smtp_server: Server) -> None:
    deliver(open_series, message(STRANGER, "lm-join@example.org", "subscribe"))
    inbox(open_series, smtp_server)
    [ask] = to(smtp_server, STRANGER)
    deliver(open_series, reply("attacker@evil.test", "yes", in_reply_to=str(ask["Message-ID"])),
            reply(f"{STRANGER} <attacker@evil.test>", "yes",
                  in_reply_to=str(ask["Message-ID"])))
    out = inbox(open_series, smtp_server)
    assert "joined" not in out
    assert "3 active" not in invoke(open_series, "subscribers").out


def test_leaving_and_coming_back_lifts_the_suppression(open_series: Path,
                                                        smtp_server: Server) -> None:
    people = subscribe(open_series, 2)
    assert invoke(open_series, "send", "2024-02-22", "--today", "2024-02-19",
                  server=smtp_server).code == 0
    header = str(to(smtp_server, people[0])[0]["List-Unsubscribe"])
    token = header.partition("subject=")[2].strip("<>").split("%20")[-1]
    deliver(open_series, unsubscribe(people[0], subject=f"unsubscribe {token}"))
    assert f"suppressed {people[0]}" in inbox(open_series, smtp_server)
    deliver(open_series, message(people[0], "lm-join@example.org", "subscribe"))
    inbox(open_series, smtp_server)
    ask = to(smtp_server, people[0])[-1]
    assert "confirm that you want to join" in str(ask["Subject"])
    deliver(open_series, reply(people[0], "back", in_reply_to=str(ask["Message-ID"])))
    out = inbox(open_series, smtp_server)
    assert "no longer suppressed" in out
    assert "2 active, 0 suppressed" in invoke(open_series, "subscribers").out


def test_a_zone_is_set_only_by_an_answer_to_the_subscribers_own_mail(
        open_series: Path, smtp_server: Server) -> None:
    people = subscribe(open_series, 2)
    assert invoke(open_series, "send", "2024-02-22", "--today", "2024-02-19",
                  server=smtp_server).code == 0
    theirs = str(to(smtp_server, people[0])[0]["Message-ID"])
    others = str(to(smtp_server, people[1])[0]["Message-ID"])
    deliver(open_series,
            reply(people[0], "zone America/New_York\n\nthanks", subject="Re: seminar",
                  in_reply_to=others),  # another subscriber's copy: no proof
            message("x@evil.test", "lm-seminar@example.org", "zone Asia/Tokyo"))
    out = inbox(open_series, smtp_server)
    assert "set " not in out
    deliver(open_series, reply(people[0], "zone america/new_york\n\nthanks",
                               subject="Re: seminar", in_reply_to=theirs),
            reply(people[1], "reminders off", subject="Re: seminar", in_reply_to=others))
    out = inbox(open_series, smtp_server)
    assert f"set {people[0]}'s zone to America/New_York" in out
    assert f"set {people[1]}'s reminders to off" in out
    done = to(smtp_server, people[0])[-1]
    assert "your preferences" in str(done["Subject"])
    listing = invoke(open_series, "subscribers").out
    assert "America/New_York" in listing and "reminders off" in listing
    deliver(open_series, reply(people[0], "zone Mars/Olympus", subject="Re: x",
                               in_reply_to=theirs))
    assert "not a time zone name" in inbox(open_series, smtp_server)


def test_who_turned_reminders_off_gets_no_reminder(open_series: Path,
                                                   smtp_server: Server) -> None:
    people = subscribe(open_series, 2)
    assert invoke(open_series, "send", "2024-02-22", "--today", "2024-02-19",
                  server=smtp_server).code == 0
    deliver(open_series, reply(people[1], "reminders off", subject="Re: seminar",
                               in_reply_to=str(to(smtp_server, people[1])[0]["Message-ID"])))
    inbox(open_series, smtp_server)
    before = len(smtp_server.received)
    reminded = invoke(open_series, "send", "2024-02-22", "--kind", "reminder", "--today",
                      "2024-02-22", server=smtp_server)
    assert reminded.code == 0, reminded.both
    assert [r.rcpt_tos for r in smtp_server.received[before:]] == [[people[0]]]


def _joined(root: Path, server: Server, address: str, now: str = NOW) -> None:
    deliver(root, message(address, "lm-join@example.org", "subscribe"))
    inbox(root, server, now)
    ask = to(server, address)[-1]
    assert "confirm that you want to join" in str(ask["Subject"])
    deliver(root, reply(address, "yes", in_reply_to=str(ask["Message-ID"])))
    assert f"{address} joined the list" in inbox(root, server, now)


def test_export_writes_everyone_and_erase_keeps_only_a_keyed_hash(
        open_series: Path, smtp_server: Server) -> None:
    import csv
    import sqlite3

    people = subscribe(open_series, 1)
    _joined(open_series, smtp_server, STRANGER)
    exported = invoke(open_series, "subscribers", "--export", "everyone.csv")
    assert exported.code == 0, exported.both
    with (open_series / "everyone.csv").open(encoding="utf-8") as stream:
        rows = {row["address"]: row for row in csv.DictReader(stream)}
    assert rows[STRANGER]["source"] == "sign-up by mail" and rows[STRANGER]["consent"]
    assert rows[people[0]]["source"] == "subscribers.txt:1"
    erased = invoke(open_series, "subscribers", "--erase", STRANGER)
    assert erased.code == 0, erased.both
    assert STRANGER not in invoke(open_series, "subscribers").out
    with sqlite3.connect(open_series / ".state" / "ledger.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert STRANGER not in dump
    kept = [p for p in (open_series / ".state").rglob("*") if p.is_file()]
    assert not [p for p in kept if STRANGER.encode() in p.read_bytes()]
    assert invoke(open_series, "subscribers", "--erase", "<>").code == 2
    _joined_again = invoke(open_series, "send", "2024-02-22", "--today", "2024-02-19",
                           server=smtp_server)
    assert _joined_again.code == 0, _joined_again.both
    assert [m for m in to(smtp_server, STRANGER) if "Mathis" in str(m["Subject"])] == []
    assert len([m for m in to(smtp_server, people[0]) if "Mathis" in str(m["Subject"])]) == 1
    before = len(to(smtp_server, STRANGER))
    deliver(open_series, message(STRANGER, "lm-join@example.org", "subscribe"))
    assert "erased at its request" in inbox(open_series, smtp_server, "2024-02-25T08:00")
    assert len(to(smtp_server, STRANGER)) == before  # not even a confirmation


@pytest.mark.parametrize(("day", "series_time", "theirs"), [
    ("2024-02-22", "15:00 CET", "09:00 EST"),  # both on winter time
    ("2024-03-14", "15:00 CET", "10:00 EDT"),  # New York has moved to summer time, not we
    ("2024-04-04", "16:00 CEST", "10:00 EDT")])  # both on summer time
def test_a_subscriber_reads_the_time_in_their_own_zone_across_summer_time(
        open_series: Path, smtp_server: Server, day: str, series_time: str,
        theirs: str) -> None:
    people = subscribe(open_series, 3)
    assert invoke(open_series, "send", "2024-03-28", "--today", "2024-03-25",
                  server=smtp_server).code == 0
    for who, zone in ((people[0], "America/New_York"), (people[2], "Europe/Berlin")):
        deliver(open_series, reply(who, f"zone {zone}", subject="Re: seminar",
                                   in_reply_to=str(to(smtp_server, who)[0]["Message-ID"])))
    inbox(open_series, smtp_server)
    talk = next(p.stem for p in (open_series / "seminars").glob(f"{day}-*.yaml"))
    before = len(smtp_server.received)
    earlier = (date.fromisoformat(day) - timedelta(days=3)).isoformat()
    sent = invoke(open_series, "send", talk, "--today", earlier, server=smtp_server)
    assert sent.code == 0, sent.both
    got = {r.rcpt_tos[0]: r.message for r in smtp_server.received[before:]}
    body = {who: m.get_body(("plain",)).get_content() for who, m in got.items()}  # type: ignore[union-attr]
    assert f"{series_time} ({theirs})" in body[people[0]], body[people[0]]
    assert "(" not in body[people[1]].split("Date:")[1].splitlines()[0]  # the series' zone
    assert body[people[2]] == body[people[1]]  # Berlin reads as Stockholm: one rendering
    html = got[people[0]].get_body(("html",)).get_content()  # type: ignore[union-attr]
    their_start, mark = theirs.split()
    assert f"({their_start}\u2013" in html and f" {mark})" in html
    ids = {str(m["Message-ID"]) for m in got.values()}
    assert len(ids) == 3


def test_the_export_is_text_to_a_spreadsheet(open_series: Path) -> None:
    import csv

    write(open_series / "subscribers.txt", '"=HYPERLINK(1)" <eq@example.org>\n')
    edit(open_series / "seminars" / "series.yaml",
         ("  to: lm-seminar-list@example.org\n", "  recipients_file: subscribers.txt\n"))
    assert invoke(open_series, "subscribers", "--export", "out.csv").code == 0
    with (open_series / "out.csv").open(encoding="utf-8") as stream:
        [row] = list(csv.DictReader(stream))
    assert row["name"] == "'=HYPERLINK(1)" and row["address"] == "eq@example.org"


def test_with_the_inbox_as_the_sign_up_address_answers_stay_answers(
        series: Path, smtp_server: Server) -> None:
    """The README's own set-up: mail.subscribe is the inbox's address, to which speakers and
    subscribers also reply. A reply to announce's mail is never a sign-up."""
    from mailbox_samples import FREDRIK, SPEAKER_RECORD, TALK

    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", "  inbox:\n    maildir: inbox\n  subscribe: mailto:lm-seminar@example.org\n"
                       "  smtp:\n"))
    mailbox.Maildir(series / "inbox", create=True)
    write(series / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD)
    people = subscribe(series, 1)
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-19",
                  server=smtp_server).code == 0
    assert invoke(series, "ask", TALK, "--today", "2024-02-29", server=smtp_server).code == 0
    request = str(to(smtp_server, FREDRIK)[-1]["Message-ID"])
    deliver(series, reply(FREDRIK, "Title: Cells at scale\n", in_reply_to=request,
                          subject="subscribe"),
            reply(people[0], "zone Asia/Tokyo", subject="subscribe",
                  in_reply_to=str(to(smtp_server, people[0])[0]["Message-ID"])))
    out = inbox(series, smtp_server, "2024-03-01T08:00")
    assert "sign-up" not in out, out
    assert f"set {people[0]}'s zone to Asia/Tokyo" in out
    assert "filled title" in out


def test_a_flood_of_sign_ups_asks_twenty_a_run_and_the_weekly_mail_goes(
        open_series: Path, smtp_server: Server) -> None:
    people = subscribe(open_series, 2)
    deliver(open_series, *(message(f"stranger{i}@victims.example", "lm-join@example.org",
                                   "subscribe") for i in range(30)))
    sent = invoke(open_series, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert sent.code == 0, sent.both
    asked = [r for r in smtp_server.received if r.rcpt_tos[0].endswith("@victims.example")]
    assert len(asked) == 20
    assert all(len(to(smtp_server, p)) == 1 for p in people)
    invoke(open_series, "send", "--due", "--now", "2024-02-19T08:15", server=smtp_server)
    asked = [r for r in smtp_server.received if r.rcpt_tos[0].endswith("@victims.example")]
    assert len(asked) == 30


def test_a_member_who_signed_up_left_and_comes_back_by_mail_is_on_the_list_again(
        open_series: Path, smtp_server: Server) -> None:
    _joined(open_series, smtp_server, STRANGER)
    assert invoke(open_series, "send", "2024-02-22", "--today", "2024-02-19",
                  server=smtp_server).code == 0
    copy = str(to(smtp_server, STRANGER)[-1]["Message-ID"])
    deliver(open_series, unsubscribe(STRANGER, in_reply_to=copy))
    assert f"suppressed {STRANGER}" in inbox(open_series, smtp_server, "2024-02-20T08:00")
    _joined(open_series, smtp_server, STRANGER, "2024-02-21T08:00")
    assert "2 active, 0 suppressed" in invoke(open_series, "subscribers").out  # and mail.to
