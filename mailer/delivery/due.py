"""What is due at a moment (``send --due``): the records and the ledger read together, then
the rules of contract §5 and §8 (:mod:`mailer.series.schedule`,
:mod:`mailer.series.speakerrules`) applied.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from mailer.delivery.history import from_elsewhere, held_back, load
from mailer.delivery.ledger import Ledger
from mailer.delivery.speakers import due_changed
from mailer.series.kinds import ANNOUNCING, Kind
from mailer.series.model import Talk
from mailer.series.schedule import DueNow, due, local_today
from mailer.series.speakerrules import Asked, Round, next_to_speakers, speaker_due
from mailer.series.store import Store


def due_now(store: Store, state: Path, now: datetime, *, remember: bool = False) -> DueNow:
    """What mail is due at ``now``, from the records and the ledger (contract §5 and 8,
    ``send --due``): to the list, and to speakers.

    A send the ledger dates after ``now`` counts as sent at ``now`` (the clock ran ahead
    then); with ``remember``, the ledger is corrected so, for good.
    """
    series = store.series
    today = local_today(now, series.zone)
    last = today + timedelta(days=series.announce_days_before)
    rules = series.speaker_mail
    horizon = today + timedelta(days=max(series.announce_days_before, rules.request_days_before,
                                         rules.brief_days_before))
    since = today - timedelta(days=series.followup_days_after or 0)  # recordings of past talks
    past = load(store.root)  # the series' record: what went, from any state folder
    with Ledger.existing(state, readonly=not remember) as ledger:
        announced = (ledger.announced() if ledger is not None else set()) |\
            {went.talk for went in past if went.kind == ANNOUNCING}
        talks: list[Talk] = []
        for talk in store.talks(since):  # the windows, and announced talks after them
            if talk.date <= horizon or talk.key in announced or not talks or\
                    talks[-1].date <= last:
                talks.append(talk)
            elif not announced:
                break
        if ledger is not None and remember:
            ledger.clamp(now)
        sent, told, asked = _histories(ledger, talks, announced, now)
        away = from_elsewhere(past, ledger, talks, now, sent=sent, told=told, asked=asked)
    plan = due(talks, now, series, sent, told)
    near = [t for t in talks if t.date <= horizon]
    to_speakers, notes = speaker_due(near, now, series, asked)
    to_speakers += due_changed(state, talks, now, series)  # a moved or cancelled talk's people
    limit = plan.next[2] if plan.next else now + timedelta(days=366)
    speakers_next = next_to_speakers(store.talks(today), now, series, asked, limit)
    following = [n for n in (plan.next, speakers_next) if n]
    return held_back(replace(plan, due=(*plan.due, *to_speakers), waiting=(*plan.waiting, *notes),
                             next=min(following, key=lambda n: n[2]) if following else None),
                     away, store, state)


def _histories(ledger: Ledger | None, talks: Sequence[Talk], announced: set[str],
               now: datetime) -> tuple[dict[tuple[str, Kind], datetime],
                                       dict[str, dict[str, str]], dict[str, Asked]]:
    """What the ledger says of each talk: when each kind first went out, what people were
    last told of its date, place and link, and what went to its speakers."""
    sent: dict[tuple[str, Kind], datetime] = {}
    told: dict[str, dict[str, str]] = {}
    asked: dict[str, Asked] = {}
    if ledger is None:
        return sent, told, asked
    for talk in talks:
        for kind in Kind:
            first = ledger.first_sent(talk.key, kind)
            if first is not None:
                sent[talk.key, kind] = min(first, now)
        facts = ledger.told(talk.key) if talk.key in announced else None
        if facts is not None:
            told[talk.key] = json.loads(facts)
        if talk.asked():
            asked[talk.key] = Asked(tuple(Round(*r) for r in ledger.rounds(talk.key)),
                                       ledger.briefed(talk.key))
    return sent, told, asked
