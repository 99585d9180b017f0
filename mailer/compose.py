"""Compose a mail: choose the talk, plan its recipients once, render it once.

Nothing here sends. :func:`compose` is the mail as it would go out, built from the
records, the templates and a recipient plan that is frozen before rendering;
:func:`already_sent` asks the ledger whether a talk x kind reached everyone in the plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.addresses import AddressProblem, Mailbox, parse_mailbox
from mailer.config import MailSettings, with_environment
from mailer.deliver import Delivery
from mailer.errors import InputError
from mailer.ledger import REFUSED, Ledger, state_dir
from mailer.model import Kind, Seminar, Series
from mailer.paths import write_files, write_folder
from mailer.schedule import Choice, cancelled_in_window, on_day, this_week, upcoming, window
from mailer.store import Store

if TYPE_CHECKING:
    from mailer.message import Blueprint
    from mailer.rendered import InlineImage, Rendered

PLACEHOLDER_SENDER = "seminar@example.invalid"


@dataclass(frozen=True)
class Nothing:
    """No talk to act on: why, for the user."""

    message: str


def _choose(store: Store, today: date, kind: Kind) -> Choice:
    days = store.series.announce_days_before
    if kind == Kind.REMINDER:
        return on_day(store.seminars(today), today)
    if kind == Kind.CANCELLATION:
        return cancelled_in_window(store.seminars(today), today, days)
    return this_week(store.seminars(today), today, days)


def _nothing(store: Store, today: date, kind: Kind, following: Seminar | None) -> Nothing:
    _, last = window(today, store.series.announce_days_before)
    if kind == Kind.CANCELLATION:
        return Nothing(f"No cancelled seminar between {today} and {last}.")
    hint = (f" Next: {following.id} on {following.date}." if following
            else " No talk is planned after that.")
    if kind == Kind.REMINDER:
        return Nothing(f"No seminar today ({today}).{hint}")
    return Nothing(f"No seminar to announce between {today} and {last}.{hint}")


def pick(store: Store, which: str | None, today: date, kind: Kind) -> Seminar | Nothing:
    """Return the talk a command acts on: the one named, or this week's (SPEC 5)."""
    if which:
        seminar = store.find(which)
    else:
        choice = _choose(store, today, kind)
        if choice.talk is None:
            return _nothing(store, today, kind, choice.following)
        seminar = choice.talk
    if kind == Kind.CANCELLATION and not seminar.cancelled:
        raise InputError(f"{seminar.id}: status is {seminar.status}, not cancelled; set "
                         "status: cancelled (and a note with the reason) first")
    if kind != Kind.CANCELLATION and seminar.cancelled:
        raise InputError(f"{seminar.id} is cancelled; nothing to {kind}. To tell the list, run "
                         f"announce send {seminar.id} --kind cancellation")
    if seminar.open:
        raise InputError(f"{seminar.id} is an open week (no speaker yet); nothing to {kind}. "
                         "Give it a speaker and status: confirmed first")
    return seminar


def upcoming_after(store: Store, seminar: Seminar) -> list[Seminar]:
    """The talks an announcement of ``seminar`` lists as upcoming."""
    return upcoming(store.after(seminar), store.series.upcoming_count)


@dataclass(frozen=True)
class RecipientPlan:
    """Who gets the mail, decided once before anything is rendered or sent."""

    lists: tuple[Mailbox, ...] = ()  # list addresses: one message, addressed to all of them
    subscribers: tuple[Mailbox, ...] = ()  # one message each, addressed to them
    source: str | None = None  # the subscriber file, as shown to the user
    test: bool = False  # --to: a test send, not recorded as the real one
    lines: tuple[int, ...] = ()  # each subscriber's line in the subscriber file

    @property
    def total(self) -> int:
        """How many recipients in all."""
        return len(self.lists) + len(self.subscribers)

    @property
    def bulk(self) -> bool:
        """Whether announce expands the list itself (so the mail says Precedence: bulk)."""
        return bool(self.subscribers) and not self.test

    def deliveries(self) -> Iterator[Delivery]:
        """The messages to send: one for the list addresses, then one per subscriber."""
        if self.lists:
            yield Delivery(0, self.lists, tuple(b.envelope for b in self.lists))
        for number, box in enumerate(self.subscribers, 1):
            yield Delivery(number, (box,), (box.envelope,))

    def where(self, delivery: Delivery) -> str:
        """Where a delivery's addresses were written: ``file:line``, or the series file."""
        if delivery.number and self.source is not None and self.lines:
            return f"{self.source}:{self.lines[delivery.number - 1]}"
        return "--to" if self.test else "seminars/series.yaml: mail.to"

    def first_to(self) -> tuple[Mailbox, ...]:
        """The To of the first message (what a preview shows)."""
        first = next(self.deliveries(), None)
        return first.to if first is not None else ()

    def summary(self) -> str:
        """Say who gets it, for a person."""
        parts = []
        if self.lists:
            parts.append(", ".join(b.display() for b in self.lists))
        if self.source is not None:
            parts.append(f"each of {len(self.subscribers)} subscribers in {self.source}, "
                         "addressed to them")
        return "; ".join(parts) or "(no recipients configured)"


