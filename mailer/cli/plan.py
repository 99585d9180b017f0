"""Commands for planning the season: ``list``, ``check``, ``new``, ``init`` and ``template``."""

from __future__ import annotations

import sys
from datetime import UTC, date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mailer.cli.app import (
    Today,
    Which,
    app,
    examples,
    parse_clock,
    parse_day,
    print_lines,
    say,
    session_of,
)
from mailer.series.kinds import Kind

if TYPE_CHECKING:
    from mailer.series.store import Store


@app.command("list", epilog=examples(
    "announce list", "announce list --all --json",
    "announce list --sent 2024-02-22                 # the copies kept of what went out",
    "announce list --sent 2024-02-22 --kind announcement --out sent.eml"))
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Every talk, past ones too.")] = False,
    today: Today = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document, for scripts.")] = False,
    sent: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--sent", metavar="WHICH", show_default=False,
        help="What went out about this talk (its id or date): the copy kept of each mail, "
             "and what the series' record (seminars/.sent.log) has.")] = None,
    kind: Annotated[Optional[Kind], typer.Option(  # noqa: UP045
        "--kind", case_sensitive=False, show_default=False,
        help="With --sent: print the copy of this mail (the newest), exactly as it went.")] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", metavar="FILE", show_default=False,
        help="With --sent and --kind: write the copy (.eml) here instead.")] = None,
) -> None:
    """Show upcoming talks: what is still missing and what was sent."""
    session = session_of(ctx)
    store = session.store()
    if sent is not None or kind is not None or out is not None:
        _list_sent(session.state, store, sent, kind, out, json_=json_)
        return
    from mailer.commands import status

    rows = status.listing(store, session.state, session.today(store, today), every=all_)
    if json_:
        import json

        say(json.dumps([row.as_json() for row in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        say("No upcoming talks (use --all for past ones).")
    for line in status.format_rows(rows, store.series.zone):
        say(line)


def _list_sent(state: Path, store: Store, which: str | None, kind: Kind | None,
               out: Path | None, *, json_: bool) -> None:
    """``list --sent``: the copies kept of what went out about a talk, or one of them."""
    from mailer.commands import copies
    from mailer.errors import InputError

    if which is None or (out is not None and kind is None):
        raise InputError("list: --kind and --out go with --sent TALK (and --out with --kind): "
                         "announce list --sent 2024-02-22 --kind announcement --out sent.eml")
    found = copies.sent(store, state, which)
    if kind is None:
        if json_:
            import json

            say(json.dumps(found.as_json(store.series.zone), indent=2, ensure_ascii=False))
            return
        for line in copies.sent_lines(found, store.series.zone):
            say(line)
        return
    data = copies.sent_copy(found, kind)
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        return
    from mailer.paths import write_atomically

    write_atomically(out, data)
    say(f"wrote the {kind} of {found.talk.id} to {out}")


@app.command(epilog=examples(
    "announce check", "announce --root ~/seminar check",
    "announce check --smtp      # connect, TLS, log in, QUIT: test the relay, send nothing",
    "announce check --inbox     # log in to mail.inbox and say what is there"))
def check(
    ctx: typer.Context,
    smtp: Annotated[bool, typer.Option(
        "--smtp", help="Also connect to the relay, negotiate TLS, log in and say QUIT; "
                       "print what it offers. Sends nothing.")] = False,
    inbox: Annotated[bool, typer.Option(
        "--inbox", help="Also log in to mail.inbox, open its folder and say what is there. "
                        "Changes nothing.")] = False,
) -> None:
    """Validate the series, every record, and render every talk with every template."""
    from mailer.commands.check import check_series

    session = session_of(ctx)
    store = session.store()
    print_lines(check_series(session.settings(store), store, session.today(store, None),
                             smtp=smtp, inbox=inbox))


@app.command(epilog=examples(
    'announce new 2026-12-10 --speaker "Jonas Åström" --affiliation KTH',
    'announce new 2026-12-17 --speaker "Пётр Чайковский"   # petr-chaykovskiy.yaml',
    'announce new --next --speaker "Ada Lovelace"   # one cadence after the last talk'))
def new(
    ctx: typer.Context,
    speaker: Annotated[str, typer.Option(help="The speaker's full name.")],
    day: Annotated[Optional[date], typer.Argument(  # noqa: UP045
        parser=parse_day, metavar="DATE", show_default=False,
        help="The talk's date, YYYY-MM-DD (or --next).")] = None,
    next_: Annotated[bool, typer.Option(
        "--next", help="Take the next free date: one cadence (weekly or biweekly) after the "
                       "last talk, on the series' weekday.")] = False,
    affiliation: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="The speaker's affiliation (university, company).", show_default=False)] = None,
    title: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="The talk's title, if known (else TBA until it is).", show_default=False)] = None,
    email: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="The speaker's address: announce asks them for what is missing and briefs them.",
        show_default=False)] = None,
    today: Today = None,
) -> None:
    """Write a new talk record, seminars/DATE-<slug>.yaml."""
    from mailer.commands.scaffold import new_talk
    from mailer.errors import InputError

    session = session_of(ctx)
    if next_ == (day is not None):
        raise InputError("new: give the talk's DATE, or --next for the next free date")
    if day is None:
        from mailer.series.schedule import next_free_date

        store = session.store()
        day = next_free_date([entry.date for entry in store.entries()], store.series.cadence,
                             session.today(store, today))
        if day is None:
            raise InputError("new --next: the series has no talk yet to follow; give the "
                             "first talk's DATE")
    say(f"wrote {new_talk(session.root, day, speaker, affiliation, title, email=email)}")


