"""One SMTP session: reuse, transactions, timeouts; SMTP replies mapped to outcomes and errors.

Connecting, TLS and the login are :mod:`mailer.relay`'s; the password is read at the
moment of login and is not kept.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Sequence
from typing import NamedTuple

from mailer.config import SmtpSettings
from mailer.errors import TemporaryFailure
from mailer.relay import connect, describe_error, reply_text


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
        self._conn = connect(self.settings)

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
            raise ConnectionLost(f"{self.where}: connection lost ({describe_error(exc)})") from None

    def _transaction(self, conn: smtplib.SMTP, recipients: Sequence[str],
                     data: bytes) -> dict[str, Outcome]:
        # Addresses were validated on the way in (mailer.addresses), so the commands are written
        # directly: smtplib's mail()/rcpt() would parse every address again.
        code, reply = conn.docmd("mail", f"FROM:<{self.sender}>")
        if code != 250:
            self._after_failure(conn, code)
            return dict.fromkeys(recipients, Outcome(code, reply_text(reply)))
        outcomes: dict[str, Outcome] = {}
        accepted = []
        for recipient in recipients:
            code, reply = conn.docmd("rcpt", f"TO:<{recipient}>")
            if code in (250, 251):
                accepted.append(recipient)
            else:
                outcomes[recipient] = Outcome(code, reply_text(reply))
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
        final = Outcome(250 if code == 250 else code, reply_text(reply))
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
