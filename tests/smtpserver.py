"""A real SMTP server on loopback for the tests: aiosmtpd in a thread.

Faults are injected by its handler (4xx/5xx replies, dropped connections, slow answers),
never by patching smtplib. :class:`FewConnections` is a relay that takes only so many
connections at once, as Exchange Online and Microsoft 365 do.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


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


def parts(message: EmailMessage) -> dict[str, EmailMessage]:
    """The leaf parts of a message by content type."""
    return {part.get_content_type(): part for part in message.walk()
            if not part.is_multipart()}



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
