"""Against a real MTA: a private Postfix (tests/mta.py) receives the mail and delivers it to
Maildirs; the tests read the Maildirs. In CI these run; elsewhere they need root and Postfix."""

from __future__ import annotations

import io
import mailbox
import signal
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pillow_heif
import pytest
import trustme
from mailbox_samples import ANN, FREDRIK, SPEAKER_RECORD, TALK, reply, unsubscribe
from mta import (
    GONE,
    LIST,
    MEMBERS,
    ORGANISER,
    PEOPLE,
    SASL_PASSWORD,
    SASL_USER,
    Postfix,
    require_postfix,
)
from outside import private_service
from PIL import Image
from runners import invoke, popen, run
from seriesfiles import edit, use_subscriber_file, write
from test_inbox_trust import _hostile as hostile

from mailer.series.store import Store

pytestmark = pytest.mark.integration  # every test here runs against a private Postfix


@pytest.fixture(scope="module")
def postfix(authority: trustme.CA) -> Iterator[Postfix]:
    require_postfix()
    with private_service(lambda base, port: Postfix(base, port, authority),
                         "announce-postfix-") as server:
        yield server


@pytest.fixture
def relay(postfix: Postfix) -> Iterator[Postfix]:
    postfix.wait_until_idle()
    postfix.clear()
    yield postfix


def env(postfix: Postfix, **extra: str) -> dict[str, str]:
    return {"ANNOUNCE_SMTP_HOST": "127.0.0.1", "ANNOUNCE_SMTP_PORT": str(postfix.port), **extra}


def dsn_naming(addresses: list[str]) -> bytes:
    """A forged report naming every subscriber, returning no mail of ours."""
    fields = "".join(f"\nFinal-Recipient: rfc822; {a}\nAction: failed\nStatus: 5.1.1\n"
                     for a in addresses)
    text = (f"From: MAILER-DAEMON@evil.test\nTo: {ORGANISER}\nSubject: Undelivered\n"
            "Message-ID: <forged@evil.test>\nMIME-Version: 1.0\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
            "Undelivered.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; "
            f"evil.test\n{fields}\n--b--\n")
    return text.replace("\n", "\r\n").encode()


def subscribers(series: Path, count: int) -> list[str]:
    people = list(PEOPLE[:count])
    write(series / "subscribers.txt", "\n".join(people) + "\n")
    use_subscriber_file(series, "subscribers.txt")
    return people


def to_the_list(series: Path) -> Path:
    """Address the series to the Postfix list alias."""
    edit(series / "seminars" / "series.yaml", ("lm-seminar-list@example.org", LIST))
    return series


def test_one_message_to_the_list_alias_reaches_each_member_once(series: Path,
                                                                relay: Postfix) -> None:
    to_the_list(series)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay))
    assert result.code == 0, result.both
    relay.wait_until_idle()
    assert relay.counts() == dict.fromkeys(MEMBERS, 1)
    message = relay.messages(MEMBERS[0])[0]
    assert message["To"] == LIST
    assert message["List-Id"] == "Learning Machines <learning-machines.example.org>"
    assert "Measuring behavior" in str(message["Subject"])
    assert message["Message-ID"] and message["Date"]
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html",
                                                               "text/calendar"}


def test_two_hundred_subscribers_each_exactly_once(series: Path, relay: Postfix) -> None:
    people = subscribers(series, 200)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay))
    assert result.code == 0, result.both
    relay.wait_until_idle()
    assert relay.counts() == dict.fromkeys(people, 1)
    assert relay.messages(people[7])[0]["To"] == people[7]


def test_postfix_stopped_mid_send_then_started_again(series: Path, relay: Postfix) -> None:
    people = subscribers(series, 2000)
    connections = 3
    before = relay.accepted()
    sending = popen(series, "send", "2024-02-22", "--today", "2024-02-20", **env(
        relay, ANNOUNCE_SMTP_CONNECTIONS=str(connections)))
    deadline = time.monotonic() + 120
    while relay.accepted() - before < 300:
        assert sending.poll() is None, "the send finished before Postfix could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    relay.stop()
    _, err = sending.communicate(timeout=300)
    assert sending.returncode == 75, err
    assert "cannot reach the SMTP server" in err or "connection lost" in err
    relay.start()
    again = run(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay))
    assert again.code == 0, again.both
    relay.wait_until_idle()
    got = relay.counts()
    assert set(got) == set(people)
    assert sum(got.values()) - len(people) <= connections, "over one extra copy per connection"


