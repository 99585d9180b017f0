"""What each command does, as functions a test can call without a terminal.

The command line (``cli.py``) parses options, calls one of these, and prints.
Heavy libraries (Jinja2, Markdown, premailer, icalendar) are imported inside the
functions that need them, so that commands which do not render start fast.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.addresses import AddressProblem, Mailbox, parse_mailbox
from mailer.config import MailSettings, with_environment
from mailer.errors import InputError
from mailer.ledger import Ledger, state_dir
from mailer.model import KINDS, Seminar, Series
from mailer.store import Store, display_path

if TYPE_CHECKING:
    from mailer.deliver import Delivery, Event
    from mailer.message import Blueprint
    from mailer.render import Rendered, Renderer


def parse_day(text: str | None, what: str = "--today", store: Store | None = None) -> date:
    """Parse a ``YYYY-MM-DD`` option; without one, today in the series' time zone.

    A cron host often runs in UTC: at 00:30 on Monday in Stockholm it is still Sunday
    there, and "this week's seminar" must be Stockholm's.
    """
    if text is None:
        return datetime.now(store.series.zone).date() if store is not None else date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that it is either whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace ``folder`` with one holding exactly ``files``, all or nothing."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# -- choosing the talk ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Nothing:
    """No talk to act on: why, for the user."""

    message: str


def _next_hint(store: Store, after: date) -> str:
    for seminar in store.seminars(after):
        if not seminar.cancelled:
            return f" Next: {seminar.id} on {seminar.date}."
    return " No talk is planned after that."


def pick(store: Store, which: str | None, today: date, kind: str) -> Seminar | Nothing:
    """Return the talk a command acts on: named, or this week's (SPEC 5)."""
    if kind not in KINDS:
        raise InputError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    if which:
        seminar = store.find(which)
    elif kind == "reminder":
        talk = store.today_talk(today)
        if talk is None or talk.cancelled:
            return Nothing(f"No seminar today ({today})." + _next_hint(store, today))
        seminar = talk
    elif kind == "cancellation":
        last = date.fromordinal(today.toordinal() + store.series.announce_days_before)
        found = [s for s in store.seminars(today) if s.cancelled and s.date <= last]
        if not found:
            return Nothing(f"No cancelled seminar between {today} and {last}.")
        seminar = found[0]
    else:
        seminar_or_none, following = store.this_week(today)
        if seminar_or_none is None:
            last = date.fromordinal(today.toordinal() + store.series.announce_days_before)
            hint = (f" Next: {following.id} on {following.date}." if following
                    else " No talk is planned after that.")
            return Nothing(f"No seminar to announce between {today} and {last}.{hint}")
        seminar = seminar_or_none
    if kind == "cancellation" and not seminar.cancelled:
        raise InputError(f"{seminar.id}: status is {seminar.status}, not cancelled; set "
                         "status: cancelled (and a note with the reason) first")
    if kind != "cancellation" and seminar.cancelled:
        raise InputError(f"{seminar.id} is cancelled; nothing to {kind}. To tell the list, run "
                         f"announce send {seminar.id} --kind cancellation")
    return seminar


# -- building the mail ---------------------------------------------------------------------------

@dataclass
class Outgoing:
    """A mail ready to go: rendered once, with its recipients planned."""

    series: Series
    seminar: Seminar
    kind: str
    rendered: Rendered
    blueprint: Blueprint
    mail: MailSettings
    deliveries: Callable[[], Iterable[Delivery]]
    total: int
    to_summary: str
    first_to: tuple[str, ...]
    test_send: bool
    digest: str | None
    warnings: list[str] = field(default_factory=list)


def open_ledger_if_any(root: Path) -> Ledger | None:
    """Open the ledger for reading when one exists (previews record nothing)."""
    folder = state_dir(root)
    if not (folder / "ledger.sqlite3").exists():
        return None
    return Ledger(folder, create=False)


def renderer(root: Path) -> Renderer:
    """Return the template renderer of a series folder."""
    from mailer.render import Renderer

    return Renderer(root)


def render_talk(store: Store, seminar: Seminar, kind: str, now: datetime) -> tuple[Rendered, str]:
    """Render one kind of mail for a talk; return it with its calendar event's digest."""
    from mailer.calendar import event_digest

    series = store.series
    digest = event_digest(series, seminar)
    sequence = 0
    ledger = open_ledger_if_any(store.root)
    if ledger is not None:
        sequence = ledger.sequence(seminar.id, digest)
        ledger.close()
    rendered = renderer(store.root).message(series, seminar, store.upcoming(seminar), kind,
                                            sequence=sequence, stamp=now)
    return rendered, digest


