"""User text on a Jekyll page is never Liquid: the real Jekyll builds pages full of Liquid tricks.

Jekyll runs Liquid on a page before kramdown, so a ``{{`` or ``{%`` of user text would run
(``{% endraw x %}`` ends a raw block too, so no raw block keeps text literal). The page
writes no brace of user text as a brace: ``&#123;`` in text, and code as the HTML element
kramdown would make of it. Debian's ``jekyll`` (4.3, no plugins, no theme) builds a site
whose ``_config.yml`` holds a secret; every field of a talk carries every trick, and the
built HTML must show each as typed, with no trace of the secret or the config. And kramdown
(which Jekyll runs) shows Markdown with braces in code, math and links the same whether the
braces are typed or written the page's way. kramdown also reads code, quotes, HTML blocks
and its own extensions otherwise than Python-Markdown (the mail's): no HTML element of the
user's may form on the built page but the mail's harmless markup, whatever the field holds.
Locally these tests skip when jekyll (or ruby's kramdown) is absent; CI installs them.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from htmlcheck import shown, visible
from outside import require_tool
from runners import invoke
from seriesfiles import TALK, copy_example, edit, write

from mailer.render.formats import PageFormat
from mailer.render.markup import keep_every_word, literal_emphasis
from mailer.render.usertext import safe_destination

CONFIG = "secret_token: SECRET-VALUE\n"
LAYOUT = "<html><head><title>{{ page.title }}</title></head><body>{{ content }}</body></html>\n"
INCLUDED = "INCLUDED-FILE"  # in _includes/x: shows only if an {% include x %} ran
TRICKS = [  # (typed, what a reader sees)
    ("{% endraw %}",) * 2,
    ("{% endraw x %}{{ site.secret_token }}{% include_relative _config.yml %}{% raw %}",) * 2,
    ("{{ site.secret_token }}",) * 2,
    ("{%- raw -%}",) * 2,
    ("{% comment %}",) * 2,
    ("{{",) * 2,
    ("`{{ site.secret_token }}` in code", "{{ site.secret_token }} in code"),
]
LINE = " and ".join(typed for typed, _ in TRICKS)
LINE_SHOWN = " and ".join(seen for _, seen in TRICKS)
FENCED = "{% include x %}\n{{ site.secret_token }}{% endraw %}"
INDENTED = "{% include_relative _config.yml %} }}"
MARKDOWN = (f"{LINE}\n\n```\n{FENCED}\n```\n\nthen\n\n    " + INDENTED.replace("\n", "\n    ")
            + "\n\nand $$x^{2} + {{ site.secret_token }}$$ in math.")
MARKDOWN_SHOWN = [LINE_SHOWN, FENCED, "then", INDENTED,
                  "and \\(x^{2} + {{ site.secret_token }}\\) in math."]
# A web address has no spaces: the tricks without them.
URL = ("https://example.org/talk?a={%endraw%}{{site.secret_token}}{%raw%}&b={%-raw-%}"
       "{%comment%}{{")


def record(**fields: str) -> str:
    return yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, width=1 << 16)


HOSTILE = {"date": "2024-02-22", "time": "15:00", "status": "confirmed",
           "title": f"Title {LINE}", "speaker": f"Speaker {LINE}",
           "affiliation": f"Affiliation {LINE}", "abstract": MARKDOWN, "bio": MARKDOWN,
           "note": MARKDOWN, "video_link": URL, "recording": URL, "slides": URL}


@pytest.fixture
def series(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "series")
    write(root / "seminars" / TALK, record(**HOSTILE))
    write(root / "seminars" / "2024-02-29-sportlov.yaml",
          record(date="2024-02-29", status="cancelled", note=LINE))
    return root


def build(site: Path, layout: str = LAYOUT) -> Path:
    """Build ``site`` with plain Jekyll and the secret in its config; return ``_site``."""
    jekyll = require_tool("jekyll")
    write(site / "_layouts" / "default.html", layout)
    write(site / "_includes" / "x", INCLUDED)
    write(site / "_config.yml", CONFIG)
    done = subprocess.run([jekyll, "build", "--safe", "-q", "-s", str(site),
                           "-d", str(site / "_site")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return site / "_site"


def assert_nothing_leaked(built: Path) -> None:
    files = [path for path in built.rglob("*") if path.is_file()]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for leak in ("SECRET-VALUE", "secret_token:", INCLUDED):
            assert leak not in text, f"{leak} in {path}"


def flat(text: str) -> str:
    return " ".join(text.split())


def hrefs(document: str) -> list[str]:
    return [value or "" for tag, attrs in visible(document).elements for name, value in attrs
            if tag == "a" and name == "href"]


@pytest.mark.integration
def test_every_field_shows_every_liquid_trick_as_typed(series: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert invoke(series, "check").code == 0
    result = invoke(series, "page", "--all", "--out", str(site))
    assert result.code == 0, result.both
    body = (site / "2024-02-22.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert "{" not in body and "}" not in body
    built = build(site)
    assert_nothing_leaked(built)
    document = (built / "2024-02-22.html").read_text(encoding="utf-8")
    assert flat(document).count(f"<title>Title {LINE}</title>") == 1  # the front matter's
    seen = flat(shown(document))
    assert f"Title: Title {LINE_SHOWN}" in seen
    assert f"Speaker: Speaker {LINE_SHOWN}, Affiliation {LINE_SHOWN}" in seen
    for label in ("Abstract:", "About the speaker:", "Note:"):
        at = seen.index(label)
        for part in MARKDOWN_SHOWN:
            assert flat(part) in seen[at:], (label, part)
            at = seen.index(flat(part), at)
    assert seen.count(f"{URL}") == 3  # the video link, recording and slides, shown
    assert hrefs(document).count(URL) == 3  # and leading there
    assert document.count("<pre><code>") == 6  # each field's fenced and indented block


@pytest.mark.integration
@pytest.mark.parametrize(("page_url", "pages", "program"), [
    ("/talks/", "talks", "program.md"), ("/lm/talks/", "lm/talks", "lm/index.md")])
def test_the_programme_builds_with_its_links_and_the_tricks_as_typed(
        series: Path, tmp_path: Path, page_url: str, pages: str, program: str) -> None:
    edit(series / "seminars" / "series.yaml", ("page:\n", f"page:\n  url: {page_url}\n"))
    # Links to addresses elsewhere: the next test follows the recording and slides links.
    write(series / "seminars" / TALK,
          record(**{k: v for k, v in HOSTILE.items() if k not in ("recording", "slides")}))
    site = tmp_path / "site"
    assert invoke(series, "page", "--all", "--out", str(site / pages)).code == 0
    assert invoke(series, "program", "2024", "--out", str(site / program)).code == 0
    assert "| relative_url }}" in (site / program).read_text(encoding="utf-8")
    built = build(site)
    assert_nothing_leaked(built)
    programme = built / program.replace(".md", ".html")
    document = programme.read_text(encoding="utf-8")
    seen = flat(shown(document))
    assert f"Speaker {LINE_SHOWN}, Affiliation {LINE_SHOWN}" in seen
    assert f"Cancelled: {LINE_SHOWN}" in seen
    url = "/" + program.replace(".md", ".html").removesuffix("index.html")
    talks = [urlsplit(urljoin(f"https://example.org{url}", href)).path
             for href in hrefs(document)]
    assert f"{page_url}2024-02-22.html" in talks
    for path in talks:
        assert (built / path.lstrip("/")).is_file(), path
    page = (built / page_url.strip("/") / "2024-02-22.html").read_text(encoding="utf-8")
    assert f"Title: Title {LINE_SHOWN}" in flat(shown(page))


@pytest.mark.integration
def test_the_programme_keeps_liquid_in_recording_and_slides_addresses_literal(
        series: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert invoke(series, "page", "--all", "--out", str(site)).code == 0
    assert invoke(series, "program", "2024", "--out", str(site / "program.md")).code == 0
    built = build(site)
    assert_nothing_leaked(built)
    assert hrefs((built / "program.html").read_text(encoding="utf-8")).count(URL) == 2


KRAMDOWN = """
require "json"
require "kramdown"
require "kramdown-parser-gfm"
pages = JSON.parse(STDIN.read).map { |text| Kramdown::Document.new(text, input: "GFM").to_html }
puts JSON.dump(pages)
"""
BRACES = [  # Markdown with braces in text, code, math, struck text, headings, lists and links
    "Inline `{{ x }}` code and ``a ` {% y %}`` too; a lone ` {stays} ` mark.",
    "Text first.\n\n```python\ndef f():\n    return {'a': 1}  # {% no %}\n```\n\nafter {}",
    "Text.\n\n    indented {{ code }}\n\n    more }}\n    <eos> {%\n\nThen {text}.",
    "Math $$\\frac{a}{b}$$ inline.\n\n$$x^{2} + {{ y }}$$\n\nand {text}.",
    "~~struck `{{ x }}`~~ and \\{escaped\\} and \\\\{ one backslash.",
    "Para {a}\n# Heading {{ h }}\nnext `{% p %}` line",
    "Items:\n\n- item {{ one }}\n- item `{% two %}`\n1. three {",
    "[link {{ t }}](https://example.org/{a}) and <https://example.org/{b}> and {: .no}",
    "Code over\n`lines {{ a\nb }}` here {::comment} too",
]


def kramdown(texts: list[str]) -> list[str]:
    ruby = require_tool("ruby")
    done = subprocess.run([ruby, "-e", KRAMDOWN], input=json.dumps(texts), capture_output=True,
                          text=True, check=False, timeout=60)
    if "cannot load such file" in done.stderr:
        require_tool("kramdown")  # ruby without the kramdown gems: skip locally, fail in CI
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


@pytest.mark.integration
def test_kramdown_shows_the_page_as_it_shows_the_braces_as_typed() -> None:
    """Without Liquid, kramdown would show the author's Markdown, braces and all: the page
    without braces shows the same (code as code, math as math, every brace where it was)."""
    fmt = PageFormat(literal_emphasis)
    typed = ["**Abstract:** " + keep_every_word(text) for text in BRACES]
    page = ["**Abstract:** " + fmt.md(text) for text in BRACES]
    assert not any("{" in text or "}" in text for text in page)
    for text, want, got in zip(BRACES, *(kramdown(typed), kramdown(page)), strict=True):
        assert "".join(shown(got).split()) == "".join(shown(want).split()), text
        assert hrefs(got) == hrefs(want), text
    [line] = kramdown([f"**Title:** T {fmt.plain(LINE)} and {fmt.link(URL)}"])
    assert f"Title: T {LINE_SHOWN} and {URL}" == flat(shown(line))
    assert hrefs(line) == [URL]


# HTML on the page: kramdown reads code, quotes, HTML blocks and its own extensions otherwise
# than Python-Markdown (the mail's), and Jekyll writes what it makes as it is. No element of
# the user's may form but the mail's harmless markup, and the text shows as typed.
LAYOUT_ESCAPED = LAYOUT.replace("{{ page.title }}", "{{ page.title | escape }}")  # as themes do
INLINE_HTML = [  # (typed, what a reader sees): each a trick in a one-line field, too
    ("<script>alert(1)</script>",) * 2,
    ('<img src=x onerror="alert(2)">',) * 2,
    ('<iframe src="https://evil.example/"></iframe>',) * 2,
    ("<svg onload=alert(3)>",) * 2,
    ("[trap](javascript:alert(4))",) * 2,
    ('<a href="javascript:alert(5)">five</a>',) * 2,
    ("`<b onclick=alert(6)>`", "<b onclick=alert(6)>"),
    ("a ` <script>alert(7)</script> `b",) * 2,
    ("{::nomarkdown}<script>alert(8)</script>{:/}",) * 2,
    ("*x*{: onclick=alert(9)}", "x{: onclick=alert(9)}"),
    ("![pixel](https://tracker.example/p.gif)", "pixel"),
]
INLINE_LINE = " and ".join(typed for typed, _ in INLINE_HTML)
INLINE_SHOWN = " and ".join(seen for _, seen in INLINE_HTML)
HTML_TRICKS = {  # an abstract (bio, note): what a reader sees of it, in order
    "indented first line": ("    <script>alert(11)</script>", ["<script>alert(11)</script>"]),
    "indented after a line break": ("\n    <script>alert(12)</script>",
                                    ["<script>alert(12)</script>"]),
    "code after an html block": ("x\n\n<p>\n\n    <script>alert(13)</script>",
                                 ["x", "<script>alert(13)</script>"]),
    "lone backticks": ("a ` <script>alert(7)</script> `b", ["a ` <script>alert(7)</script> `b"]),
    "code in an html block": ("para\n\n<p>\n`<script>alert(14)</script>`\n</p>",
                              ["para", "<script>alert(14)</script>"]),
    "attribute list after a paragraph": ('para\n{: .x onmouseover="alert(15)"}',
                                         ["para", '{: .x onmouseover="alert(15)"}']),
    "attribute list before a paragraph": ('x\n\n{: onclick="alert(16)"}\npara',
                                          ["x", '{: onclick="alert(16)"}', "para"]),
    "nomarkdown block": ("x\n\n{::nomarkdown}\n<script>alert(17)</script>\n{:/nomarkdown}",
                         ["x", "{::nomarkdown}", "<script>alert(17)</script>",
                          "{:/nomarkdown}"]),
    "raw html block": ('x\n\n<div onmouseover="alert(18)">\n<img src=x onerror=alert(19)>\n'
                       '</div>', ["x", '<div onmouseover="alert(18)">',
                                  "<img src=x onerror=alert(19)>", "</div>"]),
    "fenced code": ("x\n\n```html\n<script>alert(20)</script>\n```",
                    ["x", "<script>alert(20)</script>"]),
    "code in a quote": ("x\n\n> ```\n> <iframe src=https://evil.example/></iframe>\n> ```",
                        ["x", "<iframe src=https://evil.example/></iframe>"]),
    "code in a list": ("x\n\n1. a\n\n    ```\n    <svg onload=alert(21)>\n    ```",
                       ["x", "a", "<svg onload=alert(21)>"]),
    "links": ("[a](javascript:alert(22)) [b](<javascript:alert(23)>) [c][r]\n\n"
              "[r]: javascript:alert(24)",
              ["[a](javascript:alert(22)) [b](<javascript:alert(23)>) [c][r]",
               "[r]: javascript:alert(24)"]),
    "addresses with a tab": ("[d](java\tscript:alert(28)) [t] ![](x/[y](java\tscript:alert(29)))"
                             "\n\n[t]: java\tscript:alert(30)",  # a browser drops the tab
                             ["[d](java script:alert(28)) [t] x/[y](java script:alert(29))",
                              "[t]: java script:alert(30)"]),
    "definition in a quote": ("x\n\n> [q]: javascript:alert(25)\n\n[q]",
                              ["x", "[q]: javascript:alert(25)", "[q]"]),
    "images": ("![pixel](https://t.example/p.gif) ![r2] ![][r2] ![a\\]b](https://t.example/q.gif)"
               "\n\n[r2]: https://t.example/r.gif", ["pixel", "r2", "a]b"]),
    "math and code": ("$$<svg onload=alert(26)>$$ and `<svg/onload=alert(27)>`",
                      ["\\(<svg onload=alert(26)>\\) and <svg/onload=alert(27)>"]),
    "every trick in a line": (INLINE_LINE, [INLINE_SHOWN]),
}


def straight(text: str) -> str:
    """kramdown's typographic quotes as typed."""
    return flat(text).translate(str.maketrans("\u201c\u201d\u2018\u2019", "\"\"''"))


