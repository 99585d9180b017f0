"""How each output writes our labels, links and the user's text.

The same template is rendered three times, with one of these helper sets: the web
page (Markdown for Jekyll), the Markdown that becomes the HTML part, and the plain
text part (no Markdown syntax). User text is passed as data, never as template code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from mailer.render.pagetext import as_references, page_address, page_markdown, page_plain
from mailer.render.usertext import decode_entities, protect_markdown

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


def literal_emphasis(text: str) -> bool:
    """Whether the author's ``*`` and ``_`` are shown as typed: see :func:`keep_every_word`."""
    import markdown

    protected = protect_markdown(text)
    if not any(ch in protected for ch in "*_"):
        return False
    literal = protect_markdown(text, literal_emphasis=True)
    return _letters(markdown.markdown(protected, extensions=MARKDOWN_EXTENSIONS)) != _letters(
        markdown.markdown(literal, extensions=MARKDOWN_EXTENSIONS))


def keep_every_word(text: str) -> str:
    """Return the author's Markdown, protected; emphasis marks made literal if they eat words.

    Emphasis only ever changes how letters look, never which letters show. Python-Markdown
    has inputs ("*a**a*a") where its emphasis rules drop text; for those, the ``*`` and ``_``
    are shown as typed instead, so no word of the author's is lost.
    """
    return protect_markdown(text, literal_emphasis=literal_emphasis(text))


def sanitize_html(fragment: str) -> str:
    """Keep harmless markup; drop scripts, frames, event handlers and unsafe URLs."""
    import nh3

    # No <img> from user text: the mail loads nothing from elsewhere (usertext turns Markdown
    # images into links; this keeps any other way in shut too).
    return nh3.clean(fragment, tags=nh3.ALLOWED_TAGS - {"img"}, url_schemes=_ALLOWED_URL_SCHEMES,
                     link_rel="noopener noreferrer")


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
    """Helpers for the Jekyll page: Markdown as kramdown reads it, with no brace of user text
    and no HTML of the user's beyond the mail's harmless markup (see :mod:`pagetext`).

    Jekyll runs Liquid on the page before kramdown: a ``{{`` or ``{%`` there would be run, and
    no Liquid block keeps user text literal (``{% endraw x %}`` ends a raw block too). So no
    ``{`` or ``}`` of user text is left as a character: kramdown shows ``&#123;`` as ``{``,
    and code as the HTML element it would make of it.
    """

    def plain(self, text: str) -> str:
        """One-line user text as the page writes it (:func:`pagetext.page_plain`)."""
        return page_plain(text)

    def md(self, text: str) -> str:
        """Markdown user text, kept as Markdown as the page writes it (braces as entities,
        code with ``<``, ``&``, a brace or ``]`` as HTML: :func:`pagetext.page_markdown`)."""
        literal = self.checked and literal_emphasis(text)
        return page_markdown(text, literal_emphasis=literal)

    def link(self, url: str) -> str:
        """A link, its braces written as entities (in the address too: a browser reads
        ``&#123;`` in an ``href`` as ``{``)."""
        if not _linkable(url) or not ("{" in url or "}" in url):
            return super().link(url)
        return f"[{as_references(url)}]({page_address(url)})"

    def address(self, url: str) -> str | None:
        """A web address as a link's destination on the page, or ``None`` if it leads
        elsewhere than the web (see :func:`pagetext.page_address`)."""
        return page_address(url) if url.startswith(_SAFE_SCHEMES) else None


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
