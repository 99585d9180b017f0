"""Dates and times as people write them on talk pages, in data files and in spreadsheets.

A day: ``2024-08-30`` or ``2026-4-6``; ``30/08/2024`` and ``30.08.2024`` (day first),
``2/22/2024`` (month first, where the day cannot be a month); a month by name in English or
Swedish, with or without the weekday (``Aug 30 2024``, ``30 August 2024``, ``Friday, August
30, 2024``, ``fredag 30 augusti 2024``). A date that reads two ways (``03/04/2024``) is refused,
naming both, and so is a weekday that is not the date's. A time: ``15:00``, ``15.00``, ``3 PM``,
``1:00 PM ET``, a span ``11:45AM - 12:45PM`` (any dash; its start, and its end for the
duration). A zone abbreviation is resolved against the series' zone (:func:`settle`), never
guessed.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY_FORMS = ("2024-08-30, 2024-8-30, 30/08/2024, 30.08.2024, Aug 30 2024, 30 August 2024, "
             "Friday, August 30, 2024")
TIME_FORMS = "15:00, 15.00, 3 PM, 1:00 PM ET, 11:45AM - 12:45PM"

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "januari": 1, "februari": 2, "mars": 3, "maj": 5, "juni": 6, "juli": 7, "augusti": 8,
    "oktober": 10, "sept": 9,
}
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "måndag": 0, "tisdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4,
    "lördag": 5, "söndag": 6,
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([/.])(\d{1,2})\2(\d{4})")
_WORD = r"[^\W\d_]+\.?"
_NAMED = re.compile(
    rf"(?:(?P<weekday>{_WORD}),?\s+)?(?:"
    rf"(?P<month1>{_WORD})\s+(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year1>\d{{4}})|"
    rf"(?P<day2>\d{{1,2}})(?:st|nd|rd|th|\.)?\s+(?P<month2>{_WORD}),?\s+(?P<year2>\d{{4}}))",
    re.IGNORECASE)


def _name_in(word: str, names: dict[str, int]) -> int | None:
    """The number a month or weekday name (or its first three letters or more) stands for."""
    word = word.lower().rstrip(".")
    if word in names:
        return names[word]
    hits = {number for name, number in names.items() if len(word) >= 3 and name.startswith(word)}
    return hits.pop() if len(hits) == 1 else None


def _named(text: str) -> date | None:
    found = _NAMED.fullmatch(text)
    if not found:
        return None
    month_word = found["month1"] or found["month2"]
    month = _name_in(month_word, _MONTHS)
    if month is None:
        raise ValueError(f"{month_word!r} is not the name of a month")
    day = date(int(found["year1"] or found["year2"]), month, int(found["day1"] or found["day2"]))
    if found["weekday"]:
        weekday = _name_in(found["weekday"], _WEEKDAYS)
        if weekday is None:
            raise ValueError(f"{found['weekday']!r} is not the name of a weekday")
        if weekday != day.weekday():
            raise ValueError(f"{day:%d %B %Y} is a {day:%A}, not a {found['weekday']}")
    return day


def parse_day(raw: str) -> date:
    """A day as people write it; ValueError says why not (and the forms understood)."""
    text = " ".join(raw.split()).strip(" ,")
    iso = _ISO.fullmatch(text)
    numeric = _NUMERIC.fullmatch(text)
    readings: list[tuple[int, int, int]] = []
    if iso:
        readings = [(int(iso[1]), int(iso[2]), int(iso[3]))]
    elif numeric:
        first, second, year = int(numeric[1]), int(numeric[3]), int(numeric[4])
        readings = [(year, second, first)]  # day first, as most of the world writes it
        if numeric[2] == "/" and first != second:
            readings.append((year, first, second))  # 2/22/2024: month first
    else:
        try:
            named = _named(text)
        except ValueError as exc:
            raise ValueError(f"{exc}; write it as one of: {DAY_FORMS}") from None
        if named is not None:
            return named
    valid = []
    for year, month, day in readings:
        with contextlib.suppress(ValueError):
            valid.append(date(year, month, day))
    if len(valid) == 1:
        return valid[0]
    if len(valid) > 1:
        raise ValueError(f"could be {valid[0]:%d %B %Y} or {valid[1]:%d %B %Y}; write it as "
                         "YYYY-MM-DD")
    if readings:
        raise ValueError("no such day in the calendar; expected a date such as 2024-02-22 or "
                         "22/02/2024")
    raise ValueError(f"understood: {DAY_FORMS}")


@dataclass(frozen=True)
class Clock:
    """A time of day as written: its start, its end when a span was given, and its zone."""

    start: time
    end: time | None = None
    zone: str | None = None  # an abbreviation as written ("ET"), resolved by settle()


_ONE = r"(\d{1,2})(?:[:.](\d{2})(?::00)?)?\s*([ap])?(?:\.?\s*m\.?)?"
_CLOCK = re.compile(rf"(?:at\s+|kl\.?\s*)?{_ONE}(?:\s*(?:-|\u2013|\u2014|to|until)\s*{_ONE})?"
                    r"(?:\s*\(?\s*([A-Za-z]{1,5}|[+-]\d\d:?\d\d)\s*\)?)?", re.IGNORECASE)
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")  # Jekyll's "2024-09-13 13:00:00 -0400"


def _hour(hours: str, minutes: str | None, half: str | None) -> time:
    hour, minute = int(hours), int(minutes or 0)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError(f"{hour} is not an hour of a 12-hour clock")
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    return time(hour, minute)


def parse_clock(raw: str) -> Clock:
    """A time of day, or a span, as written; ValueError names the forms understood."""
    text = " ".join(raw.split())
    found = _CLOCK.fullmatch(text)
    problem = f"understood: {TIME_FORMS}"
    if found:
        h1, m1, half1, h2, m2, half2, zone = found.groups()
        if half1 is None and half2 is not None and h2 is not None:
            # "1-2 pm", "11:45 - 12:45PM": the end's half of the day, where the start fits in it
            start_12, end_12 = int(h1) % 12, int(h2) % 12
            half1 = half2 if start_12 <= end_12 else ("a" if half2.lower() == "p" else "p")
        if (m1 is not None or half1 is not None) and (h2 is None or m2 is not None or half2):
            try:
                return Clock(_hour(h1, m1, half1),
                             _hour(h2, m2, half2 or half1) if h2 is not None else None,
                             zone.upper() if zone and zone.lower() != "noon" else None)
            except ValueError as exc:
                problem = f"{exc}; {problem}"
    raise ValueError(problem)


_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ET": ("America/New_York",), "EST": ("America/New_York",), "EDT": ("America/New_York",),
    "CT": ("America/Chicago",), "CST": ("America/Chicago", "Asia/Shanghai"),
    "CDT": ("America/Chicago",), "MT": ("America/Denver",), "MST": ("America/Denver",),
    "MDT": ("America/Denver",), "PT": ("America/Los_Angeles",),
    "PST": ("America/Los_Angeles",), "PDT": ("America/Los_Angeles",),
    "UTC": ("UTC",), "GMT": ("UTC",), "Z": ("UTC",), "BST": ("Europe/London", "Asia/Dhaka"),
    "CET": ("Europe/Paris",), "CEST": ("Europe/Paris",), "EET": ("Europe/Helsinki",),
    "EEST": ("Europe/Helsinki",), "WET": ("Europe/Lisbon",), "WEST": ("Europe/Lisbon",),
    "IST": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"), "JST": ("Asia/Tokyo",),
    "KST": ("Asia/Seoul",), "AEST": ("Australia/Sydney",), "AEDT": ("Australia/Sydney",),
    "SGT": ("Asia/Singapore",), "HKT": ("Asia/Hong_Kong",), "NZST": ("Pacific/Auckland",),
    "NZDT": ("Pacific/Auckland",), "MSK": ("Europe/Moscow",),
    "AST": ("America/Halifax", "Asia/Riyadh"),
}
_GENERIC = {"ET": ("EST", "EDT"), "CT": ("CST", "CDT"), "MT": ("MST", "MDT"),
            "PT": ("PST", "PDT"), "CET": ("CET", "CEST"), "CEST": ("CET", "CEST")}


def settle(day: date, start: time, word: str, series_zone: str) -> tuple[date, time, str]:
    """``start`` on ``day`` in the zone ``word`` names, in the series' zone; and what was done.

    The abbreviation is the series' own when its zone goes by that name on the day (or is one
    the name stands for: ``EST`` in July in New York); else it is converted from the one zone
    it stands for. A name of several zones (``IST``) or of none raises ValueError."""
    zone = ZoneInfo(series_zone)
    local = datetime.combine(day, start, tzinfo=zone)
    offset = _OFFSET.fullmatch(word)
    if offset:
        sign = -1 if offset[1] == "-" else 1
        fixed = timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3])))
        if local.utcoffset() == fixed.utcoffset(None):
            return day, start, f"{word} is the series' own offset on {day} ({series_zone})"
        there = datetime.combine(day, start, tzinfo=fixed).astimezone(zone)
        return there.date(), there.time().replace(tzinfo=None), (
            f"{start:%H:%M} {word} is {there:%H:%M} in the series' zone ({series_zone})"
            + (f", on {there.date()}" if there.date() != day else ""))
    names = _GENERIC.get(word, (word,))
    candidates = _ABBREVIATIONS.get(word, ())
    if local.tzname() in names or series_zone in candidates:
        return day, start, f"{word} read as the series' own time ({series_zone})"
    if not candidates:
        raise ValueError(f"the zone {word!r} is not one announce knows (it knows "
                         f"{', '.join(sorted(_ABBREVIATIONS))}); write the time in the series' "
                         f"zone, {series_zone}")
    if len(candidates) > 1:
        raise ValueError(f"the zone {word!r} could be {' or '.join(candidates)}; write the time "
                         f"in the series' zone, {series_zone}")
    there = datetime.combine(day, start, tzinfo=ZoneInfo(candidates[0])).astimezone(zone)
    return there.date(), there.time().replace(tzinfo=None), (
        f"{start:%H:%M} {word} ({candidates[0]}) is {there:%H:%M} in the series' zone "
        f"({series_zone})" + (f", on {there.date()}" if there.date() != day else ""))


_SPLIT = re.compile(r"(?:\s*,\s*|\s+at\s+|\s+kl\.?\s*|\s+|T)(?=\d{1,2}(?:[:.]\d{2}|\s*[ap]\.?m))",
                    re.IGNORECASE)


def parse_when(raw: str) -> tuple[date, Clock | None]:
    """A day, maybe followed by a time (``2024-02-22 15:00``, ``Aug 30 2024, 1:00 PM ET``)."""
    text = " ".join(raw.split())
    with contextlib.suppress(ValueError):
        return parse_day(text), None
    for found in _SPLIT.finditer(text):
        head, tail = text[: found.start()], text[found.end():]
        try:
            day = parse_day(head)
        except ValueError:
            continue
        return day, parse_clock(tail)
    return parse_day(text), None
