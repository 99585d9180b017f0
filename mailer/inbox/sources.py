"""The organiser's mailbox as announce reads it: an IMAP folder or a Maildir, one interface.

``unseen()`` reads new messages without marking them; ``done(id)`` marks one seen and moves
it to ``announce/done`` (a Maildir's ``.announce.done`` folder, Maildir++ as Dovecot keeps
it). Nothing is ever deleted. A dry run opens the mailbox read-only.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from mailer.errors import InputError
from mailer.paths import display_path
from mailer.series.settings import InboxSettings

DONE_MAILDIR = ".announce.done"


class Source(Protocol):
    """What the inbox reads messages from."""

    where: str

    def unseen(self) -> list[tuple[str, bytes]]: ...

    def done(self, key: str) -> None: ...

    def count(self) -> int: ...


class MaildirSource:
    """A Maildir folder: ``new/`` and unseen ``cur/`` messages."""

    def __init__(self, path: Path) -> None:
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise InputError(f"mail.inbox.maildir: {display_path(path)} is not a Maildir "
                             "(it needs cur/ and new/)")
        self.where = display_path(path)
        self.box = mailbox.Maildir(path, factory=None, create=False)

    def unseen(self) -> list[tuple[str, bytes]]:
        found = []
        for key in sorted(self.box.keys()):
            message = self.box.get_message(key)
            if "S" not in message.get_flags():
                found.append((key, self.box.get_bytes(key)))
        return found

    def count(self) -> int:
        return len(self.box)

    def done(self, key: str) -> None:
        name = DONE_MAILDIR.lstrip(".")  # mailbox names Maildir++ folders without the dot
        folder = self.box.get_folder(name) if name in self.box.list_folders() else \
            self.box.add_folder(name)
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        folder.add(message)
        self.box.discard(key)  # moved: it is in .announce.done now


@contextmanager
def open_source(root: Path, settings: InboxSettings, *, readonly: bool) -> Iterator[Source]:
    """Open the mailbox ``mail.inbox`` names."""
    if settings.maildir is not None:
        path = Path(settings.maildir)
        yield MaildirSource(path if path.is_absolute() else root / path)
        return
    from mailer.smtp.imap import Imap

    assert settings.imap is not None  # noqa: S101 (the schema gives one of the two)
    with Imap(settings.imap, readonly=readonly) as imap:
        yield imap
