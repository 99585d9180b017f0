"""``announce inbox``: act on what came back (contract §7), one message at a time, on proof only.

A message changes state only when it proves that it answers mail announce sent to the
address it speaks for, as the ledger knows every copy's Message-ID and recipient:

- a **bounce** counts for a recipient only when the mail it returns (its Message-ID, from the
  returned headers) went to that recipient; a permanent failure suppresses them, temporary
  ones count (three suppress);
- a **speaker's reply** fills their talk's record only when it answers (In-Reply-To or
  References) a request, brief or receipt that went to that speaker, from that address read
  strictly, and the organiser's own server did not find its From forged (DMARC); the speaker
  then gets a receipt showing what was taken;
- an **unsubscribe** takes effect at once with the recipient's token or as an answer to mail
  announce sent to that address; otherwise one mail asks the address to confirm by replying
  (at most one a day).

Anything else is left as it was, unread, and named once. One message that cannot be read is
quarantined the same way, never fatal; the mailbox itself failing (login, network) is an
error of its own, raised for the caller. ``--dry-run`` reads the mailbox read-only and
says what it would do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from mailer.delivery.ledger import Ledger
from mailer.delivery.lock import run_lock
from mailer.delivery.suppression import backfill
from mailer.errors import InputError, LedgerError
from mailer.inbox.journal import recover
from mailer.inbox.judging import InboxRun, Judging, Outcome
from mailer.inbox.membership import about_membership
from mailer.inbox.notes import send_notes
from mailer.inbox.reading import (
    Bounce,
    Message,
    automatic,
    bounce,
    identity,
    parse,
)
from mailer.inbox.sources import MAX_MESSAGE_BYTES, Source, open_source
from mailer.series.kinds import Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.store import Store

# Mail that went to one speaker alone, so that answering it proves the address: the request
# (one a speaker) and the receipt. The brief goes to all speakers and the host together:
# one of them answering it proves nothing about the others.
SPEAKER_MAIL = frozenset({*(k.value for k in Kind if k.mail.answered), "received"})


def _bounced(found: Bounce, message: Message, context: Judging) -> Outcome:
    copies = context.copies(message, found.returned)
    # A copy that went to several people together (a brief to the speakers and host) proves
    # nothing against one of them: each of them knows its Message-ID.
    shared = {c.message_id for c in copies
              if sum(other.message_id == c.message_id for other in copies) > 1}
    went_to = {c.recipient for c in copies if c.message_id not in shared} - context.lists
    copy_of = {c.recipient: c.message_id for c in copies}
    done = Outcome()
    failed = sorted(found.permanent | found.temporary)
    if not copies:
        return Outcome([f"a bounce ({message.key}) naming {', '.join(failed[:3])} returns no "
                        "mail announce sent; left alone"], attention=True)
    together = sorted({c.recipient for c in copies if c.message_id in shared} & set(failed))
    if together:
        done.lines.append(f"a bounce ({message.key}) for {', '.join(together[:3])} returns a "
                          "mail that went to several people together; not counted (look at it)")
        done.attention = True
    for address in sorted(found.permanent & went_to):
        done.lines.append(context.suppress(address, "bounced: permanent failure", message))
        done.handled = True
    for address in sorted(found.temporary & went_to):
        done.handled = True
        if context.dry_run or context.ledger is None:
            done.lines.append(f"would count a temporary failure for {address}")
            continue
        count = context.ledger.soft_bounce(address, copy_of[address])  # per mail, not notice
        done.lines.append(f"temporary failure {count} of 3 for {address}")
        if count >= 3:
            done.lines.append(context.suppress(address, "bounced: 3 temporary failures",
                                               message))
    for address in sorted(set(failed) & context.lists):
        done.lines.append(f"a bounce ({message.key}) for the list address {address}: not "
                          "suppressed (the list is the series' own; look at it)")
        done.attention = True
    strangers = [a for a in failed
                 if a not in went_to and a not in context.lists and a not in together]
    if strangers:
        done.lines.append(f"a bounce ({message.key}) names {', '.join(strangers[:3])}, to whom "
                          "the mail it returns did not go; not counted")
        done.attention = not done.handled
    return done


def _act(message: Message, context: Judging) -> Outcome:
    found = bounce(message)
    if found is not None:
        return _bounced(found, message, context)
    if automatic(message):
        return Outcome()  # an out-of-office reply: not for announce
    copies = [c for c in context.copies(message, message.answers)
              if message.sender is not None and c.recipient == message.sender]
    membership = about_membership(message, copies, context)
    if membership is not None:  # leaving, joining, a preference
        return membership
    speaking = [c for c in copies if c.kind in SPEAKER_MAIL]
    if speaking:
        from mailer.inbox.replies import replied  # noqa: PLC0415 (ruamel.yaml and Pillow load only when a speaker replied)

        return replied(message, speaking, context)
    if context.store.series.token.lower() in message.subject.lower():
        return Outcome([f"a message from {message.sender or 'an unreadable From'} "
                        f"({message.key}) with the series' token in its subject answers no "
                        "request announce sent to that address; left alone"], attention=True)
    return Outcome()


@contextmanager
def _opened(store: Store, state: Path, mail: MailSettings, now: datetime, *,
            dry_run: bool) -> Iterator[tuple[Ledger | None, Source]]:
    assert mail.inbox is not None  # noqa: S101 (checked by the caller)
    if dry_run:
        with Ledger.existing(state, readonly=True) as ledger,\
                open_source(store.root, mail.inbox, readonly=True) as source:
            yield ledger, source
        return
    started = time.monotonic()  # the run's moment (--now stands in for it), moving on

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    with run_lock(state), Ledger(state, clock=clock) as ledger,\
            open_source(store.root, mail.inbox, readonly=False) as source:
        yield ledger, source


def read_inbox(store: Store, state: Path, mail: MailSettings, now: datetime, *,
               dry_run: bool) -> InboxRun:
    """Read ``mail.inbox`` and act on what came back; nothing changes with ``dry_run``.

    The mailbox failing (no password, login refused, server down or stalled) raises its
    MailerError; a message that cannot be read is left as it was and named once."""
    if mail.inbox is None:
        raise InputError("seminars/series.yaml: mail.inbox is not set: give imap: {host, ...} "
                         "or maildir: PATH")
    result = InboxRun()
    with _opened(store, state, mail, now, dry_run=dry_run) as (ledger, source):
        if not dry_run:
            result.lines += recover(store, state)
            if ledger is not None:
                backfill(store.root, ledger)
        context = Judging(store, state, mail, ledger, now, dry_run=dry_run)
        _each(source, context, result)
        if context.notes and ledger is not None and not dry_run:
            result.lines += send_notes(store, mail, ledger, context.notes, now)
    return result


def _judged(data: bytes, key: str, context: Judging) -> tuple[str, Outcome]:
    """One message judged and acted on; any failure quarantines it."""
    try:
        message = parse(data, key)
        if context.ledger is not None and context.ledger.was_handled(message.key):
            return message.key, Outcome(handled=True)
        return message.key, _act(message, context)
    except LedgerError:
        raise
    except Exception as exc:  # one bad message is never fatal
        message_id, sender = identity(data)
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        return key, Outcome([f"a message that cannot be read ({message_id} from {sender}): "
                             f"{why}; left unread"], attention=True)


def _each(box: Source, context: Judging, result: InboxRun) -> None:
    listed = box.unseen()
    for key, size in listed:
        if size > MAX_MESSAGE_BYTES:
            name, outcome = key, Outcome([
                f"a message of {size // (1 << 20)} MB in {box.where} is larger than announce "
                f"reads ({MAX_MESSAGE_BYTES >> 20} MB); left unread"], attention=True)
        else:
            data = box.fetch(key)
            if not data:  # another client moved or deleted it meanwhile
                continue
            name, outcome = _judged(data, f"{box.where}:{key}", context)
        ledger = context.ledger
        if outcome.handled:
            result.handled += 1
            if not context.dry_run and ledger is not None:
                if outcome.lines:
                    ledger.handled(name, "; ".join(outcome.lines))
                box.done(key)
        else:
            result.left += 1
            if outcome.lines and ledger is not None and not context.dry_run and\
                    not ledger.first_time(f"inbox left {name}"):
                continue  # said when it first came
        result.lines += outcome.lines
        if outcome.attention:
            result.attention += outcome.lines
    verb = "would act on" if context.dry_run else "acted on"
    result.lines.append(f"inbox {box.where}: {len(listed)} new message(s); {verb} "
                        f"{result.handled}, left {result.left} alone")
