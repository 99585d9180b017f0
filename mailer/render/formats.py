"""How each output writes our labels, links and the user's text.

The same template is rendered three times, with one of these helper sets: the web
page (Markdown for Jekyll), the Markdown that becomes the HTML part, and the plain
text part (no Markdown syntax). User text is passed as data, never as template code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from mailer.render.usertext import decode_entities, protect_markdown

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_LIQUID = re.compile(r"\{[{%]")
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Fenced code blocks, as kramdown (GFM) renders them on the page: a ``` block is code in the
# mail too, so what is in it shows as typed.
MARKDOWN_EXTENSIONS = ["fenced_code"]


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


def liquid_literal(text: str) -> str:
    """Keep Liquid syntax in user text from being run by Jekyll."""
    if not _LIQUID.search(text):
        return text
    pieces = _ENDRAW.split(text)
    ends = _ENDRAW.findall(text)
    out = "{% raw %}" + pieces[0]
    for end, piece in zip(ends, pieces[1:], strict=True):
        out += "{% endraw %}{{ '" + end.replace("'", "") + "' }}{% raw %}" + piece
    return out + "{% endraw %}"


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
        if url.startswith(_SAFE_SCHEMES) and not any(ch in url for ch in " <>()[]"):
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
    """Helpers for the Jekyll page: Markdown, with HTML sanitized and Liquid kept literal."""

    def plain(self, text: str) -> str:
        """One-line user text, Liquid kept literal."""
        return liquid_literal(super().plain(text))

    def md(self, text: str) -> str:
        """Markdown user text, kept as Markdown; Liquid kept literal."""
        return liquid_literal(self._protect(text))

    def link(self, url: str) -> str:
        """A link, Liquid kept literal."""
        return liquid_literal(super().link(url))


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
