"""How often one address, and one client, may use the sign-up form: a sliding window of
attempts per key, kept in memory.

It is per process: a restart forgets it, and two processes count apart. That suits what it
is for: a burst from one client or at one address is turned away at once, while the ledger
keeps the rule that lasts (at most one confirmation mail an address a day).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Limiter:
    """At most ``most`` attempts per key in any ``seconds``; at most ``keys`` keys are
    remembered (the longest unused go first), so a flood of new keys cannot fill memory."""

    def __init__(self, most: int, seconds: float, *, keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.most = most
        self.seconds = seconds
        self.keys = keys
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Whether one more attempt for ``key`` is allowed now; an allowed one is counted."""
        now = self.clock()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and now - times[0] >= self.seconds:
                times.popleft()
            allowed = len(times) < self.most
            if allowed:
                times.append(now)
            self._seen[key] = times  # the most recently used last
            while len(self._seen) > self.keys:
                self._seen.popitem(last=False)
            return allowed

    def wait(self, key: str) -> int:
        """How many seconds until ``key`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            times = self._seen.get(key)
            if not times or len(times) < self.most:
                return 0
            return max(1, int(times[0] + self.seconds - now + 0.999))
