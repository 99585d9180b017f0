"""``ics``: one calendar of every talk, a feed to subscribe to (RFC 5545, via icalendar).

Each talk's SEQUENCE is the one the ledger gives its current version, as in the mail;
cancelled talks stay in it, marked CANCELLED.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.render.calendar import build_calendar
from mailer.render.event import event_digest
from mailer.series.store import Store


def feed(store: Store, state: Path, now: datetime) -> str:
    """Return one calendar of every talk, cancelled ones marked CANCELLED."""
    series = store.series
    with Ledger.existing(state) as ledger:
        events = [(talk, ledger.sequence(talk.key, event_digest(series, talk))
                   if ledger else 0) for talk in store.talks() if not talk.open]
    return build_calendar(series, events, stamp=now)
