"""One talk given as keys and values, a page's front matter or an item of a data file, into a
:class:`Draft`.

The common keys of talk pages and schedules map to the record (``title``, ``speaker``/
``speakers``/``author``, ``affiliation``, ``date``, ``time``, ``location``/``venue``,
``link``/``zoom``/``video``, ``abstract``, ``bio``, ``image``/``photo``, ``slides``,
``recording``/``video_url``, ``status``, ``holiday``, ``note``). A key the record has no place
for (``registration``, ``tags``, ``flyer``, ``resources``) is carried into ``note`` under its
name, and reported; a key of the site's own plumbing (``layout``, ``permalink``) is named in the
report. Nothing is dropped in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from mailer.errors import InputError
from mailer.importing.draft import Draft, given, shorten
from mailer.importing.speakerlines import parse_speakers
from mailer.importing.when import parse_clock, parse_when
from mailer.render.usertext import decode_entities
from mailer.series.model import Speaker, Status

Value = Union[str, list["Value"], dict[str, "Value"]]  # noqa: UP007 (a recursive alias)

_KEYS = {
    "title": "title", "talk_title": "title", "speaker": "speaker", "speakers": "speaker",
    "author": "speaker", "authors": "speaker", "presenter": "speaker", "presenters": "speaker",
    "speaker_name": "speaker", "name": "speaker", "affiliation": "affiliation",
    "affiliations": "affiliation", "institution": "affiliation", "organization": "affiliation",
    "organisation": "affiliation", "speaker_affiliation": "affiliation", "email": "email",
    "date": "date", "day": "date", "when": "date", "time": "time", "start_time": "time",
    "end_time": "end", "location": "location", "venue": "location", "room": "location",
    "place": "location", "where": "location", "link": "video_link", "zoom": "video_link",
    "video": "video_link", "zoom_link": "video_link", "video_link": "video_link",
    "meeting_link": "video_link", "abstract": "abstract", "summary": "abstract",
    "description": "abstract", "bio": "bio", "biography": "bio", "speaker_bio": "bio",
    "about_the_speaker": "bio", "image": "photo", "photo": "photo", "picture": "photo",
    "headshot": "photo", "speaker_image": "photo", "speaker_photo": "photo",
    "slides": "slides", "slides_url": "slides", "recording": "recording",
    "video_url": "recording", "recording_url": "recording", "youtube": "recording",
    "status": "status", "holiday": "cancelled", "break": "cancelled",
    "no_seminar": "cancelled", "cancelled": "cancelled", "canceled": "cancelled",
    "note": "note", "notes": "note", "comment": "note", "comments": "note",
}
# The site's plumbing, not the talk's: named in the report, not carried into the note.
SITE_KEYS = {"layout", "permalink", "published", "sitemap", "excerpt_separator",
             "redirect_from", "metatags", "slug", "last_modified_at", "output", "toc", "nav_order"}
_URL = re.compile(r"https?://\S+")
_CANCELLED = re.compile(
    r"(?i)\b(holidays?|break|no\s+(seminar|talk|meeting|class)s?|cancell?ed|postponed|recess|"
    r"vacation|inställ[dt]a?|inget\s+seminarium|ingen\s+föreläsning|helgdag|"
    r"(?:sport|påsk|jul|höst|sommar|vinter)?lov)\b")
_OPEN = re.compile(r"(?i)(tb[ad]|open|up for grabs!*|available|speaker wanted|öppen|ledig tid)"
                   r"[\s!.*]*")
_TENTATIVE = re.compile(r"(?i)\s*[(\[]?\b(tentative(ly)?|preliminary|prel\.|unconfirmed|tbc|"
                        r"to be confirmed|preliminärt?)\b[)\]]?\s*")


def status_in(text: str) -> Status | None:
    """The status words say (``Spring Break`` -> cancelled, ``TBD`` -> open), or None."""
    bare = text.strip().strip("*_ ")
    if _CANCELLED.search(bare):
        return Status.CANCELLED
    if _OPEN.fullmatch(bare):
        return Status.OPEN
    if _TENTATIVE.search(bare):
        return Status.TENTATIVE
    return None


def without_tentative(text: str) -> str:
    """A speaker cell without its ``(tentative)``."""
    return _TENTATIVE.sub(" ", text).strip(" ,;:-")


@dataclass
class Entry:
    """A mapping of keys as written: each key's value and line."""

    source: str  # "front matter", "the entry"
    values: dict[str, tuple[Value, int]]


