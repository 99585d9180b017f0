"""International addresses (RFC 6531/6532, IDNA 2008): an accented domain goes out as xn--;
an accented local part needs SMTPUTF8, and without it that recipient is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from runners import invoke
from seriesfiles import subscribe
from smtpserver import Server, start_server

PEOPLE = ["ann@example.org", "bo@example.org", "cy@example.org", "jöns.åkesson@example.org",
          "anna@exämple.org"]


def test_a_server_with_smtputf8_gets_all_five(series: Path, smtp_server: Server) -> None:
    subscribe(series, 0, text="\n".join(PEOPLE) + "\n")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    got = sorted(smtp_server.addresses())
    assert "jöns.åkesson@example.org" in got
    assert len(got) == 5
    jons = next(r for r in smtp_server.received if r.rcpt_tos == ["jöns.åkesson@example.org"])
    assert jons.message["To"] == "jöns.åkesson@example.org"
    assert b"To: j\xc3\xb6ns.\xc3\xa5kesson@example.org\r\n" in jons.data


def test_without_smtputf8_four_arrive_and_the_fifth_is_refused_by_name(series: Path) -> None:
    server = start_server(enable_SMTPUTF8=False)
    try:
        subscribe(series, 0, text="\n".join(PEOPLE) + "\n")
        result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server)
        assert result.code == 1, result.both
        assert sorted(server.addresses()) == sorted(
            ["ann@example.org", "bo@example.org", "cy@example.org", "anna@xn--exmple-cua.org"])
        assert ("refused (permanent, not retried without --force): jöns.åkesson@example.org: "
                "553 5.6.7 the address needs SMTPUTF8") in result.err
        anna = next(r for r in server.received if r.rcpt_tos == ["anna@xn--exmple-cua.org"])
        assert anna.message["To"] == "anna@xn--exmple-cua.org"
        assert anna.data.isascii()
    finally:
        server.controller.stop()


def test_an_international_sender_and_list(series: Path, smtp_server: Server) -> None:
    settings = series / "seminars" / "series.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(
        "from: Learning Machines Seminar <lm-seminar@example.org>",
        "from: Seminariet <seminarium@exämple.org>").replace(
        "to: lm-seminar-list@example.org", "to: lista@exämple.org"), encoding="utf-8")
    dry = invoke(series, "send", "--dry-run", "--today", "2024-02-20")
    assert "From: Seminariet <seminarium@exämple.org>" in dry.out
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    got = smtp_server.received[0]
    assert got.mail_from == "seminarium@xn--exmple-cua.org"
    assert got.rcpt_tos == ["lista@xn--exmple-cua.org"]
    assert got.message["From"] == "Seminariet <seminarium@xn--exmple-cua.org>"


@pytest.mark.parametrize(("address", "why"), [
    ("jöns@exa mple.org", "not an e-mail address"),
    ("anna@ex--ämple.org", "not a valid international name"),
    ("jöns,åkesson@example.org", "holds 2 addresses"),
])
def test_an_address_that_is_really_wrong_still_says_why(series: Path, address: str,
                                                        why: str) -> None:
    subscribe(series, 0, text=f"ok@example.org\n{address}\n")
    result = invoke(series, "send", "2024-02-22", "--dry-run", "--today", "2024-02-20")
    assert result.code == 2
    assert f"subscribers.txt:2: '{address}'" in result.err and why in result.err
