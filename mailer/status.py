"""Where the season stands: ``list`` (one typed row per talk) and ``check`` (is every file good)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailer.delivery.ledger import KindSummary, Ledger
from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.model import TBA, Kind, Seminar, Status
from mailer.series.schedule import upcoming_after
from mailer.series.settings import MailSettings
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.delivery.history import Went
    from mailer.delivery.keeping import Copy
    from mailer.smtp.connect import ServerInfo


@dataclass(frozen=True)
class Row:
    """One talk as ``list`` shows it."""

    id: str
    date: date
    time: str  # local time with the zone, "16:00 CEST"
    speaker: str
    affiliation: str
    status: Status
    note: str | None
    missing: tuple[str, ...]
    sent: dict[Kind, KindSummary | None]
    addressed: bool = True  # a speaker has an email: address (so announce can ask them)

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON values."""
        return {
            "id": self.id, "date": self.date.isoformat(), "time": self.time,
            "speaker": self.speaker, "affiliation": self.affiliation,
            "status": str(self.status), "note": self.note, "missing": list(self.missing),
            "speaker_address": self.addressed,
            "sent": {str(kind): None if summary is None else {
                "recipients": summary.sent, "refused": summary.refused, "last": summary.last}
                for kind, summary in self.sent.items()},
        }


def _row(seminar: Seminar, store: Store, ledger: Ledger | None) -> Row:
    return Row(
        id=seminar.id,
        date=seminar.date,
        time=seminar.start(store.series).strftime("%H:%M %Z"),
        speaker="; ".join(s.name for s in seminar.speakers) or TBA,
        affiliation="; ".join(dict.fromkeys(s.affiliation or "" for s in seminar.speakers)),
        status=seminar.status,
        note=seminar.note,
        missing=tuple(seminar.missing(photo=True)) if seminar.takes_place else (),
        sent={kind: _local(ledger.summary(seminar.key, kind), store.series.zone)
              if ledger else None for kind in Kind},
        addressed=bool(seminar.asked()),
    )


def _local(summary: KindSummary | None, zone: tzinfo) -> KindSummary | None:
    """When it went, in the series' zone (the ledger keeps UTC): an ISO time with its offset."""
    if summary is None or summary.last is None:
        return summary
    return replace(summary, last=datetime.fromisoformat(summary.last).astimezone(zone)
                   .isoformat(timespec="seconds"))


def listing(store: Store, state: Path, today: date, *, every: bool) -> list[Row]:
    """Return one row per talk from ``today`` on (every talk with ``every``)."""
    with Ledger.existing(state) as ledger:
        talks = store.seminars(None if every else today)
        return [_row(seminar, store, ledger) for seminar in talks]


def _state(row: Row) -> str:
    if row.status in (Status.CANCELLED, Status.OPEN):
        return str(row.status).upper() + (f": {row.note}" if row.note else "")
    state = ("missing " + ", ".join(row.missing)) if row.missing else "complete"
    if row.missing and not row.addressed:
        state += " (no speaker address: announce cannot ask)"
    return f"tentative; {state}" if row.status == Status.TENTATIVE else state


def _sent(kind: Kind, summary: KindSummary, zone: tzinfo) -> str:
    when = datetime.fromisoformat(summary.last).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") \
        if summary.last else "?"
    if not summary.sent:
        everyone = ("its only recipient" if summary.refused == 1
                    else f"all {summary.refused} recipients")
        return f"{kind} refused by {everyone} {when}"
    text = f"{kind} sent {when} to {summary.sent}"
    return text + (f", refused by {summary.refused}" if summary.refused else "")


