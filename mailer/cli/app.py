"""The Typer app: the global options, errors mapped to exit codes, and what commands share.

Errors are mapped to exit codes inside the app (:class:`AnnounceGroup`), so a test
through ``typer.testing.CliRunner`` sees 0, 1, 2 and 75 as a shell would.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

try:
    from typer._click.exceptions import UsageError  # Typer 0.26 vendors Click here
except ImportError:  # pragma: no cover - Typer 0.24 and 0.25 use Click itself
    from click.exceptions import UsageError  # type: ignore[assignment]

from mailer.errors import EX_OK, MailerError
from mailer.series.kinds import Kind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mailer.commands.environment import Settings
    from mailer.commands.output import Line
    from mailer.series.store import Store

GLOBAL_OPTIONS = ("--root", "--version", "--verbose")


class AnnounceGroup(TyperGroup):
    """Map announce's errors to exit codes, and explain a global option given too late."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; print a MailerError as ``announce: ...`` and exit with its code."""
        try:
            return super().invoke(ctx)
        except MailerError as exc:
            sys.stdout.flush()
            # A message quotes the user's text: never let an unprintable character in it
            # turn the error into a traceback.
            text = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
            for line in text.splitlines():
                typer.echo(f"announce: {line}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except UsageError as exc:
            option = getattr(exc, "option_name", None)
            if option in GLOBAL_OPTIONS:
                value = " DIR" if option == "--root" else ""
                exc.possibilities = []  # type: ignore[attr-defined]
                exc.message = (
                    f"{option} is an option of announce itself, so it goes before the command: "
                    f"announce {option}{value} {ctx.invoked_subcommand} ...")
            raise


app = typer.Typer(
    name="announce",
    cls=AnnounceGroup,
    help="Announce a weekly seminar: email, web page and calendar from one YAML record per talk.",
    no_args_is_help=True,
    rich_markup_mode=None,
    # Rich tracebacks print local variables; never risk showing a password that way.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class Session:
    """What every command shares: the series folder and the moment the command started."""

    root: Path
    now: datetime

    def store(self) -> Store:
        """The series folder's records."""
        from mailer.series.store import Store

        return Store(self.root)

    def settings(self, store: Store) -> Settings:
        """What the command runs with: the state folder, and the mail settings with the
        environment's overrides (resolved here, once, and passed down)."""
        from mailer.commands.environment import resolve

        return resolve(self.root, store.series.mail)

    @property
    def state(self) -> Path:
        """The state folder (``ANNOUNCE_STATE_DIR`` or ``<root>/.announce``)."""
        from mailer.commands.environment import state_dir

        return state_dir(self.root)

    def moment(self, store: Store, given: datetime | None) -> datetime:
        """``--now`` (a time without a zone is the series' local time), or the clock."""
        if given is None:
            return self.now
        return given if given.tzinfo else given.replace(tzinfo=store.series.zone)

    def today(self, store: Store, given: date | None, now: datetime | None = None) -> date:
        """``--today``, or today's date in the series' time zone."""
        from mailer.series.schedule import local_today

        return given or local_today(now or self.now, store.series.zone)


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None
    _in_range(text, day)
    return day


def _in_range(text: str, day: date) -> None:
    """A day in the years a talk may have (so no command overflows)."""
    from mailer.series.yamlfile import out_of_range

    why = out_of_range(day)
    if why is not None:
        raise typer.BadParameter(f"{text!r} {why}")


def parse_clock(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time of day (HH:MM)") from None


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM, "
                                 "optionally with a UTC offset)") from None
    _in_range(text, moment.date())
    return moment


def _complete_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """Complete talk ids for WHICH, from the file names of the series folder."""
    from mailer.series.store import Store

    root = ctx.find_root().params.get("root") or Path(os.environ.get("ANNOUNCE_ROOT", "."))
    try:
        return [i for i in Store(Path(root)).ids() if i.startswith(incomplete)]
    except (MailerError, OSError):
        return []


Which = Annotated[Optional[str], typer.Argument(  # noqa: UP045 (Typer reads the annotation)
    help="A talk's id (2024-02-22-mathis) or date (2024-02-22); default: this week's seminar.",
    show_default=False, autocompletion=_complete_ids)]
Today = Annotated[Optional[date], typer.Option(  # noqa: UP045
    parser=parse_day, metavar="DATE", help="Act as if today were this date (YYYY-MM-DD).",
    show_default=False)]
Now = Annotated[Optional[datetime], typer.Option(  # noqa: UP045
    "--now", parser=parse_moment, metavar="DATETIME", show_default=False,
    help="Act as if it were this moment (2024-02-16T08:00, series time unless it has an "
         "offset).")]
KindOption = Annotated[Kind, typer.Option(help="Which mail.", case_sensitive=False)]
Out = Annotated[Optional[Path], typer.Option(  # noqa: UP045
    help="The file to write; default: print it.", show_default=False)]


def examples(*lines: str) -> str:
    """An ``Examples:`` epilog, laid out as written (``\\b`` stops Click rewrapping it)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def _version(value: bool) -> None:
    if value:
        from mailer.version import version

        typer.echo(f"announce {version()}")
        raise typer.Exit()


@app.callback(epilog=examples("announce send --dry-run", "announce --root ~/seminar list",
                               "announce send --help"))
def _main(
    ctx: typer.Context,
    root: Annotated[Path, typer.Option(
        envvar="ANNOUNCE_ROOT", help="The series folder (holds seminars/).",
        show_default="the current folder")] = Path(),
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show the dialogue with the SMTP server on standard error "
                                "(credentials shown as ****).")] = False,
) -> None:
    """Announce a weekly seminar: email, web page and calendar from one YAML record per talk."""
    from mailer import trace

    trace.start(_to_stderr if verbose else None)
    ctx.obj = Session(root=root, now=datetime.now(UTC))


def _to_stderr(line: str) -> None:
    sys.stderr.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    sys.stderr.flush()


def session_of(ctx: typer.Context) -> Session:
    session = ctx.obj
    assert isinstance(session, Session)  # noqa: S101 (set by the callback above)
    return session


def say(text: str = "", *, err: bool = False) -> None:
    typer.echo(text, err=err)


def print_lines(lines: Iterable[Line]) -> None:
    for line in lines:
        say(line.text, err=line.err)


def emit(text: str, out: Path | None) -> None:
    """Print ``text``, or write it whole to ``out``."""
    if out is None:
        sys.stdout.write(text)
        return
    from mailer.paths import write_atomically

    write_atomically(out, text.encode("utf-8"))
    say(f"wrote {out}")


def main() -> None:
    """Run the command line (the ``announce`` entry point)."""
    try:
        app(prog_name="announce")
    except BrokenPipeError:  # `announce page | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EX_OK)
