"""Read and validate ``series.yaml`` and the talk records, and pick the talks a command needs.

Errors name the file, the line and the key, and say what was expected. Records
are read one file at a time and only when needed: a file's name carries its
date, so picking "this week's seminar" reads the directory listing, not every
record.
"""

from __future__ import annotations

import bisect
import difflib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from mailer.addresses import AddressProblem, control_characters, parse_mailbox
from mailer.config import SECURITY_MODES, MailSettings, SmtpSettings
from mailer.errors import InputError
from mailer.model import STATUSES, Seminar, Series, Speaker

MAX_FILE_BYTES = 1 << 20  # a talk record or series file is a few KiB; 1 MiB is surely a mistake
MAX_DEPTH = 16  # the deepest real structure is series.yaml's mail.smtp (3 levels)
SERIES_FILE = "series.yaml"
_RECORD_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-(.+))?\.yaml")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NULL_TAG = "tag:yaml.org,2002:null"


def display_path(path: Path) -> str:
    """Show ``path`` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses aliases and deep nesting before building anything."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            raise _Problem(
                line,
                f"YAML aliases (*{event.anchor}) are not allowed in these files",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Problem(line, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"


@dataclass
class Record:
    """A YAML mapping with the line of every key; collects the problems found in it."""

    path: Path
    lines: dict[str, int]
    nodes: dict[str, yaml.Node]
    loader: _Loader
    prefix: str = ""
    problems: list[str] = field(default_factory=list)
    line: int = 1

    @property
    def where(self) -> str:
        """The file as shown in messages."""
        return display_path(self.path)

    def report(self, key: str, message: str, line: int | None = None) -> None:
        """Note a problem with ``key``."""
        at = self.lines.get(key, self.line) if line is None else line
        self.problems.append(f"{self.where}:{at}: {self.prefix}{key}: {message}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        """Report every key that is not in ``allowed``, with a suggestion."""
        for key in self.nodes:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f'; did you mean "{close[0]}"?' if close else (
                    "; known keys: " + ", ".join(allowed)
                )
                self.report(key, f"unknown key{hint}")

    def text(self, key: str, *, required: bool = False, single_line: bool = False) -> str | None:
        """Return the text of ``key`` exactly as written (YAML does not reinterpret it)."""
        node = self.nodes.get(key)
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG
                            and node.style is None):
            if required:
                self.report(key, "is required", self.line if node is None else None)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.report(key, f"expected text, found {_kind_of(node)}")
            return None
        value = str(node.value)
        if node.style in ("|", ">"):
            value = value.rstrip("\n")
        if single_line and control_characters(value):
            self.report(key, f"{value!r} holds a line break or control character; "
                             "write it on one line")
            return None
        if required and not value.strip():
            self.report(key, "is empty")
            return None
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """Return a whole number in ``low..high``, or ``default`` when absent."""
        raw = self.text(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.report(key, f'"{raw}" is not a whole number')
            return default
        if not low <= value <= high:
            self.report(key, f"{value} is out of range ({low}..{high})")
            return default
        return value

    def clock(self, key: str, *, required: bool = False) -> time | None:
        """Return a time of day written ``HH:MM`` (quoted or not)."""
        raw = self.text(key, required=required)
        if raw is None:
            return None
        match = _TIME.fullmatch(raw.strip())
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
        self.report(key, f'"{raw}" is not a time of day (HH:MM)')
        return None

    def url(self, key: str) -> str | None:
        """Return a web address (http or https) written on one line."""
        value = self.text(key, single_line=True)
        if value is not None and (not value.startswith(("https://", "http://"))
                                  or any(ch.isspace() for ch in value)):
            self.report(key, f'"{value}" is not a web address (https://...)')
            return None
        return value

    def day(self, key: str) -> date | None:
        """Return a date written ``YYYY-MM-DD``."""
        raw = self.text(key, required=True)
        if raw is None:
            return None
        return _parse_date(raw.strip(), lambda why: self.report(key, why))

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        """Return one of ``options``."""
        raw = self.text(key)
        if raw is None:
            return default
        if raw not in options:
            close = difflib.get_close_matches(raw, options, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            self.report(key, f'"{raw}" is not one of {", ".join(options)}{hint}')
            return default
        return raw

    def sub(self, key: str) -> Record | None:
        """Return the mapping under ``key`` as a record of its own (problems shared)."""
        node = self.nodes.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.report(key, f"expected a mapping, found {_kind_of(node)}")
            return None
        inner = _record_from_node(self.path, node, self.loader, f"{self.prefix}{key}.")
        inner.problems = self.problems
        return inner

    def value(self, key: str) -> Any:
        """Return the plain YAML value of ``key`` (for free-form mappings such as front matter)."""
        node = self.nodes.get(key)
        return None if node is None else self.loader.construct_object(node, deep=True)

    def finish(self) -> None:
        """Raise every problem found, together."""
        if self.problems:
            raise InputError("\n".join(self.problems))


def _parse_date(raw: str, report: Callable[[str], None]) -> date | None:
    if not _DATE.fullmatch(raw):
        report(f'"{raw}" is not a date (YYYY-MM-DD)')
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        report(f'"{raw}" is not a valid date ({exc})')
        return None


def _record_from_node(path: Path, node: yaml.MappingNode, loader: _Loader, prefix: str) -> Record:
    record = Record(path, {}, {}, loader, prefix, line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            record.problems.append(f"{record.where}:{line}: {prefix}: keys must be plain words")
            continue
        key = str(key_node.value)
        if key in record.nodes:
            record.problems.append(f"{record.where}:{line}: {prefix}{key}: given twice")
            continue
        record.lines[key] = line
        record.nodes[key] = value_node
    return record


def read_record(path: Path, what: str) -> Record:
    """Read one YAML file that must hold a mapping; raise :class:`InputError` otherwise."""
    where = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{where}: {size} bytes is too large for {what} "
                             f"(at most {MAX_FILE_BYTES} bytes)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: no such file ({what})") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a folder, expected {what}") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{where}:{line}: not UTF-8 text (byte {exc.start})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except _Problem as exc:
        raise InputError(f"{where}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError(f"{where}:{line}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: invalid YAML: {exc}") from None
    if node is None:
        raise InputError(f"{where}:1: the file is empty; expected {what}")
    if not isinstance(node, yaml.MappingNode):
        raise InputError(
            f"{where}:{node.start_mark.line + 1}: expected {what} (a mapping of keys), "
            f"found {_kind_of(node)}"
        )
    return _record_from_node(path, node, loader, "")


SERIES_KEYS = (
    "name", "team", "website", "timezone", "default_time", "duration_minutes", "location",
    "video_link", "video_label", "upcoming_count", "announce_days_before", "page", "mail",
)
MAIL_KEYS = (
    "from", "to", "recipients_file", "reply_to", "unsubscribe", "rate_per_minute",
    "retry_seconds", "smtp",
)
SMTP_KEYS = ("host", "port", "security", "username", "timeout")
RECORD_KEYS = (
    "date", "time", "speaker", "affiliation", "speakers", "title", "abstract", "bio",
    "location", "video_link", "status", "note",
)


def _address_list(record: Record, key: str) -> tuple[str, ...]:
    node = record.nodes.get(key)
    if node is None:
        return ()
    items: list[tuple[str, int]] = []
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                record.report(key, f"expected an address, found {_kind_of(item)}",
                              item.start_mark.line + 1)
                continue
            items.append((str(item.value), item.start_mark.line + 1))
    elif isinstance(node, yaml.ScalarNode):
        items.append((str(node.value), node.start_mark.line + 1))
    else:
        record.report(key, f"expected an address or a list of addresses, found {_kind_of(node)}")
    good = []
    for text, line in items:
        try:
            good.append(parse_mailbox(text).header())
        except AddressProblem as why:
            record.report(key, f"{text!r} {why}", line)
    return tuple(good)


def _one_address(record: Record, key: str) -> str | None:
    text = record.text(key)
    if text is None:
        return None
    try:
        return parse_mailbox(text).header()
    except AddressProblem as why:
        record.report(key, f"{text!r} {why}")
        return None


def _mail_settings(record: Record) -> MailSettings:
    mail = record.sub("mail")
    if mail is None:
        return MailSettings()
    mail.check_keys(MAIL_KEYS)
    smtp = SmtpSettings()
    smtp_record = mail.sub("smtp")
    if smtp_record is not None:
        smtp_record.check_keys(SMTP_KEYS)
        smtp = SmtpSettings(
            host=smtp_record.text("host", single_line=True) or smtp.host,
            port=smtp_record.integer("port", smtp.port, 1, 65535),
            security=smtp_record.choice("security", SECURITY_MODES, smtp.security),
            username=smtp_record.text("username", single_line=True),
            timeout=float(smtp_record.integer("timeout", int(smtp.timeout), 1, 600)),
        )
    unsubscribe = mail.text("unsubscribe", single_line=True)
    if unsubscribe is not None and not unsubscribe.startswith(("mailto:", "https://")):
        mail.report("unsubscribe", f'"{unsubscribe}" must be a mailto: or https:// address')
        unsubscribe = None
    return MailSettings(
        sender=_one_address(mail, "from"),
        to=_address_list(mail, "to"),
        recipients_file=mail.text("recipients_file", single_line=True),
        reply_to=_one_address(mail, "reply_to"),
        unsubscribe=unsubscribe,
        rate_per_minute=mail.integer("rate_per_minute", 0, 0, 1_000_000),
        retry_seconds=float(mail.integer("retry_seconds", 30, 0, 24 * 3600)),
        smtp=smtp,
    )


def load_series(root: Path) -> Series:
    """Read and validate ``seminars/series.yaml``."""
    path = root / "seminars" / SERIES_FILE
    if not path.exists():
        raise InputError(
            f"{display_path(path)}: no such file; every series folder needs seminars/{SERIES_FILE} "
            "(run `announce init` to make one, or give --root)"
        )
    record = read_record(path, "the series settings")
    record.check_keys(SERIES_KEYS)
    name = record.text("name", required=True, single_line=True)
    team = record.text("team", required=True, single_line=True)
    zone_name = record.text("timezone", required=True, single_line=True)
    if zone_name is not None:
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            record.report("timezone", f'"{zone_name}" is not an IANA time zone '
                                      "(such as Europe/Stockholm)")
            zone_name = None
    default_time = record.clock("default_time", required=True)
    front_matter: Mapping[str, Any] = {"layout": "default"}
    page = record.sub("page")
    if page is not None:
        page.check_keys(("front_matter",))
        value = page.value("front_matter")
        if value is not None and not isinstance(value, dict):
            page.report("front_matter", "expected a mapping of Jekyll front-matter keys")
        elif value is not None:
            front_matter = value
    mail = _mail_settings(record)
    website = record.url("website")
    duration = record.integer("duration_minutes", 60, 1, 24 * 60)
    location = record.text("location")
    video_link = record.url("video_link")
    video_label = record.text("video_label", single_line=True)
    upcoming_count = record.integer("upcoming_count", 4, 0, 100)
    days_before = record.integer("announce_days_before", 6, 0, 366)
    record.finish()
    assert name and team and zone_name and default_time  # noqa: S101 (finish() raised otherwise)
    return Series(
        name=name, team=team, timezone=zone_name, default_time=default_time, website=website,
        duration_minutes=duration, location=location, video_link=video_link,
        video_label=video_label, upcoming_count=upcoming_count,
        announce_days_before=days_before, front_matter=front_matter, mail=mail,
    )


def _speakers(record: Record) -> tuple[Speaker, ...]:
    node = record.nodes.get("speakers")
    if node is None:
        name = record.text("speaker", single_line=True)
        affiliation = record.text("affiliation", single_line=True)
        if name is None:
            if affiliation is not None:
                record.report("affiliation", "is given without a speaker")
            return ()
        return (Speaker(name, affiliation),)
    for key in ("speaker", "affiliation"):
        if key in record.nodes:
            record.report(key, "cannot be used together with speakers:; "
                               "give each speaker's name and affiliation in the list")
    if not isinstance(node, yaml.SequenceNode):
        record.report("speakers",
                      f"expected a list of {{name, affiliation}}, found {_kind_of(node)}")
        return ()
    speakers = []
    for index, item in enumerate(node.value):
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            item_record = _record_from_node(record.path, yaml.MappingNode(
                "tag:yaml.org,2002:map", [(yaml.ScalarNode("tag:yaml.org,2002:str", "name",
                                                            item.start_mark), item)],
                item.start_mark), record.loader, f"speakers[{index}].")
        elif isinstance(item, yaml.MappingNode):
            item_record = _record_from_node(record.path, item, record.loader,
                                            f"speakers[{index}].")
        else:
            record.report("speakers", f"expected {{name, affiliation}}, found {_kind_of(item)}",
                          line)
            continue
        item_record.problems = record.problems
        item_record.check_keys(("name", "affiliation"))
        name = item_record.text("name", required=True, single_line=True)
        if name:
            speakers.append(Speaker(name, item_record.text("affiliation", single_line=True)))
    return tuple(speakers)


@dataclass(frozen=True, order=True)
class Entry:
    """A record file, known by its name before it is read."""

    date: date
    id: str
    path: Path = field(compare=False)


def load_seminar(entry: Entry) -> Seminar:
    """Read and validate one talk record."""
    record = read_record(entry.path, "a talk record")
    record.check_keys(RECORD_KEYS)
    when = record.day("date")
    if when is not None and when != entry.date:
        record.report("date", f"{when} differs from the date in the file name ({entry.date}); "
                              "rename the file or fix the date")
    seminar = Seminar(
        id=entry.id,
        date=entry.date,
        time=record.clock("time"),
        speakers=_speakers(record),
        title=record.text("title", single_line=True),
        abstract=record.text("abstract"),
        bio=record.text("bio"),
        location=record.text("location"),
        video_link=record.url("video_link"),
        status=record.choice("status", STATUSES, "confirmed"),
        note=record.text("note"),
    )
    record.finish()
    return seminar


class Store:
    """The series folder: ``seminars/series.yaml`` and the talk records beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "seminars"
        self._series: Series | None = None
        self._names: list[str] | None = None
        self._entries: dict[str, Entry | None] = {}
        self._seminars: dict[str, Seminar] = {}

    @property
    def series(self) -> Series:
        """The validated series settings (read once)."""
        if self._series is None:
            self._series = load_series(self.root)
        return self._series

    def _listing(self) -> list[str]:
        """The folder's ``.yaml`` names, sorted: ISO dates first, so sorted by date."""
        if self._names is None:
            try:
                names = os.listdir(self.folder)
            except FileNotFoundError:
                raise InputError(f"{display_path(self.folder)}: no such folder "
                                 "(give --root, or run `announce init`)") from None
            self._names = sorted(n for n in names if n.endswith(".yaml") and n != SERIES_FILE)
        return self._names

    def _entry(self, name: str) -> Entry | None:
        if name not in self._entries:
            match = _RECORD_NAME.fullmatch(name)
            entry = None
            if match is not None:
                path = self.folder / name
                problems: list[str] = []
                when = _parse_date(match[1], problems.append)
                if when is None:
                    raise InputError(f"{display_path(path)}: the file name's date: {problems[0]}")
                entry = Entry(when, name.removesuffix(".yaml"), path)
            self._entries[name] = entry
        return self._entries[name]

    def entries(self, start: date | None = None) -> list[Entry]:
        """The record files dated ``start`` or later (all without it), in date order.

        Only the names from ``start`` on are parsed: a folder of thousands of past talks
        costs one directory listing and one sort of strings.
        """
        names = self._listing()
        first = bisect.bisect_left(names, start.isoformat()) if start is not None else 0
        return [e for e in map(self._entry, names[first:]) if e is not None]

    def stray_files(self) -> list[str]:
        """Name the files in ``seminars/`` that are neither the series nor a dated record."""
        return sorted(
            display_path(self.folder / name) for name in os.listdir(self.folder)
            if name != SERIES_FILE and not _RECORD_NAME.fullmatch(name)
            and name.endswith((".yaml", ".yml"))
        )

    def seminar(self, entry: Entry) -> Seminar:
        """Read one record (once)."""
        if entry.id not in self._seminars:
            self._seminars[entry.id] = load_seminar(entry)
        return self._seminars[entry.id]

    def seminars(self, start: date | None = None) -> Iterator[Seminar]:
        """Read the records from ``start`` on, in date order."""
        for entry in self.entries(start):
            yield self.seminar(entry)

    def find(self, which: str) -> Seminar:
        """Return the talk named by an id (``2024-02-22-mathis``) or a date (``2024-02-22``)."""
        if _DATE.fullmatch(which):
            when = _parse_date(which, lambda why: None)
            matches = [e for e in self.entries(when) if e.date == when] if when else []
        else:
            plain = "/" not in which and "\\" not in which and not which.startswith(".")
            entry = self._entry(f"{which}.yaml") \
                if plain and (self.folder / f"{which}.yaml").is_file() else None
            matches = [entry] if entry is not None else []
        if len(matches) > 1:
            ids = ", ".join(e.id for e in matches)
            raise InputError(f"{which}: several talks on that date ({ids}); name one by its id")
        if not matches:
            known = [name.removesuffix(".yaml") for name in self._listing()]
            close = difflib.get_close_matches(which, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise InputError(f"{which}: no such talk in {display_path(self.folder)}{hint}")
        return self.seminar(matches[0])

    def this_week(self, today: date) -> tuple[Seminar | None, Seminar | None]:
        """Return the talk to announce (or None) and, when there is none, the next one."""
        last = today + timedelta(days=self.series.announce_days_before)
        for seminar in self.seminars(today):
            if seminar.cancelled:
                continue
            if seminar.date <= last:
                return seminar, None
            return None, seminar
        return None, None

    def today_talk(self, today: date) -> Seminar | None:
        """Return the talk that takes place on ``today``, cancelled or not."""
        for entry in self.entries(today):
            return self.seminar(entry) if entry.date == today else None
        return None

    def upcoming(self, after: Seminar) -> list[Seminar]:
        """Return the next ``upcoming_count`` talks after ``after`` that are not cancelled."""
        wanted = self.series.upcoming_count
        found: list[Seminar] = []
        for entry in self.entries(after.date + timedelta(days=1)):
            if len(found) >= wanted:
                break
            seminar = self.seminar(entry)
            if not seminar.cancelled:
                found.append(seminar)
        return found
