"""What a calendar shows of a talk, as plain values: its UID, its fields, their fingerprint,
and one-click "add to calendar" links. No iCalendar library here: mails and pages use these
without loading one (``calendar.py`` builds the .ics files).

A talk's UID is derived from its id and the series name only, so it stays the same when the
talk's time or title changes; the fingerprint of its fields tells the ledger when a talk
that went out has changed (SEQUENCE).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from mailer.series.model import Series, Status, Talk
from mailer.series.names import slugify

_STATUS = {Status.CONFIRMED: "CONFIRMED", Status.TENTATIVE: "TENTATIVE",
           Status.CANCELLED: "CANCELLED"}


def uid(series: Series, talk: Talk) -> str:
    """Return the talk's UID: stable for the life of the talk, across a `move` too (the
    record's ``uid:`` keeps its first id; one that holds an ``@`` is a UID as it stands)."""
    if "@" in talk.key:
        return talk.key
    return f"{talk.key}.{slugify(series.name) or 'series'}@announce"


def _summary(series: Series, talk: Talk) -> str:
    who = talk.speaker_line()
    if talk.title:
        return f"{series.name}: {talk.title} ({who})"
    return f"{series.name}: {who}"


def _description(series: Series, talk: Talk) -> str:
    video = talk.call(series)
    parts = [f"Speaker: {talk.speaker_line()}"]
    if talk.title:
        parts.insert(0, f"Title: {talk.title}")
    if video:
        parts.append(f"{series.video_label or 'Video link'}: {video}")
    if talk.recording:
        parts.append(f"Recording: {talk.recording}")
    if talk.slides:
        parts.append(f"Slides: {talk.slides}")
    if talk.note:
        parts.append(f"Note: {talk.note}")
    if talk.abstract:
        parts.append(f"Abstract: {talk.abstract}")
    return "\n\n".join(parts)


def event_fields(series: Series, talk: Talk) -> dict[str, str]:
    """Return what a calendar shows of the talk, as text (the basis of SEQUENCE).

    A tentative talk shows as TBA, as it does in every public list, until it is confirmed.
    """
    if talk.status == Status.TENTATIVE:
        talk = replace(talk, speakers=(), title=None, abstract=None)
    return {
        "start": talk.start(series).isoformat(),
        "end": talk.end(series).isoformat(),
        "summary": _summary(series, talk),
        "location": talk.place(series) or "",
        "url": talk.call(series) or "",
        "description": _description(series, talk),
        "status": _STATUS[talk.status],
    }


def event_digest(series: Series, talk: Talk) -> str:
    """Return a short fingerprint of what a calendar shows of the talk."""
    fields = event_fields(series, talk)
    text = "\x1f".join(f"{key}={value}" for key, value in sorted(fields.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def calendar_links(series: Series, talk: Talk) -> tuple[str, str]:
    """One-click "add to calendar" links: Google Calendar and Outlook on the web (UTC times)."""
    fields = event_fields(series, talk)
    start, end = _utc(talk.start(series)), _utc(talk.end(series))
    video = fields["url"]
    details = "\n".join(part for part in (
        f"Speaker: {talk.speaker_line()}" if talk.status == Status.CONFIRMED else "",
        f"{series.video_label or 'Video link'}: {video}" if video else "",
        series.website or "") if part)
    google = "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": fields["summary"],
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "details": details, "location": fields["location"] or video})
    outlook = "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": fields["summary"],
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}", "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "body": details, "location": fields["location"] or video})
    return google, outlook
