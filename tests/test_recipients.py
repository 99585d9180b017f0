"""Subscriber files: plain lines or CSV; every line checked before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from seriesfiles import write

from mailer.errors import InputError
from mailer.mail.recipients import SubscriberFile


def load(tmp_path: Path, text: str) -> list[str]:
    return [box.header() for box in SubscriberFile(write(tmp_path / "s.txt", text)).load()]


def test_plain_lines_comments_names_and_repeats(tmp_path: Path) -> None:
    text = "# the list\n\na@example.org\nBo <b@example.org>\nA@EXAMPLE.ORG\n"
    assert load(tmp_path, text) == ["a@example.org", "Bo <b@example.org>"]


def test_csv_with_bom_semicolons_quotes_and_names(tmp_path: Path) -> None:
    text = "\ufeffname;email\n\"Öberg; Åsa\";asa@example.org\nBob;bob@example.org\n"
    assert load(tmp_path, text) == ["=?utf-8?b?w5ZiZXJnOyDDhXNh?= <asa@example.org>",
                                    "Bob <bob@example.org>"]


def test_every_bad_line_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    text = "a@example.org\nnot an address\nb@example.org\nc@@example.org\n"
    with pytest.raises(InputError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "s.txt:2: 'not an address'" in message
    assert "s.txt:4: 'c@@example.org'" in message
    assert "2 bad line(s); nothing was sent" in message


def test_a_csv_row_with_a_wrong_number_of_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"s\.txt:3: has 3 columns, the header has 2"):
        load(tmp_path, "email,name\na@example.org,A\nb@example.org,B,extra\n")


def test_empty_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no subscribers"):
        load(tmp_path, "# nobody yet\n")
    with pytest.raises(InputError, match="no such file"):
        SubscriberFile(tmp_path / "nope.txt").load()


def test_a_csv_header_without_an_email_column_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "address,name\nada@example.org,Ada\nbob@example.org,Bob\n")
    with pytest.raises(InputError, match=r"s.csv:1: looks like a CSV header \(address,name\) "
                                         "without an email column"):
        SubscriberFile(path).load()
