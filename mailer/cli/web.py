"""Commands for the series' web site: ``page``, ``ics`` and ``program``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from mailer.cli.app import Out, Which, app, emit, examples, say, session_of
from mailer.series.kinds import ANNOUNCING


@app.command(epilog=examples("announce page 2024-02-22", "announce page --all --out site/"))
def page(
    ctx: typer.Context,
    which: Which = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="One page per talk (needs --out DIR).")] = False,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="A file (or, with --all, a folder) to write instead of printing.",
        show_default=False)] = None,
) -> None:
    """Print the web page of a talk (Jekyll front matter and Markdown)."""
    from mailer.commands import site
    from mailer.errors import InputError
    from mailer.series.schedule import Nothing, pick

    session = session_of(ctx)
    store = session.store()
    if all_:
        if out is None:
            raise InputError("page --all: give --out DIR for the pages")
        written = site.write_all_pages(store, out)
        say(f"wrote {written.pages} page(s) to {out}/")
        for name in written.removed:
            say(f"removed {out / name} (its talk has no page now)")
        for name in written.kept:
            say(f"kept {out / name}: its talk has no page now, but it was edited since "
                "announce wrote it; remove it by hand if it should go")
        return
    chosen = pick(store, which, session.today(store, None), ANNOUNCING)
    if isinstance(chosen, Nothing):
        say(chosen.message)
        return
    if out is None:
        emit(site.page(store, chosen), None)
        return
    site.write_page(store, chosen, out)
    say(f"wrote {out}")


@app.command(epilog=examples("announce ics --out site/seminars.ics"))
def ics(ctx: typer.Context, out: Out = None) -> None:
    """Write one calendar of all talks (a feed to subscribe to)."""
    from mailer.commands.feed import feed

    session = session_of(ctx)
    emit(feed(session.store(), session.state, session.now), out)


@app.command(epilog=examples("announce program 2024 --out site/program.md"))
def program(
    ctx: typer.Context,
    year: Annotated[Optional[int], typer.Argument(  # noqa: UP045
        help="The year; default: every year.", show_default=False)] = None,
    out: Out = None,
) -> None:
    """Write the season's programme as a page: one row per week."""
    from mailer.commands import site

    emit(site.program(session_of(ctx).store(), year), out)


@app.command(epilog=examples(
    "announce images                      # this week's talk, into images/",
    "announce images 2024-02-22 --out site/assets"))
def images(
    ctx: typer.Context,
    which: Which = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="The folder to write the images to.", show_default="images/ in the series folder")
    ] = None,
) -> None:
    """Make the talk's social-media card, meeting backdrop and video thumbnail."""
    from mailer.commands import site
    from mailer.series.schedule import Nothing, pick

    session = session_of(ctx)
    store = session.store()
    chosen = pick(store, which, session.today(store, None), ANNOUNCING)
    if isinstance(chosen, Nothing):
        say(chosen.message)
        return
    for path in site.write_images(store, chosen, out or session.root / "images"):
        say(f"wrote {path}")

