"""The mail as it will go: its recipients planned once, rendered once, its bytes checked.

Nothing here sends, reads the ledger or the environment: :func:`compose` takes the
records, the resolved mail settings and the calendar SEQUENCE, and gives the frozen
:class:`Outgoing`, every message of which has been built and read back (contract §6).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mailer.addresses import AddressProblem, Mailbox, parse_mailbox
from mailer.errors import InputError
from mailer.mail.tokens import unsubscribe_token
from mailer.paths import write_files, write_folder
from mailer.series.kinds import Audience, Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Series, Status, Talk
from mailer.series.names import slugify
from mailer.series.schedule import talk_facts, upcoming_after
from mailer.series.store import Store

if TYPE_CHECKING:
    from mailer.mail.message import Blueprint
    from mailer.render.rendered import Attachment, InlineImage, Rendered

PLACEHOLDER_SENDER = "seminar@example.invalid"
T = TypeVar("T")


@dataclass(frozen=True)
class Delivery:
    """One message to send: its place in the run, the To header's mailboxes and the envelope
    recipients."""

    number: int
    to: tuple[Mailbox, ...]
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class RecipientPlan:
    """Who gets the mail, decided once before anything is rendered or sent."""

    lists: tuple[Mailbox, ...] = ()  # list addresses: one message, addressed to all of them
    subscribers: tuple[Mailbox, ...] = ()  # one message each, addressed to them
    source: str | None = None  # the subscriber file, as shown to the user
    test: bool = False  # --to: a test send, not recorded as the real one
    lines: tuple[int, ...] = ()  # each subscriber's line in the subscriber file
    cc: tuple[Mailbox, ...] = ()  # in copy of the list message (a brief's host)
    zones: tuple[str | None, ...] = ()  # each subscriber's own time zone, when any has one

    @property
    def total(self) -> int:
        """How many recipients in all."""
        return len(self.lists) + len(self.subscribers) + len(self.cc)

    @property
    def bulk(self) -> bool:
        """Whether announce expands the list itself (so the mail says Precedence: bulk)."""
        return bool(self.subscribers) and not self.test

    def deliveries(self) -> Iterator[Delivery]:
        """The messages to send: one for the list addresses, then one per subscriber."""
        if self.lists:
            yield Delivery(0, self.lists, tuple(b.envelope for b in (*self.lists, *self.cc)))
        for number, box in enumerate(self.subscribers, 1):
            yield Delivery(number, (box,), (box.envelope,))

    def only(self, audience: set[str]) -> RecipientPlan:
        """The plan cut to ``audience`` (lower-cased addresses): an update's recipients are
        those of the current list and subscribers who got the announcement."""
        count = len(self.subscribers)
        kept = [(box, line, zone) for box, line, zone in zip(
            self.subscribers, self.lines or (0,) * count, self.zones or (None,) * count,
            strict=True) if box.envelope.lower() in audience]
        return replace(self, lists=tuple(b for b in self.lists if b.envelope.lower() in audience),
                       subscribers=tuple(box for box, _, _ in kept),
                       lines=tuple(line for _, line, _ in kept) if self.lines else (),
                       zones=tuple(zone for _, _, zone in kept) if self.zones else (),
                       cc=tuple(b for b in self.cc if b.envelope.lower() in audience))

    def where(self, delivery: Delivery) -> str:
        """Where a delivery's addresses were written: ``file:line``, or the series file."""
        if delivery.number and self.lines and not self.lines[delivery.number - 1]:
            return "a sign-up (`announce subscribers` lists it)"
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
        if self.test:  # --to: the addresses given, and only them
            return ", ".join(b.display() for b in self.subscribers) +\
                " (--to: a test, not recorded as the real send)"
        if self.lists:
            parts.append(", ".join(b.display() for b in self.lists))
        if self.cc:
            parts.append("Cc " + ", ".join(b.display() for b in self.cc))
        joined = sum(1 for line in self.lines if not line)  # signed up, in no file
        if self.source is not None and joined == len(self.subscribers):
            parts.append(f"each of {joined} who signed up, addressed to them")
        elif self.source is not None:
            also = f" and {joined} who signed up" if joined else ""
            parts.append(f"each of {len(self.subscribers) - joined} subscribers in "
                         f"{self.source}{also}, addressed to them")
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
    from mailer.mail.recipients import SubscriberFile

    source = SubscriberFile(root / mail.recipients_file)
    numbered = source.load_numbered()
    return RecipientPlan(lists=lists, subscribers=tuple(box for box, _ in numbered),
                         source=source.where, lines=tuple(line for _, line in numbered))


