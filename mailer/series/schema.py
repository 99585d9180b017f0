"""The two schemas: ``series.yaml`` and a talk record, read into model objects.

Every error names the file, the line and the key, and says what was expected; all
problems of a file are reported together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailer.addresses import AddressProblem, parse_mailbox
from mailer.errors import InputError
from mailer.net.servers import (
    AUTH_MODES,
    MAX_CONNECTIONS,
    SECURITY_MODES,
    ImapSettings,
    SmtpSettings,
)
from mailer.paths import (
    HEIC_HINT,
    IMAGE_FORMATS,
    MAX_IMAGE_BYTES,
    image_format,
    is_heif,
    read_regular,
)
from mailer.series import people
from mailer.series.mailconfig import DEFAULT_RETRY_SECONDS, InboxSettings, MailSettings
from mailer.series.model import DEFAULT_FRONT_MATTER, ImageStyle, Series, Status, Talk
from mailer.series.yamlfile import YamlMap, read_record

SERIES_KEYS = (
    "name", "team", "website", "timezone", "default_time", "duration_minutes", "location",
    "video_link", "video_label", "upcoming_count", "announce_days_before", "announce_at",
    "remind_at", "page", "mail", "images", "cadence", "followup_days_after", "speakers",
    "incomplete",
)
CADENCES = ("weekly", "biweekly")
IMAGE_KEYS = ("background", "accent", "text", "logo")
MAIL_KEYS = (
    "from", "to", "recipients_file", "reply_to", "unsubscribe", "rate_per_minute",
    "retry_seconds", "smtp", "inbox", "confirm_unsubscribe", "subscribe", "web",
)
SMTP_KEYS = ("host", "port", "security", "username", "timeout", "auth", "password_command",
             "connections")
RECORD_KEYS = (
    "date", "time", "speaker", "affiliation", "speakers", "title", "abstract", "bio",
    "location", "video_link", "status", "note", "photo", "uid", "recording", "slides",
    "email", "host",
)
STATUSES = tuple(Status)
# The defaults of series.yaml have one home, the model: the schema asks it.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Series)}
# One URL, as List-Unsubscribe carries it between < and > (RFC 2369): printable ASCII,
# nothing that would end it or start another.
_URL = re.compile(r"[!#-+\--;=?-~]+")


def _address_list(record: YamlMap, key: str) -> tuple[str, ...]:
    good = []
    for text, line in record.scalars(key, "an address"):
        try:
            good.append(parse_mailbox(text).text())
        except AddressProblem as why:
            record.report(key, f"{text!r} {why}", line)
    return tuple(good)


def _one_address(record: YamlMap, key: str) -> str | None:
    text = record.text(key)
    if text is None:
        return None
    try:
        return parse_mailbox(text).text()
    except AddressProblem as why:
        record.report(key, f"{text!r} {why}")
        return None


def _smtp_settings(mail: YamlMap) -> SmtpSettings:
    smtp = SmtpSettings()
    record = mail.sub("smtp")
    if record is None:
        return smtp
    record.check_keys(SMTP_KEYS)
    return SmtpSettings(
        host=record.text("host", single_line=True) or smtp.host,
        port=record.integer("port", smtp.port, 1, 65535),
        security=record.choice("security", SECURITY_MODES, smtp.security),
        username=record.text("username", single_line=True),
        timeout=float(record.integer("timeout", int(smtp.timeout), 1, 600)),
        auth=record.choice("auth", AUTH_MODES, smtp.auth),
        password_command=record.text("password_command", single_line=True),
        connections=record.integer("connections", smtp.connections, 1, MAX_CONNECTIONS),
    )


def _url(record: YamlMap, key: str, schemes: tuple[str, ...]) -> str | None:
    """One address of ``schemes`` (``mailto:``, ``https://``), as a mail header carries it."""
    url = record.text(key, single_line=True)
    if url is not None and (not url.startswith(schemes) or not _URL.fullmatch(url)):
        record.report(key, f'"{url}" must be one {" or ".join(schemes)} address (ASCII, no '
                           "spaces, commas or angle brackets; percent-encode them)")
        return None
    return url


def _web(mail: YamlMap) -> str | None:
    """``mail.web.base_url``: where ``announce serve`` answers, as people reach it."""
    web = mail.sub("web")
    if web is None:
        return None
    web.check_keys(("base_url",))
    url = _url(web, "base_url", ("https://", "http://localhost", "http://127.0.0.1"))
    return url.rstrip("/") if url else None


def _mail_settings(record: YamlMap) -> MailSettings:
    mail = record.sub("mail")
    if mail is None:
        return MailSettings()
    mail.check_keys(MAIL_KEYS)
    unsubscribe = _url(mail, "unsubscribe", ("mailto:", "https://"))
    return MailSettings(
        subscribe=_url(mail, "subscribe", ("mailto:",)),
        web=_web(mail),
        sender=_one_address(mail, "from"),
        to=_address_list(mail, "to"),
        recipients_file=mail.text("recipients_file", single_line=True),
        reply_to=_one_address(mail, "reply_to"),
        unsubscribe=unsubscribe,
        rate_per_minute=mail.integer("rate_per_minute", 0, 0, 1_000_000),
        retry_seconds=float(mail.integer("retry_seconds", int(DEFAULT_RETRY_SECONDS), 0,
                                         24 * 3600)),
        smtp=_smtp_settings(mail),
        inbox=_inbox_settings(mail),
        confirm_unsubscribe=mail.choice("confirm_unsubscribe", ("true", "false"),
                                        "false") == "true",
    )


IMAP_KEYS = ("host", "port", "security", "username", "auth", "password_command", "folder",
             "timeout")


def _inbox_settings(mail: YamlMap) -> InboxSettings | None:
    inbox = mail.sub("inbox")
    if inbox is None:
        return None
    inbox.check_keys(("imap", "maildir"))
    maildir = inbox.text("maildir", single_line=True)
    imap = inbox.sub("imap")
    if (imap is None) == (maildir is None):
        inbox.report("imap" if imap else "maildir", "give either imap: {host, ...} or "
                     "maildir: PATH, not both")
        return None
    if imap is None:
        return InboxSettings(maildir=maildir)
    imap.check_keys(IMAP_KEYS)
    host = imap.text("host", required=True, single_line=True) or "localhost"
    security = imap.choice("security", SECURITY_MODES, "tls")
    return InboxSettings(imap=ImapSettings(
        host=host, security=security,
        port=imap.integer("port", 993 if security == "tls" else 143, 1, 65535),
        username=imap.text("username", single_line=True),
        auth=imap.choice("auth", ("auto", "xoauth2", "oauthbearer"), "auto"),
        password_command=imap.text("password_command", single_line=True),
        folder=imap.text("folder", single_line=True) or "INBOX",
        timeout=float(imap.integer("timeout", 30, 1, 600))))


def _zone(record: YamlMap) -> str | None:
    name = record.text("timezone", required=True, single_line=True)
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            record.report("timezone", f'"{name}" is not an IANA time zone '
                                      "(such as Europe/Stockholm)")
            return None
    return name


def _front_matter(record: YamlMap) -> tuple[Mapping[str, Any], str | None]:
    """``page.front_matter`` and ``page.url`` (the site path the talk pages are published at)."""
    page = record.sub("page")
    if page is None:
        return DEFAULT_FRONT_MATTER, None
    page.check_keys(("front_matter", "url"))
    url = page.text("url", single_line=True)
    if url is not None and not re.fullmatch(r"/(?:[A-Za-z0-9._~-]+/)*", url.rstrip("/") + "/"):
        page.report("url", f"{url!r} is not a path on the site such as /lm/ (letters, digits, "
                           "'.', '_', '~', '-' between slashes)")
        url = None
    url = url.rstrip("/") + "/" if url is not None else None
    value = page.value("front_matter")
    if value is None:
        return DEFAULT_FRONT_MATTER, url
    if not isinstance(value, dict):
        page.report("front_matter", "expected a mapping of Jekyll front-matter keys")
        return {}, url
    return value, url


def load_series(path: Path) -> Series:
    """Read and validate ``seminars/series.yaml``."""
    record = read_record(path, "the series settings")
    record.check_keys(SERIES_KEYS)
    name = record.text("name", required=True, single_line=True)
    team = record.text("team", required=True, single_line=True)
    zone_name = _zone(record)
    default_time = record.clock("default_time", required=True)
    front_matter, page_url = _front_matter(record)
    mail = _mail_settings(record)
    images = _image_style(record, path.parent.parent)
    website = record.url("website")
    duration = record.integer("duration_minutes", _DEFAULTS["duration_minutes"], 1, 24 * 60)
    location = record.words("location")
    video_link = record.url("video_link")
    video_label = record.text("video_label", single_line=True)
    upcoming_count = record.integer("upcoming_count", _DEFAULTS["upcoming_count"], 0, 100)
    days_before = record.integer("announce_days_before", _DEFAULTS["announce_days_before"],
                                 0, 366)
    announce_at = record.clock("announce_at") or _DEFAULTS["announce_at"]
    remind_at = record.clock("remind_at")
    cadence = record.choice("cadence", CADENCES, _DEFAULTS["cadence"])
    followup = record.integer("followup_days_after", 0, 1, 366) or None  # absent: no follow-up
    incomplete = record.choice("incomplete", ("announce", "hold"), "announce")
    speaker_mail = people.speaker_mail(record)
    record.finish()
    assert name and team and zone_name and default_time  # noqa: S101 (finish() raised otherwise)
    return Series(
        name=name, team=team, timezone=zone_name, default_time=default_time, website=website,
        duration_minutes=duration, location=location, video_link=video_link,
        video_label=video_label, upcoming_count=upcoming_count,
        announce_days_before=days_before, announce_at=announce_at, remind_at=remind_at,
        front_matter=front_matter, page_url=page_url, mail=mail, images=images,
        cadence=cadence, followup_days_after=followup, speaker_mail=speaker_mail,
        incomplete=incomplete,
    )


def _colour(record: YamlMap, key: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    text = record.text(key, single_line=True)
    if text is None:
        return default
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text.strip()):
        value = int(text.strip()[1:], 16)
        return (value >> 16, (value >> 8) & 255, value & 255)
    record.report(key, f'"{text}" is not a colour; write it as #RRGGBB (such as #2b1654)')
    return default


def _image_style(record: YamlMap, root: Path) -> ImageStyle:
    """The ``images:`` section: the colours and the logo of the talk's images."""
    images = record.sub("images")
    if images is None:
        return ImageStyle()
    images.check_keys(IMAGE_KEYS)
    default = ImageStyle()
    return ImageStyle(background=_colour(images, "background", default.background),
                      accent=_colour(images, "accent", default.accent),
                      text=_colour(images, "text", default.text),
                      logo=image_file(images, "logo", root))


def _check_local_time(record: YamlMap, talk: Talk, series: Series) -> None:
    """Report a start that does not exist on the day: the clocks skip it (spring forward)."""
    start = talk.start(series)
    there = start.astimezone(UTC).astimezone(series.zone)
    if there.replace(tzinfo=None) != start.replace(tzinfo=None):
        key = "time" if talk.time is not None else "date"
        record.report(key, f"{start:%H:%M} does not exist on {talk.date} in "
                           f"{series.timezone} (the clocks go forward over it); choose "
                           f"another time, such as {there:%H:%M}")


_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}")


