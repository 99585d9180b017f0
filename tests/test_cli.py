"""The command line itself: help for every command, the version, and what each command imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run

from mailer import __version__
from mailer.cli import app

COMMANDS = ["send", "preview", "page", "ics", "list", "program", "check", "new", "init"]
RENDERING = {"markdown", "premailer", "icalendar", "nh3", "cssutils", "lxml"}


def test_every_command_has_help_text(series: Path) -> None:
    import typer.main

    group = typer.main.get_command(app)
    assert sorted(group.commands) == sorted(COMMANDS)  # type: ignore[attr-defined]
    for name in COMMANDS:
        result = run(series, name, "--help")
        assert result.code == 0, name
        assert "Usage: announce " + name in result.out
        first_line = group.commands[name].help.strip().splitlines()[0]  # type: ignore[attr-defined]
        assert " ".join(first_line.split()) in " ".join(result.out.split()), name


def test_version(series: Path) -> None:
    assert run(series, "--version").out.strip() == f"announce {__version__}"


def imported(root: Path, *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "mailer", *args],
                          capture_output=True, text=True, cwd=root, check=False)
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check"]])
def test_help_version_and_check_do_not_load_the_rendering_stack(args: list[str]) -> None:
    modules = imported(REPO, *args)
    assert "typer" in modules
    assert not (modules & RENDERING), sorted(modules & RENDERING)
    if args != ["check"]:
        assert not {"jinja2", "yaml"} & modules


def test_dry_run_loads_no_mail_transport_or_http() -> None:
    modules = imported(REPO, "send", "2024-02-22", "--dry-run")
    assert "premailer.premailer" in modules
    assert not {"smtplib", "requests", "mailer.transport", "pydantic"} & modules
