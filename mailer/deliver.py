"""The send loop: plan, skip what went out, send, record. Yields progress; prints nothing.

Order matters for safety: a recipient is recorded in the ledger only after the
server answered 250 (or refused for good with 5xx), and the record is committed
before the next message is sent. Temporary failures (4xx, lost connections) are
retried with backoff within ``retry_seconds``; what is left then is left for the
next run, which skips everyone already recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
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

    def finished(self, campaign: int) -> set[str]: ...

    def record(self, campaign: int, recipient: str, status: str, code: int, reply: str) -> None: ...


@dataclass
class Report:
    """The outcome of a run."""

    sent: int = 0
    skipped: int = 0
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


def deliver(  # noqa: PLR0915 (one loop with its two helpers; splitting hides the order)
    deliveries: Iterable[Delivery],
    *,
    message: Callable[[tuple[str, ...]], bytes],
    transport: Transport,
    ledger: Record,
    campaign: int,
    total: int | None = None,
    retry_seconds: float = 30.0,
    rate_per_minute: int = 0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Event]:
    """Send each delivery to the recipients not yet recorded; yield progress, then a Report."""
    from mailer.transport import ConnectionLost

    report = Report()
    finished = ledger.finished(campaign)
    pacer = _Pacer(rate_per_minute, sleep, clock)
    later: list[tuple[Delivery, tuple[str, ...]]] = []
    done = 0
    waited = 0.0
    delay = 1.0

    def attempt(delivery: Delivery, todo: tuple[str, ...]) -> tuple[str, ...]:
        """Send once (reconnecting once if the connection dropped); return who is deferred."""
        pacer.wait()
        data = message(delivery.to)
        try:
            outcomes = transport.send(todo, data)
        except ConnectionLost:
            outcomes = transport.send(todo, data)  # reconnect; a second loss propagates
        deferred = []
        for recipient, outcome in outcomes.items():
            if outcome.ok:
                ledger.record(campaign, recipient, SENT, outcome.code, outcome.text)
                report.sent += 1
                report.deferred.pop(recipient, None)
            elif outcome.temporary:
                deferred.append(recipient)
                report.deferred[recipient] = f"{outcome.code} {outcome.text}"
            else:
                ledger.record(campaign, recipient, REFUSED, outcome.code, outcome.text)
                report.refused[recipient] = f"{outcome.code} {outcome.text}"
                report.deferred.pop(recipient, None)
        return tuple(deferred)

    def pause() -> float | None:
        """Sleep the next backoff step; None when the retry budget is spent."""
        nonlocal waited, delay
        if waited >= retry_seconds:
            return None
        step = min(delay, retry_seconds - waited)
        sleep(step)
        waited += step
        delay = min(delay * 2, 8.0)
        return step

    def send_settled(delivery: Delivery, todo: tuple[str, ...]) -> Iterator[Notice]:
        """Attempt a delivery, waiting out an unreachable server within the budget."""
        told = False
        while True:
            try:
                left = attempt(delivery, todo)
            except TemporaryFailure as exc:
                if waited < retry_seconds and not told:
                    yield Notice(f"{exc}; retrying for up to {retry_seconds - waited:g} s")
                    told = True
                if pause() is None:
                    raise
                continue
            if left:
                later.append((delivery, left))
            return

    try:
        for delivery in deliveries:
            todo = tuple(r for r in delivery.recipients if r.lower() not in finished)
            report.skipped += len(delivery.recipients) - len(todo)
            if todo:
                yield from send_settled(delivery, todo)
            done += len(delivery.recipients)
            yield Progress(done, total)
        while later:
            yield Notice(f"{len(later)} message(s) deferred by the server; retrying")
            if pause() is None:
                break
            retry, later = later, []
            for delivery, todo in retry:
                yield from send_settled(delivery, todo)
    except TemporaryFailure as exc:
        report.unreached = str(exc)
    finally:
        transport.close()
    yield report
