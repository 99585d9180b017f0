"""Addresses: one mailbox per value, nothing that could add a header or a recipient."""

from __future__ import annotations

import pytest

from mailer.addresses import AddressProblem, Mailbox, parse_mailbox


@pytest.mark.parametrize(("text", "addr", "name"), [
    ("a@example.org", "a@example.org", ""),
    ("  a@example.org ", "a@example.org", ""),
    ("Åsa Öberg <asa@example.org>", "asa@example.org", "Åsa Öberg"),
    ('"Dup, Bob" <bob@example.org>', "bob@example.org", "Dup, Bob"),
])
def test_good_addresses(text: str, addr: str, name: str) -> None:
    assert parse_mailbox(text) == Mailbox(addr, name)


@pytest.mark.parametrize(("text", "why"), [
    ("", "is empty"),
    ("not an address", "not an e-mail address"),
    ("c@@example.org", "not an e-mail address"),
    ("a@example.org, b@example.org", "holds 2 addresses"),
    ("a@example.org\r\nBcc: victim@example.net", "control character"),
    ("a@example.org\u2028b@example.org", "control character"),
])
def test_bad_addresses_say_why(text: str, why: str) -> None:
    with pytest.raises(AddressProblem, match=why):
        parse_mailbox(text)


def test_header_encodes_and_display_does_not() -> None:
    box = parse_mailbox("Åsa Öberg <asa@example.org>")
    assert box.header() == "=?utf-8?b?w4VzYSDDlmJlcmc=?= <asa@example.org>"
    assert box.display() == "Åsa Öberg <asa@example.org>"
    assert box.domain == "example.org"


def test_a_name_whose_encoded_word_decodes_to_a_line_break_is_refused() -> None:
    with pytest.raises(AddressProblem, match="decodes to a line break"):
        parse_mailbox('"=?utf-8?q?=0D" <lm-seminar@example.org>')
