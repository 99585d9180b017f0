"""The choosing rules of contract §5, as pure functions: no disk, no clock, no network.

Talks come in as iterables in date order (the store reads them lazily, so a rule that
stops early reads no more records than it needs); the moment comes in as an argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from mailer.errors import InputError
from mailer.series.kinds import Kind
from mailer.series.model import Series, Status, Talk

if TYPE_CHECKING:  # the store hands talks in lazily; the rules only iterate
    from mailer.series.store import Store


def local_today(now: datetime, zone: tzinfo) -> date:
    """Return the date in the series' zone at ``now``.

    A cron host often runs in UTC: at 00:30 on Monday in Stockholm it is still Sunday
    there, and "this week's seminar" must be Stockholm's.
    """
    return now.astimezone(zone).date()


def standing_in(zone: tzinfo, today: date, now: datetime) -> datetime:
    """``now``, or the start of ``--today`` when it stands in for the clock."""
    if today != local_today(now, zone):
        return datetime.combine(today, time(0, 0), tzinfo=zone)
    return now


def window(today: date, days: int) -> tuple[date, date]:
    """Return the first and last day "this week's seminar" looks at."""
    return today, today + timedelta(days=days)


@dataclass(frozen=True)
class Choice:
    """The talk a rule picked, or none and the next talk after the window (for the message)."""

    talk: Talk | None
    following: Talk | None = None


def this_week(talks: Iterable[Talk], today: date, days: int) -> Choice:
    """The first talk that takes place in ``today .. today + days`` (talks from today on)."""
    _, last = window(today, days)
    for talk in talks:
        if not talk.takes_place or talk.date < today:
            continue
        if talk.date <= last:
            return Choice(talk)
        return Choice(None, talk)
    return Choice(None)


def on_day(talks: Iterable[Talk], day: date) -> Choice:
    """The talk that takes place on ``day`` (talks from ``day`` on)."""
    following = None
    for talk in talks:
        if talk.date == day and talk.takes_place:
            return Choice(talk)
        if talk.date > day and talk.takes_place:
            following = talk
            break
    return Choice(None, following)


def cancelled_in_window(talks: Iterable[Talk], today: date, days: int) -> Choice:
    """The first cancelled talk in ``today .. today + days``."""
    first, last = window(today, days)
    for talk in talks:
        if talk.date > last:
            break
        if talk.cancelled and talk.date >= first:
            return Choice(talk)
    return Choice(None)


def upcoming(later: Iterable[Talk], count: int) -> list[Talk]:
    """The next ``count`` talks that take place (talks after this one, in date order)."""
    found: list[Talk] = []
    if count <= 0:
        return found
    for talk in later:
        if talk.takes_place:
            found.append(talk)
            if len(found) >= count:
                break
    return found


def talk_facts(series: Series, talk: Talk) -> dict[str, str]:
    """What an announcement told people that a correction must reach them about: when the
    talk is, where, and the call link. Title, abstract or bio edits are not among them."""
    return {"when": f"{talk.start(series):%Y-%m-%d %H:%M}",
            "location": talk.place(series) or "", "call": talk.call(series) or ""}


def changes(told: Mapping[str, str], now: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """What changed since people were told: (fact, old, new) for each fact that differs."""
    return [(key, told.get(key, ""), value) for key, value in now.items()
            if told.get(key, "") != value]


CADENCE_DAYS = {"weekly": 7, "biweekly": 14}


def next_free_date(days: Sequence[date], cadence: str, today: date) -> date | None:
    """The date ``new --next`` takes: one cadence after the last talk, on the weekday most
    talks are on (of a tie, the latest talk's), and not before tomorrow (then on from today
    by the cadence). None when there is no talk yet to follow."""
    if not days:
        return None
    step = CADENCE_DAYS[cadence]
    counts = Counter(day.weekday() for day in days)
    most = max(counts.values())  # a tie goes to the weekday of the latest of them
    weekday = next(day.weekday() for day in sorted(days, reverse=True)
                   if counts[day.weekday()] == most)
    last = max(days)
    candidate = last + timedelta(days=step)
    candidate -= timedelta(days=(candidate.weekday() - weekday) % 7)
    if candidate <= last:
        candidate += timedelta(days=7)
    while candidate <= today:
        candidate += timedelta(days=step)
    return candidate


@dataclass(frozen=True)
class Due:
    """One mail whose moment has come: the talk and the kind."""

    talk: Talk
    kind: Kind
    speaker: str | None = None  # a request: the speaker's address
    round: int = 0  # a request: which round (1, then each repeat)
    last: bool = False  # a request: the last before the deadline


@dataclass(frozen=True)
class DueNow:
    """What is due at a moment, what waits for the organiser, and what comes next."""

    due: tuple[Due, ...]
    waiting: tuple[str, ...] = ()  # due, but held back until a person acts
    next: tuple[Talk, Kind, datetime] | None = None


def local_moment(day: date, moment: time, zone: tzinfo) -> datetime:
    """``moment`` on ``day`` in the series' zone."""
    return datetime.combine(day, moment, tzinfo=zone)


