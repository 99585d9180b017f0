"""Mail to speakers (SPEC 8): a request for what is missing, one a speaker, in rounds; and the
brief before the talk, to every speaker with the host in copy, the meeting backdrop attached.

Both go through the same checks, ledger and send loop as every mail; they are personal mail,
so they carry no List-Id or List-Unsubscribe, and a reply goes to the organiser.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from mailer.addresses import Mailbox
from mailer.delivery.ledger import Ledger
from mailer.errors import InputError
from mailer.mail.outgoing import Outgoing, Personal, RecipientPlan, compose
from mailer.series.asking import deadline, is_last_round, request_round
from mailer.series.model import Kind, Seminar, Speaker
from mailer.series.schedule import local_today, pick
from mailer.series.settings import MailSettings
from mailer.series.store import Store

SPEAKER_KINDS = (Kind.REQUEST, Kind.BRIEF)


def _box(person: Speaker) -> Mailbox:
    assert person.email is not None  # noqa: S101 (only people with an address are mailed)
    return Mailbox(person.email, person.name)


def refuse(seminar: Seminar, kind: Kind, now: datetime, store: Store) -> None:
    """Nothing goes to a speaker about a talk that has started, or that has no one to ask."""
    start = seminar.start(store.series)
    if start <= now:
        raise InputError(f"{seminar.id} has started (at {start:%Y-%m-%d %H:%M %Z}): nothing "
                         "goes to its speakers now")
    if not seminar.asked():
        raise InputError(f"{seminar.id}: no speaker has an email: address in the record, so "
                         "there is no one to write to; add email: beside speaker:")
    if kind == Kind.REQUEST and not seminar.missing(photo=True):
        raise InputError(f"{seminar.id} is complete (title, abstract, bio and photo): there is "
                         "nothing to ask for")


def next_round(store: Store, state: Path, seminar: Seminar, today: datetime) -> tuple[int, bool]:
    """The round ``ask`` sends by hand: the one left half way, else a new one; and whether
    it is the last before the deadline."""
    from mailer.series.asking import Asked, Round

    with Ledger.existing(state) as ledger:
        rounds = tuple(Round(*r) for r in ledger.rounds(seminar.key)) if ledger else ()
    day = local_today(today, store.series.zone)
    emails = [s.email for s in seminar.asked() if s.email]
    chosen = request_round(store.series, seminar, Asked(rounds), day, emails)
    number = chosen[0] if chosen else rounds[-1].number + 1  # no round due: a new one now
    return number, is_last_round(store.series, seminar, day)


def _request(store: Store, seminar: Seminar, speaker: str, *, number: int, last: bool,
             mail: MailSettings, now: datetime) -> Outgoing:
    from mailer.render.speakermail import request_values

    person = next((s for s in seminar.asked() if (s.email or "").lower() == speaker.lower()),
                  None)
    if person is None:
        raise InputError(f"{seminar.id}: no speaker of it has the address {speaker}")
    values = request_values(store.series, seminar, person, round_=number, last=last,
                            deadline=deadline(store.series, seminar))
    plan = RecipientPlan(lists=(_box(person),))
    return compose(store, seminar, Kind.REQUEST, plan, mail=mail, now=now, personal=Personal(
        values, facts=json.dumps({"round": number})))


def _brief(store: Store, state: Path, seminar: Seminar, mail: MailSettings,
           now: datetime) -> Outgoing:
    from mailer.render.images import backdrop
    from mailer.render.rendered import Attachment
    from mailer.render.speakermail import brief_values
    from mailer.render.templates import Renderer
    from mailer.series.schedule import upcoming_after

    with Ledger.existing(state) as ledger:
        announced = bool(ledger and ledger.first_sent(seminar.key, Kind.ANNOUNCEMENT))
    subject = None
    if announced:
        render = Renderer(store.root)
        subject = render.subject(render.context(store.series, seminar,
                                                upcoming_after(store, seminar),
                                                Kind.ANNOUNCEMENT))
    name, image = backdrop(store.root, store.series, seminar)
    values = brief_values(store.series, seminar, announced=subject, backdrop=name)
    host = seminar.host
    cc = (_box(host),) if host is not None and host.email else ()
    plan = RecipientPlan(lists=tuple(_box(s) for s in seminar.asked()), cc=cc)
    return compose(store, seminar, Kind.BRIEF, plan, mail=mail, now=now,
                   personal=Personal(values, attachments=(Attachment(name, image),)))


def already_to(state: Path, outgoing: Outgoing) -> bool:
    """Whether every recipient of this request round or brief has it (or refused it)."""
    with Ledger.existing(state) as ledger:
        if ledger is None:
            return False
        if outgoing.kind == Kind.REQUEST and outgoing.facts is not None:
            campaign = ledger.matching_campaign(outgoing.seminar.key, Kind.REQUEST,
                                                outgoing.facts)
        else:
            campaign = ledger.latest_campaign(outgoing.seminar.key, outgoing.kind)
        if campaign is None:
            return False
        settled = ledger.settled(campaign)
    return all(r.lower() in settled for d in outgoing.plan.deliveries() for r in d.recipients)


def prepare_speaker(store: Store, state: Path, mail: MailSettings, which: str | None,
                    kind: Kind, *, speaker: str | None, number: int, last: bool,
                    today: datetime, now: datetime) -> Outgoing:
    """The request (to ``speaker``, round ``number``) or the brief of a talk."""
    chosen = pick(store, which, local_today(today, store.series.zone), kind)
    if not isinstance(chosen, Seminar):
        raise InputError(f"{kind}: name the talk ({chosen.message})")
    refuse(chosen, kind, today, store)
    if kind == Kind.BRIEF:
        return _brief(store, state, chosen, mail, now)
    if speaker is None:
        raise InputError(f"{chosen.id}: a request goes to one speaker; name the address")
    return _request(store, chosen, speaker, number=number, last=last, mail=mail, now=now)
