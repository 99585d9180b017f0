"""Parallel SMTP connections: each in a thread of its own, each with one message at a time.

The pool never opens more connections than it was given, and only as many as there is work
for; the first opens alone, the others once it has logged in (a wrong password costs one
attempt, not one per connection). A worker sends the message it was handed and hands the
outcome (or the exception) back; what to do about a failure is the run's to decide
(:mod:`mailer.delivery.loop`); a worker whose connection dropped opens a fresh one (a fresh
login) for its next message.

A worker may hold a second message: its envelope goes ahead with the first one's body (one
round trip a message, RFC 2920), but its body goes only once the run has recorded the first
outcome in the ledger and said so (:meth:`Pool.recorded`). So at a kill -9, at most one
message per open connection can have been accepted by the server and not yet recorded.

A relay may take fewer connections than the pool was given (one at a time, say, answering the
others "421 too many connections"). A connection that cannot open while another works is not
a failure of the run: the pool closes it, lowers its size to the connections it has (as
Postfix lowers its concurrency), and hands its messages back to be sent on those
(:class:`Elsewhere`). Only when no connection works does the failure reach the run.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from mailer.errors import TemporaryFailure

if TYPE_CHECKING:
    from mailer.smtp.session import Outcome


class Transport(Protocol):
    """What a worker needs of a connection."""

    def send(self, recipients: tuple[str, ...], data: bytes,
             ahead: tuple[str, ...] | None = None) -> dict[str, Outcome]: ...

    def ready(self) -> None:
        """Connect and log in now, if not yet (raises what goes wrong)."""
        ...

    def close(self) -> None: ...


Key = TypeVar("Key")


@dataclass(frozen=True)
class Job(Generic[Key]):
    """One message for one worker: the envelope recipients still to reach, and the bytes."""

    key: Key  # what the run needs back to settle the outcome
    recipients: tuple[str, ...]
    data: bytes


Result = dict[str, "Outcome"] | Exception
_EMPTY = object()


class NotSent(Exception):
    """A message a worker held but did not send: the run stopped before its turn."""


class Elsewhere(Exception):
    """A message to send on another connection: its own could not open, or was closed because
    the relay wants fewer (``cause`` says why). The pool is one connection smaller."""

    def __init__(self, cause: BaseException | str) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _CannotOpen(Exception):
    """A worker's connection did not open (``cause``); the pool decides what that means."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


_RETIRE = "retire"  # a worker's signal: close, and give back what it holds to go elsewhere


class _Worker(Generic[Key]):
    def __init__(self, transport: Transport,
                 results: queue.SimpleQueue[tuple[_Worker[Key], Job[Key] | None, Result]],
                 *, first: bool = False) -> None:
        self.transport = transport
        self.first = first  # the pool's first connection: say when its login worked
        self.inbox: queue.SimpleQueue[Job[Key] | None] = queue.SimpleQueue()
        self.results = results
        # True: the run recorded the last one; False: the run stops; _RETIRE: close.
        self.go: queue.SimpleQueue[bool | str] = queue.SimpleQueue()
        self.held = 0  # messages handed to it and not yet given back
        self.working = False  # its connection opened and carried a message (or logged in)
        self.retiring = False  # to close once the run has recorded its last result
        self.thread = threading.Thread(target=self._loop, name="announce-smtp", daemon=True)
        self.thread.start()

    def _next(self, *, wait: bool) -> Job[Key] | object | None:
        if wait:
            return self.inbox.get()
        try:
            return self.inbox.get_nowait()
        except queue.Empty:
            return _EMPTY

    def _loop(self) -> None:
        job: Job[Key] | object | None = self._next(wait=True)
        try:
            while isinstance(job, Job):
                try:  # connect and log in, unless the connection is open
                    self.transport.ready()
                except Exception as exc:  # the message fails with it; no second login
                    self.results.put((self, job, _CannotOpen(exc)))
                    job = self._after(job, _EMPTY)
                    continue
                if self.first:
                    self.first = False
                    self.results.put((self, None, {}))  # logged in: open the others
                following = self._next(wait=False)
                ahead = following.recipients if isinstance(following, Job) else None
                self.results.put((self, job, self._send(job, ahead)))
                job = self._after(job, following)
        finally:
            self.transport.close()

    def _after(self, job: Job[Key], following: Job[Key] | object | None,
               ) -> Job[Key] | object | None:
        """Wait until the run recorded ``job``'s outcome; then the next job (None: stop).
        When the run stops, what the worker holds is given back unsent; when the worker is
        retired, it is given back to go on another connection."""
        signal = self.go.get()
        if signal is not True:
            held = [following]
            while (more := self._next(wait=False)) is not _EMPTY:
                held.append(more)
            for item in held:
                if isinstance(item, Job):
                    self.results.put((self, item, NotSent("the run stopped") if signal is False
                                      else Elsewhere("its connection was closed")))
            return None
        return following if following is not _EMPTY else self._next(wait=True)

    def _send(self, job: Job[Key], ahead: tuple[str, ...] | None) -> Result:
        try:
            return self.transport.send(job.recipients, job.data, ahead)
        except Exception as exc:  # handed back to the run, which decides what it means
            return exc


