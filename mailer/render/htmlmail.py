"""The values the designed HTML part (``templates/email.html.j2``) sees.

The plain-text part and the web page keep the seed's form; the HTML part is laid out for a
mail client: the series on top, the title as the heading, the speakers with the photo, a
box with the date, the place, a button to the call and add-to-calendar links, then the
abstract, the bio and what comes next. User text reaches it through the same rule as
everywhere (formats.py), Markdown rendered and sanitized.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable, Sequence
from typing import Any

from mailer.render.event import calendar_links
from mailer.render.speakermail import and_list
from mailer.render.times import hhmm, long_day, zone_abbreviation
from mailer.series.kinds import Identity, Kind
from mailer.series.model import Series, Status, Talk


def button_label(label: str) -> str:
    """The call button's text: "Zoom link" -> "Join on Zoom"; anything else -> "Join the call"."""
    name = label.removesuffix(" link").removesuffix(" Link").strip()
    return f"Join on {name}" if name and name.lower() not in ("video", "call") else\
        "Join the call"


def talk_name(series: Series, talk: Talk) -> str:
    """How a heading names the talk: its title; without one, its speakers and its day (a
    cancelled week without either: the series' seminar and its day), never TBA."""
    if talk.title:
        return talk.title
    who = and_list([s.name for s in talk.speakers]) if talk.speakers else\
        f"{series.name} seminar"
    return f"{who}, {long_day(talk.start(series))}"


def _heading(series: Series, talk: Talk, kind: Kind,
             changed: Sequence[tuple[str, str, str]]) -> str:
    """The HTML part's heading: the talk's name after what the mail is (one word a kind)."""
    name = talk_name(series, talk)
    moved = any(key == "when" for key, _, _ in changed)
    heading = kind.mail.heading
    if talk.cancelled and kind.personal and kind.mail.identity == Identity.CHANGE:
        heading = "Cancelled"  # the speakers' own word of their cancelled talk
    elif heading == "Today at":
        heading = f"Today at {hhmm(talk.start(series))}"
    elif heading == "Changed" and moved:
        heading = "Moved"
    if heading:
        return f"{heading}: {name}"
    return talk.shown_title


def layout_values(series: Series, talk: Talk, kind: Kind,
                  changed: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """What the designed layout shows that comes from the records alone (part of the one
    template context, :meth:`mailer.render.templates.Renderer.context`); an update's and a
    ``changed`` mail's heading says whether the talk moved (``changed``)."""
    start, end = talk.start(series), talk.end(series)
    zone = zone_abbreviation(start)
    google, outlook = calendar_links(series, talk)
    website = series.website
    return {
        "lang": "en",
        "heading": _heading(series, talk, kind, changed),
        "personal": kind.personal,  # to a talk's speakers: no list footer, no unsubscribe
        "preheader": f"{long_day(start)}, {hhmm(start)} {zone} · {talk.speaker_line()}",
        "speakers": [{"name": s.name, "affiliation": s.affiliation} for s in talk.speakers],
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


def rendered_values(series: Series, talk: Talk, *, intro: str, photo_src: str | None,
                    markdown: Callable[[str], Any]) -> dict[str, Any]:
    """What the layout shows that depends on the output: the user's Markdown as (sanitized)
    HTML, the photo, and the kind's opening sentence. ``check`` passes a cheap ``markdown``."""
    names = ", ".join(s.name for s in talk.speakers)
    public = talk.status == Status.CONFIRMED
    location = talk.place(series)
    return {
        "intro": intro,
        "photo": {"src": photo_src, "alt": names} if photo_src and public else None,
        "location_html": markdown(location) if location else None,
        "abstract_html": markdown(talk.abstract) if talk.abstract else None,
        "bio_html": markdown(talk.bio) if talk.bio else None,
        "note_html": markdown(talk.note) if talk.note else None,
    }


def first_paragraph(html: str) -> str:
    """The text of the first paragraph of an HTML fragment (the kind's opening sentence)."""
    found = re.search(r"<p>(.*?)</p>", html, re.DOTALL)
    return html_module.unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""

