"""The organiser's mailbox as :mod:`mailer.inbox.sources` reads it: sizes first, one message
at a time, never one over the limit, and every fault one line of ``mailer.errors``.

A Maildir is a folder here; IMAP is a real Dovecot (tests/imap.py, skipped without it locally,
run in CI) and, for the faults a real server will not stage on request (a connection dropped
mid-FETCH, a server that stalls, NO and BAD at each step), a tiny IMAP4rev1 server on a
loopback socket below. imaplib itself is never mocked.
"""

from __future__ import annotations

import contextlib
import mailbox
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from imap import PASSWORD, USER, Dovecot, require_dovecot
from outside import private_service
from smtpserver import free_port

from mailer.errors import EX_TEMPFAIL, DeliveryError, InputError, TemporaryFailure
from mailer.inbox import sources
from mailer.inbox.sources import MaildirSource, Source, open_source
from mailer.net.imapclient import Imap
from mailer.net.servers import ImapSettings
from mailer.series.mailconfig import InboxSettings


def mail(subject: str, body: str = "Hello.") -> bytes:
    return (
        f"From: Ann Ek <ann@example.org>\r\nTo: organiser@example.org\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        f"\r\n{body}\r\n"
    ).encode()


# -- Maildir ---------------------------------------------------------------------------------


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    """A Maildir with two unseen messages (one in new/, one read-but-unseen in cur/), one seen
    one, and one too big for a small limit."""
    path = tmp_path / "inbox"
    mailbox.Maildir(path, create=True)
    (path / "new" / "1700000001.M1P1Q1.host").write_bytes(mail("first"))
    (path / "cur" / "1700000002.M1P1Q2.host:2,S").write_bytes(mail("seen"))
    (path / "cur" / "1700000003.M1P1Q3.host:2,F").write_bytes(mail("flagged", "x" * 500))
    (path / "new" / "1700000004.M1P1Q4.host").write_bytes(mail("big", "y" * 5000))
    return path


def test_maildir_lists_unseen_messages_with_their_sizes_oldest_first(maildir: Path) -> None:
    source = MaildirSource(maildir)
    assert source.unseen() == [
        ("1700000001.M1P1Q1.host", len(mail("first"))),
        ("1700000003.M1P1Q3.host", len(mail("flagged", "x" * 500))),
        ("1700000004.M1P1Q4.host", len(mail("big", "y" * 5000))),
    ]
    assert source.count() == 4


def test_maildir_fetches_one_message_and_marks_nothing(maildir: Path) -> None:
    before = sorted(p.name for p in maildir.rglob("*"))
    source = MaildirSource(maildir)
    assert source.fetch("1700000003.M1P1Q3.host") == mail("flagged", "x" * 500)
    assert sorted(p.name for p in maildir.rglob("*")) == before
    assert [key for key, _ in source.unseen()][1] == "1700000003.M1P1Q3.host"


