"""``announce import``: a series' existing archive (talk pages, spreadsheets) into records.

All or nothing: every file is read and every record is built and read back before the
first one is written; a broken page or row stops the import (exit 2, file:line) with
nothing written. A record is never overwritten: a date that already has one is left alone,
so importing twice changes nothing. What could not be carried over as it was is reported,
by file and line.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from mailer.errors import InputError
from mailer.importing.draft import Draft, Note
from mailer.paths import display_path
from mailer.series.model import Series, Status, Talk
from mailer.series.names import slugify
from mailer.series.schema import load_talk
from mailer.series.store import SERIES_FILE, Store

MAX_SLUG = 40
PAGE_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass
class Imported:
    """What an import did."""

    written: list[Path] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What to tell the user: the records written, those left alone, the notes."""
        out = [f"imported {len(self.written)} talk(s)"
               + (":" if self.written else "; nothing was written")]
        out += [f"  wrote {display_path(path)}" for path in self.written]
        out += [f"  {line}" for line in self.left_alone]
        if self.notes:
            out.append("not carried over as it was (look these over):")
            out += [f"  {note}" for note in self.notes]
        return out


def _slug(draft: Draft) -> str:
    """The file name's slug: the first speaker's name, else the title, in ASCII."""
    source = draft.speakers[0].name if draft.speakers else (
        draft.title or (str(draft.status) if draft.status != Status.CONFIRMED else "talk"))
    slug = slugify(source) or "talk"
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0]
    return slug


MARKDOWN_FIELDS = ("abstract", "bio", "note")


def _scalar(value: str, *, block: bool) -> str:
    """A YAML scalar holding ``value``: a literal block for Markdown, else a quoted string."""
    if not block:
        return json.dumps(value, ensure_ascii=False)
    indicator = "2" if value[:1] in (" ", "\t") else ""
    return f"|{indicator}\n" + "\n".join(f"  {line}" if line else "" for line in
                                         value.split("\n"))


def _record_text(draft: Draft, series: Series, *, quoted: bool = False) -> str:
    def put(key: str, value: str | None) -> None:
        if value is not None:
            block = not quoted and (key in MARKDOWN_FIELDS or "\n" in value)
            lines.append(f"{key}: {_scalar(value, block=block)}")

    assert draft.day is not None  # noqa: S101 (readers give every draft a day)
    lines = [f"date: {draft.day.isoformat()}"]
    if draft.time is not None and draft.time != series.default_time:
        put("time", draft.time.strftime("%H:%M"))
    if len(draft.speakers) == 1:
        put("speaker", draft.speakers[0].name)
        put("affiliation", draft.speakers[0].affiliation)
        put("email", draft.speakers[0].email)
    elif draft.speakers:
        lines.append("speakers:")
        for speaker in draft.speakers:
            lines.append(f"  - name: {_scalar(speaker.name, block=False)}")
            for key in ("affiliation", "email"):
                if getattr(speaker, key):
                    lines.append(f"    {key}: {_scalar(getattr(speaker, key), block=False)}")
    for key in ("title", "abstract", "bio", "location", "video_link"):
        put(key, getattr(draft, key))
    if draft.status != Status.CONFIRMED:
        put("status", str(draft.status))
    put("note", draft.note)
    return "\n".join(lines) + "\n"


def _expected(draft: Draft, talk_id: str, series: Series) -> Talk:
    assert draft.day is not None  # noqa: S101
    time = draft.time if draft.time != series.default_time else None
    return Talk(id=talk_id, date=draft.day, time=time, speakers=tuple(draft.speakers),
                   title=draft.title, abstract=draft.abstract, bio=draft.bio,
                   location=draft.location, video_link=draft.video_link, status=draft.status,
                   note=draft.note)


def _build(draft: Draft, talk_id: str, series: Series, scratch: Path) -> str:
    """Return the record's text, read back and equal to the draft; or say what is wrong."""
    assert draft.day is not None  # noqa: S101
    expected = _expected(draft, talk_id, series)
    path = scratch / f"{talk_id}.yaml"
    for quoted in (False, True):
        text = _record_text(draft, series, quoted=quoted)
        path.write_text(text, encoding="utf-8")
        try:
            got = load_talk(path, talk_id, draft.day)
        except InputError as exc:
            problems = [line.split(": ", 1)[-1] for line in str(exc).splitlines()]
            raise InputError("\n".join(f"{draft.where}: {p}" for p in problems)) from None
        if all(getattr(got, f.name) == getattr(expected, f.name) for f in fields(Talk)):
            return text
    raise InputError(f"{draft.where}: the record cannot hold this text exactly; "
                     "nothing was written")


