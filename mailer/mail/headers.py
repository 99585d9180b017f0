"""Header fields as announce writes them, and the check that the bytes say what was meant.

Every header announce sets is written here, by one encoder, and never handed to the
email package's header parser: its folding differs between Python versions, and on
3.11.7 it decodes an encoded word in a title and writes the CR LF inside it raw
(CVE-2024-6923), which lets a title add headers or replace the body.

The rule is simple and total. A word that is plain ASCII and cannot be mistaken for an
encoded word is written as it is; any other word (non-ASCII, ``=?``/``?=``, very long)
becomes RFC 2047 encoded words, so a reader sees exactly the author's text, an
encoded-word look-alike included. Display names and the List-Id phrase are either plain
atoms separated by single spaces or encoded whole. Lines are folded at spaces only.

:func:`check_header_block` then reads the bytes back with the email package, an
independent parser, and compares what it finds with what was meant: the header names,
each once, in order; each value as a reader decodes it; no line break inside a value.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses

from mailer.addresses import Mailbox

MAX_LINE = 78  # RFC 5322 2.1.1: SHOULD; the MUST is 998
_MAX_WORD = 75  # RFC 2047 2: an encoded word is at most 75 characters
_PREFIX, _SUFFIX = "=?utf-8?q?", "?="
_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_PLAIN_LIMIT = 60  # a longer word is encoded, so that it can be split over lines
_UNFOLD = re.compile(r"\r\n(?=[ \t])")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_OR_SPACE = re.compile("[\x00-\x20\x7f]")


@dataclass(frozen=True)
class Field:
    """One header as written: its name, what a reader must see, and its wire bytes."""

    name: str
    value: str  # the decoded text (for address fields, the addresses as "name <addr>")
    wire: bytes
    addresses: tuple[tuple[str, str], ...] | None = None  # (display name, address)


def _needs_encoding(word: str) -> bool:
    return (not word.isascii() or "=?" in word or "?=" in word or len(word) > _PLAIN_LIMIT
            or _CONTROL_OR_SPACE.search(word) is not None)


def _q(char: str) -> str:
    if char == " ":
        return "_"
    if char in _Q_SAFE:
        return char
    return "".join(f"={byte:02X}" for byte in char.encode("utf-8"))


def _b_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words of UTF-8, each at most 75 characters: Q for text
    that is mostly ASCII, B (base64) where that is shorter. Words are split between
    characters, never inside one."""
    room = _MAX_WORD - len("=?utf-8?q??=")
    use_b = _b_length(len(text.encode("utf-8"))) < sum(len(_q(ch)) for ch in text)
    chunks, current, size = [], "", 0
    for char in text:
        grown = size + (len(char.encode("utf-8")) if use_b else len(_q(char)))
        if current and (_b_length(grown) if use_b else grown) > room:
            chunks.append(current)
            current, grown = "", grown - size
        current += char
        size = grown
    chunks.append(current)
    if use_b:
        return [f"=?utf-8?b?{base64.b64encode(c.encode()).decode('ascii')}?=" for c in chunks]
    return [_PREFIX + "".join(_q(ch) for ch in c) + _SUFFIX for c in chunks]


def _tokens(text: str, plain: Callable[[str], bool]) -> list[str]:
    """Tokens to join with single spaces: plain words as they are, the others encoded.

    Neighbouring words that need encoding are encoded together with the space between
    them, since a reader drops the white space between two encoded words; leading white
    space, which a reader would drop too, goes inside the first encoded word.
    """
    tokens: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        leading = not tokens and bool(run) and not "".join(run)
        # A doubled space beside an encoded run goes inside it: a reader drops all the white
        # space between two encoded words.
        spaces = not word and bool(run)
        if (word and not plain(word)) or (not tokens and not run and not word) or leading\
                or spaces:
            run.append(word)
            continue
        if run:
            tokens.extend(encoded_words(" ".join(run)))
            run = []
        tokens.append(word)
    if run:
        tokens.extend(encoded_words(" ".join(run)))
    return tokens


def _unstructured_tokens(text: str) -> list[str]:
    return _tokens(text, lambda word: not _needs_encoding(word))


