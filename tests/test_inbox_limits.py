"""What one message, one answer of the IMAP server or one file may cost (contract §7): a message
of thousands of MIME parts or millions of lines is left unread and named, never parsed whole;
a literal the server announces bigger than a message may be is refused before a byte of it is
read; a file is read in memory as large as the file, not as its limit.

Memory is measured (tracemalloc, a subprocess under RLIMIT_AS), never time.
"""

from __future__ import annotations

import mailbox
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from imap import PASSWORD, USER
from mailbox_samples import SPEAKER_RECORD, TALK, dsn
from runners import invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server
from test_sources import MESSAGES, FakeImap

from mailer.errors import EX_TEMPFAIL, InputError, TemporaryFailure
from mailer.inbox.reading import MAX_LINES, MAX_PARTS, TooComplex, parse
from mailer.inbox.sources import MAX_MESSAGE_BYTES
from mailer.net.imapclient import Imap
from mailer.paths import MAX_SUBSCRIBER_BYTES, read_regular

NOW = "2024-03-01T08:00"
HUGE = 2_000_000_000


def many_parts(count: int, sender: str = "x@evil.test") -> bytes:
    """A multipart message of ``count`` tiny parts (an attacker's: 24 MB made 3.5 million)."""
    return (f"From: {sender}\r\nTo: lm-seminar@example.org\r\nSubject: parts\r\n"
            f"Message-ID: <parts{count}@evil.test>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="a"\r\n\r\n').encode() +\
        b"--a\r\n\r\nx\r\n" * count + b"--a--\r\n"


def many_lines(count: int) -> bytes:
    return (b"From: y@evil.test\r\nSubject: lines\r\nMessage-ID: <lines@evil.test>\r\n\r\n" +
            b"ab\n" * count)


# -- parsing ---------------------------------------------------------------------------------


def test_a_message_of_many_parts_stops_the_parser_at_the_part_after_the_limit() -> None:
    assert len(parse(many_parts(MAX_PARTS - 2), "k").parsed.get_payload()) == MAX_PARTS - 2
    tracemalloc.start()
    try:
        with pytest.raises(TooComplex, match=rf"more than {MAX_PARTS} MIME parts"):
            parse(many_parts(100_000), "k")  # 1.2 MB: its parts alone would cost some 200 MB
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024


def test_a_message_of_millions_of_lines_is_not_parsed() -> None:
    assert parse(many_lines(1000), "k").parsed.get_content().count("ab") == 1000
    tracemalloc.start()
    try:
        with pytest.raises(TooComplex, match=rf"{MAX_LINES + 4} lines, more than the "):
            parse(many_lines(MAX_LINES), "k")  # 3 MB: its lines would cost 90 MB
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024
    with pytest.raises(TooComplex):  # a CR alone ends a line too, as the parser reads it
        parse(b"Subject: x\r\r" + b"a\r" * MAX_LINES, "k")
    # Generous: a message as big as announce reads, in base64, has not half as many lines.
    assert MAX_MESSAGE_BYTES // 78 < MAX_LINES // 2


# -- the inbox: left unread, named once, the weekly mail goes --------------------------------


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


def test_a_message_of_thousands_of_parts_is_left_unread_and_the_mail_goes(
        organiser: Path, smtp_server: Server) -> None:
    people = subscribe(organiser, 3)
    deliver(organiser, many_parts(5000), many_lines(2 * MAX_LINES))
    result = invoke(organiser, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server)
    assert result.code == 0, result.both
    assert "Traceback" not in result.both
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos) == sorted(people)
    assert "2 new message(s); acted on 0, left 2 alone" in result.out
    assert (f"a message that cannot be read (<parts5000@evil.test> from x@evil.test): "
            f"TooComplex: more than {MAX_PARTS} MIME parts (announce reads at most "
            f"{MAX_PARTS}); not parsed further; left unread") in result.err
    assert (f"(<lines@evil.test> from y@evil.test): TooComplex: {2 * MAX_LINES + 4} lines, "
            f"more than the {MAX_LINES} announce reads; not parsed; left unread") in result.err
    # The rest of the inbox is read as ever: a genuine bounce suppresses its recipient, and
    # what was named is not named again.
    sent = {r.rcpt_tos[0]: str(r.message["Message-ID"]) for r in smtp_server.received}
    deliver(organiser, dsn(people[0], "5.1.1", original_id=sent[people[0]]))
    again = invoke(organiser, "inbox", "--now", "2024-02-19T09:00")
    assert again.code == 0, again.both
    assert f"suppressed {people[0]} (bounced: permanent failure)" in again.out
    assert "evil.test" not in again.both
    assert "3 new message(s); acted on 1, left 2 alone" in again.out
    assert len(mailbox.Maildir(organiser / "inbox", create=False)) == 2


# -- IMAP: a literal bigger than a message may be --------------------------------------------