class Pool(Generic[Key]):
    """Up to ``size`` connections made by ``connect``, opened as work arrives."""

    def __init__(self, connect: Callable[[], Transport], size: int) -> None:
        self._connect = connect
        self._size = max(1, size)
        self._workers: list[_Worker[Key]] = []
        self._retired: list[_Worker[Key]] = []  # closed because the relay wanted fewer
        self._idle: list[_Worker[Key]] = []
        self._results: queue.SimpleQueue[tuple[_Worker[Key], Job[Key] | None, Result]] = \
            queue.SimpleQueue()
        self._proven = False  # the first connection logged in: the settings and login work
        self.busy = 0
        self._unrecorded: list[_Worker[Key]] = []  # gave a result the run is recording

    @property
    def has_room(self) -> bool:
        """Whether a message can be handed over now: to an idle connection, a new one, or as
        the second message of a busy one (its envelope goes ahead).

        The first connection goes alone until it has logged in: a wrong password or TLS mode
        then costs one attempt, not one per connection (relays lock accounts after a few
        failed logins).
        """
        return bool(self._idle) or self._may_open \
            or (self._proven and any(w.held == 1 for w in self._workers))

    @property
    def _may_open(self) -> bool:
        """Whether a new connection may open: one alone until it has logged in."""
        return len(self._workers) < (self._size if self._proven else 1)

    @property
    def opened(self) -> int:
        """How many connections (workers) the pool has made and still has."""
        return len(self._workers)

    @property
    def size(self) -> int:
        """How many connections the pool may have: as given, less those the relay refused."""
        return self._size

    def _others_work(self, worker: _Worker[Key]) -> bool:
        return any(w.working for w in self._workers if w is not worker)

    def _retire(self, worker: _Worker[Key]) -> None:
        """Take ``worker`` out of the pool, which is now one connection smaller."""
        self._workers.remove(worker)
        self._retired.append(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        self._size = max(1, len(self._workers))

    def retire(self) -> bool:
        """Close the connection whose result the run is recording, when another works (the
        relay said it has too many): the pool is one smaller, and what the connection holds
        comes back as :class:`Elsewhere`. False, and nothing done, when it is the only one."""
        worker = self._unrecorded[0]
        if worker.retiring or not self._others_work(worker):
            return False
        worker.retiring = True
        self._retire(worker)
        return True

    def hand(self, job: Job[Key]) -> None:
        """Give ``job`` to an idle worker, a new one if there is room, else as the second
        message of a busy one."""
        if self._idle:
            worker = self._idle.pop()
        elif self._may_open:
            worker = _Worker(self._connect(), self._results, first=not self._workers)
            self._workers.append(worker)
        else:
            worker = next(w for w in self._workers if w.held == 1)
        self.busy += 1
        worker.held += 1
        worker.inbox.put(job)

    def next_result(self) -> tuple[Job[Key], Result] | None:
        """Wait for the next finished message. Its worker sends nothing more until the run
        calls :meth:`recorded`. None: the first connection logged in, so the others may open
        (the run hands out more work)."""
        worker, job, result = self._results.get()
        if job is None:
            self._proven = worker.working = True
            return None
        self.busy -= 1
        worker.held -= 1
        if isinstance(result, _CannotOpen):
            if (isinstance(result.cause, TemporaryFailure) and worker in self._workers
                    and self._others_work(worker)):
                self._retire(worker)  # the relay takes fewer connections: go on over the rest
                worker.go.put(_RETIRE)
                return job, Elsewhere(result.cause)
            worker.working = False
            result = result.cause  # no connection works: the run decides, as for any failure
        elif isinstance(result, dict) and not all(o.temporary for o in result.values()):
            worker.working = True  # the relay took a message on it, or refused one for good
        self._proven = self._proven or not isinstance(result, Exception)
        if not isinstance(result, NotSent | Elsewhere):
            self._unrecorded.append(worker)
        return job, result

    def recorded(self, *, go: bool = True) -> None:
        """The last result is in the ledger: its worker may send its next body (or, with
        ``go`` false, must not: the run stops)."""
        worker = self._unrecorded.pop(0)
        if worker.retiring:
            worker.go.put(_RETIRE if go else False)
            return
        worker.go.put(go)
        if worker.held == 0 and go:
            self._idle.append(worker)

    def close(self, wait: float = 60.0) -> None:
        """Let every worker finish its message, say QUIT, and stop; wait ``wait`` seconds for
        them in all (a worker still talking then is a daemon thread, and ends with us)."""
        for worker in self._workers:
            worker.inbox.put(None)
        deadline = time.monotonic() + wait
        for worker in [*self._workers, *self._retired]:
            worker.thread.join(timeout=max(0.0, deadline - time.monotonic()))