def as_text(value: Value) -> str:
    """A value as Markdown: text as it is, a list as a list, a mapping as ``key: value``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        named = {str(k).lower(): v for k, v in value.items()}
        label, url = named.get("name", named.get("title")), named.get("url", named.get("link"))
        if isinstance(label, str) and isinstance(url, str) and len(value) == 2:
            return f"[{label}]({url})"
        return "\n".join(f"{k}: {as_text(v)}" for k, v in value.items())
    return "\n".join("- " + as_text(item).replace("\n", "\n  ") for item in value)


def _speakers(value: Value, affiliation: str | None) -> tuple[list[Speaker], str | None]:
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        found: list[Speaker] = []
        doubts = []
        for item in value:
            if isinstance(item, dict):
                named = {str(k).lower(): as_text(v) for k, v in item.items()}
                name = given(named.get("name"))
                if name:
                    found.append(Speaker(name, given(named.get("affiliation") or
                                                     named.get("institution")),
                                         given(named.get("email"))))
            else:
                people, doubt = parse_speakers(as_text(item))
                found += people
                doubts += [doubt] if doubt else []
        return found, "; ".join(doubts) or None
    if affiliation is None:
        return parse_speakers(value)
    names = [n.strip() for n in re.split(r";|\n|\s+and\s+|\s+&\s+", value) if given(n)]
    places = [p.strip() for p in affiliation.split(";")]
    places = places * len(names) if len(places) == 1 else places
    return [Speaker(n, given(places[i]) if i < len(places) else None)
            for i, n in enumerate(names)], None


def _status(draft: Draft, entry: Entry, key: str, value: Value, line: int) -> None:
    text = as_text(value).strip()
    if key == "status" and text.lower() in tuple(Status):
        draft.status = Status(text.lower())
        draft.took("status", line, f"{entry.source} {key}")
        return
    draft.status = Status.CANCELLED if key != "status" else (status_in(text) or draft.status)
    if text and text.lower() not in ("true", "yes"):
        draft.append_note(decode_entities(text), line)
    draft.add_note(line, f"{entry.source} {key}: {shorten(text)!r}: imported as "
                         f"{draft.status}")


def _speaker_key(draft: Draft, entry: Entry, value: Value, line: int,
                 affiliation: str | None) -> None:
    text = as_text(value)
    word = status_in(text) if isinstance(value, str) else None
    if word in (Status.CANCELLED, Status.OPEN) or (word and not without_tentative(text)):
        draft.status = word
        if given(text):
            draft.append_note(decode_entities(text.strip()), line)
        draft.add_note(line, f"{entry.source} speaker: {shorten(text)!r} is not a name; "
                             f"imported as {word}")
        return
    if word == Status.TENTATIVE and isinstance(value, str):
        draft.status, value = word, without_tentative(value)
        draft.add_note(line, f"{entry.source} speaker: {shorten(text)!r}: imported as tentative")
    people, doubt = _speakers(decode_entities(value) if isinstance(value, str) else value,
                              affiliation)
    _speaker_extras(draft, entry, value, line)
    draft.speakers += people
    if people:
        draft.took("speakers", line, f"{entry.source} speaker")
    if doubt:
        draft.guess = " ".join(text.split())
        draft.add_note(line, f"the speaker line {doubt}")


_SPEAKER_OWN = {"name", "affiliation", "institution", "email"}


def _speaker_extras(draft: Draft, entry: Entry, value: Value, line: int) -> None:
    """A speaker mapping's other keys: its bio and photo to the talk's, the rest to the note."""
    for item in [value] if isinstance(value, dict) else value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        who = as_text(item.get("name", "the speaker"))
        for key, extra in item.items():
            field = _KEYS.get(re.sub(r"[\s-]+", "_", key.strip().lower()))
            text = as_text(extra).strip()
            if key.lower() in _SPEAKER_OWN or not given(text):
                continue
            if field == "bio":
                draft.append("bio", decode_entities(text), line)
                draft.took("bio", line, f"{entry.source} speaker {who}: {key}")
            elif field == "photo" and draft.photo is None:
                draft.photo = text
                draft.took("photo", line, f"{entry.source} speaker {who}: {key}")
            else:
                draft.append_note(f"{who}, {key}: {decode_entities(text)}", line)
                draft.add_note(line, f"{entry.source} speaker {who}: {key}: carried into note")


def _when(draft: Draft, entry: Entry, key: str, value: Value, line: int) -> str | None:
    """Fill the date or time; return the problem, if any."""
    field = _KEYS.get(re.sub(r"[\s-]+", "_", key.strip().lower()), "time")
    raw = " ".join(as_text(value).split())
    try:
        if field == "date":
            draft.day, clock = parse_when(raw)
        else:
            clock = parse_clock(raw)
    except ValueError as exc:
        what = "a day of the calendar" if field == "date" else "a time of day"
        where = "front matter: " if entry.source == "front matter" else ""
        return f"{draft.file}:{line}: {where}{key}: {raw} is not {what} ({exc})"
    if clock is not None and field == "end":
        draft.end = clock.start
    elif clock is not None:
        draft.time, draft.zone = clock.start, clock.zone or draft.zone
        draft.end = clock.end or draft.end
    draft.took(field if field != "end" else "time", line, f"{entry.source} {field} {raw!r}")
    return None


def _link(draft: Draft, entry: Entry, key: str, value: Value, line: int, *, field: str) -> None:
    text = as_text(value).strip()
    if _URL.fullmatch(text):
        setattr(draft, field, text)
        draft.took(field, line, f"{entry.source} {key}")
    elif given(text):
        draft.append_note(f"{key}: {text}", line)
        draft.add_note(line, f"{entry.source} {key}: {shorten(text)!r} is not a web address; "
                             "carried into note")


def _other(draft: Draft, entry: Entry, key: str, value: Value, line: int) -> None:
    """A key the record has no place for: into the note, or (the site's own) the report."""
    text = as_text(value).strip()
    if not text:
        return
    if key.lower() in SITE_KEYS:
        draft.leave(line, f"{key}: {text}")
        return
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        text = ", ".join(item.strip() for item in value if isinstance(item, str))
    joiner = "\n" if "\n" in text else " "
    draft.append_note(f"{key}:{joiner}{decode_entities(text)}", line)
    draft.add_note(line, f"{entry.source} {key}: has no place in a record; carried into note")


def apply_entry(draft: Draft, entry: Entry) -> None:
    """Fill ``draft`` from the entry's keys; every problem together as one InputError."""
    problems: list[str] = []
    fields = {key: _KEYS.get(re.sub(r"[\s-]+", "_", key.strip().lower())) for key in entry.values}
    affiliation = next((as_text(v) for k, (v, _) in entry.values.items()
                        if fields[k] == "affiliation" and given(as_text(v))), None)
    for key, (value, line) in entry.values.items():
        field = fields[key]
        if field == "speaker" and (key.lower() != "name" or "speaker" not in fields.values()):
            _speaker_key(draft, entry, value, line, affiliation)
        elif field in ("date", "time", "end"):
            problem = _when(draft, entry, key, value, line)
            problems += [problem] if problem else []
        elif field in ("status", "cancelled"):
            _status(draft, entry, key, value, line)
        elif field in ("video_link", "slides", "recording"):
            _link(draft, entry, key, value, line, field=field)
        elif field == "photo" and isinstance(value, str) and given(value):
            draft.photo = value.strip()
            draft.took("photo", line, f"{entry.source} {key}")
        elif field in ("title", "location") and getattr(draft, field) is None and\
                given(as_text(value)):
            joiner = " " if field == "title" else "\n"
            setattr(draft, field, decode_entities(joiner.join(as_text(value).split("\n"))))
            draft.took(field, line, f"{entry.source} {key}")
        elif field in ("abstract", "bio", "note") and given(as_text(value)) and\
                (field == "note" or getattr(draft, field) is None):
            draft.append(field, decode_entities(as_text(value).strip()), line)
            draft.took(field, line, f"{entry.source} {key}")
        elif field not in ("affiliation", "email"):
            _other(draft, entry, key, value, line)
    _people_keys(draft, entry, fields)
    _title_says(draft, entry)
    if problems:
        raise InputError("\n".join(problems))


def _title_says(draft: Draft, entry: Entry) -> None:
    """A title and no speaker that says the week is free (``No seminar (Labour Day)``)."""
    said = status_in(draft.title) if draft.title and not draft.speakers else None
    if said in (Status.CANCELLED, Status.OPEN) and draft.status == Status.CONFIRMED:
        draft.status = said
        draft.append_note(draft.title or "")
        draft.add_note(draft.where.rsplit(":", 1)[1], f"{entry.source} title: "
                       f"{shorten(draft.title or '')!r} is read as {said}")
        draft.title = None


def _people_keys(draft: Draft, entry: Entry, fields: dict[str, str | None]) -> None:
    """``affiliation`` went with the speaker; ``email`` goes to the one speaker; else the note."""
    for key, (value, line) in entry.values.items():
        text = as_text(value).strip()
        if fields[key] == "email" and len(draft.speakers) == 1 and "@" in text:
            first = draft.speakers[0]
            draft.speakers[0] = Speaker(first.name, first.affiliation, text)
        elif fields[key] == "affiliation" and draft.speakers:
            pass  # given to the speakers with their names
        elif fields[key] in ("email", "affiliation"):
            _other(draft, entry, key, value, line)
