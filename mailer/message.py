"""Build the e-mail from rendered parts, and cheap per-recipient copies of it.

The message is built once with the email package (headers encoded and folded by
its policy, never pasted as text). Each recipient's copy is then the prebuilt
bytes with two headers of their own in front: To and Message-ID. Sending to
thousands of subscribers costs one build, not one build per subscriber.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime

from mailer.addresses import control_characters, parse_mailbox
from mailer.errors import InputError
from mailer.model import Series, slugify
from mailer.render import Rendered

_LEADING_DOT = re.compile(rb"(?m)^\.")
_MAX_HEADER_LINE = 78


def _header_line(name: str, value: str) -> bytes:
    """Return one header as wire bytes, folded by the email policy when it is long."""
    if control_characters(value):
        raise InputError(f"{name}: {value!r} holds a line break or control character")
    line = f"{name}: {value}\r\n"
    if len(line) <= _MAX_HEADER_LINE + 2 and value.isascii():
        return line.encode("ascii")
    # A non-ASCII address (it needs SMTPUTF8) is written raw in UTF-8 (RFC 6532).
    return (SMTP if value.isascii() else SMTPUTF8).fold_binary(name, value)


def list_id(series: Series) -> str:
    """Return the List-Id (RFC 2919): the series name and a label under the sender's domain."""
    domain = parse_mailbox(series.mail.sender).ascii_domain if series.mail.sender else "localhost"
    return f"{series.name} <{slugify(series.name) or 'seminar'}.{domain}>"


def build_message(rendered: Rendered, series: Series, *, date: datetime, seminar_id: str,
                  bulk: bool) -> EmailMessage:
    """Build the message every recipient shares: everything but To and Message-ID."""
    mail = series.mail
    if not mail.sender:
        raise InputError("seminars/series.yaml: mail.from is required to send "
                         "(e.g. from: Seminar Team <seminar@example.org>)")
    sender = parse_mailbox(mail.sender)
    reply_to = parse_mailbox(mail.reply_to) if mail.reply_to else None
    utf8 = sender.needs_smtputf8 or bool(reply_to and reply_to.needs_smtputf8)
    message = EmailMessage(policy=SMTPUTF8 if utf8 else SMTP)
    message["Date"] = format_datetime(date)
    message["From"] = sender.header()
    message["Subject"] = rendered.subject
    if reply_to:
        message["Reply-To"] = reply_to.header()
    message["List-Id"] = list_id(series)
    if mail.unsubscribe:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe}>"
        if mail.unsubscribe.startswith("https://"):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if bulk:
        # We expand the list ourselves: ask vacation responders not to answer (RFC 3834 s. 3.1.8).
        message["Precedence"] = "bulk"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    if rendered.images:
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # noqa: S101 (added just above)
        for image in rendered.images:  # multipart/related: the HTML and what it shows
            html_part.add_related(image.data, maintype="image", subtype=image.subtype,
                                  cid=f"<{image.cid}>", disposition="inline",
                                  filename=f"{image.cid.split('@')[0]}.{image.subtype}")
    if rendered.ics is not None:
        message.make_mixed()
        message.add_attachment(rendered.ics, subtype="calendar", cte="quoted-printable",
                               filename=f"{seminar_id}.ics", params={"method": "PUBLISH"})
    return message


class Blueprint:
    """A built message, ready to be addressed to one recipient after another."""

    def __init__(self, message: EmailMessage, domain: str, made: datetime) -> None:
        for name in ("To", "Message-ID", "Cc", "Bcc"):
            del message[name]
        self.raw = message.as_bytes()
        self._stuffed = _LEADING_DOT.sub(b"..", self.raw)
        if not self._stuffed.endswith(b"\r\n"):
            self._stuffed += b"\r\n"
        self._domain = domain
        self._stem = f"{int(made.timestamp())}.{secrets.token_hex(6)}"
        self._count = 0

    def _headers(self, to: Sequence[str]) -> bytes:
        self._count += 1
        message_id = f"<{self._stem}.{self._count}@{self._domain}>"
        return _header_line("To", ", ".join(to)) + _header_line("Message-ID", message_id)

    def eml(self, to: Sequence[str]) -> bytes:
        """Return the message addressed to ``to`` as a file (``.eml``) holds it."""
        return self._headers(to) + self.raw

    def wire(self, to: Sequence[str]) -> bytes:
        """Return the message addressed to ``to`` as SMTP DATA carries it (dot-stuffed, CRLF)."""
        return self._headers(to) + self._stuffed
