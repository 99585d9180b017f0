"""Trusted with a list: what a hostile speaker or a careless collaborator writes never forges
a mail, and every bad input is a clear file:line error (exit 2), never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import email
import email.policy
import email.utils
import io
import os
import re
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from runners import invoke
from seriesfiles import TALK, copy_example, edit, make_photo, subscribe, use_subscriber_file, write
from smtpserver import Received, Server, Sink, parts, start_server

FORGED = "=?utf-8?q?Hi=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AFAKE_BODY?="
SHARED = ["Date", "From", "Subject", "Reply-To", "List-Id", "List-Unsubscribe"]


def set_title(series: Path, title: str) -> None:
    record = series / "seminars" / TALK
    lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    # Escapes, not raw characters: PyYAML writes a raw NEL that it then reads as a space.
    lines[at] = "title: " + yaml.safe_dump(title, width=1 << 16).split(
        "\n...")[0].rstrip("\n") + "\n"
    record.write_text("".join(lines), encoding="utf-8")


def received_headers(message: EmailMessage) -> list[str]:
    return [key.lower() for key in message]


def test_an_encoded_word_title_is_the_authors_text_and_forges_nothing(
        series: Path, smtp_server: Server) -> None:
    set_title(series, FORGED)
    assert invoke(series, "check").code == 0  # a strange title is still a title
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    (got,) = smtp_server.received
    message = got.message
    assert received_headers(message) == [h.lower() for h in
                                         ["To", "Message-ID", *SHARED, "MIME-Version",
                                          "Content-Type"]]
    assert message["Reply-To"] == "lm-seminar@example.org"
    assert FORGED in str(message["Subject"])
    assert set(parts(message)) == {"text/plain", "text/html", "text/calendar"}
    assert "evil.example" not in "".join(str(v) for k, v in message.items() if k != "Subject")


def test_hostile_subscriber_names_go_out_as_names_or_stop_the_run_first(
        series: Path, smtp_server: Server) -> None:
    rows = [("email", "name")] + [(f"p{i}@example.org", f"Person {i}") for i in range(60)]
    rows[30] = ("p29x@example.org", FORGED)
    rows[31] = ("p30x@example.org", 'Mathis, "Alex" \\ =?x?=')
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    write(series / "subscribers.csv", buffer.getvalue())
    use_subscriber_file(series, "subscribers.csv")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    assert len(smtp_server.received) == 60
    names = {}
    for item in smtp_server.received:
        raw = email.message_from_bytes(item.data, policy=email.policy.compat32)["To"]
        ((display, address),) = email.utils.getaddresses([raw])
        assert address == item.rcpt_tos[0]
        names[address] = str(make_header(decode_header(display)))
        assert received_headers(item.message).count("reply-to") == 1
    assert names["p29x@example.org"] == FORGED
    assert names["p30x@example.org"] == 'Mathis, "Alex" \\ =?x?='


def test_a_bad_subscriber_line_stops_the_run_before_anyone_is_mailed(
        series: Path, smtp_server: Server) -> None:
    lines = ["email,name"] + [f"p{i}@example.org,Person {i}" for i in range(100)]
    lines[51] = 'p50@example.org,"Bad\rName"'
    write(series / "subscribers.csv", "\n".join(lines) + "\n")
    use_subscriber_file(series, "subscribers.csv")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 2, result.both
    assert "subscribers.csv:52" in result.err
    assert smtp_server.received == []


@pytest.mark.parametrize(("text", "says"), [
    ("title: Meas\x07uring\n", ":5: holds the control character U+0007"),
    ("title: Meas\x1buring\n", ":5: holds the control character U+001B"),
    ('title: "x\\uD800y"\n', ":5: title: 'x\\ud800y' holds \\uD800"),
    ("title: \u202egpj.exe\n", "title: '\\u202egpj.exe' holds the bidirectional control U+202E"),
    ("speaker: A\u2066B\u2069\n", "speaker: 'A\\u2066B\\u2069' holds the bidirectional control"),
    ("title: !important news\n", ":5: YAML tags (!important) are not allowed"),
])
def test_unreadable_record_text_is_a_clear_error(series: Path, text: str, says: str) -> None:
    record = series / "seminars" / TALK
    kept = [line for line in record.read_text(encoding="utf-8").splitlines(keepends=True)
            if not line.startswith(text.split(":", maxsplit=1)[0] + ":")]
    kept.insert(4, text)
    record.write_text("".join(kept), encoding="utf-8")
    result = invoke(series, "check")
    assert result.code == 2, result.both
    assert f"seminars/{TALK}" in result.err and says in result.err, result.err
    assert "Traceback" not in result.both


def test_joiners_that_scripts_need_stay(series: Path) -> None:
    set_title(series, "क्\u200dष and \u200cمی\u200cخواهم")
    assert invoke(series, "check").code == 0


@pytest.mark.parametrize(("value", "says"), [
    ("!foo default", "YAML tags (!foo)"),
    ("!!python/object:os.system default", "YAML tags (tag:yaml.org,2002:python/object"),
    ("!!timestamp 2024-13-45", "YAML tags (tag:yaml.org,2002:timestamp)"),
    ("2024-13-45", "page.front_matter: cannot be read (month must be in 1..12); quote"),
])
def test_yaml_tags_and_bad_values_in_front_matter(series: Path, value: str, says: str) -> None:
    edit(series / "seminars" / "series.yaml", ("    layout: default", f"    layout: {value}"))
    result = invoke(series, "check")
    assert result.code == 2, result.both
    assert "seminars/series.yaml:1" in result.err and says in result.err, result.err


def test_a_password_that_is_not_utf8_is_a_clear_error(series: Path) -> None:
    broken = b"p\xffw".decode("utf-8", "surrogateescape")  # what os.environ holds for it
    result = invoke(series, "send", "--dry-run", "--today", "2024-02-20",
                    ANNOUNCE_SMTP_PASSWORD=broken)
    assert result.code == 2, result.both
    assert "ANNOUNCE_SMTP_PASSWORD holds bytes that are not UTF-8" in result.err
    assert "p\udcffw" not in result.both


def test_a_time_the_clocks_skip_is_refused(series: Path) -> None:
    record = series / "seminars" / "2024-03-31-gap.yaml"
    write(record, "date: 2024-03-31\ntime: \"02:30\"\nspeaker: Ada\ntitle: T\n")
    result = invoke(series, "check")
    assert result.code == 2
    assert ("seminars/2024-03-31-gap.yaml:2: time: 02:30 does not exist on 2024-03-31 in "
            "Europe/Stockholm") in result.err


BREAKS = ["\r", "\n", "\r\n", "\x85", "\u2028", "\u202e", "\u2066", "<", ">"]
LOOKALIKES = ["=?utf-8?q?", "?=", "=0D=0A", "=?utf-8?b?SGk=?=", "Reply-To: x@evil.example",
              " ", ",", '"', "\\", "é", "李"]


def field(tokens: list[str]) -> st.SearchStrategy[str]:
    letters = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                      min_size=1, max_size=8)
    return st.lists(st.one_of(letters, st.sampled_from(tokens)), min_size=1, max_size=6).map(
        lambda parts: "".join(parts).strip()).filter(bool)


def quoted(name: str) -> str:
    """``name`` as an RFC 5322 quoted string, as an organiser would write a display name."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


