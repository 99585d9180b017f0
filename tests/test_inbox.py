"""``announce inbox`` (contract §7): what comes back fills records and keeps the list clean.

The organiser's mailbox is a Maildir here (a folder, as Dovecot keeps it) and a real Dovecot
over IMAP in ``test_imap.py``; the messages are those of ``mailbox_samples``, written as real
clients and MTAs write them.
"""

from __future__ import annotations

import mailbox
import sqlite3
from pathlib import Path

import pytest
from mailbox_samples import (
    ANN,
    FREDRIK,
    SPEAKER_RECORD,
    TALK,
    dsn,
    out_of_office,
    png,
    reply,
    unsubscribe,
)
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server, parts

from mailer.series.store import Store

NOW = "2024-03-01T08:00"  # the talk (2024-03-21) is to come
FORM = ("Title: Cells at scale\n\nAbstract: We image a million cells.\nIn one night.\n\n"
        "About you: Fredrik builds microscopes.\n\nBest regards,\nFredrik\n")


@pytest.fixture
def organiser(series: Path) -> Path:
    """The bundled series with a Maildir inbox, three subscribers and a talk with speakers."""
    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", "  inbox:\n    maildir: inbox\n  smtp:\n"))
    mailbox.Maildir(series / "inbox", create=True)
    write(series / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD)
    return series


def deliver(root: Path, *messages: bytes) -> None:
    box = mailbox.Maildir(root / "inbox", create=False)
    for data in messages:
        box.add(data)


def asked(root: Path, server: Server, speaker: str) -> str:
    """Ask the talk's speakers; return the Message-ID of ``speaker``'s request (a genuine
    reply names it)."""
    result = invoke(root, "ask", TALK, "--today", "2024-02-29", server=server)
    assert result.code == 0, result.both
    return copies(server)[speaker]


def copies(server: Server) -> dict[str, str]:
    """The Message-ID of the latest copy each address got."""
    return {r.rcpt_tos[0]: str(r.message["Message-ID"]) for r in server.received}


def snapshot(root: Path) -> dict[str, object]:
    """Every file of the series folder (records, photos, the Maildir), and what the ledger
    holds (its rows: SQLite rewrites its header on every opening)."""
    files: dict[str, object] = {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
        if p.is_file() and ".state" not in p.parts}
    with sqlite3.connect(root / ".state" / "ledger.sqlite3") as db:
        files["ledger"] = list(db.iterdump())
    return files


def test_a_reply_fills_the_record_keeps_its_comments_and_stops_the_chase(
        organiser: Path, smtp_server: Server) -> None:
    request = asked(organiser, smtp_server, FREDRIK)
    deliver(organiser, reply(f"Fredrik Gustafsson <{FREDRIK}>", FORM + "\nOn Thu, 29 Feb 2024 "
                             "Learning Machines wrote:\n> Title:\n> Abstract:\n", photo=png(),
                             in_reply_to=request))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert f"{TALK}: filled title, abstract, bio, photo from {FREDRIK}'s reply" in result.out
    text = (organiser / "seminars" / f"{TALK}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Fredrik's talk: asked by announce; keep this comment\n")
    assert "  # Fredrik first: he asked for it\n  - name: Fredrik Gustafsson\n" in text
    talk = Store(organiser).find(TALK)
    assert talk.title == "Cells at scale"
    assert talk.abstract == "We image a million cells.\nIn one night."
    assert talk.bio == "Fredrik builds microscopes."
    assert talk.photo == f"photos/{TALK}.png" and (organiser / talk.photo).is_file()
    assert invoke(organiser, "check").code == 0
    before = len(smtp_server.received)
    chased = invoke(organiser, "send", "--due", "--now", "2024-03-07T08:30", server=smtp_server)
    assert chased.code == 0, chased.both
    assert not [r for r in smtp_server.received[before:] if r.rcpt_tos in ([ANN], [FREDRIK])]
    box = mailbox.Maildir(organiser / "inbox", create=False)
    assert len(box) == 0 and len(box.get_folder("announce.done")) == 1
    again = invoke(organiser, "inbox", "--now", NOW)
    assert "0 new message(s)" in again.out


