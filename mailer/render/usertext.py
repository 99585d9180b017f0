"""The rule for user text (contract §4): which angle brackets are markup, and entities.

Abstracts and bios are Markdown. The formatting tags ``b i em strong sup sub br code a
p ul ol li`` (in lower case; ``a`` with a web or mail link, the others without attributes)
and autolinks (``<https://...>``) are markup; anything else in angle brackets is text and
shows as typed: ``<eos>``, ``x<y and y>z``, ``std::vector<int>``, ``<script>``, and an
expectation ``<A>``. Code spans and code blocks are left alone: Markdown
shows them literally already. The result is still the author's Markdown, with every
non-markup ``<`` written as ``&lt;``, which every Markdown renderer (Python-Markdown for
the HTML part, kramdown for a Jekyll page) shows as ``<``. Two more things would not show
as typed, so they are escaped the same way: a link to a ``javascript:`` (or any scheme but
http, https and mailto) stays text, and kramdown's attribute lists (``{: ...}``) stay text.

A Jekyll page is read by kramdown, after Liquid: :mod:`pagetext` writes the author's text
for it with these rules and kramdown's reading of code, no brace left for Liquid.
"""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = frozenset({"b", "i", "em", "strong", "sup", "sub", "br", "code", "a", "p", "ul",
                          "ol", "li"})
