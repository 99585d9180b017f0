"""``announce import``: a series' existing archive (talk pages, plan tables, data files,
spreadsheets) into records.

All or nothing: every file is read and every record is built and read back before the
first one is written; a broken page or row stops the import (exit 2, file:line) with
nothing written. A record is never overwritten: a date that already has one is left alone,
so importing twice changes nothing. What could not be carried over as it was is reported,
by file and line; ``--report FILE`` writes the migration report, talk by talk. A reading of
a speaker line that is a guess is marked in the record by a comment (:data:`GUESS_MARK`),
which ``check`` warns about until the organiser deletes it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from pathlib import Path

from mailer.errors import InputError
from mailer.importing.datafiles import read_data
from mailer.importing.draft import GUESS_MARK, Draft, Note
from mailer.importing.migration import Outcome, report_text
from mailer.importing.pages import read_page, read_text
from mailer.importing.plans import is_plan, merge, read_plan
from mailer.importing.portraits import find_photo
from mailer.importing.sheets import read_sheet
from mailer.importing.when import settle
from mailer.paths import display_path, write_atomically
from mailer.series.model import Series, Status, Talk
from mailer.series.names import slugify
from mailer.series.schema import load_talk
from mailer.series.store import SERIES_FILE, Store

MAX_SLUG = 40
PAGE_SUFFIXES = (".md", ".markdown", ".txt")
SHEET_SUFFIXES = (".csv", ".tsv", ".tab")
DATA_SUFFIXES = (".yml", ".yaml", ".json")


@dataclass
class Imported:
    """What an import did."""

    written: list[Path] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    report: Path | None = None

    def lines(self) -> list[str]:
        """What to tell the user: the records written, those left alone, the notes."""
        out = [f"imported {len(self.written)} talk(s)"
               + (":" if self.written else "; nothing was written")]
        out += [f"  wrote {display_path(path)}" for path in self.written]
        out += [f"  {line}" for line in self.left_alone]
        if self.notes:
            out.append("not carried over as it was (look these over):")
            out += [f"  {note}" for note in self.notes]
        left = sum(len(o.draft.left) for o in self.outcomes)
        if self.report is not None:
            out.append(f"migration report: {display_path(self.report)}")
        elif left:
            out.append(f"{left} passage(s) not imported (announce's own welcome, footer and "
                       "upcoming list, the site's own keys and code): --report FILE lists "
                       "them word for word")
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


def _record_text(draft: Draft, series: Series, photo: str | None, *,
                 quoted: bool = False) -> str:
    def put(key: str, value: str | None) -> None:
        if value is not None:
            block = not quoted and (key in MARKDOWN_FIELDS or "\n" in value)
            lines.append(f"{key}: {_scalar(value, block=block)}")

    assert draft.day is not None  # noqa: S101 (readers give every draft a day)
    lines = []
    if draft.guess:
        written = json.dumps(" ".join(draft.guess.split()), ensure_ascii=False)[:300]
        lines.append(f"{GUESS_MARK} {written}; check the speakers, then delete this line")
    lines.append(f"date: {draft.day.isoformat()}")
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
    for key in ("title", "abstract", "bio", "location", "video_link", "slides", "recording"):
        put(key, getattr(draft, key))
    put("photo", photo)
    if draft.status != Status.CONFIRMED:
        put("status", str(draft.status))
    put("note", draft.note)
    return "\n".join(lines) + "\n"


def _expected(draft: Draft, talk_id: str, series: Series, photo: str | None) -> Talk:
    assert draft.day is not None  # noqa: S101
    time = draft.time if draft.time != series.default_time else None
    return Talk(id=talk_id, date=draft.day, time=time, speakers=tuple(draft.speakers),
                title=draft.title, abstract=draft.abstract, bio=draft.bio,
                location=draft.location, video_link=draft.video_link, status=draft.status,
                note=draft.note, photo=photo, slides=draft.slides, recording=draft.recording)


def _build(draft: Draft, talk_id: str, series: Series, scratch: Path,
           photo: str | None) -> str:
    """Return the record's text, read back and equal to the draft; or say what is wrong.

    ``scratch`` stands for the series folder: its ``seminars/`` gets the record and its
    ``photos/`` the photo, so that the record is read back as it will be."""
    assert draft.day is not None  # noqa: S101
    expected = _expected(draft, talk_id, series, photo)
    path = scratch / "seminars" / f"{talk_id}.yaml"
    for quoted in (False, True):
        text = _record_text(draft, series, photo, quoted=quoted)
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
    """Read every page, plan table, data file and spreadsheet; raise InputError on the first
    broken one."""
    drafts: list[Draft] = []
    for path in paths:
        suffix = path.suffix.lower()
        if not path.is_file():
            raise InputError(f"{display_path(path)}: no such file")
        if suffix in SHEET_SUFFIXES:
            drafts += read_sheet(path)
        elif suffix in DATA_SUFFIXES:
            drafts += read_data(path)
        elif suffix in PAGE_SUFFIXES:
            text = read_text(path)
            drafts += read_plan(path, text) if is_plan(text) else [read_page(path, text)]
        else:
            raise InputError(f"{display_path(path)}: not a talk page ({', '.join(PAGE_SUFFIXES)}),"
                             f" a data file ({', '.join(DATA_SUFFIXES)}) or a spreadsheet "
                             f"({', '.join(SHEET_SUFFIXES)})")
    return _one_per_day(drafts)


def _one_per_day(drafts: list[Draft]) -> list[Draft]:
    """A plan row and a page for the same date become one draft; the order is kept."""
    pages = {draft.day: draft for draft in drafts if not draft.from_plan}
    out: list[Draft] = []
    unread: dict[str, list[Draft]] = {}  # plan file -> rows whose linked page was not given
    for draft in drafts:
        page = pages.get(draft.day)
        if not draft.from_plan:
            out.append(draft)
        elif page is None:
            if draft.page and draft.status != Status.CANCELLED:
                unread.setdefault(draft.file, []).append(draft)
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


def _settle(draft: Draft, series: Series) -> None:
    """A time written with a zone, in the series' zone; a span's length beside the series'."""
    if draft.day is None or draft.time is None:
        return
    line = draft.where.rsplit(":", 1)[1]
    written = f"{draft.time:%H:%M}" + (f"-{draft.end:%H:%M}" if draft.end else "")
    if draft.end is not None:
        span = datetime.combine(date.min, draft.end) - datetime.combine(date.min, draft.time)
        minutes = int(span / timedelta(minutes=1)) % (24 * 60)
        if minutes != series.duration_minutes:
            draft.append_note(f"Time: {written}" + (f" {draft.zone}" if draft.zone else ""))
            draft.add_note(line, f"the talk runs {written} ({minutes} minutes); the series' "
                                 f"talks last {series.duration_minutes} (duration_minutes), "
                                 "so the span is kept in note")
    if draft.zone:
        try:
            draft.day, draft.time, said = settle(draft.day, draft.time, draft.zone,
                                                 series.timezone)
        except ValueError as exc:
            raise InputError(f"{draft.where}: time: {exc}") from None
        draft.add_note(line, f"the time {written} {draft.zone}: {said}")