def _plan(store: Store, mail: MailSettings, to_override: Sequence[str]) -> Plan:
    from mailer.deliver import Delivery
    from mailer.recipients import SubscriberFile

    if to_override:
        boxes = []
        for text in to_override:
            try:
                boxes.append(parse_mailbox(text))
            except AddressProblem as why:
                raise InputError(f"--to: {text!r} {why}") from None
        plan = [Delivery((b.header(),), (b.addr,)) for b in boxes]
        return (lambda: plan), len(plan), ", ".join(b.header() for b in boxes), plan[0].to
    lists: list[Mailbox] = [parse_mailbox(text) for text in mail.to]
    subscribers: list[Mailbox] = []
    parts = []
    if lists:
        parts.append(", ".join(b.header() for b in lists))
    if mail.recipients_file:
        source = SubscriberFile(store.root / mail.recipients_file)
        subscribers = source.load()
        parts.append(f"each of {len(subscribers)} subscribers in {source.where}, "
                     "addressed to them")
    if not lists and not subscribers:
        raise InputError("seminars/series.yaml: mail.to or mail.recipients_file is needed to send")
    count = len(subscribers)

    def deliveries() -> Iterator[Delivery]:
        if lists:
            yield Delivery(tuple(b.header() for b in lists), tuple(b.addr for b in lists))
        for box in subscribers:
            yield Delivery((box.header(),), (box.addr,))

    first = next(iter(deliveries())).to
    return deliveries, len(lists) + count, "; ".join(parts), first


@dataclass(frozen=True)
class AlreadySent:
    """Every recipient of this talk x kind is in the ledger: nothing to send."""

    recipients: int


def _recorded(store: Store, seminar: Seminar, kind: str) -> set[str] | None:
    """Return the recipients the latest campaign of a talk x kind settled, or None if none ran."""
    ledger = open_ledger_if_any(store.root)
    if ledger is None:
        return None
    try:
        campaign = ledger.latest_campaign(seminar.id, kind)
        return None if campaign is None else ledger.finished(campaign)
    finally:
        ledger.close()


Plan = tuple[Callable[[], Iterable["Delivery"]], int, str, tuple[str, ...]]


def prepare(store: Store, seminar: Seminar, kind: str, *, to_override: Sequence[str] = (),
            today: date | None = None, now: datetime | None = None,
            need_sender: bool = True, skip_if_sent: bool = False) -> Outgoing | AlreadySent:
    """Validate what the send depends on, plan the recipients, and render once.

    With ``skip_if_sent``, a talk x kind whose every recipient is in the ledger returns
    :class:`AlreadySent` before anything is rendered, so that a cron job re-run after the
    send costs little and repeats no warnings.
    """
    from mailer.message import Blueprint, build_message

    series = store.series
    mail = with_environment(series.mail)
    has_list = bool(mail.to or mail.recipients_file)
    plan: Plan | None = None
    if skip_if_sent and has_list and not to_override:
        recorded = _recorded(store, seminar, kind)
        if recorded is not None:
            plan = _plan(store, mail, ())
            if all(r.lower() in recorded for d in plan[0]() for r in d.recipients):
                return AlreadySent(plan[1])
    # Every record from this talk's window on must be valid, not just the ones shown.
    list(store.seminars(min(today or seminar.date, seminar.date)))
    warnings = []
    if kind == "announcement" and seminar.missing():
        warnings.append(f"{seminar.id}: still missing {', '.join(seminar.missing())}; "
                        "the announcement shows TBA or leaves the line out")
    if seminar.status == "tentative":
        warnings.append(f"{seminar.id}: the talk is still tentative")
    moment = now or datetime.now().astimezone()
    rendered, digest = render_talk(store, seminar, kind, moment)
    if not series.mail.sender:
        if need_sender:
            raise InputError("seminars/series.yaml: mail.from is required to send "
                             "(e.g. from: Seminar Team <seminar@example.org>)")
        series = _with_placeholder_sender(series)
    sender = parse_mailbox(series.mail.sender or "")
    message = build_message(rendered, series, date=moment, seminar_id=seminar.id,
                            bulk=bool(mail.recipients_file) and not to_override)
    if plan is None:
        plan = (_plan(store, mail, to_override) if has_list or to_override
                else (lambda: [], 0, "(no recipients configured)", ("undisclosed-recipients:;",)))
    deliveries, total, to_summary, first = plan
    return Outgoing(series=series, seminar=seminar, kind=kind, rendered=rendered,
                    blueprint=Blueprint(message, sender.domain), mail=mail,
                    deliveries=deliveries, total=total, to_summary=to_summary, first_to=first,
                    test_send=bool(to_override), digest=digest if rendered.ics else None,
                    warnings=warnings)


