"""The values the designed HTML part (``templates/email.html.j2``) sees.

The plain-text part and the web page keep the seed's form; the HTML part is laid out for a
mail client: the series on top, the title as the heading, the speakers with the photo, a
box with the date, the place, a button to the call and add-to-calendar links, then the
abstract, the bio and what comes next. User text reaches it through the same rule as
everywhere (formats.py), Markdown rendered and sanitized.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mailer.render.event import calendar_links
from mailer.render.times import hhmm, long_day, zone_abbreviation
from mailer.series.model import Kind, Seminar, Series, Status


def button_label(label: str) -> str:
    """The call button's text: "Zoom link" -> "Join on Zoom"; anything else -> "Join the call"."""
    name = label.removesuffix(" link").removesuffix(" Link").strip()
    return f"Join on {name}" if name and name.lower() not in ("video", "call") else \
        "Join the call"


def layout_values(series: Series, seminar: Seminar, kind: Kind) -> dict[str, Any]:
    """What the designed layout shows that comes from the records alone (part of the one
    template context, :meth:`mailer.render.templates.Renderer.context`)."""
    start, end = seminar.start(series), seminar.end(series)
    zone = zone_abbreviation(start)
    google, outlook = calendar_links(series, seminar)
    website = series.website
    heading = seminar.shown_title
    if kind == Kind.REMINDER:
        heading = f"Today at {hhmm(start)}: {heading}"
    elif kind == Kind.CANCELLATION:
        heading = f"Cancelled: {heading}"
    elif kind == Kind.UPDATE:
        heading = f"Changed: {heading}"
    elif kind == Kind.FOLLOWUP:
        heading = f"Recording: {heading}"
    elif kind in (Kind.REQUEST, Kind.BRIEF):
        heading = f"Your talk: {heading}"
    return {
        "lang": "en",
        "heading": heading,
        "preheader": f"{long_day(start)}, {hhmm(start)} {zone} · {seminar.speaker_line()}",
        "speakers": [{"name": s.name, "affiliation": s.affiliation} for s in seminar.speakers],
        "long_day": long_day(start),
        "time_range": f"{hhmm(start)}\u2013{hhmm(end)} {zone}",
        "button": button_label(series.call_label),
        "google": google,
        "outlook": outlook,
        "team": series.team,
        "website": website,
        "website_label": website.split("://", 1)[-1].rstrip("/") if website else None,
    }


def change_values(series: Series, changed: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """What an update says changed: each fact old -> new, on lines and in one sentence."""
    labels = {"when": "Date and time", "location": "Location", "call": series.call_label}
    in_text = {"when": "date and time", "location": "location", "call": series.call_label}
    changes = [{"label": labels[key], "old": old, "new": new, "link": key == "call"}
               for key, old, new in changed]
    return {
        "changes": changes,
        "summary": "; ".join(f"{in_text[key]} {old or 'none'} → {new or 'none'}"
                             for key, old, new in changed),
        "moved_from": next((old for key, old, _ in changed if key == "when"), None),
        "changed_what": " and ".join(in_text[key] for key, _, _ in changed) or "details",
    }


def rendered_values(series: Series, seminar: Seminar, *, intro: str, photo_src: str | None,
                    markdown: Callable[[str], Any]) -> dict[str, Any]:
    """What the layout shows that depends on the output: the user's Markdown as (sanitized)
    HTML, the photo, and the kind's opening sentence. ``check`` passes a cheap ``markdown``."""
    names = ", ".join(s.name for s in seminar.speakers)
    public = seminar.status == Status.CONFIRMED
    location = seminar.place(series)
    return {
        "intro": intro,
        "photo": {"src": photo_src, "alt": names} if photo_src and public else None,
        "location_html": markdown(location) if location else None,
        "abstract_html": markdown(seminar.abstract) if seminar.abstract else None,
        "bio_html": markdown(seminar.bio) if seminar.bio else None,
        "note_html": markdown(seminar.note) if seminar.note else None,
    }


def first_paragraph(html: str) -> str:
    """The text of the first paragraph of an HTML fragment (the kind's opening sentence)."""
    import html as html_module
    import re

    found = re.search(r"<p>(.*?)</p>", html, re.DOTALL)
    return html_module.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""

