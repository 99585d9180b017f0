"""How fast and how long a send may go: the rate ceiling for the run as a whole (a relay's
quota), the retry budget, and the clock and sleep the send loop uses (seams for tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class Pacer:
    """Keep to ``rate_per_minute`` by sleeping until the next slot (no busy-waiting)."""

    def __init__(self, rate_per_minute: int, sleep: Callable[[float], None],
                 clock: Callable[[], float]) -> None:
        self.interval = 60.0 / rate_per_minute if rate_per_minute > 0 else 0.0
        self.sleep = sleep
        self.clock = clock
        self.next_slot = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self.next_slot:
            self.sleep(self.next_slot - now)
            now = self.next_slot
        self.next_slot = now + self.interval


@dataclass(frozen=True)
class Pace:
    """How fast and how long a run may go: the rate ceiling, the retry budget, the clock."""

    retry_seconds: float = 30.0
    rate_per_minute: int = 0
    quit_seconds: float = 30.0  # how long closing the connections may take after a stop
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
