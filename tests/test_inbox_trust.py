"""The inbox trusts no stranger (contract §7): only mail that proves it answers what announce sent
to that address changes anything, one bad message is never fatal, and the weekly mail goes
whatever the inbox holds.

The mailbox is a Maildir; the mail announce sends goes to the tests' SMTP server, whose copies
give the Message-IDs a genuine bounce or reply names.
"""

from __future__ import annotations

import io
import json
import mailbox
import random
import shutil
import signal
import time
import urllib.parse
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from mailbox_samples import FREDRIK, SPEAKER_RECORD, TALK, dsn, png, reply, unsubscribe
from PIL import Image
from runners import invoke, popen, run
from seriesfiles import edit, subscribe, write
from smtpserver import Server

from mailer.series.store import Store

NOW = "2024-03-01T08:00"
FORM = ("Title: Cells at scale\n\nAbstract: We image a million cells.\n\n"
        "About you: Fredrik builds microscopes.\n")


@pytest.fixture
def organiser(series: Path) -> Path:
    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", "  inbox:\n    maildir: inbox\n  smtp:\n"))
    mailbox.Maildir(series / "inbox", create=True)
    write(series / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD)
    return series


def deliver(root: Path, *messages: bytes) -> None:
    box = mailbox.Maildir(root / "inbox", create=False)
    for data in messages:
        box.add(data)


def unread(root: Path) -> int:
    return len(mailbox.Maildir(root / "inbox", create=False))


def sent_to(server: Server, address: str) -> list[EmailMessage]:
    return [r.message for r in server.received if r.rcpt_tos == [address]]


def asked(root: Path, server: Server, talk: str = TALK) -> str:
    """Send the speakers' request; return the Message-ID of Fredrik's copy."""
    result = invoke(root, "ask", talk, "--today", "2024-02-29", server=server)
    assert result.code == 0, result.both
    return str(sent_to(server, FREDRIK)[-1]["Message-ID"])


def test_a_forged_bounce_suppresses_nobody_a_genuine_one_its_recipient_only(
        organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 5)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    ids = {a: str(sent_to(smtp_server, a)[0]["Message-ID"]) for a in people}
    deliver(organiser, *(dsn(a, "5.1.1", original_id=make_msgid()) for a in people))
    deliver(organiser, dsn(people[1], "5.1.1", original_id=ids[people[0]]))  # not its copy
    result = invoke(organiser, "inbox", "--now", NOW)
    assert result.code == 0, result.both
    assert "suppressed" not in result.out
    assert result.out.count("returns no mail announce sent; left alone") == 5
    assert f"names {people[1]}, to whom the mail it returns did not go" in result.out
    assert "5 active, 0 suppressed" in invoke(organiser, "subscribers").out
    assert unread(organiser) == 6
    deliver(organiser, dsn(people[2], "5.1.1", original_id=ids[people[2]]))
    genuine = invoke(organiser, "inbox", "--now", NOW)
    assert f"suppressed {people[2]} (bounced: permanent failure)" in genuine.out
    assert "left alone" not in genuine.out  # the forged ones were named once, not again
    assert "4 active, 1 suppressed" in invoke(organiser, "subscribers").out


def _hostile() -> list[bytes]:
    """Messages that broke the email package or the record writer."""
    plain = ("To: lm-seminar@example.org\r\nSubject: hi\r\n\r\nbody\r\n")
    found = [f"From: {bad}\r\nMessage-ID: <h{n}@evil.test>\r\n{plain}".encode()
             for n, bad in enumerate(['"', "<", "a@["])]
    found.append(f"From: x@evil.test\r\nMessage-ID: <\r\n{plain}".encode())
    found.append(b'From: x@evil.test\r\nTo: "\r\nSubject: x\r\n\r\nbody\r\n')
    deep = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                    for i in range(3000))
    found.append(b"From: x@evil.test\r\nMIME-Version: 1.0\r\n" + deep + b"x\r\n")
    found.append(b"From: x@evil.test\r\nSubject: [learning-machines] Re\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: text/plain; charset=x-klingon\r\n\r\nTitle: qapla\r\n")
    found.append(b"From: x@evil.test\r\nSubject: [learning-machines] Re\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: text/plain; charset=utf-7\r\n\r\nTitle: +2D3-\r\n")
    return found


