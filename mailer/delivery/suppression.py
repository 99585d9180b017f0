"""Addresses no send goes to: those that bounced for good and those that unsubscribed (contract §6).

They are kept in the ledger with the reason, the date and the message that caused it; the
subscriber file itself is never rewritten. ``announce subscribers --restore ADDR`` lifts one.

The series keeps them too, beside its record of sent mail: ``seminars/.suppressed.log`` holds
one line a suppression or restore, each address as a hash (no address in the clear), so a lost
or new state folder mails nobody who left. Commit it with the records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.delivery.secret import series_secret
from mailer.errors import InputError
from mailer.mail.outgoing import RecipientPlan
from mailer.mail.tokens import erased_digest
from mailer.paths import (
    MAX_SUBSCRIBER_BYTES,
    decode_text,
    display_path,
    read_regular,
    write_atomically,
)

LOG = ".suppressed.log"  # in seminars/
_HEADER = (
    "# Addresses announce sends nothing to (bounced for good, unsubscribed), one line a\n"
    "# suppression or restore, each address as a hash. Written by `announce inbox` and\n"
    "# `announce subscribers --restore`; commit it with the records.\n")


def digest(address: str) -> str:
    """The hash an address is kept under (lower-cased, as the ledger keeps it)."""
    return hashlib.sha256(f"announce suppressed {address.lower()}".encode()).hexdigest()[:32]


def _path(root: Path) -> Path:
    return root / "seminars" / LOG


def kept(root: Path) -> dict[str, str]:
    """The series' suppressions: hash -> reason (a restore lifts the lines before it)."""
    path = _path(root)
    if not path.exists():
        return {}
    data = read_regular(path, "the record of suppressions", inside=root,
                        limit=MAX_SUBSCRIBER_BYTES)
    found: dict[str, str] = {}
    for number, line in enumerate(decode_text(data, path, "it").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", "<<<<<<<", "=======", ">>>>>>>")):
            continue
        try:
            entry = json.loads(line)
            if "restored" in entry:
                found.pop(str(entry["restored"]), None)
            else:
                found[str(entry["address"])] = str(entry["why"])
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{display_path(path)}:{number}: not a line announce writes; "
                             "mend it rather than delete it: a suppression missing from it "
                             "may mail someone who left") from None
    return found


def remember(root: Path, entries: Iterable[dict[str, str]]) -> None:
    """Add suppressions (``address``, ``why``) or restores (``restored``) to the record."""
    lines = [json.dumps({**entry, "on": datetime.now(UTC).date().isoformat()})
             for entry in entries]
    if not lines or not (root / "seminars").is_dir():
        return
    path = _path(root)
    old = decode_text(read_regular(path, "the record of suppressions", inside=root,
                                   limit=MAX_SUBSCRIBER_BYTES), path, "it")\
        if path.exists() else _HEADER
    write_atomically(path, (old + "".join(f"{line}\n" for line in lines)).encode("utf-8"))


def backfill(root: Path, ledger: Ledger) -> None:
    """Write the ledger's suppressions the series' record lacks (from an older release)."""
    have = kept(root)
    remember(root, ({"address": digest(a), "why": why}
                    for a, (why, _, _) in ledger.suppressed().items() if digest(a) not in have))


def suppressed_here(root: Path, state: Path, addresses: Iterable[str]) -> dict[str, str]:
    """Which of ``addresses`` are suppressed (lower-cased -> reason), by the ledger or by the
    series' record."""
    with Ledger.existing(state) as ledger:
        found = {a: why for a, (why, _, _) in (ledger.suppressed() if ledger else {}).items()}
        erased = ledger.erased() if ledger else frozenset()
    secret = series_secret(state, create=False) if erased else None
    record = kept(root)
    for address in addresses:
        why = record.get(digest(address))
        if why is None and secret is not None and erased_digest(secret, address) in erased:
            why = "erased at their request"
        if why is not None:
            found.setdefault(address.lower(), why)
    return found


def unsuppressed(root: Path, state: Path, plan: RecipientPlan) -> tuple[RecipientPlan, int]:
    """The plan without the suppressed addresses (``--force`` too), and how many there were.
    A test send with ``--to`` goes where it is told."""
    if plan.test:
        return plan, 0
    everyone = {b.envelope.lower() for b in (*plan.lists, *plan.subscribers, *plan.cc)}
    suppressed = set(suppressed_here(root, state, everyone))
    if not suppressed:
        return plan, 0
    left = plan.only(everyone - suppressed)
    return left, plan.total - left.total


SKIPPED = "suppressed address(es) skipped"


def skipped_warning(count: int) -> str:
    """The warning a send gives when it leaves suppressed addresses out."""
    return (f"{count} suppressed address(es) skipped (bounced or unsubscribed; "
            "`announce subscribers` lists them)")


def said_once(state: Path, warnings: tuple[str, ...]) -> tuple[str, ...]:
    """The warnings less a suppression count said before: the same count from run to run is
    no news (cron would mail it every week); a new suppression is said once."""
    if not any(SKIPPED in w for w in warnings):
        return warnings
    with Ledger(state) as ledger:
        return tuple(w for w in warnings if SKIPPED not in w or ledger.first_time(w))
