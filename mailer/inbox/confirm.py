"""``mail.confirm_unsubscribe``: one line back to whoever unsubscribed, saying it is done.

The message is built and read back like every mail announce sends (the headers by its own
encoder, the bytes checked), personal mail without List-Id; it goes once, when the request is
handled. A relay that refuses it is reported and does not undo the unsubscribe.
"""

from __future__ import annotations

import html
import smtplib
from datetime import datetime

from mailer.addresses import AddressProblem, parse_mailbox
from mailer.errors import MailerError
from mailer.mail.message import Blueprint, Headers
from mailer.render.rendered import Rendered
from mailer.series.settings import MailSettings
from mailer.series.store import Store


def confirm(store: Store, mail: MailSettings, addresses: list[str], now: datetime) -> list[str]:
    """Send the confirmations; return a line for each."""
    from mailer.smtp.connect import connect

    if not mail.sender:
        return ["unsubscribes not confirmed: mail.from is not set"]
    name = store.series.name
    text = (f"You are unsubscribed: no more mail from the {name} seminar will reach this "
            "address. To come back, reply to this mail.\n")
    content = Rendered(subject=f"{name}: you are unsubscribed", text=text,
                       html=f"<!DOCTYPE html><html><body><p>{html.escape(text)}</p></body></html>",
                       ics=None)
    sender = parse_mailbox(mail.sender)
    reply_to = parse_mailbox(mail.reply_to) if mail.reply_to else sender
    blueprint = Blueprint(content, Headers(sender, reply_to, name, personal=True), date=now,
                          name="unsubscribed")
    problems = blueprint.problems()
    if problems:
        return [f"unsubscribes not confirmed: {'; '.join(problems)}"]
    lines = []
    try:
        conn, _ = connect(mail.smtp)
    except MailerError as exc:
        return [f"unsubscribes not confirmed: {exc}"]
    try:
        for number, address in enumerate(addresses, 1):
            try:
                box = parse_mailbox(address)
                conn.sendmail(sender.envelope, [box.envelope], blueprint.eml([box], number))
                lines.append(f"confirmed the unsubscribe to {address}")
            except (AddressProblem, smtplib.SMTPException) as exc:
                lines.append(f"could not confirm the unsubscribe to {address} ({exc})")
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
    return lines