@pytest.mark.parametrize("style", ["gmail-html", "outlook", "iso-8859-1", "base64"])
def test_replies_as_real_clients_send_them(organiser: Path, style: str,
                                           smtp_server: Server) -> None:
    request = asked(organiser, smtp_server, ANN)
    quote = "\n\nOn Thu, Feb 29, 2024 at 8:30 AM Learning Machines wrote:\n> Title:\n"
    outlook = ("\n\n________________________________\nFrom: Learning Machines Seminar "
               "<lm-seminar@example.org>\nSent: Thursday, February 29, 2024 08:30\nTo: Ann Ek\n"
               "Subject: Your Learning Machines seminar\n\nTitle:\n\nAbstract:\n")
    body = "Title: Études on graphs\n\nAbstract: Graphs, naïvely.\n\nAbout you: Ann."
    data = {
        "gmail-html": reply(ANN, "", html=f"<div dir=ltr>{body.replace(chr(10), '<br>')}</div>"
                            "<div class=gmail_quote><blockquote>Title:<br>Abstract:"
                            "</blockquote></div>", in_reply_to=request),
        "outlook": reply(ANN, body + outlook, in_reply_to=request),
        "iso-8859-1": reply(ANN, body + quote, charset="iso-8859-1", in_reply_to=request),
        "base64": reply(ANN, body + quote, cte="base64", in_reply_to=request),
    }[style]
    deliver(organiser, data)
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    talk = Store(organiser).find(TALK)
    assert (talk.title, talk.abstract, talk.bio) == ("Études on graphs", "Graphs, naïvely.",
                                                     "Ann.")


def test_a_field_with_a_value_is_never_overwritten(organiser: Path,
                                                   smtp_server: Server) -> None:
    request = asked(organiser, smtp_server, ANN)
    write(organiser / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD + "title: Our title\n")
    deliver(organiser, reply(ANN, "Title: Their title\n", in_reply_to=request))
    result = invoke(organiser, "inbox", "--now", NOW)
    assert "the reply's title differs from the record's; the record's is kept" in result.out
    assert "fills nothing the record lacks; left unread" in result.out
    assert Store(organiser).find(TALK).title == "Our title"
    assert len(mailbox.Maildir(organiser / "inbox", create=False)) == 1  # still there, unread


