"""What a send leaves behind, besides the ledger: the series' record brought up to date and a
copy of the mail kept in the state folder (``sent/<talk>-<kind>-<campaign>.eml``).

Both are written when a campaign first reaches anyone (once a run, never per recipient: the
send loop is untouched), and the record again when the run ends, with how many it reached.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path

from mailer.delivery.history import LOG, log_path, remember
from mailer.delivery.ledger import SENT, Ledger
from mailer.delivery.loop import Event, Notice, Report
from mailer.errors import InputError
from mailer.mail.outgoing import Outgoing
from mailer.paths import display_path, write_atomically
from mailer.series.kinds import Kind

COPIES = "sent"  # in the state folder
_COPY = re.compile(rf"-({'|'.join(Kind)})-(\d+)\.eml")


@dataclass(frozen=True)
class Kept(Outgoing):
    """A mail ready to go that knows its series folder, where its record is kept."""

    root: Path | None = None


def kept(root: Path, outgoing: Outgoing, *, warn: bool) -> Outgoing:
    """``outgoing``, knowing its series folder; with ``warn``, a warning when the series'
    record cannot be written (then only the ledger knows what went)."""
    made = Kept(**{f.name: getattr(outgoing, f.name) for f in fields(Outgoing) if f.init},
                root=root)
    path = log_path(root)
    if not warn or os.access(path if path.exists() else path.parent, os.W_OK):
        return made
    return replace(made, warnings=(*made.warnings, f"{display_path(path)} cannot be written: "
                                   "only the state folder will know that this mail went out"))


class Keeping:
    """The ledger as the send loop sees it. When the campaign first reaches anyone (once a
    run, never per recipient), the series' record notes it and a copy of that message is
    kept; when the run ends, the record says how many it reached."""

    def __init__(self, ledger: Ledger, outgoing: Outgoing, campaign: int, state: Path,
                 clock: Callable[[], datetime]) -> None:
        self.ledger = ledger
        self.outgoing = outgoing
        self.campaign = campaign
        self.state = state
        self.clock = clock
        self.root = outgoing.root if isinstance(outgoing, Kept) else None
        self.reached = False
        self.problem: str | None = None

    def settled(self, campaign: int) -> Mapping[str, str]:
        """Who has the campaign's message (or refused it), as the ledger says."""
        return self.ledger.settled(campaign)

    def write_outcome(self, campaign: int, recipient: str, status: str, code: int, reply: str,
               *, message_id: str | None = None) -> None:
        """YamlMap one recipient's outcome in the ledger; the first to get it, in the series'
        record and as the copy kept."""
        self.ledger.write_outcome(campaign, recipient, status, code, reply, message_id=message_id)
        if status == SENT and not self.reached:
            self.reached = True
            self._copy(recipient.lower())
            self._remember()

    def passing(self, event: Event) -> Iterator[Event]:
        """``event``; before the report, the record brought up to date (and any problem)."""
        if isinstance(event, Report):
            if event.sent and self.reached:
                self._remember()
            if self.problem:
                yield Notice(self.problem)
        yield event

    def _copy(self, recipient: str) -> None:
        path = copy_path(self.state, self.outgoing.talk.key, self.outgoing.kind,
                         self.campaign)
        found = next((d for d in self.outgoing.plan.deliveries()
                      if recipient in (r.lower() for r in d.recipients)), None)
        if found is None or path.exists():
            return
        try:
            write_atomically(path, self.outgoing.blueprint_for(found).eml(found.to, found.number))
        except InputError as exc:
            self.problem = f"no copy of the mail was kept: {exc}"

    def _remember(self) -> None:
        if self.root is None:
            return
        try:
            remember(self.root, self.ledger, self.outgoing, self.campaign, self.clock())
        except (InputError, OSError) as exc:
            self.problem = (f"seminars/{LOG} was not brought up to date ({exc}); the ledger "
                            "has this send, but a new state folder would not know it went")


@dataclass(frozen=True)
class Copy:
    """A copy kept of a mail that went: its kind, its campaign in the ledger, the file."""

    kind: Kind
    campaign: int
    path: Path


def copy_path(state: Path, talk: str, kind: Kind, campaign: int) -> Path:
    """Where the copy of a campaign's first message is kept."""
    return state / COPIES / f"{talk}-{kind}-{campaign}.eml"


def copies(state: Path, talk: str) -> list[Copy]:
    """The copies kept of a talk's mail (by its key), oldest campaign first."""
    folder = state / COPIES
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        match = _COPY.fullmatch(name[len(talk):]) if name.startswith(talk) else None
        if match is not None:
            found.append(Copy(Kind(match[1]), int(match[2]), folder / name))
    return sorted(found, key=lambda copy: copy.campaign)
