"""How each output writes our labels, links and the user's text.

The same template is rendered three times, with one of these helper sets: the web
page (Markdown for Jekyll), the Markdown that becomes the HTML part, and the plain
text part (no Markdown syntax). User text is passed as data, never as template code.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from mailer.render.pagetext import as_references, page_address, page_markdown, page_plain
from mailer.render.usertext import decode_entities, protect_markdown

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
# Fenced code blocks, as kramdown (GFM) renders them on the page: a ``` block is code in the
# mail too, so what is in it shows as typed.
MARKDOWN_EXTENSIONS = ["fenced_code"]


def _linkable(url: str) -> bool:
    """Whether an address can be a Markdown link as it is written."""
    return url.startswith(_SAFE_SCHEMES) and not any(ch in url for ch in " <>()[]")


class MarkdownFormat:
    """Helpers for Markdown output (the HTML part's source).

    ``judge`` says whether the author's ``*`` and ``_`` are shown as typed because Markdown's
    emphasis would eat words (:func:`mailer.render.markup.literal_emphasis`, which loads
    Markdown); with ``None`` they are left as Markdown unjudged: ``check`` renders the
    templates to find template mistakes, not to read the words.
    """

    bullet_mark = "* "

    def __init__(self, judge: Callable[[str], bool] | None) -> None:
        self.judge = judge

    def literal_emphasis(self, text: str) -> bool:
        """Whether ``text``'s ``*`` and ``_`` are to be shown as typed (see ``judge``)."""
        return self.judge is not None and self.judge(text)

    def label(self, name: str) -> str:
        """A bold label: ``**Title:**``."""
        return f"**{self.plain(name)}:**"

    def plain(self, text: str) -> str:
        """One-line user text (a title, a name)."""
        return html.escape(text, quote=False)

    def md(self, text: str) -> str:
        """Markdown user text (an abstract, a bio): only the formatting tags are markup."""
        return protect_markdown(text, literal_emphasis=self.literal_emphasis(text))

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
        return page_markdown(text, literal_emphasis=self.literal_emphasis(text))

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

    def __init__(self) -> None:
        super().__init__(None)  # its user text is written as typed: nothing to judge

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
