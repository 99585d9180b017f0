"""Mail settings from ``series.yaml`` and the environment that overrides them.

The SMTP password is not part of the settings: the transport reads it from
``ANNOUNCE_SMTP_PASSWORD`` at the moment it logs in, so that no settings object,
preview or error message can carry it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mailer.errors import InputError

SECURITY_MODES = ("starttls", "tls", "none")
AUTH_MODES = ("auto", "plain", "login", "xoauth2", "oauthbearer")
DEFAULT_CONNECTIONS = 3
MAX_CONNECTIONS = 32
PASSWORD_VARIABLE = "ANNOUNCE_SMTP_PASSWORD"  # noqa: S105 (a variable name, not a password)
DEFAULT_RETRY_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the relay."""

    host: str = "localhost"
    port: int = 25
    security: str = "none"
    username: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    auth: str = "auto"
    password_command: str | None = None  # the command, never its output
    connections: int = DEFAULT_CONNECTIONS


@dataclass(frozen=True)
class MailSettings:
    """The ``mail:`` section of ``series.yaml``."""

    sender: str | None = None
    to: tuple[str, ...] = ()
    recipients_file: str | None = None
    reply_to: str | None = None
    unsubscribe: str | None = None
    rate_per_minute: int = 0
    retry_seconds: float = DEFAULT_RETRY_SECONDS
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


def _env_int(environ: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"environment: {name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise InputError(f"environment: {name}={value} is out of range ({low}..{high})")
    return value


def with_environment(mail: MailSettings,
                     environ: Mapping[str, str] | None = None) -> MailSettings:
    """Return ``mail`` with the ``ANNOUNCE_SMTP_*`` and ``ANNOUNCE_RETRY_SECONDS`` overrides."""
    env = os.environ if environ is None else environ
    _require_texts(env)
    smtp = mail.smtp
    host = env.get("ANNOUNCE_SMTP_HOST")
    if host:
        if any(ch.isspace() or ord(ch) < 32 for ch in host):
            raise InputError(f"environment: ANNOUNCE_SMTP_HOST={host!r} is not a host name")
        smtp = replace(smtp, host=host)
    port = _env_int(env, "ANNOUNCE_SMTP_PORT", 1, 65535)
    if port is not None:
        smtp = replace(smtp, port=port)
    security = env.get("ANNOUNCE_SMTP_SECURITY")
    if security:
        if security not in SECURITY_MODES:
            raise InputError(
                f"environment: ANNOUNCE_SMTP_SECURITY={security!r} must be one of "
                + ", ".join(SECURITY_MODES)
            )
        smtp = replace(smtp, security=security)
    username = env.get("ANNOUNCE_SMTP_USERNAME")
    if username:
        smtp = replace(smtp, username=username)
    auth = env.get("ANNOUNCE_SMTP_AUTH")
    if auth:
        if auth not in AUTH_MODES:
            raise InputError(f"environment: ANNOUNCE_SMTP_AUTH={auth!r} must be one of "
                             + ", ".join(AUTH_MODES))
        smtp = replace(smtp, auth=auth)
    command = env.get("ANNOUNCE_SMTP_PASSWORD_COMMAND")
    if command:
        smtp = replace(smtp, password_command=command)
    connections = _env_int(env, "ANNOUNCE_SMTP_CONNECTIONS", 1, MAX_CONNECTIONS)
    if connections is not None:
        smtp = replace(smtp, connections=connections)
    retry = _env_int(env, "ANNOUNCE_RETRY_SECONDS", 0, 24 * 3600)
    if retry is not None:
        mail = replace(mail, retry_seconds=float(retry))
    return replace(mail, smtp=smtp)


def smtp_password(environ: Mapping[str, str] | None = None) -> str | None:
    """Read the SMTP password from the environment, at the moment it is needed."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_VARIABLE) or None
    if password is not None:
        _require_text(PASSWORD_VARIABLE, password)
    return password


def _require_texts(environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if name.startswith("ANNOUNCE_"):
            _require_text(name, value)


def _require_text(name: str, value: str) -> None:
    """Refuse an environment value holding bytes that are not UTF-8 (shown, never the value)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"environment: {name} holds bytes that are not UTF-8 text; set it "
                         "again from a UTF-8 terminal or file") from None
