"""Read a spreadsheet of talks (CSV or TSV with a header row) into drafts, one per row.

RFC 4180 quoting, cells over several lines, UTF-8 with or without a BOM, ``,``, ``;`` or a
tab (``.tsv``). The header needs ``date`` and ``speaker``; any key of a talk record may be a
column. Dates and times as people write them (:mod:`when`); a speaker cell that says the week
is free (``Spring Break``, ``TBD``, ``inställt``) gives its status. Every problem names the
file and the line of the row; a bad row stops the whole import.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterator
from pathlib import Path

from mailer.errors import InputError
from mailer.importing.draft import Draft, given, shorten
from mailer.importing.entries import status_in, without_tentative
from mailer.importing.when import parse_clock, parse_day
from mailer.paths import MAX_SUBSCRIBER_BYTES, decode_text, display_path, read_regular
from mailer.render.usertext import decode_entities
from mailer.series.model import Speaker, Status

# What a row can carry (the rest of a record, such as host: or uid:, is not spreadsheet data).
COLUMNS = ("date", "time", "speaker", "affiliation", "email", "title", "abstract", "bio",
           "location", "video_link", "status", "note", "slides", "recording")
_ALIASES = {"speakers": "speaker", "about the speaker": "bio", "video link": "video_link",
            "zoom link": "video_link", "link": "video_link", "zoom": "video_link",
            "venue": "location", "room": "location", "institution": "affiliation",
            "biography": "bio", "summary": "abstract", "video url": "recording",
            "author": "speaker", "presenter": "speaker", "notes": "note"}


def _column(name: str) -> str:
    key = " ".join(name.strip().lower().split())
    key = _ALIASES.get(key, key)
    return key.replace(" ", "_")


def _header(where: str, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map the known columns to their positions; name the columns that are not carried over."""
    known: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(names):
        key = _column(name)
        if key in COLUMNS:
            if key in known:
                raise InputError(f"{where}:1: the column {key} is given twice")
            known[key] = index
            continue
        close = difflib.get_close_matches(key, COLUMNS, n=1, cutoff=0.8)
        if close:
            raise InputError(f'{where}:1: column "{name}": did you mean "{close[0]}"?')
        if name.strip():
            unknown.append(name.strip())
    missing = [key for key in ("date", "speaker") if key not in known]
    if missing:
        raise InputError(f"{where}:1: the header needs a {' and a '.join(missing)} column "
                         f"(it has: {', '.join(n for n in names if n.strip()) or 'nothing'})")
    return known, unknown


def _speakers(names: str | None, affiliations: str | None,
              emails: str | None = None) -> list[Speaker]:
    """One speaker, or several separated by ``;`` with their affiliations (and addresses) in
    the same order."""
    if not names:
        return []
    # "Erik Ylipää and Joakim Nivre" is two speakers, as the page importer reads it.
    people = [n.strip() for n in re.split(r";|\s+and\s+", names) if n.strip()]
    places = [a.strip() for a in (affiliations or "").split(";")]
    if len(people) > 1 and len(places) == 1:
        places = places * len(people)
    addresses = [e.strip() for e in (emails or "").split(";")]
    return [Speaker(name, given(places[i]) if i < len(places) else None,
                    given(addresses[i]) if i < len(addresses) else None)
            for i, name in enumerate(people)]


def _when(draft: Draft, cells: dict[str, str | None]) -> list[str]:
    """Fill the row's date and time; return the problems."""
    problems = []
    raw_day = (cells.get("date") or "").strip()
    try:
        draft.day = parse_day(raw_day)
    except ValueError as exc:
        problems.append(f"date: {raw_day!r} is not a date ({exc})")
    raw_time = cells.get("time")
    if raw_time:
        try:
            clock = parse_clock(raw_time)
            draft.time, draft.end, draft.zone = clock.start, clock.end, clock.zone
        except ValueError as exc:
            problems.append(f"time: {raw_time!r} is not a time of day ({exc})")
    return problems


def _status(draft: Draft, line: int, cells: dict[str, str | None]) -> list[str]:
    """The row's status: its status column, else what its speaker cell says; the problems."""
    status = cells.get("status")
    if status:
        if status.lower() not in tuple(Status):
            return [f"status: {status!r} is not one of {', '.join(Status)}"]
        draft.status = Status(status.lower())
        return []
    speaker = cells.get("speaker") or ""
    said = status_in(speaker)
    if said is None and not speaker.strip() and not cells.get("title"):
        said = Status.OPEN
    if said is Status.TENTATIVE and without_tentative(speaker):
        cells["speaker"] = without_tentative(speaker)
    elif said is not None:
        cells["speaker"] = None
        if speaker.strip():
            draft.append_note(speaker.strip(), line)
    if said is not None:
        draft.status = said
        draft.add_note(line, f"the speaker cell {shorten(speaker)!r} is read as {said}"
                       if speaker.strip() else "no speaker and no title: an open week")
    return []


def _row(where: str, line: int, cells: dict[str, str | None]) -> Draft:
    draft = Draft(where=f"{where}:{line}")
    problems = _when(draft, cells) + _status(draft, line, cells)
    if problems:
        raise InputError("\n".join(f"{where}:{line}: {problem}" for problem in problems))
    draft.speakers = _speakers(cells.get("speaker"), cells.get("affiliation"), cells.get("email"))
    for key in ("title", "location", "video_link", "slides", "recording"):
        setattr(draft, key, cells.get(key))
    for key in ("abstract", "bio", "note"):  # Markdown: an image in it becomes a link
        if cells.get(key):
            draft.append(key, cells[key] or "", line)
    for key, value in cells.items():
        if value:
            draft.took(key, line, f"the column {key}")
    return draft


def _rows(text: str, *, tabs: bool) -> Iterator[tuple[int, list[str]]]:
    """Yield each row with the line it starts on."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    delimiter = "\t" if tabs or first.count("\t") > first.count(delimiter) else delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def read_sheet(path: Path) -> list[Draft]:
    """Read every row of a CSV or TSV file into a draft; a bad row raises InputError."""
    where = display_path(path)
    data = read_regular(path, "a spreadsheet", inside=None, limit=MAX_SUBSCRIBER_BYTES)
    text = decode_text(data, path, "it (\"CSV UTF-8\" in the spreadsheet's Save As)")
    rows = _rows(text.replace("\r\n", "\n"), tabs=path.suffix.lower() in (".tsv", ".tab"))
    try:
        _, names = next(rows)
        known, unknown = _header(where, names)
        drafts = []
        problems: list[str] = []  # every bad row, reported together
        for line, row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(names) and any(cell.strip() for cell in row[len(names):]):
                problems.append(f"{where}:{line}: has {len(row)} cells, the header has "
                                f"{len(names)}")
                continue
            cells = {key: given(decode_entities(row[i])) if i < len(row) else None
                     for key, i in known.items()}
            try:
                drafts.append(_row(where, line, cells))
            except InputError as exc:
                problems.append(str(exc))
        if problems:
            raise InputError("\n".join(problems))
    except StopIteration:
        raise InputError(f"{where}:1: empty; expected a header row with date and speaker")\
            from None
    except csv.Error as exc:
        raise InputError(f"{where}: not readable as CSV ({exc})") from None
    if unknown and drafts:
        drafts[0].add_note(1, f"columns not carried over: {', '.join(unknown)}")
    return drafts
