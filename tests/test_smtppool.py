"""The SMTP pool's own rules on plain values, without a server: what a run of the relay's
replies means (:class:`Refusals`: a stop for a limit or a refused sender, the same refusal
message after message), how the pool opens, holds and hands back messages (with connections
that are plain objects keeping to its Transport protocol), and the connection a run opens
ahead (:class:`RunConnections`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from smtpserver import free_port

from mailer.errors import TemporaryFailure
from mailer.net.servers import SmtpSettings
from mailer.net.smtppool import (
    SAME_IN_A_ROW,
    Elsewhere,
    Job,
    NotSent,
    Pool,
    Refusals,
    Stop,
)
from mailer.net.smtpreplies import ConnectionLost, Outcome
from mailer.net.smtpsession import RunConnections, SmtpTransport

TAKEN = Outcome(250, "2.0.0 queued")
UNKNOWN = Outcome(550, "5.1.1 <x@example.org>: User unknown")  # the recipient's
QUOTA = Outcome(550, "5.4.5 Daily user sending quota exceeded.")  # a limit
BLOCKED = Outcome(554, "5.7.1 Sender address rejected: Access denied")  # the sender
TOO_MANY = Outcome(421, "4.3.2 The maximum number of concurrent connections has exceeded a "
                        "limit, closing transmission channel")


def refused(n: int) -> Outcome:
    """A refusal that says nothing of whose it is, the same but for its numbers each time."""
    return Outcome(550, f"Message refused, id {1000 + n} for <p{n}@example.org>")


# -- Refusals ------------------------------------------------------------------------------


def test_what_the_relay_took_or_refused_for_its_recipient_is_recorded_at_once() -> None:
    refusals: Refusals[int] = Refusals()
    result = {"a@example.org": TAKEN, "x@example.org": UNKNOWN}
    assert refusals.take(1, result) == result
    assert refusals.stop is None
    assert list(refusals.release()) == []


@pytest.mark.parametrize(("reply", "kind"), [(QUOTA, "limit"), (BLOCKED, "sender")])
def test_a_limit_or_a_refused_sender_stops_and_its_recipients_stay_pending(
        reply: Outcome, kind: str) -> None:
    refusals: Refusals[int] = Refusals()
    assert refusals.take(1, {"a@example.org": TAKEN, "b@example.org": reply}) ==\
        {"a@example.org": TAKEN}
    assert refusals.stop == Stop(kind, reply)
    assert refusals.take(2, {"c@example.org": reply}) is None  # nothing of it is recorded


def test_the_first_stop_is_the_one_kept() -> None:
    refusals: Refusals[int] = Refusals()
    refusals.take(1, {"a@example.org": BLOCKED})
    refusals.take(2, {"b@example.org": QUOTA})
    assert refusals.stop == Stop("sender", BLOCKED)


def test_a_closing_421_that_names_a_limit_stops_and_any_other_failure_goes_to_the_run() -> None:
    refusals: Refusals[int] = Refusals()
    dropped = ConnectionLost("the server closed the connection")
    assert refusals.take(1, dropped) is dropped
    broken = OSError("reset")
    assert refusals.take(2, broken) is broken
    assert refusals.stop is None
    rate = Outcome(421, "4.7.0 Try again later, closing connection: rate limit exceeded")
    assert refusals.take(3, ConnectionLost("421", reply=rate)) is None
    assert refusals.stop == Stop("limit", rate)


def test_a_refusal_whose_it_is_unsaid_waits_for_the_end_of_the_run() -> None:
    refusals: Refusals[int] = Refusals()
    assert refusals.take(1, {"p1@example.org": refused(1)}) is None
    assert refusals.take(2, {"p2@example.org": TAKEN}) == {"p2@example.org": TAKEN}
    assert refusals.stop is None
    assert list(refusals.release()) == [(1, "p1@example.org", refused(1))]
    assert list(refusals.release()) == []  # released once


def test_a_temporary_refusal_whose_it_is_unsaid_is_recorded_at_once() -> None:
    refusals: Refusals[int] = Refusals()
    later = Outcome(451, "4.3.0 Temporary failure")
    assert refusals.take(1, {"p@example.org": later}) == {"p@example.org": later}


def test_the_same_refusal_message_after_message_stops_and_is_nobodys() -> None:
    refusals: Refusals[int] = Refusals()
    other = Outcome(554, "Transaction failed")
    refusals.take(0, {"q@example.org": other})
    for n in range(1, SAME_IN_A_ROW + 1):
        assert refusals.stop is None
        assert refusals.take(n, {f"p{n}@example.org": refused(n)}) is None
    assert refusals.stop == Stop("row", refused(SAME_IN_A_ROW))
    # Those alike stay pending with the rest; the other is its recipient's.
    assert list(refusals.release()) == [(0, "q@example.org", other)]


def test_a_message_taken_between_alike_refusals_breaks_the_row() -> None:
    refusals: Refusals[int] = Refusals()
    n = 0
    for _ in range(3):
        for _ in range(SAME_IN_A_ROW - 1):
            n += 1
            refusals.take(n, {f"p{n}@example.org": refused(n)})
        refusals.take(100 + n, {"ok@example.org": TAKEN})
    assert refusals.stop is None
    assert len(list(refusals.release())) == 3 * (SAME_IN_A_ROW - 1)


def test_different_refusals_in_a_row_are_no_row() -> None:
    refusals: Refusals[int] = Refusals()
    texts = ["Message refused", "Transaction failed", "Rejected", "Not accepted here"]
    for n, text in enumerate(texts * 2):
        refusals.take(n, {f"p{n}@example.org": Outcome(550, text)})
    assert refusals.stop is None
    assert len(list(refusals.release())) == 2 * len(texts)


def test_a_message_refused_two_ways_at_once_starts_no_row() -> None:
    refusals: Refusals[int] = Refusals()
    for n in range(SAME_IN_A_ROW + 1):
        refusals.take(n, {f"p{n}@example.org": refused(n),
                          f"q{n}@example.org": Outcome(554, "Transaction failed")})
    assert refusals.stop is None


# -- Pool ------------------------------------------------------------------------------------


class Connection:
    """A connection as the pool sees one: ``answer`` gives each recipient's reply (or raises),
    ``login`` fails the opening when it raises, and ``gate`` holds the opening until set."""

    def __init__(self, answer: Callable[[str], Outcome] = lambda rcpt: TAKEN,
                 login: Exception | None = None, gate: threading.Event | None = None) -> None:
        self.answer = answer
        self.login = login
        self.gate = gate
        self.sent: list[tuple[tuple[str, ...], bytes, tuple[str, ...] | None]] = []
        self.logins = 0  # attempts to log in
        self.open = False
        self.closed = False

    def ready(self) -> None:
        if self.gate is not None:
            self.gate.wait()
        if not self.open:
            self.logins += 1
            if self.login is not None:
                raise self.login
            self.open = True

    def send(self, recipients: tuple[str, ...], data: bytes,
             ahead: tuple[str, ...] | None = None) -> dict[str, Outcome]:
        self.sent.append((recipients, data, ahead))
        return {rcpt: self.answer(rcpt) for rcpt in recipients}

    def close(self) -> None:
        self.closed = True


def connections(*made: Connection) -> tuple[Callable[[], Connection], list[Connection]]:
    """A ``connect`` for the pool handing out ``made`` in turn, and the list of those taken."""
    taken: list[Connection] = []

    def connect() -> Connection:
        taken.append(made[len(taken)])
        return taken[-1]
    return connect, taken


def job(n: int) -> Job[int]:
    return Job(n, (f"p{n}@example.org",), b"message %d\r\n" % n)


def test_the_first_connection_opens_alone_until_it_has_logged_in() -> None:
    connect, taken = connections(Connection(), Connection(), Connection())
    pool: Pool[int] = Pool(connect, 3)
    assert pool.has_room
    pool.hand(job(1))
    assert not pool.has_room  # no second connection before the first one's login worked
    assert pool.next_result() is None  # logged in: the others may open
    assert pool.has_room
    assert pool.next_result() == (job(1), {"p1@example.org": TAKEN})
    pool.recorded()
    pool.hand(job(2))
    pool.hand(job(3))
    results = {r[0].key: r[1] for r in (pool.next_result(), pool.next_result()) if r}
    assert results == {2: {"p2@example.org": TAKEN}, 3: {"p3@example.org": TAKEN}}
    pool.recorded()
    pool.recorded()
    pool.close()
    assert len(taken) == 2 and pool.opened == 2  # two messages at once: two connections
    assert all(c.closed for c in taken)


def test_a_wrong_password_costs_one_login_not_one_per_connection() -> None:
    wrong = TemporaryFailure("535 5.7.8 authentication failed")
    connect, taken = connections(*(Connection(login=wrong) for _ in range(4)))
    pool: Pool[int] = Pool(connect, 4)
    pool.hand(job(1))
    assert not pool.has_room
    assert pool.next_result() == (job(1), wrong)  # the run gets the login's own failure
    assert not pool.has_room
    pool.recorded(go=False)
    pool.close()
    assert len(taken) == 1 and taken[0].logins == 1


def test_a_second_message_sends_its_envelope_ahead_and_its_body_only_once_recorded() -> None:
    gate = threading.Event()
    connect, taken = connections(Connection(gate=gate))
    pool: Pool[int] = Pool(connect, 1)
    pool.hand(job(1))
    pool.hand(job(2))  # both on the one connection, before it has even opened
    gate.set()
    assert pool.next_result() is None
    assert pool.next_result() == (job(1), {"p1@example.org": TAKEN})
    # The first went with the second's envelope behind it; the second's body waits.
    assert taken[0].sent == [(("p1@example.org",), b"message 1\r\n", ("p2@example.org",))]
    pool.recorded()
    assert pool.next_result() == (job(2), {"p2@example.org": TAKEN})
    assert [sent[0] for sent in taken[0].sent] == [("p1@example.org",), ("p2@example.org",)]
    pool.recorded()
    pool.close()


def test_when_the_run_stops_a_held_message_comes_back_unsent() -> None:
    gate = threading.Event()
    connect, taken = connections(Connection(gate=gate))
    pool: Pool[int] = Pool(connect, 1)
    pool.hand(job(1))
    pool.hand(job(2))
    gate.set()
    assert pool.next_result() is None
    assert pool.next_result() == (job(1), {"p1@example.org": TAKEN})
    pool.recorded(go=False)
    back = pool.next_result()
    assert back is not None and back[0] == job(2) and isinstance(back[1], NotSent)
    pool.close()
    assert len(taken[0].sent) == 1 and taken[0].closed


def two_at_once(second: Connection) -> tuple[Pool[int], dict[int, object], list[Connection]]:
    """A pool of two whose first connection works; the second message goes on ``second``."""
    connect, taken = connections(Connection(), second)
    pool: Pool[int] = Pool(connect, 2)
    pool.hand(job(1))
    assert pool.next_result() is None
    pool.hand(job(2))  # the first is busy: a second connection opens
    results = {}
    for _ in range(2):
        found = pool.next_result()
        assert found is not None
        results[found[0].key] = found[1]
    return pool, results, taken


def test_a_connection_turned_away_for_too_many_while_another_works_hands_its_message_on(
) -> None:
    pool, results, taken = two_at_once(Connection(answer=lambda rcpt: TOO_MANY))
    assert results[1] == {"p1@example.org": TAKEN}
    assert isinstance(results[2], Elsewhere)
    assert str(results[2]) == f"{TOO_MANY.code} {TOO_MANY.text}"
    assert (pool.size, pool.opened) == (1, 1)  # the pool is one connection smaller
    pool.recorded()  # only the first one's outcome is the run's to record
    pool.close()
    assert taken[1].closed


def test_a_connection_that_cannot_open_while_another_works_hands_its_message_on() -> None:
    refused_open = TemporaryFailure("cannot reach the SMTP server: it refused EHLO: 421 busy")
    pool, results, _ = two_at_once(Connection(login=refused_open))
    assert isinstance(results[2], Elsewhere) and results[2].cause is refused_open
    assert pool.size == 1
    pool.recorded()
    pool.close()


def test_too_many_connections_on_the_only_connection_is_the_runs_to_decide() -> None:
    connect, _ = connections(Connection(answer=lambda rcpt: TOO_MANY))
    pool: Pool[int] = Pool(connect, 2)
    pool.hand(job(1))
    assert pool.next_result() is None
    assert pool.next_result() == (job(1), {"p1@example.org": TOO_MANY})
    assert pool.size == 2
    pool.recorded(go=False)
    pool.close()


# -- RunConnections --------------------------------------------------------------------------


def settings() -> SmtpSettings:
    """A relay on a loopback port nothing listens on: an open attempt is refused at once."""
    return SmtpSettings(host="127.0.0.1", port=free_port(), timeout=5)


def test_without_a_start_each_take_is_a_new_connection_for_that_sender() -> None:
    run = RunConnections(settings())
    first, second = run.take("a@example.org"), run.take("b@example.org")
    assert isinstance(first, SmtpTransport) and first is not second
    assert (first.sender, second.sender) == ("a@example.org", "b@example.org")
    assert first.settings is run.settings
    run.close()


def test_the_connection_opened_ahead_is_the_first_taken_once_with_the_runs_sender() -> None:
    run = RunConnections(settings())
    run.start()
    first = run.take("lm-seminar@example.org")
    assert first.sender == "lm-seminar@example.org"
    assert run.take("lm-seminar@example.org") is not first
    # What the opening met is raised where the run first uses the connection.
    with pytest.raises(TemporaryFailure, match=r"127\.0\.0\.1"):
        first.ready()
    first.close()