def plan_recipients(root: Path, mail: MailSettings, to: Sequence[str] = ()) -> RecipientPlan:
    """Plan the recipients: ``--to`` addresses, or the series' list and subscriber file."""
    if to:
        boxes = []
        for text in to:
            try:
                boxes.append(parse_mailbox(text))
            except AddressProblem as why:
                raise InputError(f"--to: {text!r} {why}") from None
        return RecipientPlan(subscribers=tuple(boxes), test=True)
    lists = tuple(parse_mailbox(text) for text in mail.to)
    if not mail.recipients_file:
        return RecipientPlan(lists=lists)
    from mailer.recipients import SubscriberFile

    source = SubscriberFile(root / mail.recipients_file)
    numbered = source.load_numbered()
    return RecipientPlan(lists=lists, subscribers=tuple(box for box, _ in numbered),
                         source=source.where, lines=tuple(line for _, line in numbered))


@dataclass(frozen=True)
class AlreadySent:
    """Every recipient of this talk x kind is in the ledger: nothing to send."""

    name: str  # "announcement of 2024-02-22-mathis"
    sent: int
    refused: int


def already_sent(state: Path, seminar: Seminar, kind: Kind,
                 plan: RecipientPlan) -> AlreadySent | None:
    """Whether the latest campaign of a talk x kind settled every recipient in ``plan``."""
    if plan.test or not plan.total:
        return None
    with Ledger.existing(state) as ledger:
        campaign = None if ledger is None else ledger.latest_campaign(seminar.id, kind)
        if ledger is None or campaign is None:
            return None
        settled = ledger.settled(campaign)
    statuses = [settled.get(r.lower()) for d in plan.deliveries() for r in d.recipients]
    if None in statuses:
        return None
    refused = statuses.count(REFUSED)
    return AlreadySent(f"{kind} of {seminar.id}", len(statuses) - refused, refused)


@dataclass(frozen=True)
class Outgoing:
    """A mail ready to go: rendered once, with its recipients planned."""

    series: Series
    seminar: Seminar
    kind: Kind
    rendered: Rendered
    blueprint: Blueprint
    mail: MailSettings  # the series' mail settings with the environment's overrides
    plan: RecipientPlan
    made: datetime  # the moment it was composed: Date header, calendar stamps
    digest: str | None  # the calendar event's version, when the mail carries one
    warnings: tuple[str, ...] = ()

    @property
    def sender(self) -> Mailbox | None:
        """The From address; None until ``mail.from`` is set (a preview still works)."""
        return parse_mailbox(self.mail.sender) if self.mail.sender else None

    def wire(self, delivery: Delivery) -> bytes:
        """The bytes of one delivery, as SMTP DATA carries them."""
        return self.blueprint.wire(delivery.to, delivery.number)

    def require_sendable(self) -> Mailbox:
        """Return the sender, or say what is missing for a real send."""
        require_mail_settings(self.mail, test=self.plan.test)
        assert self.sender is not None  # noqa: S101 (required just above)
        return self.sender


def require_mail_settings(mail: MailSettings, *, test: bool = False) -> None:
    """Say what a send needs and the series lacks: a sender, and someone to send to.

    Checked before anything is chosen, so that a cron job with nothing due yet still
    says the settings cannot send, instead of succeeding in silence.
    """
    if not mail.sender:
        raise InputError("seminars/series.yaml: mail.from is required to send "
                         "(e.g. from: Seminar Team <seminar@example.org>)")
    if not (mail.to or mail.recipients_file or test):
        raise InputError("seminars/series.yaml: mail.to or mail.recipients_file is needed to "
                         "send: give the list address, or a subscriber file")


def _warnings(seminar: Seminar, kind: Kind) -> tuple[str, ...]:
    warnings = []
    if kind == Kind.ANNOUNCEMENT and seminar.missing():
        warnings.append(f"{seminar.id}: still missing {', '.join(seminar.missing())}; "
                        "the announcement shows TBA or leaves the line out")
    if seminar.status == "tentative":
        warnings.append(f"{seminar.id}: the talk is still tentative")
    return tuple(warnings)


