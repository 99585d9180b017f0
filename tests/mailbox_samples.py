"""Messages as they come back to an organiser, built the way real clients and MTAs write them:
replies from Gmail (HTML with a blockquote), Outlook (a "From:/Sent:" block), Thunderbird
(ISO-8859-1, quoted-printable, "> " quoting); delivery status notifications in Postfix's,
Exchange's and Gmail's forms; an out-of-office reply; an unsubscribe request.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import make_msgid

from PIL import Image

TOKEN = "[learning-machines]"
REQUEST_SUBJECT = f"{TOKEN} Your Learning Machines seminar on 2024-03-21: please send its title"


def png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def reply(sender: str, text: str, *, subject: str = f"Re: {REQUEST_SUBJECT}",
          charset: str = "utf-8", cte: str = "quoted-printable", html: str | None = None,
          photo: bytes | None = None, in_reply_to: str | None = None,
          photo_type: tuple[str, str] = ("image", "png"), headers: tuple[str, ...] = ()) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Learning Machines Seminar <lm-seminar@example.org>"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="client.example")
    if in_reply_to is not None:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for header in headers:
        name, _, value = header.partition(": ")
        message[name] = value
    if text:
        message.set_content(text, charset=charset, cte=cte)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html", cte=cte)
    if photo is not None:
        message.add_attachment(photo, maintype=photo_type[0], subtype=photo_type[1],
                               filename="me.png")
    return message.as_bytes()


def dsn(recipient: str, status: str, *, style: str = "postfix",
        original_id: str = "<1.2@example.org>") -> bytes:
    """A delivery status notification (RFC 3464) for ``recipient``, in an MTA's style."""
    human = {
        "postfix": "This is the mail system at host mx.example.org.\n\nI'm sorry to have to "
                   "inform you that your message could not\nbe delivered to one or more "
                   "recipients.\n",
        "exchange": "Delivery has failed to these recipients or groups:\n\n"
                    f"{recipient}\nThe email address you entered couldn't be found.\n",
        "gmail": "** Address not found **\n\nYour message wasn't delivered to "
                 f"{recipient} because the address couldn't be found.\n",
    }[style]
    sender = {"postfix": "MAILER-DAEMON@mx.example.org (Mail Delivery System)",
              "exchange": "Microsoft Outlook <postmaster@contoso.onmicrosoft.com>",
              "gmail": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"}[style]
    action = "failed" if status.startswith("5") else "delayed"
    text = f"""From: {sender}
To: lm-seminar@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.example.org")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="=_b"

--=_b
Content-Type: text/plain; charset=us-ascii

{human}
--=_b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status[0]}50 {status} mailbox problem

--=_b
Content-Type: text/rfc822-headers

Message-ID: {original_id}
Subject: Learning Machines seminar 2024-02-22 15:00
To: {recipient}

--=_b--
"""
    return text.replace("\n", "\r\n").encode()


def out_of_office(sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "lm-seminar@example.org"
    message["Subject"] = f"Automatic reply: {REQUEST_SUBJECT}"
    message["Auto-Submitted"] = "auto-replied"
    message["Message-ID"] = make_msgid(domain="client.example")
    message.set_content("I am away until Monday.\n\nTitle: not a form\n")
    return message.as_bytes()


def unsubscribe(sender: str, to: str = "lm-seminar-list-leave@example.org",
                subject: str = "Leave", in_reply_to: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="client.example")
    if in_reply_to is not None:
        message["In-Reply-To"] = in_reply_to
    message.set_content("Please take me off the list.\n")
    return message.as_bytes()


ANN = "ann.ek@example.org"
FREDRIK = "fredrik@example.org"
TALK = "2024-03-21-gustafsson"
SPEAKER_RECORD = f"""# Fredrik's talk: asked by announce; keep this comment
date: 2024-03-21
speakers:
  # Fredrik first: he asked for it
  - name: Fredrik Gustafsson
    affiliation: Karolinska Institutet
    email: {FREDRIK}
  - name: Ann Ek
    affiliation: Columbia University
    email: {ANN}
    timezone: America/New_York
"""
