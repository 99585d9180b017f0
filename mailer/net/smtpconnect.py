"""Reaching the relay: connect, secure the connection, log in; and what the relay offers.

Errors say what to change: a TLS mode that does not fit the port gets a hint (implicit
TLS on 465, STARTTLS on 587 and 25), found without waiting out the whole timeout where
it can be; a host name that does not resolve is a configuration error, not a retry for
ever. Certificates are verified with the system trust store (``SSL_CERT_FILE``
respected); nothing turns verification off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailer import trace
from mailer.errors import DeliveryError, InputError, TemporaryFailure
from mailer.net.login import log_in
from mailer.net.servers import SmtpSettings

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

PROBE_AFTER_SECONDS = 8.0  # longer than a greeting delay (Postfix postscreen waits 6 s)
_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_PLAIN_ON_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                 "UNKNOWN_PROTOCOL", "HTTP_REQUEST")


class ModeMismatch(InputError):
    """The TLS mode does not fit what the port speaks."""


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def describe_error(exc: BaseException) -> str:
    """Say in a few words why a network step failed."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"host name not found ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {reply_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def reply_text(raw: bytes | str) -> str:
    """A server reply on one line, at most 300 characters."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:300]


def _speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether the port answers a TLS handshake (a probe: no certificate check, no data)."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE  # only asks "is this TLS?"; nothing is sent over it
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw,\
                probe.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ssl.SSLError):
        return False


class _Traced(smtplib.SMTP):
    """smtplib's client writing its dialogue to :data:`mailer.trace.sink` (``--verbose``).

    What could be a secret never reaches the trace: an AUTH command shows its mechanism
    only, and every line the client sends until the server ends the exchange (a reply
    other than 334) is ``****``. A message's body shows as its size.
    """

    _number = 0
    _secret = False

    def _say(self, line: str) -> None:
        if trace.sink is not None:
            if not self._number:
                self._number = trace.number()
            trace.sink(f"smtp[{self._number}] {line}")

    def send(self, s: ReadableBuffer | str) -> None:
        """Send ``s``, and say what was sent."""
        if trace.sink is not None:
            data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
            # A body ends at the first CRLF . CRLF (it is dot-stuffed); the next message's
            # MAIL, RCPT and DATA may follow it in the same write (RFC 2920 3.1).
            found = data.find(b"\r\n.\r\n")
            end = 3 if data.startswith(b".\r\n") else found + 5 if found >= 0 else 0
            if end:
                self._say(f"> <the message, {end} bytes, and its final .>")
                data = data[end:]
            for line in data.decode("utf-8", "replace").split("\r\n")[:-1]:
                self._say(f"> {self._shown(line)}")
        super().send(s)

    def _shown(self, line: str) -> str:
        """A line the client sends, as the trace shows it: no credentials."""
        if line.upper().startswith("AUTH "):
            self._secret = True
            return " ".join(line.split()[:2]) + " ****"
        return "****" if self._secret else line

    def getreply(self) -> tuple[int, bytes]:
        """Read a reply, and say what it was."""
        code, message = super().getreply()
        if trace.sink is not None:
            self._secret = self._secret and code == 334
            lines = message.decode("utf-8", "replace").split("\n") or [""]
            for number, line in enumerate(lines):
                self._say(f"< {code}{'-' if number < len(lines) - 1 else ' '}{line}")
        return code, message


class _TracedTLS(_Traced, smtplib.SMTP_SSL):
    """Implicit TLS (port 465), traced."""


class _PlainSMTP(_Traced):
    """smtplib's client that notices a port speaking implicit TLS instead of waiting it out."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        deadline = time.monotonic() + timeout
        try:
            sock.settimeout(min(PROBE_AFTER_SECONDS, timeout / 3))
            try:
                sock.recv(1, socket.MSG_PEEK)  # the greeting, left for smtplib to read
            except TimeoutError:
                if _speaks_tls(host, port, min(timeout, 10.0)):
                    raise ModeMismatch(
                        f"{host}:{port} speaks TLS from the first byte and sends no plain "
                        "greeting: set mail.smtp.security to tls (implicit TLS, usually port "
                        "465)") from None
                sock.settimeout(max(deadline - time.monotonic(), 0.01))
                sock.recv(1, socket.MSG_PEEK)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(timeout)
        return sock


@dataclass(frozen=True)
class ServerInfo:
    """What ``check --smtp`` found out about the relay."""

    where: str
    security: str
    greeting: str
    tls: str | None
    features: dict[str, str]
    login: str


@contextlib.contextmanager
def _mapped(settings: SmtpSettings, conn: list[smtplib.SMTP]) -> Iterator[None]:
    """Turn what can go wrong while connecting into announce's errors, closing the socket."""
    where = f"{settings.host}:{settings.port}"
    try:
        yield
    except BaseException as exc:
        for open_conn in conn:
            with contextlib.suppress(OSError):
                open_conn.close()
        if isinstance(exc, ssl.SSLCertVerificationError):
            raise DeliveryError(
                f"{where}: the server's TLS certificate is not trusted ({exc.verify_message}); "
                "nothing was sent. Trust its CA (SSL_CERT_FILE) or fix the host name") from None
        if isinstance(exc, ssl.SSLError):
            if settings.security == "tls" and str(exc.reason).upper() in _PLAIN_ON_TLS:
                raise ModeMismatch(
                    f"{where} speaks plain SMTP, not TLS from the first byte: set "
                    "mail.smtp.security to starttls (usual on 587 and 25)") from None
            raise DeliveryError(f"{where}: TLS failed ({exc.reason}); nothing was sent")\
                from None
        if isinstance(exc, socket.gaierror) and exc.errno in _NO_SUCH_HOST:
            raise InputError(f"mail.smtp.host: {settings.host} does not resolve (no such host "
                             "name): check the name; nothing was sent") from None
        if isinstance(exc, smtplib.SMTPException | OSError) and not isinstance(exc, InputError):
            raise TemporaryFailure(f"cannot reach the SMTP server {where}: "
                                   f"{describe_error(exc)}") from None
        raise


def connect(settings: SmtpSettings) -> tuple[smtplib.SMTP, str | None]:
    """Connect, secure the connection and log in; return it and the login mechanism used."""
    where = f"{settings.host}:{settings.port}"
    if settings.username and settings.security == "none" and not loopback(settings.host):
        raise InputError(f"refusing to send the password for {settings.username} to {where} "
                         "over an unencrypted connection: set mail.smtp.security to starttls "
                         "or tls")
    context = ssl.create_default_context()
    opened: list[smtplib.SMTP] = []
    with _mapped(settings, opened):
        conn: smtplib.SMTP
        if settings.security == "tls":
            conn = _TracedTLS(settings.host, settings.port, timeout=settings.timeout,
                              context=context)
        else:
            conn = _PlainSMTP(settings.host, settings.port, timeout=settings.timeout)
        opened.append(conn)
        conn.ehlo()
        if settings.security == "starttls":
            if not conn.has_extn("starttls"):
                raise DeliveryError(f"{where} does not offer STARTTLS; nothing was sent "
                                    "(mail.smtp.security is starttls)")
            conn.starttls(context=context)
            conn.ehlo()
        mechanism = log_in(conn, settings, where) if settings.username else None
    return conn, mechanism


def _tls_of(conn: smtplib.SMTP) -> str | None:
    sock: Any = conn.sock
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    return f"{sock.version()}, {cipher[0] if cipher else 'cipher unknown'}, certificate verified"


def check_relay(settings: SmtpSettings) -> ServerInfo:
    """Connect, negotiate TLS, log in and say QUIT; return what the relay offers."""
    conn, mechanism = connect(settings)
    try:
        info = ServerInfo(
            where=f"{settings.host}:{settings.port}", security=settings.security,
            greeting=reply_text(conn.ehlo_resp or b""), tls=_tls_of(conn),
            features=dict(conn.esmtp_features),
            login=f"logged in as {settings.username} (AUTH {mechanism})" if mechanism
            else "no login set")
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            conn.quit()
    return info