def test_starttls_with_an_untrusted_certificate_then_trusted(
        series: Path, relay: Postfix, authority: trustme.CA, tmp_path: Path) -> None:
    to_the_list(series)
    refused = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                     **env(relay, ANNOUNCE_SMTP_SECURITY="starttls"))
    assert refused.code == 1, refused.both
    assert "certificate is not trusted" in refused.err
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    trusted = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **env(
        relay, ANNOUNCE_SMTP_SECURITY="starttls", SSL_CERT_FILE=str(ca)))
    assert trusted.code == 0, trusted.both
    relay.wait_until_idle()
    assert relay.counts() == dict.fromkeys(MEMBERS, 1)
    received = str(relay.messages(MEMBERS[0])[0]["Received"])
    assert "using TLSv1." in received, received


def test_auth_with_sasl_over_starttls(series: Path, relay: Postfix, authority: trustme.CA,
                                      tmp_path: Path) -> None:
    to_the_list(series)
    ca = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca))
    login = env(relay, ANNOUNCE_SMTP_SECURITY="starttls", SSL_CERT_FILE=str(ca),
                ANNOUNCE_SMTP_USERNAME=SASL_USER)
    wrong = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **login,
                   ANNOUNCE_SMTP_PASSWORD="wrong-one")
    assert wrong.code == 1, wrong.both
    assert "login refused for user seminar (535, AUTH PLAIN)" in wrong.err
    checked = invoke(series, "check", "--smtp", **login, ANNOUNCE_SMTP_PASSWORD=SASL_PASSWORD)
    assert checked.code == 0, checked.both
    assert "AUTH PLAIN LOGIN" in checked.out and "PIPELINING" in checked.out
    assert "logged in as seminar (AUTH PLAIN)" in checked.out
    sent = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **login,
                  ANNOUNCE_SMTP_PASSWORD=SASL_PASSWORD)
    assert sent.code == 0, sent.both
    assert "sasl_method=PLAIN, sasl_username=seminar" in relay.log()
    assert SASL_PASSWORD not in sent.both + checked.both


def test_kill_9_against_postfix_then_rerun(series: Path, relay: Postfix) -> None:
    people = subscribers(series, 600)
    before = relay.accepted()
    sending = popen(series, "send", "2024-02-22", "--quiet", "--today", "2024-02-20", **env(relay))
    deadline = time.monotonic() + 120
    while relay.accepted() - before < 150:
        assert sending.poll() is None, "the send finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    sending.send_signal(signal.SIGKILL)
    sending.wait()
    assert run(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay)).code == 0
    relay.wait_until_idle()
    got = relay.counts()
    assert set(got) == set(people)
    assert sum(got.values()) - len(people) <= 3


def test_a_bounce_postfix_writes_itself_suppresses_the_address(series: Path,
                                                              relay: Postfix) -> None:
    """Postfix accepts gone@, bounces it (5.1.1) and mails the report to the organiser's
    Maildir, which announce reads as its inbox."""
    kept = PEOPLE[0]
    write(series / "subscribers.txt", f"{GONE}\n{kept}\n")
    use_subscriber_file(series, "subscribers.txt")
    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", f"  inbox:\n    maildir: {relay.maildir(ORGANISER)}\n  smtp:\n"))
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay)).code == 0
    relay.wait_until_idle()
    [report] = relay.messages(ORGANISER)
    assert report.get_content_type() == "multipart/report"  # written by Postfix, not by us
    result = invoke(series, "inbox", **env(relay))
    assert result.code == 0, result.both
    assert f"suppressed {GONE} (bounced: permanent failure)" in result.out
    resent = invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20", **env(relay))
    assert resent.code == 0, resent.both
    assert "1 suppressed address(es) skipped" in resent.both
    relay.wait_until_idle()
    assert relay.counts()[kept] == 2
    assert len(relay.messages(ORGANISER)) == 0  # the report was moved to .announce.done


