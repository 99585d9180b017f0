"""The author's Markdown as the mail's HTML, and when its emphasis marks must show as typed.

Python-Markdown converts and nh3 keeps harmless markup only; both load with this module,
which composing a mail and writing the web pages import. ``check`` renders the templates
through Jinja alone and never imports it (its formats are given no ``judge``:
:class:`mailer.render.formats.MarkdownFormat`).
"""

from __future__ import annotations

import html
import re

import markdown
import nh3

from mailer.render.formats import MARKDOWN_EXTENSIONS
from mailer.render.usertext import protect_markdown

_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def markdown_to_html(text: str) -> str:
    """Convert Markdown to HTML, keeping harmless markup only."""
    return sanitize_html(markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS))


def _letters(fragment: str) -> str:
    """The letters and digits a reader sees in an HTML fragment."""
    text = html.unescape(re.sub(r"<[^>]*>", "", fragment))
    return "".join(ch for ch in text if ch.isalnum())


def literal_emphasis(text: str) -> bool:
    """Whether the author's ``*`` and ``_`` are shown as typed: see :func:`keep_every_word`."""
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
    are shown as typed instead, so no word of the author's is lost. It is what
    ``MarkdownFormat(literal_emphasis).md`` writes.
    """
    return protect_markdown(text, literal_emphasis=literal_emphasis(text))


def sanitize_html(fragment: str) -> str:
    """Keep harmless markup; drop scripts, frames, event handlers and unsafe URLs."""
    # No <img> from user text: the mail loads nothing from elsewhere (usertext turns Markdown
    # images into links; this keeps any other way in shut too).
    return nh3.clean(fragment, tags=nh3.ALLOWED_TAGS - {"img"}, url_schemes=_ALLOWED_URL_SCHEMES,
                     link_rel="noopener noreferrer")
