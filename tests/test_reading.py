"""Reading a message from the organiser's mailbox (contract §7) on plain bytes: its one sender
or none, the Message-IDs it names, whether it is a bounce and of whom, a machine's reply, an
unsubscribe request, a From its own server found forged. Hostile headers read as nothing."""

from __future__ import annotations

import pytest

from mailer.inbox.reading import (
    automatic,
    bounce,
    forged,
    identity,
    parse,
    returned_ids,
    strict_sender,
    unsubscribing,
)

LEAVE = "mailto:lm-seminar-list-leave@example.org?subject=unsubscribe"


def message(*headers: str, body: str = "Hello.\r\n") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")


@pytest.mark.parametrize(("raw", "sender"), [
    ("Ann Ek <Ann.Ek@Example.ORG>", "ann.ek@example.org"),
    ("<ann@example.org>", "ann@example.org"),
    ("ann@example.org (Ann Ek)", "ann@example.org"),
    # A display name that looks like an address is not the address: unquoted it is refused,
    # quoted or encoded it is a name, and the mailbox is the one in angle brackets.
    ("fredrik@example.org <x@evil.test>", None),
    ('"fredrik@example.org" <x@evil.test>', "x@evil.test"),
    ("=?utf-8?q?fredrik@example.org?= <x@evil.test>", "x@evil.test"),
    ("ann@example.org, bo@example.org", None),  # two senders: none of them
    ("Ann <ann@example.org>, ", None),
    ("undisclosed-recipients:;", None),
    ("ann@", None),
    ("ann", None),
    ("Ann <ann@exa mple.org>", None),
    ("", None),
    ("a" * 1990 + "@example.org", None),  # past 2000 characters: not even parsed
])
def test_the_sender_is_one_clean_address_or_none(raw: str, sender: str | None) -> None:
    assert strict_sender(raw) == sender


def test_parse_reads_the_id_the_sender_and_what_it_answers() -> None:
    read = parse(message("From: Ann <ANN@example.org>", "Message-ID: <r1@mail.example.org>",
                         "Subject: Re: [learning-machines] Your talk",
                         "In-Reply-To: <req-2@example.org>",
                         "References: <req-1@example.org>\r\n <req-2@example.org>"), "imap:7")
    assert read.key == "<r1@mail.example.org>"
    assert read.sender == "ann@example.org"
    assert read.subject == "Re: [learning-machines] Your talk"
    # In-Reply-To first, then References; each Message-ID once.
    assert read.answers == ("<req-2@example.org>", "<req-1@example.org>")


@pytest.mark.parametrize("header", [
    "Message-ID: no-angle-brackets@example.org",
    "Message-ID: <no-at-sign>",
    "Message-ID: <a space@example.org>",
    "X-Other: <looks@like.an.id>",
])
def test_without_a_well_formed_message_id_the_sources_own_key_is_the_key(header: str) -> None:
    assert parse(message("From: ann@example.org", header), "maildir:17").key == "maildir:17"


def test_hostile_headers_read_as_nothing_and_raise_nothing() -> None:
    data = (b"From: \xff\xfe\x00 <ann@example.org>\r\nMessage-ID: <two@ats@example.org>\r\n"
            b"In-Reply-To: " + b"<" * 5000 + b"\r\nSubject: " + b"\xe2\x82" * 400 + b"\r\n"
            b"References: " + b" ".join(b"<r%d@example.org>" % i for i in range(100)) +
            b"\r\n\r\nbody")
    read = parse(data, "fallback")
    assert read.key == "fallback"
    assert read.sender is None  # a From that does not parse cleanly names no one
    assert len(read.subject) == 500
    # Only the last 32 Message-IDs it answers are kept (the newest, in References' order).
    assert read.answers == tuple(f"<r{i}@example.org>" for i in range(68, 100))


def test_a_folded_header_reads_as_one_line() -> None:
    read = parse(message("From: ann@example.org", "Subject: a very\r\n\tlong\r\n  subject"), "k")
    assert read.subject == "a very long subject"


