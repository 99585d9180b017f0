"""The kinds of mail, each declared once: its template, who it goes to, what tells one of its
mails from another in the ledger, and when it may go. The rest of the house asks this table;
its due rule lives with the others of its audience (``schedule`` for the list's,
``speakerrules`` for the speakers').

A new kind is a member here, its declaration, a template and its due rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The kinds of mail a talk can get."""

    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"
    REQUEST = "request"  # to the speaker: what is still missing, and a form to reply with
    BRIEF = "brief"  # to the speaker, the host in copy: the practical details
    CANCELLATION = "cancellation"
    UPDATE = "update"  # an announced talk's date, time, place or call link changed
    FOLLOWUP = "followup"  # after the talk: its recording is online
    CHANGED = "changed"  # to the speakers, the host in copy: their talk moved or is cancelled

    @property
    def mail(self) -> MailKind:
        """This kind's declaration."""
        return KINDS[self]

    @property
    def personal(self) -> bool:
        """Whether it is personal mail to a talk's speakers (and host), not list mail: no
        List-Id or unsubscribe link, Reply-To the organiser, the series' token in the subject."""
        return KINDS[self].audience != Audience.LIST


class Audience(StrEnum):
    """Who a kind of mail goes to."""

    LIST = "the list"  # the subscribers (or the list address), one copy each
    EACH_SPEAKER = "each speaker"  # one mail a speaker, asked in rounds
    SPEAKERS = "the speakers"  # one mail to all the talk's speakers, the host in copy


class Identity(StrEnum):
    """What tells one mail of a kind from another of the same talk (its campaign's facts)."""

    ONCE = "once"  # one mail a talk
    TOLD = "told"  # one a change of what the list was told (date, place, call link)
    ROUND = "round"  # one a round of asking
    CHANGE = "change"  # one a change set, as the speakers' mail words it


@dataclass(frozen=True)
class MailKind:
    """One kind of mail, as the house needs to know it."""

    template: str  # the body's template, in templates/
    audience: Audience
    identity: Identity
    heading: str  # the HTML heading's first word(s): "Cancelled" in "Cancelled: <talk>"
    announces: bool = False  # the talk's first word to the list: "announced" means it went
    tells: bool = False  # it tells the date, place and link (what an update compares)
    calendar: bool = False  # it carries the talk's calendar event
    announced_first: bool = False  # it goes only after the talk's announcement
    before_start: bool = False  # it is refused once the talk has started
    after_start: bool = False  # it is refused before the talk has started
    on_the_day: bool = False  # by hand too, only on the talk's day
    needs_recording: bool = False
    for_cancelled: bool = False  # the kind a cancelled talk gets (and no other list mail)
    with_speakers: bool = False  # the speakers' own mail (changed) goes with it
    answered: bool = False  # a speaker's reply to it is read for the record (the form)
    optional: bool = False  # a subscriber may turn it off (preferences: reminders off)
    local_time: bool = False  # it shows the talk's time in each subscriber's own zone too


KINDS: dict[Kind, MailKind] = {
    Kind.ANNOUNCEMENT: MailKind(
        "announcement.md.j2", Audience.LIST, Identity.ONCE, "", announces=True, tells=True,
        calendar=True, before_start=True, local_time=True),
    Kind.REMINDER: MailKind(
        "reminder.md.j2", Audience.LIST, Identity.ONCE, "Today at", on_the_day=True,
        optional=True, local_time=True),
    Kind.CANCELLATION: MailKind(
        "cancellation.md.j2", Audience.LIST, Identity.ONCE, "Cancelled", calendar=True,
        announced_first=True, for_cancelled=True, with_speakers=True),
    Kind.UPDATE: MailKind(
        "update.md.j2", Audience.LIST, Identity.TOLD, "Changed", tells=True, calendar=True,
        announced_first=True, before_start=True, with_speakers=True),
    Kind.FOLLOWUP: MailKind(
        "followup.md.j2", Audience.LIST, Identity.ONCE, "Recording", after_start=True,
        needs_recording=True),
    Kind.REQUEST: MailKind(
        "request.md.j2", Audience.EACH_SPEAKER, Identity.ROUND, "Your talk", answered=True),
    Kind.BRIEF: MailKind(
        "brief.md.j2", Audience.SPEAKERS, Identity.ONCE, "Your talk"),
    Kind.CHANGED: MailKind(
        "changed.md.j2", Audience.SPEAKERS, Identity.CHANGE, "Changed"),
}

# The kind whose sending makes a talk "announced": what updates, reminders and cancellations
# wait for, and what ``send`` sends unless told another.
ANNOUNCING = next(kind for kind, mail in KINDS.items() if mail.announces)