def phrase_tokens(name: str) -> list[str]:
    """A display name (or List-Id phrase): atoms as they are, the other words encoded.

    A name with doubled, leading or trailing spaces is encoded whole: a phrase's white
    space is not kept otherwise.
    """
    if "" in name.split(" "):
        return encoded_words(name)
    return _tokens(name, lambda word: bool(_ATOM.fullmatch(word)) and not _needs_encoding(word))


def _fold(name: str, tokens: Sequence[str]) -> bytes:
    """``Name: token token ...``, a new line (CRLF and a space) before a token that would
    make the line longer than 78 characters."""
    lines: list[str] = []
    line = f"{name}:"
    for number, token in enumerate(tokens):
        if number and len(line) + 1 + len(token) > MAX_LINE and line.strip():
            lines.append(line)
            line = ""
        line += " " + token
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def text_field(name: str, value: str) -> Field:
    """An unstructured header (Subject) that shows ``value`` exactly."""
    return Field(name, value, _fold(name, _unstructured_tokens(value)))


def phrase_field(name: str, phrase: str, tail: str) -> Field:
    """A phrase and a fixed ASCII tail, as List-Id (RFC 2919) has: ``Name <label.domain>``."""
    return Field(name, f"{phrase} {tail}", _fold(name, [*phrase_tokens(phrase), tail]))


def token_field(name: str, value: str) -> Field:
    """A header whose value announce makes itself (Date, Message-ID, a URL): ASCII, folded
    at its spaces."""
    if not value.isascii() or _CONTROL.search(value):
        raise ValueError(f"{name}: {value!r} is not printable ASCII")
    return Field(name, value, _fold(name, value.split(" ")))


def address_field(name: str, boxes: Sequence[Mailbox]) -> Field:
    """An address header (From, To, Reply-To): each name encoded as needed, the address in
    its ASCII form, or in UTF-8 where it needs SMTPUTF8 (RFC 6532)."""
    tokens: list[str] = []
    for number, box in enumerate(boxes):
        mailbox = [*phrase_tokens(box.name), f"<{box.envelope}>"] if box.name else [box.envelope]
        if number < len(boxes) - 1:
            mailbox[-1] += ","
        tokens.extend(mailbox)
    found = tuple((box.name, box.envelope) for box in boxes)
    return Field(name, ", ".join(box.display() for box in boxes), _fold(name, tokens), found)


def _problems_of_lines(block: bytes) -> list[str]:
    problems = []
    if b"\r\n\r\n" in block or not block.endswith(b"\r\n"):
        problems.append("the header block is not one block of CRLF-ended lines")
    for number, line in enumerate(block.split(b"\r\n")[:-1], 1):
        if b"\r" in line or b"\n" in line or b"\0" in line:
            problems.append(f"header line {number} holds a bare CR, LF or NUL")
        if len(line) > 998:
            problems.append(f"header line {number} is longer than 998 characters")
        if number == 1 and line[:1] in (b" ", b"\t"):
            problems.append("the first header line is a continuation")
    return problems


def check_header_block(block: bytes, fields: Sequence[Field]) -> list[str]:
    """Read ``block`` back and say how it differs from ``fields`` (an empty list: not at all).

    The bytes must hold exactly these headers, each once and in this order, each decoding
    to its value; an address field must hold exactly its addresses.
    """
    problems = _problems_of_lines(block)
    if problems:
        return problems
    try:  # UTF-8 only where an address needs SMTPUTF8 (RFC 6532)
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return ["the header block is not UTF-8"]
    parsed = HeaderParser(policy=compat32).parsestr(text + "\r\n")
    names = [key.lower() for key in parsed]
    if names != [field.name.lower() for field in fields]:
        return [f"the headers read back are {parsed.keys()}, expected "
                f"{[field.name for field in fields]}"]
    for field, (_, raw) in zip(fields, parsed.items(), strict=True):
        unfolded = _UNFOLD.sub("", raw)
        if "\r" in unfolded or "\n" in unfolded:
            problems.append(f"{field.name}: a line break inside the value")
            continue
        if field.addresses is not None:
            found = tuple((str(make_header(decode_header(display))), address)
                          for display, address in getaddresses([unfolded]))
            if found != field.addresses:
                problems.append(f"{field.name}: reads back as {found}, expected "
                                f"{field.addresses}")
        elif (shown := str(make_header(decode_header(unfolded)))) != field.value:
            problems.append(f"{field.name}: reads back as {shown!r}, expected {field.value!r}")
    return problems
