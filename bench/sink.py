"""A local SMTP sink for the benchmarks: accepts everything, counts messages, keeps nothing.

Run as ``python bench/sink.py PORT``; prints "ready" when it listens on 127.0.0.1:PORT, and
its count so far on SIGUSR1 (the benchmark checks every run delivered every message).
It offers PIPELINING, as every real relay does (aiosmtpd reads pipelined commands but does
not say so by itself).
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Counter:
    """Accept every message; count them."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.count += 1
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: print(counter.count, flush=True))
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
