"""The series on the web as real Jekyll builds it: links, titles, stale pages.

Debian's ``jekyll`` (4.3, no plugins, no theme) builds a site holding the pages and the
programme in three layouts; every link of the programme must reach a built page. Locally the
Jekyll tests skip when jekyll is absent; CI installs it.
"""

from __future__ import annotations

import html.parser
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from outside import require_tool
from runners import invoke
from seriesfiles import copy_example, edit, write

LAYOUT = "<html><head><title>{{ page.title }}</title></head><body>{{ content }}</body></html>\n"


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "series")


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_title = tag == "title"
        self.hrefs += [value for name, value in attrs if tag == "a" and name == "href" and value]

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def read_html(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def build(site: Path, config: str = "") -> Path:
    """Build ``site`` with plain Jekyll (no plugins); return ``_site``."""
    jekyll = require_tool("jekyll")
    write(site / "_layouts" / "default.html", LAYOUT)
    write(site / "_config.yml", config)
    done = subprocess.run([jekyll, "build", "--safe", "-q", "-s", str(site),
                           "-d", str(site / "_site")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return site / "_site"


def reached(built: Path, page_url: str, href: str, baseurl: str = "") -> Path | None:
    """The built file a link on the page at ``page_url`` leads to, if there is one."""
    path = urlsplit(urljoin(f"https://example.org{page_url}", href)).path
    if not path.startswith(baseurl + "/"):
        return None
    path = path[len(baseurl):]
    target = built / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    return target if target.is_file() else None


@pytest.mark.integration
@pytest.mark.parametrize(("page_url", "pages", "program", "config", "program_url"), [
    (None, "lm", "lm/2024.md", "", "/lm/2024.html"),
    ("/talks/", "archive", "program.md", "baseurl: /seminar\npermalink: pretty\n",
     "/seminar/program/"),
    ("/lm/talks/", "lm/talks", "lm/index.md", "", "/lm/"),
])
def test_programme_links_reach_every_page_in_plain_jekyll(
        series: Path, tmp_path: Path, page_url: str | None, pages: str, program: str,
        config: str, program_url: str) -> None:
    if page_url:
        edit(series / "seminars" / "series.yaml", ("page:\n", f"page:\n  url: {page_url}\n"))
    site = tmp_path / "site"
    assert invoke(series, "page", "--all", "--out", str(site / pages)).code == 0
    assert invoke(series, "program", "2024", "--out", str(site / program)).code == 0
    built = build(site, config)
    baseurl = "/seminar" if "baseurl" in config else ""
    rel = program_url[len(baseurl):]
    programme = built / (rel.lstrip("/") + ("index.html" if rel.endswith("/") else ""))
    links = read_html(programme)
    assert links.title == "Learning Machines seminars 2024"
    talks = [href for href in links.hrefs if "2024-" in href]
    assert len(talks) == 5
    for href in talks:
        target = reached(built, program_url, href, baseurl)
        assert target is not None, f"{href} on {program_url} leads nowhere in {built}"
        assert target.name.endswith(".html")
    first = reached(built, program_url, talks[0], baseurl)
    assert first is not None
    assert read_html(first).title ==\
        "Measuring behavior and modeling the brain with machine learning"


def test_a_talk_without_a_title_has_the_series_and_date_as_page_title(series: Path) -> None:
    result = invoke(series, "page", "2024-03-14")
    assert result.code == 0, result.both
    assert "\ntitle: Learning Machines seminar, 2024-03-14\n" in result.out


def test_a_bad_page_url_is_an_error_naming_the_key(series: Path) -> None:
    edit(series / "seminars" / "series.yaml", ("page:\n", "page:\n  url: https://x.org/lm\n"))
    result = invoke(series, "check")
    assert result.code == 2
    assert "series.yaml:14: page.url: 'https://x.org/lm' is not a path on the site" in result.err


def test_page_all_removes_the_pages_it_wrote_for_talks_that_are_gone(series: Path,
                                                                      tmp_path: Path) -> None:
    out = tmp_path / "site"
    own = write(out / "about.md", "---\n---\nOur own page\n")
    own_dated = write(out / "2020-01-01.md", "written by hand\n")
    assert invoke(series, "page", "--all", "--out", str(out)).code == 0
    assert (out / "2024-03-14.md").is_file() and (out / "2024-03-21.md").is_file()
    for talk in ("2024-03-14", "2024-03-21"):
        [record] = (series / "seminars").glob(f"{talk}-*.yaml")
        record.unlink()
    edit(out / "2024-03-21.md", ("---\n", "---\n# edited by hand\n"))
    result = invoke(series, "page", "--all", "--out", str(out))
    assert result.code == 0, result.both
    assert not (out / "2024-03-14.md").exists()
    assert f"removed {out / '2024-03-14.md'}" in result.out
    assert (out / "2024-03-21.md").is_file()
    assert "kept" in result.out and "2024-03-21.md" in result.out
    assert own.is_file() and own_dated.is_file()
    assert (out / "2024-02-22.md").is_file()
    again = invoke(series, "page", "--all", "--out", str(out))
    assert "removed" not in again.out


@pytest.mark.integration
@pytest.mark.parametrize("parser", ["", "kramdown:\n  input: kramdown\n"])
def test_the_programme_is_a_table_with_a_row_a_week_in_plain_jekyll(
        series: Path, tmp_path: Path, parser: str) -> None:
    """kramdown makes a table only after a blank line: Jekyll's default (GFM) parser and
    plain kramdown alike."""
    site = tmp_path / "site"
    assert invoke(series, "program", "2024", "--out", str(site / "program.md")).code == 0
    html = (build(site, parser) / "program.html").read_text(encoding="utf-8")
    assert html.count("<table") == 1, html
    body = html[html.index("<tbody"):html.index("</tbody>")]
    weeks = len(list((series / "seminars").glob("2024-*.yaml")))
    assert body.count("<tr") == weeks == 7
    assert "| Date |" not in html  # no paragraph of pipes
