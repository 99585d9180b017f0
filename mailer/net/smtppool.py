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

What the relay's answers say of going on is the pool's too. It may take fewer connections
than the pool was given (one at a time, answering the others "421 too many connections"): a
connection that cannot open, or is turned away so, while another works is not a failure of
the run: the pool closes it, lowers its size (as Postfix lowers its concurrency), and hands
its messages back to go on the others (:class:`Elsewhere`); only when none works does the
failure reach the run. A reply about the sender or the session, or the same refusal message
after message, means no more for now (:class:`Refusals`).
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar

from mailer.errors import TemporaryFailure
from mailer.net.smtpreplies import ConnectionLost, Outcome

SAME_IN_A_ROW = 3  # this many messages refused alike, one after another: not their recipients'


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
        self._results: queue.SimpleQueue[tuple[_Worker[Key], Job[Key] | None, Result]] =\
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
        return bool(self._idle) or self._may_open\
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
        fewer = result.cause if isinstance(result, _CannotOpen) and isinstance(
            result.cause, TemporaryFailure) else _turned_away(result)
        if fewer is not None and worker in self._workers and self._others_work(worker):
            self._retire(worker)  # the relay takes fewer connections: go on over the rest
            worker.go.put(_RETIRE)
            return job, Elsewhere(fewer)
        if isinstance(result, _CannotOpen):
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


def _replies(result: Result) -> list[Outcome]:
    """The server's replies in a result: each recipient's, or a 421 that closed."""
    if isinstance(result, dict):
        return list(result.values())
    return [result.reply] if isinstance(result, ConnectionLost) and result.reply else []


def _turned_away(result: Result) -> str | None:
    """The relay's words when it turned a message away for too many connections at once."""
    replies = _replies(result)
    if replies and all(reply.about == "connections" for reply in replies):
        return f"{replies[0].code} {replies[0].text}"
    return None


def _alike(outcome: Outcome) -> tuple[int, str]:
    """What two refusals share when they are the same one: the code and the words, without
    the addresses and numbers in them (a recipient, a queue id, a time)."""
    words = re.sub(r"<?[^\s<>@]+@[^\s<>]+>?|\d+", "", outcome.text.lower())
    return outcome.code, " ".join(words.split())


class Stop(NamedTuple):
    """Why the relay will take no more for now: ``kind`` "limit" (a quota or a rate: it clears
    by itself), "sender" (a refused sender: for the organiser) or "row" (the same refusal for
    :data:`SAME_IN_A_ROW` messages in a row), and the reply that said so."""

    kind: str
    reply: Outcome


class Refusals(Generic[Key]):
    """What the relay's answers say of the sender and the session, message after message.

    A reply about the sender or the session (:func:`mailer.net.smtpreplies.classify`) is a
    :class:`Stop`, and its recipients stay pending. A refusal that says nothing of whose it is
    is held back until the run is over (:meth:`release`): the same one for
    :data:`SAME_IN_A_ROW` messages in a row is a Stop too, and then none alike is released.
    """

    def __init__(self) -> None:
        self.stop: Stop | None = None
        self._held: list[tuple[tuple[int, str] | None, Key, dict[str, Outcome]]] = []
        self._row = 0  # alike refusals, one after another
        self._alike: tuple[int, str] | None = None

    def take(self, key: Key, result: Result) -> Result | None:
        """What of ``result`` (the message ``key``'s) the run records now: the outcomes about
        their recipients, or the exception; None when nothing is (a stop, or held back)."""
        if not isinstance(result, dict):
            closing = _replies(result)  # a 421 that says why
            if closing and closing[0].about in ("limit", "sender"):
                self.stop = self.stop or Stop(closing[0].about, closing[0])
                return None
            return result
        now, unsure = {}, {}
        for recipient, outcome in result.items():
            about = outcome.about
            if about in ("limit", "sender"):
                self.stop = self.stop or Stop(about, outcome)
            elif about == "unsure" and not outcome.temporary:
                unsure[recipient] = outcome
            else:
                now[recipient] = outcome
                if not outcome.temporary:  # taken, or refused for its recipient: no row
                    self._row, self._alike = 0, None
        if unsure:
            self._hold(key, unsure)
        return now or None

    def _hold(self, key: Key, refused: dict[str, Outcome]) -> None:
        alike = {_alike(outcome) for outcome in refused.values()}
        same = alike.pop() if len(alike) == 1 else None
        self._held.append((same, key, refused))
        self._row = self._row + 1 if same is not None and same == self._alike else 1
        self._alike = same
        if self._row >= SAME_IN_A_ROW and same is not None:
            self.stop = self.stop or Stop("row", next(iter(refused.values())))

    def release(self) -> Iterator[tuple[Key, str, Outcome]]:
        """The run is over: the refusals held back, each its recipient's, but those alike the
        row the run stopped on (they stay pending, with the rest)."""
        pending = self._alike if self.stop is not None else None
        held, self._held = self._held, []
        for same, key, refused in held:
            if same is None or same != pending:
                yield from ((key, recipient, outcome) for recipient, outcome in refused.items())
