"""The mail composed: rendered once for its recipient plan, its bytes built and checked.

:func:`compose` takes the records, the resolved mail settings and the calendar SEQUENCE, and
gives the frozen :class:`~mailer.mail.outgoing.Outgoing`, every message of which has been
built and read back (contract §6); :func:`write_preview` writes what a dry run and
``preview`` show. The rendering libraries load with this module (through
:mod:`mailer.render.mailparts`): only what composes a mail imports it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mailer.addresses import parse_mailbox
from mailer.mail.message import Blueprint, Headers
from mailer.mail.outgoing import Outgoing, Personal, RecipientPlan, verify
from mailer.mail.tokens import unsubscribe_token
from mailer.paths import write_files, write_folder
from mailer.render.calendar import build_calendar
from mailer.render.event import event_digest
from mailer.render.mailparts import MailRenderer
from mailer.render.rendered import InlineImage, Rendered
from mailer.series.kinds import Audience, Kind
from mailer.series.mailconfig import MailSettings
from mailer.series.model import Status, Talk
from mailer.series.names import slugify
from mailer.series.schedule import talk_facts, upcoming_after
from mailer.series.store import Store

PLACEHOLDER_SENDER = "seminar@example.invalid"


def _warnings(talk: Talk, kind: Kind) -> tuple[str, ...]:
    warnings = []
    if kind.mail.announces and talk.missing():
        warnings.append(f"{talk.id}: still missing {', '.join(talk.missing())}; "
                        "the announcement shows TBA or leaves the line out")
    if talk.status == Status.TENTATIVE:
        warnings.append(f"{talk.id}: the talk is still tentative")
    return tuple(warnings)


def render_talk(store: Store, talk: Talk, kind: Kind, now: datetime,
                sequence: int, *, changed: Sequence[tuple[str, str, str]] = (),
                extra: Mapping[str, Any] | None = None, reader: str | None = None) -> Rendered:
    """Render one kind of mail for a talk, its calendar event at ``sequence``; an update
    names what ``changed`` (fact, old, new); a mail to a speaker has its ``extra`` values;
    ``reader``'s zone (IANA) shows the talk's time in theirs beside the series'."""
    renderer = MailRenderer(store.root)
    return renderer.message(store.series, talk, upcoming_after(store, talk), kind,
                            sequence=sequence, stamp=now, photo=mail_photo(store.root, talk),
                            changed=changed, extra=extra, reader=reader)


def mail_photo(root: Path, talk: Talk) -> InlineImage | None:
    """The speaker's photo as the HTML part carries it: small, square, inline."""
    if not talk.photo:
        return None
    from mailer.render.photos import square  # noqa: PLC0415 (Pillow loads only for a talk with a photo)

    return InlineImage(f"photo.{talk.id}@announce", square(root, talk.photo))


def compose(store: Store, talk: Talk, kind: Kind, plan: RecipientPlan, *,
            mail: MailSettings, now: datetime, today: date | None = None,
            sequence: int = 0, changed: Sequence[tuple[str, str, str]] = (),
            personal: Personal | None = None, secret: bytes | None = None) -> Outgoing:
    """Validate what the mail depends on and render it once for ``plan``.

    ``mail`` is the series' mail settings as the command resolved them (the environment's
    overrides applied); ``sequence`` is the calendar event's SEQUENCE (the ledger's to say);
    ``secret`` keys each subscriber's unsubscribe token (none without it).
    """
    # Every record from this talk's window on must be valid, not just the ones shown.
    list(store.talks(min(today or talk.date, talk.date)))
    rendered = render_talk(store, talk, kind, now, sequence, changed=changed,
                           extra=personal.values if personal else None)
    if personal is not None and personal.attachments:
        rendered = replace(rendered, attachments=personal.attachments)
    # Without mail.from a preview still works: its From is a placeholder, never sent.
    sender = parse_mailbox(mail.sender or PLACEHOLDER_SENDER)
    reply_to = parse_mailbox(mail.reply_to) if mail.reply_to else None
    if personal is not None:  # a speaker replies to the organiser; no responder answers it
        headers = Headers(sender=sender, reply_to=reply_to or sender,
                          list_name=store.series.name, personal=True, cc=plan.cc,
                          auto="auto-generated")
    else:
        series = store.series.token
        headers = Headers(sender=sender, reply_to=reply_to, list_name=store.series.name,
                          unsubscribe=mail.unsubscribe, bulk=plan.bulk, web=mail.web,
                          token=None if secret is None else
                          lambda address: unsubscribe_token(secret, series, address))
    blueprint = Blueprint(rendered, headers, date=now, name=talk.id)
    record = f"{store.folder.name}/{talk.id}.yaml"
    verify(blueprint, plan, record, kind)
    in_zones = {}
    for zone in sorted({z for z in plan.zones if z}) if kind.mail.local_time else ():
        other = render_talk(store, talk, kind, now, sequence, changed=changed, reader=zone)
        if other.text != rendered.text:  # a zone that reads the same needs no copy of its own
            in_zones[zone] = Blueprint(other, headers, date=now, name=talk.id)
            verify(in_zones[zone], plan.only({b.envelope.lower() for b, z in zip(
                plan.subscribers, plan.zones, strict=True) if z == zone}), record, kind)
    digest = event_digest(store.series, talk) if rendered.ics else None
    facts = json.dumps(talk_facts(store.series, talk), sort_keys=True)\
        if kind.mail.tells else personal.facts if personal else None
    return Outgoing(series=store.series, talk=talk, kind=kind, rendered=rendered,
                    blueprint=blueprint, mail=mail, plan=plan, made=now, digest=digest,
                    warnings=_warnings(talk, kind), facts=facts, in_zones=in_zones)


def preview_files(outgoing: Outgoing) -> dict[str, bytes]:
    """Return the four preview files: the exact message, its text, its HTML, its event."""
    ics = outgoing.rendered.ics
    if ics is None:
        ics = build_calendar(outgoing.series, [(outgoing.talk, 0)], stamp=outgoing.made)
    html = outgoing.rendered.html
    files = {}
    for image in outgoing.rendered.images:  # beside the HTML, so a browser shows it too
        name = f"{image.cid.split('@')[0]}.{image.subtype}"
        html = html.replace(image.src, name)
        files[name] = image.data
    return {
        "message.eml": outgoing.blueprint.eml(outgoing.plan.first_to()),
        "message.txt": outgoing.rendered.text.encode("utf-8"),
        "message.html": html.encode("utf-8"),
        "event.ics": ics.encode("utf-8"),
        **files,
    }


def write_preview(state: Path, outgoing: Outgoing, out: Path | None = None) -> Path:
    """Write the preview files to ``out``, or to ``<state>/preview/<id>-<kind>/``; return it."""
    files = preview_files(outgoing)
    if out is not None:
        write_files(out, files)
        return out
    name = f"{outgoing.talk.id}-{outgoing.kind}"
    if outgoing.kind.mail.audience == Audience.EACH_SPEAKER:  # one request a speaker: a folder each
        name += "-" + "-".join(slugify(b.addr.split("@")[0]) for b in outgoing.plan.lists)
    folder = state / "preview" / name
    write_folder(folder, files)
    return folder
