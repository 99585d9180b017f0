"""Read a talk page (Jekyll front matter optional) into a :class:`Draft`, every word accounted for.

Front matter first: its keys are read by :mod:`entries` (``title``, ``speaker``, ``date``,
``time``, ``location``, ``abstract``, ``bio``, ...). Then the body, a run of sections: bold
labels (``**Title:**``, ``**Speaker:**``, ``**Abstract:**``, ``**About the speaker:**``,
``**Location:**``, ``**Date:**``, a call link under a label such as ``**Zoom link:**``,
``**Upcoming seminars:**``) and headings without a colon (``**Abstract**``, ``## Abstract``,
``### Bio``). A section runs until the next known label; a bold label we do not know stays
inside the section it is in. Every other line ends in ``note`` (reported), or, announce's own
boilerplate (the welcome line, the upcoming list, the footer), in the migration report.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mailer.errors import InputError
from mailer.importing.datafiles import compose, entry_of
from mailer.importing.draft import Draft, given, shorten
from mailer.importing.entries import apply_entry
from mailer.importing.speakerlines import parse_speakers
from mailer.importing.when import DAY_FORMS, parse_clock, parse_day, parse_when
from mailer.paths import MAX_FILE_BYTES, decode_text, display_path, read_regular
from mailer.render.usertext import decode_entities

# **A:** or **A**: (and **A:*, a closing star lost by hand)
_LABEL = re.compile(r"\*\*\s*([^*\n]+?)\s*(?::\s*\*\*?|\*\*\s*:)[ \t]*(.*)")
# A heading without a colon, alone on its line: **Abstract**, ## Abstract, __Bio__
_HEADING = re.compile(r"(?:#{1,6}\s+(.+?)\s*#*|\*\*\s*([^*\n]+?)\s*\*\*|__\s*([^_\n]+?)\s*__)"
                      r"\s*:?")
_WELCOME = re.compile(r"(?i)welcome to this week'?s .* seminar\.?")
_TRAILER = re.compile(r"(?i)(more information and coming seminars\b.*|--\s+the .* team\s*)")
_LIQUID = re.compile(r"\s*(\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->)+\s*")
_LIST_ITEM = re.compile(r"\s*(?:[*+-]|\d+[.)])\s+\S.*")
_URL = re.compile(r"https?://[^\s)\]<>\"]+")
_LINK_TARGET = re.compile(r"(?<!!)\[[^\]]*\]\(([^)]*)\)")
_IMAGE_FILE = re.compile(r"(?i)\.(jpe?g|png|webp|gif|heic)$")
_FIELDS = {
    "title": "title", "speaker": "speakers", "speakers": "speakers", "presenter": "speakers",
    "presenters": "speakers", "abstract": "abstract", "summary": "abstract", "bio": "bio",
    "biography": "bio", "short bio": "bio", "speaker bio": "bio", "location": "location",
    "venue": "location", "place": "location", "where": "location", "room": "location",
    "date": "date", "when": "date", "time": "date", "date and time": "date", "note": "note",
    "notes": "note",
}
_CALL_WORDS = ("link", "zoom", "teams", "webex", "meet", "video", "call", "stream")


def field_for(label: str) -> str | None:
    """The record field a bold label stands for, or None for a label we do not know."""
    name = " ".join(label.lower().split()).rstrip(":").strip()
    if name in _FIELDS:
        return _FIELDS[name]
    if name.startswith("about the speaker") or name == "about":
        return "bio"
    if name.startswith("upcoming"):
        return "upcoming"
    return "video" if any(word in name for word in _CALL_WORDS) else None


class _Section:
    def __init__(self, field: str | None, line: int, first: str, label: str) -> None:
        self.field = field
        self.line = line
        self.label = label
        self.lines = [(line, first)] if first.strip() else []

    def text(self, joiner: str = "\n") -> str:
        return joiner.join(text for _, text in self.lines).strip()


def _front_matter(lines: list[str], where: str, draft: Draft) -> int:
    """Apply the page's front matter to the draft; return the index where the body starts."""
    if not lines or lines[0].strip() != "---":
        return 0
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")),
               None)
    if end is None:
        return 0
    node = compose("\n".join(lines[1:end]), where, first_line=2)
    if isinstance(node, yaml.MappingNode):
        apply_entry(draft, entry_of(node, "front matter", first_line=2))
    elif node is not None:
        raise InputError(f"{where}:2: the front matter is not a mapping of keys (title: ...)")
    return end + 1


