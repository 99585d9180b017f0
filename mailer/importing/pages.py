"""Read a talk page in the seed's form (Jekyll front matter optional) into a :class:`Draft`.

A page is a run of bold-label sections: ``**Title:**``, ``**Speaker:**``/``**Speakers:**``,
``**Abstract:**``, ``**About the speaker:**``, ``**Location:**``, ``**Date:**``, a call link
under a label such as ``**Zoom link:**``, and ``**Upcoming seminars:**`` (made anew from the
records, so not imported). A section runs until the next known label; a bold label we do not
know stays inside the section it is in, so no word is lost. Text outside every section is
carried into the record's ``note`` and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from pathlib import Path

from mailer.errors import InputError
from mailer.importing.draft import Draft, given
from mailer.paths import MAX_FILE_BYTES, decode_text, display_path, read_regular
from mailer.render.usertext import decode_entities
from mailer.series.model import Speaker

# **A:** or **A**: (and **A:*, a closing star lost by hand)
_LABEL = re.compile(r"\*\*\s*([^*\n]+?)\s*(?::\s*\*\*?|\*\*\s*:)[ \t]*(.*)")
_CLOCK = re.compile(r"(?<![\d-])(\d{1,2})[:.](\d{2})(?!\d)")
_PARENTHESES = re.compile(r"([^()]+?)\s*\(([^()]+)\)")
_WELCOME = re.compile(r"(?i)welcome to this week'?s .* seminar\.?")
_TRAILER = re.compile(r"(?i)(more information and coming seminars\b.*|--\s+the .* team\s*)")
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T,]+(\d{1,2})[:.](\d{2}))?")
_URL = re.compile(r"https?://[^\s)\]<>\"]+")
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]*)\)")
_LINK_TARGET = re.compile(r"(?<!!)\[[^\]]*\]\(([^)]*)\)")
_FIELDS = {
    "title": "title", "speaker": "speakers", "speakers": "speakers", "presenter": "speakers",
    "presenters": "speakers", "abstract": "abstract", "summary": "abstract", "bio": "bio",
    "biography": "bio", "location": "location", "venue": "location", "place": "location",
    "where": "location", "room": "location", "date": "date", "when": "date", "time": "date",
    "date and time": "date", "note": "note", "notes": "note",
}
_CALL_WORDS = ("link", "zoom", "teams", "webex", "meet", "video", "call", "stream")


def field_for(label: str) -> str | None:
    """The record field a bold label stands for, or None for a label we do not know."""
    name = " ".join(label.lower().split())
    if name in _FIELDS:
        return _FIELDS[name]
    if name.startswith("about the speaker") or name == "about":
        return "bio"
    if name.startswith("upcoming"):
        return "upcoming"
    return "video" if any(word in name for word in _CALL_WORDS) else None


class _Section:
    def __init__(self, field: str | None, line: int, first: str) -> None:
        self.field = field
        self.line = line
        self.lines = [first] if first.strip() else []

    def text(self, joiner: str = "\n") -> str:
        return joiner.join(self.lines).strip()


def _front_matter(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read ``key: value`` lines of Jekyll front matter; return them and where the body starts."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            found = {}
            for entry in lines[1:index]:
                key, colon, value = entry.partition(":")
                if colon and not entry.startswith((" ", "\t")):
                    found[key.strip()] = value.strip().strip("\"'")
            return found, index + 1
    return {}, 0


def _sections(lines: list[str], first_line: int) -> tuple[list[_Section], list[tuple[int, str]]]:
    """Split a page body into its sections and the lines outside every section."""
    sections: list[_Section] = []
    outside: list[tuple[int, str]] = []
    current: _Section | None = None
    for number, line in enumerate(lines, start=first_line):
        label = _LABEL.fullmatch(line.strip())
        field = field_for(label.group(1)) if label else None
        if label and field:
            current = _Section(field, number, label.group(2))
            sections.append(current)
        elif _TRAILER.fullmatch(line.strip()) or (current is None and
                                                  _WELCOME.fullmatch(line.strip())):
            current = None
        elif current is not None:
            current.lines.append(line)
        elif line.strip():
            outside.append((number, line))
    return sections, outside


def _shorten(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_HTML_IMAGE = re.compile(r"(?is)<img\b([^>]*)>")
_ATTRIBUTE = re.compile(r"""(?is)\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def _html_images(draft: Draft, section: _Section, text: str) -> str:
    """``<img src=… alt=…>`` in a page's text becomes a link to the image, and is reported."""
    def as_link(found: re.Match[str]) -> str:
        values = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
                  for m in _ATTRIBUTE.finditer(found.group(1))}
        source = values.get("src", "").strip()
        if not source:
            return found.group(0)
        label = (values.get("alt") or "").strip() or "image"
        draft.add_note(section.line, f"an <img> tag ({_shorten(source)}) is kept as a link "
                                     "to the image")
        return f"[{label}]({source})"
    return _HTML_IMAGE.sub(as_link, text)


