"""Render a talk through the templates, with Jinja: the subject, the text, the web page.

Each kind of mail has one Markdown-shaped template. It is rendered three times
with different helpers (``label``, ``link``, ``plain``, ``md``, ``bullet``):
as the web page (Markdown for Jekyll), as the Markdown that becomes the HTML part,
and as the plain-text part (no Markdown syntax). Wording lives in one place.

User text is never altered: it is passed to Jinja as data (so template syntax in
an abstract stays text), escaped only where a format needs it, and active HTML
is removed by a sanitizer (nh3), never by a regular expression.

The mail whole (the HTML part from Markdown, its CSS inlined, the calendar) is
:mod:`mailer.render.mailparts`'s, so that ``check``, which renders every template here,
loads none of the libraries that turn correct output into e-mail.
"""

from __future__ import annotations

import difflib
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import yaml

from mailer.errors import InputError
from mailer.paths import display_path
from mailer.render.formats import MarkdownFormat, PageFormat, TextFormat
from mailer.render.htmlmail import (
    change_values,
    first_paragraph,
    layout_values,
    rendered_values,
)
from mailer.render.speakermail import brief_values, changed_values, request_values
from mailer.render.times import hhmm, zone_abbreviation
from mailer.series.kinds import ANNOUNCING, Identity, Kind
from mailer.series.model import TBA, Series, Speaker, Status, Talk

_PACKAGE = Path(__file__).resolve().parent.parent  # mailer/
# Installed, the wheel carries templates/ inside the package; in a checkout, the repo's own.
PACKAGE_TEMPLATES = next(
    (p for p in (_PACKAGE / "templates", _PACKAGE.parent / "templates") if p.is_dir()),
    _PACKAGE / "templates",
)
TEMPLATE_FOR = {kind: kind.mail.template for kind in Kind}
TEMPLATE_NAMES = (*TEMPLATE_FOR.values(), "subject.txt.j2", "email.html.j2",
                  "email-classic.html.j2", "program.md.j2")