def due(talks: Iterable[Talk], now: datetime, series: Series,
        sent: Mapping[tuple[str, Kind], datetime],
        told: Mapping[str, Mapping[str, str]] | None = None) -> DueNow:
    """The mails due at ``now`` (contract §5): talks from today on, in date order.

    ``sent`` holds, for each talk x kind that went out to anyone, when it first did. A
    mail is due from its moment until the talk starts: the next talk's announcement from
    ``announce_days_before`` days before at ``announce_at``; the reminder on the talk's day
    from ``remind_at`` (not when the announcement itself went out that day); a cancellation
    as soon as an announced talk is cancelled, however far off it is; an update as soon as
    the date, time, place or call link of an announced talk differs from what people were
    last told (``told``, by talk key; talks after the window come in only when they were
    announced); after a talk, its follow-up once its recording is set
    (``followup_days_after``). Whether each went out to everyone is the ledger's to say (a
    run that stopped half way is due until it is finished).
    """
    told = told or {}
    zone = series.zone
    today = local_today(now, zone)
    last = today + timedelta(days=series.announce_days_before)
    found: list[Due] = []
    waiting: list[str] = []
    following: tuple[Talk, Kind, datetime] | None = None
    announcing: Talk | None = None
    beyond = False  # past the window: only updates of announced talks
    for talk in talks:
        started = talk.start(series) <= now  # nothing goes out about it, but its recording
        correction = _followup(talk, now, series, sent) if started else\
            _update(talk, series, told)
        if correction is not None:
            found.append(correction)
        if talk.cancelled and not started:
            # Whoever saved the event hears at once, however far off the talk is.
            if (talk.key, Kind.ANNOUNCEMENT) in sent:
                found.append(Due(talk, Kind.CANCELLATION))
            continue
        if started or beyond:
            continue
        if talk.open:  # no speaker yet: nothing to announce, now or later
            continue
        if announcing is None:
            announcing = talk
            verdict = _announcement(talk, now, series, sent)
            if isinstance(verdict, datetime):
                following = (talk, Kind.ANNOUNCEMENT, verdict)
            elif isinstance(verdict, str):
                waiting.append(verdict)
            else:
                found.append(verdict)
        announcing_now = (Due(talk, Kind.ANNOUNCEMENT) in found
                          and (talk.key, Kind.ANNOUNCEMENT) not in sent)
        reminder = _reminder(talk, now, series, sent, announcing_now=announcing_now)
        if reminder is not None:
            found.append(reminder)
        beyond = talk.date > last
    return DueNow(tuple(found), tuple(waiting), following)


def _announcement(talk: Talk, now: datetime, series: Series,
                  sent: Mapping[tuple[str, Kind], datetime]) -> Due | str | datetime:
    """The next talk's announcement: due, held back (why, for the organiser), or its moment
    to come."""
    moment = local_moment(talk.date - timedelta(days=series.announce_days_before),
                          series.announce_at, series.zone)
    if now < moment:
        return moment
    if talk.status != Status.CONFIRMED:
        return (f"{talk.id} is {talk.status}: its announcement is due but waits until "
                "its status is confirmed")
    if series.incomplete == "hold" and not talk.title and\
            (talk.key, Kind.ANNOUNCEMENT) not in sent:
        return (f"{talk.id} has no title yet: its announcement is due but held "
                "(incomplete: hold) until the record has one; or send it as it is with "
                f"`announce send {talk.id}`")
    return Due(talk, Kind.ANNOUNCEMENT)


