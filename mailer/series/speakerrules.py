"""The contract's §8 rules for the mail to speakers, as pure functions: no disk, clock or network.

A talk's speakers with an address are asked for what is missing from
``request_days_before`` days before it (at ``announce_at``); unanswered, the request is
repeated every ``chase_every_days`` while the talk is incomplete and the deadline
(``deadline_days_before``) has not passed, and the repeat that comes last says so. Each
repeat is a round: one message per speaker, recorded like any mail, so a run that stopped
half way finishes its round. ``brief_days_before`` days before, the speakers get the brief.
Nothing goes to a speaker about a talk that has started, is cancelled or is an open week,
but this:

When an announced talk moves (its date, time, place or call link changes) or is cancelled, its
speakers and host hear of it in a mail of their own (``changed``), once a change set: due as
soon as the list's update or cancellation is, or once one has gone out for that change set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mailer.series.kinds import Kind
from mailer.series.model import Series, Status, Talk
from mailer.series.schedule import Due, changes, local_moment, local_today, talk_facts


@dataclass(frozen=True)
class Round:
    """One round of requests as the ledger has it."""

    number: int
    first: datetime | None  # when it first reached a speaker (None: not yet)
    settled: frozenset[str]  # the addresses it reached or that refused it for good


@dataclass(frozen=True)
class Asked:
    """What went to a talk's speakers: the request rounds, and whom the brief reached."""

    rounds: tuple[Round, ...] = ()
    briefed: frozenset[str] = frozenset()


def deadline(series: Series, talk: Talk) -> date:
    """The day the request names as its deadline."""
    return talk.date - timedelta(days=series.speaker_mail.deadline_days_before)


def request_round(series: Series, talk: Talk, asked: Asked, today: date,
                  emails: Iterable[str]) -> tuple[int, frozenset[str]] | None:
    """The round of requests to send now and to whom, or None: a round left half way is
    finished first; a new one starts ``chase_every_days`` after the last first went out."""
    emails = frozenset(email.lower() for email in emails)
    if not asked.rounds:
        return 1, emails
    last = asked.rounds[-1]
    pending = emails - last.settled
    if pending:  # a round that stopped half way, or a speaker whose address came later
        return last.number, pending
    chase = timedelta(days=series.speaker_mail.chase_every_days)
    if last.first is not None and today >= last.first.astimezone(series.zone).date() + chase:
        return last.number + 1, emails
    return None


def is_last_round(series: Series, talk: Talk, today: date) -> bool:
    """Whether a request sent today is the last before the deadline."""
    chase = timedelta(days=series.speaker_mail.chase_every_days)
    return today + chase > deadline(series, talk)


def speaker_due(talks: Iterable[Talk], now: datetime, series: Series,
                asked: Mapping[str, Asked]) -> tuple[list[Due], list[str]]:
    """The mails to speakers due at ``now``, and what the organiser must be told (once)."""
    found: list[Due] = []
    notes: list[str] = []
    today = local_today(now, series.zone)
    rules = series.speaker_mail
    for talk in talks:
        if talk.start(series) <= now or not talk.takes_place:
            continue
        history = asked.get(talk.key, Asked())
        speakers = talk.asked()
        missing = talk.missing(photo=True)
        opens = local_moment(talk.date - timedelta(days=rules.request_days_before),
                             series.announce_at, series.zone)
        if missing and speakers and now >= opens:  # no address: `check` and `list` say so
            if today > deadline(series, talk):
                notes.append(f"{talk.id} still misses {', '.join(missing)} and its deadline "
                             f"({deadline(series, talk)}) has passed; ask the speaker "
                             "yourself")
            else:
                found += _requests(series, talk, history, today)
        briefs = local_moment(talk.date - timedelta(days=rules.brief_days_before),
                              series.announce_at, series.zone)
        emails = {s.email.lower() for s in speakers if s.email}
        if speakers and talk.status == Status.CONFIRMED and now >= briefs and\
                emails - history.briefed:
            found.append(Due(talk, Kind.BRIEF))
    return found, notes


