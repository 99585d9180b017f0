"""The text of a reply (contract §7): its plain body, or its HTML body turned into text, with the
quoted mail (``<blockquote>``, Gmail's and Yahoo's quote, what follows Outlook's marker) left
out. An unknown charset is read as UTF-8 with replacements, never an error."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser

__all__ = ["text_of"]


class _HtmlText(HTMLParser):
    """An HTML body's text: blocks and ``<br>`` are line breaks, quoted mail is left out."""

    _SKIP = frozenset({"script", "style", "head", "title", "template", "blockquote"})
    _SKIP_CLASSES = frozenset(
        {"gmail_quote", "gmail_quote_container", "yahoo_quoted", "gmail_signature"}
    )
    _STOP_IDS = frozenset({"appendonsend", "divrplyfwdmsg"})  # Outlook: the quoted mail follows
    _BLOCKS = frozenset(
        {"div", "li", "tr", "table", "ul", "ol", "dl", "dt", "dd", "section", "article",
         "header", "footer", "address", "center", "pre", "hr", "h1", "h2", "h3", "h4", "h5",
         "h6"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._newlines = -1  # the line breaks the text ends with; -1 before any text
        self._skipping: str | None = None
        self._depth = 0
        self._stopped = False
        self._pre = 0

    def _break(self, count: int) -> None:
        if 0 <= self._newlines < count:
            self.parts.append("\n" * (count - self._newlines))
            self._newlines = count

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._stopped:
            return
        if self._skipping is not None:
            self._depth += tag == self._skipping
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        if (values.get("id") or "").lower() in self._STOP_IDS:
            self._stopped = True
        elif tag in self._SKIP or classes & self._SKIP_CLASSES:
            self._skipping, self._depth = tag, 1
        elif tag == "br":
            self.parts.append("\n")
            self._newlines = max(self._newlines, 0) + 1
        elif tag == "p":
            self._break(1 if "MsoNormal" in classes else 2)
        elif tag in self._BLOCKS:
            self._break(1)
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self._stopped:
            return
        if self._skipping is not None:
            self._depth -= tag == self._skipping
            if self._depth <= 0:
                self._skipping = None
            return
        if tag == "p" or tag in self._BLOCKS:
            self._break(1)
        if tag == "pre" and self._pre > 0:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._stopped or self._skipping is not None:
            return
        if not self._pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
            if self._newlines != 0:  # at the start of a line: no indentation
                data = data.lstrip(" ")
        if data:
            self.parts.append(data)
            stripped = data.rstrip("\n")
            self._newlines = (
                len(data) - len(stripped) if stripped else max(self._newlines, 0) + len(data)
            )


# A "<" that another "<" follows before any ">" opens no tag: written as text, it cannot make
# html.parser rescan the rest of the message at every one ("<a <a <a ..." cost minutes).
_OPEN_NO_TAG = re.compile(r"<(?=[^<>]*<)")
MAX_HTML = 4 << 20  # an HTML body read as text: the form and the reply are at its top


def _html_text(markup: str) -> str:
    markup = _OPEN_NO_TAG.sub("&lt;", markup[:MAX_HTML])
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # markup html.parser gives up on: tags taken out
        return re.sub(r"<[^>]*>", " ", markup)
    return "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AttributeError):  # an unknown charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def text_of(message: EmailMessage) -> str:
    """The reply's text: its plain body, or its HTML body as text when it has none."""
    plain = message.get_body(("plain",))
    text = _content(plain) if isinstance(plain, EmailMessage) else ""
    if text.strip():
        return text
    markup = message.get_body(("html",))
    return _html_text(_content(markup)) if isinstance(markup, EmailMessage) else text
