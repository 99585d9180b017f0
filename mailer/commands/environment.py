"""What a command runs with, resolved once at the edge: the environment's overrides of the
mail settings, and the state folder.

Nothing below the command line reads the environment for these: the resolved
:class:`Settings` is passed down. (The SMTP password is the one exception, by design: it is
read at the moment of each login and kept nowhere.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mailer.errors import InputError
from mailer.net.servers import AUTH_MODES, MAX_CONNECTIONS, SECURITY_MODES, require_text
from mailer.series.mailconfig import MailSettings

STATE_VARIABLE = "ANNOUNCE_STATE_DIR"


@dataclass(frozen=True)
class Settings:
    """The series folder, its state folder, and its mail settings as the environment makes
    them."""

    root: Path
    state: Path
    mail: MailSettings


def state_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Return the state folder: ``ANNOUNCE_STATE_DIR`` or ``<root>/.announce``."""
    env = os.environ if environ is None else environ
    configured = env.get(STATE_VARIABLE)
    return Path(configured) if configured else root / ".announce"


def resolve(root: Path, mail: MailSettings,
            environ: Mapping[str, str] | None = None) -> Settings:
    """The settings a command runs with: ``mail`` with the environment's overrides."""
    return Settings(root, state_dir(root, environ), with_environment(mail, environ))


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


def _require_texts(environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if name.startswith("ANNOUNCE_"):
            require_text(name, value)


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


