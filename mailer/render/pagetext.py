"""User text on the Jekyll page: shown as typed by kramdown, with nothing left for Liquid or
for HTML of the user's own.

Jekyll runs Liquid on the page before kramdown: a ``{{`` or ``{%`` there would be run, and no
Liquid block keeps user text literal (``{% endraw x %}`` ends a raw block too). Then kramdown
reads the Markdown, and where it reads code differently from Python-Markdown (the mail's), a
``<`` that was left alone as code would be HTML. So the page is written from the author's
text with one reading of it, kramdown's: in text, every ``<`` that is not one of the mail's
harmless tags is ``&lt;``, a link leads only to the web (:mod:`usertext`'s rules), every
brace is its entity and no ``![`` or unsafe ``[x]:`` is left for an image or a link; code
and math that hold ``<``, ``&``, a brace or ``]`` become the HTML element kramdown would make
of them, every punctuation mark a character reference. Whether kramdown then reads a piece
as text or as code, no element of the user's can form, and no brace is left.
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
    definition_destination,
    line_kinds,
    protect_text,
    run_end,
    safe_destination,
    text_line,
)

_BRACE_ENTITY = {"{": "&#123;", "}": "&#125;"}
# In the author's text: what is read on its own (escapes, code spans, math, struck text).
_SPANS = re.compile(r"[\\`]|\$\$|~~")
# In text already protected: what kramdown would still read as markup.
_MARKUP = re.compile(r"\\.|[{}]|!\[|\]:")
# Code or math holding one of these would be markup if kramdown read it as text: it is HTML.
_ACTIVE = re.compile(r"[<&{}\]]")
_STRIKE = re.compile(r"~~(?!\s|~).*?[^\s~]~~", re.DOTALL)  # GFM's, as kramdown reads it
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# A line that ends a paragraph before it in kramdown's GFM (a list, heading, quote, fence).
_PARAGRAPH_BREAK = re.compile(r" {0,3}(?:[+*-][\t ]|\d+\.[\t ]|#{1,6}[\t ]|:[\t ]|>|[~`]{3})")
_HEADING = re.compile(r"#{1,6}[\t ]")
_QUOTE = re.compile(r" {0,3}> ?")
# Where a web address would end a Markdown link's destination or a table's cell.
_ADDRESS_ENDS = {ch: f"%{ord(ch):02X}" for ch in "()<>[]| \t\"'`\\"}

Protect = Callable[[str], str]


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


def _markup_left(text: str) -> str:
    """Protected text with no brace, image or unsafe reference definition left for kramdown:
    a brace (``\\{`` too) is its entity, the ``!`` of ``![`` is ``&#33;``, and the ``:`` of
    ``[x]: javascript:...`` is ``&#58;``, wherever they are (in a quote, a list, a heading)."""
    out = []
    at = 0
    while (found := _MARKUP.search(text, at)) is not None:
        start, mark = found.start(), found.group(0)
        out.append(text[at:start])
        at = found.end()
        if mark.startswith("\\"):  # "\{" shows "{": the same as its entity; other escapes stay
            out.append(_BRACE_ENTITY.get(mark[1], mark))
        elif mark in _BRACE_ENTITY:
            out.append(_BRACE_ENTITY[mark])
        elif mark == "![":
            out.append("&#33;")
            at = start + 1
        else:
            safe = safe_destination(definition_destination(text[at:]))
            out.append("]:" if safe else "]&#58;")
    out.append(text[at:])
    return "".join(out)


def _math(text: str, start: int, paragraph: bool) -> tuple[str | None, int]:
    """kramdown's math, ``$$...$$``, at ``start``: kept, or shown as ``\\(...\\)`` in
    references, as kramdown writes it; ``None`` if it is not closed."""
    end = text.find("$$", start + 2)
    if end < 0:
        return None, start + 2
    math = text[start:end + 2]
    if not _ACTIVE.search(math):
        return math, end + 2
    whole = paragraph and not text[:start].strip() and not text[end + 2:].strip()
    opening, closing = ("\\[", "\\]") if whole else ("\\(", "\\)")
    return as_references(opening + math[2:-2] + closing), end + 2


def _span(text: str, start: int, protect: Protect, paragraph: bool) -> tuple[str | None, int]:
    """The code span, math or struck text at ``start``, as the page writes it, and where it
    ends; ``None`` if what is there is text, read on from the position returned."""
    char = text[start]
    if char == "`":
        end = _kramdown_code_span_end(text, start)
        if end < 0:
            return None, run_end(text, start)
        span = text[start:end]
        return (_code_html(span) if _ACTIVE.search(span) else span), end
    if char == "~":  # ~~struck~~: what is inside is read on its own
        struck = _STRIKE.match(text, start)
        if struck is None:
            return None, start + 1
        return "~~" + _inline(struck[0][2:-2], protect) + "~~", struck.end()
    return _math(text, start, paragraph)


def _inline(text: str, protect: Protect, *, paragraph: bool = False) -> str:
    """A paragraph, or a one-line field, of the author's as the page writes it.

    Code spans, math and struck text are found as kramdown reads them; the text between them
    is protected by ``protect`` and then by :func:`_markup_left`. ``paragraph``: the text is
    a paragraph of its own on the page (math that is all of it is a display).
    """
    out = []
    at = text_from = 0
    while (found := _SPANS.search(text, at)) is not None:
        start = found.start()
        if text[start] == "\\":  # an escaped mark is text, read with the text around it
            at = start + 2
            continue
        written, at = _span(text, start, protect, paragraph)
        if written is not None:
            out += [_markup_left(protect(text[text_from:start])), written]
            text_from = at
    out.append(_markup_left(protect(text[text_from:])))
    return "".join(out)


QUOTE = "quote"  # a block of lines that start with ">", as _blocks reads them


def _blocks(lines: list[str], kinds: list[str],
            after_label: bool) -> Iterator[tuple[str, int, int]]:
    """The blocks of the lines, of these kinds, as kramdown reads them: (kind, first line,
    end), for a fence with its lines, indented code with the blank lines inside it and its
    lazy lines, a quote's lines, a paragraph (ended by a line that starts a list, a heading,
    a quote or a fence too), a heading, and each blank line. ``after_label``: the first line
    follows a label on its line (it starts no heading or quote)."""
    at = 0
    while at < len(kinds):
        kind, end = kinds[at], at + 1
        starts_block = bool(at) or not after_label
        if kind == OPENING:
            while end < len(kinds) and kinds[end] == FENCED:
                end += 1
        elif kind == CODE:  # kramdown takes a text line right after code into it, too
            while end < len(kinds) and (kinds[end] in (CODE, BLANK) or
                                        (kinds[end] == TEXT and kinds[end - 1] != BLANK)):
                end += 1
            while kinds[end - 1] == BLANK:
                end -= 1
        elif kind == TEXT and starts_block and _QUOTE.match(lines[at]):
            kind = QUOTE
            while end < len(kinds) and kinds[end] == TEXT and _QUOTE.match(lines[end]):
                end += 1
        elif kind == TEXT and not (starts_block and _HEADING.match(lines[at])):
            while end < len(kinds) and kinds[end] == TEXT and\
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


def _write(lines: list[str], protect: Protect, *, after_label: bool) -> list[str]:
    """The lines of the author's Markdown as the page writes them (see :func:`page_markdown`);
    a quote's lines are written the same way, inside their ``>``."""
    out: list[str] = []
    kinds = line_kinds(lines, after_label=after_label)
    for kind, start, end in _blocks(lines, kinds, after_label):
        block = lines[start:end]
        if kind == QUOTE:
            inner = _write([_QUOTE.sub("", line, count=1) for line in block], protect,
                           after_label=False)
            out += [f"> {line}" if line else ">" for line in inner]
        elif kind == TEXT:
            # After a label, the first paragraph follows it on the page's line.
            paragraph = "\n".join(text_line(line) for line in block)
            out.append(_inline(paragraph, protect, paragraph=start > 0 or not after_label))
        elif kind in (OPENING, CODE) and _ACTIVE.search("\n".join(block)):
            # An HTML block, with a blank line before it and after it. The field's first line
            # follows a label on the page's line, so a block that opens the field has two.
            if after_label and not any(line.strip() for line in out):
                out += [""] * (2 - len(out))
            elif out and out[-1].strip():
                out.append("")
            out += _code_block_html(block[1:-1] if kind == OPENING else block,
                                    indented=kind == CODE)
            if end < len(lines) and lines[end].strip():
                out.append("")
        else:
            out += block
    return out


def page_markdown(text: str, *, literal_emphasis: bool = False) -> str:
    """Return the author's Markdown (an abstract, a bio) as the page writes it, after a label
    on the page's line: see the module's docstring. ``literal_emphasis``: ``*`` and ``_`` show
    as typed (:func:`markup.keep_every_word` says when)."""
    def protect(run: str) -> str:
        return protect_text(run, literal_emphasis=literal_emphasis)

    return "\n".join(_write(text.split("\n"), protect, after_label=True))


def page_plain(text: str) -> str:
    """Return one-line user text (a title, a name) as the page writes it: as typed, but for
    Markdown's emphasis, code and links to the web, as in the mail."""
    return _inline(text, lambda run: protect_text(html.escape(run, quote=False)))


def page_address(url: str) -> str:
    """Return a web address as a link's destination on the page: its braces as entities (a
    browser reads ``&#123;`` in an ``href`` as ``{``), and what would end the destination
    or a table's cell (``()<>[]|``, quotes, white space) percent-encoded."""
    return "".join(_BRACE_ENTITY.get(ch) or _ADDRESS_ENDS.get(ch) or ch for ch in url)