def test_hostile_messages_are_named_once_and_the_announcement_goes(
        organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 3)
    deliver(organiser, *_hostile())
    result = invoke(organiser, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert result.code == 0, result.both
    assert "Traceback" not in result.both
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos) == sorted(people)
    assert "8 new message(s); acted on 0, left 8 alone" in result.out
    # Unreadable headers claim nothing: counted, left alone. What failed to be read, and what
    # claims to answer announce without proof, is named (under --quiet too).
    assert "RecursionError" in result.err
    assert result.err.count("answers no request announce sent") == 2
    again = invoke(organiser, "inbox", "--now", "2024-02-19T09:00")
    assert again.code == 0 and "evil.test" not in again.both  # said once
    assert unread(organiser) == 8


def test_only_a_reply_to_the_request_fills_the_record_and_the_speaker_sees_what_was_taken(
        organiser: Path, smtp_server: Server) -> None:
    request = asked(organiser, smtp_server)
    phishing = "Title: Win a prize\n\nAbstract: Log in at https://evil.test\n"
    deliver(organiser,
            reply(FREDRIK, phishing),  # the token in the subject, no In-Reply-To
            reply(f"{FREDRIK} <attacker@evil.test>", phishing, in_reply_to=request),
            reply(f'"{FREDRIK}" <attacker@evil.test>', phishing, in_reply_to=request),
            reply(FREDRIK, phishing, in_reply_to=make_msgid()),
            reply(FREDRIK, phishing, in_reply_to=request, headers=(
                "Authentication-Results: mx.example.org; dkim=fail; dmarc=fail "
                "header.from=example.org",)))
    forged = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert forged.code == 0, forged.both
    assert Store(organiser).find(TALK).title is None
    assert "answers no request announce sent" in forged.out
    assert "found forged" in forged.out
    assert unread(organiser) == 5
    before = len(smtp_server.received)
    deliver(organiser, reply(f"Fredrik <{FREDRIK}>", FORM + "\nBest,\nFredrik\n",
                             in_reply_to=request, photo=png(), photo_type=(
                                 "application", "octet-stream")))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    talk = Store(organiser).find(TALK)
    assert (talk.title, talk.abstract, talk.bio) == ("Cells at scale",
                                                     "We image a million cells.",
                                                     "Fredrik builds microscopes.")
    assert talk.photo == f"photos/{TALK}.png"
    assert invoke(organiser, "check").code == 0
    [receipt] = smtp_server.received[before:]
    assert receipt.rcpt_tos == [FREDRIK]
    message = receipt.message
    assert str(message["Auto-Submitted"]) == "auto-replied" and "List-Id" not in message
    body = message.get_body(("plain",))
    assert body is not None and "Cells at scale" in body.get_content()
    assert [p.get_content_type() for p in message.iter_attachments()] == ["image/jpeg"]
    # A reply to the receipt counts as the speaker's too: a different title is reported.
    deliver(organiser, reply(FREDRIK, "Title: Cells at a larger scale\n",
                             in_reply_to=str(message["Message-ID"])))
    corrected = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert "the reply's title differs from the record's" in corrected.out


def test_two_replies_in_one_run_keep_the_first_and_name_the_second(
        organiser: Path, smtp_server: Server) -> None:
    """The second reply is judged against the record as the first left it: nothing the first
    filled is overwritten, and its photo is not left without a record naming it."""
    request = asked(organiser, smtp_server)
    deliver(organiser, reply(FREDRIK, FORM, in_reply_to=request, photo=png()),
            reply(FREDRIK, "Title: Something else\n", in_reply_to=request, photo=png()))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    talk = Store(organiser).find(TALK)
    assert talk.title in ("Cells at scale", "Something else"), result.out  # the first read
    assert (talk.abstract, talk.photo) == ("We image a million cells.", f"photos/{TALK}.png")
    assert "the reply's title differs from the record's" in result.out
    assert sorted(p.name for p in (organiser / "photos").iterdir()) == [f"{TALK}.png"]


def test_an_unsubscribe_needs_proof_a_stranger_gets_one_confirmation_a_day(
        organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 3)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    header = str(sent_to(smtp_server, people[0])[0]["List-Unsubscribe"])
    assert header != str(sent_to(smtp_server, people[1])[0]["List-Unsubscribe"])
    subject = urllib.parse.unquote(header.strip("<>").partition("subject=")[2])
    deliver(organiser, *(unsubscribe(people[1], subject="unsubscribe") for _ in range(20)))
    deliver(organiser, unsubscribe("someone@elsewhere.test", to="lm-seminar-list-leave@example.org",
                                   subject=subject))  # people[0]'s token, from another box
    before = len(smtp_server.received)
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert f"suppressed {people[0]} (unsubscribed)" in result.out
    asks = [r for r in smtp_server.received[before:] if r.rcpt_tos == [people[1]]]
    assert len(asks) == 1 and len(smtp_server.received) == before + 1
    assert "confirm" in str(asks[0].message["Subject"])
    assert "2 active, 1 suppressed" in invoke(organiser, "subscribers").out
    deliver(organiser, unsubscribe(people[1], subject="Re: confirm",
                                   in_reply_to=str(asks[0].message["Message-ID"])))
    confirmed = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert f"suppressed {people[1]} (unsubscribed)" in confirmed.out
    assert "1 active, 2 suppressed" in invoke(organiser, "subscribers").out


