"""What the tests share: a real SMTP server on loopback, ways to run announce, file helpers.

The SMTP server is aiosmtpd in a thread. Faults are injected by its handler (4xx/5xx
replies, dropped connections, slow answers), never by patching smtplib. ``invoke``
runs announce in this process through Typer's CliRunner; ``run`` starts a new process,
for the few tests where a process is the point (kill -9, a terminal, start-up imports).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email
import email.policy
import html.parser
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from typer.testing import CliRunner

from mailer.cli import app

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
TALK = "2024-02-22-mathis.yaml"


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
    pipelining: bool = True  # offer PIPELINING, as every real relay does
    open_now: int = 0  # connections open at this moment
    most_open: int = 0  # the most that were ever open at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: SMTPServer, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
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


class _CountingSMTP(SMTPServer):
    """aiosmtpd's server, counting the connections open at once."""

    def connection_made(self, transport: Any) -> None:
        sink = self.event_handler
        with sink.lock:
            sink.open_now += 1
            sink.most_open = max(sink.most_open, sink.open_now)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        sink = self.event_handler
        with sink.lock:
            sink.open_now -= 1
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, sink: Sink, **kwargs: Any) -> None:
        super().__init__(sink, **kwargs)
        self.sink = sink

    def factory(self) -> SMTPServer:
        self.sink.connections += 1
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


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
        """Every envelope recipient that got a message, in order, with repeats."""
        return [rcpt for item in self.sink.received for rcpt in item.rcpt_tos]

    def counts(self) -> collections.Counter[str]:
        """How many messages each recipient got."""
        return collections.Counter(self.addresses())

    def env(self) -> dict[str, str]:
        return {"ANNOUNCE_SMTP_HOST": self.host, "ANNOUNCE_SMTP_PORT": str(self.port)}


def start_server(sink: Sink | None = None, **kwargs: Any) -> Server:
    """Start an aiosmtpd server on a free loopback port, with ``sink`` as its handler."""
    sink = sink or Sink()
    port = free_port()
    controller = _Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return Server("127.0.0.1", port, sink, controller)


def tls_server(authority: trustme.CA, *, implicit: bool, **kwargs: Any) -> Server:
    """A server with a certificate from ``authority``: implicit TLS, or STARTTLS required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    if implicit:
        return start_server(ssl_context=context, **kwargs)
    return start_server(tls_context=context, require_starttls=True, **kwargs)


def authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """Accept only ``user``/``password`` (AUTH LOGIN / PLAIN)."""
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


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
    """The environment of one run: the series, its own state folder, the test server."""
    env = {"ANNOUNCE_ROOT": str(root), "ANNOUNCE_STATE_DIR": str(root / ".state"),
           "ANNOUNCE_RETRY_SECONDS": "0"}
    if server is not None:
        env.update(server.env())
    env.update(extra)
    return env


# The bundled season is 2024's: a send by hand acts as on the Tuesday of its first week,
# unless the test names the day (--today) or the moment (--now, --due) itself. Without a
# day, "now" is today, when every bundled talk has started and a send is refused.
SEASON_TODAY = "2024-02-20"


def by_hand(args: tuple[str, ...]) -> list[str]:
    """``args``, with ``--today`` for a ``send`` that names no day or moment."""
    command = [a for a in args if not a.startswith("-")][:1]
    if command == ["send"] and not {"--today", "--now", "--due"} & set(args):
        return [*args, "--today", SEASON_TODAY]
    return list(args)


def invoke(root: Path, *args: str, server: Server | None = None, cwd: Path | None = None,
           **extra: str) -> Result:
    """Run ``announce`` in this process, in ``root`` as the working folder."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ANNOUNCE_")}
    env.update(cli_env(root, server, **extra))
    with contextlib.chdir(cwd or root):
        done = CliRunner().invoke(app, by_hand(args), env=env, catch_exceptions=False)
    return Result(done.exit_code, done.stdout, done.stderr)