def read_drafts(paths: Sequence[Path]) -> list[Draft]:
    """Read every page, plan table and spreadsheet; raise InputError on the first broken one."""
    from mailer.importing.pages import read_page, read_text
    from mailer.importing.plans import is_plan, read_plan
    from mailer.importing.sheets import read_sheet

    drafts: list[Draft] = []
    for path in paths:
        suffix = path.suffix.lower()
        if not path.is_file():
            raise InputError(f"{display_path(path)}: no such file")
        if suffix == ".csv":
            drafts += read_sheet(path)
        elif suffix in PAGE_SUFFIXES:
            text = read_text(path)
            drafts += read_plan(path, text) if is_plan(text) else [read_page(path, text)]
        else:
            raise InputError(f"{display_path(path)}: not a talk page ({', '.join(PAGE_SUFFIXES)}) "
                             "or a spreadsheet (.csv)")
    return _one_per_day(drafts)


def _one_per_day(drafts: list[Draft]) -> list[Draft]:
    """A plan row and a page for the same date become one draft; the order is kept."""
    from mailer.importing.plans import merge

    pages = {draft.day: draft for draft in drafts if not draft.from_plan}
    out: list[Draft] = []
    unread: dict[str, list[Draft]] = {}  # plan file -> rows whose linked page was not given
    for draft in drafts:
        page = pages.get(draft.day)
        if not draft.from_plan:
            out.append(draft)
        elif page is None:
            if draft.page and draft.status != Status.CANCELLED:
                unread.setdefault(draft.where.rsplit(":", 1)[0], []).append(draft)
            out.append(draft)
        else:
            merge(page, draft)
    for rows in unread.values():
        names = ", ".join(row.page or "" for row in rows[:3]) + (", …" if len(rows) > 3 else "")
        rows[0].add_note(rows[0].where.rsplit(":", 1)[1],
                         f"{len(rows)} row(s) link a page that was not in this import "
                         f"({names}); import the pages with the plan for their titles, "
                         "abstracts and bios")
    return out


def _plan(store: Store, drafts: list[Draft], result: Imported) -> dict[Path, str]:
    """Build every new record's text; note the drafts left alone."""
    taken = {entry.date: entry for entry in store.entries()}
    planned: dict[date, Draft] = {}
    records: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="announce-import-") as scratch:
        for draft in drafts:
            assert draft.day is not None  # noqa: S101
            result.notes += draft.notes
            talk_id = f"{draft.day.isoformat()}-{_slug(draft)}"
            if draft.day in taken:
                result.left_alone.append(f"{draft.where}: {draft.day} already has a record "
                                         f"({display_path(taken[draft.day].path)}); left alone")
                continue
            if draft.day in planned:
                raise InputError(f"{draft.where}: {draft.day} is also the date of "
                                 f"{planned[draft.day].where}; a series has one talk a day. "
                                 "Import one of them, or correct a date; nothing was written")
            planned[draft.day] = draft
            text = _build(draft, talk_id, store.series, Path(scratch))
            records[store.folder / f"{talk_id}.yaml"] = text
    return records


def import_files(root: Path, paths: Sequence[Path]) -> Imported:
    """Import talk pages and spreadsheets into ``root``'s ``seminars/``; all or nothing."""
    store = Store(root)
    if not (store.folder / SERIES_FILE).is_file():
        raise InputError(f"{display_path(store.folder / SERIES_FILE)}: no such file; import "
                         "into a series folder (run `announce init` first, or give --root "
                         "before the command); nothing was written")
    result = Imported()
    records = _plan(store, read_drafts(paths), result)
    try:
        for path, text in records.items():
            with open(path, "x", encoding="utf-8") as out:
                out.write(text)
            result.written.append(path)
    except OSError as exc:
        for path in result.written:
            path.unlink(missing_ok=True)
        raise InputError(f"{display_path(store.folder)}: cannot write ({exc.strerror}); "
                         "nothing was written") from None
    return result