def test_who_left_stays_left_when_the_state_folder_is_lost(organiser: Path,
                                                          smtp_server: Server) -> None:
    people = subscribe(organiser, 3)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    header = str(sent_to(smtp_server, people[0])[0]["List-Unsubscribe"])
    subject = urllib.parse.unquote(header.strip("<>").partition("subject=")[2])
    deliver(organiser, unsubscribe(people[0], subject=subject))
    assert f"suppressed {people[0]}" in invoke(organiser, "inbox", "--now", NOW).out
    log = (organiser / "seminars" / ".suppressed.log").read_text(encoding="utf-8")
    assert people[0] not in log and "unsubscribed" in log  # a hash, not the address
    shutil.rmtree(organiser / ".state")
    listing = invoke(organiser, "subscribers").out
    assert "2 active, 1 suppressed" in listing and "state folder does not know" in listing
    before = len(smtp_server.received)
    sent = invoke(organiser, "send", "2024-03-14", "--today", "2024-03-11", server=smtp_server)
    assert sent.code == 0, sent.both
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received[before:]) == people[1:]
    restored = invoke(organiser, "subscribers", "--restore", people[0])
    assert restored.code == 0, restored.both
    assert "3 active, 0 suppressed" in invoke(organiser, "subscribers").out


def test_a_broken_inbox_does_not_stop_the_weekly_mail(organiser: Path,
                                                      smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    edit(organiser / "seminars" / "series.yaml", ("maildir: inbox", "maildir: gone"))
    result = invoke(organiser, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert result.err.splitlines()[0].startswith("announce: the inbox was not read")
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos) == sorted(people)
    assert result.code == 2  # the inbox's problem still shows in the exit code


def _noise_png(side: int) -> bytes:
    image = Image.frombytes("RGB", (side, side), random.Random(7).randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _consistent(root: Path) -> bool:
    """The photo is there only when the record names it (or the journal that rolls it back
    does)."""
    named = Store(root).find(TALK).photo
    photos = sorted(p.name for p in (root / "photos").glob(f"{TALK}.*"))\
        if (root / "photos").is_dir() else []
    journal = root / ".state" / "inbox-journal.json"
    if named is not None:
        return photos == [Path(named).name]
    return not photos or (journal.exists() and photos[0] in journal.read_text())


def test_a_kill_at_any_moment_never_leaves_a_photo_without_its_record(
        organiser: Path, smtp_server: Server, tmp_path: Path) -> None:
    request = asked(organiser, smtp_server)
    deliver(organiser, reply(FREDRIK, FORM, in_reply_to=request, photo=_noise_png(1400)))
    template = tmp_path / "template"
    shutil.copytree(organiser, template)
    started = time.monotonic()
    whole = run(organiser, "inbox", "--now", NOW, server=smtp_server)
    took = time.monotonic() - started
    assert whole.code == 0 and "filled title, abstract, bio, photo" in whole.out, whole.both
    for step in range(1, 9):
        shutil.rmtree(organiser)
        shutil.copytree(template, organiser)
        process = popen(organiser, "inbox", "--now", NOW, server=smtp_server)
        time.sleep(took * step / 9)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert _consistent(organiser), f"after a kill at {step}/9 of the run"
        again = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
        assert again.code == 0, again.both
        talk = Store(organiser).find(TALK)
        assert talk.photo == f"photos/{TALK}.png" and (organiser / talk.photo).is_file()
        assert talk.title == "Cells at scale" and _consistent(organiser)
        assert not (organiser / ".state" / "inbox-journal.json").exists()


def test_a_run_stopped_between_photo_and_record_is_rolled_back_by_the_next(
        organiser: Path, smtp_server: Server) -> None:
    request = asked(organiser, smtp_server)
    photo = organiser / "photos" / f"{TALK}.png"
    write(organiser / ".state" / "inbox-journal.json", json.dumps(
        {"record": f"seminars/{TALK}.yaml", "photo": f"photos/{TALK}.png"}))
    photo.parent.mkdir()
    photo.write_bytes(png())  # as a kill after the photo, before the record, leaves it
    deliver(organiser, reply(FREDRIK, FORM, in_reply_to=request, photo=png(96)))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert f"removed photos/{TALK}.png: a run stopped before its record named it" in result.out
    assert Store(organiser).find(TALK).photo == f"photos/{TALK}.png"
    assert Image.open(photo).size == (96, 96)  # the reply's own photo, applied afresh


def test_a_reply_that_would_break_the_record_changes_nothing(organiser: Path,
                                                            smtp_server: Server) -> None:
    request = asked(organiser, smtp_server)
    before = (organiser / "seminars" / f"{TALK}.yaml").read_bytes()
    deliver(organiser, reply(FREDRIK, "Title: A bell\x07 rings\n", in_reply_to=request,
                             photo=png()))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert "could not be used" in result.out
    assert (organiser / "seminars" / f"{TALK}.yaml").read_bytes() == before
    assert not (organiser / "photos").exists() or not list((organiser / "photos").iterdir())


def test_a_heic_photo_is_converted_and_a_broken_one_refused(organiser: Path,
                                                            smtp_server: Server) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 120, 200)).save(out, format="HEIF")
    request = asked(organiser, smtp_server)
    broken = png(2000)[:3000]  # truncated
    deliver(organiser, reply(FREDRIK, FORM, in_reply_to=request, photo=broken))
    refused = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert "the photo from fredrik@example.org was not used" in refused.out
    assert Store(organiser).find(TALK).photo is None
    deliver(organiser, reply(FREDRIK, "", in_reply_to=request, photo=out.getvalue(),
                             photo_type=("image", "heic")))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    talk = Store(organiser).find(TALK)
    assert talk.photo == f"photos/{TALK}.jpg"
    assert Image.open(organiser / talk.photo).format == "JPEG"
    assert invoke(organiser, "check").code == 0