@app.command(epilog=examples(
    "announce move 2026-12-10 2026-12-17", "announce move 2026-12-10-ada 2026-12-10 --time 16:00"))
def move(
    ctx: typer.Context,
    which: Which,
    day: Annotated[date, typer.Argument(
        parser=parse_day, metavar="DATE", help="The new date, YYYY-MM-DD.")],
    at: Annotated[Optional[time], typer.Option(  # noqa: UP045
        "--time", parser=parse_clock, metavar="HH:MM", show_default=False,
        help="The new start, local time; default: the talk's time as it is.")] = None,
    today: Today = None,
) -> None:
    """Move a talk to another date (and time), keeping its calendar event and history."""
    from mailer.commands.move import move as move_talk
    from mailer.errors import InputError

    if which is None:
        raise InputError("move: name the talk (its id or date) and the new date")
    session = session_of(ctx)
    store = session.store()
    done = move_talk(store, session.state, which, day, at,
                     today=session.today(store, today), now=session.now)
    new_start = done.talk.start(store.series)
    say(f"moved {done.old.name} to {done.new.name} ({new_start:%Y-%m-%d %H:%M %Z}); "
        f"uid: {done.talk.key} keeps its calendar event and history")
    if done.announced:
        say("its announcement went out: the next `announce send --due` mails an update "
            "(same calendar event, new time) to everyone who got it")


@app.command(epilog=examples("announce init my-seminar --name \"Learning Machines\"",
                              "announce --root my-seminar preview"))
def init(
    ctx: typer.Context,
    folder: Annotated[Optional[Path], typer.Argument(  # noqa: UP045
        metavar="DIR", help="The new series folder.", show_default="the current folder")] = None,
    name: Annotated[str, typer.Option(
        help="The series name, as in \"this week's NAME seminar\".")] = "Example",
    timezone: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--timezone", metavar="ZONE", help="The series' time zone (an IANA name).",
        show_default="this machine's zone")] = None,
) -> None:
    """Make a new series folder that works at once."""
    from mailer.commands.scaffold import DEFAULT_ZONE, host_zone, init_series
    from mailer.series.schedule import local_today

    session = session_of(ctx)
    machine = host_zone()
    made = init_series(folder or session.root, local_today(session.now, UTC), name, timezone)
    say(f"made a new series in {made}/: edit seminars/series.yaml, then try "
         f"`announce --root {made} preview`")
    say("the example talk is tentative: nothing is mailed about it until you make it yours "
        "and set status: confirmed")
    if timezone is not None:
        say(f"timezone: {timezone}")
    elif machine is None:
        say(f"timezone: {DEFAULT_ZONE}: this machine's zone cannot be known; if the seminar "
            "keeps another, give --timezone ZONE or change it in seminars/series.yaml")
    elif machine in ("UTC", "Etc/UTC", "Etc/UCT", "Etc/GMT", "GMT", "Etc/Universal"):
        say(f"timezone: {machine}, this machine's zone; servers often keep UTC, seminars "
            "rarely do: give --timezone ZONE or change it in seminars/series.yaml (an IANA "
            "name, such as Europe/Stockholm)")
    else:
        say(f"timezone: {machine}, this machine's zone; if the seminar keeps another, give "
            "--timezone ZONE or change it in seminars/series.yaml (an IANA name, such as "
            "Europe/Stockholm)")


@app.command(epilog=examples(
    "announce template                                   # each template and its source",
    "mkdir -p templates && announce template subject.txt.j2 > templates/subject.txt.j2"))
def template(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(  # noqa: UP045
        help="A template's file name; default: list them.", show_default=False)] = None,
) -> None:
    """Print a default template, to copy into the series' templates/ and change there."""
    from mailer.commands.template import template_lines, template_text

    if name is None:
        print_lines(template_lines(session_of(ctx).root))
    else:
        sys.stdout.write(template_text(name))


@app.command("import", epilog=examples(
    "announce import archive/*.md              # talk pages as the series published them",
    "announce import _data/talks.yml           # a data file: a YAML or JSON list of talks",
    "announce import plan-2025.csv             # a spreadsheet (or .tsv): date, speaker, ...",
    "announce import archive/*.md --report migration.md   # what came from where, per talk"))
def import_(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(
        metavar="FILE...", help="Talk pages (.md), data files (.yml, .json) and spreadsheets "
                                "(.csv, .tsv) to import.")],
    report: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--report", metavar="FILE", help="Write the migration report here: per talk, what "
                                         "was taken from where and what is left to do.",
        show_default=False)] = None,
) -> None:
    """Turn an existing archive of talk pages, data files and spreadsheets into talk records."""
    from mailer.commands.imports import import_files

    for line in import_files(session_of(ctx).root, files, report).lines():
        say(line)

