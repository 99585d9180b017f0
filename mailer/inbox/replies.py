"""A speaker's reply (contract §7): what it fills in their talk's record, the photo attached,
and the receipt that shows them what was taken.

A reply counts only when it answers mail that went to that speaker alone, from that address
read strictly, and the organiser's server did not find its From forged (the caller has found
the copies it answers). The record is edited in place by ruamel.yaml and the photo judged by
Pillow: both load with this module, which the inbox imports only when a speaker replied.
"""

from __future__ import annotations

from mailer.delivery.inboxrows import SentCopy
from mailer.errors import InputError
from mailer.inbox.form import answers
from mailer.inbox.judging import Judging, Outcome
from mailer.inbox.notes import Note
from mailer.inbox.photo import attached_images, judge
from mailer.inbox.reading import Message, forged
from mailer.inbox.records import Filled, fill
from mailer.render.photos import square
from mailer.render.rendered import Attachment
from mailer.series.model import Talk


def replied(message: Message, copies: list[SentCopy], context: Judging) -> Outcome:
    """A speaker's reply to mail that went to them alone: what it fills in their talk's
    record, and the receipt that tells them so."""
    sender = message.sender or ""
    talk = next((s for c in reversed(copies) if (s := context.talk(c.talk))), None)
    if talk is None:
        return Outcome([f"a reply from {sender} ({message.key}) to a talk that is over or "
                        "gone; left unread"], attention=True)
    speaker = next((p.email for p in talk.asked() if (p.email or "").lower() == sender), None)
    if speaker is None:
        return Outcome([f"{talk.id}: a reply from {sender}, who no longer speaks at it; "
                        "left unread"], attention=True)
    if forged(message):
        return Outcome([f"{talk.id}: a reply from {sender} that the mail server found "
                        "forged (Authentication-Results: DMARC or DKIM failed); left unread"],
                       attention=True)
    # A lone surrogate (UTF-7 can decode to one) cannot be written to a record: shown as ?.
    taken = {k: v.encode("utf-8", "replace").decode("utf-8")
             for k, v in answers(message.parsed).items()}
    photo, refused = _photo_of(message, talk)
    try:
        done = fill(context.store, context.state, talk, taken, photo,
                    dry_run=context.dry_run)
    except InputError as exc:
        return Outcome([f"{talk.id}: the reply from {sender} could not be used ({exc}); "
                        "left unread"], attention=True)
    verb = "would fill" if context.dry_run else "filled"
    lines = [f"{talk.id}: {verb} {', '.join(done.filled)} from {sender}'s reply"]\
        if done.filled else [f"{talk.id}: the reply from {sender} fills nothing the record "
                             "lacks; left unread"]
    lines += [f"{talk.id}: the reply's {key} differs from the record's; the record's is "
              "kept (look at the reply)" for key in done.differs]
    if refused:
        done.refused = refused
        lines.append(f"{talk.id}: the photo from {sender} was not used: {refused}")
    if done.filled and context.dry_run:
        lines.append(f"would send {speaker} a receipt of what was taken")
    elif done.filled:
        saved = f"photos/{talk.id}.{photo[1]}" if photo else None
        lines.append(context.send(_receipt(talk, speaker, done, taken, photo=saved,
                                             context=context)))
    return Outcome(lines, handled=bool(done.filled),
                   attention=not done.filled or bool(done.differs) or bool(refused))


def _photo_of(message: Message, talk: Talk) -> tuple[tuple[bytes, str] | None, str]:
    """The first attached image that passes the photo check, or why none did."""
    if talk.photo:
        return None, ""
    refused = ""
    for name, data in attached_images(message.parsed):
        try:
            return judge(data, f"the photo {name}"), ""
        except InputError as exc:
            refused = refused or str(exc)
    return None, refused


def _receipt(talk: Talk, speaker: str, done: Filled, taken: dict[str, str], *,
             photo: str | None, context: Judging) -> Note:
    series = context.store.series
    labels = {"title": "Title", "abstract": "Abstract", "bio": "About you"}
    lines = [f"Thank you: we received your reply about your {series.name} seminar on "
             f"{talk.date}, and took:", ""]
    for key in ("title", "abstract", "bio"):
        if key in done.filled:
            lines += [f"{labels[key]}:", taken[key], ""]
    attachments: tuple[Attachment, ...] = ()
    if photo is not None and "photo" in done.filled:
        lines += ["Photo: attached, as it will be shown.", ""]
        attachments = (Attachment(f"{talk.id}.jpg", square(context.store.root, photo)),)
    if done.refused:
        lines += [f"The photo attached could not be used: {done.refused}. Please send a "
                  "JPEG or PNG photo.", ""]
    lines += ["If anything is wrong, reply to this mail and the organiser will correct it.",
              "", f"-- {series.name}"]
    return Note(to=speaker, purpose="received", talk=talk.key,
                subject=f"{series.name}: we received your reply ({talk.date})",
                text="\n".join(lines) + "\n", attachments=attachments)
