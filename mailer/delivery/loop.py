"""The send loop: skip what went out, send over a pool of connections, record. Prints nothing.

Order matters for safety: a recipient is recorded in the ledger (by this thread only) right
after the server answered 250 (or refused for good with 5xx), and a connection gets its next
message only after that record is committed. Temporary failures (4xx, lost connections) are
retried with backoff within ``retry_seconds``; what is left then is left for the next run,
which skips everyone already recorded. ``rate_per_minute`` holds for the run as a whole.

A refusal is recorded as one only when it is about the recipient: a reply about the sender
or the session, or the same refusal message after message (:class:`mailer.net.smtppool.Refusals`),
stops the run, and everyone not reached stays pending for the next run (exit 75 for a limit
that clears by itself, 1 for what needs the organiser).

Who unsubscribes while a run goes (``announce serve``, the inbox) gets nothing from it: just
before each message is built, its recipients are looked up among the suppressed (``left_out``,
a primary-key lookup in the ledger, a few microseconds), and one found there is recorded as
``suppressed``: settled, so the campaign is still whole, and never sent.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from mailer.delivery.ledger import REFUSED, SENT, SUPPRESSED, LedgerWriteError
from mailer.delivery.pacing import Pace, Pacer
from mailer.errors import EX_FAILURE, EX_OK, EX_TEMPFAIL, TemporaryFailure
from mailer.mail.outgoing import Delivery
from mailer.net.smtppool import SAME_IN_A_ROW, Elsewhere, Job, NotSent, Pool, Refusals, Result
from mailer.net.smtpreplies import ConnectionLost, Outcome

if TYPE_CHECKING:
    from mailer.net.smtppool import Stop, Transport


class Bookkeeper(Protocol):
    """What the loop needs of a ledger."""

    def settled(self, campaign: int) -> Mapping[str, str]: ...

    def write_outcome(self, campaign: int, recipient: str, status: str, code: int, reply: str,
               *, message_id: str | None = None) -> None: ...


@dataclass
class Report:
    """The outcome of a run."""

    sent: int = 0
    skipped_sent: int = 0  # got it in an earlier run
    skipped_refused: int = 0  # refused for good in an earlier run; --force tries again
    skipped_suppressed: int = 0  # unsubscribed while the campaign went: settled, never sent
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    unreached: str | None = None  # why the run stopped before trying everyone
    stopped: bool = False  # a signal asked the run to stop
    halted: str | None = None  # the relay would take no more (a limit, a refused sender): why
    halt_code: int = EX_TEMPFAIL  # 75: a limit that clears by itself; 1: the organiser acts

    @property
    def exit_code(self) -> int:
        """0 all done; 75 something is left to retry; 1 only permanent refusals, or a stop
        that needs the organiser."""
        if self.halted:
            return self.halt_code
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


_Key = tuple[Delivery, tuple[str, ...]]  # a message and the recipients it is still for


class _Run:
    """A run over the deliveries on a pool of connections, with its report and retry budget."""

    def __init__(self, message: Callable[[Delivery], bytes], pool: Pool[_Key],
                 ledger: Bookkeeper, campaign: int, pace: Pace, *,
                 stop: Callable[[], bool] = lambda: False,
                 message_id: Callable[[Delivery], str | None] = lambda _: None,
                 left_out: Callable[[Sequence[str]], set[str]] = lambda _: set()) -> None:
        self.message = message
        self.message_id = message_id
        self.left_out = left_out
        self.stop = stop
        self.pool = pool
        self.ledger = ledger
        self.campaign = campaign
        self.pace = pace
        self.pacer = Pacer(pace.rate_per_minute, pace.sleep, pace.clock)
        self.report = Report()
        self.later: list[tuple[Delivery, tuple[str, ...]]] = []
        self.retry: collections.deque[tuple[Delivery, tuple[str, ...]]] = collections.deque()
        self.failure: Exception | None = None  # a permanent problem: stop, then raise it
        self.told = False
        self.unrecorded = 0  # taken by the server, but the ledger could not record it
        self.unconfirmed: set[int] = set()  # deliveries sent once without the server's answer
        self.redone: set[int] = set()  # deliveries sent again at once after a dropped line
        self.waited = 0.0
        self.delay = 1.0
        self.planned = 0  # recipients of the deliveries taken from the plan so far
        self.refusals: Refusals[Delivery] = Refusals()  # what they say of going on
        self.size_said = pool.size  # the connections the run was last said to go over
        self.owed = False  # a recorded result whose connection is not yet told to go on

    def plan(self, deliveries: Iterator[Delivery],
             settled: Mapping[str, str]) -> Iterator[tuple[Delivery, tuple[str, ...]]]:
        """Each delivery with the recipients still to try, counting them all."""
        for delivery in deliveries:
            self.planned += len(delivery.recipients)
            yield delivery, self.skip_settled(delivery, settled)

    def halt_text(self, stop: Stop) -> tuple[str, int]:
        """Why the relay stopped the run, after how many of how many, with the exit code."""
        report = self.report
        reached = report.sent + len(report.refused) + report.skipped_sent + report.skipped_refused
        after = f"after {reached} of {self.planned}: {stop.reply.code} {stop.reply.text}"
        rest = f"the other {self.planned - reached} are left for the next run"
        if stop.kind == "limit":
            return f"the relay's sending limit was reached {after}; {rest}", EX_TEMPFAIL
        if stop.kind == "sender":
            return (f"the relay refused the sender {after}; that needs the organiser (the "
                    f"account, its login or the From address), not another try; {rest}, once "
                    "that is done"), EX_FAILURE
        return (f"the relay refused {SAME_IN_A_ROW} messages in a row alike, {after}; a refusal "
                "repeated like that is about the sender or the message, not each recipient, so "
                f"none of them is recorded as refused; {rest}, once the reply is seen to"),\
            EX_FAILURE

    def fewer(self, cause: BaseException | str) -> Iterator[Event]:
        """Say that the run goes on over fewer connections, when it does."""
        if self.pool.size < self.size_said:
            self.size_said = self.pool.size
            yield Notice(f"the relay takes fewer connections ({cause}); going on over "
                         f"{self.size_said} connection(s)")

    def settle(self, recipient: str, outcome: Outcome, delivery: Delivery) -> bool:
        """Bookkeeper one recipient's outcome; return False when it is deferred (4xx)."""
        reply = f"{outcome.code} {outcome.text}"
        if outcome.temporary:
            self.report.deferred[recipient] = reply
            return False
        self.report.deferred.pop(recipient, None)
        status = SENT if outcome.ok else REFUSED
        try:
            self.ledger.write_outcome(self.campaign, recipient, status, outcome.code, outcome.text,
                               message_id=self.message_id(delivery))
        except LedgerWriteError as exc:  # a full disk: stop, and say what went out
            self.failure = self.failure or exc
            self.unrecorded += outcome.ok
            return True
        if outcome.ok:
            self.report.sent += 1
        else:
            self.report.refused[recipient] = reply
        return True

    def failed(self) -> Exception:
        """The problem that stopped the run, with what went out when it was the ledger's."""
        failure = self.failure
        assert failure is not None  # noqa: S101 (asked only once the run failed)
        if not isinstance(failure, LedgerWriteError):
            return failure
        text = (f"{failure}; this run sent {self.report.sent} message(s), recorded in the "
                "ledger")
        if self.unrecorded:
            text += (f", and {self.unrecorded} more that the server took but the ledger could "
                     "not record (those may get a second copy)")
        return LedgerWriteError(f"{text}; then it stopped, and nothing more was sent. Free "
                                "space (or fix the folder) and run again: the next run sends "
                                "to the others")

    def pause(self) -> bool:
        """Sleep the next backoff step; False when the retry budget is spent."""
        budget = self.pace.retry_seconds
        if self.waited >= budget or self.stop():
            return False
        step = min(self.delay, budget - self.waited)
        self.pace.sleep(step)
        self.waited += step
        self.delay = min(self.delay * 2, 8.0)
        return True

    def skip_settled(self, delivery: Delivery, settled: Mapping[str, str]) -> tuple[str, ...]:
        """Return the recipients still to try; count the others as skipped."""
        todo = []
        for recipient in delivery.recipients:
            status = settled.get(recipient.lower())
            if status == SENT:
                self.report.skipped_sent += 1
            elif status == REFUSED:
                self.report.skipped_refused += 1
            elif status == SUPPRESSED:
                self.report.skipped_suppressed += 1
            else:
                todo.append(recipient)
        return tuple(todo)

    def hand(self, delivery: Delivery, todo: tuple[str, ...]) -> bool:
        """Give one message to a connection, within the run's rate, unless everyone it is for
        was suppressed meanwhile (they are recorded so; False)."""
        self.pacer.wait()
        gone = {r.lower() for r in todo} & self.left_out(todo) if todo else set()
        for recipient in (r for r in todo if r.lower() in gone):
            self.ledger.write_outcome(self.campaign, recipient, SUPPRESSED, 0,
                                      "unsubscribed before the message was built")
            self.report.skipped_suppressed += 1
        todo = tuple(r for r in todo if r.lower() not in gone)
        if todo:
            self.pool.hand(Job((delivery, todo), todo, self.message(delivery)))
        return bool(todo)

    def collect(self) -> Generator[Event, None, Delivery | None]:
        """Take one finished message and record it; return its delivery once it is done with.

        Only then may its connection send the next body (whose envelope may have gone ahead):
        the pool is told so (:meth:`release`, once the next message is handed, so that its
        envelope can go with this body), or, when the run is stopping, told to send nothing
        more."""
        taken = self.pool.next_result()
        if taken is None:  # a login worked: more connections may open
            return None
        job, result = taken
        if isinstance(result, NotSent):
            return None  # held, never sent: the next run sends it
        if isinstance(result, Elsewhere):  # its connection is gone: another one sends it
            self.retry.appendleft(job.key)
            yield from self.fewer(result.cause)
            return None
        try:
            finished = yield from self._settle_result(job, result)
        except BaseException:
            self.pool.recorded(go=False)
            raise
        self.owed = True
        return finished

    def release(self, *, go: bool = True) -> None:
        """Tell the connection whose result was recorded last that it may go on (or not)."""
        if self.owed:
            self.owed = False
            self.pool.recorded(go=go and not self.stopped())

    def _settle_result(self, job: Job[_Key],
                       result: Result) -> Generator[Event, None, Delivery | None]:
        delivery, todo = job.key
        kept = self.refusals.take(delivery, result)
        if kept is None:  # held back, or about the sender or the session: pending for now
            return delivery
        result = kept
        lost = result if isinstance(result, ConnectionLost) else None
        if lost is not None and lost.unconfirmed:
            if delivery.number in self.unconfirmed:
                # Twice the whole message went out and no answer came: the relay may be
                # storing each copy. No third copy in this run; the next run sends it (75).
                for recipient in todo:
                    self.report.deferred[recipient] = (
                        f"4.4.2 {lost}; sent twice without the server's answer, so it is not "
                        "sent again in this run")
                return delivery
            self.unconfirmed.add(delivery.number)
        elif lost is not None and (lost.worn or delivery.number not in self.redone):
            # The line dropped before the message was whole: nothing was taken. Send it
            # again at once, on a fresh connection; a second drop waits out the backoff,
            # unless the connection had carried messages (a server's per-connection limit,
            # such as "421 too many messages": a fresh connection is what it asks for).
            if not lost.worn:
                self.redone.add(delivery.number)
            self.retry.appendleft((delivery, todo))
            return None
        if isinstance(result, TemporaryFailure):  # unreachable: wait a step and try it again
            budget = self.pace.retry_seconds
            if not self.stopped() and not self.told and self.waited < budget:
                self.told = True
                yield Notice(f"{result}; retrying for up to {budget - self.waited:g} s")
            if not self.stopped() and self.pause():
                self.retry.append((delivery, todo))
                return None
            self.report.unreached = self.report.unreached or str(result)
        elif isinstance(result, Exception):
            self.failure = self.failure or result
        else:
            left = tuple(r for r, outcome in result.items()
                         if not self.settle(r, outcome, delivery))
            if left:
                self.later.append((delivery, left))
        return delivery

    def stopped(self) -> bool:
        """Whether no new message may be handed over (the run is failing or out of time)."""
        return (self.failure is not None or self.report.unreached is not None
                or self.refusals.stop is not None or self.stop())

    def loop(self, work: Iterator[tuple[Delivery, tuple[str, ...]]],
             total: int | None) -> Iterator[Event]:
        """Keep every connection busy until the work is done; yield progress as it finishes."""
        done = 0
        while True:
            while self.pool.has_room and not self.stopped():
                item = self.retry.popleft() if self.retry else next(work, None)
                if item is None:
                    break
                if not item[1] or not self.hand(*item):  # everyone settled already
                    done += len(item[0].recipients)
                    yield Progress(done, total)
            if self.owed:  # told only now, so the message just handed goes with its body
                self.release()
                continue  # its connection may be idle now: it takes the next
            if not self.pool.busy:
                return
            finished = yield from self.collect()
            if finished is not None:
                done += len(finished.recipients)
                yield Progress(done, total)

    def drain(self) -> None:
        """Bookkeeper what the connections still carry (after an interrupt), before they close."""
        self.release(go=False)
        while self.pool.busy:
            taken = self.pool.next_result()
            if taken is None:
                continue
            job, result = taken
            if isinstance(result, NotSent | Elsewhere):
                continue
            kept = self.refusals.take(job.key[0], result)
            if isinstance(kept, dict):
                for recipient, outcome in kept.items():
                    self.settle(recipient, outcome, job.key[0])
            self.pool.recorded(go=False)


