"""Read a series' yearly plan table (``lm/YYYY.md``) into one :class:`Draft` per row.

The table is Markdown: a date, the speaker (linked to the talk's page when there is one), a few
image columns and an S-T-A-B-P comment where strike-through marks what is still missing. A
row's colour says where the week stands: red is cancelled, purple is open ("up for grabs"),
grey is tentative; an uncoloured row is a confirmed talk. The plan holds the weeks that have
no page; a page for the same date in the same import fills in the rest (see ``merge``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from mailer.errors import InputError
from mailer.importing.draft import Draft, given, shorten
from mailer.importing.entries import status_in
from mailer.importing.speakerlines import parse_speakers
from mailer.paths import display_path
from mailer.render.usertext import decode_entities
from mailer.series.model import Status

_SPAN = re.compile(r"(?is)<span\s+style\s*=\s*[\"'][^\"']*?color\s*:\s*([a-z]+|#[0-9a-f]{3,6})"
                   r"[^\"']*[\"']\s*>(.*?)</span>")
_TAGS = re.compile(r"<[^>]*>")
_PAGE_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_COLOURS = {"red": Status.CANCELLED, "purple": Status.OPEN, "grey": Status.TENTATIVE,
            "gray": Status.TENTATIVE}
_CANCELLED_WORD = re.compile(r"(?i)^\s*cancell?ed\b[\s,.:;-]*")
_UNSURE = re.compile(r"\s*\?+\s*$")


def _cells(line: str) -> list[str]:
    """The cells of one table row (``| a | b |``), ``\\|`` kept inside a cell."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", inner)]


def _header(line: str) -> dict[str, int] | None:
    """Column name -> index when ``line`` is a plan table's header (date and speaker)."""
    if not line.lstrip().startswith("|"):
        return None
    names = [" ".join(_TAGS.sub(" ", cell).lower().split()) for cell in _cells(line)]
    if not names or names[0] != "date" or "speaker" not in names:
        return None
    return {name: index for index, name in enumerate(names)}


def is_plan(text: str) -> bool:
    """Whether a page is a plan table rather than a talk page."""
    return any(_header(line) is not None for line in text.splitlines())


def _uncoloured(cell: str) -> tuple[str, str | None]:
    """A cell's text without its colour span, and the colour (lower case) if it had one."""
    found = _SPAN.search(cell)
    if not found:
        return cell.strip(), None
    return (cell[: found.start()] + found.group(2) + cell[found.end():]).strip(),\
        found.group(1).lower()


def _speaker_cell(draft: Draft, text: str, line: int) -> str | None:
    """Fill the draft's speakers from the cell; return the linked page's name, if any."""
    link = _PAGE_LINK.fullmatch(text)
    shown = decode_entities(link.group(1) if link else text).strip()
    said = status_in(shown) if not link else None
    if draft.status == Status.CONFIRMED and said in (Status.CANCELLED, Status.OPEN):
        draft.status = said  # an uncoloured "Sportlov", "No seminar", "TBD"
        draft.add_note(line, f"the speaker cell {shorten(shown)!r} is read as {said}")
    if draft.status in (Status.CANCELLED, Status.OPEN):
        reason = _CANCELLED_WORD.sub("", shown).strip()
        if reason:  # "Sportlov", "*Up for grabs!!!*": why the week is free
            draft.append_note(reason, line)
        return None
    if draft.status == Status.TENTATIVE and _UNSURE.search(shown):
        shown = _UNSURE.sub("", shown)
        draft.add_note(line, f"the speaker {shown!r} was marked '?'; imported as tentative")
    speakers, doubt = parse_speakers(shown)
    draft.speakers = speakers
    draft.took("speakers", line, "the plan's speaker cell")
    if doubt:
        draft.guess = " ".join(shown.split())
        draft.add_note(line, f"the speaker cell {doubt}")
    return link.group(2).strip() if link else None


def _row(path: Path, line: int, cells: list[str], columns: dict[str, int]) -> Draft:
    where = f"{display_path(path)}:{line}"
    texts, colours = zip(*(_uncoloured(cell) for cell in cells), strict=True)
    colour = next((c for c in colours if c), None)
    draft = Draft(where=where, from_plan=True, folder=path.parent)
    if colour is not None:
        if colour not in _COLOURS:
            raise InputError(f"{where}: a row coloured {colour!r}; a plan's rows are red "
                             "(cancelled), purple (open), grey (tentative) or plain (confirmed)")
        draft.status = _COLOURS[colour]
    day = texts[columns["date"]]
    try:
        draft.day = date.fromisoformat(day)
    except ValueError:
        raise InputError(f"{where}: date: {day!r} is not a day written YYYY-MM-DD") from None
    index = columns["speaker"]
    page = _speaker_cell(draft, texts[index] if index < len(texts) else "", line)
    if page is not None:
        draft.page = page
    photo = _PAGE_LINK.search(texts[columns["photo"]]) if "photo" in columns and\
        columns["photo"] < len(texts) else None
    if photo and draft.status not in (Status.CANCELLED, Status.OPEN):
        draft.photo = str((path.parent / photo.group(2).strip()).resolve())  # beside the plan
        draft.took("photo", line, "the plan's photo column")
    return draft


def read_plan(path: Path, text: str) -> list[Draft]:
    """Every row of every plan table in ``text``; every bad row is reported at once."""
    drafts: list[Draft] = []
    problems: list[str] = []
    outside: list[tuple[int, str]] = []  # the page around the tables: named in the report
    columns: dict[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _header(line)
        if header is not None:
            columns = header
            continue
        if columns is None or not line.lstrip().startswith("|"):
            columns = None if not line.strip() else columns
            outside.append((number, line))
            continue
        cells = _cells(line)
        if all(re.fullmatch(r":?-+:?", cell) for cell in cells if cell):
            continue  # the line under the header
        try:
            drafts.append(_row(path, number, cells, columns))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("\n".join(problems))
    if not drafts:
        raise InputError(f"{display_path(path)}:1: a plan table with no rows")
    drafts[0].add_note(1, "the plan's photo and image columns are not imported, but for a photo "
                          "whose file is beside the plan (it becomes photo:); announce makes "
                          "the images itself")
    for number, line in outside:
        drafts[0].leave(number, line)
    return drafts


def merge(page: Draft, row: Draft) -> Draft:
    """A talk page and its plan row as one draft: the page's words, the row's status and note."""
    merged = page
    merged.notes += row.notes
    if not merged.speakers:
        merged.speakers = row.speakers
    elif given(" ".join(s.name for s in row.speakers)) and\
            [s.name for s in row.speakers] != [s.name for s in merged.speakers]:
        merged.add_note(1, f"the plan ({row.where}) names "
                           f"{'; '.join(s.name for s in row.speakers)}; the page's speakers kept")
    if row.status != Status.CONFIRMED:
        merged.status = row.status
        if row.status in (Status.CANCELLED, Status.OPEN):
            merged.add_note(1, f"the plan ({row.where}) marks this week {row.status}")
    if row.note:  # the plan's word for the week first: it is the reason a free week shows
        merged.note = f"{row.note}\n\n{merged.note}" if merged.note else row.note
    if merged.photo is None and row.photo is not None:
        merged.photo = row.photo
    merged.taken += row.taken
    merged.left += row.left
    merged.guess = merged.guess or (row.guess if merged.speakers == row.speakers else None)
    return merged
