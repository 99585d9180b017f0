"""The series' secret: 32 random bytes in the state folder, made on first use, read by the
owner only. It keys the unsubscribe tokens (``mailer.mail.tokens``); a new state folder
makes a new secret, and a token in older mail then only asks its reader to confirm by reply."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from mailer.errors import LedgerError
from mailer.paths import display_path

SECRET_FILE = "secret"  # noqa: S105 (the file name, not a secret)


def series_secret(state: Path, *, create: bool) -> bytes | None:
    """The secret; made (0600, written whole, never over another run's) when missing and
    ``create``; None when missing otherwise."""
    path = state / SECRET_FILE
    try:
        if not path.exists():
            if not create:
                return None
            state.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = state / f".{SECRET_FILE}.{os.getpid()}"
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(32))
                stream.flush()
                os.fsync(stream.fileno())
            try:
                with contextlib.suppress(FileExistsError):  # another run made it first
                    os.link(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{display_path(path)}: the series' secret cannot be read or made "
                          f"({exc.strerror}); nothing was sent") from None
    if len(data) < 32:
        raise LedgerError(f"{display_path(path)}: the series' secret is damaged (shorter than "
                          "32 bytes); delete the file and run again (a new one is made; "
                          "unsubscribe links in earlier mail then ask for a confirmation)")
    return data