def _padded(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns: a CJK character takes two, a combining
    mark none (str.ljust counts characters, which breaks the columns)."""
    columns = sum(0 if unicodedata.combining(ch) else
                  2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def format_rows(rows: list[Row], zone: tzinfo = UTC) -> list[str]:
    """Lay the rows out as aligned lines for a terminal; times in ``zone`` (the series')."""
    lines = []
    for row in rows:
        who = row.speaker + (f" ({row.affiliation})" if row.affiliation else "")
        marks = [_sent(kind, summary, zone) for kind, summary in row.sent.items() if summary]
        lines.append(f"{row.id:<34} {row.date} {row.time:<10} {_padded(who, 45)} {_state(row)}"
                     + (f" | {'; '.join(marks)}" if marks else " | not sent"))
    return lines


@dataclass(frozen=True)
class Sent:
    """What went out about one talk (``list --sent``): the copies kept in the state folder,
    and the series' record of it (which also knows what went from another state folder)."""

    seminar: Seminar
    state: Path
    copies: tuple[Copy, ...]
    went: tuple[Went, ...]

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        """The copies and the record's lines as plain JSON values."""
        copies = []
        for copy in self.copies:
            when, subject = _copy_headers(copy.path, zone)
            copies.append({"kind": str(copy.kind), "campaign": copy.campaign,
                           "file": str(copy.path), "date": when, "subject": subject})
        return {"id": self.seminar.id, "copies": copies,
                "record": [json.loads(went.line()) for went in self.went]}


def sent(store: Store, state: Path, which: str) -> Sent:
    """The copies and the record of what went out about the talk ``which`` (id or date)."""
    from mailer.delivery.history import load
    from mailer.delivery.keeping import copies

    seminar = store.find(which)
    return Sent(seminar, state, tuple(copies(state, seminar.key)),
                tuple(went for went in load(store.root) if went.talk == seminar.key))


def _copy_headers(path: Path, zone: tzinfo) -> tuple[str, str]:
    """A copy's Date (in the series' zone) and Subject."""
    from email.parser import BytesHeaderParser
    from email.policy import default

    with open(path, "rb") as handle:
        message = BytesHeaderParser(policy=default).parse(handle)
    moment = getattr(message["Date"], "datetime", None)
    when = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else "?"
    return when, str(message["Subject"] or "")


def sent_lines(found: Sent, zone: tzinfo) -> list[str]:
    """What ``list --sent`` prints: each copy kept, then what only the series' record has."""
    from mailer.delivery.history import LOG

    name, folder = found.seminar.id, f"{display_path(found.state)}/sent/"
    lines = []
    for copy in found.copies:
        when, subject = _copy_headers(copy.path, zone)
        lines.append(f"{copy.kind:<12} {when}  {subject}  {display_path(copy.path)}")
    kept = {copy.kind for copy in found.copies}
    for went in found.went:
        if went.kind not in kept:
            lines.append(f"{went.kind:<12} {went.first.astimezone(zone):%Y-%m-%d %H:%M %Z}  went "
                         f"out to {went.reached} (seminars/{LOG}); no copy in {folder}: it "
                         "went from another state folder")
    if not lines:
        return [f"Nothing about {name} went out: no copy in {folder} and no line in "
                f"seminars/{LOG}."]
    return [*lines, f"announce list --sent {name} --kind KIND prints a copy (--out FILE "
                    "writes it)"]


def sent_copy(found: Sent, kind: Kind) -> bytes:
    """The bytes of the newest copy of the talk's ``kind`` of mail."""
    chosen = [copy for copy in found.copies if copy.kind == kind]
    if not chosen:
        elsewhere = any(went.kind == kind for went in found.went)
        raise InputError(f"no copy of the {kind} of {found.seminar.id} in "
                         f"{display_path(found.state)}/sent/" +
                         (" (it went out from another state folder)" if elsewhere else
                          " (it did not go out from here)"))
    return chosen[-1].path.read_bytes()


_FIRST_FEATURES = ("starttls", "auth", "size", "pipelining", "smtputf8", "chunking", "8bitmime")


def relay_lines(info: ServerInfo) -> list[str]:
    """What ``check --smtp`` prints about the relay."""
    features = sorted(info.features, key=lambda k: (k not in _FIRST_FEATURES,
                                                   _FIRST_FEATURES.index(k)
                                                   if k in _FIRST_FEATURES else 0, k))
    offers = []
    for name in features:
        value = info.features[name].strip()
        if name == "size" and value.isdigit():
            value += f" ({int(value) / (1 << 20):.0f} MiB per message)"
        offers.append(f"{name.upper()} {value}".strip())
    return [
        f"relay {info.where} (security: {info.security})",
        f"  TLS: {info.tls or 'none (plain text)'}",
        f"  EHLO: {info.greeting}",
        f"  offers: {'; '.join(offers) or 'no extensions (plain SMTP)'}",
        f"  login: {info.login}",
        "  said QUIT; nothing was sent",
    ]


@dataclass
class CheckResult:
    """What ``check`` found."""

    talks: int = 0
    problems: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # coming talks still missing parts


def _check_files(store: Store, result: CheckResult,
                 resolve: Callable[[MailSettings], MailSettings]) -> list[Seminar]:
    """Read the subscriber file and every record; collect the problems; return the good talks."""
    try:
        mail = resolve(store.series.mail)
        if mail.recipients_file:
            from mailer.mail.recipients import SubscriberFile

            SubscriberFile(store.root / mail.recipients_file).load()
    except InputError as exc:
        result.problems.append(str(exc))
    try:
        store.refuse_strays()
    except InputError as exc:
        result.problems.append(str(exc))
    try:
        from mailer.delivery.history import load

        load(store.root)  # the record of sent mail (a hidden file, so no stray)
    except InputError as exc:
        result.problems.append(str(exc))
    good = []
    entries = store.entries()
    result.talks = len(entries)
    for entry in entries:
        try:
            seminar = store.seminar(entry)
            if seminar.photo:
                from mailer.render.photos import check as check_photo

                check_photo(store.root, seminar.photo)
            good.append(seminar)
        except InputError as exc:
            result.problems.append(str(exc))
    return good


def check(store: Store, today: date | None = None,
          resolve: Callable[[MailSettings], MailSettings] = lambda mail: mail) -> CheckResult:
    """Validate the series and every record, and render every talk with every template.

    Coming talks (from ``today`` on) that still miss part of S-T-A-B-P are named too.
    ``resolve`` gives the mail settings as the command runs with them (the environment's
    overrides: the subscriber file may be named there).
    """
    from mailer.render.templates import Renderer

    result = CheckResult()
    try:
        store.series  # noqa: B018 (reading it validates it)
        good = _check_files(store, result, resolve)
    except InputError as exc:
        result.problems.append(str(exc))
        return result
    first: dict[str, Seminar] = {}
    for seminar in good:  # a record copied by hand, uid: and all, is the same talk twice
        other = first.setdefault(seminar.key, seminar)
        if other is not seminar:
            result.problems.append(
                f"{display_path(store.folder / (seminar.id + '.yaml'))}: uid: {seminar.key} is "
                f"also the identity of {other.id}; one talk, one record (remove one, or give "
                "the new talk a record without uid:)")
    if result.problems:
        return result
    result.incomplete = [
        f"{seminar.id}: still missing {', '.join(seminar.missing(photo=True))}"
        + ("" if seminar.asked() else "; its speakers cannot be asked (no email: address)")
        for seminar in good if today is not None and seminar.date >= today
        and seminar.takes_place and seminar.missing(photo=True)]
    render = Renderer(store.root)
    template_problems: dict[str, list[str]] = {}  # a template mistake shows in every talk
    for seminar in good:
        if seminar.open:
            continue  # nothing is sent or published about an open week
        kinds = [Kind.CANCELLATION] if seminar.cancelled else [
            Kind.ANNOUNCEMENT, Kind.REMINDER, Kind.UPDATE, Kind.FOLLOWUP, Kind.REQUEST,
            Kind.BRIEF]
        try:
            upcoming = upcoming_after(store, seminar)
            for kind in kinds:
                render.check(store.series, seminar, upcoming, kind)
        except InputError as exc:
            template_problems.setdefault(str(exc), []).append(seminar.id)
    for problem, ids in template_problems.items():
        which = f"{ids[0]}" if len(ids) == 1 else f"{ids[0]} and {len(ids) - 1} more talk(s)"
        result.problems.append(f"{problem} (rendering {which})")
    return result
