"""The series folder: which record files exist, and reading only the ones a command needs.

A record's file name carries its date (``YYYY-MM-DD-<slug>.yaml``), so the sorted
directory listing is already in date order: picking "this week's seminar" among
thousands of past talks costs one listing and one bisection, and past talks are
never parsed.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.model import Series, Talk
from mailer.series.schema import load_series, load_talk
from mailer.series.yamlfile import parse_date

SERIES_FILE = "series.yaml"
_RECORD_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-(.+))?\.yaml")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, order=True)
class Entry:
    """A record file, known by its name before it is read."""

    date: date
    id: str
    path: Path = field(compare=False)


class Store:
    """The series folder: ``seminars/series.yaml`` and the talk records beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "seminars"
        self._series: Series | None = None
        self._names: list[str] | None = None
        self._entries: dict[str, Entry | None] = {}
        self._talks: dict[str, Talk] = {}

    @property
    def series(self) -> Series:
        """The validated series settings (read once)."""
        if self._series is None:
            path = self.folder / SERIES_FILE
            if not path.exists():
                raise InputError(
                    f"{display_path(path)}: no such file; every series folder needs "
                    f"seminars/{SERIES_FILE} (run `announce init` to make one, or give --root "
                    "before the command)")
            self._series = load_series(path)
        return self._series

    def _listing(self) -> list[str]:
        """The folder's ``.yaml`` names, sorted: ISO dates first, so sorted by date."""
        if self._names is None:
            try:
                names = os.listdir(self.folder)
            except FileNotFoundError:
                raise InputError(f"{display_path(self.folder)}: no such folder "
                                 "(give --root before the command, or run `announce init`)")\
                    from None
            self._names = sorted(n for n in names if n.endswith(".yaml") and n != SERIES_FILE)
        return self._names

    def _entry(self, name: str) -> Entry | None:
        if name not in self._entries:
            match = _RECORD_NAME.fullmatch(name)
            entry = None
            if match is not None:
                path = self.folder / name
                problems: list[str] = []
                when = parse_date(match[1], problems.append)
                if when is None:
                    raise InputError(f"{display_path(path)}: the file name's date: {problems[0]}")
                entry = Entry(when, name.removesuffix(".yaml"), path)
            self._entries[name] = entry
        return self._entries[name]

    def entries(self, start: date | None = None) -> list[Entry]:
        """The record files dated ``start`` or later (all without it), in date order."""
        return list(self.iter_entries(start))

    def iter_entries(self, start: date | None = None) -> Iterator[Entry]:
        """The record files dated ``start`` or later, one at a time: a caller that stops
        early (the next four talks) looks at no more names than it needs."""
        names = self._listing()
        first = bisect.bisect_left(names, start.isoformat()) if start is not None else 0
        previous: Entry | None = None
        for index in range(first, len(names)):
            entry = self._entry(names[index])
            if entry is None:
                continue
            if previous is not None and previous.date == entry.date:  # one talk a day (contract §3)
                raise InputError(
                    f"{display_path(previous.path)} and {display_path(entry.path)}: two talks "
                    f"on {entry.date}; a series has one talk a day. Give one its real date "
                    "(file name and date:) or delete it")
            previous = entry
            yield entry

    def ids(self) -> list[str]:
        """Every talk id, in date order, without reading a record."""
        return [name.removesuffix(".yaml") for name in self._listing()
                if _RECORD_NAME.fullmatch(name)]

    def stray_files(self) -> list[str]:
        """Name what in ``seminars/`` is neither the series nor a well-named talk record.

        A talk file named ``...-Ada.YAML`` or ``....yml`` would otherwise be skipped in
        silence; hidden files (an editor's swap file, ``.DS_Store``) are left alone.
        """
        return sorted(
            display_path(self.folder / name) for name in os.listdir(self.folder)
            if name != SERIES_FILE and not _RECORD_NAME.fullmatch(name)
            and not name.startswith(".")
        )

    def refuse_strays(self) -> None:
        """Raise InputError naming every stray file, so that no talk is skipped in silence."""
        strays = self.stray_files() if self.folder.is_dir() else []
        if strays:
            raise InputError("\n".join(f"{name}: not a talk record: name it "
                                       "YYYY-MM-DD-<slug>.yaml (or move it out of seminars/)"
                                       for name in strays))

    def talk(self, entry: Entry) -> Talk:
        """Read one record (once)."""
        if entry.id not in self._talks:
            self._talks[entry.id] = load_talk(entry.path, entry.id, entry.date, self.series)
        return self._talks[entry.id]

    def talks(self, start: date | None = None) -> Iterator[Talk]:
        """Read the records from ``start`` on, in date order."""
        for entry in self.iter_entries(start):
            yield self.talk(entry)

    def after(self, talk: Talk) -> Iterator[Talk]:
        """Read the records dated after ``seminar``, in date order."""
        return self.talks(talk.date + timedelta(days=1))

    def find(self, which: str) -> Talk:
        """Return the talk named by an id (``2024-02-22-mathis``) or a date (``2024-02-22``)."""
        if _DATE.fullmatch(which):
            when = parse_date(which, lambda why: None)
            matches = [e for e in self.entries(when) if e.date == when] if when else []
        else:
            plain = "/" not in which and "\\" not in which and not which.startswith(".")
            entry = self._entry(f"{which}.yaml")\
                if plain and (self.folder / f"{which}.yaml").is_file() else None
            matches = [entry] if entry is not None else []
        if len(matches) > 1:
            ids = ", ".join(e.id for e in matches)
            raise InputError(f"{which}: several talks on that date ({ids}); name one by its id")
        if not matches:
            close = difflib.get_close_matches(which, self.ids(), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise InputError(f"{which}: no such talk in {display_path(self.folder)}{hint}")
        return self.talk(matches[0])
