"""Reading the organiser's mailbox over IMAP (``mail.inbox.imap``), as the relay is reached.

TLS is verified like SMTP's (the system's trust store, ``SSL_CERT_FILE`` honoured); the
password comes from ``password_command`` or ``ANNOUNCE_IMAP_PASSWORD`` at the moment of the
login and is never shown; XOAUTH2 and OAUTHBEARER take a token the same way. Messages are
read with ``BODY.PEEK`` (a read marks nothing); only :meth:`Imap.done` changes the mailbox:
the message is flagged seen and moved to ``announce/done`` (copied there where the server
has no MOVE). Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import ssl
from types import TracebackType

from mailer.errors import DeliveryError, InputError, TemporaryFailure
from mailer.smtp.login import run_secret_command
from mailer.smtp.settings import IMAP_PASSWORD_VARIABLE, ImapSettings, require_text

DONE = ("announce", "done")


def _secret(settings: ImapSettings) -> str:
    if settings.password_command:
        return run_secret_command(settings.password_command, "mail.inbox.imap.password_command")
    password = os.environ.get(IMAP_PASSWORD_VARIABLE) or None
    if password is None:
        raise InputError(f"mail.inbox.imap: neither {IMAP_PASSWORD_VARIABLE} nor "
                         "password_command is set, so announce cannot log in")
    require_text(IMAP_PASSWORD_VARIABLE, password)
    return password


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Imap:
    """One logged-in IMAP session on the inbox folder; ``readonly`` for a dry run."""

    def __init__(self, settings: ImapSettings, *, readonly: bool) -> None:
        self.settings = settings
        self.readonly = readonly
        self.where = f"{settings.username or ''}@{settings.host}:{settings.port}"
        self.conn: imaplib.IMAP4 | None = None
        self._done_folder: str | None = None
        self.offers: set[str] = set()

    def __enter__(self) -> Imap:
        settings = self.settings
        context = ssl.create_default_context()
        try:
            if settings.security == "tls":
                self.conn = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context,
                                              timeout=settings.timeout)
            else:
                self.conn = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
                if settings.security == "starttls":
                    self.conn.starttls(ssl_context=context)
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"mail.inbox.imap: the certificate of {settings.host} is not "
                                f"trusted ({exc.verify_message}); nothing was read") from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise TemporaryFailure(f"mail.inbox.imap: cannot reach {settings.host}:"
                                   f"{settings.port} ({exc}); nothing was read") from None
        self._log_in()
        status, _ = (self.conn.select(_quoted(settings.folder), readonly=self.readonly))
        if status != "OK":
            raise InputError(f"mail.inbox.imap.folder: {settings.folder!r} cannot be opened "
                             f"on {self.where}")
        return self

    def _log_in(self) -> None:
        assert self.conn is not None  # noqa: S101
        settings = self.settings
        user = settings.username or ""
        secret = _secret(settings)
        try:
            if settings.auth == "xoauth2":
                self.conn.authenticate("XOAUTH2", lambda _: (
                    f"user={user}\x01auth=Bearer {secret}\x01\x01").encode())
            elif settings.auth == "oauthbearer":
                self.conn.authenticate("OAUTHBEARER", lambda _: (
                    f"n,a={user},\x01host={settings.host}\x01port={settings.port}\x01"
                    f"auth=Bearer {secret}\x01\x01").encode())
            else:
                self.conn.login(user, secret)
        except imaplib.IMAP4.error:
            raise DeliveryError(f"mail.inbox.imap: the login as {user!r} at {settings.host} was "
                                "refused (check the username and the password or token); "
                                "nothing was read") from None
        status, data = self.conn.capability()  # what it offers once logged in (MOVE)
        first = data[0] if status == "OK" and data else b""
        self.offers = set((first if isinstance(first, bytes) else b"").decode().upper().split())

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self.conn.logout()

    def unseen(self) -> list[tuple[str, bytes]]:
        """Every unseen message of the folder, by UID, without marking it."""
        assert self.conn is not None  # noqa: S101
        status, data = self.conn.uid("SEARCH", "UNSEEN")
        if status != "OK":
            return []
        found = []
        for uid in bytes(data[0] or b"").decode().split():
            status, parts = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status == "OK" and isinstance(raw, bytes):
                found.append((uid, raw))
        return found

    def count(self) -> int:
        """How many messages the folder holds."""
        assert self.conn is not None  # noqa: S101
        status, data = self.conn.uid("SEARCH", "ALL")
        return len((data[0] or b"").split()) if status == "OK" else 0

    def _folder(self) -> str:
        assert self.conn is not None  # noqa: S101
        if self._done_folder is None:
            status, listed = self.conn.list('""', '""')
            first = listed[0] if status == "OK" and listed else b""
            found = re.search(rb'\(.*?\) "(.)"', first if isinstance(first, bytes) else b"")
            delimiter = found.group(1).decode() if found else "/"
            name = delimiter.join(DONE)
            self.conn.create(_quoted(DONE[0]))
            self.conn.create(_quoted(name))
            self._done_folder = name
        return self._done_folder

    def done(self, uid: str) -> None:
        """Flag the message seen and move it to ``announce/done``."""
        assert self.conn is not None  # noqa: S101
        folder = _quoted(self._folder())
        self.conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        if "MOVE" in self.offers:
            self.conn.uid("MOVE", uid, folder)
        else:
            self.conn.uid("COPY", uid, folder)
