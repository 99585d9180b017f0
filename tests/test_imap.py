"""The organiser's mailbox over IMAP, against a real Dovecot (tests/imap.py): a speaker's reply
and a bounce are appended with IMAP APPEND, ``inbox`` acts on them, flags them seen and moves
them to announce/done; a second run and a dry run change nothing on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from imap import PASSWORD, USER, Dovecot, require_dovecot
from mailbox_samples import ANN, SPEAKER_RECORD, TALK, dsn, png, reply
from outside import private_service
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server

from mailer.series.store import Store

pytestmark = pytest.mark.integration  # every test here runs against a private Dovecot

NOW = "2024-03-01T08:00"


@pytest.fixture(scope="module")
def dovecot(authority: trustme.CA) -> Iterator[Dovecot]:
    require_dovecot()
    with private_service(lambda base, port: Dovecot(base, port, authority),
                         "announce-dovecot-") as server:
        yield server


@pytest.fixture
def imap(dovecot: Dovecot) -> Iterator[Dovecot]:
    dovecot.clear()
    yield dovecot


@pytest.fixture
def organiser(series: Path, imap: Dovecot) -> Path:
    edit(series / "seminars" / "series.yaml", ("  smtp:\n", (
        "  inbox:\n    imap:\n      host: 127.0.0.1\n"
        f"      port: {imap.port}\n      security: tls\n      username: {USER}\n  smtp:\n")))
    write(series / "seminars" / f"{TALK}.yaml", SPEAKER_RECORD)
    return series


def env(imap: Dovecot, password: str = PASSWORD) -> dict[str, str]:
    return {"ANNOUNCE_IMAP_PASSWORD": password, "SSL_CERT_FILE": str(imap.base / "ca.pem")}


def test_replies_and_bounces_over_imap(organiser: Path, imap: Dovecot,
                                       smtp_server: Server) -> None:
    people = subscribe(organiser, 2)
    assert invoke(organiser, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert invoke(organiser, "ask", TALK, "--today", "2024-02-29", server=smtp_server).code == 0
    ids = {r.rcpt_tos[0]: str(r.message["Message-ID"]) for r in smtp_server.received}
    imap.append(reply(f"Ann Ek <{ANN}>", "Abstract: Graphs.\n\nAbout you: Ann Ek sails.\n",
                      photo=png(), in_reply_to=ids[ANN]))
    imap.append(dsn(people[0], "5.1.1", original_id=ids[people[0]]))
    checked = invoke(organiser, "check", "--inbox", **env(imap))
    assert checked.code == 0, checked.both
    assert "2 message(s), 2 unseen" in checked.out
    before = imap.folder("INBOX")
    dry = invoke(organiser, "inbox", "--dry-run", "--now", NOW, **env(imap))
    assert dry.code == 0, dry.both
    assert "would act on 2" in dry.out
    assert imap.folder("INBOX") == before and imap.folder("announce/done") == []
    assert Store(organiser).find(TALK).abstract is None
    result = invoke(organiser, "inbox", "--now", NOW, server=smtp_server, **env(imap))
    assert result.code == 0, result.both
    assert f"suppressed {people[0]} (bounced: permanent failure)" in result.out
    talk = Store(organiser).find(TALK)
    assert (talk.abstract, talk.bio) == ("Graphs.", "Ann Ek sails.") and talk.photo
    done = imap.folder("announce/done")
    assert len(done) == 2 and all(b"\\Seen" in head for head, _ in done)
    assert imap.folder("INBOX") == []
    again = invoke(organiser, "inbox", "--now", NOW, **env(imap))
    assert "0 new message(s)" in again.out and len(imap.folder("announce/done")) == 2


def test_a_wrong_password_is_exit_1_naming_the_login(organiser: Path, imap: Dovecot) -> None:
    imap.append(dsn("someone@example.org", "5.1.1"))
    result = invoke(organiser, "inbox", "--now", NOW, **env(imap, "not-it"))
    assert result.code == 1
    assert f"the login as '{USER}' at 127.0.0.1 was refused" in result.err
    assert "not-it" not in result.both
    assert len(imap.folder("INBOX")) == 1 and imap.folder("announce/done") == []


def test_an_untrusted_certificate_is_refused(organiser: Path, imap: Dovecot) -> None:
    result = invoke(organiser, "inbox", "--now", NOW, ANNOUNCE_IMAP_PASSWORD=PASSWORD)
    assert result.code == 1
    assert "is not trusted" in result.err


@pytest.mark.parametrize(("trouble", "code", "says"), [
    ("stopped", 75, "could not be reached"),
    ("wrong password", 1, f"the login as '{USER}' at 127.0.0.1 was refused"),
    ("no password", 1, "neither ANNOUNCE_IMAP_PASSWORD nor"),
])
def test_the_weekly_mail_goes_whatever_the_inbox_does(organiser: Path, imap: Dovecot,
                                                      smtp_server: Server, trouble: str,
                                                      code: int, says: str) -> None:
    people = subscribe(organiser, 3)
    imap.append(dsn(people[0], "5.1.1"))
    login = {"wrong password": env(imap, "not-it"),
             "no password": {"SSL_CERT_FILE": str(imap.base / "ca.pem")}}.get(trouble, env(imap))
    if trouble == "stopped":
        imap.stop()
    try:
        result = invoke(organiser, "send", "--due", "--quiet", "--now", "2024-02-19T08:00",
                        server=smtp_server, **login)
    finally:
        if trouble == "stopped":
            imap.start()
    first = result.err.splitlines()[0]
    assert first.startswith("announce: the inbox was not read: mail.inbox.imap"), result.both
    assert says in first and "not-it" not in result.both
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos) == sorted(people)
    assert result.code == code
