"""One SMTP session: TLS, login, timeouts, reuse; SMTP replies mapped to outcomes and errors.

The password is read from the environment inside :meth:`SmtpTransport.open`, at
the moment of login, and is not kept. Certificates are verified with the system
trust store (``SSL_CERT_FILE`` respected); nothing turns verification off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Sequence
from typing import NamedTuple

from mailer.config import SmtpSettings, smtp_password
from mailer.errors import DeliveryError, InputError, TemporaryFailure


class Outcome(NamedTuple):
    """The server's answer for one recipient."""

    code: int
    text: str

    @property
    def ok(self) -> bool:
        """Whether the server took the message for this recipient."""
        return self.code == 250

    @property
    def temporary(self) -> bool:
        """Whether trying again later may work (4xx)."""
        return 400 <= self.code < 500


class ConnectionLost(TemporaryFailure):
    """The server closed the connection or stopped answering during a transaction."""


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:300]


class SmtpTransport:
    """A reusable connection to the relay."""

    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings = settings
        self.sender = sender
        self.where = f"{settings.host}:{settings.port}"
        self._conn: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect, secure the connection and log in, as the settings say."""
        self.close()
        settings = self.settings
        if settings.username and settings.security == "none" and not _loopback(settings.host):
            raise InputError(
                f"refusing to send the password for {settings.username} to {self.where} over an "
                "unencrypted connection: set mail.smtp.security to starttls or tls"
            )
        context = ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if settings.security == "tls":
                conn = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                        context=context)
            else:
                conn = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            conn.ehlo()
            if settings.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise DeliveryError(f"{self.where} does not offer STARTTLS; nothing was sent "
                                        "(mail.smtp.security is starttls)")
                conn.starttls(context=context)
                conn.ehlo()
            if settings.username:
                self._login(conn, settings.username)
        except ssl.SSLCertVerificationError as exc:
            self._drop(conn)
            raise DeliveryError(
                f"{self.where}: the server's TLS certificate is not trusted "
                f"({exc.verify_message}); nothing was sent. Trust its CA (SSL_CERT_FILE) "
                "or fix the host name"
            ) from None
        except ssl.SSLError as exc:
            self._drop(conn)
            raise DeliveryError(f"{self.where}: TLS failed ({exc.reason}); nothing was sent") \
                from None
        except (DeliveryError, InputError):
            self._drop(conn)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop(conn)
            raise TemporaryFailure(f"cannot reach the SMTP server {self.where}: "
                                   f"{_describe(exc)}") from None
        self._conn = conn

    def _login(self, conn: smtplib.SMTP, username: str) -> None:
        if not conn.has_extn("auth"):
            raise DeliveryError(f"{self.where} offers no login (AUTH), but mail.smtp.username "
                                "is set")
        password = smtp_password()
        if password is None:
            raise InputError(f"mail.smtp.username is {username}, but ANNOUNCE_SMTP_PASSWORD is "
                             "not set")
        try:
            conn.login(username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{self.where}: login refused for user {username} "
                                f"({exc.smtp_code})") from None
        finally:
            del password

    @staticmethod
    def _drop(conn: smtplib.SMTP | None) -> None:
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Say QUIT when the connection is still there, and forget it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            self._drop(conn)

    def send(self, recipients: Sequence[str], data: bytes) -> dict[str, Outcome]:
        """Send one message (``data`` dot-stuffed, CRLF-terminated) to ``recipients``.

        Returns each recipient's outcome. Raises :class:`ConnectionLost` when the
        connection breaks before the server has answered the end of DATA.
        """
        if self._conn is None:
            self.open()
        conn = self._conn
        assert conn is not None  # noqa: S101 (open() set it or raised)
        try:
            return self._transaction(conn, recipients, data)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop(conn)
            self._conn = None
            raise ConnectionLost(f"{self.where}: connection lost ({_describe(exc)})") from None

    def _transaction(self, conn: smtplib.SMTP, recipients: Sequence[str],
                     data: bytes) -> dict[str, Outcome]:
        # Addresses were validated on the way in (mailer.addresses), so the commands are written
        # directly: smtplib's mail()/rcpt() would parse every address again.
        code, reply = conn.docmd("mail", f"FROM:<{self.sender}>")
        if code != 250:
            self._after_failure(conn, code)
            return dict.fromkeys(recipients, Outcome(code, _reply_text(reply)))
        outcomes: dict[str, Outcome] = {}
        accepted = []
        for recipient in recipients:
            code, reply = conn.docmd("rcpt", f"TO:<{recipient}>")
            if code in (250, 251):
                accepted.append(recipient)
            else:
                outcomes[recipient] = Outcome(code, _reply_text(reply))
                if code == 421:
                    break
        if not accepted:
            self._after_failure(conn, min(o.code for o in outcomes.values()))
            for recipient in recipients:
                outcomes.setdefault(recipient, Outcome(421, "not tried: the server closed"))
            return outcomes
        conn.putcmd("data")
        code, reply = conn.getreply()
        if code == 354:
            conn.send(data + b".\r\n")
            code, reply = conn.getreply()
        else:
            self._after_failure(conn, code)
        final = Outcome(250 if code == 250 else code, _reply_text(reply))
        for recipient in accepted:
            outcomes[recipient] = final
        if code == 421:
            raise smtplib.SMTPServerDisconnected("421 " + final.text)
        return outcomes

    @staticmethod
    def _after_failure(conn: smtplib.SMTP, code: int) -> None:
        """End a failed transaction so the connection can carry the next one."""
        if code == 421:
            raise smtplib.SMTPServerDisconnected("the server is closing the connection (421)")
        conn.rset()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"host name not found ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__
