"""``subscribers``: who gets the mail, where each came from (the organiser's file, a sign-up),
their preferences and consent, who is suppressed (bounced, unsubscribed) and why; lifting a
suppression by hand; the whole list as CSV; erasing a person's data (contract §9)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from mailer.commands.environment import Settings
from mailer.commands.output import Line
from mailer.delivery.ledger import Ledger
from mailer.delivery.memberrows import CONFIRMED, Preferences
from mailer.delivery.secret import series_secret
from mailer.delivery.suppression import digest, kept, remember
from mailer.errors import InputError
from mailer.mail.recipients import plan_recipients
from mailer.mail.tokens import erased_digest
from mailer.paths import display_path, write_atomically
from mailer.series.store import Store

COLUMNS = ("address", "name", "source", "status", "zone", "reminders", "consent",
           "consented", "suppressed", "suppressed_at", "suppressed_by")


@dataclass(frozen=True)
class Person:
    """One address the series knows, as ``subscribers`` shows it."""

    address: str
    name: str
    source: str  # "subscribers.txt:3", "mail.to", "sign-up by mail"
    status: str  # active | pending | suppressed
    preferences: Preferences
    consent: str = ""  # the Message-ID of the confirming reply
    consented: str = ""
    suppressed: str = ""  # why
    suppressed_at: str = ""
    cause: str = ""  # the message that caused the suppression


def people(settings: Settings, store: Store) -> list[Person]:
    """Everyone: the list addresses, the file's subscribers, the sign-ups, the suppressed."""
    plan = plan_recipients(store.root, settings.mail)
    with Ledger.existing(settings.state) as ledger:
        suppressed = ledger.suppressed() if ledger is not None else {}
        members = ledger.members() if ledger is not None else []
        chosen = ledger.preferences() if ledger is not None else {}
    recorded = kept(store.root)  # a suppression the state folder lost, the series kept
    zone = store.series.zone
    found: dict[str, Person] = {}
    sources = [(b, "mail.to") for b in plan.lists] + [
        (b, f"{plan.source}:{line}") for b, line in zip(plan.subscribers, plan.lines,
                                                         strict=True)]
    for box, source in sources:
        found.setdefault(box.envelope.lower(), Person(
            box.envelope.lower(), box.name, source, "active",
            chosen.get(box.envelope.lower(), Preferences())))
    for member in members:
        if member.address not in found:
            found[member.address] = Person(
                member.address, member.name, f"sign-up by {member.via}",
                "active" if member.status == CONFIRMED else "pending",
                chosen.get(member.address, Preferences()), member.consent or "",
                _local(member.consented, zone) if member.consented else "")
    for address, person in found.items():
        if address in suppressed:
            reason, when, message = suppressed[address]
            found[address] = _suppressed(person, reason, _local(when, zone), message)
        elif digest(address) in recorded:
            found[address] = _suppressed(person, f"{recorded[digest(address)]} (kept in "
                                         "seminars/.suppressed.log; the state folder does "
                                         "not know it)", "")
    for address, (reason, when, message) in suppressed.items():
        if address not in found:
            found[address] = _suppressed(Person(address, "", "", "", Preferences()), reason,
                                         _local(when, zone), message)
    return list(found.values())


def _suppressed(person: Person, why: str, when: str, cause: str = "") -> Person:
    return Person(person.address, person.name, person.source, "suppressed", person.preferences,
                  person.consent, person.consented, why, when, cause)


def _local(stamp: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(stamp).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _line(person: Person) -> str:
    if person.status == "suppressed":
        when = f", {person.suppressed_at}" if person.suppressed_at else ""
        cause = f" (message {person.cause})" if person.cause else ""
        return f"  suppressed  {person.address}: {person.suppressed}{when}{cause}"
    notes = [person.source] if person.source and not person.source.startswith("mail.to") \
        and ":" not in person.source else []
    if person.consent:
        notes.append(f"consent {person.consent} {person.consented}")
    if person.preferences.zone:
        notes.append(f"zone {person.preferences.zone}")
    if not person.preferences.reminders:
        notes.append("reminders off")
    if person.status == "pending":
        notes.append("waits for its confirmation")
    shown = f"{person.name} <{person.address}>" if person.name else person.address
    return f"  {person.status:<10}  {shown}" + (f" ({'; '.join(notes)})" if notes else "")


def subscribers(settings: Settings, store: Store) -> list[Line]:
    """Every address the series knows: active, pending or suppressed, and why."""
    everyone = people(settings, store)
    count = {s: sum(p.status == s for p in everyone) for s in ("active", "suppressed", "pending")}
    head = f"{count['active']} active, {count['suppressed']} suppressed"
    if count["pending"]:
        head += f", {count['pending']} pending"
    order = {"active": 0, "pending": 1, "suppressed": 2}
    return [Line(head), *(Line(_line(p)) for p in sorted(everyone,
                                                         key=lambda p: order[p.status]))]


def export(settings: Settings, store: Store, out: Path) -> Line:
    """Write everyone, with source, preferences, consent and suppression, as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in people(settings, store):
        writer.writerow(_cell(str(v)) for v in (
            p.address, p.name, p.source, p.status, p.preferences.zone or "",
            "on" if p.preferences.reminders else "off", p.consent, p.consented,
            p.suppressed, p.suppressed_at, p.cause))
    write_atomically(out, buffer.getvalue().encode("utf-8"))
    return Line(f"wrote {display_path(out)}")


def _cell(value: str) -> str:
    """A value a spreadsheet shows as text: one that starts like a formula gets a ``'``."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def erase(settings: Settings, store: Store, address: str) -> list[Line]:
    """Delete what the state folder knows of ``address`` by name; keep a keyed hash so that no
    mail goes to it again (and a hash in seminars/.suppressed.log)."""
    address = address.strip().strip("<>").lower()
    if address.count("@") != 1 or not all(address.split("@")):
        raise InputError(f"--erase: {address!r} is not an address")
    secret = series_secret(settings.state, create=True)
    assert secret is not None  # noqa: S101 (made just above)
    with Ledger(settings.state) as ledger:
        ledger.erase(address, erased_digest(secret, address))
    remember(store.root, [{"address": digest(address), "why": "erased at their request"}])
    copies = _copies_naming(settings.state, address)
    for path in copies:  # a kept copy or a preview addressed to them: their token is in it
        path.unlink()
    lines = [Line(f"erased {address}: the state folder keeps only a keyed hash, so nothing "
                  f"is sent to it again ({len(copies)} kept copies of mail to it deleted)")]
    plan = plan_recipients(store.root, settings.mail)
    for box, line in zip(plan.subscribers, plan.lines, strict=True):
        if box.envelope.lower() == address:
            lines.append(Line(f"{plan.source}:{line} still names {address}: delete that line "
                              "(announce never edits the file)"))
    return lines


def _copies_naming(state: Path, address: str) -> list[Path]:
    """The mail files in the state folder (kept copies, previews) that name ``address``."""
    found = []
    for path in sorted((*state.glob("sent/*.eml"), *state.glob("preview/*/message.eml"))):
        if address.encode() in path.read_bytes().lower():
            found.append(path)
    return found


def restore(settings: Settings, address: str) -> Line:
    """Lift the suppression of ``address``: the next send reaches it again."""
    recorded = digest(address) in kept(settings.root)
    with Ledger(settings.state) as ledger:
        if not ledger.restore(address) and not recorded:
            raise InputError(f"--restore: {address} is not suppressed")
    remember(settings.root, [{"restored": digest(address)}])
    return Line(f"restored {address}: the next send reaches it again")
