"""The command line itself: help and examples, typed options, completion, exit codes, imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from runners import invoke
from seriesfiles import REPO
from smtpserver import Server, free_port

from mailer.cli import app
from mailer.version import version

COMMANDS = ["send", "ask", "preview", "page", "ics", "list", "program", "check", "new", "move",
            "init", "template", "import", "images", "inbox", "subscribers", "serve"]
RENDERING = {"markdown", "premailer", "icalendar", "nh3", "cssutils", "lxml"}


def test_every_command_has_help_text_and_examples(series: Path) -> None:
    group = typer.main.get_command(app)
    assert sorted(group.commands) == sorted(COMMANDS)  # type: ignore[attr-defined]
    for name in COMMANDS:
        result = invoke(series, name, "--help")
        assert result.code == 0, name
        assert "Usage: announce " + name in result.out
        first_line = group.commands[name].help.strip().splitlines()[0]  # type: ignore[attr-defined]
        assert " ".join(first_line.split()) in " ".join(result.out.split()), name
        examples = result.out.split("Examples:", 1)[1].splitlines()
        assert any(line.strip().startswith("announce ") for line in examples), name


def test_kind_is_a_choice_and_a_bad_one_is_a_usage_error(series: Path) -> None:
    shown = " ".join(invoke(series, "send", "--help").out.split())
    assert "--kind [announcement|reminder|request|brief|cancellation|update|followup|changed]"\
        in shown
    bad = invoke(series, "send", "--kind", "remind")
    assert bad.code == 2
    assert "'remind' is not one of 'announcement', 'reminder', 'request'" in bad.err


def test_dates_are_typed(series: Path) -> None:
    result = invoke(series, "send", "--today", "22.02.2024")
    assert result.code == 2
    assert "Invalid value for '--today': '22.02.2024' is not a date (YYYY-MM-DD)" in result.err


@pytest.mark.parametrize("args", [("preview", "--today", "9999-12-31"),
                                  ("send", "--due", "--now", "9999-12-31T23:00"),
                                  ("send", "--due", "--now", "0001-01-01T00:00"),
                                  ("list", "--today", "1899-12-31")])
def test_days_outside_1900_to_2200_are_refused_not_overflowed(series: Path,
                                                              args: tuple[str, ...]) -> None:
    result = invoke(series, *args)
    assert result.code == 2
    assert "is not in the years 1900 to 2200" in result.err and "Traceback" not in result.both


def test_the_version_is_the_one_in_pyproject(series: Path) -> None:
    import tomllib

    written = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert version() == written["project"]["version"]
    assert invoke(series, "--version").out.strip() == f"announce {version()}"


def test_a_global_option_after_the_command_gets_a_hint(series: Path) -> None:
    result = invoke(series, "check", "--root", str(series))
    assert result.code == 2
    assert ("--root is an option of announce itself, so it goes before the command: "
            "announce --root DIR check ...") in result.err


def test_exit_codes_are_mapped_inside_the_app(series: Path, smtp_server: Server) -> None:
    assert invoke(series, "check").code == 0
    assert invoke(series, "page", "2031-01-01").code == 2
    unreachable = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                         ANNOUNCE_SMTP_HOST="127.0.0.1", ANNOUNCE_SMTP_PORT=str(free_port()))
    assert unreachable.code == 75
    assert unreachable.err.startswith("cannot reach the SMTP server 127.0.0.1:")
    smtp_server.sink.faults.rcpt = lambda address: "550 5.1.1 no such user"
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 1


def test_completion_is_installable_and_completes_talk_ids(series: Path) -> None:
    assert "--install-completion" in invoke(series, "--help").out
    result = invoke(series, "page", "2024-03", _TYPER_COMPLETE_ARGS="announce page 2024-03",
                    _ANNOUNCE_COMPLETE="complete_bash", COMP_WORDS="announce page 2024-03",
                    COMP_CWORD="2")
    assert result.code == 0, result.both
    assert result.out.split() == ["2024-03-07-up-for-grabs", "2024-03-14-martinez-balvanera",
                                  "2024-03-21-gustafsson", "2024-03-28-xu"]


def imported(root: Path, *args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "mailer", *args],
                          capture_output=True, text=True, cwd=root, check=False)
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    return modules, done


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check"]])
def test_help_version_and_check_do_not_load_the_rendering_stack(args: list[str]) -> None:
    modules, done = imported(REPO, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "typer" in modules
    assert not (modules & RENDERING), sorted(modules & RENDERING)
    if args == ["check"]:
        assert done.stdout.startswith("ok: series and 7 talk(s) are valid and render")
    else:
        assert not {"jinja2", "yaml"} & modules


def test_dry_run_loads_no_mail_transport_or_http() -> None:
    modules, done = imported(REPO, "send", "2024-02-22", "--dry-run")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "premailer.premailer" in modules
    assert not {"smtplib", "requests", "mailer.net.smtpsession", "pydantic"} & modules