def test_a_reply_fills_the_placeholders_announce_new_wrote(organiser: Path,
                                                           smtp_server: Server) -> None:
    (organiser / "seminars" / f"{TALK}.yaml").unlink()
    made = invoke(organiser, "new", "2024-03-21", "--speaker", "Fredrik Gustafsson",
                  "--email", FREDRIK)
    assert made.code == 0, made.both
    [record] = (organiser / "seminars").glob("2024-03-21-*.yaml")
    assert "# title: \n" in record.read_text() and "# abstract: |\n" in record.read_text()
    request = asked(organiser, smtp_server, record.stem)
    deliver(organiser, reply(FREDRIK, FORM, in_reply_to=request))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    lines = record.read_text().splitlines()
    assert "# title: " not in lines and "# abstract: |" not in lines and "# bio: |" not in lines
    title, time_hint = lines.index("title: Cells at scale"), lines.index('# time: "15:00"      '
                                                                        "# when not the series'"
                                                                        " default_time")
    assert title < time_hint < lines.index("abstract: |") < lines.index("bio: |")
    assert lines[-1].startswith("status:")  # filled where the placeholders were, not below
    assert invoke(organiser, "check").code == 0


def test_one_copy_tells_nothing_of_anothers_id(organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 6)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    mine = str(sent_to(smtp_server, people[0])[0]["Message-ID"])
    stem = mine.strip("<>").split("@")[0].rsplit(".", 2)[0]  # the run's stem, as all share
    guesses = " ".join(f"<{stem}.{n}@example.org>" for n in range(12))  # ids as they were
    forged = EmailMessage()
    forged["From"] = people[2]
    forged["To"] = "lm-seminar-list-leave@example.org"
    forged["Subject"] = "unsubscribe"
    forged["References"] = guesses
    forged.set_content("bye\n")
    deliver(organiser, forged.as_bytes(), dsn(people[3], "5.1.1", original_id=guesses))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert "suppressed" not in result.out
    assert "6 active, 0 suppressed" in invoke(organiser, "subscribers").out


def test_the_list_address_is_never_suppressed_by_the_inbox(organiser: Path,
                                                           smtp_server: Server) -> None:
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    [copy] = smtp_server.received
    the_list = copy.rcpt_tos[0]
    deliver(organiser, dsn(the_list, "5.1.1", original_id=str(copy.message["Message-ID"])),
            unsubscribe(the_list, in_reply_to=str(copy.message["Message-ID"])))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert f"for the list address {the_list}: not suppressed" in result.out
    assert f"an unsubscribe for the list address {the_list}" in result.out
    assert "0 suppressed" in invoke(organiser, "subscribers").out


