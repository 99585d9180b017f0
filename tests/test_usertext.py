"""Every word the author wrote reaches the reader of each output (contract §4's rule for user text).

The formatting tags b i em strong sup sub br code a p ul ol li are markup; anything else in
angle brackets is text and shows as typed, in the plain-text part, in the visible text of
the HTML part, and on the web page as Markdown (and, where installed, kramdown) renders it.
"""

from __future__ import annotations

import html as html_module
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import markdown
import pytest
import yaml
from htmlcheck import (
    assert_no_active_content,
    author_words,
    in_order,
    shown,
    subsequence,
    visible,
    without_liquid,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from outside import require_tool
from seriesfiles import TALK, copy_example

from mailer.commands.site import page
from mailer.mail.composing import compose
from mailer.mail.recipients import plan_recipients
from mailer.render.formats import MARKDOWN_EXTENSIONS, MarkdownFormat, PageFormat, TextFormat
from mailer.render.markup import literal_emphasis, markdown_to_html
from mailer.render.usertext import safe_destination
from mailer.series.kinds import Kind
from mailer.series.store import Store

NOW = datetime(2024, 2, 20, 8, 0, tzinfo=UTC)
KRAMDOWN = """
require "kramdown"
require "kramdown-parser-gfm"
puts Kramdown::Document.new(STDIN.read, input: "GFM").to_html
"""
TRICKY = {
    "tokens": "The rank of the <eos> token, then <pad>, <mask> and <unk>: words after stay.",
    "strike": "A sentence <s>inside s tags</s> and a </s> alone.",
    "inequalities": "If x<y and y>z then x<z; also a<-b and i<3.",
    "generics": "Use std::vector<int> and Map<String, List<T>> in C++ and Java.",
    "physics": "The expectation <A> of <B|C> and <a> bare anchor stay.",
    "data": "We trained on training data: it worked. See also javascript: the language.",
    "ampersands": "AT&T, R&D and Q&A & more; &#x27;quoted&#x27; and &amp; written out.",
    "autolink": "Paper: <https://arxiv.org/abs/2401.00001> and mail <info@example.org>.",
    "emoji": "The 🧠BRAINS-45K dataset 🚀 and ünïcödé.",
    "pasted html": ("<p onclick=\"steal()\">Pasted</p> with <script>alert('x')</script> and "
                    "<style>body{}</style> <b>bold</b> <i>it</i> <iframe src=x></iframe> end."),
    "code": "Inline `a<b>` and ``x`<y`` code, then <tag> after.",
    "unclosed": "Backticks ``<eos> ` that no run of their length closes, then <tag>.",
    "fences": "A block:\n\n```\nx<y and <eos>\n```\n\nand one never closed:\n\n```\n<pad> stays",
    "markdown": "*Emphasis*, _under_, **strong**, snake_case_name and a * star.",
    "kramdown": "An {: .attribute list} and a [trap](javascript:alert(1)) link.",
    "liquid": "Template {{ page.title }} and {% raw %} stay as typed.",
    "reference": "[click me][r1] and more.\n\n[r1]: javascript:alert(document.cookie)",
    "schemes": ("[b](<javascript:alert(2)>) [c]( JaVaScRiPt:x) [d](java\\script:y) "
                "[e](data:text/html;base64,PHNjcmlwdD4=) [f](vbscript:z) [g](FILE:///etc/passwd)"),
    "images": "A pixel ![](https://tracker.example/p.gif) and ![x](data:image/png;base64,AAA).",
}


@pytest.fixture
def series_with(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(abstract: str) -> Store:
        root = copy_example(tmp_path / "s")
        record = {"date": "2024-02-22", "speaker": "A", "title": "T", "abstract": abstract,
                  "bio": abstract}
        (root / "seminars" / TALK).write_text(yaml.safe_dump(record, allow_unicode=True),
                                              encoding="utf-8")
        return Store(root)
    return make


@pytest.mark.parametrize("abstract", list(TRICKY.values()), ids=list(TRICKY))
def test_every_word_reaches_every_output(series_with, abstract: str) -> None:  # type: ignore[no-untyped-def]
    store = series_with(abstract)
    talk = store.find("2024-02-22")
    mail = compose(store, talk, Kind.ANNOUNCEMENT, plan_recipients(store.root, store.series.mail),
                   mail=store.series.mail, now=NOW).rendered
    expected = author_words(abstract) * 2  # the abstract, then the bio
    assert in_order(expected, shown(mail.html)), "HTML part"
    assert_no_active_content(mail.html)
    as_typed = html_module.unescape(abstract)  # the text part decodes entities, nothing else
    assert mail.text.count(as_typed) == 2, "text part, as typed"
    body = page(store, talk).split("\n---\n", 1)[1]
    assert "<p>" not in body, "the page was switched to HTML"
    rendered = markdown.markdown(without_liquid(body), extensions=MARKDOWN_EXTENSIONS)
    assert in_order(expected, shown(rendered)), "page"
    assert_no_active_content(rendered)


def test_text_part_decodes_entities_and_keeps_tags_as_typed() -> None:
    assert TextFormat().md("it&#x27;s AT&T &amp; <eos>") == "it's AT&T & <eos>"


def test_the_page_keeps_markdown_as_markdown() -> None:
    """Markdown stays Markdown; code that holds a ``<`` (or ``&``, a brace, a ``]``) is the
    HTML element kramdown makes of it, so that it is code however kramdown reads it."""
    source = "*Deep* learning with `x<y>` and `plain` and [a link](https://example.org) <eos>"
    assert PageFormat(literal_emphasis).md(source) == (
        "*Deep* learning with <code>x&#60;y&#62;</code> and `plain` and "
        "[a link](https://example.org) &lt;eos>")


@pytest.mark.integration
@pytest.mark.parametrize("abstract", list(TRICKY.values()), ids=list(TRICKY))
def test_kramdown_renders_the_page_with_every_word(series_with, abstract: str) -> None:  # type: ignore[no-untyped-def]
    ruby = require_tool("ruby")
    store = series_with(abstract)
    body = page(store, store.find("2024-02-22")).split("\n---\n", 1)[1]
    done = subprocess.run([ruby, "-e", KRAMDOWN], input=without_liquid(body), capture_output=True,
                          text=True, check=False, timeout=60)
    if "cannot load such file" in done.stderr:
        require_tool("kramdown")  # ruby without the kramdown gems: skip locally, fail in CI
    assert done.returncode == 0, done.stderr
    assert in_order(author_words(abstract) * 2, shown(done.stdout))
    assert_no_active_content(done.stdout)


ALPHABET = st.sampled_from([*"abcxyz ABC<>&*_`\n", "https://example.org/p?q=1&r=2 ",
                            "<https://example.org> ", "<eos> ", "<b>", "</b>", "  "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_any_mix_of_brackets_markup_and_urls_keeps_every_word(text: str) -> None:
    expected = author_words(text)
    page = without_liquid(PageFormat(literal_emphasis).md(text))
    outputs = [markdown_to_html(MarkdownFormat(literal_emphasis).md(text))]
    # The page is written for kramdown; Python-Markdown stands in for it here, and the two
    # read a run of backticks that no run of the same length closes differently (kramdown:
    # text; Python-Markdown: a shorter span). Such pages are checked by kramdown itself
    # (TRICKY's "unclosed"), the others here.
    if all(text.count(run) > 1 for run in set(re.findall(r"`+", text))):
        outputs.append(markdown.markdown(page, extensions=MARKDOWN_EXTENSIONS))
    for output in outputs:
        text_shown = shown(output)
        assert in_order(expected, text_shown), "a word was lost"
        assert subsequence(re.sub(r"\W", "", text_shown), re.sub(r"\W", "", text)), "invented"
    assert TextFormat().md(text) == text


LINKS = ("[a](javascript&#58;alert(1)) [b](jav&#x09;ascript:alert(2)) ![logo](https://x.org/l.png) "
         "![ref][l] [ok](https://example.org/a_(b)) [rel](page.html)\n\n[l]: https://x.org/r.png")


def _hrefs(document: str) -> list[str]:
    return [value or "" for tag, attrs in visible(document).elements for name, value in attrs
            if name in ("href", "src")]


def test_links_lead_only_to_the_web_and_images_become_links() -> None:
    mail = markdown_to_html(MarkdownFormat(literal_emphasis).md(LINKS))
    page = markdown.markdown(without_liquid(PageFormat(literal_emphasis).md(LINKS)),
                             extensions=MARKDOWN_EXTENSIONS)
    for output in (mail, page):
        assert_no_active_content(output)
        assert _hrefs(output) == ["https://x.org/l.png", "https://x.org/r.png",
                                  "https://example.org/a_(b)", "page.html"]
        assert "logo" in shown(output) and "ref" in shown(output)


@pytest.mark.integration
def test_kramdown_sees_no_disguised_scheme_on_the_page() -> None:
    ruby = require_tool("ruby")
    page = without_liquid(PageFormat(literal_emphasis).md(LINKS))
    done = subprocess.run([ruby, "-e", KRAMDOWN], input=page,
                          capture_output=True, text=True, check=False, timeout=60)
    if "cannot load such file" in done.stderr:
        require_tool("kramdown")
    assert done.returncode == 0, done.stderr
    assert_no_active_content(done.stdout)
    assert "<img" not in done.stdout
    assert _hrefs(done.stdout) == ["https://x.org/l.png", "https://x.org/r.png",
                                   "https://example.org/a_(b)", "page.html"]


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org", True), ("mailto:a@example.org", True), ("page.html#x", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:x", False), (" javascript:x", False),
    ("javascript&#58;x", False), ("jav&#x09;ascript:x", False), ("java\\:script", False),
    ("javascript\\:x", False), ("<data:text/html,x>", False), ("vbscript:x", False),
    ("file:///etc/passwd", False), ("java\nscript:x", False), ("/path?a=b:c", True),
])
def test_what_counts_as_a_safe_destination(url: str, safe: bool) -> None:
    assert safe_destination(url) is safe