class HugeLiteral(FakeImap):
    """The test server, announcing a literal of 2 GB at one step (then sending a little of
    it): to UID SEARCH, or for message 2's body (whose RFC822.SIZE it gave as small)."""

    def __init__(self, step: str) -> None:
        super().__init__(MESSAGES)
        self.huge_at = step

    def _answer(self, tag: bytes, text: str) -> bytes:
        if self._step(text) == self.huge_at and (self.huge_at != "BODY" or
                                                 text.split()[2] == "2"):
            return b"* 2 FETCH (UID 2 BODY[] {%d}\r\n" % HUGE + b"x" * 100
        return super()._answer(tag, text)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANNOUNCE_IMAP_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.mark.parametrize(("step", "named"), [("SEARCH", "UID SEARCH UNSEEN"),
                                             ("BODY", "UID FETCH 2 (BODY.PEEK[])")])
def test_a_huge_imap_literal_is_refused_before_it_is_read(
        step: str, named: str, password: str) -> None:
    server = HugeLiteral(step)
    tracemalloc.start()
    try:
        with pytest.raises(TemporaryFailure) as caught,\
                Imap(server.settings(), readonly=True, limit=MAX_MESSAGE_BYTES) as imap:
            assert [key for key, _ in imap.unseen()] == ["1", "2", "3"]
            assert imap.fetch("1") == MESSAGES[1]
            imap.fetch("2")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        server.close()
    assert peak < 16 * 1024 * 1024
    said = str(caught.value)
    assert caught.value.exit_code == EX_TEMPFAIL and "\n" not in said
    assert said.startswith(f"mail.inbox.imap: 127.0.0.1:{server.port} failed at {named} (")
    assert (f"the server announced {HUGE} bytes, more than the {MAX_MESSAGE_BYTES} announce "
            "reads)") in said


@pytest.fixture
def huge_imap(series: Path) -> Iterator[tuple[Path, HugeLiteral]]:
    server = HugeLiteral("BODY")
    edit(series / "seminars" / "series.yaml", ("  smtp:\n", (
        "  inbox:\n    imap:\n      host: 127.0.0.1\n"
        f"      port: {server.port}\n      security: none\n      username: {USER}\n"
        "      timeout: 5\n  smtp:\n")))
    yield series, server
    server.close()


def test_inbox_says_a_huge_literal_in_one_line_exit_75(huge_imap: tuple[Path, HugeLiteral]
                                                        ) -> None:
    root, server = huge_imap
    result = invoke(root, "inbox", "--now", NOW, ANNOUNCE_IMAP_PASSWORD=PASSWORD)
    assert result.code == EX_TEMPFAIL, result.both
    assert "Traceback" not in result.both and "MemoryError" not in result.both
    [line] = [x for x in result.both.splitlines() if "announced" in x]
    assert line.startswith(f"announce: mail.inbox.imap: 127.0.0.1:{server.port} failed at UID "
                           f"FETCH 2 (BODY.PEEK[]) (")
    assert line.endswith("; nothing was marked or moved; the next run reads the mailbox again")


def test_send_due_sends_all_the_same(huge_imap: tuple[Path, HugeLiteral],
                                     smtp_server: Server) -> None:
    root, _ = huge_imap
    people = subscribe(root, 2)
    result = invoke(root, "send", "--due", "--now", "2024-02-19T08:00", server=smtp_server,
                    ANNOUNCE_IMAP_PASSWORD=PASSWORD)
    assert result.code == EX_TEMPFAIL, result.both
    assert "Traceback" not in result.both
    assert f"announced {HUGE} bytes" in result.both
    assert sorted(a for r in smtp_server.received for a in r.rcpt_tos) == sorted(people)


# -- files: read as large as they are ---------------------------------------------------------


def test_read_regular_reads_a_small_file_and_refuses_one_over_the_limit(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"0123456789" * 100_000)
    assert read_regular(small, "a file", inside=tmp_path, limit=MAX_SUBSCRIBER_BYTES) ==\
        b"0123456789" * 100_000
    assert read_regular(small, "a file", inside=None, limit=10**6, head=12) == b"012345678901"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert read_regular(empty, "a file", inside=None, limit=10) == b""
    with pytest.raises(InputError, match=r"small.txt: 1000000 bytes is too large for a file "
                                         r"\(at most 999999 bytes\)"):
        read_regular(small, "a file", inside=None, limit=999_999)


READ_UNDER_A_LIMIT = """
import resource, sys
from pathlib import Path
from mailer.paths import MAX_SUBSCRIBER_BYTES, read_regular

status = Path("/proc/self/status").read_text()
used = int(next(x for x in status.splitlines() if x.startswith("VmSize:")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (used + 32 * 1024 * 1024, resource.RLIM_INFINITY))
data = read_regular(Path(sys.argv[1]), "the record of sent mail", inside=None,
                    limit=MAX_SUBSCRIBER_BYTES)
print(len(data))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists() or
                    resource.getrlimit(resource.RLIMIT_AS)[1] != resource.RLIM_INFINITY,
                    reason="needs Linux's /proc and a raisable address-space limit")
def test_a_small_file_is_read_under_a_memory_limit_smaller_than_the_files_limit(
        tmp_path: Path) -> None:
    assert MAX_SUBSCRIBER_BYTES > 32 * 1024 * 1024
    small = tmp_path / ".sent.log"
    small.write_bytes(b"x" * 1024)
    done = subprocess.run([sys.executable, "-c", READ_UNDER_A_LIMIT, str(small)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1024\n", "")
