"""A sign-up end to end through real servers: a stranger's mail goes through a private Postfix
(tests/mta.py) to the organiser, whose mailbox a private Dovecot (tests/imap.py) serves over
IMAP; announce's confirmation goes back through Postfix to the stranger's Maildir, and so do
their reply and the next announcement."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from imap import USER, Dovecot, require_dovecot
from mta import ORGANISER, PEOPLE, Postfix, require_postfix
from outside import private_service
from runners import invoke
from seriesfiles import edit, use_subscriber_file, write
from test_imap import env as imap_env
from test_postfix import env as smtp_env
from test_signup import message

pytestmark = pytest.mark.integration  # a private Postfix and a private Dovecot


@pytest.fixture(scope="module")
def postfix(authority: trustme.CA) -> Iterator[Postfix]:
    require_postfix()
    with private_service(lambda base, port: Postfix(base, port, authority),
                         "announce-postfix-") as server:
        yield server


@pytest.fixture(scope="module")
def dovecot(authority: trustme.CA) -> Iterator[Dovecot]:
    require_dovecot()
    with private_service(lambda base, port: Dovecot(base, port, authority),
                         "announce-dovecot-") as server:
        yield server


def mail(postfix: Postfix, sender: str, subject: str, in_reply_to: str | None = None) -> None:
    """``sender`` writes to the organiser through Postfix, as their mail client would."""
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.sendmail(sender, [ORGANISER], message(sender, ORGANISER, subject,
                                                     "Yes, please.\n", in_reply_to))
    postfix.wait_until_idle()


def to_the_inbox(postfix: Postfix, dovecot: Dovecot) -> None:
    """What Postfix delivered to the organiser lands in the mailbox Dovecot serves."""
    for delivered in postfix.messages(ORGANISER):
        dovecot.append(delivered.as_bytes())
    postfix.clear()


def test_a_stranger_signs_up_by_mail_and_gets_the_next_announcement_once(
        series: Path, authority: trustme.CA, postfix: Postfix, dovecot: Dovecot) -> None:
    postfix.wait_until_idle()
    postfix.clear()
    dovecot.clear()
    stranger, member = PEOPLE[7], PEOPLE[8]
    write(series / "subscribers.txt", f"{member}\n")
    use_subscriber_file(series, "subscribers.txt")
    edit(series / "seminars" / "series.yaml", ("  smtp:\n", (
        "  inbox:\n    imap:\n      host: 127.0.0.1\n"
        f"      port: {dovecot.port}\n      security: tls\n      username: {USER}\n"
        f"  subscribe: mailto:{ORGANISER}\n  smtp:\n")))
    env = {**smtp_env(postfix), **imap_env(dovecot)}
    mail(postfix, stranger, "subscribe")
    to_the_inbox(postfix, dovecot)
    asked = invoke(series, "inbox", "--now", "2024-02-18T12:00", **env)
    assert asked.code == 0 and f"a sign-up from {stranger}" in asked.out, asked.both
    postfix.wait_until_idle()
    [ask] = postfix.messages(stranger)
    assert "confirm that you want to join" in str(ask["Subject"])
    mail(postfix, stranger, f"Re: {ask['Subject']}", in_reply_to=str(ask["Message-ID"]))
    to_the_inbox(postfix, dovecot)
    confirmed = invoke(series, "inbox", "--now", "2024-02-18T13:00", **env)
    assert f"{stranger} joined the list" in confirmed.out, confirmed.both
    for moment in ("2024-02-19T08:00", "2024-02-19T08:30"):
        sent = invoke(series, "send", "--due", "--now", moment, **env)
        assert sent.code == 0, sent.both
    postfix.wait_until_idle()
    listed = [m for m in postfix.messages(stranger) if "List-Id" in m]
    assert len(listed) == 1 and "Mathis" in str(listed[0]["Subject"])
    assert sum("List-Id" in m for m in postfix.messages(member)) == 1
