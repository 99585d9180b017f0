"""``announce inbox``: act on what came back (SPEC 7), each message once.

A speaker's reply fills the missing parts of their talk's record; a bounce suppresses the
address that failed for good (or three times for now); an unsubscribe request suppresses its
sender. What was acted on is marked seen and moved to ``announce/done``, and noted in the
ledger by its Message-ID, so a second run does nothing new; anything else is left as it was,
unread, and counted. ``--dry-run`` reads the mailbox read-only and says what it would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.delivery.lock import run_lock
from mailer.errors import InputError
from mailer.inbox.reading import (
    Bounce,
    Message,
    automatic,
    bounce,
    parse,
    reply,
    unsubscribing,
)
from mailer.inbox.records import fill
from mailer.inbox.sources import Source, open_source
from mailer.mail.outgoing import plan_recipients
from mailer.series.model import Seminar
from mailer.series.schedule import local_today
from mailer.series.settings import MailSettings
from mailer.series.store import Store


@dataclass
class Outcome:
    """What one message led to: lines for the organiser, and whether it was acted on."""

    lines: list[str] = field(default_factory=list)
    handled: bool = False
    attention: bool = False  # a person should look (cron shows it under --quiet)
    unsubscribed: str | None = None


@dataclass
class InboxRun:
    """What a run of the inbox did."""

    lines: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    handled: int = 0
    left: int = 0
    unsubscribed: list[str] = field(default_factory=list)  # to confirm, with confirm_unsubscribe


class _Context:
    def __init__(self, store: Store, mail: MailSettings, ledger: Ledger | None, now: datetime,
                 *, dry_run: bool) -> None:
        self.store = store
        self.mail = mail
        self.ledger = ledger
        self.dry_run = dry_run
        plan = plan_recipients(store.root, mail)
        self.subscribers = {b.envelope.lower() for b in (*plan.lists, *plan.subscribers)}
        self.speakers: dict[str, Seminar] = {}
        for seminar in store.seminars(local_today(now, store.series.zone)):
            if seminar.start(store.series) > now:
                for person in seminar.asked():
                    self.speakers.setdefault((person.email or "").lower(), seminar)

    def ours(self, address: str) -> bool:
        reached = self.ledger is not None and self.ledger.reached_anyone(address)
        return reached or address in self.subscribers

    def suppress(self, address: str, reason: str, message: Message) -> str:
        if self.dry_run or self.ledger is None:
            return f"would suppress {address} ({reason})"
        new = self.ledger.suppress(address, reason, message.key)
        return f"suppressed {address} ({reason})" if new else f"{address} was suppressed already"


def _bounced(found: Bounce, message: Message, context: _Context) -> Outcome:
    done = Outcome()
    for address in sorted(found.permanent):
        if context.ours(address):
            done.lines.append(context.suppress(address, "bounced: permanent failure", message))
            done.handled = True
    for address in sorted(found.temporary):
        if not context.ours(address):
            continue
        done.handled = True
        if context.dry_run or context.ledger is None:
            done.lines.append(f"would count a temporary failure for {address}")
            continue
        count = context.ledger.soft_bounce(address, message.key)
        done.lines.append(f"temporary failure {count} of 3 for {address}")
        if count >= 3:
            done.lines.append(context.suppress(address, "bounced: 3 temporary failures",
                                               message))
    if not done.handled:
        done.lines.append(f"a bounce for addresses announce never mailed ({message.key}); "
                          "left alone")
    return done


def _replied(message: Message, context: _Context) -> Outcome:
    seminar = context.speakers.get(message.sender)
    if seminar is None:
        return Outcome([f"a reply from {message.sender}, who speaks at no coming talk "
                        f"({message.subject!r}); left unread"], attention=True)
    answer = reply(message)
    try:
        done = fill(context.store, seminar, answer.fields, answer.photo,
                    dry_run=context.dry_run)
    except InputError as exc:
        return Outcome([f"{seminar.id}: the reply from {message.sender} could not be used "
                        f"({exc}); left unread"], attention=True)
    verb = "would fill" if context.dry_run else "filled"
    lines = [f"{seminar.id}: {verb} {', '.join(done.filled)} from {message.sender}'s reply"] \
        if done.filled else [f"{seminar.id}: the reply from {message.sender} fills nothing "
                             "the record lacks; left unread"]
    lines += [f"{seminar.id}: the reply's {key} differs from the record's; the record's is "
              "kept (look at the reply)" for key in done.differs]
    return Outcome(lines, handled=bool(done.filled), attention=not done.filled or
                   bool(done.differs))


def _act(message: Message, context: _Context) -> Outcome:
    found = bounce(message)
    if found is not None:
        return _bounced(found, message, context)
    if automatic(message):
        return Outcome()  # an out-of-office reply: not for announce
    if unsubscribing(message, context.mail.unsubscribe):
        if context.ours(message.sender):
            return Outcome([context.suppress(message.sender, "unsubscribed", message)],
                           handled=True, unsubscribed=message.sender)
        return Outcome([f"an unsubscribe request from {message.sender}, who is not on the "
                        "list; left alone"])
    if context.store.series.token.lower() in message.subject.lower():
        return _replied(message, context)
    return Outcome()


def read_inbox(store: Store, state: Path, mail: MailSettings, now: datetime, *,
               dry_run: bool) -> InboxRun:
    """Read ``mail.inbox`` and act on what came back; nothing changes with ``dry_run``."""
    if mail.inbox is None:
        raise InputError("seminars/series.yaml: mail.inbox is not set: give imap: {host, ...} "
                         "or maildir: PATH")
    result = InboxRun()
    if dry_run:
        with Ledger.existing(state) as ledger, \
                open_source(store.root, mail.inbox, readonly=True) as source:
            _each(source, _Context(store, mail, ledger, now, dry_run=True), result)
        return result
    with run_lock(state), Ledger(state) as ledger, \
            open_source(store.root, mail.inbox, readonly=False) as source:
        _each(source, _Context(store, mail, ledger, now, dry_run=False), result)
    if mail.confirm_unsubscribe and result.unsubscribed:
        from mailer.inbox.confirm import confirm

        result.lines += confirm(store, mail, result.unsubscribed, now)
    return result


def _each(box: Source, context: _Context, result: InboxRun) -> None:
    messages = box.unseen()
    for key, data in messages:
        message = parse(data, f"{box.where}:{key}")
        ledger = context.ledger
        if ledger is not None and ledger.was_handled(message.key):
            if not context.dry_run:
                box.done(key)  # acted on before, but not moved then
            continue
        outcome = _act(message, context)
        result.lines += outcome.lines
        if outcome.attention:
            result.attention += outcome.lines
        if outcome.handled:
            result.handled += 1
            if outcome.unsubscribed:
                result.unsubscribed.append(outcome.unsubscribed)
            if not context.dry_run and ledger is not None:
                ledger.handled(message.key, "; ".join(outcome.lines))
                box.done(key)
        else:
            result.left += 1
    verb = "would act on" if context.dry_run else "acted on"
    result.lines.append(f"inbox {box.where}: {len(messages)} new message(s); {verb} "
                        f"{result.handled}, left {result.left} alone")