def _with_placeholder_sender(series: Series) -> Series:
    """Let a preview work before mail.from is set (a send still refuses)."""
    return replace(series, mail=replace(series.mail, sender="seminar@example.invalid"))


def preview_files(outgoing: Outgoing) -> dict[str, bytes]:
    """Return the four preview files: the exact message, its text, its HTML, its event."""
    ics = outgoing.rendered.ics
    return {
        "message.eml": outgoing.blueprint.eml(outgoing.first_to),
        "message.txt": outgoing.rendered.text.encode("utf-8"),
        "message.html": outgoing.rendered.html.encode("utf-8"),
        "event.ics": (ics or "").encode("utf-8"),
    }


def preview_folder(root: Path, outgoing: Outgoing) -> Path:
    """The dry run's folder: ``<state>/preview/<id>-<kind>/``."""
    return state_dir(root) / "preview" / f"{outgoing.seminar.id}-{outgoing.kind}"


def write_preview(root: Path, outgoing: Outgoing, out: Path | None = None) -> Path:
    """Write the preview files; return the folder."""
    folder = out or preview_folder(root, outgoing)
    files = preview_files(outgoing)
    if outgoing.rendered.ics is None:
        from mailer.calendar import build_calendar

        files["event.ics"] = build_calendar(
            outgoing.series, [(outgoing.seminar, 0)],
            stamp=datetime.now().astimezone()).encode("utf-8")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            write_atomically(out / name, data)
    else:
        write_folder(folder, files)
    return folder


# -- sending -------------------------------------------------------------------------------------

class _Scratch:
    """A ledger that remembers nothing: for test sends with ``--to``."""

    def finished(self, campaign: int) -> set[str]:
        return set()

    def record(self, campaign: int, recipient: str, status: str, code: int, reply: str) -> None:
        return None


def send(root: Path, outgoing: Outgoing, *, force: bool) -> Iterator[Event]:
    """Deliver ``outgoing``; yield progress events and, last, the Report."""
    from mailer.deliver import Report, deliver
    from mailer.ledger import run_lock
    from mailer.transport import SmtpTransport

    sender = parse_mailbox(outgoing.mail.sender or "").addr
    transport = SmtpTransport(outgoing.mail.smtp, sender)

    def run(ledger: Ledger | _Scratch, campaign: int) -> Iterator[Event]:
        return deliver(outgoing.deliveries(), message=outgoing.blueprint.wire,
                       transport=transport, ledger=ledger, campaign=campaign,
                       total=outgoing.total, retry_seconds=outgoing.mail.retry_seconds,
                       rate_per_minute=outgoing.mail.rate_per_minute)

    if outgoing.test_send:
        yield from run(_Scratch(), 0)
        return
    folder = state_dir(root)
    ledger = Ledger(folder)
    try:
        with run_lock(folder):
            for event in run(ledger, ledger.campaign(outgoing.seminar.id, outgoing.kind,
                                                     force=force)):
                if isinstance(event, Report) and event.sent and outgoing.digest:
                    ledger.event_sent(outgoing.seminar.id, outgoing.digest)
                yield event
    finally:
        ledger.close()


# -- pages, checks -------------------------------------------------------------------------------

def page(store: Store, seminar: Seminar) -> str:
    """Return the web page of one talk."""
    return renderer(store.root).page(store.series, seminar, store.upcoming(seminar))


