"""What the mails to a speaker say beyond the talk itself (contract §8): the values the
``request``, ``brief`` and ``changed`` templates see.

A speaker's own time is the talk's start in their ``timezone``, computed for that day, so a
talk on the week the clocks change shows each side's offset as it is then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailer.render.times import hhmm, long_day, zone_abbreviation
from mailer.series.model import Series, Speaker, Talk

FORM_LABELS = {"title": "Title:", "abstract": "Abstract:", "bio": "About you:"}
PHOTO_LINE = "attach a photo (JPEG or PNG)"


def and_list(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def their_time(start: datetime, speaker: Speaker) -> str | None:
    """The talk's start in the speaker's own zone (``09:00 EST, America/New_York``), or None
    when they have none or it reads the same as the series' time."""
    if not speaker.timezone:
        return None
    there = start.astimezone(ZoneInfo(speaker.timezone))
    if there.utcoffset() == start.utcoffset():
        return None
    day = "" if there.date() == start.date() else f"{long_day(there)}, "
    return f"{day}{hhmm(there)} {zone_abbreviation(there)} ({speaker.timezone})"


def request_values(series: Series, talk: Talk, speaker: Speaker, *, round_: int,
                   last: bool, deadline: date) -> dict[str, Any]:
    """The request's values: who is asked, what is missing, by when, and the form."""
    start = talk.start(series)
    missing = talk.missing(photo=True)
    others = [s.name for s in talk.speakers if s is not speaker and s.name != speaker.name]
    return {
        "speaker": speaker,
        "others": and_list(others) if others else None,
        "missing": missing,
        "missing_text": and_list(missing),
        "form": [FORM_LABELS[part] for part in ("title", "abstract", "bio") if part in missing],
        "photo_line": PHOTO_LINE if "photo" in missing else None,
        "deadline": long_day(datetime.combine(deadline, start.timetz())),
        "round": round_,
        "last": last,
        "series_time": f"{long_day(start)}, {hhmm(start)} {zone_abbreviation(start)}",
        "their_time": their_time(start, speaker),
        "organiser": series.team,
    }


def brief_values(series: Series, talk: Talk, *, announced: str | None,
                 backdrop: str | None) -> dict[str, Any]:
    """The brief's values: the time in every speaker's zone, the host, what the audience got."""
    start = talk.start(series)
    speakers = talk.asked()
    return {
        "names": and_list([s.name for s in speakers]) if speakers else "",
        "speaker_count": len(speakers),
        "series_time": f"{long_day(start)}, {hhmm(start)} {zone_abbreviation(start)}",
        "their_times": [{"name": s.name, "time": t} for s in speakers
                        if (t := their_time(start, s)) is not None],
        "host": talk.host,
        "announced": announced,
        "backdrop": backdrop,
        "organiser": series.team,
    }


def _told_start(series: Series, told: str) -> datetime | None:
    """The start the list was told (``2024-02-22 15:00``, series time), as a moment."""
    try:
        return datetime.strptime(told, "%Y-%m-%d %H:%M").replace(tzinfo=series.zone)
    except ValueError:
        return None


def _moment(moment: datetime) -> str:
    return f"{long_day(moment)}, {hhmm(moment)} {zone_abbreviation(moment)}"


def changed_values(series: Series, talk: Talk,
                   changed: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The ``changed`` mail's values: to whom, whether the talk is cancelled or moved, the
    move old -> new in the series' time and in each speaker's own, and what else changed."""
    start = talk.start(series)
    speakers = talk.asked()
    host = talk.host if talk.host is not None and talk.host.email else None
    told = next((old for key, old, _ in changed if key == "when"), None)
    before = _told_start(series, told) if told else None
    moves = []
    for speaker in speakers:
        if before is not None and speaker.timezone and\
                (their_time(start, speaker) or their_time(before, speaker)):
            zone = ZoneInfo(speaker.timezone)
            moves.append({"name": speaker.name, "time": f"{_moment(before.astimezone(zone))} → "
                          f"{_moment(start.astimezone(zone))} ({speaker.timezone})"})
    names = [s.name for s in speakers] or ([host.name] if host else [])
    return {
        "names": and_list(names) if names else "",
        "speaker_count": len(speakers),
        "cancelled": talk.cancelled,
        "series_time": _moment(start),
        "move": f"{_moment(before)} → {_moment(start)}" if before is not None else None,
        "their_moves": moves,
        "others": [{"label": series.call_label if key == "call" else "Location",
                    "old": old, "new": new, "link": key == "call"}
                   for key, old, new in changed if key != "when"],
        "host": host,
        "organiser": series.team,
    }
