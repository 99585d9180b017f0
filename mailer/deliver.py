"""The send loop: skip what went out, send, record. Yields progress; prints nothing.

Order matters for safety: a recipient is recorded in the ledger only after the
server answered 250 (or refused for good with 5xx), and the record is committed
before the next message is sent. Temporary failures (4xx, lost connections) are
retried with backoff within ``retry_seconds``; what is left then is left for the
next run, which skips everyone already recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mailer.errors import EX_FAILURE, EX_OK, EX_TEMPFAIL, TemporaryFailure
from mailer.ledger import REFUSED, SENT

if TYPE_CHECKING:  # a dry run plans deliveries without loading smtplib
    from mailer.transport import Outcome


@dataclass(frozen=True)
class Delivery:
    """One message to send: the To header's addresses and the envelope recipients."""

    to: tuple[str, ...]
    recipients: tuple[str, ...]


class Transport(Protocol):
    """What the loop needs of a connection."""

    def send(self, recipients: tuple[str, ...], data: bytes) -> dict[str, Outcome]: ...

    def close(self) -> None: ...


class Record(Protocol):
    """What the loop needs of a ledger."""

    def settled(self, campaign: int) -> Mapping[str, str]: ...

    def record(self, campaign: int, recipient: str, status: str, code: int, reply: str) -> None: ...


@dataclass
class Report:
    """The outcome of a run."""

    sent: int = 0
    skipped_sent: int = 0  # got it in an earlier run
    skipped_refused: int = 0  # refused for good in an earlier run; --force tries again
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    unreached: str | None = None  # why the run stopped before trying everyone

    @property
    def exit_code(self) -> int:
        """0 all done; 75 something is left to retry; 1 only permanent refusals."""
        if self.deferred or self.unreached:
            return EX_TEMPFAIL
        return EX_FAILURE if self.refused else EX_OK


@dataclass(frozen=True)
class Progress:
    """A message was handled; ``done`` of ``total`` recipients are settled."""

    done: int
    total: int | None


@dataclass(frozen=True)
class Notice:
    """Something worth saying while the run goes on (a retry, a reconnect)."""

    text: str


Event = Progress | Notice | Report


class _Pacer:
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
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


class _Run:
    """One pass over the deliveries, with its report and retry budget."""

    def __init__(self, message: Callable[[tuple[str, ...]], bytes], transport: Transport,
                 ledger: Record, campaign: int, pace: Pace) -> None:
        self.message = message
        self.transport = transport
        self.ledger = ledger
        self.campaign = campaign
        self.pace = pace
        self.pacer = _Pacer(pace.rate_per_minute, pace.sleep, pace.clock)
        self.report = Report()
        self.later: list[tuple[Delivery, tuple[str, ...]]] = []
        self.waited = 0.0
        self.delay = 1.0

    def attempt(self, delivery: Delivery, todo: tuple[str, ...]) -> tuple[str, ...]:
        """Send once (reconnecting once if the connection dropped); return who is deferred."""
        from mailer.transport import ConnectionLost

        self.pacer.wait()
        data = self.message(delivery.to)
        try:
            outcomes = self.transport.send(todo, data)
        except ConnectionLost:
            outcomes = self.transport.send(todo, data)  # reconnect; a second loss propagates
        return tuple(r for r, outcome in outcomes.items() if not self.settle(r, outcome))

    def settle(self, recipient: str, outcome: Outcome) -> bool:
        """Record one recipient's outcome; return False when it is deferred (4xx)."""
        reply = f"{outcome.code} {outcome.text}"
        if outcome.temporary:
            self.report.deferred[recipient] = reply
            return False
        self.report.deferred.pop(recipient, None)
        if outcome.ok:
            self.ledger.record(self.campaign, recipient, SENT, outcome.code, outcome.text)
            self.report.sent += 1
        else:
            self.ledger.record(self.campaign, recipient, REFUSED, outcome.code, outcome.text)
            self.report.refused[recipient] = reply
        return True

    def pause(self) -> bool:
        """Sleep the next backoff step; False when the retry budget is spent."""
        budget = self.pace.retry_seconds
        if self.waited >= budget:
            return False
        step = min(self.delay, budget - self.waited)
        self.pace.sleep(step)
        self.waited += step
        self.delay = min(self.delay * 2, 8.0)
        return True

    def send_settled(self, delivery: Delivery, todo: tuple[str, ...]) -> Iterator[Notice]:
        """Attempt a delivery, waiting out an unreachable server within the budget."""
        told = False
        while True:
            try:
                left = self.attempt(delivery, todo)
            except TemporaryFailure as exc:
                budget = self.pace.retry_seconds
                if self.waited < budget and not told:
                    yield Notice(f"{exc}; retrying for up to {budget - self.waited:g} s")
                    told = True
                if not self.pause():
                    raise
                continue
            if left:
                self.later.append((delivery, left))
            return

    def skip_settled(self, delivery: Delivery, settled: Mapping[str, str]) -> tuple[str, ...]:
        """Return the recipients still to try; count the others as skipped."""
        todo = []
        for recipient in delivery.recipients:
            status = settled.get(recipient.lower())
            if status == SENT:
                self.report.skipped_sent += 1
            elif status == REFUSED:
                self.report.skipped_refused += 1
            else:
                todo.append(recipient)
        return tuple(todo)

    def run(self, deliveries: Iterable[Delivery], total: int | None) -> Iterator[Event]:
        """Send every delivery, then retry the deferred ones within the budget."""
        settled = self.ledger.settled(self.campaign)
        done = 0
        for delivery in deliveries:
            todo = self.skip_settled(delivery, settled)
            if todo:
                yield from self.send_settled(delivery, todo)
            done += len(delivery.recipients)
            yield Progress(done, total)
        while self.later:
            yield Notice(f"{len(self.later)} message(s) deferred by the server; retrying")
            if not self.pause():
                break
            retry, self.later = self.later, []
            for delivery, todo in retry:
                yield from self.send_settled(delivery, todo)


def deliver(deliveries: Iterable[Delivery], *, message: Callable[[tuple[str, ...]], bytes],
            transport: Transport, ledger: Record, campaign: int, total: int | None = None,
            pace: Pace | None = None) -> Iterator[Event]:
    """Send each delivery to the recipients not yet recorded; yield progress, then a Report."""
    run = _Run(message, transport, ledger, campaign, pace or Pace())
    try:
        yield from run.run(deliveries, total)
    except TemporaryFailure as exc:
        run.report.unreached = str(exc)
    finally:
        transport.close()
    yield run.report
