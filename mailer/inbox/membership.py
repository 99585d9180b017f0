"""Subscribers who manage themselves by mail (contract §9), on proof only.

- **Leaving**: a message bearing the recipient's token (the ``List-Unsubscribe`` subject), or an
  answer to mail announce sent to that address, unsubscribes at once; a request without proof
  gets one mail asking to confirm by replying (at most one a day).
- **Joining**: a message to ``mail.subscribe`` (or with the subject "subscribe") gets one mail
  asking to confirm (at most one an address a day); the address joins only when a reply to that
  very mail comes from it, whose Message-ID and time are kept as the consent. Joining again
  after leaving works the same way and lifts the suppression.
- **Preferences**: ``zone <IANA zone>``, ``reminders off`` or ``reminders on`` as the subject or
  the first line, in an answer to mail announce sent to that address or with its token, is set
  and confirmed back.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from mailer.delivery.inboxrows import SentCopy
from mailer.delivery.memberrows import CONFIRMED
from mailer.delivery.suppression import digest, remember
from mailer.inbox.bodytext import text_of
from mailer.inbox.judging import A_DAY, Judging, Outcome
from mailer.inbox.notes import Note
from mailer.inbox.reading import Message, addressed_to, unsubscribing
from mailer.mail.tokens import address_of, erased_digest, tokens_in, unsubscribe_token
from mailer.series.kinds import Kind
from mailer.series.mailconfig import MailSettings

CONFIRM = "confirm-unsubscribe"
CONFIRM_JOIN = "confirm-subscribe"
MAX_ASKED = 20  # sign-ups asked to confirm in one run; the rest wait for the next
_PREFERENCE = re.compile(r"(?i)^\s*(?:re:\s*)*(zone\s+(\S+)|reminders\s+(on|off))\s*$")


def about_membership(message: Message, copies: list[SentCopy],
                     context: Judging) -> Outcome | None:
    """What a message about leaving, joining or a preference leads to; None for any other.
    ``copies`` are the sent copies it answers that went to its sender."""
    # An unsubscribe, or the answer to "confirm that you want to leave":
    if any(c.kind == CONFIRM for c in copies) or unsubscribing(message, context.mail.unsubscribe):
        return unsubscribe(message, copies, context)
    joining = [c for c in copies if c.kind == CONFIRM_JOIN]
    if joining:  # the answer to "confirm that you want to join"
        return joined(message, joining, context)
    listed = {str(kind) for kind in Kind if not kind.personal}
    if copies and not any(c.kind in listed for c in copies):
        return None  # an answer to a speaker's mail or the inbox's own: not about the list
    if not copies and subscribing(message, context):  # an answer to our mail is no sign-up
        return subscribe(message, context)
    wanted = preference(message)
    return prefer(message, copies, context, wanted) if wanted is not None else None


def _proven(message: Message, copies: list[SentCopy], context: Judging) -> str | None:
    """The subscriber a message proves it speaks for: by the token it carries, or as an answer
    to mail announce sent to its sender."""
    sender = message.sender
    if context.secret is not None:
        found = tokens_in(message.subject)[:4]  # the List-Unsubscribe's subject carries it
        proven = address_of(context.secret, context.store.series.token, found,
                            sorted(context.subscribers | ({sender} if sender else set())))
        if proven is not None:
            return proven
    if sender and any(c.recipient == sender for c in copies):
        return sender
    return None


def unsubscribe(message: Message, copies: list[SentCopy], context: Judging) -> Outcome:
    """A request to leave: at once with proof, else one mail asking to confirm."""
    sender = message.sender
    proven = _proven(message, copies, context)
    if proven is not None and proven in context.lists:
        return Outcome([f"an unsubscribe for the list address {proven} ({message.key}): its "
                        "members leave at the list itself; left alone"], attention=True)
    if proven is not None:
        lines = [context.suppress(proven, "unsubscribed", message)]
        if context.mail.confirm_unsubscribe:
            lines.append(context.send(unsubscribed(context.store.series.name, context.mail,
                                                   proven), every=A_DAY))
        return Outcome(lines, handled=True)
    if sender is None or (sender not in context.subscribers and not (
            context.ledger is not None and context.ledger.reached_anyone(sender))):
        return Outcome([f"an unsubscribe request from {sender or 'an unreadable From'}, who is "
                        "not on the list; left alone"])
    name = context.store.series.name
    return Outcome([f"an unsubscribe request from {sender} without proof: " + context.send(
        Note(to=sender, purpose=CONFIRM, subject=f"{name}: confirm that you want to leave",
             text=(f"Someone asked to take {sender} off the mailing list of the {name} "
                   "seminar.\n\nIf it was you, reply to this mail (what you write does not "
                   "matter), and no more mail from the seminar will reach this address.\n\n"
                   "If it was not you, ignore this mail: nothing changes.\n")), every=A_DAY)],
        handled=True)


def unsubscribed(name: str, mail: MailSettings, address: str) -> Note:
    """The line back to who left: it is done, and how to come back."""
    join = mail.subscribe or f"mailto:{mail.sender}?subject=subscribe"
    web = f" (or sign up again at {mail.web}/subscribe)" if mail.web else ""
    return Note(to=address, purpose="unsubscribed", subject=f"{name}: you are unsubscribed",
                text=(f"You are unsubscribed: no more mail from the {name} seminar will reach "
                      f"this address.\n\nTo come back, write to {join.removeprefix('mailto:')} "
                      "with the subject \"subscribe\", and answer the mail that asks you to "
                      f"confirm{web}.\n"))


def ask_to_join(name: str, address: str, link: str | None) -> Note:
    """The one mail that asks an address to confirm a sign-up: by replying, or by ``link``
    (the web part's ``/c/<token>``)."""
    more = f"Or open this link: {link}\n\n" if link else ""
    return Note(
        to=address, purpose=CONFIRM_JOIN, subject=f"{name}: confirm that you want to join",
        text=(f"Someone asked to add {address} to the mailing list of the {name} seminar: "
              "its announcements, reminders and changes.\n\nIf it was you, reply to this mail "
              f"(what you write does not matter) to confirm.\n\n{more}If it was not you, "
              "ignore this mail: nothing changes, and you will not hear from us again.\n"))


def welcome(name: str, address: str, link: str | None) -> Note:
    """The welcome of a confirmed subscriber: how to set their preferences (by mail, or on
    the web part's preferences page ``link``)."""
    web = f" Or set them here: {link}\n\n" if link else " "
    return Note(
        to=address, purpose="joined", subject=f"{name}: you are on the list",
        text=(f"Welcome: you will get the {name} seminar's announcements, reminders and "
              "changes.\n\nTo see the times in your own time zone, answer any of them with "
              "the line \"zone Continent/City\" (e.g. zone America/New_York); to stop the "
              f"reminders, \"reminders off\".{web}Every mail says how to leave.\n"))


def web_link(context: Judging, path: str, address: str) -> str | None:
    """``<mail.web>/<path>/<token>`` for ``address``, when the series runs the web part."""
    if not context.mail.web or context.secret is None:
        return None
    return f"{context.mail.web}/{path}/" + unsubscribe_token(
        context.secret, context.store.series.token, address)


def subscribing(message: Message, context: Judging) -> bool:
    """Whether the message asks to join: to ``mail.subscribe``, or the subject "subscribe"."""
    words = message.subject.strip().lower().split()
    if words and words[0].rstrip(".!:") == "subscribe":
        return True
    target = (context.mail.subscribe or "").removeprefix("mailto:").split("?")[0].lower()
    return bool(target) and addressed_to(message, target)


def subscribe(message: Message, context: Judging) -> Outcome:
    """A request to join: one mail asking the address to confirm by replying."""
    sender = message.sender
    if sender is None:
        return Outcome([f"a sign-up ({message.key}) from an unreadable From; left alone"])
    left = sender in context.suppressed()  # one who left may come back
    if sender in context.subscribers and not left:
        return Outcome([f"a sign-up from {sender}, who is on the list already; nothing to do"],
                       handled=True)
    if context.ledger is not None and context.secret is not None and\
            erased_digest(context.secret, sender) in context.ledger.erased():
        return Outcome([f"a sign-up from an address erased at its request ({message.key}): "
                        "nothing is sent to it; the organiser may add it to the list by hand"],
                       handled=True)
    if sum(n.purpose == CONFIRM_JOIN for n in context.notes) >= MAX_ASKED:
        return Outcome([f"a sign-up from {sender}: {MAX_ASKED} are asked already in this run; "
                        "left for the next"])  # a flood of sign-ups never spends the relay
    if not context.dry_run and context.ledger is not None:
        context.ledger.sign_up(sender, "", "mail", again=left)
    note = ask_to_join(context.store.series.name, sender, web_link(context, "c", sender))
    return Outcome([f"a sign-up from {sender}: " + context.send(note, every=A_DAY)],
                   handled=True)


def joined(message: Message, copies: list[SentCopy], context: Judging) -> Outcome:
    """The answer to "confirm that you want to join": the address joins, the reply kept as the
    proof of consent, a suppression lifted."""
    address = copies[0].recipient
    if context.dry_run or context.ledger is None:
        return Outcome([f"would add {address} to the list (confirmed by {message.key})"],
                       handled=True)
    if not context.ledger.confirm(address, message.key):
        member = context.ledger.member(address)
        if member is not None and member.status == CONFIRMED:
            return Outcome([f"{address} confirmed again; on the list already"], handled=True)
        return Outcome([f"a confirmation from {address} of no sign-up waiting; left alone"])
    lines = [f"{address} joined the list (confirmed by {message.key})"]
    if context.ledger.restore(address):
        remember(context.store.root, [{"restored": digest(address)}])
        lines.append(f"{address} had left before: no longer suppressed")
    lines.append(context.send(welcome(context.store.series.name, address,
                                      web_link(context, "p", address))))
    return Outcome(lines, handled=True)


def preference(message: Message) -> tuple[str, str] | None:
    """``("zone", name)`` or ``("reminders", "on"|"off")`` from the subject or first line."""
    first = next((line for line in text_of(message.parsed).splitlines() if line.strip()), "")
    for text in (message.subject, first):
        found = _PREFERENCE.match(text)
        if found is not None:
            return ("zone", found.group(2)) if found.group(2) else ("reminders", found.group(3))
    return None


def prefer(message: Message, copies: list[SentCopy], context: Judging,
           wanted: tuple[str, str]) -> Outcome:
    """Set a subscriber's preference, on proof that the message comes from them."""
    address = _proven(message, copies, context)
    if address is None or address not in context.subscribers:
        return Outcome([f"a preference ({' '.join(wanted)}) from "
                        f"{message.sender or 'an unreadable From'} that proves no subscriber "
                        "(answer a list mail, or keep its token); left alone"])
    key, value = wanted
    zone = None
    if key == "zone":
        zone = _zone(value)
        if zone is None:
            return Outcome([f"{address} asked for the zone {value!r}, which is not a time zone "
                            "name; left alone"], attention=True)
    if context.dry_run or context.ledger is None:
        return Outcome([f"would set {address}'s {key} to {zone or value}"], handled=True)
    now = context.ledger.prefer(address, zone=zone,
                                reminders=None if key == "zone" else value == "on")
    shown = now.zone or context.store.series.timezone
    name = context.store.series.name
    return Outcome([f"set {address}'s {key} to {zone or value}", context.send(Note(
        to=address, purpose="preferences", subject=f"{name}: your preferences",
        text=(f"Done. Your time zone: {shown}; reminders: "
              f"{'on' if now.reminders else 'off'}.\n\nTo change them, answer any of the "
              "seminar's mail with \"zone Continent/City\", \"reminders off\" or "
              "\"reminders on\".\n")))], handled=True)


def _zone(text: str) -> str | None:
    """The IANA name ``text`` means (its case as the database writes it), if any."""
    if "/" not in text and text.upper() != "UTC":
        return None
    by_lower = {name.lower(): name for name in available_timezones()}
    name = by_lower.get(text.lower())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return None
    return name