def _report_links(draft: Draft, section: _Section, text: str) -> None:
    for image in _IMAGE.finditer(text):
        draft.add_note(section.line, f"an image ({_shorten(image.group(1))}) is kept as "
                                     "written; put the file where the record can reach it")
    for link in _LINK_TARGET.finditer(text):
        target = link.group(1).strip()
        if not re.match(r"(?i)(https?://|mailto:)", target):
            draft.add_note(section.line, f"a link that is not a URL is kept as written: "
                                         f"{_shorten(link.group(0))}")


def _date_and_time(draft: Draft, section: _Section) -> None:
    found = _ISO_DAY.search(section.text(" "))
    if not found:
        clock = _CLOCK.fullmatch(section.text(" "))
        if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:  # **Time:** 15:00
            draft.time = time(int(clock.group(1)), int(clock.group(2)))
            return
        draft.add_note(section.line, f"the date {_shorten(section.text(' '))!r} is not "
                                     "YYYY-MM-DD; the file name's date is used")
        return
    try:
        draft.day = date.fromisoformat(found.group(1))
        if found.group(2):
            draft.time = time(int(found.group(2)), int(found.group(3)))
    except ValueError as exc:
        raise InputError(f"{draft.where.rsplit(':', 1)[0]}:{section.line}: Date: "
                         f"{found.group(0)!r} is not a date and time ({exc})") from None


def _video(draft: Draft, section: _Section) -> None:
    text = section.text()
    found = _URL.search(text)
    if not found:
        if given(text):
            draft.add_note(section.line, f"the call link {_shorten(text)!r} is not a URL; "
                                         "not carried over")
        return
    draft.video_link = found.group(0)
    rest = [line for line in text.replace(found.group(0), "").splitlines()
            if re.search(r"\w", line)]
    if rest:
        draft.append_note(decode_entities("\n".join(rest).strip()))
        draft.add_note(section.line, f"text beside the call link is carried into note: "
                                     f"{_shorten(' '.join(rest))}")


def _apply(draft: Draft, section: _Section) -> None:
    field = section.field
    if field == "date":
        _date_and_time(draft, section)
    elif field == "video":
        _video(draft, section)
    elif field == "speakers":
        speakers, doubt = parse_speakers(decode_entities(section.text(" ")))
        draft.speakers += speakers
        if doubt:
            draft.add_note(section.line, f"the speaker line {doubt}")
    elif field in ("title", "location"):
        value = given(section.text(" " if field == "title" else "\n"))
        setattr(draft, field, decode_entities(value) if value else None)
    elif field in ("abstract", "bio", "note"):
        value = given(section.text())
        if value:
            value = _html_images(draft, section, value)
            _report_links(draft, section, value)
            draft.append(field, decode_entities(value))


def read_text(path: Path) -> str:
    """A page's text: a regular file of UTF-8 text, or a clear InputError."""
    data = read_regular(path, "a talk page", inside=None, limit=MAX_FILE_BYTES)
    return decode_text(data, path, "the page")


def read_page(path: Path, text: str | None = None) -> Draft:
    """Read one talk page into a draft; raise InputError when it has no usable date."""
    lines = (read_text(path) if text is None else text).splitlines()
    front, start = _front_matter(lines)
    where = display_path(path)
    draft = Draft(where=f"{where}:1")
    sections, outside = _sections(lines[start:], start + 1)
    for section in sections:
        if section.field != "upcoming":
            _apply(draft, section)
    _carry_outside(draft, outside)
    if draft.title is None and given(front.get("title")):
        draft.title = decode_entities(front["title"])
    in_name = re.match(r"\d{4}-\d{2}-\d{2}", path.name)
    in_front = re.fullmatch(r"\d{4}-\d{2}-\d{2}", front.get("date", "")[:10])
    date_line = next((n for n, text in enumerate(lines[:start], 1)
                      if text.startswith("date:")), 1)
    for named, source in ((in_name, f"{where}:1: the file name's date"),
                          (in_front, f"{where}:{date_line}: front matter: date")):
        if draft.day is None and named:
            try:
                draft.day = date.fromisoformat(named.group(0))
            except ValueError as exc:
                raise InputError(f"{source}: {named.group(0)} is not a day of the calendar "
                                 f"({exc}); correct it") from None
    if draft.day is None:
        raise InputError(f"{where}:1: no date: give the page a **Date:** line, a date: in its "
                         "front matter, or a file name that starts with YYYY-MM-DD")
    return draft


