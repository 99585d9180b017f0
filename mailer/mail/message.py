"""Build the e-mail from rendered parts, check its bytes, and address it to each recipient.

The body (the MIME tree: text, HTML with its images, the calendar) is built once with
the email package. The headers are written by :mod:`mailer.mail.headers`, never by the email
package's header folding. Each recipient's copy is then the prebuilt bytes with two
headers of their own in front, To and Message-ID: sending to thousands of subscribers
costs one build, not one build per subscriber. Where announce expands the list itself, each
copy also carries its own List-Unsubscribe with the recipient's token (:mod:`mailer.mail.tokens`):
the ``mailto:`` of ``mail.unsubscribe`` with the token as its subject, and, when the series runs
the web part (``mail.web``), ``<web>/u/<token>`` with ``List-Unsubscribe-Post`` (RFC 8058: one
click, on a URI that names its recipient). A URL that every copy shares gets no
List-Unsubscribe-Post: RFC 8058 allows it only with a recipient's own URI.

Before anything goes out, the bytes are read back by the email package's parser and
compared with what announce meant (:meth:`Blueprint.problems`, :meth:`Blueprint.check`):
exactly the headers announce set, each once, each value as written, no line break inside
one, and the MIME tree whole with every part's content intact. A mismatch is reported,
never sent. This holds whatever the text is: it is a check of the result, not a list of
bad strings.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime

from mailer.addresses import Mailbox
from mailer.mail.headers import Field, address_field, check_header_block, phrase_field, text_field
from mailer.mail.headers import token_field as token
from mailer.mail.tokens import unsubscribe_uri
from mailer.render.rendered import Rendered
from mailer.series.names import slugify

_LEADING_DOT = re.compile(rb"(?m)^\.")
_BODY_HEADERS = ["mime-version", "content-type"]


@dataclass(frozen=True)
class Headers:
    """The headers every recipient's copy shares."""

    sender: Mailbox
    reply_to: Mailbox | None
    list_name: str  # the series name: the List-Id phrase
    unsubscribe: str | None = None
    bulk: bool = False  # announce expands the list itself: Precedence: bulk
    personal: bool = False  # to a speaker: no List-Id or List-Unsubscribe, it is not list mail
    cc: tuple[Mailbox, ...] = ()
    # Each subscriber's own unsubscribe token (when announce expands the list): the address
    # in, the token out.
    token: Callable[[str], str] | None = None
    auto: str | None = None  # Auto-Submitted (RFC 3834): the inbox's own answers say so
    web: str | None = None  # mail.web.base_url: `announce serve` answers <web>/u/<token>


class MessageProblem(ValueError):
    """The message's bytes would not say what was meant; the text says how."""


def list_id(name: str, domain: str) -> tuple[str, str]:
    """The List-Id (RFC 2919) as phrase and label: the series name, under the sender's domain."""
    return name, f"<{slugify(name) or 'seminar'}.{domain}>"


def _file_name(stem: str, subtype: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', stem)}.{subtype}"


def _body(content: Rendered, name: str) -> EmailMessage:
    message = EmailMessage(policy=email.policy.SMTP)
    message.set_content(content.text, cte="quoted-printable")
    message.add_alternative(content.html, subtype="html", cte="quoted-printable")
    if content.images:
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)  # noqa: S101 (added just above)
        for image in content.images:  # multipart/related: the HTML and what it shows
            html_part.add_related(image.data, maintype="image", subtype=image.subtype,
                                  cid=f"<{image.cid}>", disposition="inline",
                                  filename=_file_name(image.cid.split("@")[0], image.subtype))
        html_part.set_param("type", "text/html")  # RFC 2387 3.1: the root part's type
    if content.ics is not None:
        message.make_mixed()
        message.add_attachment(content.ics, subtype="calendar", cte="quoted-printable",
                               filename=_file_name(name, "ics"), params={"method": "PUBLISH"})
    for attached in content.attachments:  # add_attachment makes the message mixed if need be
        # Named as the text names it (the brief says "…-meeting-backdrop-….jpg").
        stem, _, suffix = attached.filename.rpartition(".")
        message.add_attachment(attached.data, maintype="image", subtype=attached.subtype,
                               filename=_file_name(stem, suffix) if stem else
                               _file_name(attached.filename, attached.subtype))
    return message


def _shape(content: Rendered) -> str:
    html = "text/html"
    if content.images:
        html = f"multipart/related({html},{','.join('image/' + i.subtype for i in content.images)})"
    alternative = f"multipart/alternative(text/plain,{html})"
    extra = ["text/calendar"] if content.ics is not None else []
    extra += [f"image/{a.subtype}" for a in content.attachments]
    return f"multipart/mixed({','.join([alternative, *extra])})" if extra else alternative


def _shape_of(part: EmailMessage) -> str:
    if not part.is_multipart():
        return part.get_content_type()
    inner = ",".join(_shape_of(p) for p in part.iter_parts())  # type: ignore[arg-type]
    return f"{part.get_content_type()}({inner})"


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


def _content_problems(message: EmailMessage, content: Rendered) -> list[str]:
    problems: list[str] = []
    for part in message.walk():
        problems.extend(f"{part.get_content_type()}: {type(d).__name__}" for d in part.defects)
    if (shape := _shape_of(message)) != _shape(content):
        return [*problems, f"the MIME tree is {shape}, expected {_shape(content)}"]
    leaves = [p for p in message.walk() if not p.is_multipart()]
    expected: list[str | bytes] = [content.text, content.html,
                                   *(i.data for i in content.images)]
    if content.ics is not None:
        expected.append(content.ics)
    expected += [a.data for a in content.attachments]
    for leaf, want in zip(leaves, expected, strict=True):
        got = leaf.get_content()
        same = got == want if isinstance(want, bytes) else _lines(str(got)) == _lines(want)
        if not same:
            problems.append(f"{leaf.get_content_type()}: the content does not read back whole")
    return problems


