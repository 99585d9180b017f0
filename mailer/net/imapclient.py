"""Reading the organiser's mailbox over IMAP (``mail.inbox.imap``), as the relay is reached.

TLS is verified like SMTP's (the system's trust store, ``SSL_CERT_FILE`` honoured); the
password comes from ``password_command`` or ``ANNOUNCE_IMAP_PASSWORD`` at the moment of the
login and is never shown; XOAUTH2 and OAUTHBEARER take a token the same way.

:meth:`Imap.unseen` asks for the UIDs and sizes only (``UID SEARCH UNSEEN``, then one
``UID FETCH uid-set (RFC822.SIZE)``); :meth:`Imap.fetch` reads one message with ``BODY.PEEK``
(a read marks nothing) and never one bigger than ``limit``. Only :meth:`Imap.done` changes the
mailbox: the message is flagged seen and moved to ``announce/done`` (copied there where the
server has no MOVE). Nothing is ever deleted. No answer of the server is read into memory when
it announces more than ``limit`` bytes (an IMAP literal, ``{2000000000}``): that is a fault of
the server like any other, below, said before a byte of it is read.

Every fault of the server or the network, at any step, is one line and no traceback: a
:class:`TemporaryFailure` (exit 75: the next run tries again) naming the server, the step,
what happened and what was done. A refused login, a missing password and an untrusted
certificate are :class:`DeliveryError` (exit 1: the organiser must act).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import ssl
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from mailer.errors import DeliveryError, InputError, TemporaryFailure
from mailer.net.login import run_secret_command
from mailer.net.servers import IMAP_PASSWORD_VARIABLE, ImapSettings, require_text

DONE = ("announce", "done")
# RFC 5530 response codes of a refusal that may pass (any other NO to LOGIN or SELECT stays).
TEMPORARY_CODES = (b"[UNAVAILABLE]", b"[INUSE]", b"[SERVERBUG]", b"[LIMIT]")
# Every fault of the connection: imaplib's error (abort and readonly are kinds of it) and
# OSError (TimeoutError, ConnectionResetError, ssl.SSLError, a refused connection, DNS).
FAULTS = (imaplib.IMAP4.error, OSError)


def _secret(settings: ImapSettings) -> str:
    if settings.password_command:
        return run_secret_command(settings.password_command, "mail.inbox.imap.password_command",
                                  "nothing was read")
    password = os.environ.get(IMAP_PASSWORD_VARIABLE) or None
    if password is None:
        raise DeliveryError(
            f"mail.inbox.imap: neither {IMAP_PASSWORD_VARIABLE} nor "
            "mail.inbox.imap.password_command is set, so announce cannot log "
            "in; nothing was read"
        )
    require_text(IMAP_PASSWORD_VARIABLE, password)
    return password


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str:
    """A server's answer or an exception's words as one short line."""
    if isinstance(value, list | tuple):
        value = b" ".join(
            v if isinstance(v, bytes) else str(v).encode() for v in value if v is not None
        )
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = re.sub(r"\[b(['\"])(.*?)\1\]", r"\2", text)  # imaplib's "BAD [b'...']"
    return " ".join(text.split())[:300]


def _answer(reply: tuple[str, list[Any]]) -> list[Any]:
    """The data of an OK; a NO (or anything else) is a fault of the step it answers."""
    status, data = reply
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status} {_text(data)}".strip())
    return data


def _uid_set(uids: list[int]) -> str:
    """Sorted UIDs as an IMAP set, runs folded: ``1:4,7,9:10``."""
    runs: list[list[int]] = []
    for uid in uids:
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in runs)


def _sizes(data: list[Any]) -> dict[int, int]:
    """UID -> RFC822.SIZE of the FETCH responses in ``data`` (unsolicited ones have no size)."""
    found = {}
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if not isinstance(head, bytes):
            continue
        uid = re.search(rb"\bUID (\d+)", head)
        size = re.search(rb"\bRFC822\.SIZE (\d+)", head)
        if uid and size:
            found[int(uid.group(1))] = int(size.group(1))
    return found


class _Plain(imaplib.IMAP4):
    """imaplib's connection, refusing an answer that announces more than ``cap`` bytes (a
    literal, ``{2000000000}``) from the greeting on, before a byte of it is read: imaplib reads
    it with one read, which sets aside all of it first."""

    def __init__(self, *args: Any, cap: int, **kwargs: Any) -> None:
        self.cap = cap
        super().__init__(*args, **kwargs)

    def read(self, size: int) -> bytes:
        if size > self.cap:
            raise imaplib.IMAP4.abort(
                f"the server announced {size} bytes, more than the {self.cap} announce reads"
            )
        return super().read(size)


class _Tls(_Plain, imaplib.IMAP4_SSL):
    """:class:`_Plain` over TLS."""


class Imap:
    """One logged-in IMAP session on the inbox folder; ``readonly`` for a dry run.

    ``limit``: :meth:`fetch` refuses a message bigger than this many bytes (the caller reports
    it, by the size :meth:`unseen` gave, and never asks for it).
    """

    def __init__(self, settings: ImapSettings, *, readonly: bool, limit: int) -> None:
        self.settings = settings
        self.readonly = readonly
        self.limit = limit
        self.where = f"{settings.username or ''}@{settings.host}:{settings.port}"
        self.conn: imaplib.IMAP4 | None = None
        self._done_folder: str | None = None
        self.offers: set[str] = set()
        self.flagged = 0  # messages flagged seen in this session
        self.moved = 0  # messages moved to announce/done in this session
        self._selected = False
        self._broken = False  # a fault happened: the connection is closed, not logged out
        self._exists = 0
        self._sizes: dict[str, int] = {}

    # -- the one place where faults become errors -------------------------------------------

    def _outcome(self) -> str:
        if not self._selected:
            return "nothing was read; the next run tries again"
        if not self.flagged:
            return "nothing was marked or moved; the next run reads the mailbox again"
        moved = f"{self.moved} message(s)" if self.moved else "no message"
        return f"{moved} had been moved to announce/done; the rest stay unread for the next run"

    @contextlib.contextmanager
    def _step(self, step: str, *, secret: str = "", left: str = "") -> Iterator[None]:
        """Turn every IMAP or socket fault of ``step`` into one line: exit 75, or exit 1 for
        an untrusted certificate. ``left`` says what this step leaves behind; the password
        (``secret``) is taken out of what the server or the library said."""
        settings = self.settings
        try:
            yield
        except ssl.SSLCertVerificationError as exc:
            self._broken = True
            raise DeliveryError(
                f"mail.inbox.imap: the certificate of {settings.host} is not "
                f"trusted ({exc.verify_message}); nothing was read"
            ) from None
        except FAULTS as exc:
            self._broken = True
            what = (
                f"no answer within {settings.timeout:g} s"
                if isinstance(exc, TimeoutError)
                else _text(exc.args[0] if len(exc.args) == 1 else exc) or type(exc).__name__
            )
            if secret:
                what = what.replace(secret, "[password]")
            raise TemporaryFailure(
                f"mail.inbox.imap: {settings.host}:{settings.port} {step} "
                f"({what}); {left}{self._outcome()}"
            ) from None

    def _conn(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise RuntimeError("Imap is used outside its with block")
        return self.conn

    # -- the session -------------------------------------------------------------------------

    def __enter__(self) -> Imap:
        secret = _secret(self.settings)  # before connecting: a missing one is for the organiser
        try:
            self._connect()
            self._log_in(secret)
            self._select()
        except BaseException:
            self._close()
            raise
        return self

    def _connect(self) -> None:
        settings = self.settings
        context = ssl.create_default_context()
        with self._step("could not be reached"):
            if settings.security == "tls":
                self.conn = _Tls(settings.host, settings.port, ssl_context=context,
                                 timeout=settings.timeout, cap=self.limit)
            else:
                self.conn = _Plain(settings.host, settings.port, timeout=settings.timeout,
                                   cap=self.limit)
        if settings.security == "starttls":
            with self._step("failed at STARTTLS"):
                self._conn().starttls(ssl_context=context)

    def _log_in(self, secret: str) -> None:
        conn = self._conn()
        settings = self.settings
        user = settings.username or ""
        with self._step(f"failed at the login as {user!r}", secret=secret):
            try:
                if settings.auth == "xoauth2":
                    conn.authenticate(
                        "XOAUTH2",
                        lambda _: (f"user={user}\x01auth=Bearer {secret}\x01\x01").encode(),
                    )
                elif settings.auth == "oauthbearer":
                    conn.authenticate(
                        "OAUTHBEARER",
                        lambda _: (
                            f"n,a={user},\x01host={settings.host}\x01port={settings.port}\x01"
                            f"auth=Bearer {secret}\x01\x01"
                        ).encode(),
                    )
                else:
                    conn.login(user, secret)
            except imaplib.IMAP4.abort:
                raise  # the connection failed, not the login
            except imaplib.IMAP4.error as exc:
                said = exc.args[0] if exc.args else b""
                if any(
                    code in (said if isinstance(said, bytes) else str(said).encode())
                    for code in TEMPORARY_CODES
                ):
                    raise
                raise DeliveryError(
                    f"mail.inbox.imap: the login as {user!r} at {settings.host} "
                    "was refused (check the username and the password or "
                    "token); nothing was read"
                ) from None
            # What it offers once logged in (MOVE); a NO here only means no MOVE.
            status, data = conn.capability()
        first = data[0] if status == "OK" and data else b""
        self.offers = set((first if isinstance(first, bytes) else b"").decode().upper().split())

    def _select(self) -> None:
        conn = self._conn()
        folder = self.settings.folder
        with self._step(f"failed at SELECT {_quoted(folder)}"):
            status, data = conn.select(_quoted(folder), readonly=self.readonly)
            said = _text(data).encode()
            if status != "OK" and any(code in said for code in TEMPORARY_CODES):
                raise imaplib.IMAP4.error(f"{status} {said.decode()}")
        if status != "OK":
            raise InputError(
                f"mail.inbox.imap.folder: {folder!r} cannot be opened on "
                f"{self.where} ({_text(data)})"
            )
        last = data[-1] if data else None
        self._exists = int(last) if isinstance(last, bytes) and last.isdigit() else 0
        self._selected = True

    def _close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(*FAULTS):
                conn.shutdown()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        conn = self.conn
        if conn is None or kind is not None or self._broken:
            self._close()  # no LOGOUT on a connection that failed: it could stall again
            return
        try:
            with self._step("failed at LOGOUT", left="everything before it was done; "):
                status, data = conn.logout()
                if status not in ("BYE", "OK"):  # BYE: what a logout is answered with
                    raise imaplib.IMAP4.error(f"{status} {_text(data)}")
        finally:
            self._close()

    # -- what the inbox asks ----------------------------------------------------------------

    def unseen(self) -> list[tuple[str, int]]:
        """(UID, size in bytes) of every unseen message of the folder, oldest first; nothing
        is loaded or marked."""
        conn = self._conn()
        with self._step("failed at UID SEARCH UNSEEN"):
            data = _answer(conn.uid("SEARCH", "UNSEEN"))
        words = b" ".join(d for d in data if isinstance(d, bytes)).split()
        uids = sorted({int(w) for w in words if w.isdigit()})
        self._sizes = {}
        if not uids:
            return []
        with self._step(f"failed at UID FETCH of the sizes of {len(uids)} message(s)"):
            sizes = _sizes(_answer(conn.uid("FETCH", _uid_set(uids), "(RFC822.SIZE)")))
        # A UID that is missing was expunged by another client meanwhile: it is not there.
        self._sizes = {str(uid): sizes[uid] for uid in uids if uid in sizes}
        return list(self._sizes.items())

    def fetch(self, key: str) -> bytes:
        """One message's bytes, unmarked (``BODY.PEEK[]``); ``b""`` if it is gone (another
        client moved or deleted it since :meth:`unseen`): skip it. A message bigger than
        ``limit`` is never fetched: asking for one is a mistake of the caller (ValueError)."""
        if not key.isdigit():
            raise ValueError(f"not an IMAP UID: {key!r}")
        conn = self._conn()
        size = self._sizes.get(key)
        if size is None:  # not one unseen() listed: ask for its size first
            with self._step(f"failed at UID FETCH {key} (RFC822.SIZE)"):
                size = _sizes(_answer(conn.uid("FETCH", key, "(RFC822.SIZE)"))).get(int(key))
            if size is None:
                return b""
        if size > self.limit:
            raise ValueError(
                f"{self.where}: message {key} has {size} bytes, more than the "
                f"{self.limit} announce reads; report it instead of fetching it"
            )
        with self._step(f"failed at UID FETCH {key} (BODY.PEEK[])"):
            parts = _answer(conn.uid("FETCH", key, "(BODY.PEEK[])"))
        return next(
            (
                p[1]
                for p in parts
                if isinstance(p, tuple) and b"BODY[]" in p[0] and isinstance(p[1], bytes)
            ),
            b"",
        )

    def count(self) -> int:
        """How many messages the folder holds (its EXISTS, brought up to date by a NOOP)."""
        conn = self._conn()
        with self._step("failed at NOOP"):
            _answer(conn.noop())
        _, exists = conn.response("EXISTS")
        last = exists[-1] if exists else None
        if isinstance(last, bytes) and last.isdigit():
            self._exists = int(last)
        return self._exists

    def _folder(self) -> str:
        conn = self._conn()
        if self._done_folder is None:
            with self._step("failed at LIST"):
                status, listed = conn.list('""', '""')
            first = listed[0] if status == "OK" and listed else b""
            found = re.search(rb'\(.*?\) "(.)"', first if isinstance(first, bytes) else b"")
            delimiter = found.group(1).decode() if found else "/"
            name = delimiter.join(DONE)
            with self._step(f"failed at CREATE {_quoted(name)}"):
                conn.create(_quoted(DONE[0]))  # a NO: it is there already
                conn.create(_quoted(name))
            self._done_folder = name
        return self._done_folder

    def done(self, uid: str) -> None:
        """Flag the message seen and move it to ``announce/done`` (a gone one: nothing)."""
        conn = self._conn()
        folder = self._folder()
        with self._step(f"failed at UID STORE {uid} +FLAGS (\\Seen)"):
            _answer(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"))
        self.flagged += 1
        verb = "MOVE" if "MOVE" in self.offers else "COPY"
        with self._step(
            f"failed at UID {verb} {uid} {_quoted(folder)}",
            left=f"message {uid} is flagged seen but still in {self.settings.folder}; ",
        ):
            _answer(conn.uid(verb, uid, _quoted(folder)))
        self.moved += 1