def render_talk(store: Store, seminar: Seminar, kind: Kind, now: datetime) -> tuple[Rendered, str]:
    """Render one kind of mail for a talk; return it with its calendar event's digest."""
    from mailer.event import event_digest
    from mailer.render import Renderer

    digest = event_digest(store.series, seminar)
    with Ledger.existing(state_dir(store.root)) as ledger:
        sequence = 0 if ledger is None else ledger.sequence(seminar.id, digest)
    rendered = Renderer(store.root).message(store.series, seminar, upcoming_after(store, seminar),
                                            kind, sequence=sequence, stamp=now,
                                            photo=mail_photo(store.root, seminar))
    return rendered, digest


def mail_photo(root: Path, seminar: Seminar) -> InlineImage | None:
    """The speaker's photo as the HTML part carries it: small, square, inline."""
    if not seminar.photo:
        return None
    from mailer.photos import square
    from mailer.rendered import InlineImage

    return InlineImage(f"photo.{seminar.id}@announce", square(root, seminar.photo))


def compose(store: Store, seminar: Seminar, kind: Kind, plan: RecipientPlan, *,
            now: datetime, today: date | None = None) -> Outgoing:
    """Validate what the mail depends on and render it once for ``plan``."""
    from mailer.message import Blueprint, Headers

    # Every record from this talk's window on must be valid, not just the ones shown.
    list(store.seminars(min(today or seminar.date, seminar.date)))
    series = store.series
    rendered, digest = render_talk(store, seminar, kind, now)
    if not series.mail.sender:
        series = replace(series, mail=replace(series.mail, sender=PLACEHOLDER_SENDER))
    mail = series.mail
    headers = Headers(sender=parse_mailbox(mail.sender or PLACEHOLDER_SENDER),
                      reply_to=parse_mailbox(mail.reply_to) if mail.reply_to else None,
                      list_name=series.name, unsubscribe=mail.unsubscribe, bulk=plan.bulk)
    blueprint = Blueprint(rendered, headers, date=now, name=seminar.id)
    verify(blueprint, plan, f"{store.folder.name}/{seminar.id}.yaml", f"{kind}")
    return Outgoing(series=series, seminar=seminar, kind=kind, rendered=rendered,
                    blueprint=blueprint, mail=with_environment(store.series.mail), plan=plan,
                    made=now, digest=digest if rendered.ics else None,
                    warnings=_warnings(seminar, kind))


def verify(blueprint: Blueprint, plan: RecipientPlan, record: str, kind: str) -> None:
    """Check the bytes of every message of the run before the first one goes out (SPEC 6).

    The shared part is read back whole once; each recipient's own headers are read back
    one by one. A problem stops the run here, naming where the text came from.
    """
    problems = blueprint.problems()
    if problems:
        raise InputError(f"{record}: the {kind} would not go out as written, so nothing was "
                         f"sent: {'; '.join(problems)}")
    for delivery in plan.deliveries():
        problems = blueprint.check(delivery.to, delivery.number)
        if problems:
            raise InputError(f"{plan.where(delivery)}: this recipient's message would not go "
                             f"out as written, so nothing was sent: {'; '.join(problems)}")


def preview_files(outgoing: Outgoing) -> dict[str, bytes]:
    """Return the four preview files: the exact message, its text, its HTML, its event."""
    ics = outgoing.rendered.ics
    if ics is None:
        from mailer.calendar import build_calendar

        ics = build_calendar(outgoing.series, [(outgoing.seminar, 0)], stamp=outgoing.made)
    html = outgoing.rendered.html
    files = {}
    for image in outgoing.rendered.images:  # beside the HTML, so a browser shows it too
        name = f"{image.cid.split('@')[0]}.{image.subtype}"
        html = html.replace(image.src, name)
        files[name] = image.data
    return {
        "message.eml": outgoing.blueprint.eml(outgoing.plan.first_to()),
        "message.txt": outgoing.rendered.text.encode("utf-8"),
        "message.html": html.encode("utf-8"),
        "event.ics": ics.encode("utf-8"),
        **files,
    }


def write_preview(root: Path, outgoing: Outgoing, out: Path | None = None) -> Path:
    """Write the preview files to ``out``, or to ``<state>/preview/<id>-<kind>/``; return it."""
    files = preview_files(outgoing)
    if out is not None:
        write_files(out, files)
        return out
    folder = state_dir(root) / "preview" / f"{outgoing.seminar.id}-{outgoing.kind}"
    write_folder(folder, files)
    return folder
