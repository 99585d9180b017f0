"""The organiser's mailbox as announce reads it: an IMAP folder or a Maildir, one interface.

``unseen()`` lists the new messages, each by its key and its size, without loading or marking
any; ``fetch(key)`` reads one (unmarked), and never one bigger than :data:`MAX_MESSAGE_BYTES`:
the caller reports those by their size instead. ``done(key)`` marks one seen and moves it to
``announce/done`` (a Maildir's ``.announce.done`` folder, Maildir++ as Dovecot keeps it).
Nothing is ever deleted. A dry run opens the mailbox read-only.

A message another client moved or deleted meanwhile is skipped: ``fetch`` gives ``b""`` and
``done`` does nothing. Faults are one line each (``mailer.errors``): over IMAP see
:mod:`mailer.net.imapclient`; a Maildir that is missing, not a Maildir or unreadable is a setting
to fix (:class:`InputError`).
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.mailconfig import InboxSettings

DONE_MAILDIR = ".announce.done"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # bigger messages are never fetched (the caller reports them)


class Source(Protocol):
    """What the inbox reads messages from."""

    where: str

    def unseen(self) -> list[tuple[str, int]]:
        """(key, size in bytes) of each unseen message, oldest first; no bodies loaded."""
        ...

    def fetch(self, key: str) -> bytes:
        """One message's bytes, marking nothing; ``b""`` if it is gone meanwhile."""
        ...

    def done(self, key: str) -> None:
        """Flag it seen and move it to announce/done."""
        ...

    def count(self) -> int:
        """How many messages the folder holds."""
        ...


class MaildirSource:
    """A Maildir folder: ``new/`` and unseen ``cur/`` messages.

    ``limit``: :meth:`fetch` refuses a message bigger than this many bytes.
    """

    def __init__(self, path: Path, *, limit: int = MAX_MESSAGE_BYTES) -> None:
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise InputError(
                f"mail.inbox.maildir: {display_path(path)} is not a Maildir "
                "(it needs cur/ and new/)"
            )
        self.path = path
        self.where = display_path(path)
        self.limit = limit
        self.box = mailbox.Maildir(path, factory=None, create=False)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A Maildir that cannot be read or written (gone, permissions) is one line."""
        try:
            yield
        except OSError as exc:
            raise InputError(
                f"mail.inbox.maildir: {self.where} cannot be read or written "
                f"({exc.strerror or exc}); nothing more was done"
            ) from None

    def unseen(self) -> list[tuple[str, int]]:
        """(key, size of its file) of each message not flagged seen, by key (the time it
        came: oldest first). The files are listed and sized, not opened."""
        found: dict[str, int] = {}
        colon = self.box.colon
        with self._reading():
            for subdir in ("new", "cur"):
                with os.scandir(self.path / subdir) as listing:
                    for entry in listing:
                        # The key and flags as mailbox.Maildir reads them from the name.
                        key, _, info = entry.name.partition(colon)
                        if info.startswith("2,") and "S" in info[2:]:
                            continue
                        try:
                            if entry.is_dir():
                                continue
                            found[key] = entry.stat().st_size
                        except FileNotFoundError:
                            continue  # another client took it meanwhile
        return sorted(found.items())

    def fetch(self, key: str) -> bytes:
        """The message's bytes; ``b""`` if its file is gone (another client moved it). One
        bigger than ``limit`` is not read: asking for it is a mistake of the caller."""
        with self._reading():
            try:
                with self.box.get_file(key) as file:
                    file.seek(0, os.SEEK_END)
                    size = file.tell()
                    if size > self.limit:
                        raise ValueError(
                            f"{self.where}: message {key} has {size} bytes, more "
                            f"than the {self.limit} announce reads; report it "
                            "instead of fetching it"
                        )
                    file.seek(0)
                    return file.read()
            except (KeyError, FileNotFoundError):
                return b""

    def count(self) -> int:
        with self._reading():
            return len(self.box)

    def done(self, key: str) -> None:
        """Flag the message seen and move its file, as it is, to ``.announce.done/cur/``: a
        rename, never a re-serialisation (a message the email package cannot write back, such
        as one nested thousands deep, moves like any other)."""
        colon = self.box.colon
        done = self.path / DONE_MAILDIR
        with self._reading():
            for subdir in ("new", "cur"):
                with os.scandir(self.path / subdir) as listing:
                    found = [e.name for e in listing if e.name.partition(colon)[0] == key]
                for name in found:
                    for folder in ("cur", "new", "tmp"):
                        (done / folder).mkdir(parents=True, exist_ok=True)
                    (done / "maildirfolder").touch()  # Maildir++: a folder, as Dovecot marks
                    info = name.partition(colon)[2]
                    flags = "".join(sorted(set(info[2:] if info.startswith("2,") else "") |
                                           {"S"}))
                    try:
                        (self.path / subdir / name).rename(
                            done / "cur" / f"{key}{colon}2,{flags}")
                    except FileNotFoundError:
                        continue  # another client moved it meanwhile
                    return


@contextmanager
def open_source(root: Path, settings: InboxSettings, *, readonly: bool) -> Iterator[Source]:
    """Open the mailbox ``mail.inbox`` names; a message over :data:`MAX_MESSAGE_BYTES` (read
    now, so a test may set it) is never fetched."""
    if settings.maildir is not None:
        path = Path(settings.maildir)
        yield MaildirSource(path if path.is_absolute() else root / path, limit=MAX_MESSAGE_BYTES)
        return
    from mailer.net.imapclient import Imap  # noqa: PLC0415 (imaplib loads only for an IMAP inbox)

    assert settings.imap is not None  # noqa: S101 (the schema gives one of the two)
    with Imap(settings.imap, readonly=readonly, limit=MAX_MESSAGE_BYTES) as imap:
        yield imap
