"""What judging one inbox message needs (contract §7 and 9): the run's view of the series, the
ledger and the list, what one message led to, and the mail the inbox sends when the run ends
(at most one of a kind to an address a day)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from mailer.delivery.inboxrows import SentCopy
from mailer.delivery.ledger import Ledger
from mailer.delivery.memberrows import CONFIRMED
from mailer.delivery.secret import series_secret
from mailer.delivery.suppression import digest, remember
from mailer.inbox.notes import Note
from mailer.inbox.reading import Message
from mailer.mail.recipients import plan_recipients
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Talk
from mailer.series.schedule import local_today
from mailer.series.store import Store

A_DAY = timedelta(days=1)


@dataclass
class Outcome:
    """What one message led to: lines for the organiser, and whether it was acted on."""

    lines: list[str] = field(default_factory=list)
    handled: bool = False
    attention: bool = False  # a person should look (cron shows it under --quiet)


@dataclass
class InboxRun:
    """What a run of the inbox did."""

    lines: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    handled: int = 0
    left: int = 0


class Judging:
    """What judging one message needs to know of the run: the series, the ledger, who is on
    the list, and the mail the inbox will send when the run ends."""


    def __init__(self, store: Store, state: Path, mail: MailSettings, ledger: Ledger | None,
                 now: datetime, *, dry_run: bool) -> None:
        self.store = store
        self.state = state
        self.mail = mail
        self.ledger = ledger
        self.now = now
        self.dry_run = dry_run
        self.secret = series_secret(state, create=False)
        plan = plan_recipients(store.root, mail)
        joined = {m.address for m in ledger.members(CONFIRMED)} if ledger is not None else set()
        self.subscribers = {b.envelope.lower() for b in (*plan.lists, *plan.subscribers)} | joined
        # A list address (mail.to) is the series' own: every member sees its one copy, so
        # nothing in the inbox may suppress it.
        self.lists = {b.envelope.lower() for b in plan.lists}
        self.notes: list[Note] = []

    def copies(self, message: Message, ids: Sequence[str]) -> list[SentCopy]:
        return self.ledger.sent_to(ids) if self.ledger is not None and ids else []

    def suppress(self, address: str, reason: str, message: Message) -> str:
        if self.dry_run or self.ledger is None:
            return f"would suppress {address} ({reason})"
        new = self.ledger.suppress(address, reason, message.key)
        if new:  # the series keeps it too: a lost state folder mails nobody who left
            remember(self.store.root, [{"address": digest(address), "why": reason}])
        return f"suppressed {address} ({reason})" if new else f"{address} was suppressed already"

    def send(self, note: Note, *, every: timedelta | None = None) -> str:
        """Queue one mail of the inbox's own (sent after the run), at most one per ``every``."""
        if every is not None and self.ledger is not None:
            last = self.ledger.last_note(note.to, note.purpose)
            if (last is not None and self.now - last < every) or\
                    any(n.to == note.to and n.purpose == note.purpose for n in self.notes):
                return f"not asking {note.to} again today"
        self.notes.append(note)  # a dry run keeps them to say each once, and sends none
        return f"{'would' if self.dry_run else 'will'} send {note.to} {note.subject!r}"

    def suppressed(self) -> set[str]:
        """The addresses suppressed now (lower-cased)."""
        return set(self.ledger.suppressed()) if self.ledger is not None else set()

    def talk(self, key: str) -> Talk | None:
        """The talk whose ledger identity is ``key``, if it is still to come."""
        for talk in self.store.talks(local_today(self.now, self.store.series.zone)):
            if talk.key == key and talk.start(self.store.series) > self.now:
                return talk
        return None