def test_maildir_never_fetches_a_message_over_the_limit(
    maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_MESSAGE_BYTES", 1000)
    with open_source(maildir.parent, InboxSettings(maildir="inbox"), readonly=True) as source:
        sizes = dict(source.unseen())
        assert sizes["1700000004.M1P1Q4.host"] > 1000  # the caller reports it by this size
        with pytest.raises(
            ValueError,
            match=r"1700000004.M1P1Q4.host has \d+ bytes, more than the "
            r"1000 announce reads",
        ):
            source.fetch("1700000004.M1P1Q4.host")
        assert source.fetch("1700000003.M1P1Q3.host") == mail("flagged", "x" * 500)


def test_a_huge_maildir_message_is_sized_and_never_loaded(maildir: Path) -> None:
    huge = maildir / "new" / "1700000005.M1P1Q5.host"
    with huge.open("wb") as file:  # sparse: 26 MiB on paper, nothing on the disk
        file.write(mail("huge"))
        file.truncate(26 * 1024 * 1024)
    tracemalloc.start()
    try:
        with open_source(maildir.parent, InboxSettings(maildir="inbox"), readonly=True) as source:
            assert dict(source.unseen())["1700000005.M1P1Q5.host"] == 26 * 1024 * 1024
            with pytest.raises(ValueError, match="more than the 26214400 announce reads"):
                source.fetch("1700000005.M1P1Q5.host")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_maildir_done_flags_seen_and_moves_to_announce_done(maildir: Path) -> None:
    source = MaildirSource(maildir)
    source.done("1700000001.M1P1Q1.host")
    assert [key for key, _ in source.unseen()] == [
        "1700000003.M1P1Q3.host",
        "1700000004.M1P1Q4.host",
    ]
    moved = list((maildir / ".announce.done" / "cur").iterdir())
    assert len(moved) == 1 and moved[0].name.endswith(":2,S")
    assert moved[0].read_bytes() == mail("first")  # moved as it was, byte for byte


def test_a_maildir_message_another_client_took_is_skipped(maildir: Path) -> None:
    source: Source = MaildirSource(maildir)
    listed = source.unseen()
    (maildir / "new" / "1700000001.M1P1Q1.host").unlink()  # moved away by a mail client
    (maildir / "cur" / "1700000003.M1P1Q3.host:2,F").rename(  # read there: renamed, still here
        maildir / "cur" / "1700000003.M1P1Q3.host:2,FS"
    )
    assert [key for key, _ in listed][:2] == ["1700000001.M1P1Q1.host", "1700000003.M1P1Q3.host"]
    assert source.fetch("1700000001.M1P1Q1.host") == b""
    source.done("1700000001.M1P1Q1.host")  # nothing to move, no error
    assert source.fetch("1700000003.M1P1Q3.host") == mail("flagged", "x" * 500)
    assert not (maildir / ".announce.done").exists()


def test_a_missing_maildir_or_not_a_maildir_is_a_setting_to_fix(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    for name in ("absent", "plain"):
        with pytest.raises(InputError, match=rf"{name} is not a Maildir \(it needs cur/ and "):
            MaildirSource(tmp_path / name)


# -- IMAP: a tiny server for the faults ------------------------------------------------------

STEPS = {  # where a fault is staged -> the words of the error that names the step
    "greeting": "could not be reached",
    "LOGIN": f"failed at the login as '{USER}'",
    "SELECT": 'failed at SELECT "INBOX"',
    "SEARCH": "failed at UID SEARCH UNSEEN",
    "SIZES": "failed at UID FETCH of the sizes of 3 message(s)",
    "BODY": "failed at UID FETCH 2 (BODY.PEEK[])",
    "STORE": "failed at UID STORE 2 +FLAGS (\\Seen)",
    "MOVE": 'failed at UID MOVE 2 "announce/done"',
    "LOGOUT": "failed at LOGOUT",
}


class FakeImap:
    """One connection's worth of IMAP4rev1 on 127.0.0.1: greeting, CAPABILITY, LOGIN,
    SELECT/EXAMINE, UID SEARCH, UID FETCH (sizes, bodies), NOOP, LIST, CREATE, UID STORE,
    UID MOVE, LOGOUT. ``fault`` stages one failure at one step (a key of STEPS): ``drop``
    closes the socket (mid-literal for a body), ``stall`` goes silent, ``no``/``bad`` answer
    so (``NO [UNAVAILABLE]`` where a plain NO means something else)."""

    def __init__(self, messages: dict[int, bytes], fault: tuple[str, str] | None = None) -> None:
        self.messages = messages
        self.fault = fault
        self.commands: list[str] = []
        self.release = threading.Event()
        self.accepted = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def settings(self, timeout: float = 5) -> ImapSettings:
        return ImapSettings(
            host="127.0.0.1", port=self.port, security="none", username=USER, timeout=timeout
        )

    def close(self) -> None:
        self.release.set()
        if not self.accepted.is_set():  # wake the accept() of a server nobody reached
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        self.thread.join(timeout=10)
        self.listener.close()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        self.accepted.set()
        with contextlib.suppress(ConnectionError):  # the client may hang up at any step
            self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            if self._faulted(conn, "greeting", b"*"):
                return
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
            for line in lines:
                tag, _, command = line.rstrip(b"\r\n").partition(b" ")
                text = command.decode()
                self.commands.append(text)
                step = self._step(text)
                if step and self._faulted(conn, step, tag):
                    return
                conn.sendall(self._answer(tag, text))
                if text.startswith("LOGOUT"):
                    return

    def _step(self, text: str) -> str | None:
        verb = text.split(maxsplit=1)[0].upper()
        if verb in ("LOGIN", "SELECT", "EXAMINE", "LOGOUT"):
            return "SELECT" if verb == "EXAMINE" else verb
        if text.startswith("UID SEARCH"):
            return "SEARCH"
        if text.startswith("UID FETCH"):
            return "SIZES" if "RFC822.SIZE" in text else "BODY"
        if text.startswith(("UID STORE", "UID MOVE")):
            return text.split()[1]
        return None

    def _faulted(self, conn: socket.socket, step: str, tag: bytes) -> bool:
        if self.fault is None or self.fault[0] != step:
            return False
        kind = self.fault[1]
        if kind == "drop":
            if step == "BODY":  # the literal begins, then the connection is gone
                data = self.messages[2]
                conn.sendall(
                    b"* 2 FETCH (UID 2 BODY[] {%d}\r\n%s" % (len(data), data[: len(data) // 2])
                )
            conn.shutdown(socket.SHUT_RDWR)
            return True
        if kind == "stall":
            self.release.wait(30)
            return True
        if step == "greeting":
            conn.sendall(b"* BYE too busy, come back later\r\n")
            return True
        answer = {
            "no": b"NO [UNAVAILABLE] try again later",
            "bad": b"BAD internal error",
            "refuse": b"NO [NONEXISTENT] Mailbox doesn't exist",
        }[kind]
        conn.sendall(tag + b" " + answer + b"\r\n")
        self.fault = None  # answered so once; the rest of the session is ordinary
        return step == "LOGOUT"

    def _answer(self, tag: bytes, text: str) -> bytes:
        verb = text.split(maxsplit=1)[0].upper()
        uids = sorted(self.messages)
        if verb == "CAPABILITY":
            body = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN MOVE\r\n"
        elif verb == "LOGIN":
            if text.split()[2].strip('"') != PASSWORD:
                return tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
            body = b""
        elif verb in ("SELECT", "EXAMINE"):
            body = b"* %d EXISTS\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n" % len(uids)
        elif text.startswith("UID SEARCH"):
            body = b"* SEARCH " + b" ".join(b"%d" % uid for uid in uids) + b"\r\n"
        elif text.startswith("UID FETCH"):
            wanted = _uids(text.split()[2])
            body = b""
            for number, uid in enumerate(uids, 1):
                if uid in wanted:
                    data = self.messages[uid]
                    body += (
                        b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (number, uid, len(data))
                        if "RFC822.SIZE" in text
                        else b"* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n"
                        % (number, uid, len(data), data)
                    )
        elif verb == "LIST":
            body = b'* LIST (\\Noselect) "/" ""\r\n'
        elif verb == "LOGOUT":
            body = b"* BYE logging out\r\n"
        else:  # NOOP, CREATE, UID STORE, UID MOVE
            body = b""
        return body + tag + b" OK done\r\n"


def _uids(spec: str) -> set[int]:
    found: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition(":")
        found.update(range(int(first), int(last or first) + 1))
    return found


MESSAGES = {1: mail("one"), 2: mail("two", "z" * 300), 3: mail("three", "w" * 3000)}


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANNOUNCE_IMAP_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.fixture
def fake(password: str) -> Iterator[FakeImap]:
    server = FakeImap(MESSAGES)
    yield server
    server.close()


def test_imap_lists_sizes_in_one_command_then_fetches_one_message_at_a_time(fake: FakeImap) -> None:
    with Imap(fake.settings(), readonly=True, limit=1000) as imap:
        assert imap.unseen() == [
            ("1", len(MESSAGES[1])),
            ("2", len(MESSAGES[2])),
            ("3", len(MESSAGES[3])),
        ]
        assert not any("BODY" in command for command in fake.commands)
        assert imap.fetch("2") == MESSAGES[2]
        with pytest.raises(ValueError, match="message 3 has 3"):
            imap.fetch("3")  # over the limit: never asked for
        assert imap.fetch("1") == MESSAGES[1]
        assert imap.count() == 3
    fetches = [c.split(" ", 1)[1] for c in fake.commands if c.startswith("UID FETCH")]
    assert fetches == ["FETCH 1:3 (RFC822.SIZE)", "FETCH 2 (BODY.PEEK[])", "FETCH 1 (BODY.PEEK[])"]
    assert fake.commands[-1] == "LOGOUT"
    assert [c.split()[0] for c in fake.commands][:3] == ["CAPABILITY", "LOGIN", "CAPABILITY"]
    assert fake.commands[3] == 'EXAMINE "INBOX"'


def test_imap_limit_follows_the_constant(fake: FakeImap, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_MESSAGE_BYTES", 200)
    with open_source(Path(), InboxSettings(imap=fake.settings()), readonly=False) as source:
        assert [size > 200 for _, size in source.unseen()] == [False, True, True]
        assert source.fetch("1") == MESSAGES[1]
        for key in ("2", "3"):
            with pytest.raises(ValueError, match="more than the 200 announce reads"):
                source.fetch(key)
    assert [c for c in fake.commands if "BODY" in c] == ["UID FETCH 1 (BODY.PEEK[])"]


def _session(settings: ImapSettings) -> None:
    """What ``announce inbox`` does: open, list, fetch, act on one, close."""
    with open_source(Path(), InboxSettings(imap=settings), readonly=False) as source:
        assert len(source.unseen()) == 3
        assert source.fetch("2") == MESSAGES[2]
        source.done("2")


# Each step: the connection dropped, a stall, NO [UNAVAILABLE], BAD (a BAD to LOGIN is a
# refused login, below; the greeting has no BAD: a busy server says BYE).
FAULTS = [
    (step, kind)
    for step in STEPS
    for kind in ("drop", "stall", "no", "bad")
    if (step, kind) not in (("LOGIN", "bad"), ("greeting", "bad"))
]


@pytest.mark.parametrize(("step", "kind"), FAULTS, ids=[f"{s}-{k}" for s, k in FAULTS])
def test_every_imap_fault_is_one_line_and_exit_75(step: str, kind: str, password: str) -> None:
    server = FakeImap(MESSAGES, (step, kind))
    started = time.monotonic()
    try:
        with pytest.raises(TemporaryFailure) as caught:
            _session(server.settings(timeout=0.3))
    finally:
        server.close()
    assert time.monotonic() - started < 5  # a stall is cut off by the timeout, once
    said = str(caught.value)
    assert caught.value.exit_code == EX_TEMPFAIL
    assert said.startswith(f"mail.inbox.imap: 127.0.0.1:{server.port} {STEPS[step]} (")
    assert "\n" not in said and PASSWORD not in said
    if kind == "stall":
        assert "(no answer within 0.3 s)" in said
    if step in ("greeting", "LOGIN", "SELECT"):
        assert said.endswith("; nothing was read; the next run tries again")
    elif step == "MOVE":
        assert said.endswith(
            "; message 2 is flagged seen but still in INBOX; no message "
            "had been moved to announce/done; the rest stay unread for the "
            "next run"
        )
    elif step == "LOGOUT":
        assert "; everything before it was done; 1 message(s) had been moved" in said
    else:
        assert said.endswith("; nothing was marked or moved; the next run reads the mailbox again")


def test_a_connection_dropped_mid_fetch_says_so(password: str) -> None:
    server = FakeImap(MESSAGES, ("BODY", "drop"))
    try:
        with pytest.raises(
            TemporaryFailure,
            match=r"failed at UID FETCH 2 \(BODY.PEEK\[\]\) "
            r"\(.*socket error: EOF\)",
        ):
            _session(server.settings())
    finally:
        server.close()


def test_a_folder_that_is_not_there_is_a_setting_to_fix(password: str) -> None:
    server = FakeImap(MESSAGES, ("SELECT", "refuse"))
    try:
        with pytest.raises(
            InputError,
            match=r"mail.inbox.imap.folder: 'INBOX' cannot be "
            r"opened on organiser@127.0.0.1:\d+ \(\[NONEX",
        ):
            _session(server.settings())
    finally:
        server.close()


@pytest.mark.parametrize("bad", [False, True], ids=["NO", "BAD"])
def test_a_refused_login_is_exit_1_and_never_shows_the_password(
    bad: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOUNCE_IMAP_PASSWORD", PASSWORD if bad else "not-it-4711")
    server = FakeImap(MESSAGES, ("LOGIN", "bad") if bad else None)
    try:
        with pytest.raises(DeliveryError) as caught:
            _session(server.settings())
    finally:
        server.close()
    assert str(caught.value) == (
        f"mail.inbox.imap: the login as '{USER}' at 127.0.0.1 was "
        "refused (check the username and the password or token); "
        "nothing was read"
    )
    assert caught.value.exit_code == 1


def test_a_missing_password_is_exit_1_naming_both_ways_to_give_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANNOUNCE_IMAP_PASSWORD", raising=False)
    server = FakeImap(MESSAGES)
    try:
        with pytest.raises(DeliveryError) as caught:
            _session(server.settings())
    finally:
        server.close()
    said = str(caught.value)
    assert "ANNOUNCE_IMAP_PASSWORD" in said and "password_command" in said
    assert caught.value.exit_code == 1
    assert server.commands == []  # asked before connecting


def test_a_closed_port_is_a_temporary_failure(password: str) -> None:
    port = free_port()
    settings = ImapSettings(host="127.0.0.1", port=port, security="tls", username=USER)
    with pytest.raises(TemporaryFailure) as caught:
        _session(settings)
    assert re.fullmatch(
        rf"mail\.inbox\.imap: 127\.0\.0\.1:{port} could not be reached "
        r"\(\[Errno 111\] Connection refused\); nothing was read; the next run "
        r"tries again",
        str(caught.value),
    )


# -- IMAP: a real Dovecot --------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot(authority: trustme.CA) -> Iterator[Dovecot]:
    require_dovecot()
    with private_service(
        lambda base, port: Dovecot(base, port, authority), "announce-dovecot-"
    ) as server:
        yield server


@pytest.fixture
def imap(dovecot: Dovecot, password: str, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    dovecot.clear()
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.base / "ca.pem"))
    return dovecot


def dovecot_settings(server: Dovecot) -> InboxSettings:
    return InboxSettings(
        imap=ImapSettings(
            host="127.0.0.1", port=server.port, security="tls", username=USER, timeout=10
        )
    )


@pytest.mark.integration
def test_dovecot_sizes_fetch_limit_and_done(imap: Dovecot, monkeypatch: pytest.MonkeyPatch) -> None:
    for data in MESSAGES.values():
        imap.append(data)
    monkeypatch.setattr(sources, "MAX_MESSAGE_BYTES", 1000)
    with open_source(Path(), dovecot_settings(imap), readonly=False) as source:
        listed = source.unseen()
        assert [size for _, size in listed] == [len(data) for data in MESSAGES.values()]
        assert [int(key) for key, _ in listed] == sorted(int(key) for key, _ in listed)
        first, second, third = (key for key, _ in listed)
        assert source.fetch(second) == MESSAGES[2]
        with pytest.raises(ValueError, match="more than the 1000 announce reads"):
            source.fetch(third)
        assert source.count() == 3
        source.done(first)
        assert [key for key, _ in source.unseen()] == [second, third]
    inbox = imap.folder("INBOX")
    assert [raw for _, raw in inbox] == [MESSAGES[2], MESSAGES[3]]
    assert not any(b"\\Seen" in head for head, _ in inbox)  # fetched, not marked
    done = imap.folder("announce/done")
    assert [raw for _, raw in done] == [MESSAGES[1]] and b"\\Seen" in done[0][0]


@pytest.mark.integration
def test_dovecot_a_message_expunged_meanwhile_is_skipped(imap: Dovecot) -> None:
    imap.append(MESSAGES[1])
    imap.append(MESSAGES[2])
    with open_source(Path(), dovecot_settings(imap), readonly=False) as source:
        (gone, _), (kept, _) = source.unseen()
        with imap.client() as other:
            other.select("INBOX")
            other.uid("STORE", gone, "+FLAGS", "(\\Deleted)")
            other.expunge()
        assert source.fetch(gone) == b""
        source.done(gone)
        assert source.fetch(kept) == MESSAGES[2]
    assert imap.folder("announce/done") == []


@pytest.mark.integration
def test_dovecot_refuses_a_wrong_password_exit_1(
    imap: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOUNCE_IMAP_PASSWORD", "not-it-4711")
    with (
        pytest.raises(
            DeliveryError,
            match=r"the login as 'organiser' at 127\.0\.0\.1 was "
            r"refused",
        ) as caught,
        open_source(Path(), dovecot_settings(imap), readonly=True),
    ):
        pass
    assert "not-it-4711" not in str(caught.value)


@pytest.mark.integration
def test_dovecot_an_untrusted_certificate_stays_exit_1(
    imap: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with (
        pytest.raises(
            DeliveryError,
            match=r"the certificate of 127\.0\.0\.1 is not "
            r"trusted",
        ),
        open_source(Path(), dovecot_settings(imap), readonly=True),
    ):
        pass
