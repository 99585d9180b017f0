"""What a message in the organiser's mailbox is and what it claims (contract §7), read strictly.

These functions only read: whether a message is a bounce and which recipients it reports,
the Message-IDs it names (In-Reply-To, References, a bounce's returned headers), its sender
(one clean address, or none), whether the organiser's own server found its From forged.
What a message may change is decided in :mod:`mailer.commands.inbox`, against the ledger.

- A **bounce** is a delivery status notification (``multipart/report;
  report-type=delivery-status``, RFC 3464) or a non-standard one from a mailer daemon (empty
  return path, ``MAILER-DAEMON``/``postmaster``): flufl.bounce, Mailman's detectors, reads which
  recipients failed and whether for good. An out-of-office reply is not a bounce.
- An **unsubscribe request** is sent to the ``mailto:`` of ``mail.unsubscribe``, or its subject
  starts with "unsubscribe".
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.message import Message as AnyMessage
from email.parser import BytesParser
from email.policy import Policy
from email.utils import getaddresses

_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_RETURNED_ID = re.compile(r"(?im)^message-id:\s*(<[^<>\s@]+@[^<>\s@]+>)")
_RETURNED = ("text/rfc822-headers", "message/rfc822-headers")
_FAILED_AUTH = re.compile(r"(?i)\bdmarc\s*=\s*fail\b")
_DKIM = re.compile(r"(?i)\bdkim\s*=\s*(pass|fail)\b")
_HEADER_FROM = re.compile(r"(?i)\bheader\.from\s*=\s*([^\s;]+)")
_REGISTRY = HeaderRegistry()
# What one message may cost to read. A reply has a few parts and a 25 MB attachment in base64
# some 340 000 lines; millions of tiny parts or lines cost a gigabyte and minutes to parse.
MAX_PARTS = 1000
MAX_LINES = 1_000_000


class TooComplex(ValueError):
    """A message with more parts or lines than announce reads: refused before it costs much."""


class _Parts:
    """The parser's factory of messages: one for each part, and one too many stops it."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.made = -1  # the parser calls it once on creation, to see that it takes a policy

    def __call__(self, policy: Policy = email.policy.default) -> EmailMessage:
        self.made += 1
        if self.made > self.most:
            raise TooComplex(f"more than {self.most} MIME parts (announce reads at most "
                             f"{self.most}); not parsed further")
        return EmailMessage(policy=policy)


@dataclass(frozen=True)
class Message:
    """A message as read: its id, its one sender (None unless From is one clean address),
    its subject, the Message-IDs it answers, and the parsed message."""

    key: str  # Message-ID, or the source's own id when there is none
    sender: str | None  # the From address, lower-cased
    subject: str
    answers: tuple[str, ...]  # Message-IDs in In-Reply-To and References
    parsed: EmailMessage


@dataclass(frozen=True)
class Bounce:
    """The recipients a delivery status notification reports as failed, and the Message-IDs
    of the mail it returns."""

    permanent: frozenset[str]
    temporary: frozenset[str]
    returned: tuple[str, ...]


def _raw(parsed: AnyMessage, name: str) -> str:
    """A header's first value as it came (never parsed: a broken one cannot raise)."""
    for key, value in parsed.raw_items():
        if key.lower() == name.lower():
            return " ".join(str(value).split())
    return ""


def _all(parsed: AnyMessage, name: str) -> list[str]:
    """Every value of a header, as it came."""
    return [" ".join(str(v).split()) for k, v in parsed.raw_items() if k.lower() == name.lower()]


def _ids(text: str) -> list[str]:
    """The Message-IDs in a header, each as the ledger can keep it (bytes that are not UTF-8
    became lone surrogates in the parser: each is a ``?``)."""
    return [found.encode("utf-8", "replace").decode("utf-8")
            for found in _MESSAGE_ID.findall(text)]


def decoded_subject(raw: str) -> str:
    """The subject as its writer saw it: RFC 2047 encoded words decoded ("=?utf-8?q?
    Unsubscribe?=" is "Unsubscribe"); a part that cannot be decoded is kept as it came."""
    try:
        text = str(make_header(decode_header(raw)))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        text = raw
    return text.encode("utf-8", "replace").decode("utf-8")


def strict_sender(raw: str) -> str | None:
    """The From address when the header is exactly one mailbox that parses without a defect;
    None otherwise. A display name that looks like an address is not the address
    (``fredrik@example.org <x@evil.test>`` is refused, ``"fredrik@…" <x@evil.test>`` is x's)."""
    if not raw or len(raw) > 2000:
        return None
    try:
        header = _REGISTRY("From", raw)
        assert isinstance(header, AddressHeader)  # noqa: S101 (From is an address header)
        boxes: tuple[Address, ...] = header.addresses
        if header.defects or len(boxes) != 1:
            return None
        address = boxes[0].addr_spec
    except Exception:
        return None
    if address.count("@") != 1 or not address.split("@")[0] or not address.split("@")[1]:
        return None
    return address.lower()