def assert_no_html_of_the_users(document: str) -> None:
    body = document.split("<body>", 1)[1]
    assert "<script" not in body.lower()
    for tag, attrs in visible(body).elements:
        assert tag not in ("script", "style", "iframe", "svg", "img", "object", "embed"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src"):
                assert safe_destination(value or ""), (tag, name, value)


@pytest.mark.integration
def test_no_html_of_the_users_forms_on_the_page_and_the_text_shows_as_typed(
        tmp_path: Path) -> None:
    series = copy_example(tmp_path / "series")
    for old in (series / "seminars").glob("2*.yaml"):
        old.unlink()
    talks = {}
    for number, (abstract, _) in enumerate(HTML_TRICKS.values()):
        day = (date(2024, 1, 4) + timedelta(weeks=number)).isoformat()
        talks[day] = abstract
        write(series / "seminars" / f"{day}-talk.yaml", record(
            date=day, time="15:00", status="confirmed", title=f"Title {INLINE_LINE}",
            speaker=f"Speaker {INLINE_LINE}", abstract=abstract, bio=abstract, note=abstract))
    assert invoke(series, "check").code == 0
    site = tmp_path / "site"
    assert invoke(series, "page", "--all", "--out", str(site)).code == 0
    built = build(site, layout=LAYOUT_ESCAPED)
    assert_nothing_leaked(built)
    for (day, abstract), (name, (_, seen_parts)) in zip(talks.items(), HTML_TRICKS.items(),
                                                       strict=True):
        document = (built / f"{day}.html").read_text(encoding="utf-8")
        assert_no_html_of_the_users(document)
        seen = straight(shown(document.split("<body>", 1)[1]))
        assert f"Title: Title {INLINE_SHOWN}" in seen, name
        assert f"Speaker: Speaker {INLINE_SHOWN}" in seen, name
        for label in ("Abstract:", "About the speaker:", "Note:"):
            at = seen.index(label)
            for part in seen_parts:
                assert straight(part) in seen[at:], (name, label, part, abstract)
                at = seen.index(straight(part), at)


@pytest.mark.integration
def test_the_programme_links_an_address_with_markup_in_it_as_a_web_address(
        series: Path, tmp_path: Path) -> None:
    address = "https://example.org/v?(x)<script>alert(1)</script>|[y]&z={{site.secret_token}}"
    write(series / "seminars" / TALK, record(**{**HOSTILE, "recording": address}))
    site = tmp_path / "site"
    assert invoke(series, "page", "--all", "--out", str(site)).code == 0
    assert invoke(series, "program", "2024", "--out", str(site / "program.md")).code == 0
    built = build(site, layout=LAYOUT_ESCAPED)
    assert_nothing_leaked(built)
    for page in ("program.html", "2024-02-22.html"):
        assert_no_html_of_the_users((built / page).read_text(encoding="utf-8"))
    document = (built / "program.html").read_text(encoding="utf-8")
    encoded = ("https://example.org/v?%28x%29%3Cscript%3Ealert%281%29%3C/script%3E%7C%5By%5D"
               "&z={{site.secret_token}}")
    assert encoded in hrefs(document)
    assert hrefs(document).count(URL) == 1  # the slides
    assert f"Speaker {LINE_SHOWN}, Affiliation {LINE_SHOWN}" in flat(shown(document))


PIECES = ["    ", "\n", "\n\n", "\n    ", "\n> ", "`", "``", "```", "$$", "~~", "> ", "- ", "1. ",
          "x", "y z", "\t", "\\", "&", "&lt;", "&#106;", ":", "]", "(", ")", "[x](", "![", "](",
          "]: ", "[r]", "javascript:alert(1)", "java\tscript:", "<https://x.org>", "<b>", "</b>",
          '<a href="https://x.org">', "</a>", "<p>", "</p>", "<script>", "</script>",
          "<img src=x onerror=alert(2)>", "<svg onload=alert(3)>", "{{", "}}", "{%",
          "{: onclick=x}", "{::nomarkdown}", "{:/}", "*", "_", "|", '"t"']
BROWSER_DROPS = re.compile(r"^[\x00- ]+|[\t\n\r]")  # from an address: leading, and anywhere


@pytest.mark.integration
def test_kramdown_forms_no_html_of_the_users_from_any_mix_of_markup() -> None:
    """Hundreds of mixes of the pieces kramdown and Python-Markdown read differently: the
    page's Markdown holds no brace, and kramdown makes no element, handler or address of
    the user's from it (one field's definitions serve every field of a page, so each page
    has three)."""
    fmt = PageFormat(literal_emphasis)
    mixes = random.Random(2024)
    texts = ["".join(mixes.choice(PIECES) for _ in range(mixes.randint(1, 24)))
             for _ in range(600)]
    pages = [f"**Abstract:** {fmt.md(text)}\n\n**Title:** {fmt.plain(' '.join(text.split()))}"
             f"\n\n**Note:** {fmt.md(text)}" for text in texts]
    assert not any("{" in page or "}" in page for page in pages)
    for text, built in zip(texts, kramdown(pages), strict=True):
        for tag, attrs in visible(built).elements:
            assert tag not in ("script", "style", "iframe", "svg", "img", "object"), text
            for name, value in attrs:
                assert not name.startswith("on"), text
                address = BROWSER_DROPS.sub("", value or "")
                scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", address)
                assert not scheme or scheme[1].lower() in ("http", "https", "mailto"), text
