"""What a document shows and holds, read as a browser would: its visible text and words, the
elements a user's text could have smuggled in, and text checked to leave Liquid nothing."""

from __future__ import annotations

import html.parser
import re


class _Visible(html.parser.HTMLParser):
    """The text a browser shows: every text node, entities decoded, script and style too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_head = tag == "head" or (self.in_head and tag != "body")
        if not self.in_head:  # the layout's own <style> in <head> is ours, not user text
            self.elements.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False

    def handle_data(self, data: str) -> None:
        if not self.in_head:
            self.parts.append(data)


def visible(document: str) -> _Visible:
    parser = _Visible()
    parser.feed(document)
    parser.close()
    return parser


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text)


def shown(document: str) -> str:
    return "".join(visible(document).parts)


def author_words(text: str) -> list[str]:
    """The words of ``text`` once its markup (the formatting tags, entities) is taken away."""
    text = re.sub(r"</?(?:b|i|em|strong|sup|sub|br|code|a|p|ul|ol|li)\s*/?>", " ", text)
    return words(text.replace("&#x27;", "'").replace("&amp;", "&"))


def in_order(needles: list[str], text: str) -> bool:
    """Whether every needle is in ``text``, each after the one before."""
    at = 0
    for needle in needles:
        found = text.find(needle, at)
        if found < 0:
            return False
        at = found + len(needle)
    return True


def subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(char in rest for char in short)


def assert_no_active_content(document: str) -> None:
    for tag, attrs in visible(document).elements:
        assert tag not in ("script", "style", "iframe", "svg", "img", "object"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not re.match(r"\s*(javascript|vbscript|data):", value or "", re.I), value


def without_liquid(body: str) -> str:
    """A talk page's body, checked to hold no brace (so no Liquid tag or output) and returned
    as Jekyll's Liquid leaves it: unchanged. test_liquid.py builds such pages with Jekyll."""
    assert "{" not in body and "}" not in body, "a brace is left for Liquid"
    return body
