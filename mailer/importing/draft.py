"""A talk record on its way in from an archive: the fields found, and what was not carried over.

Pages and spreadsheets are read into :class:`Draft` values; the importer turns each into a
record file. A draft keeps the file and line it came from, so every problem and every note
names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from mailer.series.model import Speaker, Status

NOT_GIVEN = {"", "n/a", "na", "tba", "tbd", "-", "--", "none", "?"}


def given(text: str | None) -> str | None:
    """The text, stripped; None when it says nothing ("N/A", "TBA", empty)."""
    if text is None:
        return None
    stripped = text.strip()
    return None if stripped.lower().rstrip(".") in NOT_GIVEN else stripped


@dataclass(frozen=True)
class Note:
    """Something the importer could not carry over as it was, and where it was."""

    where: str  # "pages/2024-10-03.md:27"
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


@dataclass
class Draft:
    """The fields of one talk as read from a page or a row."""

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
    notes: list[Note] = field(default_factory=list)
    page: str | None = None  # a plan row: the talk page its speaker links to
    from_plan: bool = False

    def add_note(self, line: int | str, text: str) -> None:
        """Say that something at ``line`` was not carried over as it was."""
        self.notes.append(Note(f"{self.where.rsplit(':', 1)[0]}:{line}", text))

    def append(self, field: str, text: str) -> None:
        """Add a paragraph to a Markdown field (``abstract``, ``bio``, ``note``)."""
        earlier = getattr(self, field)
        setattr(self, field, f"{earlier}\n\n{text}" if earlier else text)

    def append_note(self, text: str) -> None:
        """Carry text that has no field of its own into the record's ``note``."""
        self.append("note", text)