@dataclass(frozen=True)
class Personal:
    """What a mail to a speaker adds: the template's values, files, and its round."""

    values: Mapping[str, Any]
    attachments: tuple[Attachment, ...] = ()
    facts: str | None = None  # a request: '{"round": 2}'


@dataclass(frozen=True)
class Outgoing:
    """A mail ready to go: rendered once, with its recipients planned."""

    series: Series
    talk: Talk
    kind: Kind
    rendered: Rendered
    blueprint: Blueprint
    mail: MailSettings  # the series' mail settings with the environment's overrides
    plan: RecipientPlan
    made: datetime  # the moment it was composed: Date header, calendar stamps
    digest: str | None  # the calendar event's version, when the mail carries one
    warnings: tuple[str, ...] = ()
    facts: str | None = None  # what an announcement or update tells of date, place, link
    # The same mail rendered for subscribers in another zone (by zone name): it shows the
    # talk's time in theirs too. A subscriber with no zone of their own gets ``blueprint``.
    in_zones: Mapping[str, Blueprint] = field(default_factory=dict)

    @property
    def sender(self) -> Mailbox | None:
        """The From address; None until ``mail.from`` is set (a preview still works)."""
        return parse_mailbox(self.mail.sender) if self.mail.sender else None

    def blueprint_for(self, delivery: Delivery) -> Blueprint:
        """The rendering a delivery gets: its subscriber's zone's, or the series'."""
        if not self.in_zones or not delivery.number or not self.plan.zones:
            return self.blueprint
        zone = self.plan.zones[delivery.number - 1]
        return self.in_zones.get(zone or "", self.blueprint)

    def wire(self, delivery: Delivery) -> bytes:
        """The bytes of one delivery, as SMTP DATA carries them."""
        return self.blueprint_for(delivery).wire(delivery.to, delivery.number)

    def message_id(self, delivery: Delivery) -> str:
        """The Message-ID of one delivery."""
        return self.blueprint_for(delivery).message_id(delivery.number)

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
                         "(e.g. from: Talk Team <seminar@example.org>)")
    if not (mail.to or mail.recipients_file or test):
        raise InputError("seminars/series.yaml: mail.to or mail.recipients_file is needed to "
                         "send: give the list address, or a subscriber file")


def _warnings(talk: Talk, kind: Kind) -> tuple[str, ...]:
    warnings = []
    if kind.mail.announces and talk.missing():
        warnings.append(f"{talk.id}: still missing {', '.join(talk.missing())}; "
                        "the announcement shows TBA or leaves the line out")
    if talk.status == Status.TENTATIVE:
        warnings.append(f"{talk.id}: the talk is still tentative")
    return tuple(warnings)


def render_talk(store: Store, talk: Talk, kind: Kind, now: datetime,
                sequence: int, *, changed: Sequence[tuple[str, str, str]] = (),
                extra: Mapping[str, Any] | None = None, reader: str | None = None) -> Rendered:
    """Render one kind of mail for a talk, its calendar event at ``sequence``; an update
    names what ``changed`` (fact, old, new); a mail to a speaker has its ``extra`` values;
    ``reader``'s zone (IANA) shows the talk's time in theirs beside the series'."""
    from mailer.render.mailparts import MailRenderer

    return MailRenderer(store.root).message(store.series, talk, upcoming_after(store, talk),
                                        kind, sequence=sequence, stamp=now,
                                        photo=mail_photo(store.root, talk), changed=changed,
                                        extra=extra, reader=reader)


def mail_photo(root: Path, talk: Talk) -> InlineImage | None:
    """The speaker's photo as the HTML part carries it: small, square, inline."""
    if not talk.photo:
        return None
    from mailer.render.photos import square
    from mailer.render.rendered import InlineImage

    return InlineImage(f"photo.{talk.id}@announce", square(root, talk.photo))


