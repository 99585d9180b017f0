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
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

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


class _Worker(Generic[Key]):
    def __init__(self, transport: Transport,
                 results: queue.SimpleQueue[tuple[_Worker[Key], Job[Key] | None, Result]],
                 *, first: bool = False) -> None:
        self.transport = transport
        self.first = first  # the pool's first connection: say when its login worked
        self.inbox: queue.SimpleQueue[Job[Key] | None] = queue.SimpleQueue()
        self.results = results
        self.go: queue.SimpleQueue[bool] = queue.SimpleQueue()  # the run recorded the last one
        self.held = 0  # messages handed to it and not yet given back
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
            if self.first and isinstance(job, Job):
                try:
                    self.transport.ready()
                except Exception as exc:  # the first message fails with it; no second login
                    self.results.put((self, job, exc))
                    job = self._after(job, _EMPTY)
                else:
                    self.results.put((self, None, {}))  # logged in: open the others
            while isinstance(job, Job):
                following = self._next(wait=False)
                ahead = following.recipients if isinstance(following, Job) else None
                self.results.put((self, job, self._send(job, ahead)))
                job = self._after(job, following)
        finally:
            self.transport.close()

    def _after(self, job: Job[Key], following: Job[Key] | object | None,
               ) -> Job[Key] | object | None:
        """Wait until the run recorded ``job``'s outcome; then the next job (None: stop).
        When the run stops, what the worker holds is given back unsent."""
        if not self.go.get():
            held = [following]
            while (more := self._next(wait=False)) is not _EMPTY:
                held.append(more)
            for item in held:
                if isinstance(item, Job):
                    self.results.put((self, item, NotSent("the run stopped")))
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
        """How many connections (workers) the pool has made."""
        return len(self._workers)

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
            self._proven = True
            return None
        self.busy -= 1
        worker.held -= 1
        self._proven = self._proven or not isinstance(result, Exception)
        if not isinstance(result, NotSent):
            self._unrecorded.append(worker)
        return job, result

    def recorded(self, *, go: bool = True) -> None:
        """The last result is in the ledger: its worker may send its next body (or, with
        ``go`` false, must not: the run stops)."""
        worker = self._unrecorded.pop(0)
        worker.go.put(go)
        if worker.held == 0 and go:
            self._idle.append(worker)

    def close(self, wait: float = 60.0) -> None:
        """Let every worker finish its message, say QUIT, and stop; wait ``wait`` seconds for
        them in all (a worker still talking then is a daemon thread, and ends with us)."""
        for worker in self._workers:
            worker.inbox.put(None)
        deadline = time.monotonic() + wait
        for worker in self._workers:
            worker.thread.join(timeout=max(0.0, deadline - time.monotonic()))
