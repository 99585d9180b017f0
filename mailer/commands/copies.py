"""What went out about one talk (``list --sent``): the copy kept of each mail in the state
folder, and the series' record of it, which also knows what went from another state folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import tzinfo
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path
from typing import Any

from mailer.delivery.history import LOG, Went, load
from mailer.delivery.keeping import Copy, copies
from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.kinds import Kind
from mailer.series.model import Talk
from mailer.series.store import Store


@dataclass(frozen=True)
class Sent:
    """What went out about one talk (``list --sent``): the copies kept in the state folder,
    and the series' record of it (which also knows what went from another state folder)."""

    talk: Talk
    state: Path
    copies: tuple[Copy, ...]
    went: tuple[Went, ...]

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        """The copies and the record's lines as plain JSON values."""
        kept = []
        for copy in self.copies:
            when, subject = _copy_headers(copy.path, zone)
            kept.append({"kind": str(copy.kind), "campaign": copy.campaign,
                         "file": str(copy.path), "date": when, "subject": subject})
        return {"id": self.talk.id, "copies": kept,
                "record": [json.loads(went.line()) for went in self.went]}


def sent(store: Store, state: Path, which: str) -> Sent:
    """The copies and the record of what went out about the talk ``which`` (id or date)."""
    talk = store.find(which)
    return Sent(talk, state, tuple(copies(state, talk.key)),
                tuple(went for went in load(store.root) if went.talk == talk.key))


def _copy_headers(path: Path, zone: tzinfo) -> tuple[str, str]:
    """A copy's Date (in the series' zone) and Subject."""
    with open(path, "rb") as handle:
        message = BytesHeaderParser(policy=default).parse(handle)
    moment = getattr(message["Date"], "datetime", None)
    when = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else "?"
    return when, str(message["Subject"] or "")


def sent_lines(found: Sent, zone: tzinfo) -> list[str]:
    """What ``list --sent`` prints: each copy kept, then what only the series' record has."""
    name, folder = found.talk.id, f"{display_path(found.state)}/sent/"
    lines = []
    for copy in found.copies:
        when, subject = _copy_headers(copy.path, zone)
        lines.append(f"{copy.kind:<12} {when}  {subject}  {display_path(copy.path)}")
    kept = {copy.kind for copy in found.copies}
    for went in found.went:
        if went.kind not in kept:
            lines.append(f"{went.kind:<12} {went.first.astimezone(zone):%Y-%m-%d %H:%M %Z}  went "
                         f"out to {went.reached} (seminars/{LOG}); no copy in {folder}: it "
                         "went from another state folder")
    if not lines:
        return [f"Nothing about {name} went out: no copy in {folder} and no line in "
                f"seminars/{LOG}."]
    return [*lines, f"announce list --sent {name} --kind KIND prints a copy (--out FILE "
                    "writes it)"]


def sent_copy(found: Sent, kind: Kind) -> bytes:
    """The bytes of the newest copy of the talk's ``kind`` of mail."""
    chosen = [copy for copy in found.copies if copy.kind == kind]
    if not chosen:
        elsewhere = any(went.kind == kind for went in found.went)
        raise InputError(f"no copy of the {kind} of {found.talk.id} in "
                         f"{display_path(found.state)}/sent/" +
                         (" (it went out from another state folder)" if elsewhere else
                          " (it did not go out from here)"))
    return chosen[-1].path.read_bytes()