def next_to_speakers(talks: Iterable[Talk], now: datetime, series: Series,
                     asked: Mapping[str, Asked],
                     before: datetime | None = None) -> tuple[Talk, Kind, datetime] | None:
    """The first request or brief to come after ``now`` and ``before`` the given moment (for
    "Nothing is due ... Next:"); ``seminars`` in date order, read only as far as needed."""
    rules = series.speaker_mail
    best: tuple[Talk, Kind, datetime] | None = None
    for talk in talks:
        opens = local_moment(talk.date - timedelta(days=rules.request_days_before),
                             series.announce_at, series.zone)
        briefs = local_moment(talk.date - timedelta(days=rules.brief_days_before),
                              series.announce_at, series.zone)
        limit = best[2] if best else before
        if limit is not None and min(opens, briefs) >= limit:
            break
        if talk.start(series) <= now or not talk.takes_place or not talk.asked():
            continue
        history = asked.get(talk.key, Asked())
        coming = []
        if talk.missing(photo=True) and not history.rounds and now < opens:
            coming.append((talk, Kind.REQUEST, opens))
        if talk.status == Status.CONFIRMED and not history.briefed and now < briefs:
            coming.append((talk, Kind.BRIEF, briefs))
        for item in coming:
            if best is None or item[2] < best[2]:
                best = item
    return best


def _requests(series: Series, talk: Talk, history: Asked, today: date) -> list[Due]:
    emails = [s.email for s in talk.asked() if s.email]
    chosen = request_round(series, talk, history, today, emails)
    if chosen is None:
        return []
    number, to = chosen
    last = is_last_round(series, talk, today)
    return [Due(talk, Kind.REQUEST, speaker=email, round=number, last=last)
            for email in emails if email.lower() in to]


@dataclass(frozen=True)
class Heard:
    """What the ledger says of a talk's changes: what the list was told, and whether the
    speakers heard of the change set the record holds now."""

    announced: bool = False  # the list's announcement reached anyone
    told: Mapping[str, str] | None = None  # what the list was last told of when, where, link
    listed: bool = False  # the list's update (this change set) or cancellation went out
    heard: frozenset[str] = frozenset()  # who has the speakers' mail of this change set


def change_facts(series: Series, talk: Talk) -> str:
    """The change set a ``changed`` mail tells (its campaign's facts, as the ledger keeps
    them): the talk's date, place and link as the list's update tells them, or that it is
    cancelled."""
    if talk.cancelled:
        return json.dumps({"status": str(Status.CANCELLED)})
    return json.dumps(talk_facts(series, talk), sort_keys=True)


def change_people(talk: Talk) -> frozenset[str]:
    """Who hears that a talk changed (lower-cased): its speakers with an address, its host."""
    people = {s.email.lower() for s in talk.asked() if s.email}
    if talk.host is not None and talk.host.email:
        people.add(talk.host.email.lower())
    return frozenset(people)


def changed_due(talks: Iterable[Talk], now: datetime, series: Series,
                history: Mapping[str, Heard]) -> list[Due]:
    """The ``changed`` mails due at ``now``: for each announced talk to come whose list
    update or cancellation is due, or went out for the change set the record holds now,
    and whose speakers or host have not all had it."""
    found: list[Due] = []
    for talk in talks:
        heard = history.get(talk.key)
        people = change_people(talk)
        if heard is None or not heard.announced or not people or talk.open or\
                talk.start(series) <= now:
            continue
        if talk.cancelled:
            listing = True  # the list's cancellation is due as soon as the record says so
        else:
            listing = heard.told is not None and bool(changes(heard.told,
                                                              talk_facts(series, talk)))
        if (listing or heard.listed) and people - heard.heard:
            found.append(Due(talk, Kind.CHANGED))
    return found
