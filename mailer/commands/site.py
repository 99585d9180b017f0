"""The series on the web: a talk's page, every talk's page, the programme, the talk's images.

The calendar feed is :mod:`mailer.commands.feed` (icalendar loads only for it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from mailer.errors import InputError
from mailer.paths import MAX_FILE_BYTES, decode_text, read_regular, write_files
from mailer.render.formats import PageFormat
from mailer.render.images import talk_images
from mailer.render.markup import literal_emphasis
from mailer.render.photos import web
from mailer.render.templates import Renderer, jekyll_page, page_photo_name
from mailer.series.model import Status, Talk
from mailer.series.schedule import upcoming_after
from mailer.series.store import Store


def has_page(talk: Talk) -> bool:
    """Whether a talk gets a public page: only once it is confirmed."""
    return talk.status == Status.CONFIRMED


def page(store: Store, talk: Talk) -> str:
    """Return the web page of one talk."""
    if not has_page(talk):
        raise InputError(f"{talk.id} is {talk.status}: it gets a public page once its "
                         "status is confirmed")
    return Renderer(store.root).page(store.series, talk, upcoming_after(store, talk),
                                     PageFormat(literal_emphasis))


def photo_files(store: Store, talk: Talk) -> dict[str, bytes]:
    """The web-sized copy of the talk's photo that its page shows, by file name."""
    name = page_photo_name(talk)
    if name is None or talk.photo is None:
        return {}
    return {name: web(store.root, talk.photo)}


def write_page(store: Store, talk: Talk, out: Path) -> None:
    """Write one talk's page to ``out``, and its photo beside it."""
    write_files(out.parent, {out.name: page(store, talk).encode("utf-8"),
                             **photo_files(store, talk)})


MANIFEST = ".announce-pages"  # in the pages folder: what the last `page --all` wrote there


@dataclass
class Written:
    """What ``page --all`` did in its folder."""

    pages: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale, but changed since announce wrote it


def _manifest(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of what the last run wrote (empty when there was none)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    data = read_regular(path, "the pages manifest", inside=None, limit=MAX_FILE_BYTES)
    text = decode_text(data, path, "it")
    found = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if re.fullmatch(r"[0-9a-f]{64}", digest) and name and "/" not in name and\
                not name.startswith("."):
            found[name] = digest
    return found


def _remove_stale(folder: Path, earlier: dict[str, str], now: dict[str, bytes],
                  written: Written) -> None:
    """Remove what an earlier run wrote and this one did not, unless it was edited since."""
    for name, digest in sorted(earlier.items()):
        path = folder / name
        if name in now or not path.is_file() or path.is_symlink():
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            written.kept.append(name)
            continue
        path.unlink()
        written.removed.append(name)


def write_all_pages(store: Store, folder: Path) -> Written:
    """Write ``folder/YYYY-MM-DD.md`` (and photos) for every confirmed talk, and remove the
    pages and photos an earlier run wrote for talks that no longer have one."""
    render = Renderer(store.root)
    pages: dict[str, bytes] = {}
    for talk in store.talks():
        if not has_page(talk):
            continue
        name = f"{talk.date}.md"
        if name in pages:
            raise InputError(f"two talks on {talk.date}: pages are named by date, one a day")
        text = render.page(store.series, talk, upcoming_after(store, talk),
                           PageFormat(literal_emphasis))
        pages[name] = text.encode("utf-8")
        pages.update(photo_files(store, talk))
    earlier = _manifest(folder)
    written = Written(pages=sum(1 for name in pages if name.endswith(".md")))
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                       for name, data in sorted(pages.items()))
    write_files(folder, pages)
    _remove_stale(folder, earlier, pages, written)
    write_files(folder, {MANIFEST: (MANIFEST_HEADER + manifest).encode("utf-8")})
    return written


MANIFEST_HEADER = ("# Written by `announce page --all`: the files it wrote here, so that the next\n"
                   "# run removes those whose talk is gone. Pages you add yourself are never "
                   "touched.\n")


def stabp(talk: Talk) -> str:
    """The S-T-A-B-P code as the series' plans show it: a missing letter struck through."""
    return "-".join(letter if present else f"~~{letter}~~"
                    for letter, present in talk.parts().items())


def program(store: Store, year: int | None) -> str:
    """Return the season's table as a Jekyll page: one row per week with a talk or cancellation."""
    series = store.series
    fmt = PageFormat(literal_emphasis)
    rows = []
    for talk in store.talks():
        if year is not None and talk.date.year != year:
            continue
        rows.append({
            "date": talk.date.isoformat(),
            "time": talk.start(series).strftime("%H:%M"),
            "speaker": talk.speaker_line(),
            "link": series.page_link(talk.date),
            "missing": ", ".join(talk.missing()),
            "cancelled": talk.cancelled,
            "open": talk.open,
            "tentative": talk.status == Status.TENTATIVE,
            "stabp": stabp(talk),
            "note": talk.note,
            # Addresses as a link's destination on the page: no brace left for Liquid.
            "recording": fmt.address(talk.recording) if talk.recording else None,
            "slides": fmt.address(talk.slides) if talk.slides else None,
        })
    body = Renderer(store.root).render_named("program.md.j2", {
        "series": series, "year": year if year is not None else "", "rows": rows,
        "time_note": ("UTC" if series.timezone.removeprefix("Etc/") in ("UTC", "GMT", "UCT")
                      else f"in {series.timezone} local time"),
        "cell": lambda text: fmt.plain(" ".join(str(text).split())).replace("|", "\\|"),
        "plain": fmt.plain,
    })
    title = f"{series.name} seminars" + (f" {year}" if year is not None else "")
    return jekyll_page(series, body, title=title)


def write_images(store: Store, talk: Talk, folder: Path) -> list[Path]:
    """Write the talk's social-media card, meeting backdrop and video thumbnail to ``folder``."""
    if not talk.takes_place:
        raise InputError(f"{talk.id} is {talk.status}: there is no talk to make images of")
    files = talk_images(store.root, store.series, talk)
    write_files(folder, files)
    return [folder / name for name in files]
