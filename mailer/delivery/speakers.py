"""Mail to speakers (contract §8): a request for what is missing, one a speaker, in rounds; the
brief before the talk, to every speaker with the host in copy, the meeting backdrop attached;
and, when an announced talk moves or is cancelled, the same people's ``changed`` mail. Here:
which are due, the round ``ask`` sends and what a talk's people were told (the ledger read
with the rules of :mod:`mailer.series.speakerrules`); :mod:`mailer.delivery.tospeakers`
composes them.

All go through the same checks, ledger and send loop as every mail; they are personal mail,
so they carry no List-Id or List-Unsubscribe, a reply goes to the organiser, and they say
``Auto-Submitted: auto-generated`` (RFC 3834) so that no vacation responder answers them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from mailer.delivery.ledger import SENT, Ledger
from mailer.errors import LedgerError
from mailer.series.kinds import ANNOUNCING, Kind
from mailer.series.model import Series, Talk
from mailer.series.schedule import Due, local_today
from mailer.series.speakerrules import (
    Asked,
    Heard,
    Round,
    change_facts,
    change_people,
    changed_due,
    is_last_round,
    request_round,
)
from mailer.series.store import Store

SPEAKER_KINDS = tuple(kind for kind in Kind if kind.personal)  # request, brief, changed


def next_round(store: Store, state: Path, talk: Talk, today: datetime) -> tuple[int, bool]:
    """The round ``ask`` sends by hand: the one left half way, else a new one; and whether
    it is the last before the deadline."""
    with Ledger.existing(state) as ledger:
        rounds = tuple(Round(*r) for r in ledger.rounds(talk.key)) if ledger else ()
    day = local_today(today, store.series.zone)
    emails = [s.email for s in talk.asked() if s.email]
    chosen = request_round(store.series, talk, Asked(rounds), day, emails)
    number = chosen[0] if chosen else rounds[-1].number + 1  # no round due: a new one now
    return number, is_last_round(store.series, talk, day)


def told_before(ledger: Ledger, talk: Talk, facts: str) -> dict[str, str] | None:
    """What the talk's people were last told of its date, place and link before the change
    set ``facts``: the newest announcement, update or ``changed`` mail that reached anyone
    and told something else."""
    try:
        rows = ledger.facts_told(talk.key, (ANNOUNCING, Kind.UPDATE, Kind.CHANGED), facts)
    except LedgerError:
        return None
    for text in rows:
        told = json.loads(text)
        if isinstance(told, dict) and "when" in told:  # not a cancellation's
            return {str(k): str(v) for k, v in told.items()}
    return None


def _heard(ledger: Ledger, series: Series, talk: Talk) -> Heard:
    facts = change_facts(series, talk)
    told = ledger.told(talk.key)
    if talk.cancelled:
        listed = ledger.first_sent(talk.key, Kind.CANCELLATION) is not None
    else:
        update = ledger.matching_campaign(talk.key, Kind.UPDATE, facts)
        listed = update is not None and SENT in ledger.settled(update).values()
    mine = ledger.matching_campaign(talk.key, Kind.CHANGED, facts)
    return Heard(announced=ledger.first_sent(talk.key, ANNOUNCING) is not None,
                 told=json.loads(told) if told else None, listed=listed,
                 heard=frozenset(ledger.settled(mine)) if mine is not None else frozenset())


def due_changed(state: Path, talks: Sequence[Talk], now: datetime,
                series: Series) -> list[Due]:
    """The ``changed`` mails due at ``now`` (``send --due``), from the records and what the
    ledger says went: the rule is :func:`mailer.series.speakerrules.changed_due`."""
    near = [t for t in talks if change_people(t) and t.start(series) > now and not t.open]
    if not near:  # the usual case: no ledger is opened
        return []
    with Ledger.existing(state) as ledger:
        if ledger is None:
            return []
        history = {t.key: _heard(ledger, series, t) for t in near}
    return changed_due(near, now, series, history)
