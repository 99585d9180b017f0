"""Validate e-mail addresses before they reach a header or an SMTP command.

A value that would become a header is refused if it holds a control character
(CR and LF above all) or more than one address: nothing a user writes may add a
header or a recipient.

Addresses may be internationalised (RFC 6531/6532). A domain is checked and converted
with IDNA 2008 (the ``idna`` package; Python's own codec is IDNA 2003) and goes out in
its ``xn--`` form, which every server takes. A local part with non-ASCII letters
(``jöns.åkesson@…``) can only travel to a server that offers SMTPUTF8; such a mailbox
says so (:attr:`Mailbox.needs_smtputf8`), and the transport refuses it by name where
the server does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import formataddr, getaddresses

import idna

from mailer.text import control_characters

# The plain ASCII ``local@domain`` form, checked without the (slower) header parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"{_DOT_ATOM}@{_LABEL}(?:\.{_LABEL})*")
# RFC 6531: a local part may hold any non-ASCII character besides the ASCII atext.
_UTEXT = r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f\s\u0080-\u009f])"
_UNICODE_LOCAL = re.compile(rf"{_UTEXT}+(?:\.{_UTEXT}+)*")
_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')
NOT_AN_ADDRESS = "is not an e-mail address (expected name@example.org)"


class AddressProblem(ValueError):
    """Why a text is not one usable address."""


def ascii_domain(domain: str) -> str:
    """The domain as it travels: ``exämple.org`` -> ``xn--exmple-cua.org`` (IDNA 2008)."""
    if domain.isascii():
        return domain
    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except idna.IDNAError as exc:
        raise AddressProblem(f"has a domain that is not a valid international name ({exc})")\
            from None


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One validated address with an optional display name."""

    addr: str  # as written
    name: str = ""

    @property
    def local(self) -> str:
        """The part before the ``@``."""
        return self.addr.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """The part after the ``@``, as written."""
        return self.addr.rpartition("@")[2]

    @property
    def ascii_domain(self) -> str:
        """The domain in its ASCII (``xn--``) form."""
        return ascii_domain(self.domain)

    @property
    def needs_smtputf8(self) -> bool:
        """Whether the address can only travel over SMTPUTF8 (a non-ASCII local part)."""
        return not self.local.isascii()

    @property
    def envelope(self) -> str:
        """The address for MAIL FROM and RCPT TO: the domain in ASCII unless SMTPUTF8 is needed."""
        if self.addr.isascii() or self.needs_smtputf8:
            return self.addr
        return f"{self.local}@{self.ascii_domain}"

    def header(self) -> str:
        """The address as a header value: RFC 2047 for a non-ASCII name; raw UTF-8 (RFC 6532)
        for an address that needs SMTPUTF8."""
        if not self.needs_smtputf8:
            return formataddr((self.name, self.envelope)) if self.name else self.envelope
        return self.text()

    def text(self) -> str:
        """The address as written, the name quoted where it must be: parses back to itself."""
        if not self.name:
            return self.addr
        name = self.name
        if _SPECIALS.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{self.addr}>"

    def display(self) -> str:
        """The address as a person reads it: ``Name <addr>``, nothing encoded."""
        return f"{self.name} <{self.addr}>" if self.name else self.addr


def _international(text: str, name: str) -> Mailbox:
    """Parse an address with non-ASCII characters (RFC 6531)."""
    found = getaddresses([text])
    if len(found) != 1:
        raise AddressProblem(f"holds {len(found)} addresses; give exactly one")
    display, addr = found[0]
    local, at, domain = addr.rpartition("@")
    # getaddresses mends what it cannot read ("exa mple.org" becomes "example.org"): an
    # address is taken only as it was written.
    if not at or not _UNICODE_LOCAL.fullmatch(local) or not domain or addr not in text:
        raise AddressProblem(NOT_AN_ADDRESS)
    if not _PLAIN.fullmatch(f"x@{ascii_domain(domain)}"):
        raise AddressProblem(NOT_AN_ADDRESS)
    return Mailbox(addr, name or display)


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
    try:
        header = SMTP.header_factory("To", text)
        addresses: tuple[Address, ...] = header.addresses
    except ValueError:  # an encoded word in the name that decodes to CR or LF
        raise AddressProblem("has a name that decodes to a line break (an encoded word "
                             "holding CR or LF); write the name as plain text") from None
    if len(addresses) != 1:
        raise AddressProblem(f"holds {len(addresses)} addresses; give exactly one")
    found = addresses[0]
    if not found.addr_spec.isascii():
        return _international(text, name)
    if header.defects or not found.username or not found.domain:
        raise AddressProblem(NOT_AN_ADDRESS)
    addr = found.addr_spec
    if not _PLAIN.fullmatch(addr) and not addr.startswith('"'):
        raise AddressProblem(NOT_AN_ADDRESS)
    return Mailbox(addr, name or found.display_name)
