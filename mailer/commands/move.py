"""A season that changes: ``move`` a talk to another day, keeping who it is.

A talk's identity (its ledger history, its calendar UID and SEQUENCE) is its first id. A
move renames the record to the new date and writes that id into it as ``uid:``, so what
was sent about the talk, and the event in every subscribed calendar, follow it. The record is
edited in place: only the values of ``date`` and ``time`` change and a ``uid:`` line is added;
comments, key order and every other word stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import yaml

from mailer.delivery.ledger import Ledger
from mailer.errors import InputError
from mailer.paths import display_path, write_atomically
from mailer.series.kinds import ANNOUNCING
from mailer.series.model import Talk
from mailer.series.schedule import local_moment, standing_in
from mailer.series.schema import load_talk
from mailer.series.store import Store
from mailer.series.yamlfile import out_of_range


@dataclass(frozen=True)
class Moved:
    """What ``move`` did."""

    talk: Talk  # as it is now
    old: Path
    new: Path
    announced: bool  # its announcement went out: an update is due


def _spans(text: str, path: Path) -> tuple[dict[str, tuple[int, int]], int]:
    """Where the values of the record's top-level keys are, and where the date line ends."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:  # it was read a moment ago; a change since is possible
        raise InputError(f"{display_path(path)}: cannot be read as YAML ({exc})") from None
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{display_path(path)}: not a talk record")
    spans = {
        key.value: (value.start_mark.index, value.end_mark.index)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    if "date" not in spans:
        raise InputError(f"{display_path(path)}: has no date: to move")
    end_of_date = text.find("\n", spans["date"][1])
    return spans, len(text) if end_of_date < 0 else end_of_date + 1


def moved_text(text: str, path: Path, talk: Talk, day: date, at: time | None) -> str:
    """The record's text with its new date (and time), and its identity kept as ``uid:``."""
    spans, after_date = _spans(text, path)
    edits: list[tuple[int, int, str]] = [(*spans["date"], day.isoformat())]
    added = ""
    if at is not None:
        value = f'"{at:%H:%M}"'
        if "time" in spans:
            edits.append((*spans["time"], value))
        else:
            added += f"time: {value}\n"
    if "uid" not in spans:
        added += f"uid: {talk.key}     # the talk's identity: keep it (announce move)\n"
    if added:
        edits.append(
            (after_date, after_date, added if text[:after_date].endswith("\n") else "\n" + added)
        )
    for start, end, value in sorted(edits, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _refuse(store: Store, talk: Talk, day: date, at: time | None, now: datetime) -> None:
    why = out_of_range(day)
    if why is not None:
        raise InputError(f"{day} {why}: a talk moves to a date in them; nothing was changed")
    series = store.series
    start = talk.start(series)
    if start <= now:
        raise InputError(
            f"{talk.id} has started (at {start:%Y-%m-%d %H:%M %Z}): a talk "
            "that took place is not moved; nothing was changed"
        )
    new_start = local_moment(day, at or talk.time or series.default_time, series.zone)
    if new_start <= now:
        raise InputError(
            f"{day} {new_start:%H:%M} is in the past: a talk moves to a time to "
            "come; nothing was changed"
        )
    taken = [entry for entry in store.entries(day) if entry.date == day and entry.id != talk.id]
    if taken:
        raise InputError(
            f"{display_path(taken[0].path)}: {day} has a talk already; a series "
            "has one talk a day. Move that one first, or choose another date; "
            "nothing was changed"
        )
    if day == talk.date and (at is None or at == (talk.time or series.default_time)):
        raise InputError(f"{talk.id} is on {day} at {start:%H:%M} already; nothing was changed")


def move(
    store: Store, state: Path, which: str, day: date, at: time | None, *, today: date, now: datetime
) -> Moved:
    """Move a talk to ``day`` (and ``at``), keeping its identity; refuse what cannot move."""
    talk = store.find(which)
    _refuse(store, talk, day, at, standing_in(store.series.zone, today, now))
    old = store.folder / f"{talk.id}.yaml"
    text = old.read_text(encoding="utf-8")
    new_id = f"{day.isoformat()}{talk.id[10:]}"
    new = store.folder / f"{new_id}.yaml"
    write_atomically(new, moved_text(text, old, talk, day, at).encode("utf-8"))
    try:
        moved = load_talk(new, new_id, day, store.series)
    except InputError:
        if new == old:
            write_atomically(old, text.encode("utf-8"))
        else:
            new.unlink()
        raise
    if new != old:
        old.unlink()
    with Ledger.existing(state) as ledger:
        announced = bool(ledger and ledger.first_sent(moved.key, ANNOUNCING))
    return Moved(moved, old, new, announced)