def test_a_season_inbox_of_forgeries_and_one_genuine_of_each_kind(series: Path,
                                                                  relay: Postfix) -> None:
    """contract §7 end to end: Postfix delivers and bounces; the organiser's Maildir, written by
    Postfix, also holds forgeries and hostile messages. One `send --due` acts on the genuine
    ones only and sends the week's announcement to everyone else."""
    speaker = PEOPLE[10]
    people = list(PEOPLE[:4])
    write(series / "subscribers.txt", "\n".join([GONE, *people]) + "\n")
    use_subscriber_file(series, "subscribers.txt")
    inbox = relay.maildir(ORGANISER)
    edit(series / "seminars" / "series.yaml",
         ("  smtp:\n", f"  inbox:\n    maildir: {inbox}\n  smtp:\n"))
    write(series / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD.replace(FREDRIK, speaker)
          .replace(ANN, PEOPLE[11]))
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20", **env(relay)).code == 0
    assert invoke(series, "ask", TALK, "--today", "2024-02-22", **env(relay)).code == 0
    relay.wait_until_idle()
    [bounce] = relay.messages(ORGANISER)  # Postfix's own report for gone@
    assert bounce.get_content_type() == "multipart/report"
    [request] = relay.messages(speaker)
    token = str(relay.messages(people[2])[0]["List-Unsubscribe"]).strip("<>")
    subject = urllib.parse.unquote(token.partition("subject=")[2])
    heic = io.BytesIO()
    pillow_heif.register_heif_opener()
    Image.new("RGB", (300, 200), (30, 90, 160)).save(heic, format="HEIF")
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 64)).save(jpeg, format="JPEG")
    genuine = reply(speaker, "Title: Cells at scale\n\nAbstract: A million cells.\n\nThanks!\n",
                    in_reply_to=str(request["Message-ID"]), photo=heic.getvalue(),
                    photo_type=("application", "octet-stream"))
    phishing = "Title: Win a prize\n\nAbstract: Log in at https://evil.test\n"
    box = mailbox.Maildir(inbox, create=False)
    for data in (dsn_naming([*people, GONE]), *hostile(), reply(speaker, phishing),
                 reply(f"{speaker} <attacker@evil.test>", phishing,
                       in_reply_to=str(request["Message-ID"])),
                 genuine, unsubscribe(people[1], subject="unsubscribe"),
                 unsubscribe("someone@elsewhere.test", subject=subject)):
        box.add(data)
    result = run(series, "send", "--due", "--now", "2024-03-08T12:00", **env(relay))
    assert result.code == 0, result.both
    assert "Traceback" not in result.both
    relay.wait_until_idle()
    # The week's announcement (list mail) reached all but the bounced and the unsubscribed.
    announced = {a: sum("List-Id" in m for m in relay.messages(a)) for a in people}
    assert announced == {people[0]: 2, people[1]: 2, people[2]: 1, people[3]: 2}, result.both
    assert any("confirm" in str(m["Subject"]) for m in relay.messages(people[1]))
    receipt = relay.messages(speaker)[-1]
    assert "we received your reply" in str(receipt["Subject"])
    talk = Store(series).find(TALK)
    assert (talk.title, talk.abstract, talk.photo) == ("Cells at scale", "A million cells.",
                                                       f"photos/{TALK}.jpg")
    assert invoke(series, "check").code == 0
    listed = invoke(series, "subscribers").out
    assert f"suppressed  {GONE}: bounced" in listed and f"suppressed  {people[2]}" in listed
    assert "3 active, 2 suppressed" in listed
    again = run(series, "send", "--due", "--now", "2024-03-08T12:30", **env(relay))
    assert again.code == 0 and "evil.test" not in again.both, again.both  # named once