@pytest.mark.parametrize(("data", "named"), [
    (b"Message-ID: <a@b>\r\nFrom: Eve\x00\x07\x1b[31m <e@x>\r\n\r\nMessage-ID: <body@x>",
     ("<a@b>", "Eve???[31m <e@x>")),
    (b"Subject: nothing else\r\n\r\nMessage-ID: <in-the-body@x>\r\nFrom: body@x",
     ("(no Message-ID)", "(no From)")),
    (b"From: Ann\r\n  Ek <ann@x>\r\nmessage-id: " + b"x" * 300 + b"\r\n\r\n",
     ("x" * 120, "Ann Ek <ann@x>")),
    (b"From: first@x\nFrom: second@x\n\nbody", ("(no Message-ID)", "first@x")),
    (b"\xff\xfe", ("(no Message-ID)", "(no From)")),
])
def test_identity_names_a_message_however_broken_in_printable_words(
        data: bytes, named: tuple[str, str]) -> None:
    assert identity(data) == named


DSN = """\
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: lm-seminar@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered to some of its recipients.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; Gone@Example.org
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; full@example.org
Action: delayed
Status: 4.2.2
--B
Content-Type: text/rfc822-headers

From: lm-seminar@example.org
Message-ID: <ours-1@example.org>
Subject: Learning Machines seminar
--B--
""".replace("\n", "\r\n").encode()


def test_a_delivery_status_report_names_its_failures_and_the_mail_it_returns() -> None:
    found = bounce(parse(DSN, "k"))
    assert found is not None
    assert found.permanent == {"gone@example.org"}
    assert found.temporary == {"full@example.org"}
    assert found.returned == ("<ours-1@example.org>",)


def test_a_person_quoting_a_report_is_no_bounce() -> None:
    quoted = DSN.replace(b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)",
                         b"From: Ann <ann@example.org>")
    assert bounce(parse(quoted, "k")) is not None  # a report is a report, whoever sends it
    mixed = quoted.replace(b"multipart/report; report-type=delivery-status", b"multipart/mixed")
    assert bounce(parse(mixed, "k")) is None


def test_a_mailer_daemons_message_naming_no_failure_is_no_bounce() -> None:
    data = message("From: MAILER-DAEMON@mx.example.org", "Subject: Delivery delayed",
                   body="Nothing here names a recipient.\r\n")
    assert bounce(parse(data, "k")) is None


def test_an_out_of_office_reply_is_automatic_and_no_bounce() -> None:
    away = parse(message("From: Ann <ann@example.org>", "Auto-Submitted: auto-replied",
                         "Subject: Out of office"), "k")
    assert bounce(away) is None
    assert automatic(away)


@pytest.mark.parametrize(("header", "machine"), [
    ("Auto-Submitted: auto-generated", True),
    ("Auto-Submitted: No", False),
    ("X-Autoreply: yes", True),
    ("Precedence: bulk", True),
    ("Precedence: auto_reply", True),
    ("Precedence: list", False),
    ("X-Other: x", False),
])
def test_a_machines_reply_is_told_by_its_headers(header: str, machine: bool) -> None:
    assert automatic(parse(message("From: ann@example.org", header), "k")) is machine


def test_returned_ids_come_from_returned_mail_and_quoted_lines() -> None:
    inner = message("From: lm-seminar@example.org", "Message-ID: <whole@example.org>")
    data = message(
        "From: postmaster@example.net", "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="B"',
        body=("--B\r\nContent-Type: text/plain\r\n\r\nThe original said:\r\n"
              "Message-ID: <quoted@example.org>\r\n--B\r\nContent-Type: message/rfc822\r\n"
              "\r\n" + inner.decode() + "\r\n--B--\r\n"))
    assert returned_ids(parse(data, "k").parsed) == ("<quoted@example.org>",
                                                     "<whole@example.org>")


