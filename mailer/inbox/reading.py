"""What a message in the organiser's mailbox is (SPEC 7): a bounce, an unsubscribe request, a
speaker's reply to a request, or something else, which is left alone.

- A **bounce** is a delivery status notification (``multipart/report;
  report-type=delivery-status``, RFC 3464) or a non-standard one from a mailer daemon (empty
  return path, ``MAILER-DAEMON``/``postmaster``): flufl.bounce, Mailman's detectors, reads which
  recipients failed and whether for good. An out-of-office reply is not a bounce, even one
  marked ``Auto-Submitted``.
- An **unsubscribe request** is sent to the ``mailto:`` of ``mail.unsubscribe``, or has the
  subject "unsubscribe".
- A **reply** has the series' ``[token]`` in its subject and is no automatic reply: its text
  (the HTML's when there is no plain part), without the quoted mail and the signature
  (mail-parser-reply), gives the form's sections; its first JPEG/PNG/WebP is the photo.
"""

from __future__ import annotations

import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

_LABELS = {"title": "title", "abstract": "abstract", "about you": "bio", "about me": "bio",
           "bio": "bio", "biography": "bio", "about the speaker": "bio"}
_LABEL = re.compile(rf"(?im)^[ \t>*_]*({'|'.join(map(re.escape, _LABELS))})[ \t*_]*:[ \t]*")
_IMAGES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
# Our own request's lines, which a reply that quotes without ">" may carry along.
_FORM_NOISE = re.compile(r"(?im)^\s*(and attach a photo.*|attach a photo \(jpeg or png\)\.?)$")


@dataclass(frozen=True)
class Message:
    """A message as read: its id, sender, subject, and the parsed message."""

    key: str  # Message-ID, or the source's own id when there is none
    sender: str  # the From address, lower-cased
    subject: str
    parsed: EmailMessage


@dataclass(frozen=True)
class Bounce:
    """The recipients a delivery status notification reports as failed."""

    permanent: frozenset[str]
    temporary: frozenset[str]


@dataclass(frozen=True)
class Reply:
    """A speaker's reply: the form's fields it fills, and its first image."""

    fields: dict[str, str] = field(default_factory=dict)
    photo: tuple[bytes, str] | None = None  # the data and its extension


def parse(data: bytes, fallback_key: str) -> Message:
    """Read a message's bytes."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(parsed, EmailMessage)  # noqa: S101 (the policy's message class)
    key = str(parsed.get("Message-ID", "") or "").strip() or fallback_key
    return Message(key=key, sender=parseaddr(str(parsed.get("From", "")))[1].lower(),
                   subject=" ".join(str(parsed.get("Subject", "")).split()), parsed=parsed)


def _addresses(found: frozenset[bytes] | set[bytes]) -> frozenset[str]:
    return frozenset(a.decode("utf-8", "replace").strip("<>").lower() for a in found)


def bounce(message: Message) -> Bounce | None:
    """The failures a bounce reports; None for anything that is not a bounce."""
    from flufl.bounce import all_failures

    parsed = message.parsed
    report = parsed.get_content_type() == "multipart/report" and \
        str(parsed.get_param("report-type", "")).lower() == "delivery-status"
    return_path = str(parsed.get("Return-Path", "")).strip()
    daemon = return_path == "<>" or message.sender.split("@")[0] in _DAEMONS
    if not (report or daemon):
        return None
    temporary, permanent = all_failures(parsed)
    if not (temporary or permanent):
        return None
    return Bounce(_addresses(permanent), _addresses(temporary) - _addresses(permanent))


def automatic(message: Message) -> bool:
    """Whether a message was sent by a machine (RFC 3834), such as an out-of-office reply."""
    parsed = message.parsed
    submitted = str(parsed.get("Auto-Submitted", "no")).strip().lower()
    return submitted != "no" or "X-Autoreply" in parsed or \
        str(parsed.get("Precedence", "")).lower() in ("auto_reply", "bulk", "junk")


def unsubscribing(message: Message, mailto: str | None) -> bool:
    """Whether the message asks to be unsubscribed."""
    if message.subject.strip().lower().rstrip(".!") == "unsubscribe":
        return True
    if not mailto:
        return False
    target = mailto.removeprefix("mailto:").split("?")[0].lower()
    headers = [str(v) for name in ("To", "Cc", "Delivered-To", "X-Original-To")
               for v in message.parsed.get_all(name, [])]
    return any(addr.lower() == target for _, addr in getaddresses(headers))


def _text_of(parsed: EmailMessage) -> str:
    part = parsed.get_body(("plain",))
    if part is not None:
        return str(part.get_content())
    part = parsed.get_body(("html",))
    if part is None:
        return ""
    markup = str(part.get_content())
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote>", "", markup)  # Gmail's quote
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _unquoted(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    text = text.replace("\r\n", "\n")
    replies = EmailReplyParser(languages=["en", "de", "fr", "es", "sv", "it", "nl"]).read(text)
    body = replies.replies[0].body if replies.replies else text
    return "\n".join(line for line in body.split("\n") if not line.lstrip().startswith(">"))


def _sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    labels = list(_LABEL.finditer(text))
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        value = _FORM_NOISE.sub("", text[label.end():end]).strip()
        value = re.sub(r"\n{3,}", "\n\n", value)
        key = _LABELS[label.group(1).lower()]
        if value and key not in found:
            found[key] = " ".join(value.split()) if key == "title" else value
    return found


def reply(message: Message) -> Reply:
    """The form's fields a speaker's reply fills, and its first image."""
    fields = _sections(_unquoted(_text_of(message.parsed)))
    photo = None
    for part in message.parsed.walk():
        extension = _IMAGES.get(part.get_content_type())
        if extension and isinstance(part, EmailMessage):
            data = part.get_content()
            if isinstance(data, bytes) and data:
                photo = (data, extension)
                break
    return Reply(fields, photo)