def _carry_outside(draft: Draft, outside: Iterable[tuple[int, str]]) -> None:
    """Carry the paragraphs outside every section into the note, and report each."""
    block: list[tuple[int, str]] = []
    for number, line in [*outside, (0, "")]:
        if block and (number != block[-1][0] + 1 or not line.strip()):
            text = "\n".join(text for _, text in block).strip()
            draft.append_note(decode_entities(text))
            draft.add_note(block[0][0], f"text outside the known sections is carried into "
                                        f"note: {_shorten(text)}")
            block = []
        if line.strip():
            block.append((number, line))


_AFFILIATION_WORDS = re.compile(
    r"(?i)\b(universit\w*|univ\.?|institut\w*|college|school|lab\w*|research|cent(er|re)|"
    r"department|dept\.?|faculty|hospital|academy|foundation|inc\.?|ltd\.?|ab|gmbh|corp\w*|"
    r"company|group|team|kth|rise|polytechnic|senior|researchers?|professor)\b")


def _looks_like_names(part: str) -> bool:
    words = part.split()
    return 1 <= len(words) <= 6 and not re.search(r"[\d:()@/]", part) and\
        not _AFFILIATION_WORDS.search(part) and not _ACRONYM.search(part)


_ACRONYM = re.compile(r"\b[A-Z]{2,}[A-Z0-9]*\b")  # "OATML", "EPFL": an institution, not a name


def _names(part: str) -> list[str]:
    pieces = re.split(r",\s*(?:and\s+)?|\s+(?:and|&)\s+", part)
    return [piece.strip() for piece in pieces if piece.strip()]


def _one_group(text: str) -> tuple[list[Speaker], bool, bool]:
    """``Name, Name and Name, Affiliation`` -> speakers sharing that affiliation.

    Also says whether the reading is certain, and whether splitting into several names was a
    guess (names separated by commas only, with no "and" to say it is a list).
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1:
        bracketed = _PARENTHESES.fullmatch(text)  # "Ann Ek (KTH)"
        if bracketed and _looks_like_names(bracketed.group(1)):
            return [Speaker(bracketed.group(1), bracketed.group(2))], True, False
        return [Speaker(text)], _looks_like_names(text), False
    cut = next((i for i, p in enumerate(parts) if i and not _looks_like_names(p)),
               len(parts) - 1)
    names_part = ", ".join(parts[:cut])
    affiliation = ", ".join(parts[cut:]) or None
    names = _names(names_part)
    sure = all(_looks_like_names(name) for name in names)
    guessed = len(names) > 1 and not re.search(r"(?i)\s(and|&)\s", names_part)
    return [Speaker(name, affiliation) for name in names], sure, guessed


def parse_speakers(line: str) -> tuple[list[Speaker], str | None]:
    """Read a speaker line into speakers; say what is uncertain about the reading, if anything.

    ``Ann Ek, KTH; Bo Ly, SU`` (announce's own form), ``A, B, and C, Affiliation`` and
    ``A and B, Affiliation`` are read as several speakers; ``A, B, Affiliation`` too, reported
    as a guess. A line that does not read as names (``Flash Talks: Evi (x), ...``) is kept
    whole, as one name, so no word is lost. A trailing comma (``Name, Affiliation,``) is dropped.
    """
    text = line.strip().rstrip(", ").strip()
    if not given(text):
        return [], None
    speakers: list[Speaker] = []
    sure, guessed = True, False
    for group in (g.strip() for g in text.split(";") if g.strip()):
        found, certain, guess = _one_group(group)
        speakers += found
        sure, guessed = sure and certain, guessed or guess
    if not sure:
        return [Speaker(text)], ("is kept as one name; split it into speakers: by hand if it "
                                 "names several")
    if guessed:
        return speakers, (f"is read as {len(speakers)} speakers ("
                          f"{'; '.join(s.line() for s in speakers)}); a guess: check it")
    return speakers, None
