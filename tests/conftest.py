"""Shared fixtures: a real SMTP server on loopback, a copy of the example series, a CLI runner.

The SMTP server is aiosmtpd in a thread. Faults are injected by its handler
(4xx/5xx replies, dropped connections, slow answers), never by patching smtplib.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message as the server took it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Faults:
    """What the server does wrong. Each rule is checked for every command."""

    rcpt: Callable[[str], str | None] = lambda address: None  # a reply to give instead of 250
    data: Callable[[int], str | None] = lambda count: None  # by how many messages were accepted
    drop_every: int = 0  # close the connection after this many messages on it
    slow_seconds: float = 0.0  # wait before answering DATA


@dataclass
class Sink:
    """The handler: records what arrives, misbehaves as ``faults`` say."""

    faults: Faults = field(default_factory=Faults)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: SMTPServer, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: SMTPServer, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        count = getattr(session, "messages", 0)
        if self.faults.drop_every and count >= self.faults.drop_every:
            server.transport.close()
            return "421 4.4.2 closing: too many messages on this connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        reply = self.faults.rcpt(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session,
                          envelope: Envelope) -> str:
        if self.faults.slow_seconds:
            await asyncio.sleep(self.faults.slow_seconds)
        with self.lock:
            reply = self.faults.data(len(self.received))
            if reply:
                return reply
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or b"")))
        session.messages = getattr(session, "messages", 0) + 1  # type: ignore[attr-defined]
        return "250 2.0.0 queued"

    def addresses(self) -> list[str]:
        """Every envelope recipient that got a message, in order, with repeats."""
        return [rcpt for item in self.received for rcpt in item.rcpt_tos]


class _Controller(Controller):
    def __init__(self, sink: Sink, **kwargs: Any) -> None:
        super().__init__(sink, **kwargs)
        self.sink = sink

    def factory(self) -> SMTPServer:
        self.sink.connections += 1
        return super().factory()


@dataclass
class Server:
    """A running SMTP server and what it received."""

    host: str
    port: int
    sink: Sink
    controller: Controller

    @property
    def received(self) -> list[Received]:
        return self.sink.received

    def addresses(self) -> list[str]:
        return self.sink.addresses()

    def env(self) -> dict[str, str]:
        return {"ANNOUNCE_SMTP_HOST": self.host, "ANNOUNCE_SMTP_PORT": str(self.port)}


def start_server(**kwargs: Any) -> Server:
    """Start an aiosmtpd server on a free loopback port."""
    sink = Sink()
    port = free_port()
    controller = _Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return Server("127.0.0.1", port, sink, controller)


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """A plain SMTP server on loopback."""
    server = start_server()
    yield server
    server.controller.stop()


def authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """Accept only ``user``/``password`` (AUTH LOGIN / PLAIN)."""
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


@pytest.fixture
def series(tmp_path: Path) -> Path:
    """A copy of the bundled Learning Machines series in a temporary folder."""
    root = tmp_path / "series"
    shutil.copytree(REPO / "seminars", root / "seminars")
    return root


@dataclass
class Result:
    """A finished ``announce`` run."""

    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def cli_env(root: Path, server: Server | None = None, **extra: str) -> dict[str, str]:
    """The environment for one run: the series, its own state folder, the test server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    env.update({"ANNOUNCE_ROOT": str(root), "ANNOUNCE_STATE_DIR": str(root / ".state"),
                "ANNOUNCE_RETRY_SECONDS": "0", "PYTHONIOENCODING": "utf-8"})
    if server is not None:
        env.update(server.env())
    env.update(extra)
    return env


def run(root: Path, *args: str, server: Server | None = None, cwd: Path | None = None,
        timeout: float = 120, **extra: str) -> Result:
    """Run ``announce`` as a user would: a new process, its exit code and output."""
    done = subprocess.run(
        [sys.executable, "-m", "mailer", *args], capture_output=True, text=True,
        env=cli_env(root, server, **extra), cwd=cwd or root, timeout=timeout, check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def popen(root: Path, *args: str, server: Server | None = None,
          **extra: str) -> subprocess.Popen[str]:
    """Start ``announce`` without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "mailer", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=cli_env(root, server, **extra), cwd=root,
    )


def write(path: Path, text: str) -> Path:
    """Write a file (making its folder) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(path: Path, *changes: tuple[str, str]) -> None:
    """Replace text in a file; each old text must be there, so no test edits nothing quietly."""
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"{old!r} is not in {path}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def use_subscriber_file(root: Path, name: str) -> None:
    """Send the series to each subscriber of ``root/name`` instead of the list address."""
    edit(root / "seminars" / "series.yaml",
         ("  to: lm-seminar-list@example.org\n", f"  recipients_file: {name}\n"))


def require_tool(name: str) -> str:
    """Return the tool's path; skip locally when it is absent, fail in CI where it must be."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run installs it")
    pytest.skip(f"{name} is not installed here (CI installs it with apt-get)")
