"""The series on the web: a talk's page, every talk's page, the calendar feed, the programme."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.errors import InputError
from mailer.paths import write_files
from mailer.series.model import Seminar, Status
from mailer.series.schedule import upcoming_after
from mailer.series.store import Store


def has_page(seminar: Seminar) -> bool:
    """Whether a talk gets a public page: only once it is confirmed."""
    return seminar.status == Status.CONFIRMED


def page(store: Store, seminar: Seminar) -> str:
    """Return the web page of one talk."""
    from mailer.render.templates import Renderer

    if not has_page(seminar):
        raise InputError(f"{seminar.id} is {seminar.status}: it gets a public page once its "
                         "status is confirmed")
    return Renderer(store.root).page(store.series, seminar, upcoming_after(store, seminar))


def photo_files(store: Store, seminar: Seminar) -> dict[str, bytes]:
    """The web-sized copy of the talk's photo that its page shows, by file name."""
    from mailer.render.photos import web
    from mailer.render.templates import page_photo_name

    name = page_photo_name(seminar)
    if name is None or seminar.photo is None:
        return {}
    return {name: web(store.root, seminar.photo)}


def write_page(store: Store, seminar: Seminar, out: Path) -> None:
    """Write one talk's page to ``out``, and its photo beside it."""
    write_files(out.parent, {out.name: page(store, seminar).encode("utf-8"),
                             **photo_files(store, seminar)})


def write_all_pages(store: Store, folder: Path) -> int:
    """Write ``folder/YYYY-MM-DD.md`` (and photos) for every confirmed talk; return how many."""
    from mailer.render.templates import Renderer

    render = Renderer(store.root)
    pages: dict[str, bytes] = {}
    for seminar in store.seminars():
        if not has_page(seminar):
            continue
        name = f"{seminar.date}.md"
        if name in pages:
            raise InputError(f"two talks on {seminar.date}: pages are named by date, one a day")
        text = render.page(store.series, seminar, upcoming_after(store, seminar))
        pages[name] = text.encode("utf-8")
        pages.update(photo_files(store, seminar))
    write_files(folder, pages)
    return sum(1 for name in pages if name.endswith(".md"))


def feed(store: Store, state: Path, now: datetime) -> str:
    """Return one calendar of every talk, cancelled ones marked CANCELLED."""
    from mailer.render.calendar import build_calendar
    from mailer.render.event import event_digest

    series = store.series
    with Ledger.existing(state) as ledger:
        events = [(seminar, ledger.sequence(seminar.id, event_digest(series, seminar))
                   if ledger else 0) for seminar in store.seminars() if not seminar.open]
    return build_calendar(series, events, stamp=now)


def stabp(seminar: Seminar) -> str:
    """The S-T-A-B-P code as the series' plans show it: a missing letter struck through."""
    return "-".join(letter if present else f"~~{letter}~~"
                    for letter, present in seminar.parts().items())


def program(store: Store, year: int | None) -> str:
    """Return the season's table as a Jekyll page: one row per week with a talk or cancellation."""
    from mailer.render.formats import PageFormat
    from mailer.render.templates import Renderer, jekyll_page

    series = store.series
    fmt = PageFormat()
    rows = []
    for seminar in store.seminars():
        if year is not None and seminar.date.year != year:
            continue
        rows.append({
            "date": seminar.date.isoformat(),
            "time": seminar.start(series).strftime("%H:%M"),
            "speaker": seminar.speaker_line(),
            "link": f"{seminar.date.isoformat()}.md",
            "missing": ", ".join(seminar.missing()),
            "cancelled": seminar.cancelled,
            "open": seminar.open,
            "tentative": seminar.status == Status.TENTATIVE,
            "stabp": stabp(seminar),
            "note": seminar.note,
        })
    body = Renderer(store.root).render_named("program.md.j2", {
        "series": series, "year": year if year is not None else "", "rows": rows,
        "time_note": ("UTC" if series.timezone.removeprefix("Etc/") in ("UTC", "GMT", "UCT")
                      else f"in {series.timezone} local time"),
        "cell": lambda text: fmt.plain(" ".join(str(text).split())).replace("|", "\\|"),
        "plain": fmt.plain,
    })
    return jekyll_page(series, body)


def write_images(store: Store, seminar: Seminar, folder: Path) -> list[Path]:
    """Write the talk's social-media card, meeting backdrop and video thumbnail to ``folder``."""
    from mailer.render.images import talk_images

    if not seminar.takes_place:
        raise InputError(f"{seminar.id} is {seminar.status}: there is no talk to make images of")
    files = talk_images(store.root, store.series, seminar)
    write_files(folder, files)
    return [folder / name for name in files]
