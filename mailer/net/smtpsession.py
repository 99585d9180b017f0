"""One SMTP session: reuse, transactions, timeouts; a run's connections, the first opened ahead.

Connecting, TLS and the login are :mod:`mailer.net.smtpconnect`'s; the password is read at the
moment of login and is not kept. What a reply is about, and the outcomes and errors it becomes,
are :mod:`mailer.net.smtpreplies`'s (no smtplib: a dry run loads them without this module).

With PIPELINING (RFC 2920 3.1) a message costs one round trip: its MAIL, RCPT and DATA go in
one write, and the end of its body is followed, in the same write, by the next message's
MAIL, RCPT and DATA (``ahead``). The replies are read in order: the body's 250 first, which
the caller records before it lets the next body go (it calls :meth:`SmtpTransport.send` for
that message only then), then the next envelope's. A message whose envelope went ahead but
that is not sent after all (the run stops) ends the connection without a body: the server
discards an envelope whose data never came, so nothing goes out by accident.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
from collections.abc import Sequence

from mailer.errors import TemporaryFailure
from mailer.net.servers import SmtpSettings
from mailer.net.smtpconnect import connect, describe_error, reply_text
from mailer.net.smtpreplies import ConnectionLost, Outcome


class _Closing(smtplib.SMTPServerDisconnected):
    """The server answered 421: it is closing the connection, and says why."""

    def __init__(self, text: str) -> None:
        super().__init__(f"421 {text}")
        self.reply = Outcome(421, text)


class SmtpTransport:
    """A reusable connection to the relay."""

    def __init__(self, settings: SmtpSettings, sender: str) -> None:
        self.settings = settings
        self.sender = sender
        self.where = f"{settings.host}:{settings.port}"
        self._conn: smtplib.SMTP | None = None
        self._body_sent = False  # the current message's end of data went out
        self._ahead: tuple[str, ...] | None = None  # recipients whose envelope went ahead
        self._carried = 0  # messages this connection has carried
        self._opening: threading.Thread | None = None  # open_ahead's
        self._open_failed: BaseException | None = None  # what open_ahead met, for send

    def open_ahead(self) -> None:
        """Start connecting, securing and logging in, in the background, while the mail is
        rendered and checked: those round trips need not wait. The first :meth:`send`
        waits for it; what went wrong is raised there, once (one login attempt, not two)."""
        def opening() -> None:
            try:
                self.open()
            except BaseException as exc:  # raised by send, in the thread that sends
                self._open_failed = exc

        self._opening = threading.Thread(target=opening, name="announce-open", daemon=True)
        self._opening.start()

    def _opened(self) -> None:
        """Wait for :meth:`open_ahead`, if it ran; raise what it met."""
        if self._opening is None:
            return
        self._opening.join()
        self._opening = None
        failed, self._open_failed = self._open_failed, None
        if failed is not None:
            raise failed

    def ready(self) -> None:
        """Connect and log in now, if not yet (or wait for :meth:`open_ahead`)."""
        self._opened()
        if self._conn is None:
            self.open()

    def open(self) -> None:
        """Connect, secure the connection and log in, as the settings say. One whose EHLO was
        refused (a 421 "too many connections", say) did not open."""
        self.close()
        conn, _ = connect(self.settings)
        if not conn.does_esmtp:  # EHLO was refused, or the server speaks only HELO-era SMTP
            try:
                code, _reply = conn.noop()
            except (smtplib.SMTPException, OSError):
                code = 421
            if code != 250:
                self._drop(conn)
                raise TemporaryFailure(f"cannot reach the SMTP server {self.where}: it refused "
                                       f"EHLO: {reply_text(conn.ehlo_resp or b'')}")
        self._conn = conn
        self._carried = 0

    @staticmethod
    def _drop(conn: smtplib.SMTP | None) -> None:
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Say QUIT when the connection is still there, and forget it (an envelope that went
        ahead of a body that will not come ends the connection instead: no QUIT in DATA)."""
        with contextlib.suppress(Exception):
            self._opened()
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._ahead is not None:
            self._ahead = None
            self._drop(conn)
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            self._drop(conn)

    def send(self, recipients: Sequence[str], data: bytes,
             ahead: Sequence[str] | None = None) -> dict[str, Outcome]:
        """Send one message (``data`` dot-stuffed, CRLF-terminated) to ``recipients``; with
        ``ahead``, the next message's envelope follows its body in the same write.

        Returns each recipient's outcome. Raises :class:`ConnectionLost` when the
        connection breaks before the server has answered the end of DATA.
        """
        self._opened()
        if self._ahead is not None and tuple(recipients) != self._ahead:
            self.close()  # not the message whose envelope went ahead: start afresh
        if self._conn is None:
            self.open()
        conn = self._conn
        assert conn is not None  # noqa: S101 (open() set it or raised)
        self._body_sent = False
        try:
            outcomes = self._transaction(conn, recipients, data, ahead)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop(conn)
            self._conn = None
            self._ahead = None
            unconfirmed = self._body_sent
            reply = exc.reply if isinstance(exc, _Closing) else None
            what = "after the message, before the server confirmed it" if unconfirmed else ""
            why = (f"the server closed the connection: 421 {reply.text}" if reply else
                   f"connection lost {what}".rstrip() + f" ({describe_error(exc)})")
            raise ConnectionLost(f"{self.where}: {why}", unconfirmed=unconfirmed,
                                 worn=self._carried > 0, reply=reply) from None
        self._carried += 1
        return outcomes

    def _needs_utf8(self, recipients: Sequence[str]) -> bool:
        return not self.sender.isascii() or not all(r.isascii() for r in recipients)

    def _envelope(self, recipients: Sequence[str], *, utf8: bool = False) -> list[str]:
        """MAIL, RCPT and DATA. Addresses were validated on the way in (mailer.addresses), so
        the commands are written directly: smtplib's mail()/rcpt() would parse them again."""
        mail = f"MAIL FROM:<{self.sender}>" + (" SMTPUTF8" if utf8 else "")
        return [mail, *(f"RCPT TO:<{r}>" for r in recipients), "DATA"]

    def _transaction(self, conn: smtplib.SMTP, recipients: Sequence[str], data: bytes,
                     ahead: Sequence[str] | None = None) -> dict[str, Outcome]:
        """One message: refuse what needs SMTPUTF8 the server lacks, then MAIL, RCPT, DATA."""
        if self._ahead is not None:  # its envelope went with the last body: read the replies
            self._ahead = None
            replies = _replies(conn, len(recipients) + 2)
            return self._finish(conn, recipients, replies, data, ahead)
        outcomes: dict[str, Outcome] = {}
        utf8 = self._needs_utf8(recipients)
        if utf8 and not conn.has_extn("smtputf8"):
            refusal = Outcome(553, f"5.6.7 the address needs SMTPUTF8, which {self.where} "
                                   "does not offer")
            if not self.sender.isascii():
                return dict.fromkeys(recipients, Outcome(
                    553, f"5.6.7 the sender's address needs SMTPUTF8, which {self.where} does "
                         "not offer"))
            outcomes = {r: refusal for r in recipients if not r.isascii()}
            recipients = [r for r in recipients if r.isascii()]
            utf8 = False
        if recipients:
            conn.command_encoding = "utf-8" if utf8 else "ascii"
            commands = self._envelope(recipients, utf8=utf8)
            pipelining = conn.has_extn("pipelining")
            replies = (self._pipelined(conn, commands) if pipelining
                       else self._one_by_one(conn, commands))
            outcomes.update(self._finish(conn, recipients, replies, data,
                                         ahead if pipelining else None))
        return outcomes

    @staticmethod
    def _pipelined(conn: smtplib.SMTP, commands: list[str]) -> list[tuple[int, bytes]]:
        """RFC 2920: MAIL, RCPT and DATA in one write, then their replies in order."""
        conn.send(("\r\n".join(commands) + "\r\n").encode(conn.command_encoding))
        return _replies(conn, len(commands))

    @staticmethod
    def _one_by_one(conn: smtplib.SMTP, commands: list[str]) -> list[tuple[int, bytes]]:
        """Each command after the reply to the one before; stop at the first that cannot go on."""
        replies: list[tuple[int, bytes]] = []
        for command in commands:
            if command == "DATA" and not any(c in (250, 251) for c, _ in replies[1:]):
                break  # no recipient took it: no DATA, so no body
            replies.append(conn.docmd(command))
            if replies[-1][0] == 421 or (len(replies) == 1 and replies[0][0] != 250):
                break
        return replies

    def _finish(self, conn: smtplib.SMTP, recipients: Sequence[str],
                replies: list[tuple[int, bytes]], data: bytes,
                ahead: Sequence[str] | None = None) -> dict[str, Outcome]:
        """Map the replies to outcomes; send the body if DATA was welcome and someone took it."""
        mail_code, mail_reply = replies[0]
        if mail_code != 250:
            self._after_failure(conn, mail_code, reply_text(mail_reply),
                                data_open=_data_open(replies, recipients))
            return dict.fromkeys(recipients, Outcome(mail_code, reply_text(mail_reply)))
        outcomes = {}
        accepted = []
        for recipient, (code, reply) in zip(recipients, replies[1:], strict=False):
            if code in (250, 251):
                accepted.append(recipient)
            else:
                outcomes[recipient] = Outcome(code, reply_text(reply))
        for recipient in recipients[len(replies) - 1:]:  # not reached: the server said 421
            outcomes.setdefault(recipient, Outcome(421, "not tried: the server closed"))
        if not accepted:
            first = min(outcomes.values(), key=lambda o: o.code)
            self._after_failure(conn, first.code, first.text,
                                data_open=_data_open(replies, recipients))
            return outcomes
        code, reply = replies[-1] if len(replies) == len(recipients) + 2 else\
            next(((c, r) for c, r in replies if c == 421), (421, b"closing"))
        if code == 354:
            self._body_sent = True
            # Only a plain-ASCII envelope goes ahead: one needing SMTPUTF8 is checked first,
            # in its own transaction.
            following = self._envelope(ahead) if ahead and not self._needs_utf8(ahead) else None
            tail = ("\r\n".join(following) + "\r\n").encode("ascii") if following else b""
            conn.send(data + b".\r\n" + tail)  # RFC 2920 3.1: the next envelope, same write
            if following:
                self._ahead = tuple(ahead or ())
            code, reply = conn.getreply()
        else:
            self._after_failure(conn, code, reply_text(reply))
        final = Outcome(250 if code == 250 else code, reply_text(reply))
        for recipient in accepted:
            outcomes[recipient] = final
        if code == 421:
            raise _Closing(final.text)
        return outcomes

    @staticmethod
    def _after_failure(conn: smtplib.SMTP, code: int, text: str, *,
                       data_open: bool = False) -> None:
        """End a failed transaction so the connection can carry the next one."""
        if code == 421:
            raise _Closing(text)
        if data_open:  # DATA was welcomed though no one can take the message: end it empty
            conn.send(b".\r\n")
            conn.getreply()
        conn.rset()