def _opens(line: str) -> tuple[str, str, str] | None:
    """The field, label and rest of a line that opens a section, or None."""
    label = _LABEL.fullmatch(line.strip())
    if label and field_for(label.group(1)):
        return field_for(label.group(1)) or "", label.group(1), label.group(2)
    heading = _HEADING.fullmatch(line.strip())
    if heading:
        name = next(g for g in heading.groups() if g is not None)
        field = field_for(name)
        if field:
            return field, name, ""
    return None


def _sections(draft: Draft, lines: list[str], first_line: int,
              ) -> tuple[list[_Section], list[tuple[int, str]]]:
    """Split a page body into its sections and the lines outside every section."""
    sections: list[_Section] = []
    outside: list[tuple[int, str]] = []
    current: _Section | None = None
    for number, line in enumerate(lines, start=first_line):
        opened = _opens(line)
        if opened:
            current = _Section(opened[0], number, opened[2], opened[1])
            sections.append(current)
        elif _TRAILER.fullmatch(line.strip()) or (not sections and
                                                  _WELCOME.fullmatch(line.strip())):
            current = None
            draft.leave(number, line)  # announce writes its own welcome and footer
        elif _LIQUID.fullmatch(line) and line.strip():
            draft.leave(number, line)  # the site's template code, not the talk's words
        elif current is not None:
            current.lines.append((number, line))
        elif line.strip():
            outside.append((number, line))
    return sections, outside


def _report_links(draft: Draft, line: int, text: str) -> None:
    for link in _LINK_TARGET.finditer(text):
        target = link.group(1).strip()
        if _IMAGE_FILE.search(target):
            draft.images.append(target)
        if not re.match(r"(?i)(https?://|mailto:)", target):
            draft.add_note(line, f"a link that is not a URL is kept as written: "
                                 f"{shorten(link.group(0))}")


def _carry(draft: Draft, lines: list[tuple[int, str]], why: str) -> None:
    """Carry lines into the note, one paragraph a run of lines, each reported."""
    block: list[tuple[int, str]] = []
    for number, line in [*lines, (0, "")]:
        if block and (number != block[-1][0] + 1 or not line.strip()):
            text = decode_entities("\n".join(text for _, text in block).strip())
            draft.append_note(text, block[0][0])
            _report_links(draft, block[0][0], text)
            draft.add_note(block[0][0], f"{why} is carried into note: {shorten(text)}")
            block = []
        if line.strip():
            block.append((number, line))


def _date_and_time(draft: Draft, section: _Section) -> None:
    first = section.lines[0] if section.lines else (section.line, "")
    rest = section.lines[1:]
    text = " ".join(first[1].split())
    try:
        day, clock = parse_when(text)
    except ValueError:
        try:
            day, clock = None, parse_clock(text)
        except ValueError:
            if given(text):
                rest = [first, *rest]
                draft.add_note(section.line, f"the date {shorten(text)!r} is not one of "
                                             f"{DAY_FORMS}; the file name's date is used")
            day, clock = None, None
    if day is not None and draft.day not in (None, day):
        rest = [first, *rest]
        draft.add_note(section.line, f"**{section.label}:** {day} is not the front matter's "
                                     f"date ({draft.day}); the front matter's is kept")
    elif day is not None or clock is not None:
        draft.day = day or draft.day
        if clock is not None:
            draft.time, draft.zone, draft.end = clock.start, clock.zone, clock.end
        draft.took("date", section.line, f"**{section.label}:** {text!r}")
    _carry(draft, rest, "text after the date")


def _video(draft: Draft, section: _Section) -> None:
    text = section.text()
    found = _URL.search(text)
    if not found:
        if given(text):
            draft.leave(section.line, f"{section.label}: {text}")
            draft.add_note(section.line, f"the call link {shorten(text)!r} is not a URL; "
                                         "not carried over")
        return
    if draft.video_link not in (None, found.group(0)):
        draft.add_note(section.line, f"**{section.label}:** differs from the front matter's "
                                     "link; both are kept, the body's in note")
        _carry(draft, section.lines, "the body's call link")
        return
    draft.video_link = found.group(0)
    draft.took("video_link", section.line, f"**{section.label}:**")
    rest = [line for line in text.replace(found.group(0), "").splitlines()
            if re.search(r"\w", line)]
    if rest:
        draft.append_note(decode_entities("\n".join(rest).strip()), section.line)
        draft.add_note(section.line, f"text beside the call link is carried into note: "
                                     f"{shorten(' '.join(rest))}")


def _upcoming(draft: Draft, section: _Section) -> None:
    """The upcoming list is made anew from the records; other text in it goes to the note."""
    other = []
    for number, line in section.lines:
        if _LIST_ITEM.fullmatch(line) or not line.strip():
            draft.leave(number, line)
        else:
            other.append((number, line))
    _carry(draft, other, "text in the upcoming seminars")


