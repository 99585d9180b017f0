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

from mailer.series.model import Seminar, Series, Status
from mailer.series.names import slugify

_STATUS = {Status.CONFIRMED: "CONFIRMED", Status.TENTATIVE: "TENTATIVE",
           Status.CANCELLED: "CANCELLED"}


def uid(series: Series, seminar: Seminar) -> str:
    """Return the talk's UID: stable for the life of the talk, across a `move` too (the
    record's ``uid:`` keeps its first id; one that holds an ``@`` is a UID as it stands)."""
    if "@" in seminar.key:
        return seminar.key
    return f"{seminar.key}.{slugify(series.name) or 'series'}@announce"


def _summary(series: Series, seminar: Seminar) -> str:
    who = seminar.speaker_line()
    if seminar.title:
        return f"{series.name}: {seminar.title} ({who})"
    return f"{series.name}: {who}"


def _description(series: Series, seminar: Seminar) -> str:
    video = seminar.call(series)
    parts = [f"Speaker: {seminar.speaker_line()}"]
    if seminar.title:
        parts.insert(0, f"Title: {seminar.title}")
    if video:
        parts.append(f"{series.video_label or 'Video link'}: {video}")
    if seminar.recording:
        parts.append(f"Recording: {seminar.recording}")
    if seminar.slides:
        parts.append(f"Slides: {seminar.slides}")
    if seminar.note:
        parts.append(f"Note: {seminar.note}")
    if seminar.abstract:
        parts.append(f"Abstract: {seminar.abstract}")
    return "\n\n".join(parts)


def event_fields(series: Series, seminar: Seminar) -> dict[str, str]:
    """Return what a calendar shows of the talk, as text (the basis of SEQUENCE).

    A tentative talk shows as TBA, as it does in every public list, until it is confirmed.
    """
    if seminar.status == Status.TENTATIVE:
        seminar = replace(seminar, speakers=(), title=None, abstract=None)
    return {
        "start": seminar.start(series).isoformat(),
        "end": seminar.end(series).isoformat(),
        "summary": _summary(series, seminar),
        "location": seminar.place(series) or "",
        "url": seminar.call(series) or "",
        "description": _description(series, seminar),
        "status": _STATUS[seminar.status],
    }


def event_digest(series: Series, seminar: Seminar) -> str:
    """Return a short fingerprint of what a calendar shows of the talk."""
    fields = event_fields(series, seminar)
    text = "\x1f".join(f"{key}={value}" for key, value in sorted(fields.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def calendar_links(series: Series, seminar: Seminar) -> tuple[str, str]:
    """One-click "add to calendar" links: Google Calendar and Outlook on the web (UTC times)."""
    fields = event_fields(series, seminar)
    start, end = _utc(seminar.start(series)), _utc(seminar.end(series))
    video = fields["url"]
    details = "\n".join(part for part in (
        f"Speaker: {seminar.speaker_line()}" if seminar.status == Status.CONFIRMED else "",
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
