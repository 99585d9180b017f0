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
from mailer.delivery.sending import standing_in
from mailer.errors import InputError
from mailer.paths import display_path, write_atomically
from mailer.series.model import Kind, Seminar
from mailer.series.schedule import local_moment
from mailer.series.schema import load_seminar
from mailer.series.store import Store
from mailer.series.yamlfile import out_of_range


@dataclass(frozen=True)
class Moved:
    """What ``move`` did."""

    seminar: Seminar  # as it is now
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


def moved_text(text: str, path: Path, seminar: Seminar, day: date, at: time | None) -> str:
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
        added += f"uid: {seminar.key}     # the talk's identity: keep it (announce move)\n"
    if added:
        edits.append(
            (after_date, after_date, added if text[:after_date].endswith("\n") else "\n" + added)
        )
    for start, end, value in sorted(edits, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _refuse(store: Store, seminar: Seminar, day: date, at: time | None, now: datetime) -> None:
    why = out_of_range(day)
    if why is not None:
        raise InputError(f"{day} {why}: a talk moves to a date in them; nothing was changed")
    series = store.series
    start = seminar.start(series)
    if start <= now:
        raise InputError(
            f"{seminar.id} has started (at {start:%Y-%m-%d %H:%M %Z}): a talk "
            "that took place is not moved; nothing was changed"
        )
    new_start = local_moment(day, at or seminar.time or series.default_time, series.zone)
    if new_start <= now:
        raise InputError(
            f"{day} {new_start:%H:%M} is in the past: a talk moves to a time to "
            "come; nothing was changed"
        )
    taken = [entry for entry in store.entries(day) if entry.date == day and entry.id != seminar.id]
    if taken:
        raise InputError(
            f"{display_path(taken[0].path)}: {day} has a talk already; a series "
            "has one talk a day. Move that one first, or choose another date; "
            "nothing was changed"
        )
    if day == seminar.date and (at is None or at == (seminar.time or series.default_time)):
        raise InputError(f"{seminar.id} is on {day} at {start:%H:%M} already; nothing was changed")


def move(
    store: Store, state: Path, which: str, day: date, at: time | None, *, today: date, now: datetime
) -> Moved:
    """Move a talk to ``day`` (and ``at``), keeping its identity; refuse what cannot move."""
    seminar = store.find(which)
    _refuse(store, seminar, day, at, standing_in(store, today, now))
    old = store.folder / f"{seminar.id}.yaml"
    text = old.read_text(encoding="utf-8")
    new_id = f"{day.isoformat()}{seminar.id[10:]}"
    new = store.folder / f"{new_id}.yaml"
    write_atomically(new, moved_text(text, old, seminar, day, at).encode("utf-8"))
    try:
        moved = load_seminar(new, new_id, day, store.series)
    except InputError:
        if new == old:
            write_atomically(old, text.encode("utf-8"))
        else:
            new.unlink()
        raise
    if new != old:
        old.unlink()
    with Ledger.existing(state) as ledger:
        announced = bool(ledger and ledger.first_sent(moved.key, Kind.ANNOUNCEMENT))
    return Moved(moved, old, new, announced)


def orphans(store: Store, state: Path, today: date, *,
            once: bool = False) -> tuple[list[str], dict[str, str]]:
    """Talks to come that were announced, whose record is gone (renamed or deleted by hand):
    lines for the organiser, and the records that look like one of them renamed (their id ->
    the announced key), whose mail ``send --due`` holds until the organiser says which it is.

    With ``once`` (a cron run), each line is said the first time only, and noted in the ledger.
    """
    with Ledger.existing(state, readonly=not once) as ledger:
        if ledger is None:
            return [], {}
        announced = ledger.announced()
        missing = _missing(store, announced, today)
        renamed = _renamed(store, announced, missing, today)
        lines = [_line(store, key, renamed) for key in sorted(missing)]
        if once:
            lines = [line for line in lines if ledger.first_time(f"orphan {line.split()[0]}")]
    return lines, renamed


def _missing(store: Store, announced: set[str], today: date) -> set[str]:
    waiting = {key for key in announced if key[:10] >= today.isoformat()}
    missing = waiting - {entry.id for entry in store.entries()}  # no record is read for this
    if missing:  # a moved talk's record names its first id in uid:
        missing -= {seminar.key for seminar in store.seminars()}
    return missing


def _renamed(store: Store, announced: set[str], missing: set[str],
             today: date) -> dict[str, str]:
    """Records never announced and without ``uid:`` that share a missing talk's date or its
    speaker part of the name: each looks like that talk, renamed by hand."""
    if not missing:
        return {}
    found: dict[str, str] = {}
    for seminar in store.seminars(today):
        if seminar.uid is not None or seminar.key in announced:
            continue
        for key in sorted(missing):
            if seminar.id[:10] == key[:10] or seminar.id[11:] == key[11:]:
                found[seminar.id] = key
                break
    return found


def _line(store: Store, key: str, renamed: dict[str, str]) -> str:
    alike = [talk for talk, was in renamed.items() if was == key]
    if alike:
        return (f"{key} was announced, and {alike[0]} looks like it renamed by hand: its mail "
                "is held, so nobody gets the talk twice. If it is the same talk, rename it "
                f"back and use `announce move`, or give it uid: {key}; if it is a new talk, "
                f"give it uid: {alike[0]}")
    return (f"{key} was announced, but no record in {display_path(store.folder)} is that talk "
            "now: a record renamed by hand is a new talk to every calendar. Rename it back "
            f"and use `announce move`, or give the record uid: {key}")