def deliver(deliveries: Iterable[Delivery], *, message: Callable[[Delivery], bytes],
            transports: Callable[[], Transport], ledger: Bookkeeper, campaign: int,
            connections: int = 1, total: int | None = None,
            pace: Pace | None = None, stop: Callable[[], bool] = lambda: False,
            message_id: Callable[[Delivery], str | None] = lambda _: None,
            left_out: Callable[[Sequence[str]], set[str]] = lambda _: set(),
            ) -> Iterator[Event]:
    """Send each delivery to the recipients not yet recorded, over up to ``connections``
    connections made by ``transports``; yield progress, then a Report.

    Once ``stop()`` is true, no new message starts: what is in flight is awaited and
    recorded, the connections are closed within ``pace.quit_seconds``, and the Report
    says the run was stopped. ``message_id`` names each delivery's Message-ID for the ledger
    (what a bounce or a reply must name to count); ``left_out`` names those of a message's
    recipients who are suppressed now (asked just before it is built)."""
    pace = pace or Pace()
    pool: Pool[_Key] = Pool(transports, connections)
    run = _Run(message, pool, ledger, campaign, pace, stop=stop, message_id=message_id,
               left_out=left_out)
    source = iter(deliveries)
    try:
        settled = ledger.settled(campaign)
        yield from run.loop(run.plan(source, settled), total)
        while run.later and not run.stopped():
            yield Notice(f"{len(run.later)} message(s) deferred by the server; retrying")
            if not run.pause():
                break
            batch, run.later = run.later, []
            yield from run.loop(iter(batch), None)
    finally:
        run.drain()
        pool.close(pace.quit_seconds if stop() else 60.0)
    for delivery, recipient, outcome in run.refusals.release():  # each its recipient's
        run.settle(recipient, outcome, delivery)
    if run.refusals.stop is not None:
        for _ in run.plan(source, settled):  # count the rest, and whom it skips
            pass
        run.report.halted, run.report.halt_code = run.halt_text(run.refusals.stop)
        run.report.unreached = run.report.halted  # what the report of a stopped run says
    if run.failure is not None:
        raise run.failed()
    run.report.stopped = stop()
    yield run.report
