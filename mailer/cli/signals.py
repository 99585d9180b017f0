"""SIGINT and SIGTERM during a send: finish what is in flight, record it, then stop.

While a send runs, a signal only asks the run to stop (contract §6): no new message starts, the
replies already due are awaited and recorded, the connections say QUIT, the lock is
released, and the command exits 130 (SIGINT) or 143 (SIGTERM). Nothing is interrupted
half way (a ``KeyboardInterrupt`` could land between taking a result and counting it, and
leave the run waiting for ever with the lock held). A second signal ends the process at
once; the ledger holds every row committed so far, as after a kill -9.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Whether a signal asked the run to stop, and which."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._event = threading.Event()

    def __call__(self) -> bool:
        """True once a signal has come."""
        return self._event.is_set()

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number (130, 143), as a shell reports it; None without one."""
        return None if self.signal is None else 128 + self.signal

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.signal is not None:
            os.write(2, b"announce: second signal: stopping at once\n")
            os._exit(128 + self.signal)
        self.signal = number
        self._event.set()
        os.write(2, b"announce: stopping: no new message starts; waiting for the replies "
                    b"already due (a second signal stops at once)\n")


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """Catch SIGINT and SIGTERM for the block (in the main thread); restore them after."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {number: signal.signal(number, stop._handle) for number in _SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