@dataclass
class CheckResult:
    """What ``check`` found."""

    talks: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(store: Store) -> CheckResult:
    """Validate the series and every record, and render every talk with every template."""
    result = CheckResult()
    try:
        series = store.series
    except InputError as exc:
        result.problems.append(str(exc))
        return result
    try:
        mail = with_environment(series.mail)
        if mail.recipients_file:
            from mailer.recipients import SubscriberFile

            SubscriberFile(store.root / mail.recipients_file).load()
    except InputError as exc:
        result.problems.append(str(exc))
    result.problems.extend(f"{name}: not a talk record: name it YYYY-MM-DD-<slug>.yaml"
                           for name in store.stray_files())
    good: list[Seminar] = []
    try:
        entries = store.entries()
    except InputError as exc:
        result.problems.append(str(exc))
        return result
    for entry in entries:
        try:
            good.append(store.seminar(entry))
        except InputError as exc:
            result.problems.append(str(exc))
    result.talks = len(entries)
    if result.problems:
        return result
    render = renderer(store.root)
    for seminar in good:
        kinds = ["cancellation"] if seminar.cancelled else ["announcement", "reminder"]
        try:
            upcoming = store.upcoming(seminar)
            for kind in kinds:
                render.check(series, seminar, upcoming, kind)
        except InputError as exc:
            result.problems.append(f"{seminar.id}: {exc}")
    return result


# -- the season: pages, feed, listing, programme, new talks, new series --------------------------

def write_all_pages(store: Store, folder: Path) -> int:
    """Write ``folder/YYYY-MM-DD.md`` for every talk that is not cancelled; return how many."""
    render = renderer(store.root)
    pages: dict[str, bytes] = {}
    for seminar in store.seminars():
        if seminar.cancelled:
            continue
        name = f"{seminar.date}.md"
        if name in pages:
            raise InputError(f"two talks on {seminar.date}: pages are named by date, one a day")
        pages[name] = render.page(store.series, seminar, store.upcoming(seminar)).encode("utf-8")
    for name, data in pages.items():
        write_atomically(folder / name, data)
    return len(pages)


def feed(store: Store, now: datetime | None = None) -> str:
    """Return one calendar of every talk, cancelled ones marked CANCELLED."""
    from mailer.calendar import build_calendar, event_digest

    series = store.series
    ledger = open_ledger_if_any(store.root)
    events = []
    for seminar in store.seminars():
        sequence = ledger.sequence(seminar.id, event_digest(series, seminar)) if ledger else 0
        events.append((seminar, sequence))
    if ledger is not None:
        ledger.close()
    return build_calendar(series, events, stamp=now or datetime.now().astimezone())


def listing(store: Store, today: date, *, every: bool) -> list[dict[str, object]]:
    """Return one row per talk: when, who, what is missing, and what was sent when."""
    ledger = open_ledger_if_any(store.root)
    series = store.series
    rows: list[dict[str, object]] = []
    for seminar in store.seminars(None if every else today):
        sent: dict[str, object] = {}
        for kind in KINDS:
            summary = ledger.summary(seminar.id, kind) if ledger else None
            sent[kind] = None if summary is None else {
                "recipients": summary.sent, "refused": summary.refused, "last": summary.last}
        rows.append({
            "id": seminar.id,
            "date": seminar.date.isoformat(),
            "time": seminar.start(series).strftime("%H:%M %Z"),
            "speaker": "; ".join(s.name for s in seminar.speakers) or "TBA",
            "affiliation": "; ".join(s.affiliation or "" for s in seminar.speakers),
            "status": seminar.status,
            "note": seminar.note,
            "missing": [] if seminar.cancelled else seminar.missing(),
            "sent": sent,
        })
    if ledger is not None:
        ledger.close()
    return rows


def format_listing(rows: Sequence[dict[str, object]]) -> list[str]:
    """Lay the listing out as aligned lines for a terminal."""
    lines = []
    for row in rows:
        who = str(row["speaker"])
        if row["affiliation"]:
            who += f" ({row['affiliation']})"
        if row["status"] == "cancelled":
            state = "CANCELLED" + (f": {row['note']}" if row["note"] else "")
        else:
            missing = row["missing"]
            state = ("missing " + ", ".join(missing)) if isinstance(missing, list) and missing \
                else "complete"
            if row["status"] == "tentative":
                state = "tentative; " + state
        sent = row["sent"]
        marks = []
        if isinstance(sent, dict):
            for kind, info in sent.items():
                if isinstance(info, dict):
                    marks.append(f"{kind} sent {str(info['last'])[:16]} to {info['recipients']}")
        lines.append(f"{row['id']:<34} {row['date']} {row['time']:<10} {who:<45} {state}"
                     + (f" | {'; '.join(marks)}" if marks else " | not sent"))
    return lines


