"""How to reach the relay: the SMTP settings, their choices and defaults, and the password.

The password is not part of the settings: it is read from ``ANNOUNCE_SMTP_PASSWORD`` (or a
``password_command``) at the moment of each login, so that no settings object, preview or
error message can carry it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mailer.errors import InputError

SECURITY_MODES = ("starttls", "tls", "none")
AUTH_MODES = ("auto", "plain", "login", "xoauth2", "oauthbearer")
DEFAULT_CONNECTIONS = 3
MAX_CONNECTIONS = 32
PASSWORD_VARIABLE = "ANNOUNCE_SMTP_PASSWORD"  # noqa: S105 (a variable name, not a password)
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



IMAP_PASSWORD_VARIABLE = "ANNOUNCE_IMAP_PASSWORD"  # noqa: S105 (a variable name)


@dataclass(frozen=True)
class ImapSettings:
    """Where and how to read the organiser's mailbox (``mail.inbox.imap``)."""

    host: str
    port: int = 993
    security: str = "tls"  # tls (993) | starttls (143) | none (loopback tests only)
    username: str | None = None
    auth: str = "auto"  # auto (LOGIN) | xoauth2 | oauthbearer
    password_command: str | None = None
    folder: str = "INBOX"
    timeout: float = DEFAULT_TIMEOUT_SECONDS


def smtp_password(environ: Mapping[str, str] | None = None) -> str | None:
    """Read the SMTP password from the environment, at the moment it is needed."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_VARIABLE) or None
    if password is not None:
        require_text(PASSWORD_VARIABLE, password)
    return password


def require_text(name: str, value: str) -> None:
    """Refuse an environment value holding bytes that are not UTF-8 (shown, never the value)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"environment: {name} holds bytes that are not UTF-8 text; set it "
                         "again from a UTF-8 terminal or file") from None
