"""A talk's mail rendered whole: the subject, the plain text, the HTML part and the calendar.

The HTML part is the kind's Markdown as HTML (:mod:`mailer.render.markup`: Python-Markdown,
then nh3), laid out by ``email.html.j2`` and its CSS inlined by premailer; the calendar is
:mod:`mailer.render.calendar`'s (icalendar). These libraries load with this module, which only
composing a mail imports: ``check`` renders the same templates through Jinja alone
(:meth:`mailer.render.templates.Renderer.check`).
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import markupsafe

from mailer.render.calendar import build_calendar
from mailer.render.formats import MarkdownFormat, TextFormat
from mailer.render.markup import literal_emphasis, markdown_to_html
from mailer.render.rendered import InlineImage, Rendered
from mailer.render.templates import Renderer
from mailer.render.times import hhmm, zone_abbreviation
from mailer.series.kinds import Kind
from mailer.series.model import Series, Talk


class _NoNetwork:
    """premailer's HTTP session: we never fetch stylesheets, so any use is a bug."""

    def get(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("announce does not fetch external stylesheets")


class _DeferredRequests(types.ModuleType):
    """Stands in for ``requests`` inside premailer; loads the real one on first use."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get("requests") is self:
            del sys.modules["requests"]
        return getattr(importlib.import_module("requests"), name)


def _import_premailer() -> Any:
    """Import premailer without loading ``requests`` (~90 ms of every send's start-up).

    premailer imports requests at module level only to fetch external stylesheets, which
    announce never does (``allow_network=False`` and a session that refuses). The stand-in
    is visible in ``sys.modules`` only while premailer imports.
    """
    if "premailer" in sys.modules or "requests" in sys.modules:
        return importlib.import_module("premailer")
    sys.modules["requests"] = _DeferredRequests("requests")
    try:
        return importlib.import_module("premailer")
    finally:
        if isinstance(sys.modules.get("requests"), _DeferredRequests):
            del sys.modules["requests"]


premailer = _import_premailer()  # with this module, as an import would: see above why not one


def reader_values(series: Series, talk: Talk, reader: str) -> dict[str, str]:
    """The time values for a subscriber in ``reader`` (an IANA zone): the series' time with
    theirs beside it, "15:00 CET (09:00 EST)", computed for the talk's day (their date too
    when it is another day there)."""
    start = talk.start(series)
    theirs = start.astimezone(ZoneInfo(reader))
    if (hhmm(theirs), zone_abbreviation(theirs)) == (hhmm(start), zone_abbreviation(start)):
        return {}  # the same clock reading: nothing to add
    day = "" if theirs.date() == start.date() else f"{theirs:%a %d %b} "
    mark = zone_abbreviation(theirs)
    zone = f"{zone_abbreviation(start)} ({day}{hhmm(theirs)} {mark})"
    end = talk.end(series)
    until = f"{hhmm(start)}\u2013{hhmm(end)} {zone_abbreviation(start)}"
    return {"zone": zone, "when": f"{talk.date.isoformat()} {hhmm(start)} {zone}",
            "time_range": f"{until} ({day}{hhmm(theirs)}\u2013"
                          f"{hhmm(end.astimezone(theirs.tzinfo))} {mark})"}


def _markdown(text: str) -> Any:
    """The author's Markdown (an abstract, a bio) as the HTML part shows it: sanitized HTML."""
    return markupsafe.Markup(  # noqa: S704 (sanitized by nh3)
        markdown_to_html(MarkdownFormat(literal_emphasis).md(text)))


class MailRenderer(Renderer):
    """Renders a talk's mail whole, with the templates of one series folder."""

    def html_part(self, series: Series, talk: Talk, context: Mapping[str, Any],
                  subject: str, *, photo_src: str | None = None) -> str:
        """Turn the talk into an e-mail HTML document with its CSS inlined (premailer)."""
        body = markdown_to_html(self.body(context, MarkdownFormat(literal_emphasis)))
        document = self._email_html(series, talk, context, subject, body,
                                    photo_src=photo_src, markdown=_markdown)
        inliner = premailer.Premailer(
            document, allow_network=False, session=_NoNetwork(), disable_validation=True,
            keep_style_tags=False, remove_classes=False, strip_important=False,
            cssutils_logging_level=logging.CRITICAL,
            disable_basic_attributes=["bgcolor", "width", "height", "align"],  # CSS does it
        )
        return str(inliner.transform(pretty_print=False))

    def message(self, series: Series, talk: Talk, upcoming: Sequence[Talk], kind: Kind,
                *, sequence: int, stamp: datetime, photo: InlineImage | None = None,
                changed: Sequence[tuple[str, str, str]] = (),
                extra: Mapping[str, Any] | None = None, reader: str | None = None) -> Rendered:
        """Render one kind of mail for a talk (an update says what ``changed``; a mail to a
        speaker has the ``extra`` values of :mod:`mailer.render.speakermail`; ``reader``, a
        subscriber's zone, adds the talk's time in theirs)."""
        context = {**self.context(series, talk, upcoming, kind, changed), **(extra or {})}
        if reader is not None:
            context.update(reader_values(series, talk, reader))
        subject = self.subject(context)
        text = self.body(context, TextFormat())
        html_doc = self.html_part(series, talk, context, subject,
                                  photo_src=photo.src if photo else None)
        ics = build_calendar(series, [(talk, sequence)], stamp=stamp) if kind.mail.calendar\
            else None
        return Rendered(subject=subject, text=text, html=html_doc, ics=ics,
                        images=(photo,) if photo and photo.src in html_doc else ())
