"""Validate e-mail addresses before they reach a header or an SMTP command.

A value that would become a header is refused if it holds a control character
(CR and LF above all) or more than one address: nothing a user writes may add a
header or a recipient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import formataddr

# The plain ``local@domain`` form, checked without the (slower) header parser.
_DOT_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"{_DOT_ATOM}@{_LABEL}(?:\.{_LABEL})*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class AddressProblem(ValueError):
    """Why a text is not one usable address."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One validated address with an optional display name."""

    addr: str
    name: str = ""

    def header(self) -> str:
        """Return the address as a header value (RFC 2047 for a non-ASCII name)."""
        return formataddr((self.name, self.addr)) if self.name else self.addr

    def display(self) -> str:
        """Return the address as a person reads it: ``Name <addr>``, nothing encoded."""
        return f"{self.name} <{self.addr}>" if self.name else self.addr

    @property
    def domain(self) -> str:
        """The part after the ``@``."""
        return self.addr.rpartition("@")[2]


def control_characters(text: str) -> bool:
    """Whether ``text`` holds a character that must never reach a header."""
    return _CONTROL.search(text) is not None


def parse_mailbox(text: str, name: str = "") -> Mailbox:
    """Parse ``addr`` or ``Name <addr>`` into one :class:`Mailbox`; raise AddressProblem if not."""
    if control_characters(text) or control_characters(name):
        raise AddressProblem("holds a control character (such as a line break)")
    text = text.strip()
    name = name.strip()
    if _PLAIN.fullmatch(text):
        return Mailbox(text, name)
    if not text:
        raise AddressProblem("is empty")
    header = SMTP.header_factory("To", text)
    addresses: tuple[Address, ...] = header.addresses
    if len(addresses) != 1:
        raise AddressProblem(f"holds {len(addresses)} addresses; give exactly one")
    found = addresses[0]
    if header.defects or not found.username or not found.domain:
        raise AddressProblem("is not an e-mail address (expected name@example.org)")
    addr = found.addr_spec
    if not addr.isascii():
        raise AddressProblem("has non-ASCII characters in the address itself")
    if not _PLAIN.fullmatch(addr) and not addr.startswith('"'):
        raise AddressProblem("is not an e-mail address (expected name@example.org)")
    return Mailbox(addr, name or found.display_name)
