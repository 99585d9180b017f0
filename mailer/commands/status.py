"""Where the season stands: ``list`` (one typed row per talk, and the copies of what went out).

``check`` (is every file good) is :mod:`mailer.commands.check`.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailer.delivery.ledger import KindSummary, Ledger
from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.kinds import Kind
from mailer.series.model import TBA, Status, Talk
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.delivery.history import Went
    from mailer.delivery.keeping import Copy


@dataclass(frozen=True)
class Row:
    """One talk as ``list`` shows it."""

    id: str
    date: date
    time: str  # local time with the zone, "16:00 CEST"
    speaker: str
    affiliation: str
    status: Status
    note: str | None
    missing: tuple[str, ...]
    sent: dict[Kind, KindSummary | None]
    addressed: bool = True  # a speaker has an email: address (so announce can ask them)

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON values."""
        return {
            "id": self.id, "date": self.date.isoformat(), "time": self.time,
            "speaker": self.speaker, "affiliation": self.affiliation,
            "status": str(self.status), "note": self.note, "missing": list(self.missing),
            "speaker_address": self.addressed,
            "sent": {str(kind): None if summary is None else {
                "recipients": summary.sent, "refused": summary.refused, "last": summary.last}
                for kind, summary in self.sent.items()},
        }


def _row(talk: Talk, store: Store, ledger: Ledger | None) -> Row:
    return Row(
        id=talk.id,
        date=talk.date,
        time=talk.start(store.series).strftime("%H:%M %Z"),
        speaker="; ".join(s.name for s in talk.speakers) or TBA,
        affiliation="; ".join(dict.fromkeys(s.affiliation or "" for s in talk.speakers)),
        status=talk.status,
        note=talk.note,
        missing=tuple(talk.missing(photo=True)) if talk.takes_place else (),
        sent={kind: _local(ledger.summary(talk.key, kind), store.series.zone)
              if ledger else None for kind in Kind},
        addressed=bool(talk.asked()),
    )


def _local(summary: KindSummary | None, zone: tzinfo) -> KindSummary | None:
    """When it went, in the series' zone (the ledger keeps UTC): an ISO time with its offset."""
    if summary is None or summary.last is None:
        return summary
    return replace(summary, last=datetime.fromisoformat(summary.last).astimezone(zone)
                   .isoformat(timespec="seconds"))


def listing(store: Store, state: Path, today: date, *, every: bool) -> list[Row]:
    """Return one row per talk from ``today`` on (every talk with ``every``)."""
    with Ledger.existing(state) as ledger:
        talks = store.talks(None if every else today)
        return [_row(talk, store, ledger) for talk in talks]


def _state(row: Row) -> str:
    if row.status in (Status.CANCELLED, Status.OPEN):
        return str(row.status).upper() + (f": {row.note}" if row.note else "")
    state = ("missing " + ", ".join(row.missing)) if row.missing else "complete"
    if row.missing and not row.addressed:
        state += " (no speaker address: announce cannot ask)"
    return f"tentative; {state}" if row.status == Status.TENTATIVE else state


def _sent(kind: Kind, summary: KindSummary, zone: tzinfo) -> str:
    when = datetime.fromisoformat(summary.last).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")\
        if summary.last else "?"
    if not summary.sent:
        everyone = ("its only recipient" if summary.refused == 1
                    else f"all {summary.refused} recipients")
        return f"{kind} refused by {everyone} {when}"
    text = f"{kind} sent {when} to {summary.sent}"
    return text + (f", refused by {summary.refused}" if summary.refused else "")


def _padded(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns: a CJK character takes two, a combining
    mark none (str.ljust counts characters, which breaks the columns)."""
    columns = sum(0 if unicodedata.combining(ch) else
                  2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def format_rows(rows: list[Row], zone: tzinfo = UTC) -> list[str]:
    """Lay the rows out as aligned lines for a terminal; times in ``zone`` (the series')."""
    lines = []
    for row in rows:
        who = row.speaker + (f" ({row.affiliation})" if row.affiliation else "")
        marks = [_sent(kind, summary, zone) for kind, summary in row.sent.items() if summary]
        lines.append(f"{row.id:<34} {row.date} {row.time:<10} {_padded(who, 45)} {_state(row)}"
                     + (f" | {'; '.join(marks)}" if marks else " | not sent"))
    return lines


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
        copies = []
        for copy in self.copies:
            when, subject = _copy_headers(copy.path, zone)
            copies.append({"kind": str(copy.kind), "campaign": copy.campaign,
                           "file": str(copy.path), "date": when, "subject": subject})
        return {"id": self.talk.id, "copies": copies,
                "record": [json.loads(went.line()) for went in self.went]}


def sent(store: Store, state: Path, which: str) -> Sent:
    """The copies and the record of what went out about the talk ``which`` (id or date)."""
    from mailer.delivery.history import load
    from mailer.delivery.keeping import copies

    talk = store.find(which)
    return Sent(talk, state, tuple(copies(state, talk.key)),
                tuple(went for went in load(store.root) if went.talk == talk.key))


def _copy_headers(path: Path, zone: tzinfo) -> tuple[str, str]:
    """A copy's Date (in the series' zone) and Subject."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    with open(path, "rb") as handle:
        message = BytesHeaderParser(policy=default).parse(handle)
    moment = getattr(message["Date"], "datetime", None)
    when = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else "?"
    return when, str(message["Subject"] or "")


def sent_lines(found: Sent, zone: tzinfo) -> list[str]:
    """What ``list --sent`` prints: each copy kept, then what only the series' record has."""
    from mailer.delivery.history import LOG

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
