"""The documentation site in docs/: its generated pages are current, it builds strictly, and
every link between its pages leads somewhere.

``docs/generate.py`` writes the command-line reference (walked from the Typer app) and the
reference of every ``series.yaml`` and record key (the schema's keys, the model's defaults);
here they are made again in memory and compared with the committed pages. The strict build
(``sphinx-build -W``, as ``make docs`` runs it) needs the docs extra (``.[docs]``): without it
the build test skips, and under CI, which installs it, fails.
"""

from __future__ import annotations

import html.parser
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import pytest
import typer.main
from outside import require_module
from seriesfiles import REPO

from mailer.cli import app

DOCS = REPO / "docs"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GENERATE = generator()


@pytest.mark.parametrize("page", sorted(GENERATE.PAGES), ids=lambda p: p.name)
def test_a_generated_page_is_what_the_code_gives(page: Path) -> None:
    wanted = GENERATE.PAGES[page]()
    assert page.read_text(encoding="utf-8") == wanted, (
        f"{page.relative_to(REPO)} is stale: run `python docs/generate.py` (make docs does)")


def test_every_command_has_its_section_in_the_cli_reference() -> None:
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## `announce ?([a-z-]*)`$", page, re.M))
    group = typer.main.get_command(app)
    commands = {name for name, command in group.commands.items()  # type: ignore[attr-defined]
                if not command.hidden}
    assert commands, "the app has commands"
    assert commands | {""} == sections
    for name in commands:
        options = {o for p in group.commands[name].params  # type: ignore[attr-defined]
                   for o in p.opts if o.startswith("--") and not getattr(p, "hidden", False)}
        section = page.split(f"## `announce {name}`", 1)[1].split("\n## ", 1)[0]
        assert all(f"`{o}" in section or f" {o}" in section for o in options), name


def test_every_schema_key_has_its_row_and_no_row_is_made_up() -> None:
    series, record = GENERATE.schema_keys()
    assert {k.path for k in GENERATE.series_keys()} == series
    assert {k.path for k in GENERATE.record_keys()} == record


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    code = "".join(p.read_text(encoding="utf-8") for p in (REPO / "mailer").rglob("*.py"))
    used = set(re.findall(r"\b(ANNOUNCE_[A-Z_]*[A-Z])\b", code))
    page = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(ANNOUNCE_[A-Z_]+)`", page))
    assert used - documented == set()


def test_the_generator_run_as_a_script_finds_nothing_stale() -> None:
    done = subprocess.run([sys.executable, str(DOCS / "generate.py"), "--check"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


class _Links(html.parser.HTMLParser):
    """The ids of a page and the links it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for key in ("href", "src"):
            if (tag, key) in {("a", "href"), ("img", "src"), ("link", "href"),
                              ("script", "src")} and found.get(key):
                self.links.append(str(found[key]))


def broken_links(site: Path) -> list[str]:
    """Every link between the built pages (and to their files) that leads nowhere: a missing
    file, or an anchor the page does not have."""
    pages: dict[Path, _Links] = {}
    for path in site.rglob("*.html"):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    broken = []
    for path, parser in pages.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("mailto:"):
                continue  # outside the site: not checked (no network)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html" and (
                    unquote(parts.fragment) not in pages[target].ids):
                broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    return broken


@pytest.mark.integration
def test_the_site_builds_strictly_and_every_internal_link_leads_somewhere(
        tmp_path: Path) -> None:
    require_module("sphinx", "make docs installs the docs extra, pip install -e '.[docs]'")
    require_module("myst_parser", "the docs extra")
    require_module("furo", "the docs extra")
    site = tmp_path / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(site)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "reference" / "cli.html").is_file()
    assert (site / "_images" / "mail.png").is_file() or (site / "_static" / "mail.png").is_file()
    assert broken_links(site) == []


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<p id="here"><a href="b.html#gone">x</a>'
                                     '<a href="c.html">y</a><a href="#here">z</a>'
                                     '<a href="https://example.org/">w</a></p>')
    (tmp_path / "b.html").write_text('<h1 id="there">b</h1>')
    assert broken_links(tmp_path) == ["a.html: b.html#gone (no such anchor)",
                                      "a.html: c.html (no such file)"]
