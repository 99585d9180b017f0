"""Reaching the relay: ``check --smtp``, TLS modes that do not fit the port, unknown hosts,
and the settings that would otherwise send nothing in silence."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import trustme
from support import Server, authenticator, edit, invoke, subscribe, tls_server, write


def test_check_smtp_says_what_the_relay_offers_and_sends_nothing(series: Path,
                                                                  smtp_server: Server) -> None:
    result = invoke(series, "check", "--smtp", server=smtp_server)
    assert result.code == 0, result.both
    assert f"relay 127.0.0.1:{smtp_server.port} (security: none)" in result.out
    assert "TLS: none (plain text)" in result.out
    assert ("offers: SIZE 33554432 (32 MiB per message); PIPELINING; SMTPUTF8; 8BITMIME"
            in result.out)
    assert "login: no login set" in result.out
    assert "said QUIT; nothing was sent" in result.out
    assert smtp_server.received == []


def test_check_smtp_over_starttls_with_a_login(series: Path, tmp_path: Path,
                                               authority: trustme.CA) -> None:
    server = tls_server(authority, implicit=False,
                        authenticator=authenticator("seminar", "s3cret-pw"))
    try:
        ca_file = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(ca_file))
        result = invoke(series, "check", "--smtp", server=server,
                        ANNOUNCE_SMTP_SECURITY="starttls", ANNOUNCE_SMTP_USERNAME="seminar",
                        ANNOUNCE_SMTP_PASSWORD="s3cret-pw", SSL_CERT_FILE=str(ca_file))
        assert result.code == 0, result.both
        assert "TLS: TLSv1." in result.out and "certificate verified" in result.out
        assert "AUTH LOGIN PLAIN" in result.out
        assert "login: logged in as seminar" in result.out
        assert "s3cret-pw" not in result.both
        assert server.received == []
    finally:
        server.controller.stop()


def test_tls_against_a_plain_port_hints_at_starttls(series: Path, smtp_server: Server) -> None:
    result = invoke(series, "check", "--smtp", server=smtp_server, ANNOUNCE_SMTP_SECURITY="tls")
    assert result.code == 2, result.both
    assert ("speaks plain SMTP, not TLS from the first byte: set mail.smtp.security to "
            "starttls") in result.err


@pytest.mark.parametrize("mode", ["starttls", "none"])
def test_a_port_that_never_greets_but_speaks_tls_hints_at_implicit_tls(
        series: Path, authority: trustme.CA, mode: str) -> None:
    edit(series / "seminars" / "series.yaml", ("    security: none\n",
                                               "    security: none\n    timeout: 3\n"))
    server = tls_server(authority, implicit=True)
    try:
        result = invoke(series, "send", "2024-02-22", server=server,
                        ANNOUNCE_SMTP_SECURITY=mode)
        assert result.code == 2, result.both
        assert "speaks TLS from the first byte and sends no plain greeting: set " \
               "mail.smtp.security to tls" in result.err
        assert server.received == []
    finally:
        server.controller.stop()


def test_a_host_name_that_does_not_resolve_is_a_configuration_error(series: Path) -> None:
    try:
        socket.getaddrinfo("relay.invalid", 25)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:  # no name server to answer at all: nothing to test
            pytest.skip("no name server answers here, so no name can be said not to exist")
    result = invoke(series, "send", "2024-02-22", ANNOUNCE_SMTP_HOST="relay.invalid")
    assert result.code == 2, result.both
    assert "mail.smtp.host: relay.invalid does not resolve (no such host name)" in result.err


@pytest.mark.parametrize("args", [["send", "2024-02-22"], ["send", "--dry-run"],
                                  ["send", "--due", "--now", "2024-01-01T08:00"]])
def test_no_recipients_is_an_error_not_a_quiet_success(series: Path, smtp_server: Server,
                                                       args: list[str]) -> None:
    edit(series / "seminars" / "series.yaml", ("  to: lm-seminar-list@example.org\n", ""))
    result = invoke(series, *args, "--quiet", server=smtp_server)
    assert result.code == 2, result.both
    assert "mail.to or mail.recipients_file is needed to send" in result.err
    assert smtp_server.received == []


@pytest.mark.parametrize("name", ["2024-05-02-Ada.YAML", "2024-05-02-ada.yml", "notes.txt"])
@pytest.mark.parametrize("args", [["check"], ["send", "--due", "--now", "2024-02-16T08:00"],
                                  ["send", "--dry-run", "--today", "2024-02-20"]])
def test_a_file_that_is_not_a_talk_record_is_named_not_skipped(
        series: Path, smtp_server: Server, name: str, args: list[str]) -> None:
    write(series / "seminars" / name, "date: 2024-05-02\nspeaker: Ada\n")
    write(series / "seminars" / ".editor.swp", "")  # hidden files are left alone
    result = invoke(series, *args, server=smtp_server)
    assert result.code == 2, result.both
    assert f"seminars/{name}: not a talk record: name it YYYY-MM-DD-<slug>.yaml" in result.err
    assert ".editor.swp" not in result.err
    assert smtp_server.received == []


def test_subscribers_and_quiet_send_report_nothing_when_all_went_well(
        series: Path, smtp_server: Server) -> None:
    subscribe(series, 3)
    result = invoke(series, "send", "--due", "--now", "2024-02-16T08:00", "--quiet",
                    server=smtp_server)
    assert (result.code, result.both) == (0, "")
    assert len(smtp_server.received) == 3