def _photo(draft: Draft, talk_id: str, root: Path, archive: list[Path],
           scratch: Path) -> tuple[str, Path, bytes] | None:
    """The photo's path as the record writes it, where it goes and its bytes; None if none."""
    found = find_photo(draft, archive)
    if found is None:
        return None
    data, suffix, source = found
    if source.is_relative_to(root.resolve()):
        written, target = source.relative_to(root.resolve()).as_posix(), source
    else:
        written = f"photos/{talk_id}.{suffix}"
        target = root / written
        if target.exists() and target.read_bytes() != data:
            draft.add_note(1, f"{written} is there already, another image; no photo: (set it "
                              "by hand)")
            return None
    (scratch / written).parent.mkdir(parents=True, exist_ok=True)
    (scratch / written).write_bytes(data)
    return written, target, data


def _plan(store: Store, drafts: list[Draft], result: Imported, scratch: Path,
          archive: list[Path]) -> tuple[dict[Path, str], dict[Path, bytes]]:
    """Build every new record's text (and its photo); note the drafts left alone."""
    taken = {entry.date: entry for entry in store.entries()}
    planned: dict[date, Draft] = {}
    records: dict[Path, str] = {}
    photos: dict[Path, bytes] = {}
    for draft in drafts:
        _settle(draft, store.series)
        assert draft.day is not None  # noqa: S101
        talk_id = f"{draft.day.isoformat()}-{_slug(draft)}"
        if draft.day in taken:
            result.left_alone.append(f"{draft.where}: {draft.day} already has a record "
                                     f"({display_path(taken[draft.day].path)}); left alone")
            result.outcomes.append(Outcome(draft, taken[draft.day].path, left_alone=True))
            result.notes += draft.notes
            continue
        if draft.day in planned:
            raise InputError(f"{draft.where}: {draft.day} is also the date of "
                             f"{planned[draft.day].where}; a series has one talk a day. "
                             "Import one of them, or correct a date; nothing was written")
        planned[draft.day] = draft
        photo = _photo(draft, talk_id, store.root, archive, scratch)
        if photo is not None and not photo[1].exists():
            photos[photo[1]] = photo[2]
        text = _build(draft, talk_id, store.series, scratch, photo[0] if photo else None)
        records[store.folder / f"{talk_id}.yaml"] = text
        result.outcomes.append(Outcome(draft, store.folder / f"{talk_id}.yaml",
                                       photo=photo[0] if photo else None))
        result.notes += draft.notes
    return records, photos


def import_files(root: Path, paths: Sequence[Path], report: Path | None = None) -> Imported:
    """Import talk pages, plans, data files and spreadsheets into ``root``'s ``seminars/``;
    all or nothing. With ``report``, write the migration report there."""
    store = Store(root)
    if not (store.folder / SERIES_FILE).is_file():
        raise InputError(f"{display_path(store.folder / SERIES_FILE)}: no such file; import "
                         "into a series folder (run `announce init` first, or give --root "
                         "before the command); nothing was written")
    result = Imported()
    drafts = read_drafts(paths)
    archive = list(dict.fromkeys(path.parent.resolve() for path in paths))
    with tempfile.TemporaryDirectory(prefix="announce-import-") as scratch:
        (Path(scratch) / "seminars").mkdir()
        records, photos = _plan(store, drafts, result, Path(scratch), archive)
    files = {**photos, **{path: text.encode() for path, text in records.items()}}
    written_files: list[Path] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as out:
                out.write(data)
            if path in records:
                result.written.append(path)
            written_files.append(path)
        if report is not None:
            write_atomically(report, report_text(result.outcomes, list(paths)).encode())
            result.report = report
    except OSError as exc:
        for path in written_files:
            path.unlink(missing_ok=True)
        where = Path(exc.filename) if exc.filename else store.folder
        raise InputError(f"{display_path(where)}: cannot write ({exc.strerror}); nothing was "
                         "written") from None
    return result
