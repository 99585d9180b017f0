"""The mail as it will go: its recipients planned once, rendered once, its bytes checked.

The frozen values: who gets it (:class:`RecipientPlan`), one message each
(:class:`Delivery`), and the mail ready to go (:class:`Outgoing`), made by
:func:`mailer.mail.composing.compose`, every message of which has been built and read back
(:func:`verify`, contract §6). Nothing here renders, sends, reads the ledger or the
environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from mailer.addresses import Mailbox, parse_mailbox
from mailer.errors import InputError
from mailer.series.kinds import Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Series, Talk

if TYPE_CHECKING:
    from mailer.mail.message import Blueprint
    from mailer.render.rendered import Attachment, Rendered

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