def _replies(conn: smtplib.SMTP, count: int) -> list[tuple[int, bytes]]:
    """The replies to ``count`` pipelined commands; none after a 421 (the server closes)."""
    replies: list[tuple[int, bytes]] = []
    while len(replies) < count and (not replies or replies[-1][0] != 421):
        replies.append(conn.getreply())
    return replies


def _data_open(replies: list[tuple[int, bytes]], recipients: Sequence[str]) -> bool:
    """Whether a pipelined DATA got 354 (it must then be ended before anything else)."""
    return len(replies) == len(recipients) + 2 and replies[-1][0] == 354


class RunConnections:
    """A run's connections, the first opened while the mail is rendered and checked (its
    greeting, EHLO, TLS and login are round trips that need not wait for that)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._first: SmtpTransport | None = None

    def start(self) -> None:
        """Begin opening the first connection, in the background."""
        self._first = SmtpTransport(self.settings, "")
        self._first.open_ahead()

    def take(self, sender: str) -> SmtpTransport:
        """A connection for the pool: the one opened ahead, then new ones."""
        transport, self._first = self._first, None
        if transport is None:
            return SmtpTransport(self.settings, sender)
        transport.sender = sender
        return transport

    def close(self) -> None:
        """Close the connection opened ahead if no run took it (the run was refused): QUIT
        goes in the background, so a refusal is said without waiting for the relay."""
        transport, self._first = self._first, None
        if transport is not None:
            threading.Thread(target=transport.close, name="announce-quit", daemon=True).start()
