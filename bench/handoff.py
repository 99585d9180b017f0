"""The hand-off: what a message costs announce between the server's answer and its next body.

    python bench/handoff.py [--messages 20000] [--rounds 5]

A connection's thread hands each answer to the run's one ledger writer, which commits it and
lets that connection send its next body (the guarantee: at a kill, at most one message per
connection taken and not recorded). This runs the real send loop (mailer.delivery.loop) and
the real ledger over a connection that answers 250 at once, so all that is timed is the
hand-off and the record; the floor is the same two threads passing a message and its answer
back and forth through queues, nothing else. Goal: well under a millisecond a message.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import tempfile
import threading
import time
from pathlib import Path

from mailer.addresses import Mailbox
from mailer.delivery.ledger import Ledger
from mailer.delivery.loop import deliver
from mailer.mail.outgoing import Delivery
from mailer.net.smtpreplies import Outcome
from mailer.series.kinds import Kind

ACCEPTED = Outcome(250, "2.0.0 queued")


class Instant:
    """A connection whose server takes every message at once."""

    def ready(self) -> None:
        return None

    def send(self, recipients: tuple[str, ...], data: bytes,
             ahead: tuple[str, ...] | None = None) -> dict[str, Outcome]:
        return dict.fromkeys(recipients, ACCEPTED)

    def close(self) -> None:
        return None


def announce_loop(count: int) -> float:
    """The real loop and ledger over an instant connection; seconds for ``count`` messages."""
    deliveries = [Delivery(n, (Mailbox(f"s{n}@example.org"),), (f"s{n}@example.org",))
                  for n in range(1, count + 1)]
    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder)) as ledger:
        campaign = ledger.campaign("2024-02-22-mathis", Kind.ANNOUNCEMENT, force=False)
        start = time.perf_counter()
        for _ in deliver(deliveries, message=lambda d: b"x\r\n", transports=Instant,
                         ledger=ledger, campaign=campaign):
            pass
        return time.perf_counter() - start


def floor_loop(count: int) -> float:
    """Two threads passing each message and its answer through queues; seconds."""
    jobs: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    answers: queue.SimpleQueue[int] = queue.SimpleQueue()

    def connection() -> None:
        while (job := jobs.get()) is not None:
            answers.put(job)

    thread = threading.Thread(target=connection)
    thread.start()
    start = time.perf_counter()
    for number in range(count):
        jobs.put(number)
        answers.get()
    jobs.put(None)
    thread.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ours, floors = [], []
    for round_ in range(args.rounds):  # alternate who goes first
        pair = [announce_loop, floor_loop] if round_ % 2 == 0 else [floor_loop, announce_loop]
        for side in pair:
            (ours if side is announce_loop else floors).append(side(args.messages))
    each = statistics.median(ours) / args.messages
    floor = statistics.median(floors) / args.messages
    print(f"hand-off and record, {args.messages:,} messages, median of {args.rounds} rounds")
    print(f"announce (loop, ledger commit): {each * 1e6:7.1f} us a message "
          f"({'ok' if each < 1e-3 else 'OVER'}: goal well under 1,000 us)")
    print(f"two threads and two queues:     {floor * 1e6:7.1f} us a message; "
          f"ratio {each / floor:.1f}")


if __name__ == "__main__":
    main()
