"""How each output writes our labels, links and the user's text.

The same template is rendered three times, with one of these helper sets: the web
page (Markdown for Jekyll), the Markdown that becomes the HTML part, and the plain
text part (no Markdown syntax). User text is passed as data, never as template code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

from mailer.render.usertext import (
    BLANK,
    CODE,
    FENCED,
    OPENING,
    TEXT,
    decode_entities,
    line_kinds,
    protect_markdown,
    run_end,
)

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Fenced code blocks, as kramdown (GFM) renders them on the page: a ``` block is code in the
# mail too, so what is in it shows as typed.
MARKDOWN_EXTENSIONS = ["fenced_code"]


def _linkable(url: str) -> bool:
    """Whether an address can be a Markdown link as it is written."""
    return url.startswith(_SAFE_SCHEMES) and not any(ch in url for ch in " <>()[]")


def markdown_to_html(text: str) -> str:
    """Convert Markdown to HTML, keeping harmless markup only (Markdown and nh3 load here)."""
    import markdown

    return sanitize_html(markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS))


def _letters(fragment: str) -> str:
    """The letters and digits a reader sees in an HTML fragment."""
    text = html.unescape(re.sub(r"<[^>]*>", "", fragment))
    return "".join(ch for ch in text if ch.isalnum())


def keep_every_word(text: str) -> str:
    """Return the author's Markdown, protected; emphasis marks made literal if they eat words.

    Emphasis only ever changes how letters look, never which letters show. Python-Markdown
    has inputs ("*a**a*a") where its emphasis rules drop text; for those, the ``*`` and ``_``
    are shown as typed instead, so no word of the author's is lost.
    """
    import markdown

    protected = protect_markdown(text)
    if not any(ch in protected for ch in "*_"):
        return protected
    literal = protect_markdown(text, literal_emphasis=True)
    if _letters(markdown.markdown(protected, extensions=MARKDOWN_EXTENSIONS)) == _letters(
            markdown.markdown(literal, extensions=MARKDOWN_EXTENSIONS)):
        return protected
    return literal


def sanitize_html(fragment: str) -> str:
    """Keep harmless markup; drop scripts, frames, event handlers and unsafe URLs."""
    import nh3

    # No <img> from user text: the mail loads nothing from elsewhere (usertext turns Markdown
    # images into links; this keeps any other way in shut too).
    return nh3.clean(fragment, tags=nh3.ALLOWED_TAGS - {"img"}, url_schemes=_ALLOWED_URL_SCHEMES,
                     link_rel="noopener noreferrer")


# The Jekyll page: Liquid runs on it before kramdown, so no brace of user text may be left
# there as a character. What follows writes the Markdown so that kramdown shows the same.

_BRACE_ENTITY = {"{": "&#123;", "}": "&#125;"}
_BRACE_WORK = re.compile(r"[\\`{}]|\$\$|~~")
_STRIKE = re.compile(r"~~(?!\s|~).*?[^\s~]~~", re.DOTALL)  # GFM's, as kramdown reads it
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# A line that ends a paragraph before it in kramdown's GFM (a list, heading, quote, fence).
_PARAGRAPH_BREAK = re.compile(r" {0,3}(?:[+*-][\t ]|\d+\.[\t ]|#{1,6}[\t ]|:[\t ]|>|[~`]{3})")
_HEADING = re.compile(r"#{1,6}[\t ]")


def _has_brace(text: str) -> bool:
    return "{" in text or "}" in text


def as_references(text: str) -> str:
    """Text as an HTML element's content shows it: every ASCII punctuation mark a character
    reference, so no renderer reads markup, Markdown, Liquid or an entity in it."""
    return _PUNCTUATION.sub(lambda m: f"&#{ord(m.group(0))};", text)


def _kramdown_code_span_end(text: str, at: int) -> int:
    """Return where the code span opened by the backticks at ``at`` ends, or -1 if none.

    As kramdown (the page's renderer) reads them: a run of N backticks closes at the next N
    backticks, even within a longer run; a lone backtick with white space on both sides is text.
    """
    ticks = run_end(text, at) - at
    before = text[at - 1] if at > 0 else " "  # a field starts after a label, or a line break
    if ticks == 1 and before.isspace() and text[at + 1:at + 2].isspace():
        return -1
    end = text.find("`" * ticks, at + ticks)
    return end + ticks if end >= 0 else -1


def _code_html(span: str) -> str:
    """A code span (with its backticks) as the ``<code>`` element that shows the same."""
    ticks = run_end(span, 0)
    code = span[ticks:-ticks]
    if ticks > 1:  # kramdown drops one space on each side
        code = code.removeprefix(" ").removesuffix(" ")
    return "<code>" + as_references(code.replace("\n", " ")) + "</code>"


def _braces_inline(text: str, *, paragraph: bool = False) -> str:
    """A paragraph, or a one-line field, with no brace left: see :func:`without_braces`.

    ``paragraph``: the text is a paragraph of its own on the page (math that is all of it is
    a display).
    """
    out = []
    at = 0
    while (found := _BRACE_WORK.search(text, at)) is not None:
        start = found.start()
        out.append(text[at:start])
        char = text[start]
        if char == "\\":  # "\{" shows "{": the same as its entity; other escapes stay
            escaped = text[start + 1:start + 2]
            out.append(_BRACE_ENTITY.get(escaped, text[start:start + 2]))
            at = start + 2
        elif char == "`":
            end = _kramdown_code_span_end(text, start)
            at = end if end > 0 else run_end(text, start)
            span = text[start:at]
            out.append(_code_html(span) if end > 0 and _has_brace(span) else span)
        elif char == "~":  # ~~struck~~: what is inside is read on its own
            struck = _STRIKE.match(text, start)
            out.append("~~" + _braces_inline(struck[0][2:-2]) + "~~" if struck else "~")
            at = struck.end() if struck else start + 1
        elif char == "$":  # kramdown's math, $$...$$: shown as \(...\), entities and all
            end = text.find("$$", start + 2)
            if end < 0:
                out.append("$$")
                at = start + 2
                continue
            at = end + 2
            math = text[start:at]
            whole = paragraph and not text[:start].strip() and not text[at:].strip()
            opening, closing = ("\\[", "\\]") if whole else ("\\(", "\\)")
            out.append(as_references(opening + math[2:-2] + closing) if _has_brace(math)
                       else math)
        else:
            out.append(_BRACE_ENTITY[char])
            at = start + 1
    out.append(text[at:])
    return "".join(out)


def _blocks(lines: list[str], kinds: list[str]) -> Iterator[tuple[str, int, int]]:
    """The blocks of the lines, of these kinds, as kramdown reads them: (kind, first line,
    end), for a fence with its lines, indented code with the blank lines inside it and its
    lazy lines, a paragraph (ended by a line that starts a list, a heading, a quote or a
    fence too), a heading (not the first line, which follows a label), and each blank line."""
    at = 0
    while at < len(kinds):
        kind, end = kinds[at], at + 1
        if kind == OPENING:
            while end < len(kinds) and kinds[end] == FENCED:
                end += 1
        elif kind == CODE:  # kramdown takes a text line right after code into it, too
            while end < len(kinds) and (kinds[end] in (CODE, BLANK) or
                                        (kinds[end] == TEXT and kinds[end - 1] != BLANK)):
                end += 1
            while kinds[end - 1] == BLANK:
                end -= 1
        elif kind == TEXT and not (at and _HEADING.match(lines[at])):  # a heading: one line
            while end < len(kinds) and kinds[end] == TEXT and \
                    not _PARAGRAPH_BREAK.match(lines[end]):
                end += 1
        yield kind, at, end
        at = end


def _code_block_html(lines: list[str], *, indented: bool) -> list[str]:
    """A code block's lines as the ``<pre><code>`` element that shows the same."""
    if indented:
        lines = [line[1:] if line.startswith("\t") else line.removeprefix("    ")
                 for line in lines]
    return ["<pre><code>" + as_references("\n".join(lines)), "</code></pre>"]


def without_braces(text: str, *, inline: bool = False) -> str:
    """Return the Markdown (protected, from :func:`protect_markdown`) showing the same text on
    a kramdown page, with no ``{`` or ``}`` character left in it.

    In text a brace is written as its entity (``&#123;``, ``&#125;``); code, where an entity
    would show as typed, becomes the HTML element Markdown would make of it (``<code>``,
    ``<pre><code>``) with every punctuation mark a character reference, and so does kramdown's
    math (``$$...$$``, which kramdown writes as ``\\(...\\)``). ``inline`` is for a one-line
    field, which sits inside a line of the page. Text without braces is returned unchanged.
    """
    if not _has_brace(text):
        return text
    if inline:
        return _braces_inline(text)
    lines = text.split("\n")
    out: list[str] = []
    for kind, start, end in _blocks(lines, line_kinds(lines, after_label=True)):
        block = lines[start:end]
        if kind == TEXT:
            # The first paragraph follows a label on the page's line.
            out.append(_braces_inline("\n".join(block), paragraph=start > 0))
        elif kind in (OPENING, CODE) and _has_brace("\n".join(block)):
            # An HTML block, with a blank line before it and after it. The field's first line
            # follows a label on the page's line, so a block that opens the field has two.
            if not any(line.strip() for line in out):
                out += [""] * (2 - len(out))
            elif out[-1].strip():
                out.append("")
            out += _code_block_html(block[1:-1] if kind == OPENING else block,
                                    indented=kind == CODE)
            if end < len(lines) and lines[end].strip():
                out.append("")
        else:
            out += block
    return "\n".join(out)


class MarkdownFormat:
    """Helpers for Markdown output (the HTML part's source).

    ``checked=False`` skips :func:`keep_every_word` (which loads Markdown): ``check``
    renders the templates to find template mistakes, not to read the words.
    """

    bullet_mark = "* "

    def __init__(self, *, checked: bool = True) -> None:
        self.checked = checked

    def _protect(self, text: str) -> str:
        return keep_every_word(text) if self.checked else protect_markdown(text)

    def label(self, name: str) -> str:
        """A bold label: ``**Title:**``."""
        return f"**{self.plain(name)}:**"

    def plain(self, text: str) -> str:
        """One-line user text (a title, a name)."""
        return html.escape(text, quote=False)

    def md(self, text: str) -> str:
        """Markdown user text (an abstract, a bio): only the formatting tags are markup."""
        return self._protect(text)

    def link(self, url: str) -> str:
        """A link that shows its address."""
        if _linkable(url):
            return f"[{url}]({url})"
        return self.plain(url)

    def bullet(self) -> str:
        """The start of a list item."""
        return self.bullet_mark

    def helpers(self) -> dict[str, Callable[..., str]]:
        """The helpers as the templates see them."""
        return {"label": self.label, "plain": self.plain, "md": self.md, "link": self.link,
                "bullet": self.bullet}


class PageFormat(MarkdownFormat):
    """Helpers for the Jekyll page: Markdown, with HTML sanitized and no brace of user text.

    Jekyll runs Liquid on the page before Markdown: a ``{{`` or ``{%`` there would be run, and
    no Liquid block keeps user text literal (``{% endraw x %}`` ends a raw block too). So no
    ``{`` or ``}`` of user text is left as a character (see :func:`without_braces`): kramdown
    shows ``&#123;`` as ``{``, and code as the HTML element it would make of it.
    """

    def plain(self, text: str) -> str:
        """One-line user text, its braces written as entities."""
        return without_braces(super().plain(text), inline=True)

    def md(self, text: str) -> str:
        """Markdown user text, kept as Markdown; its braces written as entities."""
        return without_braces(self._protect(text))

    def link(self, url: str) -> str:
        """A link, its braces written as entities (in the address too: a browser reads
        ``&#123;`` in an ``href`` as ``{``)."""
        if not _linkable(url) or not ("{" in url or "}" in url):
            return super().link(url)
        href = url.replace("{", "&#123;").replace("}", "&#125;")
        return f"[{as_references(url)}]({href})"


class TextFormat(MarkdownFormat):
    """Helpers for the plain-text part: no Markdown syntax, user text as written."""

    bullet_mark = "- "

    def label(self, name: str) -> str:
        """A label: ``Title:``."""
        return f"{name}:"

    def plain(self, text: str) -> str:
        """User text as written."""
        return text

    def md(self, text: str) -> str:
        """Markdown user text as written, its entities decoded (``&#x27;`` reads ``'``)."""
        return decode_entities(text)

    def link(self, url: str) -> str:
        """A bare address."""
        return url