def program(store: Store, year: int | None) -> str:
    """Return the season's table as a Jekyll page: one row per week with a talk or cancellation."""
    from mailer.render import PageFormat, jekyll_page

    series = store.series
    fmt = PageFormat()
    rows = []
    for seminar in store.seminars():
        if year is not None and seminar.date.year != year:
            continue
        rows.append({
            "date": seminar.date.isoformat(),
            "time": seminar.start(series).strftime("%H:%M"),
            "speaker": seminar.speaker_line(),
            "link": f"{seminar.date.isoformat()}.md",
            "missing": ", ".join(seminar.missing()),
            "cancelled": seminar.cancelled,
            "note": seminar.note,
        })
    body = renderer(store.root).render_named("program.md.j2", {
        "series": series, "year": year if year is not None else "", "rows": rows,
        "cell": lambda text: fmt.plain(" ".join(str(text).split())).replace("|", "\\|"),
        "plain": fmt.plain,
    })
    return jekyll_page(series, body)


def _yaml_text(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def new_talk(root: Path, day: date, speaker: str, affiliation: str | None,
             title: str | None) -> Path:
    """Write ``seminars/DATE-<slug>.yaml`` for a new talk; never overwrite."""
    from mailer.model import slugify
    from mailer.store import Entry, load_seminar

    slug = slugify(speaker)
    if not slug:
        raise InputError(f"--speaker: {speaker!r} gives no usable file name")
    path = root / "seminars" / f"{day.isoformat()}-{slug}.yaml"
    if path.exists():
        raise InputError(f"{display_path(path)}: already exists; edit it instead")
    lines = [f"date: {day.isoformat()}", f"speaker: {_yaml_text(speaker)}"]
    if affiliation:
        lines.append(f"affiliation: {_yaml_text(affiliation)}")
    lines.append(f"title: {_yaml_text(title)}" if title else "# title: ")
    lines += ["# time: \"15:00\"      # when not the series' default_time",
              "# abstract: |",
              "#   Markdown, as the speaker wrote it.",
              "# bio: |",
              "#   Markdown: \"About the speaker\".",
              "status: confirmed    # confirmed | tentative | cancelled", ""]
    (root / "seminars").mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write("\n".join(lines))
    except FileExistsError:
        raise InputError(f"{display_path(path)}: already exists; edit it instead") from None
    try:
        load_seminar(Entry(day, path.stem, path))
    except InputError:
        path.unlink()
        raise
    return path


_SERIES_TEMPLATE = """\
# A seminar series. Every key is described in the announce README.
name: {name}
team: The {name} Team
# website: https://example.org/seminars
timezone: {zone}
default_time: "15:00"
duration_minutes: 60
location: Room 1, or online
# video_link: https://example.org/call
# video_label: Zoom link
upcoming_count: 4
announce_days_before: 6
page:
  front_matter:
    layout: default
mail:
  from: {name} <seminar@example.org>
  to: seminar-list@example.org
  # recipients_file: subscribers.csv   # one address a line, or CSV with email,name
  # unsubscribe: mailto:seminar-list-leave@example.org
  smtp:
    host: localhost
    port: 25
    security: none          # starttls | tls | none; the password comes from ANNOUNCE_SMTP_PASSWORD
"""


def init_series(folder: Path, today: date | None = None) -> Path:
    """Make a series folder with settings, templates and one example talk."""
    from mailer.render import PACKAGE_TEMPLATES

    settings = folder / "seminars" / "series.yaml"
    if settings.exists():
        raise InputError(f"{display_path(settings)}: already exists; this folder is a series")
    zone = "Europe/Stockholm"
    with contextlib.suppress(OSError):  # no /etc/localtime: keep the default
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            zone = link.split("zoneinfo/", 1)[1]
    (folder / "seminars").mkdir(parents=True, exist_ok=True)
    settings.write_text(_SERIES_TEMPLATE.format(name="Our Seminar", zone=zone), encoding="utf-8")
    templates = folder / "templates"
    if not templates.exists():
        shutil.copytree(PACKAGE_TEMPLATES, templates)
    day = date.fromordinal((today or date.today()).toordinal() + 2)
    new_talk(folder, day, "Ada Lovelace", "University of London",
             "Notes on the Analytical Engine")
    return folder

