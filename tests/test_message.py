"""The message: built once, checked by reading it back, copied per recipient with its own
To and Message-ID."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from mailer.addresses import Mailbox, parse_mailbox
from mailer.mail.headers import address_field, check_header_block, text_field
from mailer.mail.message import Blueprint, Headers, list_id
from mailer.render.rendered import InlineImage, Rendered

HEADERS = Headers(sender=parse_mailbox("Seminar <lm@example.org>"), reply_to=None,
                  list_name="Learning Machines", unsubscribe="https://example.org/leave")
RENDERED = Rendered(subject="Über: a talk", text=".leading dot\nÅ line\n" + "word " * 40,
                    html="<p>hi</p>", ics=None)
NOW = datetime(2024, 2, 20, 8, 0, tzinfo=UTC)
A, B = Mailbox("a@example.org"), Mailbox("b@example.org")


def blueprint(bulk: bool = False, rendered: Rendered = RENDERED) -> Blueprint:
    headers = Headers(HEADERS.sender, None, HEADERS.list_name, HEADERS.unsubscribe, bulk)
    return Blueprint(rendered, headers, date=NOW, name="t")


def test_each_copy_has_its_own_to_and_message_id() -> None:
    made = blueprint()
    one = email.message_from_bytes(made.eml((A,), 1), policy=email.policy.default)
    two = email.message_from_bytes(made.eml((B,), 2), policy=email.policy.default)
    assert one["To"] == "a@example.org" and two["To"] == "b@example.org"
    assert one["Message-ID"] != two["Message-ID"]
    assert str(one["Message-ID"]).startswith(f"<{int(NOW.timestamp())}.")
    assert one["Date"] == "Tue, 20 Feb 2024 08:00:00 +0000"
    assert one["Subject"] == "Über: a talk"
    # One https URL for everyone names no recipient: RFC 8058 forbids the one-click POST.
    assert one["List-Unsubscribe"] == "<https://example.org/leave>"
    assert one["List-Unsubscribe-Post"] is None
    assert one["Precedence"] is None
    text = one.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n").startswith(".leading dot\nÅ line\n")


def test_the_same_number_gives_the_same_bytes() -> None:
    made = blueprint()
    assert made.wire((A,), 7) == made.wire((A,), 7)
    assert made.wire((A,), 7) != made.wire((A,), 8)


def test_wire_form_is_dot_stuffed_crlf_and_short_lines() -> None:
    wire = blueprint(bulk=True).wire((A,), 1)
    lines = wire.split(b"\r\n")
    assert b"Precedence: bulk" in lines
    assert all(len(line) <= 78 for line in lines)
    assert wire.endswith(b"\r\n")
    assert not any(line.startswith(b".") and not line.startswith(b"..") for line in lines)


def test_list_id_is_under_the_senders_domain() -> None:
    assert list_id("Learning Machines", "example.org") == (
        "Learning Machines", "<learning-machines.example.org>")


def test_a_whole_message_reads_back_as_built() -> None:
    photo = InlineImage("photo.t@announce", b"\xff\xd8\xff" + bytes(range(256)) * 4)
    rendered = Rendered(subject="S", text="t", html=f'<img src="{photo.src}">',
                        ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", images=(photo,))
    made = blueprint(rendered=rendered)
    assert made.problems() == []
    parsed = email.message_from_bytes(made.eml((A,), 1), policy=email.policy.default)
    related = [p for p in parsed.walk() if p.get_content_type() == "multipart/related"]
    assert related and related[0].get_param("type") == "text/html"  # RFC 2387 3.1


def test_the_check_finds_a_header_the_encoder_did_not_mean() -> None:
    field = text_field("Subject", "a talk")
    forged = field.wire.replace(b"a talk", b"a talk\r\nReply-To: x@evil.example")
    assert check_header_block(forged, [field])
    assert check_header_block(field.wire, [field]) == []
    cut = field.wire.replace(b"a talk", b"a\r\n\r\ntalk")
    assert check_header_block(cut, [field])


def test_the_check_finds_an_address_the_encoder_did_not_mean() -> None:
    field = address_field("To", [A])
    smuggled = field.wire.replace(b"a@example.org", b"a@example.org, b@example.org")
    assert check_header_block(smuggled, [field])


@pytest.mark.parametrize("name", ["Jonas Åström", "Mathis, Alexander", "Åsa Öberg", 'Q "x" \\ y',
                                  "=?utf-8?q?x=0D=0AReply-To:_e@evil.example?=",
                                  " ".join(["Maximilian"] * 12)])
def test_display_names_read_back_as_written(name: str) -> None:
    field = address_field("To", [Mailbox("a@example.org", name)])
    assert check_header_block(field.wire, [field]) == []
    parsed = email.message_from_bytes(field.wire + b"\r\n", policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        (name, "a@example.org")]


@pytest.mark.parametrize("subject", [
    "seminar 15:00: \xa0  (\xa0, 0)", "é  x", "é   é", "a  é  b", "  é", "é  ", "Xu,  Linköping",
])
def test_doubled_spaces_beside_encoded_words_survive(subject: str) -> None:
    field = text_field("Subject", subject)
    assert check_header_block(field.wire, [field]) == []
    parsed = email.message_from_bytes(field.wire + b"\r\n", policy=email.policy.default)
    assert str(parsed["Subject"]) == subject


def test_many_copies_are_checked_in_one_block_and_a_bad_one_is_named_by_its_line() -> None:
    from mailer.errors import InputError
    from mailer.mail.outgoing import RecipientPlan, verify
    from mailer.series.kinds import Kind

    made = blueprint(bulk=True)
    people = tuple(Mailbox(f"p{i}@example.org", f"Person {i}") for i in range(600))
    assert made.check(*(((box,), n) for n, box in enumerate(people, 1))) == []
    # An address that would write a second header (the parser would never let it in).
    people = (*people[:299], Mailbox("p299@example.org>\r\nBcc: <x@evil.example"), *people[300:])
    assert made.check(*(((box,), n) for n, box in enumerate(people, 1)))
    plan = RecipientPlan(subscribers=people, source="subscribers.txt",
                         lines=tuple(range(2, 602)))
    with pytest.raises(InputError, match=r"^subscribers\.txt:301: this recipient's message"):
        verify(made, plan, "seminars/t.yaml", Kind.ANNOUNCEMENT)


def _tokened(unsubscribe: str | None, web: str | None) -> Blueprint:
    headers = Headers(HEADERS.sender, None, HEADERS.list_name, unsubscribe, bulk=True,
                      token=lambda address: f"tok{address.split('@')[0]}", web=web)
    return Blueprint(RENDERED, headers, date=NOW, name="t")


def _copy(made: Blueprint, box: Mailbox, number: int) -> email.message.Message:
    return email.message_from_bytes(made.eml((box,), number), policy=email.policy.default)


def test_rfc_8058_each_recipient_gets_its_own_one_click_uri_when_the_web_part_runs() -> None:
    made = _tokened("mailto:leave@example.org", "https://seminar.example.org")
    assert made.problems() == [] and made.check(((A,), 1), ((B,), 2)) == []
    one, two = _copy(made, A, 1), _copy(made, B, 2)
    assert one["List-Unsubscribe"] == ("<mailto:leave@example.org?subject=unsubscribe%20toka>, "
                                       "<https://seminar.example.org/u/toka>")
    assert two["List-Unsubscribe"] == ("<mailto:leave@example.org?subject=unsubscribe%20tokb>, "
                                       "<https://seminar.example.org/u/tokb>")
    for copy in (one, two):
        assert copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert len(copy.get_all("List-Unsubscribe") or []) == 1
    assert all(len(line) <= 78 for line in made.wire((A,), 1).split(b"\r\n"))


def test_rfc_8058_without_the_web_part_only_the_mailto_and_no_post() -> None:
    made = _tokened("mailto:leave@example.org", None)
    one, two = _copy(made, A, 1), _copy(made, B, 2)
    assert one["List-Unsubscribe"] == "<mailto:leave@example.org?subject=unsubscribe%20toka>"
    assert two["List-Unsubscribe"] == "<mailto:leave@example.org?subject=unsubscribe%20tokb>"
    assert one["List-Unsubscribe-Post"] is None and two["List-Unsubscribe-Post"] is None


def test_rfc_8058_a_shared_https_url_gives_way_to_the_recipients_own() -> None:
    shared = _tokened("https://lists.example.org/leave", None)
    one = _copy(shared, A, 1)
    assert one["List-Unsubscribe"] == "<https://lists.example.org/leave>"
    assert one["List-Unsubscribe-Post"] is None
    web = _copy(_tokened("https://lists.example.org/leave", "https://s.example.org"), A, 1)
    # One HTTPS URI and it names its recipient (RFC 8058 3.1).
    assert web["List-Unsubscribe"] == "<https://s.example.org/u/toka>"
    assert web["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
