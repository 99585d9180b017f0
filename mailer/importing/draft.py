"""A talk record on its way in from an archive: the fields found, and what was not carried over.

Pages, data files and spreadsheets are read into :class:`Draft` values; the importer turns
each into a record file. A draft keeps the file and line it came from, so every problem and
every note names them; it also keeps where each field was taken from and, word for word, what
was left out (announce's own boilerplate, a list it makes anew), for the migration report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from mailer.series.model import Speaker, Status

# The first line of a record whose speakers were read by a guess; `check` warns while it is there.
GUESS_MARK = "# announce import: the speakers are a guess from"
NOT_GIVEN = {"", "n/a", "na", "tba", "tbd", "-", "--", "none", "?"}
_HTML_IMAGE = re.compile(r"(?is)<img\b([^>]*)>")
_ATTRIBUTE = re.compile(r"""(?is)\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")


def given(text: str | None) -> str | None:
    """The text, stripped; None when it says nothing ("N/A", "TBA", empty)."""
    if text is None:
        return None
    stripped = text.strip()
    return None if stripped.lower().rstrip(".") in NOT_GIVEN else stripped


def shorten(text: str, limit: int = 70) -> str:
    """Text on one line, cut to ``limit`` characters for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


TimeOfDay = time  # "time" is also a field of Draft


@dataclass(frozen=True)
class Note:
    """Something the importer could not carry over as it was, and where it was."""

    where: str  # "pages/2024-10-03.md:27"
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


@dataclass
class Draft:
    """The fields of one talk as read from a page, an entry or a row."""

    where: str  # the file and line it came from, for messages
    day: date | None = None
    time: time | None = None
    speakers: list[Speaker] = field(default_factory=list)
    title: str | None = None
    abstract: str | None = None
    bio: str | None = None
    location: str | None = None
    video_link: str | None = None
    status: Status = Status.CONFIRMED
    note: str | None = None
    slides: str | None = None
    recording: str | None = None
    notes: list[Note] = field(default_factory=list)
    page: str | None = None  # a plan row: the talk page its speaker links to
    from_plan: bool = False
    end: TimeOfDay | None = None  # a span's end (11:45AM - 12:45PM), for the duration
    zone: str | None = None  # the zone abbreviation the time was written with ("ET")
    guess: str | None = None  # the speaker line as written, when its reading is a guess
    folder: Path | None = None  # where the page or file was: its images are looked for there
    photo: str | None = None  # the photo as the archive links it (front matter, plan column)
    images: list[str] = field(default_factory=list)  # images the text links
    taken: list[str] = field(default_factory=list)  # "title: from **Title:** (line 7)"
    left: list[Note] = field(default_factory=list)  # words left out, each as written

    @property
    def file(self) -> str:
        """The file the draft came from, as messages name it."""
        return self.where.rsplit(":", 1)[0]

    def add_note(self, line: int | str, text: str) -> None:
        """Say that something at ``line`` was not carried over as it was."""
        self.notes.append(Note(f"{self.file}:{line}", text))

    def leave(self, line: int | str, text: str) -> None:
        """Keep, for the migration report, words that are not imported (``text`` as written)."""
        if text.strip():
            self.left.append(Note(f"{self.file}:{line}", text.strip()))

    def took(self, key: str, line: int | str, source: str) -> None:
        """Say where a field was taken from, for the migration report."""
        self.taken.append(f"{key}: from {source} ({self.file}:{line})")

    def as_links(self, line: int | str, text: str) -> str:
        """``<img src=… alt=…>`` and ``![alt](src)`` become links ``[alt](src)``, reported."""
        def html(found: re.Match[str]) -> str:
            values = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
                      for m in _ATTRIBUTE.finditer(found.group(1))}
            return link(found.group(0), (values.get("alt") or "").strip(),
                        values.get("src", "").strip(), "an <img> tag")

        def link(written: str, alt: str, source: str, what: str = "an image") -> str:
            if not source:
                return written
            self.images.append(source)
            self.add_note(line, f"{what} ({shorten(source)}) is kept as a link to the image")
            return f"[{' '.join(alt.split()) or 'image'}]({source})"

        text = _HTML_IMAGE.sub(html, text)
        return _IMAGE.sub(lambda m: link(m.group(0), m.group(1), m.group(2)), text)

    def append(self, field: str, text: str, line: int | str = 1) -> None:
        """Add a paragraph to a Markdown field (``abstract``, ``bio``, ``note``)."""
        text = self.as_links(line, text)
        earlier = getattr(self, field)
        setattr(self, field, f"{earlier}\n\n{text}" if earlier else text)

    def append_note(self, text: str, line: int | str = 1) -> None:
        """Carry text that has no field of its own into the record's ``note``."""
        self.append("note", text, line)