def _speakers(draft: Draft, section: _Section) -> None:
    line = decode_entities(section.text())
    speakers, doubt = parse_speakers(line)
    if draft.speakers and speakers:
        if [s.name for s in speakers] != [s.name for s in draft.speakers]:
            _carry(draft, section.lines, f"**{section.label}:** (the front matter's speakers "
                                         "are kept)")
        return
    draft.speakers += speakers
    draft.took("speakers", section.line, f"**{section.label}:**")
    if doubt:
        draft.guess = " ".join(line.split())
        draft.add_note(section.line, f"the speaker line {doubt}")


def _apply(draft: Draft, section: _Section) -> None:
    field = section.field
    if field == "upcoming" or not given(section.text()):
        draft.leave(section.line, f"{section.label}: {section.text()}")  # empty, or N/A
    if field == "date":
        _date_and_time(draft, section)
    elif field == "video":
        _video(draft, section)
    elif field == "upcoming":
        _upcoming(draft, section)
    elif field == "speakers":
        _speakers(draft, section)
    elif field in ("title", "location"):
        value = given(section.text(" " if field == "title" else "\n"))
        if value is None:
            return
        value = decode_entities(value)
        if getattr(draft, field) not in (None, value):
            _carry(draft, section.lines, f"**{section.label}:** (the front matter's {field} is "
                                         "kept)")
            return
        setattr(draft, field, value)
        draft.took(field, section.line, f"**{section.label}:**")
    elif field in ("abstract", "bio", "note"):
        value = given(section.text())
        if value and value != getattr(draft, field):
            draft.append(field, decode_entities(value), section.line)
            _report_links(draft, section.line, value)
            draft.took(field, section.line, f"**{section.label}:**")


def read_text(path: Path) -> str:
    """A page's text: a regular file of UTF-8 text, or a clear InputError."""
    data = read_regular(path, "a talk page", inside=None, limit=MAX_FILE_BYTES)
    return decode_text(data, path, "the page")


def read_page(path: Path, text: str | None = None) -> Draft:
    """Read one talk page into a draft; raise InputError when it has no usable date."""
    lines = (read_text(path) if text is None else text).splitlines()
    where = display_path(path)
    draft = Draft(where=f"{where}:1", folder=path.parent)
    start = _front_matter(lines, where, draft)
    sections, outside = _sections(draft, lines[start:], start + 1)
    if draft.taken and draft.abstract is None and outside and\
            (not sections or outside[0][0] < sections[0].line):
        # A page whose front matter gives the talk and whose body opens with text: that text
        # is the abstract, as such pages write it
        before = [item for item in outside if not sections or item[0] < sections[0].line]
        draft.append("abstract", decode_entities("\n".join(t for _, t in before).strip()),
                     before[0][0])
        draft.took("abstract", before[0][0], "the body's text before any heading")
        outside = outside[len(before):]
    for section in sections:
        _apply(draft, section)
    _carry(draft, outside, "text outside the known sections")
    _call_in_note(draft)
    _day_from_name(draft, path, where)
    return draft


_CALL_URL = re.compile(r"https?://[^\s)\]<>\"]*(?:zoom\.us|teams\.microsoft\.com|meet\.google\.com|"
                       r"webex\.com)[^\s)\]<>\"]*")


def _call_in_note(draft: Draft) -> None:
    """A page without a call link whose note holds one (after the footer, say): that link."""
    found = set(_CALL_URL.findall(draft.note or ""))
    if draft.video_link is None and len(found) == 1:
        draft.video_link = found.pop()
        draft.add_note(1, f"the call link in the note ({shorten(draft.video_link)}) is taken as "
                          "video_link; the note keeps its text")


def _day_from_name(draft: Draft, path: Path, where: str) -> None:
    in_name = re.match(r"\d{4}-\d{1,2}-\d{1,2}(?!\d)", path.name)
    if draft.day is None and in_name:
        try:
            draft.day = parse_day(in_name.group(0))
        except ValueError as exc:
            raise InputError(f"{where}:1: the file name's date: {in_name.group(0)} is not a "
                             f"day of the calendar ({exc}); correct it") from None
        draft.took("date", 1, "the file name")
    if draft.day is None:
        raise InputError(f"{where}:1: no date: give the page a **Date:** line, a date: in its "
                         f"front matter, or a file name that starts with YYYY-MM-DD (dates are "
                         f"understood as {DAY_FORMS})")