@pytest.mark.parametrize(("headers", "asks"), [
    (("Subject: Unsubscribe!",), True),
    (("Subject: unsubscribe me, please",), True),
    (("Subject: Re: unsubscribe",), False),  # a reply about it, not the request
    (("Subject: please do not unsubscribe me",), False),
    (("To: LM-Seminar-List-Leave@Example.org",), True),
    (("Cc: a@example.org, lm-seminar-list-leave@example.org",), True),
    (("Delivered-To: lm-seminar-list-leave@example.org",), True),
    # The address as a display name is not the address it went to.
    (('To: "lm-seminar-list-leave@example.org" <other@example.org>',), False),
    (("To: lm-seminar-list@example.org",), False),
])
def test_an_unsubscribe_request_by_subject_or_by_address(headers: tuple[str, ...],
                                                         asks: bool) -> None:
    read = parse(message("From: ann@example.org", *headers), "k")
    assert unsubscribing(read, LEAVE) is asks


def test_without_a_mailto_only_the_subject_asks() -> None:
    to_leave = parse(message("From: a@example.org", "To: lm-seminar-list-leave@example.org"), "k")
    assert not unsubscribing(to_leave, None)
    assert not unsubscribing(to_leave, "https://lists.example.org/leave")
    said = parse(message("From: a@example.org", "Subject: unsubscribe"), "k")
    assert unsubscribing(said, None)


@pytest.mark.parametrize(("results", "is_forged"), [
    (["mx.example.org; dmarc=fail (p=none) header.from=example.org"], True),
    (['mx.example.org; dmarc=fail header.from="Example.ORG"'], True),
    (["mx.example.org; dkim=fail header.d=example.org"], True),
    (["mx.example.org; dkim=fail header.d=list.example; dkim=pass header.d=example.org"], False),
    (["mx.example.org; dmarc=fail header.from=other.example"], False),  # not this sender's
    (["mx.example.org; dmarc=pass header.from=example.org"], False),
    (["mx.example.org; spf=fail smtp.mailfrom=example.org"], False),
    (["mx.example.org; dmarc=pass header.from=example.org",
      "mx.example.org; dmarc=fail header.from=example.org"], True),  # any one says so
    ([], False),
])
def test_a_from_is_forged_when_its_own_server_said_dmarc_or_dkim_failed(
        results: list[str], is_forged: bool) -> None:
    headers = [f"Authentication-Results: {text}" for text in results]
    read = parse(message("From: Ann <ann@example.org>", *headers), "k")
    assert forged(read) is is_forged


def test_a_message_id_that_is_not_utf8_is_a_key_the_ledger_can_keep() -> None:
    data = (b"From: a@example.org\r\nMessage-ID: <\xff\xfe@x.test>\r\nSubject: s\r\n\r\nbody\r\n")
    read = parse(data, "fallback")
    read.key.encode("utf-8")  # a lone surrogate would raise here, as SQLite would
    assert read.key == "<??@x.test>"


def test_two_from_headers_name_no_sender() -> None:
    read = parse(message("From: a@example.org", "From: b@example.org"), "k")
    assert read.sender is None


def test_an_encoded_subject_is_read_as_written() -> None:
    read = parse(message("From: a@example.org", "Subject: =?utf-8?q?Unsubscribe_abc?="), "k")
    assert read.subject == "Unsubscribe abc"
    broken = parse(message("From: a@example.org", "Subject: =?x-klingon?q?abc?="), "k")
    assert broken.subject  # kept, never a crash


def test_an_html_body_of_unclosed_tags_is_read_as_text_in_one_pass() -> None:
    """"<a <a <a ..." made html.parser rescan the rest at every "<" (90 KB cost minutes): a
    "<" that opens no tag is text."""
    from email.message import EmailMessage

    from mailer.inbox.bodytext import text_of

    mail = EmailMessage()
    mail.set_content("<p>zone Asia/Tokyo</p>" + "<a " * 50000, subtype="html")
    text = text_of(mail)
    assert text.splitlines()[0] == "zone Asia/Tokyo"
    assert text.count("<a") == 50000