SAFE_URL = re.compile(r"(?i)(https?://|mailto:)[^\s\"'<>`]+")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s[^<>]*?)?)\s*/?>")
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z_:][-A-Za-z0-9_:.]*)"""
                        r"""(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_AUTOLINK = re.compile(r"<(?:(?:https?://|mailto:)[^\s<>]+|[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+"
                       r"(?:\.[\w-]+)+)>")
_FENCE = re.compile(r"(`{3,}|~{3,})")  # at the line's start, as both renderers read it
_LIST_ITEM = re.compile(r" {0,3}(?:[*+-]|\d{1,9}[.)])(?:\s|$)")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SPECIAL = re.compile(r"[\\`<]|\]\(|\{:|!\[")
_SPECIAL_AND_EMPHASIS = re.compile(r"[\\`<*_]|\]\(|\{:|!\[")
_TEXT_SPECIAL = re.compile(r"[\\<]|\]\(|\{:|!\[")  # text known to hold no code span
_TEXT_SPECIAL_AND_EMPHASIS = re.compile(r"[\\<*_]|\]\(|\{:|!\[")
_IMAGE = re.compile(r"!\[([^\]\n]*)\](?=[(\[])")
_REFERENCE = re.compile(r"( {0,3})\[[^\]\n]+\]:(.*)")
_TITLE = re.compile(r"""\s+(?:"[^"]*"|'[^']*'|\([^)]*\))\s*$""")  # a definition's, at its end
_ALLOWED_SCHEME = re.compile(r"(?i)(https?://|mailto:)")
# Every ASCII punctuation mark but those of an entity (& # ;): as a character reference, text.
_MARKDOWN_MARK = re.compile(r"""[!"$%'()*+,\-./:<=>?@\[\\\]^_`{|}~]""")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def safe_destination(raw: str) -> bool:
    """Whether a link or image destination leads to http, https, mailto, or nowhere else
    than this site (no scheme at all).

    Judged as a browser would see it: Markdown's backslash escapes and HTML entities undone,
    and the white space and control characters that browsers drop from URLs removed, so
    that ``javascript&#58;``, ``java\\script:``, ``JaVaScRiPt:`` and `` data:`` are all
    seen for what they are.
    """
    url = html.unescape(_ESCAPED.sub(r"\1", raw.strip().removeprefix("<").removesuffix(">")))
    url = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    if _ALLOWED_SCHEME.match(url):
        return True
    return ":" not in re.split(r"[/?#]", url, maxsplit=1)[0]


def _destination(text: str, at: int) -> str:
    """The destination of an inline link whose ``(`` is just before ``at``, as kramdown (the
    page's renderer) reads it, which is the longest reading: up to the ``)`` that closes it or
    to white space before a title's quote, white space inside and all (a browser drops tabs
    and line breaks from an address: ``java<TAB>script:`` is ``javascript:``)."""
    while at < len(text) and text[at] in " \t\n":
        at += 1
    if text.startswith("<", at):
        end = text.find(">", at)
        return text[at:end + 1] if end > 0 else text[at:]
    depth, end = 0, at
    while end < len(text):
        char = text[end]
        if char.isspace() and text[end + 1:end + 2] in ("'", '"'):
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        end += 1
    return text[at:end]


def definition_destination(rest: str) -> str:
    """A reference definition's destination, from what follows its ``]:``: the rest of the
    line but a title, white space inside and all, as kramdown reads it."""
    return _TITLE.sub("", rest.split("\n", 1)[0]).strip()


def decode_entities(text: str) -> str:
    """Decode ``&#x27;``, ``&amp;`` and the like; leave a bare ``&`` ("AT&T") alone."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _safe_attributes(tag: str, attributes: str) -> bool:
    """Whether a formatting tag's attributes are harmless: an ``a`` may have a web href."""
    found = list(_ATTRIBUTE.finditer(attributes))
    if "".join(m.group(0) for m in found).strip() != attributes.strip():
        return False  # something that is not an attribute: not a tag we know how to read
    for match in found:
        name, value = match.group(1).lower(), (match.group(2) or "").strip("\"'")
        if tag != "a" or name not in ("href", "title"):
            return False
        if name == "href" and not SAFE_URL.fullmatch(html.unescape(value)):
            return False
    return True


def markup_at(text: str, at: int) -> int:
    """If a markup tag or an autolink starts at ``text[at]`` (a ``<``), return where it ends."""
    autolink = _AUTOLINK.match(text, at)
    if autolink:
        return autolink.end()
    tag = _TAG.match(text, at)
    if tag and tag.group(2) in ALLOWED_TAGS:  # lower case only: "<A>" and "<B>" are text
        closing, name, attributes = bool(tag.group(1)), tag.group(2), tag.group(3)
        if closing and not attributes.strip():
            return tag.end()
        if not closing and _safe_attributes(name, attributes) and (
                name != "a" or "href" in attributes):  # an <a> that links nowhere is text
            return tag.end()
    return -1


def run_end(text: str, at: int) -> int:
    """Return where the run of backticks starting at ``at`` ends."""
    end = at
    while end < len(text) and text[end] == "`":
        end += 1
    return end


def _code_span_end(text: str, at: int) -> int:
    """Return where the code span opened by the backticks at ``at`` ends, or -1 if none.

    As Python-Markdown reads them: a run of N backticks closes at the next run of exactly
    N; failing that, its first N-1, ... 1 backticks open the span (the rest are content).
    """
    run = run_end(text, at) - at
    for size in range(run, 0, -1):
        closing = re.compile(r"(?<!`)`{%d}(?!`)" % size)  # noqa: UP031 (a regex)
        found = closing.search(text, at + size + 1)
        if found:
            return found.end()
    return -1


def _image(text: str, start: int) -> tuple[str, int]:
    """An image at ``start`` (its ``!``) as a link: what to write, and where to go on."""
    image = _IMAGE.match(text, start)
    if image is None:
        return "!", start + 1
    after = image.end()
    inline = text[after] == "("
    destination = _destination(text, after + 1) if inline else ""
    if inline and not safe_destination(destination):
        return "!", start + 1  # stays text, as its "](" will
    if image[1].strip():
        return "", start + 1  # "[alt](...)" or "[alt][ref]": a link, checked as one
    if inline and destination:
        # The address as its text, read by no renderer as markup (in no reading a link).
        return "[" + _MARKDOWN_MARK.sub(lambda m: f"&#{ord(m[0])};", destination), after - 1
    return "!", start + 1


def _inline(text: str, special: re.Pattern[str]) -> str:
    """Escape the non-markup ``<`` of a paragraph, leaving code spans as they are."""
    out = []
    at = 0
    while (found := special.search(text, at)) is not None:
        start = found.start()
        out.append(text[at:start])
        char = text[start]
        if char == "\\":  # an escaped "<" is text in every renderer; other escapes stay
            out.append("&lt;" if text.startswith("\\<", start) else text[start:start + 2])
            at = start + 2
            continue
        if char == "`":
            end = _code_span_end(text, start)
            at = end if end > 0 else run_end(text, start)
            out.append(text[start:at])
            continue
        if char in "*_":  # asked for literal emphasis characters (see keep_every_word)
            out.append("\\" + char)
            at = start + 1
            continue
        if char == "{":  # kramdown would take "{: ...}" for an attribute list
            out.append("\\{:")
            at = start + 2
            continue
        if char == "]":  # a link to javascript: and the like stays text: "](" becomes "]\("
            safe = safe_destination(_destination(text, start + 2))
            out.append("](" if safe else "]\\(")
            at = start + 2
            continue
        if char == "!":  # an image is shown as a link to it (the mail loads nothing)
            written, at = _image(text, start)
            out.append(written)
            continue
        end = markup_at(text, start)
        out.append(text[start:end] if end > 0 else "&lt;")
        at = end if end > 0 else start + 1
    out.append(text[at:])
    return "".join(out)


def _closed(rest: list[str], fence: str) -> bool:
    """Whether a later line closes the fence ``fence`` opens."""
    return any(line.strip().startswith(fence) and not line.strip().strip(fence[0])
               for line in rest)


def _definition_as_text(line: str) -> str:
    """A reference definition to an unsafe place (``[r1]: javascript:...``) made text."""
    reference = _REFERENCE.match(line)
    destination = definition_destination(reference[2]) if reference else ""
    if reference and not (destination and safe_destination(destination)):
        return reference[1] + "\\" + line[len(reference[1]):]
    return line


def _is_code_line(line: str, previous_blank: bool, in_code: bool, in_list: bool) -> bool:
    indented = line.startswith(("    ", "\t"))
    return indented and (in_code or (previous_blank and not in_list)) and bool(line.strip())


# What each line of Markdown is, as protect_markdown (and the page, pagetext) read it.
OPENING, FENCED, CODE, BLANK, TEXT = "opening", "fenced", "code", "blank", "text"


def line_kinds(lines: list[str], *, after_label: bool = False) -> list[str]:
    """Each line's part: a fence's opening line, a fenced line (its closing line too), an
    indented code line, a blank line, or text (an unclosed fence's opening is text).

    ``after_label``: the first line follows a label on its line, so it starts no list.
    """
    kinds = []
    fence = ""
    previous_blank, in_code, in_list = True, False, False
    for number, line in enumerate(lines):
        if fence:
            kinds.append(FENCED)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
            continue
        opening = _FENCE.match(line)
        if opening and _closed(lines[number + 1:], opening.group(1)):
            fence = opening.group(1)
            kinds.append(OPENING)
            continue
        in_code = _is_code_line(line, previous_blank, in_code, in_list)
        if in_code:
            kinds.append(CODE)
        elif not line.strip():
            kinds.append(BLANK)
        else:
            kinds.append(TEXT)
            if not line.startswith((" ", "\t")):
                in_list = bool(_LIST_ITEM.match(line)) and not (after_label and number == 0)
        previous_blank = not line.strip()
    return kinds


def protect_markdown(text: str, *, literal_emphasis: bool = False) -> str:
    """Return the author's Markdown with every ``<`` that is not markup written ``&lt;``.

    With ``literal_emphasis``, ``*`` and ``_`` are escaped too, so they show as typed.
    """
    special = _SPECIAL_AND_EMPHASIS if literal_emphasis else _SPECIAL
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(_inline("\n".join(paragraph), special))
            paragraph.clear()

    lines = text.split("\n")
    for written, kind in zip(lines, line_kinds(lines), strict=True):
        line = written
        if kind == FENCED:
            out.append(line)
        elif kind == OPENING:
            flush()
            end = len(line) - len(line.lstrip(line[0]))  # the fence's marks
            # The info string ("```python") is text where a renderer has no fenced blocks
            # (Python-Markdown without the extension): it is escaped like any text.
            out.append(line[:end] + _inline(line[end:], special))
        elif kind in (CODE, BLANK):
            flush()
            out.append(line)
        else:
            paragraph.append(text_line(line))
    flush()
    return "\n".join(out)


def text_line(line: str) -> str:
    """A line of a paragraph, before its spans are read: an unclosed fence's marks escaped
    (it is text, and must not close a fence that follows it on the page, the bio's), and a
    reference definition to an unsafe place made text."""
    unclosed = _FENCE.match(line)
    if unclosed:
        run = unclosed.group(1)
        line = run.replace(run[0], "\\" + run[0]) + line[len(run):]
    return _definition_as_text(line)


def protect_text(text: str, *, literal_emphasis: bool = False) -> str:
    """Text that holds no code (the page found its code spans): as :func:`protect_markdown`
    writes text, every ``<`` that is not markup ``&lt;``, links only to the web, images as
    links, no attribute list; ``literal_emphasis``: ``*`` and ``_`` escaped too."""
    return _inline(text, _TEXT_SPECIAL_AND_EMPHASIS if literal_emphasis else _TEXT_SPECIAL)
