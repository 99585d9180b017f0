"""Every shell example in docs/ works when pasted: each is run as written.

A page's ```sh (or ```bash) blocks run whole, under ``bash -eu -o pipefail``; in a ```console
block each ``$ `` line is a command and the lines under it are what it prints (stdout and
stderr as a terminal shows them, in order), where a line ``...`` stands for any number of
lines, and ``...`` inside a line for any text. The blocks of one page run in order in a fresh
folder of their own: a copy of the bundled example (``seminars/``) and of the sample archive
(``tests/archive/``, ``tests/plans/``), with the installed ``announce`` on the PATH and a test
SMTP server on loopback as the relay (``ANNOUNCE_SMTP_HOST``, ``_PORT``), so a real send
reaches it.

An example that cannot run here (it needs systemd, a real relay, a web server, your own
series) is preceded by ``<!-- needs: why -->``; it is reported as skipped with that reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from seriesfiles import REPO
from smtpserver import Server

DOCS = REPO / "docs"
RUN = ("sh", "bash", "console")
SHELLS = ("sh", "bash", "console", "shell", "zsh")
NEEDS = re.compile(r"^\s*<!--\s*needs:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w-]*)")


@dataclass(frozen=True)
class Example:
    """One fenced block of a page."""

    page: Path
    line: int
    language: str
    text: str
    needs: str | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Example]:
    """The fenced blocks of a page, each with the reason it is not run, if one is given."""
    found = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = opening.groups()
        before = next((line for line in reversed(lines[:index]) if line.strip()), "")
        needs = NEEDS.match(before)
        body = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][len(indent):] if lines[index].startswith(indent)
                        else lines[index].lstrip())
            index += 1
        found.append(Example(page, index - len(body), language, "\n".join(body) + "\n",
                             needs[1] if needs else None))
        index += 1
    return found


# The README's quick start is run the same way: it is the first page a newcomer pastes from.
PAGES = [REPO / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)]
EXAMPLES = [e for page in PAGES for e in blocks(page) if e.language in SHELLS]
RUNNABLE = sorted({e.page for e in EXAMPLES if e.needs is None})
NOT_RUN = [e for e in EXAMPLES if e.needs is not None]


def _workspace(base: Path) -> Path:
    work = base / "work"
    shutil.copytree(REPO / "seminars", work / "seminars")
    for sample in ("archive", "plans"):
        shutil.copytree(REPO / "tests" / sample, work / "tests" / sample)
    return work


def _env(base: Path, server: Server) -> dict[str, str]:
    announce = Path(sys.executable).parent / "announce"
    if not announce.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{announce} is missing; `make test` installs the package")
        pytest.skip(f"{announce} is missing: install the package (make test does)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ANNOUNCE_") and k not in ("VIRTUAL_ENV", "EDITOR", "VISUAL")}
    home = base / "home"
    home.mkdir()
    env.update(server.env(), HOME=str(home), PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1",
               PATH=f"{announce.parent}:/usr/bin:/bin", ANNOUNCE_RETRY_SECONDS="0")
    return env


def _shell(script: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-eu", "-o", "pipefail", "-c", script], cwd=work, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=180, check=False)


def _line_matches(expected: str, actual: str) -> bool:
    """One line: ``...`` inside it stands for any text."""
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected``, a line ``...`` standing for any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[skip:]) for skip in range(len(actual) + 1))
    return (bool(actual) and _line_matches(expected[0], actual[0])
            and matches(expected[1:], actual[1:]))


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def sessions(text: str) -> list[tuple[str, list[str]]]:
    """A console block as (command, what it prints) pairs."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line.rstrip())
    return [(command, _lines("\n".join(out))) for command, out in found]


def run_example(example: Example, work: Path, env: dict[str, str]) -> None:
    if example.language != "console":
        done = _shell(example.text, work, env)
        assert done.returncode == 0, f"{example.where} exit {done.returncode}:\n{done.stdout}"
        return
    for command, expected in sessions(example.text):
        done = _shell(command, work, env)
        assert done.returncode == 0, f"{example.where}: $ {command}\n{done.stdout}"
        assert matches(expected, _lines(done.stdout)), (
            f"{example.where}: $ {command} printed\n{done.stdout}\nnot\n" + "\n".join(expected))


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(REPO)) for p in RUNNABLE])
def test_the_shell_examples_of_a_page_run_as_written(page: Path, tmp_path: Path,
                                                     smtp_server: Server) -> None:
    work = _workspace(tmp_path)
    env = _env(tmp_path, smtp_server)
    for example in blocks(page):
        if example.language in RUN and example.needs is None:
            run_example(example, work, env)


@pytest.mark.parametrize("example", NOT_RUN, ids=[e.where for e in NOT_RUN])
def test_an_example_that_is_not_run_says_why(example: Example) -> None:
    assert example.needs, f"{example.where}: say what it needs: <!-- needs: ... -->"
    pytest.skip(f"{example.page.relative_to(REPO)}: not run, it needs {example.needs}")


def test_every_shell_example_is_run_or_says_why() -> None:
    assert RUNNABLE, "the docs have shell examples"
    unknown = [e.where for e in EXAMPLES if e.language not in RUN and e.needs is None]
    assert unknown == [], f"write these as ```sh or ```console, or say what they need: {unknown}"


def test_console_blocks_compare_their_output() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "c"], ["a", "b"])
    assert matches(["relay ... (security: none)"], ["relay 127.0.0.1:25 (security: none)"])
    assert not matches(["relay ...:25"], ["relay 127.0.0.1:26"])
    assert sessions("$ x\none\n\n$ y\n") == [("x", ["one"]), ("y", [])]
