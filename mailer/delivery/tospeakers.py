"""The mail to speakers composed (contract §8): a request for what is missing, one a speaker,
in its round; the brief, to every speaker with the host in copy, the meeting backdrop
attached; the ``changed`` mail of a talk that moved or was cancelled.

Which are due is :mod:`mailer.delivery.speakers`'s; here one is refused when it cannot go,
composed, and found in the ledger when its people have it already. It renders, so only what
sends or shows a mail imports it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from mailer.addresses import Mailbox
from mailer.delivery.ledger import Ledger
from mailer.delivery.speakers import told_before
from mailer.errors import InputError
from mailer.mail.composing import compose
from mailer.mail.outgoing import Outgoing, Personal, RecipientPlan
from mailer.mail.recipients import plan_recipients
from mailer.render.rendered import Attachment
from mailer.render.speakermail import brief_values, changed_values, request_values
from mailer.render.templates import Renderer
from mailer.series.kinds import ANNOUNCING, Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Speaker, Talk
from mailer.series.schedule import changes, local_today, pick, talk_facts, upcoming_after
from mailer.series.speakerrules import change_facts, change_people, deadline
from mailer.series.store import Store


def refuse(talk: Talk, kind: Kind, now: datetime, store: Store) -> None:
    """Nothing goes to a speaker about a talk that has started, or that has no one to ask."""
    start = talk.start(store.series)
    if start <= now:
        raise InputError(f"{talk.id} has started (at {start:%Y-%m-%d %H:%M %Z}): nothing "
                         "goes to its speakers now")
    if kind == Kind.CHANGED and change_people(talk):
        return
    if not talk.asked():
        raise InputError(f"{talk.id}: no speaker has an email: address in the record, so "
                         "there is no one to write to; add email: beside speaker:")
    if kind == Kind.REQUEST and not talk.missing(photo=True):
        raise InputError(f"{talk.id} is complete (title, abstract, bio and photo): there is "
                         "nothing to ask for")


def _box(person: Speaker) -> Mailbox:
    assert person.email is not None  # noqa: S101 (only people with an address are mailed)
    return Mailbox(person.email, person.name)


def _for(plan: RecipientPlan, store: Store, mail: MailSettings,
         to: Sequence[str]) -> RecipientPlan:
    """The speakers' plan, or with ``--to`` a test send to those addresses only."""
    return plan_recipients(store.root, mail, to) if to else plan


def _request(store: Store, talk: Talk, speaker: str, *, number: int, last: bool,
             mail: MailSettings, now: datetime, to: Sequence[str]) -> Outgoing:
    person = next((s for s in talk.asked() if (s.email or "").lower() == speaker.lower()),
                  None)
    if person is None:
        raise InputError(f"{talk.id}: no speaker of it has the address {speaker}")
    values = request_values(store.series, talk, person, round_=number, last=last,
                            deadline=deadline(store.series, talk))
    plan = _for(RecipientPlan(lists=(_box(person),)), store, mail, to)
    return compose(store, talk, Kind.REQUEST, plan, mail=mail, now=now, personal=Personal(
        values, facts=json.dumps({"round": number})))


def _brief(store: Store, state: Path, talk: Talk, mail: MailSettings,
           now: datetime, *, to: Sequence[str]) -> Outgoing:
    from mailer.render.images import backdrop  # noqa: PLC0415 (Pillow loads only for a brief, whose backdrop it may draw)

    with Ledger.existing(state) as ledger:
        announced = bool(ledger and ledger.first_sent(talk.key, ANNOUNCING))
    subject = None
    if announced:
        render = Renderer(store.root)
        subject = render.subject(render.context(store.series, talk,
                                                upcoming_after(store, talk),
                                                ANNOUNCING))
    name, image = backdrop(store.root, store.series, talk)
    values = brief_values(store.series, talk, announced=subject, backdrop=name)
    host = talk.host
    cc = (_box(host),) if host is not None and host.email else ()
    plan = _for(RecipientPlan(lists=tuple(_box(s) for s in talk.asked()), cc=cc),
                store, mail, to)
    return compose(store, talk, Kind.BRIEF, plan, mail=mail, now=now,
                   personal=Personal(values, attachments=(Attachment(name, image),)))


def already_to(state: Path, outgoing: Outgoing) -> bool:
    """Whether every recipient of this request round or brief has it (or refused it)."""
    with Ledger.existing(state) as ledger:
        if ledger is None:
            return False
        if outgoing.kind in (Kind.REQUEST, Kind.CHANGED) and outgoing.facts is not None:
            campaign = ledger.matching_campaign(outgoing.talk.key, outgoing.kind,
                                                outgoing.facts)
        else:
            campaign = ledger.latest_campaign(outgoing.talk.key, outgoing.kind)
        if campaign is None:
            return False
        settled = ledger.settled(campaign)
    return all(r.lower() in settled for d in outgoing.plan.deliveries() for r in d.recipients)


def prepare_speaker(store: Store, state: Path, mail: MailSettings, which: str | None,
                    kind: Kind, *, speaker: str | None, number: int, last: bool,
                    today: datetime, now: datetime, to: Sequence[str] = ()) -> Outgoing:
    """The request (to ``speaker``, round ``number``), the brief or the ``changed`` mail of a
    talk; with ``to``, a test send of it to those addresses, never to the speakers."""
    if kind == Kind.CHANGED:  # about a moved or a cancelled talk: named, never chosen
        if which is None:
            raise InputError("changed: name the talk that moved or was cancelled")
        talk = store.find(which)
        refuse(talk, kind, today, store)
        return _changed(store, state, talk, mail, now, to=to)
    chosen = pick(store, which, local_today(today, store.series.zone), kind)
    if not isinstance(chosen, Talk):
        raise InputError(f"{kind}: name the talk ({chosen.message})")
    refuse(chosen, kind, today, store)
    if kind == Kind.BRIEF:
        return _brief(store, state, chosen, mail, now, to=to)
    if speaker is None:
        raise InputError(f"{chosen.id}: a request goes to one speaker; name the address")
    return _request(store, chosen, speaker, number=number, last=last, mail=mail, now=now,
                    to=to)


def _changed(store: Store, state: Path, talk: Talk, mail: MailSettings,
             now: datetime, *, to: Sequence[str]) -> Outgoing:
    """The ``changed`` mail: to the speakers with an address, the host in copy."""
    series = store.series
    facts = change_facts(series, talk)
    with Ledger.existing(state) as ledger:
        before = told_before(ledger, talk, facts) if ledger is not None else None
        announced = ledger is not None and\
            ledger.first_sent(talk.key, ANNOUNCING) is not None
    changed = tuple(changes(before, talk_facts(series, talk))) if before else ()
    if not (talk.cancelled or changed):
        raise InputError(f"{talk.id}: its date, time, location and call link are as its "
                         "list was told; there is no change to tell its speakers" if announced
                         else f"{talk.id}: the ledger has no announcement of it, so there "
                         "is no change to tell its speakers")
    speakers = tuple(_box(s) for s in talk.asked())
    host = (_box(talk.host),) if talk.host is not None and talk.host.email else ()
    plan = _for(RecipientPlan(lists=speakers or host, cc=host if speakers else ()),
                store, mail, to)
    return compose(store, talk, Kind.CHANGED, plan, mail=mail, now=now, changed=changed,
                   personal=Personal(changed_values(series, talk, changed), facts=facts))
