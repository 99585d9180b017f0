"""Per-recipient unsubscribe tokens (contract §7 and 9): proof that a request comes from the mail
announce sent to that address.

A token is an HMAC (SHA-256) of the series and the address under the series' secret (kept in
the state folder, never in a mail), cut to 20 base32 letters (100 bits): it names no address,
cannot be made without the secret, and is checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

TOKEN_LETTERS = 20
_TOKEN = re.compile(rf"\b([a-z2-7]{{{TOKEN_LETTERS}}})\b")


def unsubscribe_token(secret: bytes, series: str, address: str) -> str:
    """The token that proves a request to leave ``series`` comes from ``address``'s mail."""
    digest = hmac.new(secret, f"unsubscribe\n{series}\n{address.strip().lower()}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:TOKEN_LETTERS]


def erased_digest(secret: bytes, address: str) -> str:
    """The keyed hash an erased person is kept under, so that they stay left out."""
    return hmac.new(secret, f"erased\n{address.strip().lower()}".encode(),
                    hashlib.sha256).hexdigest()


def unsubscribe_uri(mailto: str, token: str) -> str:
    """``mailto`` (the series' ``mail.unsubscribe``) with the token as its subject."""
    return f"{mailto.split('?', maxsplit=1)[0]}?subject=unsubscribe%20{token}"


def tokens_in(text: str) -> list[str]:
    """The words of ``text`` shaped like a token (a subject, an address's local part)."""
    return _TOKEN.findall(text.lower())


def address_of(secret: bytes, series: str, found: Iterable[str],
               candidates: Iterable[str]) -> str | None:
    """The address among ``candidates`` whose token is among ``found``; None when none is."""
    wanted = list(found)
    if not wanted:
        return None
    for address in candidates:
        token = unsubscribe_token(secret, series, address)
        if any(hmac.compare_digest(token, given) for given in wanted):
            return address.strip().lower()
    return None


def owner_of(secret: bytes, series: str, given: str, candidates: Iterable[str]) -> str | None:
    """The address among ``candidates`` whose token is ``given``, comparing with every one
    (no early end), so the time taken says nothing of which address, or whether any, has it.
    Something not shaped like a token is nobody's."""
    if not _TOKEN.fullmatch(given):
        return None
    found = None
    for address in candidates:
        if hmac.compare_digest(unsubscribe_token(secret, series, address), given):
            found = address.strip().lower()
    return found