@dataclass(frozen=True)
class _OwnUnsubscribe:
    """How each copy's own List-Unsubscribe is made: the ``mailto:`` with the token as its
    subject, and the web part's one-click URI, either or both."""

    mailto: str | None
    web: str | None
    make: Callable[[str], str]  # the address in, its token out

    def fields(self, address: str) -> list[Field]:
        code = self.make(address)
        uris = [f"<{unsubscribe_uri(self.mailto, code)}>"] if self.mailto else []
        if self.web:
            uris.append(f"<{self.web}/u/{code}>")
        made = [token("List-Unsubscribe", ", ".join(uris))]
        if self.web:  # RFC 8058: one click, on the URI that names this recipient
            made.append(token("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        return made


def _own_unsubscribe(headers: Headers) -> _OwnUnsubscribe | None:
    """Each copy's own List-Unsubscribe, when announce expands the list and has the tokens;
    None when every copy shares one (or has none)."""
    if headers.personal or not headers.bulk or headers.token is None:
        return None
    mailto = headers.unsubscribe if (headers.unsubscribe or "").startswith("mailto:") else None
    if mailto is None and not headers.web:
        return None
    return _OwnUnsubscribe(mailto, headers.web, headers.token)


class Blueprint:
    """A built, checked message, ready to be addressed to one recipient after another."""

    def __init__(self, content: Rendered, headers: Headers, *, date: datetime, name: str) -> None:
        self.content = content
        self._domain = headers.sender.ascii_domain
        phrase, label = list_id(headers.list_name, self._domain)
        fields = [token("Date", format_datetime(date)), address_field("From", [headers.sender]),
                  text_field("Subject", content.subject)]
        if headers.cc:
            fields.append(address_field("Cc", headers.cc))
        if headers.reply_to is not None:
            fields.append(address_field("Reply-To", [headers.reply_to]))
        if not headers.personal:
            fields.append(phrase_field("List-Id", phrase, label))
        self._unsubscribe = _own_unsubscribe(headers)
        if self._unsubscribe is None and headers.unsubscribe and not headers.personal:
            # One URL for everyone: no List-Unsubscribe-Post (RFC 8058 3.1 wants the URI to
            # name its recipient), so a click can never take someone else off the list.
            fields.append(token("List-Unsubscribe", f"<{headers.unsubscribe}>"))
        if headers.auto:
            fields.append(token("Auto-Submitted", headers.auto))
        if headers.bulk:
            # We expand the list ourselves: ask vacation responders not to answer (RFC 3834).
            fields.append(token("Precedence", "bulk"))
        self.fields = tuple(fields)
        self.raw = b"".join(f.wire for f in fields) + _body(content, name).as_bytes()
        self._stuffed = _LEADING_DOT.sub(b"..", self.raw)
        if not self._stuffed.endswith(b"\r\n"):
            self._stuffed += b"\r\n"
        self._stem = f"{int(date.timestamp())}.{secrets.token_hex(6)}"
        self._key = secrets.token_bytes(16)  # never leaves this object

    def message_id(self, number: int) -> str:
        """The Message-ID of the copy numbered ``number`` (its place in the run). Each copy's
        ends in a keyed hash of its number, so one copy's id tells nothing of another's: a
        subscriber cannot name a copy that went to someone else (the inbox's proof)."""
        tag = hmac.new(self._key, str(number).encode(), hashlib.sha256).hexdigest()[:16]
        return f"<{self._stem}.{number}.{tag}@{self._domain}>"

    def _fields(self, to: Sequence[Mailbox], number: int) -> list[Field]:
        message_id = self.message_id(number)
        to_field = address_field("To", to) if to else token("To", "undisclosed-recipients:;")
        own = [to_field, token("Message-ID", message_id)]
        if self._unsubscribe is not None and to:
            own.extend(self._unsubscribe.fields(to[0].envelope))
        return own

    def _prefix(self, to: Sequence[Mailbox], number: int) -> bytes:
        return b"".join(f.wire for f in self._fields(to, number))

    def problems(self) -> list[str]:
        """Read the whole message back (as the first recipient's copy) and say what differs."""
        own = self._fields([Mailbox("check@example.org")], 0)
        fields = [*own, *self.fields]
        data = b"".join(f.wire for f in own) + self.raw
        problems = check_header_block(b"".join(f.wire for f in fields), fields)
        parsed = BytesParser(policy=email.policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)  # noqa: S101 (the policy's message class)
        names = [key.lower() for key in parsed]
        if names != [f.name.lower() for f in fields] + _BODY_HEADERS:
            problems.append(f"the message has the headers {parsed.keys()}")
        return problems + _content_problems(parsed, self.content)

    def check(self, *copies: tuple[Sequence[Mailbox], int]) -> list[str]:
        """Check recipients' own headers (To, Message-ID) as they would be sent: each copy is
        (its To, its number). Many copies are read back as one block, each field still
        compared with its own value; an empty list means every one is right."""
        fields = [field for to, number in copies for field in self._fields(to, number)]
        return check_header_block(b"".join(f.wire for f in fields), fields)

    def eml(self, to: Sequence[Mailbox], number: int = 0) -> bytes:
        """Return the message addressed to ``to`` as a file (``.eml``) holds it."""
        return self._prefix(to, number) + self.raw

    def wire(self, to: Sequence[Mailbox], number: int) -> bytes:
        """Return the message as SMTP DATA carries it (dot-stuffed, CRLF), addressed to ``to``;
        ``number`` (its place in the run) makes its Message-ID."""
        return self._prefix(to, number) + self._stuffed