def test_a_handled_message_nested_thousands_deep_moves_like_any_other(
        organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    deep = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                    for i in range(900))
    deliver(organiser, f"From: {people[0]}\r\nTo: lm-seminar-list-leave@example.org\r\n"
            "Subject: unsubscribe\r\nMessage-ID: <deep@x.test>\r\nMIME-Version: 1.0\r\n"
            .encode() + deep + b"x\r\n")
    for hour in ("08:00", "09:00"):
        result = invoke(organiser, "send", "--due", "--now", f"2024-02-19T{hour}",
                        server=smtp_server)
        assert result.code == 0 and "Traceback" not in result.both, result.both
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos if "Welcome" in
                  r.message.get_body(("plain",)).get_content()) == sorted(people)
    assert len(list((organiser / "inbox" / ".announce.done" / "cur").iterdir())) == 1


def test_delay_notices_for_one_mail_count_once(organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    copy = str(sent_to(smtp_server, people[0])[0]["Message-ID"])
    deliver(organiser, *(dsn(people[0], "4.2.2", original_id=copy) for _ in range(3)))
    result = invoke(organiser, "inbox", "--now", NOW)
    assert result.out.count(f"temporary failure 1 of 3 for {people[0]}") == 3
    assert "suppressed" not in result.out


def test_a_brief_shared_with_the_host_proves_no_speaker(organiser: Path,
                                                       smtp_server: Server) -> None:
    record = organiser / "seminars" / f"{TALK}.yaml"
    record.write_text(SPEAKER_RECORD + "title: Cells\nabstract: A.\nbio: B.\n"
                      "host: {name: Olof, email: olof@example.org}\n", encoding="utf-8")
    briefed = invoke(organiser, "send", TALK, "--kind", "brief", "--today", "2024-03-20",
                     server=smtp_server)
    assert briefed.code == 0, briefed.both
    brief = str(smtp_server.received[-1].message["Message-ID"])
    edit(record, ("title: Cells\n", ""))
    deliver(organiser, reply(FREDRIK, "Title: Phishing\n", in_reply_to=brief))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert Store(organiser).find(TALK).title is None, result.out


def test_a_bounce_of_a_brief_shared_with_the_host_suppresses_no_one(
        organiser: Path, smtp_server: Server) -> None:
    """A speaker who got the brief knows its Message-ID: a bounce they forge of it proves
    nothing against the host or another speaker."""
    record = organiser / "seminars" / f"{TALK}.yaml"
    record.write_text(SPEAKER_RECORD + "title: Cells\nabstract: A.\nbio: B.\n"
                      "host: {name: Olof, email: olof@example.org}\n", encoding="utf-8")
    briefed = invoke(organiser, "send", TALK, "--kind", "brief", "--today", "2024-03-20",
                     server=smtp_server)
    assert briefed.code == 0, briefed.both
    assert "olof@example.org" in smtp_server.received[-1].rcpt_tos
    brief = str(smtp_server.received[-1].message["Message-ID"])
    deliver(organiser, dsn("olof@example.org", "5.1.1", original_id=brief))
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server)
    assert result.code == 0, result.both
    assert "olof@example.org" in result.out and "several people together" in result.out
    assert "suppressed olof" not in result.out
    assert "0 suppressed" in invoke(organiser, "subscribers").out


def test_dry_runs_leave_the_ledger_file_as_it_was(organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    copy = str(sent_to(smtp_server, people[0])[0]["Message-ID"])
    deliver(organiser, dsn(people[0], "5.1.1", original_id=copy),
            *(unsubscribe(people[1]) for _ in range(5)))
    ledger = organiser / ".state" / "ledger.sqlite3"
    before = (ledger.read_bytes(), ledger.stat().st_mtime_ns)
    mails = len(smtp_server.received)
    dry = invoke(organiser, "inbox", "--dry-run", "--now", NOW, server=smtp_server)
    assert dry.code == 0 and f"would suppress {people[0]}" in dry.out, dry.both
    assert dry.out.count(f"would send {people[1]}") == 1, dry.out  # one confirmation, said once
    assert len(smtp_server.received) == mails
    due = invoke(organiser, "send", "--due", "--dry-run", "--now", "2024-03-08T09:00")
    assert due.code == 0, due.both
    assert (ledger.read_bytes(), ledger.stat().st_mtime_ns) == before
