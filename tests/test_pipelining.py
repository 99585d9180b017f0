"""One round trip a message (RFC 2920 3.1), proved on the wire: a small SMTP server that keeps
every read as it arrived sees the end of one message's data and the next message's MAIL, RCPT
and DATA in the same read; refusals inside such a group are handled as any refusal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from runners import invoke
from seriesfiles import edit, subscribe

from mailer.delivery.ledger import Ledger


@dataclass
class Wire:
    """A plain SMTP server on loopback that logs each read; it refuses some recipients."""

    pipelining: bool = True
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply
    reads: list[bytes] = field(default_factory=list)
    messages: list[list[str]] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)  # every command's verb, as it came
    greeted: threading.Event = field(default_factory=threading.Event)  # an EHLO came
    hold_first: int = 0  # answer the first message only once this many EHLOs came (or 10 s)
    ehlos_before_first: int = 0  # how many had come when it was answered
    port: int = 0

    def start(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(b"220 wire ESMTP\r\n")
            buffer = b""
            in_data = False
            body: list[bytes] = []
            rcpts: list[str] = []
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                self.reads.append(chunk)
                buffer += chunk
                while b"\r\n" in buffer:
                    line, buffer = buffer.split(b"\r\n", 1)
                    if in_data:
                        if line == b".":
                            in_data = False
                            if not self.messages:
                                self._hold()
                            self.messages.append(rcpts)
                            rcpts = []
                            conn.sendall(b"250 2.0.0 queued\r\n")
                        else:
                            body.append(line)
                        continue
                    reply = self._reply(line.decode(), rcpts)
                    if reply == "354":
                        in_data = True
                        reply = "354 go ahead"
                    conn.sendall(reply.encode() + b"\r\n")
                    if reply.startswith("221"):
                        return

    def _hold(self) -> None:
        for _ in range(500):
            if self.verbs.count("EHLO") >= self.hold_first:
                break
            threading.Event().wait(0.02)
        self.ehlos_before_first = self.verbs.count("EHLO")

    def _reply(self, line: str, rcpts: list[str]) -> str:
        verb = line[:4].upper()
        self.verbs.append(verb)
        if verb == "EHLO":
            self.greeted.set()
        if verb == "RCPT":
            address = line.split("<", 1)[1].rstrip(">")
            if address not in self.refuse:
                rcpts.append(address)
            return self.refuse.get(address, "250 2.1.5 ok")
        if verb in ("MAIL", "RSET"):
            rcpts.clear()
        fixed = {"EHLO": "250-wire\r\n250 PIPELINING" if self.pipelining else "250 wire",
                 "DATA": "354" if rcpts else "554 5.5.1 no valid recipients",
                 "QUIT": "221 2.0.0 bye"}
        return fixed.get(verb, "250 2.0.0 ok")


@pytest.fixture
def wire() -> Iterator[Wire]:
    server = Wire()
    server.start()
    yield server
    server.sock.close()


def send(series: Path, server: Wire, *more: str) -> tuple[int, str]:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", *more,
                    ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(server.port),
                    ANNOUNCE_SMTP_CONNECTIONS="1", ANNOUNCE_RETRY_SECONDS="0")
    return result.code, result.both


def test_the_next_envelope_follows_the_end_of_data_in_the_same_read(series: Path,
                                                                     wire: Wire) -> None:
    people = subscribe(series, 20)
    code, out = send(series, wire)
    assert code == 0, out
    assert sorted(r[0] for r in wire.messages) == sorted(people)
    together = [read for read in wire.reads if b"\r\n.\r\nMAIL FROM:" in read]
    # Every message brought the next one's envelope, but the last, and perhaps the first
    # (it may leave before the pool, told of the login, hands the connection a second).
    assert len(together) in (len(people) - 2, len(people) - 1)
    assert all(read.rstrip().endswith(b"DATA") for read in together)


def test_without_pipelining_the_dialogue_is_plain(series: Path, wire: Wire) -> None:
    wire.pipelining = False
    subscribe(series, 5)
    assert send(series, wire)[0] == 0
    assert not [read for read in wire.reads if b"MAIL FROM:" in read and b"\r\n.\r\n" in read]
    assert len(wire.messages) == 5


def test_refusals_inside_a_group_are_recorded_as_any_refusal(series: Path,
                                                             wire: Wire) -> None:
    people = subscribe(series, 8)
    wire.refuse = {people[3]: "550 5.1.1 no such user", people[5]: "451 4.3.0 try later"}
    code, out = send(series, wire)
    assert code == 75, out  # one is left for the next run
    got = sorted(r[0] for r in wire.messages)
    assert got == sorted(p for p in people if p not in (people[3], people[5]))
    with Ledger(series / ".state") as ledger:
        campaign = ledger.latest_campaign("2024-02-22-mathis", "announcement")  # type: ignore[arg-type]
        assert campaign is not None
        settled = ledger.settled(campaign)
    assert settled[people[3]] == "refused" and people[5] not in settled
    wire.refuse = {}
    assert send(series, wire)[0] == 0
    assert sorted(r[0] for r in wire.messages).count(people[5]) == 1


@pytest.fixture(autouse=True)
def _quick_timeouts(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("    security: none\n",
                                               "    security: none\n    timeout: 5\n"))


def test_the_trace_of_a_pipelined_write_shows_no_body(series: Path, wire: Wire) -> None:
    subscribe(series, 6)
    result = invoke(series, "--verbose", "send", "2024-02-22", "--today", "2024-02-20",
                    ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(wire.port),
                    ANNOUNCE_SMTP_CONNECTIONS="1")
    assert result.code == 0, result.both
    lines = result.err.splitlines()
    bodies = [i for i, line in enumerate(lines) if line.endswith("bytes, and its final .>")]
    assert len(bodies) == 6
    assert lines[bodies[1] + 1] == "smtp[1] > MAIL FROM:<lm-seminar@example.org>"
    assert not any("Mathis" in line or "Unsubscribe" in line for line in lines)


def test_the_first_connection_opens_while_the_mail_renders(series: Path, wire: Wire,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The render waits (up to 10 s) for the server to see EHLO: only a connection opened
    # during the render lets it see one.
    from mailer.mail import composing

    seen: list[bool] = []
    render = composing.render_talk

    def slow_render(*args: Any, **kwargs: Any) -> Any:
        seen.append(wire.greeted.wait(10))
        return render(*args, **kwargs)

    monkeypatch.setattr(composing, "render_talk", slow_render)
    people = subscribe(series, 3)
    code, out = send(series, wire)
    assert code == 0, out
    assert seen == [True]
    assert sorted(r[0] for r in wire.messages) == sorted(people)
    assert wire.verbs.count("EHLO") == 1  # the connection opened ahead is the one used


def test_a_run_refused_after_the_connection_opened_sends_nothing_and_quits(
        series: Path, wire: Wire) -> None:
    subscribe(series, 3)
    # A talk after this one is broken: found while the mail is composed, the connection
    # already opening.
    edit(series / "seminars" / "2024-03-07-up-for-grabs.yaml",
         ("note: Up for grabs", "note: [broken"))
    code, out = send(series, wire)
    assert code == 2, out
    assert "2024-03-07-up-for-grabs.yaml" in out
    assert "Traceback" not in out
    assert wire.greeted.wait(10)
    for _ in range(100):  # QUIT goes in the background
        if "QUIT" in wire.verbs:
            break
        threading.Event().wait(0.05)
    assert wire.verbs == ["EHLO", "QUIT"]
    assert not wire.messages


def test_the_other_connections_open_once_the_first_has_logged_in(series: Path,
                                                                 wire: Wire) -> None:
    # The first message is answered only once four connections said EHLO (or after 10 s):
    # the others must not wait for that answer, only for the first login.
    people = subscribe(series, 12)
    wire.hold_first = 4
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                    ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(wire.port),
                    ANNOUNCE_SMTP_CONNECTIONS="4")
    assert result.code == 0, result.both
    assert wire.ehlos_before_first == 4
    assert sorted(r[0] for r in wire.messages) == sorted(people)