def _uid(record: YamlMap) -> str | None:
    """``uid:``: the talk's identity (its first id), as `move` writes it."""
    written = record.text("uid", single_line=True)
    if written is not None and not _UID.fullmatch(written):
        record.report("uid", f"{written!r} is not a talk identity (letters, digits and . _ @ + -, "
                             "as `announce move` writes it); it must stay as it was written")
        return None
    return written


def load_talk(path: Path, talk_id: str, day: date, series: Series | None = None) -> Talk:
    """Read and validate one talk record; ``day`` is the date in its file name. With
    ``series``, the talk's start must exist in the series' time zone."""
    record = read_record(path, "a talk record")
    record.check_keys(RECORD_KEYS)
    when = record.day("date")
    if when is not None and when != day:
        record.report("date", f"{when} differs from the date in the file name ({day}); "
                              "rename the file or fix the date")
    talk = Talk(
        id=talk_id,
        date=day,
        time=record.clock("time"),
        speakers=people.speakers(record),
        title=record.words("title", single_line=True),
        abstract=record.words("abstract"),
        bio=record.words("bio"),
        location=record.words("location"),
        video_link=record.url("video_link"),
        status=Status(record.choice("status", STATUSES, Status.CONFIRMED)),
        note=record.words("note"),
        photo=image_file(record, "photo", path.parent.parent),
        uid=_uid(record),
        host=people.host(record),
        recording=record.url("recording"),
        slides=record.url("slides"),
    )
    if series is not None and not record.problems:
        _check_local_time(record, talk, series)
    record.finish()
    return talk


def image_file(record: YamlMap, key: str, root: Path) -> str | None:
    """The path as written, once it names a JPEG, PNG or WebP file under ``root``."""
    written = record.text(key, single_line=True)
    if written is None:
        return None
    path = (root / written).resolve()
    if Path(written).is_absolute() or not path.is_relative_to(root.resolve()):
        record.report(key, f'"{written}" is not under the series folder; give a path '
                           "relative to it, such as photos/speaker.jpg")
        return None
    try:
        head = read_regular(root / written, "an image", inside=root, limit=MAX_IMAGE_BYTES,
                            head=16)
    except InputError as exc:
        record.report(key, f'"{written}": {str(exc).partition(": ")[2]} (the path is relative '
                           "to the series folder)")
        return None
    if image_format(head) is None and (is_heif(head) or
                                       written.lower().endswith((".heic", ".heif"))):
        record.report(key, f'"{written}" {HEIC_HINT}')
        return None
    if image_format(head) is None:
        record.report(key, f'"{written}" is not a {", ".join(IMAGE_FORMATS)} image')
        return None
    return written
