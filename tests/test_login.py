"""Logins with a token command: XOAUTH2 and OAUTHBEARER against a server that offers only
those, a fresh token at every login, and the token never in the output or the state folder."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from runners import invoke
from seriesfiles import subscribe, write
from smtpserver import Faults, Server, Sink, start_server


@dataclass
class TokenSink(Sink):
    """A relay that takes only bearer tokens (as Microsoft 365 does), and only ``tok-`` ones."""

    tokens: list[str] = field(default_factory=list)

    def _check(self, user: str, token: str) -> bool:
        self.tokens.append(token)
        return user == "seminar@example.org" and token.startswith("tok-")

    async def _finish(self, server: Any, ok: bool, error_reply: bytes) -> AuthResult:
        if ok:
            return AuthResult(success=True, handled=False)
        await server.challenge_auth(b'{"status":"401","schemes":"bearer"}')
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        blob = base64.b64decode(args[1]).decode()
        found = re.fullmatch(r"user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01", blob)
        return await self._finish(server, bool(found) and self._check(*found.groups()), b"")

    async def auth_OAUTHBEARER(self, server: Any, args: list[str]) -> AuthResult:
        blob = base64.b64decode(args[1]).decode()
        found = re.fullmatch(r"n,a=([^,]*),\x01host=[^\x01]+\x01port=\d+\x01auth=Bearer "
                             r"([^\x01]*)\x01\x01", blob)
        return await self._finish(server, bool(found) and self._check(*found.groups()), b"\x01")


@pytest.fixture
def token_server() -> Iterator[Server]:
    server = start_server(TokenSink(), auth_exclude_mechanism=["LOGIN", "PLAIN"],
                          auth_require_tls=False)
    yield server
    server.controller.stop()


def token_helper(tmp_path: Path, prefix: str = "tok") -> str:
    """A command that prints a new token each time it runs (as oama or mutt_oauth2.py do)."""
    script = write(tmp_path / "token-helper.sh",
                   f'n=$(cat "{tmp_path}/count" 2>/dev/null || echo 0); n=$((n + 1))\n'
                   f'echo "$n" > "{tmp_path}/count"\necho "{prefix}-$n-secret-XyZ"\n')
    return f"sh {script}"


def login_env(command: str, auth: str = "xoauth2") -> dict[str, str]:
    return {"ANNOUNCE_SMTP_USERNAME": "seminar@example.org", "ANNOUNCE_SMTP_AUTH": auth,
            "ANNOUNCE_SMTP_PASSWORD_COMMAND": command}


def nowhere(secret_part: str, *outputs: str, folder: Path) -> None:
    for output in outputs:
        assert secret_part not in output
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in ("count", "token-helper.sh"):
            assert secret_part.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("auth", ["xoauth2", "oauthbearer"])
def test_a_fresh_token_at_every_login_and_each_subscriber_once(
        series: Path, tmp_path: Path, token_server: Server, auth: str) -> None:
    people = subscribe(series, 100)
    token_server.sink.faults = Faults(drop_every=40)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=token_server,
                    ANNOUNCE_SMTP_CONNECTIONS="1", **login_env(token_helper(tmp_path), auth))
    assert result.code == 0, result.both
    assert sorted(token_server.addresses()) == people
    sink = token_server.sink
    assert isinstance(sink, TokenSink)
    assert len(sink.tokens) == 3, "a login on each of the three connections 100/40 needs"
    assert len(set(sink.tokens)) == len(sink.tokens), "a fresh token each time"
    nowhere("secret-XyZ", result.out, result.err, folder=series)


def test_a_wrong_token_is_a_refused_login_and_nothing_is_sent(
        series: Path, tmp_path: Path, token_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=token_server,
                    **login_env(token_helper(tmp_path, prefix="expired")))
    assert result.code == 1, result.both
    assert "login refused for user seminar@example.org (535, AUTH XOAUTH2)" in result.err
    assert token_server.received == []
    nowhere("secret-XyZ", result.out, result.err, folder=series)


def test_a_failing_token_command_is_named_not_its_output(
        series: Path, token_server: Server) -> None:
    command = "printf 'leak%s\\n' ed-output-123; printf 'mo%s' re-on-stderr >&2; exit 3"
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=token_server,
                    **login_env(command))
    assert result.code == 1, result.both
    assert f"mail.smtp.password_command ({command}) failed with exit status 3" in result.err
    # What the command printed is nowhere, even without a line break after it.
    assert "leaked-output-123" not in result.both and "more-on-stderr" not in result.both
    assert token_server.received == []


def test_auto_against_a_bearer_only_server_says_to_set_xoauth2(
        series: Path, token_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=token_server,
                    ANNOUNCE_SMTP_USERNAME="seminar@example.org",
                    ANNOUNCE_SMTP_PASSWORD="a-password")
    assert result.code == 2, result.both
    assert "offers only bearer-token logins (OAUTHBEARER XOAUTH2): set mail.smtp.auth to "\
           "xoauth2" in result.err
    assert token_server.received == []


def test_check_smtp_logs_in_with_a_token(series: Path, tmp_path: Path,
                                         token_server: Server) -> None:
    result = invoke(series, "check", "--smtp", server=token_server,
                    **login_env(token_helper(tmp_path)))
    assert result.code == 0, result.both
    assert "login: logged in as seminar@example.org (AUTH XOAUTH2)" in result.out
    assert "AUTH OAUTHBEARER XOAUTH2" in result.out
    nowhere("secret-XyZ", result.out, result.err, folder=series)