def compose(store: Store, talk: Talk, kind: Kind, plan: RecipientPlan, *,
            mail: MailSettings, now: datetime, today: date | None = None,
            sequence: int = 0, changed: Sequence[tuple[str, str, str]] = (),
            personal: Personal | None = None, secret: bytes | None = None) -> Outgoing:
    """Validate what the mail depends on and render it once for ``plan``.

    ``mail`` is the series' mail settings as the command resolved them (the environment's
    overrides applied); ``sequence`` is the calendar event's SEQUENCE (the ledger's to say);
    ``secret`` keys each subscriber's unsubscribe token (none without it).
    """
    from mailer.mail.message import Blueprint, Headers
    from mailer.render.event import event_digest

    # Every record from this talk's window on must be valid, not just the ones shown.
    list(store.talks(min(today or talk.date, talk.date)))
    rendered = render_talk(store, talk, kind, now, sequence, changed=changed,
                           extra=personal.values if personal else None)
    if personal is not None and personal.attachments:
        rendered = replace(rendered, attachments=personal.attachments)
    # Without mail.from a preview still works: its From is a placeholder, never sent.
    sender = parse_mailbox(mail.sender or PLACEHOLDER_SENDER)
    reply_to = parse_mailbox(mail.reply_to) if mail.reply_to else None
    if personal is not None:  # a speaker replies to the organiser; no responder answers it
        headers = Headers(sender=sender, reply_to=reply_to or sender,
                          list_name=store.series.name, personal=True, cc=plan.cc,
                          auto="auto-generated")
    else:
        series = store.series.token
        headers = Headers(sender=sender, reply_to=reply_to, list_name=store.series.name,
                          unsubscribe=mail.unsubscribe, bulk=plan.bulk, web=mail.web,
                          token=None if secret is None else
                          lambda address: unsubscribe_token(secret, series, address))
    blueprint = Blueprint(rendered, headers, date=now, name=talk.id)
    record = f"{store.folder.name}/{talk.id}.yaml"
    verify(blueprint, plan, record, kind)
    in_zones = {}
    for zone in sorted({z for z in plan.zones if z}) if kind.mail.local_time else ():
        other = render_talk(store, talk, kind, now, sequence, changed=changed, reader=zone)
        if other.text != rendered.text:  # a zone that reads the same needs no copy of its own
            in_zones[zone] = Blueprint(other, headers, date=now, name=talk.id)
            verify(in_zones[zone], plan.only({b.envelope.lower() for b, z in zip(
                plan.subscribers, plan.zones, strict=True) if z == zone}), record, kind)
    digest = event_digest(store.series, talk) if rendered.ics else None
    facts = json.dumps(talk_facts(store.series, talk), sort_keys=True)\
        if kind.mail.tells else personal.facts if personal else None
    return Outgoing(series=store.series, talk=talk, kind=kind, rendered=rendered,
                    blueprint=blueprint, mail=mail, plan=plan, made=now, digest=digest,
                    warnings=_warnings(talk, kind), facts=facts, in_zones=in_zones)


_CHECKED_TOGETHER = 256  # recipients' headers read back in one block: one parse, not 256


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def verify(blueprint: Blueprint, plan: RecipientPlan, record: str, kind: Kind) -> None:
    """Check the bytes of every message of the run before the first one goes out (contract §6).

    The shared part is read back whole once; each recipient's own headers are read back
    one by one. A problem stops the run here, naming where the text came from.
    """
    problems = blueprint.problems()
    if problems:
        raise InputError(f"{record}: the {kind} would not go out as written, so nothing was "
                         f"sent: {'; '.join(problems)}")
    for batch in batched(plan.deliveries(), _CHECKED_TOGETHER):
        if not blueprint.check(*((d.to, d.number) for d in batch)):
            continue
        for delivery in batch:  # one of them is wrong: find it, to name its line
            problems = blueprint.check((delivery.to, delivery.number))
            if problems:
                raise InputError(f"{plan.where(delivery)}: this recipient's message would not "
                                 f"go out as written, so nothing was sent: "
                                 f"{'; '.join(problems)}")


def preview_files(outgoing: Outgoing) -> dict[str, bytes]:
    """Return the four preview files: the exact message, its text, its HTML, its event."""
    ics = outgoing.rendered.ics
    if ics is None:
        from mailer.render.calendar import build_calendar

        ics = build_calendar(outgoing.series, [(outgoing.talk, 0)], stamp=outgoing.made)
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


def write_preview(state: Path, outgoing: Outgoing, out: Path | None = None) -> Path:
    """Write the preview files to ``out``, or to ``<state>/preview/<id>-<kind>/``; return it."""
    files = preview_files(outgoing)
    if out is not None:
        write_files(out, files)
        return out
    name = f"{outgoing.talk.id}-{outgoing.kind}"
    if outgoing.kind.mail.audience == Audience.EACH_SPEAKER:  # one request a speaker: a folder each
        name += "-" + "-".join(slugify(b.addr.split("@")[0]) for b in outgoing.plan.lists)
    folder = state / "preview" / name
    write_folder(folder, files)
    return folder