def example_values(series: Series, talk: Talk, kind: Kind,
                   changed: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """What ``check`` gives the speaker templates: a last reminder asking for everything;
    the ``changed`` mail of a move (``changed``) or of the cancellation."""
    example = _EXAMPLES.get(kind.mail.template)
    return {} if example is None else example(series, talk, changed)


def _request_example(series: Series, talk: Talk,
                     changed: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    everything = replace(talk, title=None, abstract=None, bio=None, photo=None)
    speaker = talk.speakers[0] if talk.speakers else Speaker("A Speaker")
    return request_values(series, everything, speaker, round_=2, last=True,
                          deadline=talk.date)


def _brief_example(series: Series, talk: Talk,
                   changed: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    return brief_values(series, talk, announced="(the announcement's subject)",
                        backdrop="meeting-backdrop.jpg")


def _changed_example(series: Series, talk: Talk,
                     changed: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    return changed_values(series, talk, changed)


# The values a speaker template needs beyond the talk's, by template: what ``check`` gives it.
_EXAMPLES = {"request.md.j2": _request_example, "brief.md.j2": _brief_example,
             "changed.md.j2": _changed_example}


def page_photo_name(talk: Talk) -> str | None:
    """The file name of the talk's photo beside its web page."""
    return f"{talk.id}.jpg" if talk.photo else None


def jekyll_page(series: Series, body: str, *, title: str,
                permalink: str | None = None) -> str:
    """Put the series' Jekyll front matter on top of a Markdown body, with the page's
    ``title`` (the layout's ``<title>``) and ``permalink`` unless the series sets them."""
    data = dict(series.front_matter)
    data.setdefault("title", title)
    if permalink is not None:
        data.setdefault("permalink", permalink)
    front = yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                           default_flow_style=False, width=1 << 16)
    return f"---\n{front}---\n\n{body}"


_NO_ATTRIBUTE = re.compile(r"'(?:[\w.]+\.)?(\w+) object' has no attribute '(\w+)'")
# The model classes by name, with the name the templates know each value by.
_MODELS: dict[str, tuple[str, type]] = {"Talk": ("seminar", Talk), "Series": ("series", Series)}


def readable_undefined(message: str) -> str:
    """Jinja's "'mailer.series.model.Talk object' has no attribute 'titel'" as an
    organiser can act on it: which value has no such field, and the one probably meant."""
    found = _NO_ATTRIBUTE.search(message)
    if not found or found.group(1) not in _MODELS:
        return message
    (name, model), field = _MODELS[found.group(1)], found.group(2)
    known = [n for n in dir(model) if not n.startswith("_")]
    close = difflib.get_close_matches(field, known, n=1)
    hint = f"; did you mean {name}.{close[0]}?" if close else ""
    return f"{name}.{field}: a {name} has no {field!r}{hint}"


def unknown_overrides(root: Path) -> list[str]:
    """Warnings for files in the series' ``templates/`` that announce never reads (a typo
    such as ``subject.j2`` would otherwise be ignored without a word)."""
    own = root / "templates"
    if not own.is_dir() or own == PACKAGE_TEMPLATES:
        return []
    warnings = []
    for path in sorted(own.iterdir()):
        if path.name.startswith(".") or path.name in TEMPLATE_NAMES:
            continue
        close = difflib.get_close_matches(path.name, TEMPLATE_NAMES, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(TEMPLATE_NAMES)}"
        warnings.append(f"templates/{path.name} is not a template announce uses, so it changes "
                        f"nothing{hint}")
    return warnings


def template_dirs(root: Path) -> list[Path]:
    """The series' own ``templates/`` first, then the packaged defaults."""
    own = root / "templates"
    return [own, PACKAGE_TEMPLATES] if own.is_dir() and own != PACKAGE_TEMPLATES else [
        PACKAGE_TEMPLATES]


class Renderer:
    """Renders talks with the templates of one series folder."""

    def __init__(self, root: Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in template_dirs(root)]),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                                default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(context)
        except jinja2.TemplateNotFound:
            raise InputError(f"templates/{name}: template not found") from None
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"{exc.filename or name}:{exc.lineno}: template error: "
                             f"{exc.message}") from None
        except jinja2.UndefinedError as exc:
            line = next((frame.lineno for frame in reversed(traceback.extract_tb(
                exc.__traceback__)) if frame.filename.endswith(name)), None)
            where = self.env.get_template(name).filename or name
            shown = display_path(Path(where)) if where != name else f"templates/{name}"
            raise InputError(f"{shown}{f':{line}' if line else ''}: "
                             f"{readable_undefined(exc.message or '')}") from None

    def render_named(self, name: str, context: Mapping[str, Any]) -> str:
        """Render any template of the series by name."""
        return self._render(name, context)

    def context(self, series: Series, talk: Talk, upcoming: Sequence[Talk],
                kind: Kind, changed: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
        """Return the values the templates see (an update's: what ``changed``)."""
        start = talk.start(series)
        zone = zone_abbreviation(start)
        items = []
        for later in upcoming:
            later_start = later.start(series)
            abbreviation = zone_abbreviation(later_start)
            items.append({
                "date": later.date.isoformat(),
                "time": hhmm(later_start),
                "mark": "" if abbreviation == zone else f" {abbreviation}",
                "speaker": later.listed_speaker(),
                "title": later.title if later.status == Status.CONFIRMED else None,
            })
        marked = any(item["mark"] for item in items)
        return {
            "series": series,
            "seminar": talk,
            "kind": kind,
            "date": talk.date.isoformat(),
            "time": hhmm(start),
            "zone": zone,
            # With no upcoming list there is no "All times are in ..." note: the zone goes here.
            "when": f"{talk.date.isoformat()} {hhmm(start)}" + ("" if items else f" {zone}"),
            "location": talk.place(series),
            "video_link": talk.call(series),
            "video_label": series.call_label,
            "tba": TBA,
            "upcoming": items,
            "zone_note": f"All times are in {zone}"
                         + (" unless marked otherwise." if marked else "."),
            # Personal mail (to a talk's speakers) is not list mail: nothing to leave.
            "unsubscribe": None if kind.personal else series.mail.unsubscribe,
            "page_photo": None,  # the web page's photo file, set by page()
            "page_photo_alt": ", ".join(s.name for s in talk.speakers),
            **layout_values(series, talk, kind, changed),
            **change_values(series, changed),
        }

    def body(self, context: Mapping[str, Any], fmt: MarkdownFormat) -> str:
        """Render the kind's template with one format's helpers."""
        return self._render(TEMPLATE_FOR[context["kind"]], {**context, **fmt.helpers()})

    def page(self, series: Series, talk: Talk, upcoming: Sequence[Talk],
             fmt: PageFormat) -> str:
        """Return the talk's web page: Jekyll front matter and the Markdown announcement."""
        context = self.context(series, talk, upcoming, ANNOUNCING)
        context["unsubscribe"] = None  # a public page is not a mail
        context["page_photo"] = page_photo_name(talk)
        title = talk.title or f"{series.name} seminar, {talk.date.isoformat()}"
        permalink = series.permalink(talk.date) if series.page_url else None
        return jekyll_page(series, self.body(context, fmt), title=title,
                           permalink=permalink)

    def subject(self, context: Mapping[str, Any]) -> str:
        """Return the one-line Subject."""
        subject = self._render("subject.txt.j2", context).strip()
        if "\n" in subject or "\r" in subject:
            raise InputError("templates/subject.txt.j2: the subject has a line break; "
                             "a Subject header is one line")
        return subject

    def _email_html(self, series: Series, talk: Talk, context: Mapping[str, Any],
                    subject: str, body: str, *, photo_src: str | None,
                    markdown: Callable[[str], Any]) -> str:
        """Render email.html.j2: the layout around the talk's values (htmlmail.py), the
        author's Markdown fields (the abstract, the bio) written by ``markdown``."""
        values = rendered_values(series, talk, intro=first_paragraph(body),
                                 photo_src=photo_src, markdown=markdown)
        return self._render("email.html.j2", {
            **context, **values, "subject": subject,
            "body": markupsafe.Markup(body)})  # noqa: S704 (sanitized by nh3)

    def check(self, series: Series, talk: Talk, upcoming: Sequence[Talk],
              kind: Kind) -> None:
        """Render every template a kind uses, through Jinja only (no Markdown, CSS or calendar).

        Template mistakes (a misspelt variable under StrictUndefined, bad syntax) show up here
        without loading the slower libraries that only turn correct output into e-mail.
        """
        example = [("when", "2024-01-01 15:00", f"{talk.start(series):%Y-%m-%d %H:%M}")]
        changed = example if kind.mail.identity == Identity.TOLD else ()
        self._check(series, talk, upcoming, kind, changed)
        if kind.mail.with_speakers:  # the speakers' mail of the change goes with it
            for theirs in (k for k in Kind if k.mail.identity == Identity.CHANGE):
                self._check(series, talk, upcoming, theirs, changed)
        if kind.mail.announces:
            self.page(series, talk, upcoming, PageFormat(None))

    def _check(self, series: Series, talk: Talk, upcoming: Sequence[Talk],
               kind: Kind, changed: Sequence[tuple[str, str, str]]) -> None:
        context = {**self.context(series, talk, upcoming, kind, changed),
                   **example_values(series, talk, kind, changed)}
        subject = self.subject(context)
        self.body(context, TextFormat())
        body = self.body(context, MarkdownFormat(None))
        self._email_html(series, talk, context, subject, body, photo_src="cid:photo",
                         markdown=_as_written)


def _as_written(text: str) -> str:
    """``check``: the author's Markdown left as written (no Markdown or sanitizer loads)."""
    return text