def test_bounces_and_unsubscribes_keep_the_list_clean(organiser: Path,
                                                      smtp_server: Server) -> None:
    people = subscribe(organiser, 4)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    ids = copies(smtp_server)
    assert invoke(organiser, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    second = copies(smtp_server)  # delays count once per mail: two mails delayed
    deliver(organiser, dsn(people[0], "5.1.1", original_id=ids[people[0]]),
            dsn(people[1], "4.2.2", style="exchange", original_id=ids[people[1]]),
            dsn(people[1], "4.2.2", style="gmail", original_id=second[people[1]]),
            out_of_office(people[3]), unsubscribe(people[2], in_reply_to=ids[people[2]]),
            dsn("stranger@example.net", "5.1.1"))
    dry = invoke(organiser, "inbox", "--dry-run", "--now", NOW)
    assert f"would suppress {people[0]}" in dry.out
    before = snapshot(organiser)
    assert invoke(organiser, "inbox", "--dry-run", "--now", NOW).code == 0
    assert snapshot(organiser) == before  # nothing flagged, moved, edited or recorded
    result = invoke(organiser, "inbox", "--now", NOW)
    assert result.code == 0, result.both
    assert f"suppressed {people[0]} (bounced: permanent failure)" in result.out
    assert f"temporary failure 2 of 3 for {people[1]}" in result.out
    assert f"suppressed {people[2]} (unsubscribed)" in result.out
    assert "6 new message(s); acted on 4, left 2 alone" in result.out
    assert invoke(organiser, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    deliver(organiser, dsn(people[1], "4.2.2", original_id=copies(smtp_server)[people[1]]))
    assert f"suppressed {people[1]} (bounced: 3 temporary failures)" in\
        invoke(organiser, "inbox", "--now", NOW).out
    listed = invoke(organiser, "subscribers").out
    assert "1 active, 3 suppressed" in listed and f"active      {people[3]}" in listed
    before = len(smtp_server.received)
    sent = invoke(organiser, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                  server=smtp_server)
    assert sent.code == 0, sent.both
    assert [r.rcpt_tos for r in smtp_server.received[before:]] == [[people[3]]]
    assert "3 suppressed address(es) skipped" in sent.both
    restored = invoke(organiser, "subscribers", "--restore", people[2])
    assert restored.code == 0 and "restored" in restored.out
    assert "2 active, 2 suppressed" in invoke(organiser, "subscribers").out


def test_send_due_reads_the_inbox_first(organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    assert invoke(organiser, "send", "--due", "--now", "2024-02-19T08:00",
                  server=smtp_server).code == 0
    deliver(organiser, dsn(people[0], "5.1.1", original_id=copies(smtp_server)[people[0]]))
    edit(organiser / "seminars" / "2024-02-22-mathis.yaml", ('time: "15:00"', 'time: "16:00"'))
    before = len(smtp_server.received)
    result = invoke(organiser, "send", "--due", "--now", "2024-02-19T09:00", server=smtp_server)
    assert result.code == 0, result.both
    assert [r.rcpt_tos for r in smtp_server.received[before:]] == [[people[1]]]  # the update
    assert "Moved:" in str(smtp_server.received[-1].message["Subject"])
    assert parts(smtp_server.received[-1].message)["text/plain"]


def test_an_unsubscribe_is_confirmed_once_when_asked_to(organiser: Path,
                                                        smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    edit(organiser / "seminars" / "series.yaml",
         ("  inbox:\n", "  confirm_unsubscribe: true\n  inbox:\n"))
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    deliver(organiser, unsubscribe(people[1], subject="unsubscribe", to="lm-seminar@example.org",
                                   in_reply_to=copies(smtp_server)[people[1]]))
    before = len(smtp_server.received)
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert f"sent {people[1]} 'Learning Machines: you are unsubscribed'" in result.out
    [sent] = smtp_server.received[before:]
    assert sent.rcpt_tos == [people[1]]
    assert str(sent.message["Subject"]) == "Learning Machines: you are unsubscribed"
    assert "List-Id" not in sent.message
    assert invoke(organiser, "inbox", "--now", NOW, server=smtp_server).code == 0
    assert len(smtp_server.received) == before + 1


def test_a_suppression_is_said_once_not_on_every_send(organiser: Path,
                                                      smtp_server: Server) -> None:
    people = subscribe(organiser, 3)
    assert invoke(organiser, "send", "--due", "--now", "2024-02-19T08:00",
                  server=smtp_server).code == 0
    deliver(organiser, dsn(people[0], "5.1.1", original_id=copies(smtp_server)[people[0]]))
    edit(organiser / "seminars" / "2024-02-22-mathis.yaml", ('time: "15:00"', 'time: "16:00"'))
    first = invoke(organiser, "send", "--due", "--quiet", "--now", "2024-02-19T09:00",
                   server=smtp_server)
    assert "1 suppressed address(es) skipped" in first.err, first.both
    edit(organiser / "seminars" / "2024-02-22-mathis.yaml", ('time: "16:00"', 'time: "17:00"'))
    second = invoke(organiser, "send", "--due", "--quiet", "--now", "2024-02-19T10:00",
                    server=smtp_server)
    assert second.code == 0 and second.both == "", second.both  # quiet means quiet
    assert "suppressed  " + people[0] in invoke(organiser, "subscribers").out


def test_list_and_subscribers_show_times_in_the_series_zone(organiser: Path,
                                                            smtp_server: Server) -> None:
    import json
    import re

    people = subscribe(organiser, 2)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    deliver(organiser, dsn(people[0], "5.1.1", original_id=copies(smtp_server)[people[0]]))
    assert invoke(organiser, "inbox", "--now", NOW).code == 0
    listed = invoke(organiser, "list", "--today", "2024-02-20").out
    assert re.search(r"announcement sent \d{4}-\d\d-\d\d \d\d:\d\d CES?T to 2", listed), listed
    rows = json.loads(invoke(organiser, "list", "--today", "2024-02-20", "--json").out)
    last = rows[0]["sent"]["announcement"]["last"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", last), last
    suppressed = invoke(organiser, "subscribers").out
    assert re.search(rf"suppressed  {people[0]}: .*, \d{{4}}-\d\d-\d\d \d\d:\d\d CES?T ",
                     suppressed), suppressed