def _update(talk: Talk, series: Series,
            told: Mapping[str, Mapping[str, str]]) -> Due | None:
    """The update of an announced talk whose date, time, place or call link changed."""
    if talk.cancelled or talk.key not in told:
        return None
    return Due(talk, Kind.UPDATE) if changes(told[talk.key], talk_facts(series, talk))\
        else None


def _followup(talk: Talk, now: datetime, series: Series,
              sent: Mapping[tuple[str, Kind], datetime]) -> Due | None:
    """The recording's mail: once, when the recording is set, up to ``followup_days_after``
    days after the talk (contract §5)."""
    if series.followup_days_after is None or not talk.recording or talk.cancelled:
        return None
    last = talk.date + timedelta(days=series.followup_days_after)
    if local_today(now, series.zone) > last or (talk.key, Kind.FOLLOWUP) in sent:
        return None
    return Due(talk, Kind.FOLLOWUP)


def _reminder(talk: Talk, now: datetime, series: Series,
              sent: Mapping[tuple[str, Kind], datetime], *, announcing_now: bool) -> Due | None:
    """The talk's reminder, if it is due: on its day, from remind_at, after no same-day
    announcement (that mail says it all)."""
    zone = series.zone
    if series.remind_at is None or talk.status != Status.CONFIRMED:
        return None
    if series.incomplete == "hold" and not talk.title and\
            (talk.key, Kind.ANNOUNCEMENT) not in sent:
        return None  # held with its announcement
    if talk.date != local_today(now, zone) or\
            now < local_moment(talk.date, series.remind_at, zone):
        return None
    announced = sent.get((talk.key, Kind.ANNOUNCEMENT))
    if announcing_now or (announced and announced.astimezone(zone).date() == talk.date):
        return None
    return Due(talk, Kind.REMINDER)


@dataclass(frozen=True)
class Nothing:
    """No talk to act on: why, for the user."""

    message: str


def _choose(store: Store, today: date, kind: Kind) -> Choice:
    days = store.series.announce_days_before
    if kind == Kind.REMINDER:
        return on_day(store.talks(today), today)
    if kind == Kind.CANCELLATION:
        return cancelled_in_window(store.talks(today), today, days)
    if kind == Kind.FOLLOWUP:
        past = [s for s in store.talks(today - timedelta(days=60))
                if s.date <= today and s.recording and s.takes_place]
        return Choice(past[-1] if past else None)
    return this_week(store.talks(today), today, days)


def _nothing(store: Store, today: date, kind: Kind, following: Talk | None) -> Nothing:
    _, last = window(today, store.series.announce_days_before)
    if kind == Kind.CANCELLATION:
        return Nothing(f"No cancelled seminar between {today} and {last}.")
    if kind == Kind.FOLLOWUP:
        return Nothing("No talk of the last 60 days has a recording: set recording: in its "
                       "record, or name the talk")
    hint = (f" Next: {following.id} on {following.date}." if following
            else " No talk is planned after that.")
    if kind == Kind.REMINDER:
        return Nothing(f"No seminar today ({today}).{hint}")
    return Nothing(f"No seminar to announce between {today} and {last}.{hint}")


def pick(store: Store, which: str | None, today: date, kind: Kind) -> Talk | Nothing:
    """Return the talk a command acts on: the one named, or this week's (contract §5)."""
    if which:
        talk = store.find(which)
    else:
        choice = _choose(store, today, kind)
        if choice.talk is None:
            return _nothing(store, today, kind, choice.following)
        talk = choice.talk
    if kind == Kind.CANCELLATION and not talk.cancelled:
        raise InputError(f"{talk.id}: status is {talk.status}, not cancelled; set "
                         "status: cancelled (and a note with the reason) first")
    if kind != Kind.CANCELLATION and talk.cancelled:
        raise InputError(f"{talk.id} is cancelled; no {kind} goes out for it. To tell the "
                         f"list, run announce send {talk.id} --kind cancellation")
    if talk.open:
        raise InputError(f"{talk.id} is an open week (no speaker yet); no {kind} goes out "
                         "for it. Give it a speaker and status: confirmed first")
    return talk


def upcoming_after(store: Store, talk: Talk) -> list[Talk]:
    """The talks an announcement of ``seminar`` lists as upcoming."""
    return upcoming(store.after(talk), store.series.upcoming_count)