def _process_env(root: Path, server: Server | None, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    env.update(cli_env(root, server, **extra))
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(root: Path, *args: str, server: Server | None = None, timeout: float = 120,
        **extra: str) -> Result:
    """Run ``announce`` as a new process, as cron would."""
    done = subprocess.run([sys.executable, "-m", "mailer", *by_hand(args)], capture_output=True,
                          text=True, env=_process_env(root, server, extra), cwd=root,
                          timeout=timeout, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def popen(root: Path, *args: str, server: Server | None = None,
          **extra: str) -> subprocess.Popen[str]:
    """Start ``announce`` as a new process without waiting for it."""
    return subprocess.Popen([sys.executable, "-m", "mailer", *by_hand(args)],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=_process_env(root, server, extra), cwd=root)


def copy_example(root: Path) -> Path:
    """Copy the bundled Learning Machines series into ``root``."""
    shutil.copytree(REPO / "seminars", root / "seminars", dirs_exist_ok=True)
    return root


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


def subscribe(root: Path, count: int, *, text: str | None = None) -> list[str]:
    """Point the series at a subscriber file of ``count`` addresses; return them."""
    addresses = [f"person{i:05d}@example.org" for i in range(count)]
    write(root / "subscribers.txt", text if text is not None else "\n".join(addresses) + "\n")
    use_subscriber_file(root, "subscribers.txt")
    return addresses


def make_photo(path: Path, size: int = 2400, shade: int = 0) -> Path:
    """Draw a portrait-like JPEG of ``size`` pixels (a speaker's photo is often this big)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (70 + shade, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size * 0.3, size * 0.15, size * 0.7, size * 0.6), fill=(230, 190, 160))
    draw.rectangle((size * 0.2, size * 0.62, size * 0.8, size), fill=(40, 60, 90 + shade))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92)
    return path


def add_photo(series: Path, talk: str = TALK, name: str = "mathis.jpg", **draw: int) -> Path:
    """Give a talk of ``series`` a photo under photos/; return the photo's path."""
    photo = make_photo(series / "photos" / name, **draw)
    with open(series / "seminars" / talk, "a", encoding="utf-8") as record:
        record.write(f"photo: photos/{name}\n")
    return photo


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    """The leaf parts of a message by content type."""
    return {part.get_content_type(): part for part in message.walk()
            if not part.is_multipart()}


class _Service(Protocol):
    def configure(self) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


ServiceT = TypeVar("ServiceT", bound=_Service)


@contextlib.contextmanager
def private_service(make: Callable[[Path, int], ServiceT], prefix: str) -> Iterator[ServiceT]:
    """A private Postfix or Dovecot on a free loopback port, in a folder of its own (not
    pytest's private temporary folders: the service's own users must reach it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    service = make(base, free_port())
    try:
        service.configure()
        service.start()
        yield service
    finally:
        service.stop()
        shutil.rmtree(base, ignore_errors=True)


def require_root_tools(tools: tuple[str, ...], master: str, hint: str) -> None:
    """Skip (or, in CI, fail) unless ``tools`` are installed and we are root (``master``, such
    as "Postfix's master", starts as root); ``hint`` says how CI gets them."""
    missing = [tool for tool in tools if not shutil.which(tool)]
    why = (f"{', '.join(missing)} not installed" if missing else
           f"{master} must be started as root" if os.geteuid() != 0 else "")
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; {hint}")
        pytest.skip(f"{why} (CI runs these tests)")


def require_tool(name: str) -> str:
    """Return the tool's path; skip locally when it is absent, fail in CI where it must be."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run installs it")
    pytest.skip(f"{name} is not installed here (CI installs it with apt-get)")


class _Visible(html.parser.HTMLParser):
    """The text a browser shows: every text node, entities decoded, script and style too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_head = tag == "head" or (self.in_head and tag != "body")
        if not self.in_head:  # the layout's own <style> in <head> is ours, not user text
            self.elements.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False

    def handle_data(self, data: str) -> None:
        if not self.in_head:
            self.parts.append(data)


def visible(document: str) -> _Visible:
    parser = _Visible()
    parser.feed(document)
    parser.close()
    return parser


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def shown(document: str) -> str:
    return "".join(visible(document).parts)


def author_words(text: str) -> list[str]:
    """The words of ``text`` once its markup (the formatting tags, entities) is taken away."""
    text = re.sub(r"</?(?:b|i|em|strong|sup|sub|br|code|a|p|ul|ol|li)\s*/?>", " ", text)
    return words(text.replace("&#x27;", "'").replace("&amp;", "&"))


def in_order(needles: list[str], text: str) -> bool:
    """Whether every needle is in ``text``, each after the one before."""
    at = 0
    for needle in needles:
        found = text.find(needle, at)
        if found < 0:
            return False
        at = found + len(needle)
    return True


def subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(char in rest for char in short)


def assert_no_active_content(document: str) -> None:
    for tag, attrs in visible(document).elements:
        assert tag not in ("script", "style", "iframe", "svg", "img", "object"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not re.match(r"\s*(javascript|vbscript|data):", value or "", re.I), value


def without_liquid(body: str) -> str:
    """A talk page's body, checked to hold no brace (so no Liquid tag or output) and returned
    as Jekyll's Liquid leaves it: unchanged. test_liquid.py builds such pages with Jekyll."""
    assert "{" not in body and "}" not in body, "a brace is left for Liquid"
    return body


EXCHANGE_TOO_MANY = ("421 4.3.2 The maximum number of concurrent connections has exceeded a "
                     "limit, closing transmission channel")


@dataclass
class FewConnections(Sink):
    """A relay that takes ``most`` connections at once. The others are turned away with
    ``refusal``: at the greeting (Exchange Online's 421), or, with ``at_mail``, at each MAIL
    (Microsoft 365's "432 4.3.2 ... sender thread limit exceeded" for a fourth submission)."""

    most: int = 1
    refusal: str = EXCHANGE_TOO_MANY
    at_mail: bool = False
    admitted: int = 0  # connections holding a place now
    turned_away: int = 0  # connections (or, at_mail, messages) refused for too many

    async def handle_MAIL(self, server: SMTPServer, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if self.at_mail and not getattr(server, "admitted", True):
            with self.lock:
                self.turned_away += 1
            return self.refusal
        return await super().handle_MAIL(server, session, envelope, address, options)


class _FewSMTP(_CountingSMTP):
    """aiosmtpd's server, giving a connection a place, or turning it away, as it arrives."""

    admitted = False

    async def _handle_client(self) -> None:
        sink = self.event_handler
        with sink.lock:
            self.admitted = sink.admitted < sink.most
            sink.admitted += self.admitted
            sink.turned_away += not (self.admitted or sink.at_mail)
        if self.admitted or sink.at_mail:
            await super()._handle_client()
            return
        await self.push(sink.refusal)
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self.admitted:
            with self.event_handler.lock:
                self.event_handler.admitted -= 1
            self.admitted = False
        super().connection_lost(error)


class _FewController(_Controller):
    def factory(self) -> SMTPServer:
        self.sink.connections += 1
        return _FewSMTP(self.handler, **self.SMTP_kwargs)


def start_few_connections_server(sink: FewConnections) -> Server:
    """Start a server that takes ``sink.most`` connections at once (see :class:`FewConnections`),
    once the connection aiosmtpd opens to check itself has left (it would hold a place)."""
    port = free_port()
    controller = _FewController(sink, hostname="127.0.0.1", port=port)
    controller.start()
    for _ in range(500):
        with sink.lock:
            if sink.open_now == 0:
                break
        threading.Event().wait(0.01)
    with sink.lock:
        sink.admitted = sink.turned_away = 0
    return Server("127.0.0.1", port, sink, controller)
