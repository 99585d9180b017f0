"""Logging in to the relay: the secret from a command or the environment, and SASL mechanisms.

The secret (a password, or an OAuth2 access token) is fetched at each login, so a send that
reconnects gets a fresh token, and it is dropped right after: it is never printed, logged,
stored, or put on a command line. ``mail.smtp.password_command`` is run by ``/bin/sh``
(like msmtp's ``passwordeval``); the first line it prints is the secret.

Mechanisms: PLAIN and LOGIN (a password), XOAUTH2 (Google, Microsoft 365) and OAUTHBEARER
(RFC 7628) with a token. ``auto`` picks PLAIN, then LOGIN; a server that offers only
bearer-token logins gets a hint to set ``auth: xoauth2``.
"""

from __future__ import annotations

import base64
import smtplib
import subprocess
from collections.abc import Callable

from mailer.addresses import ascii_domain
from mailer.errors import DeliveryError, InputError, TemporaryFailure
from mailer.net.servers import SmtpSettings, smtp_password

COMMAND_TIMEOUT_SECONDS = 60
_BEARER = ("XOAUTH2", "OAUTHBEARER")


def _run_command(command: str) -> str:
    """Run the SMTP password command (see :func:`run_secret_command`)."""
    return run_secret_command(command, "mail.smtp.password_command")


def run_secret_command(command: str, key: str, undone: str = "nothing was sent") -> str:
    """Run a password command; return the first line it prints, or say why not (never it);
    ``undone`` says what did not happen for want of it."""
    named = f"{key} ({command})"
    try:
        done = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{named} did not finish within {COMMAND_TIMEOUT_SECONDS} s; "
                            f"{undone}") from None
    except OSError as exc:
        raise DeliveryError(f"{named} could not be run ({exc.strerror}); {undone}")\
            from None
    if done.returncode != 0:
        raise DeliveryError(f"{named} failed with exit status {done.returncode}; {undone} "
                            "(run it yourself to see why)")
    first = done.stdout.decode("utf-8", "replace").split("\n", 1)[0].rstrip("\r")
    if not first:
        raise DeliveryError(f"{named} printed no password or token; {undone}")
    return first


def fetch_secret(settings: SmtpSettings) -> str:
    """The password or token, fresh: from the command, else from ANNOUNCE_SMTP_PASSWORD."""
    if settings.password_command:
        return _run_command(settings.password_command)
    password = smtp_password()
    if password is None:
        raise InputError(f"mail.smtp.username is {settings.username}, but neither "
                         "ANNOUNCE_SMTP_PASSWORD nor mail.smtp.password_command is set")
    return password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _exchange(conn: smtplib.SMTP, mechanism: str, initial: bytes | None,
              respond: Callable[[bytes], bytes]) -> tuple[int, bytes]:
    """Run one SASL exchange: AUTH with an initial response, then answer each 334."""
    code, reply = conn.docmd("AUTH", mechanism if initial is None
                             else f"{mechanism} {_b64(initial) or '='}")
    for _ in range(5):  # no mechanism here needs more than two rounds
        if code != 334:
            break
        code, reply = conn.docmd(_b64(respond(base64.b64decode(reply or b""))))
    return code, reply


def _mechanism(conn: smtplib.SMTP, settings: SmtpSettings, where: str) -> str:
    offered = conn.esmtp_features.get("auth", "").upper().split()
    if settings.auth != "auto":
        wanted = settings.auth.upper()
        if wanted not in offered:
            raise InputError(f"{where} does not offer AUTH {wanted} (mail.smtp.auth); it "
                             f"offers: {' '.join(offered) or 'no login'}")
        return wanted
    for name in ("PLAIN", "LOGIN"):
        if name in offered:
            return name
    if any(name in offered for name in _BEARER):
        raise InputError(f"{where} offers only bearer-token logins ({' '.join(offered)}): set "
                         "mail.smtp.auth to xoauth2 (or oauthbearer) and password_command to "
                         "a command that prints an access token")
    raise DeliveryError(f"{where} offers AUTH {' '.join(offered)}; announce logs in with "
                        "PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER")


def log_in(conn: smtplib.SMTP, settings: SmtpSettings, where: str) -> str:
    """Log in as the settings say; return the mechanism used. A refusal is permanent."""
    user = settings.username or ""
    if not conn.has_extn("auth"):
        raise DeliveryError(f"{where} offers no login (AUTH), but mail.smtp.username is set")
    mechanism = _mechanism(conn, settings, where)
    secret = fetch_secret(settings).encode("utf-8")
    try:
        code, _ = _run(conn, mechanism, user.encode("utf-8"), secret, settings)
    finally:
        del secret
    if code == 235:
        return mechanism
    text = f"{where}: login refused for user {user} ({code}, AUTH {mechanism})"
    if 400 <= code < 500:
        raise TemporaryFailure(f"{text}; the server asks to try later")
    raise DeliveryError(f"{text}; nothing was sent. Check the user, the password or token, "
                        "and mail.smtp.auth")


def _run(conn: smtplib.SMTP, mechanism: str, user: bytes, secret: bytes,
         settings: SmtpSettings) -> tuple[int, bytes]:
    if mechanism == "PLAIN":
        initial = b"\0" + user + b"\0" + secret
        return _exchange(conn, "PLAIN", initial, lambda challenge: initial)
    if mechanism == "LOGIN":
        answers = iter((user, secret))
        return _exchange(conn, "LOGIN", None, lambda challenge: next(answers, b""))
    if mechanism == "XOAUTH2":
        initial = b"user=" + user + b"\x01auth=Bearer " + secret + b"\x01\x01"
        return _exchange(conn, "XOAUTH2", initial, lambda challenge: b"")  # error: empty reply
    host = ascii_domain(settings.host).encode("ascii")
    initial = (b"n,a=" + user.replace(b"=", b"=3D").replace(b",", b"=2C") + b",\x01host="
               + host + b"\x01port=" + str(settings.port).encode()
               + b"\x01auth=Bearer " + secret + b"\x01\x01")
    return _exchange(conn, "OAUTHBEARER", initial, lambda challenge: b"\x01")  # RFC 7628 3.2.3
