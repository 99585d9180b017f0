"""The form a speaker's reply fills (mailer/inbox/form.py): the speaker's own words under our
labels, without the mail they answer, their closing, their signature or "Photo attached.".

Replies are written as clients write them: quote headers in each language a speaker may use,
Outlook's header blocks, Gmail's HTML with a blockquote, the form quoted back with ">".
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.inbox.form import answers, fields_of

BIO = "Ann Ek counts graphs at Columbia University."
ABSTRACT = (
    "We count graphs with a million nodes.\nIn one night.\n\n"
    "The second paragraph says how.\n\nA third one: why it matters."
)
FORM = f"Title: Counting graphs\n\nAbstract: {ABSTRACT}\n\nAbout you: {BIO}\n"
WANTED = {"title": "Counting graphs", "abstract": ABSTRACT, "bio": BIO}


def message(
    text: str | None,
    *,
    html: str | None = None,
    sender: str = "Ann Ek <ann@example.org>",
    charset: str = "utf-8",
) -> EmailMessage:
    """A reply as a client sends it, read back as the inbox reads it."""
    headers = (
        f"From: {sender}\nTo: jc@example.org\nSubject: Re: [jc] Your talk\nMIME-Version: 1.0\n"
    )
    parts = []
    if text is not None:
        parts.append(
            f"Content-Type: text/plain; charset={charset}\n"
            f"Content-Transfer-Encoding: 8bit\n\n{text}\n"
        )
    if html is not None:
        parts.append(
            f"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{html}\n"
        )
    if len(parts) == 1:
        body = headers + parts[0]
    else:
        body = headers + 'Content-Type: multipart/alternative; boundary="b"\n\n'
        body += "".join(f"--b\n{part}" for part in parts) + "--b--\n"
    data = body.replace("\n", "\r\n").encode("utf-8" if charset.startswith("utf") else charset)
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- Where the reply ends. ---

# Headers that carry a date, an address or an opening word: the quoted mail below them may
# come without ">" (an HTML mail turned into text, Outlook), and must still be left out.
HEADERS = {
    "en": "On Tue, 3 Dec 2026 at 10:00, Journal Club <jc@example.org> wrote:",
    "en-us": "On Tue, Dec 3, 2026 at 10:00 AM Journal Club <jc@example.org> wrote:",
    "en-wrapped": "On Tue, 3 Dec 2026 at 10:00, Journal Club <\njc@example.org> wrote:",
    "en-wrapped-name": "On Tue, Dec 3, 2026 at 10:00 AM Journal Club\n<jc@example.org> wrote:",
    "en-mutt": "On Tue, Dec 03, 2026 at 10:00:00AM +0100, Journal Club wrote:",
    "en-thunderbird": "On 12/3/26 10:00, Journal Club wrote:",
    "en-address": "Journal Club <jc@example.org> wrote:",
    "de": "Am Di., 3. Dez. 2026 um 10:00 Uhr schrieb Journal Club <jc@example.org>:",
    "de-apple": "Am 03.12.2026 um 10:00 schrieb Journal Club <jc@example.org>:",
    "fr": "Le mar. 3 déc. 2026 à 10:00, Journal Club <jc@example.org> a écrit :",
    "sv": "Den tis 3 dec. 2026 kl 10:00 skrev Journal Club <jc@example.org>:",
    "sv-apple": "3 dec. 2026 kl. 10:00 skrev Journal Club <jc@example.org>:",
    "sv-address": "Journal Club <jc@example.org> skrev:",
    "es": "El mar, 3 dic 2026 a las 10:00, Journal Club (<jc@example.org>) escribió:",
    "it": "Il giorno mar 3 dic 2026 alle ore 10:00 Journal Club <jc@example.org> ha scritto:",
    "nl": "Op di 3 dec 2026 om 10:00 schreef Journal Club <jc@example.org>:",
    "zh": "在 2026年12月31日 15:15，Journal Club <jc@example.org> 写道：",
    "zh-gmail": "Journal Club <jc@example.org> 于2026年12月31日周四 15:15写道：",
    "zh-traditional": "Journal Club <jc@example.org> 於 2026年12月31日 週四 下午3:15寫道：",
    "ja": "2026年12月3日(火) 10:00 に Journal Club <jc@example.org> が書きました：",
    "ja-thunderbird": "2026/12/03 10:00 に Journal Club さんは書きました:",
    "ja-gmail": "2026年12月3日(火) 10:00 Journal Club <jc@example.org>:",
    "ru": "03.12.2026 10:00, Journal Club пишет:",
    "ru-apple": "3 дек. 2026 г., в 10:00, Journal Club <jc@example.org> написал(а):",
    "ru-wrapped": "3 дек. 2026 г., в 10:00, Journal Club <jc@example.org>\nнаписал:",
    "ru-gmail": "вт, 3 дек. 2026 г. в 10:00, Journal Club <jc@example.org>:",
}
# Headers with a name alone: one only above quoted lines.
BARE_HEADERS = {
    "en": "Journal Club wrote:",
    "sv": "Journal Club skrev:",
    "zh": "张三写道：",
    "ja": "山田さんは書きました：",
    "ru-writes": "Иван Петров пишет:",
    "ru-wrote": "Иван Петров написал(а):",
    "ru-wrote-he": "Иван Петров написал:",
}
# Our request as a reply carries it along below its header, without ">".
REQUEST = (
    "Dear Ann,\n\nThank you for speaking at the Journal Club.\n\nTitle:\n\nAbstract:\n\n"
    "About you: the request's own words\n\nThank you!\n\n-- The Journal Club team\n"
)


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
def test_the_quoted_mail_below_a_quote_header_is_left_out(header: str) -> None:
    assert fields_of(f"{FORM}\n{header}\n\n{REQUEST}") == WANTED
    # The real case: the abstract was the last field, and the header landed in it.
    reply = f"Abstract: {ABSTRACT}\n\n{header}\n\n{REQUEST}"
    assert fields_of(reply) == {"abstract": ABSTRACT}
    quoted = "".join(f"> {line}\n" for line in REQUEST.splitlines())
    assert fields_of(f"{FORM}\n{header}\n{quoted}") == WANTED


@pytest.mark.parametrize("header", BARE_HEADERS.values(), ids=BARE_HEADERS.keys())
def test_a_header_of_a_name_alone_ends_the_reply_above_quoted_lines(header: str) -> None:
    quoted = "".join(f"> {line}\n" for line in REQUEST.splitlines())
    assert fields_of(f"{FORM}\n{header}\n{quoted}") == WANTED
    assert fields_of(f"{FORM}\n{header}\n") == WANTED


def test_a_quotation_in_an_abstract_is_no_quote_header() -> None:
    abstract = 'As Feynman wrote:\n"What I cannot create, I do not understand."\n\nWe create.'
    assert fields_of(f"Abstract: {abstract}\n\nAbout you: {BIO}") == {
        "abstract": abstract,
        "bio": BIO,
    }


OUTLOOK = {
    "en": "From: Journal Club <jc@example.org>\nSent: Tuesday, December 3, 2026 10:00\n"
    "To: Ann Ek <ann@example.org>\nSubject: Your talk",
    "en-mac": "From: Journal Club <jc@example.org>\nDate: Tuesday, 3 December 2026 at 10:00\n"
    "To: Ann Ek <ann@example.org>\nSubject: Your talk",
    "en-bold": "*From:* Journal Club <jc@example.org>\n*Sent:* Tuesday, December 3, 2026 10:00\n"
    "*To:* Ann Ek\n*Subject:* Your talk",
    "de": "Von: Journal Club <jc@example.org>\nGesendet: Dienstag, 3. Dezember 2026 10:00\n"
    "An: Ann Ek\nBetreff: Ihr Vortrag",
    "fr": "De : Journal Club <jc@example.org>\nEnvoyé : mardi 3 décembre 2026 10:00\n"
    "À : Ann Ek\nObjet : Votre exposé",
    "sv": "Från: Journal Club <jc@example.org>\nSkickat: den 3 december 2026 10:00\n"
    "Till: Ann Ek\nÄmne: Ditt föredrag",
    "es": "De: Journal Club <jc@example.org>\nEnviado: martes, 3 de diciembre de 2026 10:00\n"
    "Para: Ann Ek\nAsunto: Su charla",
    "original-message": "-----Original Message-----\nFrom: Journal Club",
    "original-message-de": "-----Ursprüngliche Nachricht-----",
    "underscores": "________________________________\nFrom: Journal Club <jc@example.org>",
    "forwarded": "---------- Forwarded message ---------",
}


@pytest.mark.parametrize("block", OUTLOOK.values(), ids=OUTLOOK.keys())
def test_outlook_header_blocks_and_separators_end_the_reply(block: str) -> None:
    assert fields_of(f"{FORM}\n{block}\n\n{REQUEST}") == WANTED
    assert fields_of(f"{FORM}{block}\n\n{REQUEST}") == WANTED  # no blank line before it


SIGNATURES = {
    "delimiter": "-- \nAnn Ek\nProfessor of Graphs\nColumbia University\nTitle: not a title",
    "delimiter-stripped": "--\nAnn Ek, Columbia University",
    "iphone": "Sent from my iPhone",
    "outlook-ios": "Get Outlook for iOS",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "sv": "Skickat från min iPhone",
    "es": "Enviado desde mi iPhone",
    "zh": "发自我的iPhone",
    "ja": "iPhoneから送信",
    "ru": "Отправлено с iPhone",
}


@pytest.mark.parametrize("signature", SIGNATURES.values(), ids=SIGNATURES.keys())
def test_a_signature_or_a_sent_from_line_ends_the_reply(signature: str) -> None:
    assert fields_of(f"{FORM}\n{signature}\n") == WANTED
    assert fields_of(f"{FORM}{signature}\n\n{REQUEST}") == WANTED


def test_a_form_quoted_with_marks_below_the_reply_fills_nothing() -> None:
    quoted = "> Title: Our old title\n>\n> Abstract:\n>\n> About you: quoted words\n"
    reply = f"Title: Counting graphs\n\nAbstract: {ABSTRACT}\n\n{quoted}"
    assert fields_of(reply) == {"title": "Counting graphs", "abstract": ABSTRACT}
    assert fields_of(quoted) == {}
    # A quoted line ends the field it is in; a label after it starts the next one.
    assert fields_of(f"Abstract: {ABSTRACT}\n> quoted\nnot the abstract\n\nAbout you: {BIO}") == {
        "abstract": ABSTRACT,
        "bio": BIO,
    }


# --- What follows the last field: closings, "photo attached", names. ---

CLOSINGS = [
    "Best,",
    "Best regards",
    "Best regards,",
    "Kind regards,",
    "Thanks!",
    "Thank you",
    "Thank you!",
    "Many thanks,",
    "Cheers",
    "Cheers,",
    "Mit freundlichen Grüßen",
    "Viele Grüße",
    "Cordialement,",
    "Bien à vous,",
    "Med vänliga hälsningar",
    "Hälsningar",
    "Saludos",
    "Un saludo,",
    "此致",
    "谢谢！",
    "よろしくお願いします。",
    "С уважением,",
    "Thanks for the invitation!",
    "Looking forward to the seminar!",
]


@pytest.mark.parametrize("closing", CLOSINGS)
def test_a_closing_after_the_last_field_is_not_taken(closing: str) -> None:
    for tail in (f"\n\n{closing}\n", f"\n\n{closing}\nAnn\n", f"\n{closing}\nAnn Ek\n"):
        assert fields_of(FORM.rstrip() + tail) == WANTED, tail
    signature = f"\n\n{closing}\n\nAnn Ek\nProfessor of Graphs\nColumbia University\n"
    assert fields_of(FORM.rstrip() + signature) == WANTED


@pytest.mark.parametrize(
    "closing", ["Best, Ann", "Thanks, Ann!", "Cheers, Ann Ek", "Best wishes from Ann", "Thx"]
)
def test_a_closing_with_the_name_on_its_line_is_not_taken(closing: str) -> None:
    assert fields_of(f"{FORM}\n{closing}\n") == WANTED


@pytest.mark.parametrize(
    "tail",
    [
        "Let me know if you need anything else from me before the seminar.",
        "Hope this helps!",
        "Sorry for the late reply.",
        "P.S. I will arrive a little late on the day, sorry about that.",
        "Best,\nAnn\n\nPS: I will arrive a little late on the day, sorry about that.",
        "Best,\nAnn\nP.S. Happy to adjust the abstract if it is too long.",
    ],
)
def test_a_message_to_the_organiser_after_the_last_field_is_not_taken(tail: str) -> None:
    assert fields_of(f"{FORM}\n{tail}\n") == WANTED


PHOTO_LINES = [
    "Photo attached.",
    "(Photo attached)",
    "A photo is attached.",
    "I've attached a photo of me.",
    "Please find my photo attached.",
    "Please find attached a recent photo.",
    "PS: headshot attached",
    "Foto anbei.",
    "Photo ci-jointe.",
    "Bifogar foto.",
    "Adjunto foto.",
    "附上照片。",
    "写真を添付します。",
    "Фото во вложении.",
]


@pytest.mark.parametrize("photo", PHOTO_LINES)
def test_photo_attached_is_not_taken(photo: str) -> None:
    assert fields_of(f"{FORM}\n{photo}\n") == WANTED
    assert fields_of(f"{FORM}{photo}\n") == WANTED
    assert fields_of(f"{FORM}\n{photo}\n\nBest,\nAnn\n") == WANTED
    assert fields_of(f"{FORM}\nBest,\nAnn\n\n{photo}\n") == WANTED


def test_the_real_replies_tail() -> None:
    reply = (
        "Title: Cells at scale\n\nAbstract: We image a million cells.\nIn one night.\n\n"
        "About you: Fredrik builds microscopes.\n\nPhoto attached.\n\nBest, Fredrik\n\n"
        "Sent from my iPhone\n"
    )
    assert fields_of(reply) == {
        "title": "Cells at scale",
        "abstract": "We image a million cells.\nIn one night.",
        "bio": "Fredrik builds microscopes.",
    }


@pytest.mark.parametrize("name", ["/Ann", "– Ann", "—Ann Ek", "~Ann", "-Ann"])
def test_a_lone_signed_name_is_not_taken(name: str) -> None:
    assert fields_of(f"{FORM}\n{name}\n") == WANTED


def test_the_senders_own_name_alone_is_not_taken() -> None:
    assert answers(message(f"{FORM}\nAnn\n")) == WANTED
    assert answers(message(f"{FORM}\nAnn Ek\n")) == WANTED
    assert answers(message(f"{FORM}\nAnn Ek\n", sender="ann@example.org"))["bio"] == (
        f"{BIO}\n\nAnn Ek"
    )


GENUINE_ENDINGS = [
    "She sails.",
    "She lives in Uppsala with two cats.",
    "Best paper award, NeurIPS 2019.",
    "Her photo of attached cells won a prize.",
    "Thanks to her students, the lab doubled.",
    "Regards from her group are welcome.",
    "- Columbia University",
    "Cheerful, always.",
]


@pytest.mark.parametrize("ending", GENUINE_ENDINGS)
def test_a_short_last_paragraph_of_the_bio_is_kept(ending: str) -> None:
    bio = f"{BIO}\n\n{ending}"
    assert fields_of(f"About you: {bio}\n") == {"bio": bio}
    assert fields_of(f"About you: {bio}\n\nBest,\nAnn\n") == {"bio": bio}


def test_a_multi_paragraph_abstract_is_kept_whole() -> None:
    assert fields_of(f"Abstract: {ABSTRACT}\n") == {"abstract": ABSTRACT}
    assert fields_of(FORM)["abstract"] == ABSTRACT


# --- Labels and values. ---


@pytest.mark.parametrize(
    "form",
    [
        f"**Title:** Counting graphs\n\n**Abstract:** {ABSTRACT}\n\n**About you:** {BIO}\n",
        f"**Title**: Counting graphs\n\n__Abstract:__ {ABSTRACT}\n\n*Bio:* {BIO}\n",
        f"  Title: Counting graphs\n\n  Abstract: {ABSTRACT}\n\n  Biography: {BIO}\n",
        f"- Title: Counting graphs\n- Abstract: {ABSTRACT}\n- About the speaker: {BIO}\n",
        f"TITLE:\nCounting graphs\nABSTRACT:\n{ABSTRACT}\nABOUT ME:\n{BIO}\n",
        f"Title : Counting graphs\n\nAbstract :\n\n{ABSTRACT}\n\nAbout you :\n\n{BIO}\n",
    ],
    ids=["bold", "bold-outside", "indented", "bullets", "upper-case-own-lines", "spaced"],
)
def test_labels_as_speakers_write_them(form: str) -> None:
    assert fields_of(form) == WANTED


def test_a_field_left_empty_is_not_filled() -> None:
    assert fields_of(f"Title:\n\nAbstract: {ABSTRACT}\n\nAbout you:\n") == {"abstract": ABSTRACT}
    assert fields_of("Title:\nAbstract:\nAbout you:\n") == {}
    assert fields_of("Title: \n\nAbstract:\n\nBest,\nAnn\n") == {}
    assert fields_of("") == {}
    assert fields_of("Thanks, I will send it all next week!\n\nAnn") == {}


def test_the_first_filled_label_wins() -> None:
    assert fields_of("Title:\n\nAbstract: A.\n\nTitle: Second\n\nTitle: Third\n") == {
        "abstract": "A.",
        "title": "Second",
    }


@pytest.mark.parametrize(
    "title",
    [
        "Best Practices For Graph Mining",
        "Thanks for All the Fish: Dolphins and Graphs",
        "Looking Forward to Quantum Computers",
        "Cheers And Tears Of Gradient Descent",
    ],
)
def test_a_title_that_starts_like_a_closing_is_kept(title: str) -> None:
    assert fields_of(f"Title: {title}\n") == {"title": title}
    assert fields_of(f"Title: {title}\nThanks for the invitation!\nAnn\n") == {"title": title}
    assert fields_of(f"Title: {title}\n\nBest,\nAnn\n") == {"title": title}


def test_an_empty_last_field_and_a_closing_fill_nothing() -> None:
    reply = "Title: Counting graphs\n\nAbout you:\n\nBest,\nAnn\n"
    assert fields_of(reply) == {"title": "Counting graphs"}
    assert fields_of("Abstract:\nThanks for the invitation!\n") == {}
    # A title's first line is its own, even when it reads like thanks.
    assert fields_of("Title:\nThanks for the invitation!\n") == {
        "title": "Thanks for the invitation!"
    }


def test_a_closing_and_the_senders_name_without_a_comma() -> None:
    assert answers(message(f"{FORM}\nThanks Ann\n")) == WANTED
    assert fields_of(f"{FORM}\nThanks Ann\n")["bio"] == f"{BIO}\n\nThanks Ann"


def test_the_title_is_one_line_and_its_first_paragraph() -> None:
    reply = "Title: Counting graphs\n  with a million nodes\n\nI will send the abstract later.\n"
    assert fields_of(reply) == {"title": "Counting graphs with a million nodes"}
    assert fields_of("Title:\n\n   Counting   graphs  \n\nAbout me: A.") == {
        "title": "Counting graphs",
        "bio": "A.",
    }


def test_blank_line_runs_collapse_and_crlf_is_read() -> None:
    reply = f"Abstract: One.\n\n\n\n\nTwo.\n   \n\t\nThree.\n\nAbout you: {BIO}\n"
    assert fields_of(reply) == {"abstract": "One.\n\nTwo.\n\nThree.", "bio": BIO}
    crlf = FORM + "\nBest,\nAnn\n\nOn Tue, 3 Dec 2026 at 10:00, JC <jc@example.org> wrote:\n"
    assert fields_of(crlf.replace("\n", "\r\n")) == WANTED
    assert fields_of(crlf.replace("\n", "\r")) == WANTED


def test_our_own_requests_lines_carried_along_are_dropped() -> None:
    reply = (
        f"{FORM}\nAnd attach a photo (JPEG or PNG).\n\n"
        "**Date:** Tuesday, 3 December 2026, 10:00 CET\n\n**Location:** Room 4\n\n"
        "Thank you!\n\n-- The Journal Club team\n"
    )
    assert fields_of(reply) == WANTED
    assert fields_of(f"About you: {BIO}\nattach a photo (JPEG or PNG).\n") == {"bio": BIO}


# --- Messages. ---


def test_the_plain_part_is_read() -> None:
    reply = f"{FORM}\nBest,\nAnn\n\nOn Tue, 3 Dec 2026 at 10:00, JC <jc@example.org> wrote:\n"
    assert answers(message(reply, html="<p>Title: the HTML's title</p>")) == WANTED
    assert answers(message(reply)) == WANTED
    latin = "Title: Études on graphs\n\nAbout you: Ann, naïvely.\n"
    assert answers(message(latin, charset="iso-8859-1")) == {
        "title": "Études on graphs",
        "bio": "Ann, naïvely.",
    }


def test_an_html_only_reply_is_read_as_text() -> None:
    html = (
        "<html><head><style>p{margin:0}</style><title>Re: Your talk</title></head><body>"
        "<p><b>Title:</b> Counting&nbsp;graphs</p>"
        "<p><b>Abstract:</b> We count graphs with a million nodes.<br>In one night.</p>"
        "<p>The second paragraph says how.</p><p>A third one: why it matters.</p>"
        f"<p><strong>About you:</strong> {BIO}</p><p>Best,<br>Ann</p></body></html>"
    )
    assert answers(message(None, html=html)) == WANTED
    assert answers(message("", html=html)) == WANTED  # an empty plain part is no text


def test_a_gmail_reply_without_its_blockquote() -> None:
    body = FORM.replace("\n", "<br>")
    html = (
        f'<div dir="ltr">{body}<div><br></div><div>Thanks!</div><div>Ann</div></div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 3 Dec 2026 at '
        "10:00, Journal Club &lt;jc@example.org&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">Title:<br>Abstract:<br>'
        "<blockquote>About you: nested quote</blockquote>About you: after the nested one"
        "</blockquote></div>"
    )
    assert answers(message(None, html=html)) == WANTED
    # Older Gmail: the blockquote alone, the header a plain line before it.
    older = (
        f"<div>{body}</div><div>On Tue, 3 Dec 2026 at 10:00, JC wrote:<br>"
        "<blockquote>About you: <blockquote>nested</blockquote>quoted</blockquote></div>"
    )
    assert answers(message(None, html=older)) == WANTED


def test_an_outlook_html_reply_ends_at_its_header_block() -> None:
    html = (
        '<div class="WordSection1">'
        + "".join(f'<p class="MsoNormal">{line or "&nbsp;"}</p>' for line in FORM.split("\n"))
        + '<p class="MsoNormal">&nbsp;</p><div style="border-top:solid #E1E1E1 1.0pt">'
        '<p class="MsoNormal"><b>From:</b> Journal Club &lt;jc@example.org&gt;<br>'
        "<b>Sent:</b> Tuesday, December 3, 2026 10:00<br><b>To:</b> Ann Ek<br>"
        "<b>Subject:</b> Your talk</p></div>"
        '<p class="MsoNormal">About you: the request</p></div>'
    )
    assert answers(message(None, html=html)) == WANTED
    web = f'<div>{FORM.replace(chr(10), "<br>")}</div><div id="appendonsend"></div><hr>'
    assert answers(message(None, html=web + "<div>About you: quoted</div>")) == WANTED


def test_a_message_without_text_or_with_an_unknown_charset_fills_nothing() -> None:
    data = (
        b"From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
        b"charset=x-unknown-charset\r\n\r\nTitle: T\xe9st\r\n"
    )
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert answers(parsed) == {"title": "T\ufffdst"}
    image = email.message_from_bytes(
        b"From: a@example.org\r\nContent-Type: image/png\r\n\r\nxx", policy=email.policy.default
    )
    assert isinstance(image, EmailMessage)
    assert answers(image) == {}


# --- Properties. ---


def assert_a_form(found: object) -> None:
    assert isinstance(found, dict)
    assert set(found) <= {"title", "abstract", "bio"}
    for value in found.values():
        assert isinstance(value, str)
        assert value and value == value.strip()
        assert "\n\n\n" not in value
        assert not any(line.lstrip().startswith(">") for line in value.split("\n"))
    assert "\n" not in found.get("title", "")


LINES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "Title:",
            "Abstract: ",
            "**About you:**",
            "> Title: x",
            "-- ",
            "",
            "Best,",
            "Ann",
            "On Tue, 3 Dec 2026 at 10:00, JC <jc@example.org> wrote:",
            "Photo attached.",
            "From: JC",
            "Sent: now",
            "To: Ann",
            "写道：",
            "\r",
            "<",
            "wrote:",
            "On",
        ]
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=30).map("\n".join))
def test_any_text_gives_a_form(text: str) -> None:
    assert_a_form(fields_of(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.text())
def test_any_message_gives_a_form(text: str, html: str) -> None:
    assert_a_form(answers(message(text.replace("\r", "") or None, html=html)))
    assert_a_form(answers(message(None, html=f"<div>{html}<blockquote>{text}</div>")))


WORDS = ["graphs", "cells", "we", "count", "a", "million", "of", "the", "brain", "she", "builds"]
SENTENCES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(
    lambda words: " ".join(words).capitalize() + "."
)
PARAGRAPHS = st.lists(st.lists(SENTENCES, min_size=1, max_size=3).map("\n".join), min_size=1)


@settings(max_examples=200, deadline=None)
@given(SENTENCES, PARAGRAPHS.map("\n\n".join), PARAGRAPHS.map("\n\n".join))
def test_what_a_speaker_writes_under_the_labels_comes_back(
    title: str, abstract: str, bio: str
) -> None:
    reply = f"Title: {title}\n\nAbstract:\n{abstract}\n\nAbout you: {bio}\n\nBest,\nAnn\n"
    assert fields_of(reply) == {"title": title, "abstract": abstract, "bio": bio}
