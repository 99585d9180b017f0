"""The message: built once, copied per recipient with its own To and Message-ID."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, time

from mailer.config import MailSettings
from mailer.message import Blueprint, build_message, list_id
from mailer.model import Series
from mailer.render import Rendered

SERIES = Series(name="Learning Machines", team="T", timezone="Europe/Stockholm",
                default_time=time(15, 0),
                mail=MailSettings(sender="Seminar <lm@example.org>", to=("list@example.org",),
                                  unsubscribe="https://example.org/leave"))
RENDERED = Rendered(subject="Über: a talk", text=".leading dot\nÅ line\n" + "word " * 40,
                    html="<p>hi</p>", ics=None)
NOW = datetime(2024, 2, 20, 8, 0, tzinfo=UTC)


def blueprint(bulk: bool = False) -> Blueprint:
    message = build_message(RENDERED, SERIES, date=NOW, seminar_id="t", bulk=bulk)
    return Blueprint(message, "example.org", NOW)


def test_each_copy_has_its_own_to_and_message_id() -> None:
    made = blueprint()
    one = email.message_from_bytes(made.eml(("a@example.org",)), policy=email.policy.default)
    two = email.message_from_bytes(made.eml(("b@example.org",)), policy=email.policy.default)
    assert one["To"] == "a@example.org" and two["To"] == "b@example.org"
    assert one["Message-ID"] != two["Message-ID"]
    assert str(one["Message-ID"]).startswith(f"<{int(NOW.timestamp())}.")
    assert one["Date"] == "Tue, 20 Feb 2024 08:00:00 +0000"
    assert one["Subject"] == "Über: a talk"
    assert one["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert one["Precedence"] is None
    text = one.get_body(("plain",))
    assert text is not None
    assert text.get_content().replace("\r\n", "\n").startswith(".leading dot\nÅ line\n")


def test_wire_form_is_dot_stuffed_crlf_and_short_lines() -> None:
    wire = blueprint(bulk=True).wire(("a@example.org",))
    lines = wire.split(b"\r\n")
    assert b"Precedence: bulk" in lines
    assert all(len(line) <= 78 for line in lines)
    assert wire.endswith(b"\r\n")
    assert not any(line.startswith(b".") and not line.startswith(b"..") for line in lines)


def test_list_id_is_under_the_senders_domain() -> None:
    assert list_id(SERIES) == "Learning Machines <learning-machines.example.org>"
