"""Where the season stands: ``list``, one typed row per talk.

The copies of what went out (``list --sent``) are :mod:`mailer.commands.copies`; ``check``
(is every file good) is :mod:`mailer.commands.check`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from mailer.delivery.ledger import KindSummary, Ledger
from mailer.series.kinds import Kind
from mailer.series.model import TBA, Status, Talk
from mailer.series.store import Store


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