CLEAN, ANY = field(LOOKALIKES), field(LOOKALIKES + BREAKS)
SINGLE_LINE_BAD = ("\r", "\n", "\x85", "\u2028", "\u2029", "\u202e", "\u2066")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(data=st.data())
def test_generated_header_text_never_changes_the_headers(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    source = CLEAN if data.draw(st.booleans(), label="clean") else ANY
    title, speaker, affiliation, series_name, sender_name, reply_name, person = (
        data.draw(source, label=label) for label in
        ("title", "speaker", "affiliation", "series name", "sender name", "reply-to name",
         "subscriber name"))
    root = copy_example(tmp_path_factory.mktemp("property"))
    set_title(root, title)
    edit(root / "seminars" / TALK, ("speaker: Alexander Mathis\n",
                                    f"speaker: {yaml.safe_dump(speaker, width=1 << 16)}"
                                    .replace("\n...\n", "\n")),
         ("affiliation: EPFL\n", f"affiliation: {yaml.safe_dump(affiliation, width=1 << 16)}"
                                 .replace("\n...\n", "\n")))
    edit(root / "seminars" / "series.yaml",
         ("name: Learning Machines\n",
          f"name: {yaml.safe_dump(series_name, width=1 << 16)}".replace("\n...\n", "\n")),
         ("  from: Learning Machines Seminar <lm-seminar@example.org>\n",
          "  from: " + yaml.safe_dump(f"{quoted(sender_name)} <lm-seminar@example.org>",
                                    width=1 << 16).replace("\n...\n", "\n")),
         ("  reply_to: lm-seminar@example.org\n",
          "  reply_to: " + yaml.safe_dump(f"{quoted(reply_name)} <lm-seminar@example.org>",
                                        width=1 << 16).replace("\n...\n", "\n")))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([("email", "name"), ("one@example.org", person)])
    write(root / "subscribers.csv", buffer.getvalue())
    use_subscriber_file(root, "subscribers.csv")
    server = start_server()
    try:
        result = invoke(root, "send", "2024-02-22", "--today", "2024-02-20", server=server)
        refused = any(bad in field for field in (title, speaker, affiliation, series_name)
                      for bad in SINGLE_LINE_BAD)
        event("refused" if result.code == 2 else "sent")
        if result.code == 2:
            assert "Traceback" not in result.both
            assert server.received == []
            return
        assert not refused, result.both
        assert result.code == 0, result.both
        (got,) = server.received
        message = got.message
        # Each subscriber's copy carries its own List-Unsubscribe (their token).
        shared = [h for h in SHARED if h != "List-Unsubscribe"]
        assert received_headers(message) == [h.lower() for h in [
            "To", "Message-ID", "List-Unsubscribe", *shared, "Precedence", "MIME-Version",
            "Content-Type"]]
        subject = str(message["Subject"])
        assert title in subject and speaker in subject and affiliation in subject
        assert got.rcpt_tos == ["one@example.org"]
        assert set(parts(message)) == {"text/plain", "text/html", "text/calendar"}
    finally:
        server.controller.stop()


# What announce reads: regular files inside the series folder (contract §6).

def test_a_record_that_links_out_of_the_folder_is_refused_and_never_shown(
        series: Path) -> None:
    write(series.parent / "secret.env", "ANNOUNCE_SMTP_PASSWORD=Sw0rdf1sh-9731\n")
    record = series / "seminars" / TALK
    record.unlink()
    record.symlink_to(series.parent / "secret.env")
    result = invoke(series, "check")
    assert result.code == 2
    assert f"seminars/{TALK}: leads out of the series folder" in result.err
    assert "Sw0rdf1sh" not in result.both


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_a_record_that_links_to_a_device_is_refused(series: Path, target: str) -> None:
    record = series / "seminars" / TALK
    record.unlink()
    record.symlink_to(target)
    result = invoke(series, "check")
    assert result.code == 2
    assert f"seminars/{TALK}: leads out of the series folder" in result.err


def test_a_device_inside_the_folder_is_refused_without_reading(series: Path) -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and can make a device node")
        pytest.skip("making a device node needs root")
    record = series / "seminars" / TALK
    record.unlink()
    os.mknod(record, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
    result = invoke(series, "check")
    assert result.code == 2
    assert f"seminars/{TALK}: is a device, expected a talk record" in result.err


def test_a_link_inside_the_folder_is_followed(series: Path) -> None:
    record = series / "seminars" / TALK
    kept = series / "archive" / TALK
    kept.parent.mkdir()
    record.rename(kept)
    record.symlink_to(kept)
    assert invoke(series, "check").code == 0


def test_fifos_are_refused_without_blocking(series: Path) -> None:
    record = series / "seminars" / TALK
    record.unlink()
    os.mkfifo(record)
    result = invoke(series, "check")
    assert result.code == 2
    assert f"seminars/{TALK}: is a FIFO (named pipe), expected a talk record" in result.err


def test_a_photo_that_is_a_fifo_or_links_out_is_refused(series: Path, tmp_path: Path) -> None:
    os.mkfifo(series / "fifo.jpg")
    (series / "out.jpg").symlink_to(make_photo(tmp_path / "elsewhere.jpg", size=50))
    name_photo(series, "fifo.jpg")
    result = invoke(series, "check")
    assert result.code == 2
    assert 'photo: "fifo.jpg": is a FIFO (named pipe)' in result.err
    edit(series / "seminars" / TALK, ("photo: fifo.jpg", "photo: out.jpg"))
    result = invoke(series, "check")
    assert result.code == 2 and 'photo: "out.jpg" is not under the series folder' in result.err


def test_the_subscriber_file_may_live_elsewhere_but_must_be_a_regular_file(
        series: Path, smtp_server: Server, tmp_path: Path) -> None:
    private = write(tmp_path / "private" / "subscribers.txt", "a@example.org\n")
    use_subscriber_file(series, str(private))
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    fifo = tmp_path / "private" / "fifo.txt"
    os.mkfifo(fifo)
    edit(series / "seminars" / "series.yaml", (str(private), str(fifo)))
    result = invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                    server=smtp_server)
    assert result.code == 2
    assert "fifo.txt: is a FIFO (named pipe), expected mail.recipients_file" in result.err


# Bounded work: a pixel budget, JPEGs decoded at the size needed, no text-chunk bombs.

def name_photo(series: Path, written: str) -> None:
    """Give the first talk ``photo: written``."""
    with open(series / "seminars" / TALK, "a", encoding="utf-8") as record:
        record.write(f"photo: {written}\n")


def png_header(width: int, height: int) -> bytes:
    """A PNG that says it is ``width`` x ``height`` (nothing is decoded before the check)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 7)) + chunk(b"IEND", b""))


def test_a_photo_over_the_pixel_budget_is_refused(series: Path) -> None:
    (series / "photos").mkdir()
    (series / "photos" / "huge.png").write_bytes(png_header(12000, 12000))
    name_photo(series, "photos/huge.png")
    result = invoke(series, "check")
    assert result.code == 2
    assert "photos/huge.png: 12000 x 12000 pixels is more than announce decodes" in result.err


def test_a_png_text_chunk_bomb_is_a_clear_error(series: Path) -> None:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "0" * 20_000_000, zip=True)  # 20 MB of text in a few KB
    (series / "photos").mkdir()
    Image.new("RGB", (10, 10)).save(series / "photos" / "bomb.png", pnginfo=info)
    assert (series / "photos" / "bomb.png").stat().st_size < 100_000
    name_photo(series, "photos/bomb.png")
    result = invoke(series, "check")
    assert result.code == 2
    assert "photos/bomb.png: cannot read the photo" in result.err


def test_a_camera_sized_jpeg_is_decoded_small(tmp_path: Path) -> None:
    from PIL import Image

    big = tmp_path / "photos" / "big.jpg"
    big.parent.mkdir()
    Image.new("RGB", (12000, 12000), (90, 120, 160)).save(big, quality=70)
    # A process of its own: its peak memory is the measure. VmHWM, not ru_maxrss, which a
    # child inherits from the process that forked it (this one just held 432 MB of pixels).
    script = ("import re, sys; from pathlib import Path; from mailer.render.photos import square;"
              "square(Path(sys.argv[1]), 'photos/big.jpg');"
              "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                          text=True, check=True, timeout=120)
    peak_mb = int(done.stdout) / 1024
    assert peak_mb < 300, f"{peak_mb:.0f} MB to make a 240-pixel square"


# The ledger is never mistaken for a new one (contract §6).

def sent_once(series: Path, server: Server, count: int) -> Path:
    """Send to ``count`` subscribers; return the ledger file."""
    subscribe(series, count)
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server).code == 0
    assert len(server.received) == count
    return series / ".state" / "ledger.sqlite3"


def refused_with_nothing_sent(series: Path, server: Server, says: str) -> None:
    before = len(server.received)
    for command in (["send", "2024-02-22", "--today", "2024-02-20"],
                    ["send", "--due", "--now", "2024-02-20T08:00"]):
        result = invoke(series, *command, server=server)
        assert result.code == 1, result.both
        assert says in result.err and "nothing was sent" in result.err, result.err
        assert "Traceback" not in result.both
    assert len(server.received) == before


def test_an_empty_ledger_stops_every_send(series: Path, smtp_server: Server) -> None:
    ledger = sent_once(series, smtp_server, 20)
    ledger.write_bytes(b"")
    refused_with_nothing_sent(series, smtp_server, "is damaged (the file is empty)")
    assert ledger.stat().st_size == 0  # not replaced by a new one


@pytest.mark.parametrize("damage", ["garbage", "zeros", "truncated"])
def test_a_damaged_ledger_stops_every_send(series: Path, smtp_server: Server,
                                           damage: str) -> None:
    ledger = sent_once(series, smtp_server, 400)
    data = bytearray(ledger.read_bytes())
    page = 4096
    assert len(data) >= 6 * page
    if damage == "truncated":
        data = data[: len(data) // 2 + 100]
    else:
        fill = bytes(range(256)) * 16 if damage == "garbage" else bytes(page)
        data[3 * page: 4 * page] = fill
    ledger.write_bytes(bytes(data))
    refused_with_nothing_sent(series, smtp_server, "is damaged")


def test_a_ledger_from_a_newer_announce_is_not_written_to(series: Path,
                                                          smtp_server: Server) -> None:
    ledger = sent_once(series, smtp_server, 5)
    with contextlib.closing(sqlite3.connect(ledger)) as db:
        db.execute("PRAGMA user_version = 99")
        db.commit()
    before = ledger.stat()
    data = ledger.read_bytes()
    refused_with_nothing_sent(series, smtp_server, "was written by a newer announce")
    after = ledger.stat()
    assert ledger.read_bytes() == data  # not upgraded, not even in part
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    wal = ledger.with_name(ledger.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # no change waits to be written


def test_a_file_that_is_no_ledger_is_not_taken_for_one(series: Path,
                                                       smtp_server: Server) -> None:
    ledger = sent_once(series, smtp_server, 5)
    ledger.unlink()
    with sqlite3.connect(ledger) as db:
        db.execute("CREATE TABLE notes (text)")
    refused_with_nothing_sent(series, smtp_server, "it holds no announce tables")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 192 KiB tmpfs for the state folder: it fills during a send."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and can mount a tmpfs")
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path / "small"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(folder)],
                   check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_mid_send_says_how_many_went_out(series: Path, smtp_server: Server,
                                                     small_disk: Path) -> None:
    people = subscribe(series, 400)
    state = {"ANNOUNCE_STATE_DIR": str(small_disk / "state")}
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    **state)
    assert result.code == 1, result.both
    went = len(smtp_server.received)
    assert 0 < went < len(people), "the disk did not fill during the send"
    said = re.search(r"this run sent (\d+) message\(s\), recorded in the ledger", result.err)
    assert said, result.err
    unrecorded = re.search(r"and (\d+) more that the server took", result.err)
    assert int(said[1]) + (int(unrecorded[1]) if unrecorded else 0) == went
    assert "nothing was sent" not in result.err
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                   **state)
    assert again.code == 0, again.both
    got = smtp_server.counts()
    assert set(got) == set(people)
    assert sum(got.values()) - len(people) == (int(unrecorded[1]) if unrecorded else 0)


# A relay that stores and then hangs: at most one resend per unconfirmed message per run.

@dataclass
class StoresThenHangs(Sink):
    """Takes every message, then answers its end of data only after ``hang`` seconds."""

    hang: float = 2.5

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or b"")))
        await asyncio.sleep(self.hang)
        return "250 2.0.0 queued, too late"


def test_a_relay_that_stores_and_hangs_gets_at_most_one_resend(series: Path) -> None:
    subscribe(series, 1)
    edit(series / "seminars" / "series.yaml", ("    security: none\n",
                                               "    security: none\n    timeout: 1\n"))
    server = start_server(StoresThenHangs())
    try:
        result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                        ANNOUNCE_RETRY_SECONDS="20")
        assert result.code == 75, result.both
        assert len(server.received) == 2  # the first copy, and one resend
        assert "sent twice without the server's answer" in result.err
        server.sink.hang = 0
        again = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server)
        assert again.code == 0, again.both
        assert len(server.received) == 3
    finally:
        server.controller.stop()


# Where announce writes: a clear line, never a traceback.

@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs folders with the given options (root only, as in CI)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and can mount a tmpfs")
        pytest.skip("mounting a tmpfs needs root")
    made: list[Path] = []

    def mount(options: str) -> Path:
        folder = tmp_path / f"mount{len(made)}"
        folder.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                       check=True)
        made.append(folder)
        return folder
    yield mount
    for folder in made:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("options", ["ro,size=1m", "size=8k"])
def test_a_dry_run_or_preview_on_a_read_only_or_full_state_folder(
        series: Path, mounted: Callable[[str], Path], options: str) -> None:
    folder = mounted(options)
    if "ro" not in options:
        (folder / "filler").write_bytes(b"x" * 4096)  # what is left is too little
    state = {"ANNOUNCE_STATE_DIR": str(folder / "state")}
    for command in (["send", "--dry-run", "--today", "2024-02-20"],
                    ["preview", "2024-02-22"]):
        result = invoke(series, *command, **state)
        assert result.code == 2, result.both
        assert "cannot write" in result.err and "Traceback" not in result.both
        assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(("command", "out", "says"), [
    (["preview", "2024-02-22"], "a-file", "a file stands where a folder is needed"),
    (["page", "--all"], "a-file", "a file stands where a folder is needed"),
    (["images", "2024-02-22"], "a-file", "a file stands where a folder is needed"),
    (["page", "2024-02-22"], "a-folder", "it is a folder; give a file name"),
    (["ics"], "a-folder", "it is a folder; give a file name"),
    (["program", "2024"], "a-folder", "it is a folder; give a file name"),
    (["page", "2024-02-22"], "/proc/announce-test", "cannot write the file"),
])
def test_out_of_the_wrong_kind_is_a_clear_error(series: Path, command: list[str], out: str,
                                               says: str) -> None:
    write(series / "a-file", "mine\n")
    (series / "a-folder").mkdir()
    result = invoke(series, *command, "--out", out)
    assert result.code == 2, result.both
    assert says in result.err and "Traceback" not in result.both
    assert (series / "a-file").read_text(encoding="utf-8") == "mine\n"


def test_init_on_a_file_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", "mine\n")
    result = invoke(tmp_path, "init", str(tmp_path / "notes.txt"))
    assert result.code == 2
    assert "notes.txt: is a file; give the folder to make the series in" in result.err


@pytest.mark.parametrize(("name", "text", "says"), [
    ("2024-02-31-x.md", "**Title:** x\n",
     "2024-02-31-x.md:1: the file name's date: 2024-02-31 is not a day of the calendar"),
    ("page.md", "---\nlayout: x\ndate: 2024-13-01\n---\n**Title:** x\n",
     "page.md:3: front matter: date: 2024-13-01 is not a day of the calendar"),
])
def test_impossible_dates_on_import_are_clear_errors(series: Path, name: str, text: str,
                                                    says: str) -> None:
    page = write(series.parent / "archive" / name, text)
    result = invoke(series, "import", str(page))
    assert result.code == 2, result.both
    assert says in result.err


@pytest.mark.parametrize("url", ["mailto:a@example.org>, <https://evil.example",
                                 "https://example.org/leave me", "https://example.org/é"])
def test_the_unsubscribe_address_is_one_url(series: Path, url: str) -> None:
    edit(series / "seminars" / "series.yaml",
         ("  unsubscribe: mailto:lm-seminar-list-leave@example.org\n",
          f"  unsubscribe: {yaml.safe_dump(url, width=1 << 16)}".replace("\n...\n", "\n")))
    result = invoke(series, "check")
    assert result.code == 2
    assert "mail.unsubscribe: " in result.err and "must be one mailto: or https://" in result.err


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_a_raw_line_break_yaml_would_fold_is_refused(series: Path, char: str) -> None:
    edit(series / "seminars" / TALK, ("title: Measuring", f"title: 'Meas{char}uring"),
         ("machine learning\n", "machine learning'\n"))
    result = invoke(series, "check")
    assert result.code == 2
    assert f"{TALK}:5: holds the line break U+{ord(char):04X}, which YAML folds" in result.err