def parse(data: bytes, fallback_key: str) -> Message:
    """Read a message's bytes; headers are read as they came, so none can raise here. One
    of more than :data:`MAX_LINES` lines is refused unread, and parsing stops at the part after
    :data:`MAX_PARTS` (:class:`TooComplex`): the parser reads 8 KiB at a time, so what it
    holds then is no more than those parts."""
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")  # as the parser splits
    if lines > MAX_LINES:
        raise TooComplex(f"{lines} lines, more than the {MAX_LINES} announce reads; not parsed")
    parsed = BytesParser(_Parts(MAX_PARTS), policy=email.policy.default).parsebytes(data)
    found = _ids(_raw(parsed, "Message-ID"))
    answers = tuple(dict.fromkeys(_ids(_raw(parsed, "In-Reply-To")) +
                                  _ids(_raw(parsed, "References"))))
    senders = _all(parsed, "From")  # two From headers: whose is it? nobody's
    return Message(key=found[0] if found else fallback_key,
                   sender=strict_sender(senders[0]) if len(senders) == 1 else None,
                   subject=decoded_subject(_raw(parsed, "Subject")[:2000])[:500],
                   answers=answers[-32:], parsed=parsed)


def identity(data: bytes) -> tuple[str, str]:
    """A message's Message-ID and From as a report names them, however broken it is."""
    head = data[:65536].split(b"\r\n\r\n")[0].split(b"\n\n")[0]
    found = {"message-id": "", "from": ""}
    for line in re.split(rb"\r?\n(?![ \t])", head):
        name, _, value = line.partition(b":")
        key = name.decode("ascii", "replace").strip().lower()
        if key in found and not found[key]:
            text = value.decode("utf-8", "replace")
            found[key] = "".join(ch if ch.isprintable() else "?" for ch in " ".join(
                text.split()))[:120]
    return found["message-id"] or "(no Message-ID)", found["from"] or "(no From)"


def _addresses(found: frozenset[bytes] | set[bytes]) -> frozenset[str]:
    return frozenset(a.decode("utf-8", "replace").strip("<>").lower() for a in found)


def returned_ids(parsed: EmailMessage) -> tuple[str, ...]:
    """The Message-IDs of the mail a bounce returns: from its returned headers
    (``text/rfc822-headers``, ``message/rfc822``) or, in a non-standard bounce, from a
    ``Message-ID:`` line quoted in its text."""
    found: list[str] = []
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            for returned in inner if isinstance(inner, list) else []:
                if isinstance(returned, AnyMessage):
                    found += _ids(_raw(returned, "Message-ID"))
        elif kind in _RETURNED or kind == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found += _RETURNED_ID.findall(payload[:1 << 20].decode("utf-8", "replace"))
    return tuple(dict.fromkeys(found))


def bounce(message: Message) -> Bounce | None:
    """The failures a bounce reports; None for anything that is not a bounce."""
    from flufl.bounce import all_failures  # noqa: PLC0415 (flufl.bounce loads only once a message is read)

    parsed = message.parsed
    report = parsed.get_content_type() == "multipart/report" and\
        str(parsed.get_param("report-type", "")).lower() == "delivery-status"
    return_path = _raw(parsed, "Return-Path")
    local = (message.sender or _raw(parsed, "From").lower()).split("@")[0].split("<")[-1]
    daemon = return_path == "<>" or local.strip() in _DAEMONS
    if not (report or daemon):
        return None
    temporary, permanent = all_failures(parsed)
    if not (temporary or permanent):
        return None
    return Bounce(_addresses(permanent), _addresses(temporary) - _addresses(permanent),
                  returned_ids(parsed))


def automatic(message: Message) -> bool:
    """Whether a message was sent by a machine (RFC 3834), such as an out-of-office reply."""
    parsed = message.parsed
    submitted = _raw(parsed, "Auto-Submitted").lower() or "no"
    return submitted != "no" or any(k.lower() == "x-autoreply" for k in parsed) or\
        _raw(parsed, "Precedence").lower() in ("auto_reply", "bulk", "junk")


def unsubscribing(message: Message, mailto: str | None) -> bool:
    """Whether the message asks to be unsubscribed."""
    words = message.subject.strip().lower().split()
    if words and words[0].rstrip(".!:") == "unsubscribe":
        return True
    if not mailto or not mailto.startswith("mailto:"):
        return False
    return addressed_to(message, mailto.removeprefix("mailto:").split("?")[0].lower())


def addressed_to(message: Message, target: str) -> bool:
    """Whether the message was written to ``target`` (lower-cased): To, Cc or as delivered."""
    headers = [_raw(message.parsed, name) for name in ("To", "Cc", "Delivered-To",
                                                       "X-Original-To")]
    return any(addr.lower() == target for _, addr in getaddresses([h for h in headers if h]))


def forged(message: Message) -> bool:
    """Whether an ``Authentication-Results`` header says the From domain failed DMARC, or
    DKIM failed with no DKIM pass, for the sender's domain (or for no named domain)."""
    domain = (message.sender or "").rpartition("@")[2]
    for key, value in message.parsed.raw_items():
        if key.lower() != "authentication-results":
            continue
        text = " ".join(str(value).split())
        named = _HEADER_FROM.search(text)
        if named is not None and named.group(1).lower().strip('"') != domain:
            continue
        verdicts = {v.lower() for v in _DKIM.findall(text)}
        if _FAILED_AUTH.search(text) or verdicts == {"fail"}:
            return True
    return False
