"""The ``announce`` command line: parse options, call one function in ``actions``, print.

``MailerError`` is mapped to its exit code here and nowhere else. Modules that
render or send are imported inside the commands, so ``announce --help`` and
``--version`` load only Typer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from mailer import __version__
from mailer.errors import EX_OK, MailerError

if TYPE_CHECKING:
    from mailer.actions import Outgoing
    from mailer.deliver import Report
    from mailer.store import Store

app = typer.Typer(
    name="announce",
    help="Announce a weekly seminar: email, web page and calendar from one YAML record per talk.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    # Rich tracebacks print local variables; never risk showing a password that way.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Path] = {}

Which = Annotated[Optional[str], typer.Argument(  # noqa: UP045
    help="A talk's id (2024-02-22-mathis) or date (2024-02-22); default: this week's seminar.",
    show_default=False)]
Today = Annotated[Optional[str], typer.Option(  # noqa: UP045
    help="Act as if today were this date (YYYY-MM-DD).", show_default=False)]
Kind = Annotated[str, typer.Option(help="announcement, reminder or cancellation.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"announce {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    root: Annotated[Path, typer.Option(
        envvar="ANNOUNCE_ROOT", help="The series folder (holds seminars/).",
        show_default="the current folder")] = Path(),
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Announce a weekly seminar: email, web page and calendar from one YAML record per talk."""
    _state["root"] = root


def _root() -> Path:
    return _state.get("root", Path())


def _say(text: str = "", *, err: bool = False) -> None:
    typer.echo(text, err=err)


def _store() -> Store:
    from mailer.store import Store

    return Store(_root())


def _emit(text: str, out: Path | None) -> None:
    """Print ``text``, or write it whole to ``out``."""
    if out is None:
        sys.stdout.write(text)
        return
    from mailer.actions import write_atomically

    write_atomically(out, text.encode("utf-8"))
    _say(f"wrote {out}")


def _print_summary(outgoing: Outgoing) -> None:
    _say(f"From: {outgoing.mail.sender}")
    _say(f"To: {outgoing.to_summary}")
    _say(f"Subject: {outgoing.rendered.subject}")
    _say(f"Recipients: {outgoing.total}")
    _say(f"Kind: {outgoing.kind} ({outgoing.seminar.id})")


@app.command()
def send(
    which: Which = None,
    today: Today = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Build everything, print it, write a preview; send nothing.")] = False,
    to: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--to", help="Send only to this address (a test; not recorded as the real send).",
        show_default=False)] = None,
    kind: Kind = "announcement",
    force: Annotated[bool, typer.Option(
        help="Send again even if the ledger says it went out.")] = False,
    quiet: Annotated[bool, typer.Option(help="Print only problems (for cron).")] = False,
) -> None:
    """Send this week's announcement (or a reminder or cancellation) to the list."""
    from mailer import actions

    store = _store()
    day = actions.parse_day(today, store=store)
    chosen = actions.pick(store, which, day, kind)
    if isinstance(chosen, actions.Nothing):
        if not quiet:
            _say(chosen.message)
        return
    outgoing = actions.prepare(store, chosen, kind, to_override=to or (), today=day,
                               skip_if_sent=not (dry_run or force))
    if isinstance(outgoing, actions.AlreadySent):
        if not quiet:
            _say(_already_sent(f"{kind} of {chosen.id}", outgoing.recipients))
        return
    for warning in outgoing.warnings:
        _say(f"warning: {warning}", err=True)
    if dry_run:
        _print_summary(outgoing)
        _say()
        _say(outgoing.rendered.text.rstrip("\n"))
        _say()
        folder = actions.write_preview(_root(), outgoing)
        _say(f"Dry run: nothing was sent. Preview written to {folder}/")
        return
    report = _deliver(outgoing, force=force, quiet=quiet)
    raise typer.Exit(report.exit_code)


def _already_sent(what: str, count: int) -> str:
    return (f"{what}: already sent, all {count} recipient(s) are in the ledger; nothing to do "
            "(--force sends again)")


def _deliver(outgoing: Outgoing, *, force: bool, quiet: bool) -> Report:
    from mailer import actions
    from mailer.deliver import Notice, Progress, Report

    show_bar = not quiet and sys.stderr.isatty() and outgoing.total > 36
    report = Report()
    shown = -1
    for event in actions.send(_root(), outgoing, force=force):
        if isinstance(event, Progress) and show_bar and event.total:
            percent = 100 * event.done // event.total
            if percent == shown and event.done != event.total:
                continue  # redraw only when the figure changes
            shown = percent
            filled = 30 * event.done // event.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] "
                             f"{event.done}/{event.total}")
            if event.done == event.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif isinstance(event, Notice) and not quiet:
            _say(event.text, err=True)
        elif isinstance(event, Report):
            report = event
    what = f"{outgoing.kind} of {outgoing.seminar.id}"
    for address, why in list(report.refused.items())[:100]:
        _say(f"refused (permanent, not retried without --force): {address}: {why}", err=True)
    if len(report.refused) > 100:
        _say(f"... and {len(report.refused) - 100} more refused", err=True)
    for address, why in list(report.deferred.items())[:20]:
        _say(f"deferred (will be retried by the next run): {address}: {why}", err=True)
    if report.unreached and not (report.sent or report.refused or report.deferred):
        _say(f"{report.unreached}; nothing was sent by this run, run it again later", err=True)
        return report
    if report.unreached:
        _say(f"stopped: {report.unreached}", err=True)
    problems = report.refused or report.deferred or report.unreached
    if report.sent == 0 and report.skipped and not problems:
        if not quiet:
            _say(_already_sent(what, report.skipped))
        return report
    line = (f"{what}: sent {report.sent}, skipped {report.skipped} (already sent), "
            f"refused {len(report.refused)}, deferred {len(report.deferred)}")
    if report.unreached:
        line += ", stopped before the end: run again to continue"
    if problems or not quiet:
        _say(line, err=bool(problems))
    return report


