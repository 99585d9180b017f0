"""The run lock: one sending run of a series at a time (a second waits, then exits 75)."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailer.errors import LedgerError, TemporaryFailure
from mailer.paths import display_path

LOCK_FILE = "send.lock"
LOCK_WAIT_SECONDS = 5.0


@contextmanager
def run_lock(folder: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the series' send lock; wait up to ``wait`` seconds for another run to finish."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 (held for the whole run)
    except OSError as exc:
        raise LedgerError(f"{display_path(folder / LOCK_FILE)}: cannot open the lock file "
                          f"({exc.strerror}); nothing was sent") from None
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TemporaryFailure(
                        f"another announce send is running for this series (lock "
                        f"{display_path(folder / LOCK_FILE)} held for over {wait:g} s); "
                        "nothing was sent by this run, try again later"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        handle.close()
