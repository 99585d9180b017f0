"""Reaching the relay: ``check --smtp``, TLS modes that do not fit the port, unknown hosts,
and the settings that would otherwise send nothing in silence."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from runners import cli_env, invoke
from seriesfiles import edit, subscribe, write
from smtpserver import Server, authenticator, tls_server


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
        result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                        ANNOUNCE_SMTP_SECURITY=mode)
        assert result.code == 2, result.both
        assert "speaks TLS from the first byte and sends no plain greeting: set "\
               "mail.smtp.security to tls" in result.err
        assert server.received == []
    finally:
        server.controller.stop()


class NameServer:
    """A name server on a loopback address of its own that answers every query with
    ``rcode`` (3: no such name, 2: server failure), so no lookup leaves the machine."""

    def __init__(self, rcode: int, address: str = "127.0.0.77") -> None:
        self.address = address
        self.rcode = rcode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
        self.sock.settimeout(0.1)  # so that close() is seen and the address is free again
        self.open = True
        self.asked = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.open:
            try:
                query, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            self.asked += 1
            flags = 0x8180 | self.rcode  # a response, recursion desired and available
            question = query[12:]
            self.sock.sendto(query[:2] + flags.to_bytes(2, "big") + query[4:6]
                             + bytes(6) + question, peer)

    def close(self) -> None:
        self.open = False
        self.thread.join()
        self.sock.close()


def resolving_with(server: NameServer, series: Path,
                   tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``announce send`` where /etc/resolv.conf names ``server`` (a mount namespace of
    its own: the machine's resolver is never asked)."""
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {server.address}\noptions attempts:1 timeout:2\n")
    script = (f"mount --bind {conf} /etc/resolv.conf && exec {sys.executable} -m mailer "
              "send 2024-02-22 --today 2024-02-20")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    env.update(cli_env(series), ANNOUNCE_SMTP_HOST="relay.invalid")
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, env=env, cwd=series, timeout=60,
                          check=False)


@pytest.fixture
def name_server(request: pytest.FixtureRequest) -> Iterator[NameServer]:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and can make a mount namespace")
        pytest.skip("a private /etc/resolv.conf needs root (unshare --mount)")
    server = NameServer(request.param)
    yield server
    server.close()


@pytest.mark.parametrize(("name_server", "code", "says"), [
    (3, 2, "mail.smtp.host: relay.invalid does not resolve (no such host name)"),  # NXDOMAIN
    (2, 75, "cannot reach the SMTP server relay.invalid:25"),  # SERVFAIL: it may answer later
], indirect=["name_server"], ids=["no-such-name-is-a-configuration-error",
                                  "a-failing-name-server-is-temporary"])
def test_what_the_name_server_says_decides_the_exit_code(
        series: Path, tmp_path: Path, name_server: NameServer, code: int, says: str) -> None:
    result = resolving_with(name_server, series, tmp_path)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert name_server.asked >= 1


@pytest.mark.parametrize("args", [["send", "2024-02-22", "--today", "2024-02-20"],
                                  ["send", "--dry-run", "--today", "2024-02-20"],
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