@app.command()
def preview(
    which: Which = None,
    today: Today = None,
    kind: Kind = "announcement",
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="Write message.eml, message.txt, message.html and event.ics here.",
        show_default="the state folder's preview/<id>-<kind>/")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the HTML in the browser.")] = False,
) -> None:
    """Write the message as it would be sent, for a look before sending."""
    from mailer import actions

    store = _store()
    day = actions.parse_day(today, store=store)
    chosen = actions.pick(store, which, day, kind)
    if isinstance(chosen, actions.Nothing):
        _say(chosen.message)
        return
    outgoing = actions.prepare(store, chosen, kind, today=day, need_sender=False)
    assert not isinstance(outgoing, actions.AlreadySent)  # noqa: S101 (skip_if_sent is off)
    for warning in outgoing.warnings:
        _say(f"warning: {warning}", err=True)
    folder = actions.write_preview(_root(), outgoing, out)
    _say(f"Preview of the {kind} of {chosen.id} written to {folder}/")
    if open_:
        import webbrowser

        webbrowser.open((folder / "message.html").resolve().as_uri())


@app.command()
def page(
    which: Which = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="One page per talk (needs --out DIR).")] = False,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="A file (or, with --all, a folder) to write instead of printing.",
        show_default=False)] = None,
) -> None:
    """Print the web page of a talk (Jekyll front matter and Markdown)."""
    from mailer import actions

    store = _store()
    if all_:
        if out is None:
            from mailer.errors import InputError

            raise InputError("page --all: give --out DIR for the pages")
        written = actions.write_all_pages(store, out)
        _say(f"wrote {written} page(s) to {out}/")
        return
    chosen = actions.pick(store, which, actions.parse_day(None, store=store), "announcement") \
        if which is None else store.find(which)
    if isinstance(chosen, actions.Nothing):
        _say(chosen.message)
        return
    _emit(actions.page(store, chosen), out)


@app.command()
def ics(
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="The calendar file to write; default: print it.", show_default=False)] = None,
) -> None:
    """Write one calendar of all talks (a feed to subscribe to)."""
    from mailer import actions

    _emit(actions.feed(_store()), out)


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Every talk, past ones too.")] = False,
    today: Today = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document, for scripts.")] = False,
) -> None:
    """Show upcoming talks: what is still missing and what was sent."""
    from mailer import actions

    store = _store()
    rows = actions.listing(store, actions.parse_day(today, store=store), every=all_)
    if json_:
        import json

        _say(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        _say("No upcoming talks (use --all for past ones).")
    for line in actions.format_listing(rows):
        _say(line)


@app.command()
def program(
    year: Annotated[Optional[int], typer.Argument(  # noqa: UP045
        help="The year; default: every year.", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        help="The page to write; default: print it.", show_default=False)] = None,
) -> None:
    """Write the season's programme as a page: one row per week."""
    from mailer import actions

    _emit(actions.program(_store(), year), out)


@app.command()
def check() -> None:
    """Validate the series, every record, and render every talk with every template."""
    from mailer import actions
    from mailer.errors import InputError

    result = actions.check(_store())
    if result.problems:
        raise InputError("\n".join(result.problems))
    _say(f"ok: series and {result.talks} talk(s) are valid and render")


@app.command()
def new(
    day: Annotated[str, typer.Argument(metavar="DATE", help="The talk's date, YYYY-MM-DD.")],
    speaker: Annotated[str, typer.Option(help="The speaker's full name.")],
    affiliation: Annotated[Optional[str], typer.Option(show_default=False)] = None,  # noqa: UP045
    title: Annotated[Optional[str], typer.Option(show_default=False)] = None,  # noqa: UP045
) -> None:
    """Write a new talk record, seminars/DATE-<slug>.yaml."""
    from mailer import actions

    path = actions.new_talk(_root(), actions.parse_day(day, "DATE"), speaker, affiliation, title)
    _say(f"wrote {path}")


@app.command()
def init(
    folder: Annotated[Optional[Path], typer.Argument(  # noqa: UP045
        metavar="DIR", help="The new series folder.", show_default="the current folder")] = None,
) -> None:
    """Make a new series folder that works at once."""
    from mailer import actions

    made = actions.init_series(folder or _root())
    _say(f"made a new series in {made}/: edit seminars/series.yaml, then try "
         f"`announce --root {made} preview`")


def main() -> None:
    """Run the command line; map errors to exit codes."""
    try:
        app(prog_name="announce")
    except MailerError as exc:
        sys.stdout.flush()
        for line in str(exc).splitlines():
            sys.stderr.write(f"announce: {line}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("announce: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EX_OK)
