"""The inbox's own mail (contract §7): a request to confirm an unsubscribe, the line that says it
is done, and the receipt that shows a speaker what their reply filled in.

Each is built and read back like every mail announce sends (the headers by its own encoder,
the bytes checked), personal mail without List-Id, marked ``Auto-Submitted: auto-replied``
(RFC 3834) so that vacation responders stay quiet. Its Message-ID goes into the ledger before
it is sent, so that a reply to it is proof that it reached that address. A relay that refuses
one is reported and undoes nothing.
"""

from __future__ import annotations

import html
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailer.addresses import AddressProblem, parse_mailbox
from mailer.delivery.ledger import Ledger
from mailer.errors import MailerError
from mailer.mail.message import Blueprint, Headers
from mailer.net.smtpconnect import connect
from mailer.render.rendered import Attachment, Rendered
from mailer.series.mailconfig import MailSettings
from mailer.series.store import Store


@dataclass(frozen=True)
class Note:
    """One mail the inbox sends to one address."""

    to: str
    purpose: str  # 'confirm-unsubscribe', 'unsubscribed' or 'received'
    subject: str
    text: str
    talk: str = ""  # a receipt: the talk whose record was filled
    attachments: tuple[Attachment, ...] = ()


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in text.strip().split("\n\n"))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body '
            f'style="font-family:sans-serif;line-height:1.5;max-width:40em">{paragraphs}'
            "</body></html>")


def send_notes(store: Store, mail: MailSettings, ledger: Ledger, notes: Sequence[Note],
               now: datetime) -> list[str]:
    """Send ``notes`` over one connection; return a line for each."""
    if not notes:
        return []
    if not mail.sender:
        return [f"{len(notes)} answer(s) not sent: mail.from is not set"]
    sender = parse_mailbox(mail.sender)
    reply_to = parse_mailbox(mail.reply_to) if mail.reply_to else sender
    try:
        conn, _ = connect(mail.smtp)
    except MailerError as exc:
        return [f"{len(notes)} answer(s) not sent: {exc}"]
    lines = []
    try:
        for number, note in enumerate(notes, 1):
            content = Rendered(subject=note.subject, text=note.text, html=_html(note.text),
                               ics=None, attachments=note.attachments)
            blueprint = Blueprint(content, Headers(sender, reply_to, store.series.name,
                                                   personal=True, auto="auto-replied"),
                                  date=now, name=note.purpose)
            problems = blueprint.problems()
            try:
                box = parse_mailbox(note.to)
                if problems:
                    raise AddressProblem("; ".join(problems))
                ledger.noted(blueprint.message_id(number), box.envelope, note.purpose,
                             note.talk)
                conn.sendmail(sender.envelope, [box.envelope], blueprint.eml([box], number))
                lines.append(f"sent {note.to} {note.subject!r}")
            except (AddressProblem, smtplib.SMTPException, OSError) as exc:
                lines.append(f"could not send {note.to} {note.subject!r} ({exc})")
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
    return lines
