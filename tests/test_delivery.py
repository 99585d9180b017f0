"""Cron-safe delivery to subscriber lists: faults injected by a real server, kill -9, the lock."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from runners import invoke
from seriesfiles import subscribe, write
from smtpserver import Faults, Server

from mailer.addresses import Mailbox
from mailer.delivery.ledger import Ledger
from mailer.delivery.lock import run_lock
from mailer.delivery.loop import Delivery, Event, Notice, Pace, Progress, Report, deliver
from mailer.net.servers import SmtpSettings
from mailer.net.smtpsession import SmtpTransport


def each_addressed_to_its_subscriber(server: Server) -> None:
    for item in server.received:
        assert len(item.rcpt_tos) == 1
        assert item.message["To"] == item.rcpt_tos[0]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_451_for_fifty_then_rerun_delivers_exactly_them(series: Path, smtp_server: Server,
                                                        pipelining: bool) -> None:
    smtp_server.sink.pipelining = pipelining
    people = subscribe(series, 300)
    deferred = set(random.Random(3).sample(people, 50))
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "451 4.7.1 try again later" if a in deferred else None)
    first = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert first.code == 75, first.both
    assert set(smtp_server.addresses()) == set(people) - deferred
    assert smtp_server.counts().most_common(1)[0][1] == 1
    each_addressed_to_its_subscriber(smtp_server)
    assert "deferred 50" in first.err
    smtp_server.sink.faults = Faults()
    before = len(smtp_server.received)
    second = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert second.code == 0, second.both
    assert set(smtp_server.addresses()[before:]) == deferred
    assert len(smtp_server.received) - before == 50
    assert "skipped 250" in second.out


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_550_exits_1_names_refused_and_is_not_retried(series: Path, smtp_server: Server,
                                                      pipelining: bool) -> None:
    smtp_server.sink.pipelining = pipelining
    people = subscribe(series, 40)
    refused = {people[3], people[17]}
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "550 5.1.1 no such user" if a in refused else None)
    first = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert first.code == 1, first.both
    for address in refused:
        assert f"refused (permanent, not retried without --force): {address}: 550" in first.err
    assert len(smtp_server.received) == 38
    smtp_server.sink.faults = Faults()
    again = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert again.code == 0, again.both
    assert again.out == ("announcement of 2024-02-22-mathis: already sent to 38 recipient(s); "
                         "2 refused it earlier (not retried without --force); nothing to do "
                         "(--force sends again)\n")
    assert len(smtp_server.received) == 38
    forced = invoke(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                    server=smtp_server)
    assert forced.code == 0
    assert smtp_server.counts()[people[3]] == 1
    assert len(smtp_server.received) == 78


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_554_at_data_exits_1(series: Path, smtp_server: Server, pipelining: bool) -> None:
    smtp_server.sink.pipelining = pipelining
    smtp_server.sink.faults = Faults(data=lambda n: "554 5.6.0 message refused")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 1, result.both
    assert "lm-seminar-list@example.org: 554" in result.err


def test_both_kinds_exit_75_and_name_the_permanent(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 10)
    replies = {people[1]: "550 5.1.1 gone", people[2]: "452 4.2.2 mailbox full"}
    smtp_server.sink.faults = Faults(rcpt=replies.get)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 75
    assert f"{people[1]}: 550" in result.err


def test_dropped_connection_every_100_everyone_delivered(series: Path,
                                                        smtp_server: Server) -> None:
    people = subscribe(series, 320)
    smtp_server.sink.faults = Faults(drop_every=100)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    assert sorted(smtp_server.addresses()) == people
    assert smtp_server.sink.connections >= 4


def test_a_server_that_takes_one_message_a_connection_gets_everyone(series: Path,
                                                                    smtp_server: Server) -> None:
    """Its 421 to the next MAIL (pipelined after the body) is a limit, not a failure: every
    message goes, each once, however often a retried one meets a worn connection."""
    people = subscribe(series, 30)
    smtp_server.sink.faults = Faults(drop_every=1)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    ANNOUNCE_SMTP_CONNECTIONS="2", ANNOUNCE_RETRY_SECONDS="0")
    assert result.code == 0, result.both
    assert sorted(smtp_server.addresses()) == people


def test_partial_refusal_then_new_subscribers(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 4)
    smtp_server.sink.faults = Faults(rcpt=lambda a: "550 5.1.1 gone" if a == people[0] else None)
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 1
    write(series / "subscribers.txt", "\n".join([*people, "late@example.org"]) + "\n")
    rerun = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert rerun.code == 0, rerun.both
    assert rerun.out == ("announcement of 2024-02-22-mathis: sent 1, skipped 3 (already sent), "
                         "skipped 1 (refused earlier; --force retries them), refused 0, "
                         "deferred 0\n")


def test_corrupt_ledger_sends_nothing(series: Path, smtp_server: Server) -> None:
    write(series / ".state" / "ledger.sqlite3", "this is not a database\n" * 100)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 1, result.both
    assert "ledger.sqlite3 is damaged" in result.err
    assert "nothing was sent" in result.err
    assert smtp_server.received == []


def test_unwritable_state_folder_sends_nothing(series: Path, smtp_server: Server) -> None:
    blocker = write(series / "not-a-folder", "x")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                 ANNOUNCE_STATE_DIR=str(blocker / "state"))
    assert result.code == 1, result.both
    assert "nothing was sent" in result.err
    assert smtp_server.received == []


def test_bad_subscriber_line_stops_before_sending(series: Path, smtp_server: Server) -> None:
    subscribe(series, 0, text="a@example.org\nnot an address\nb@example.org\nc@@example.org\n")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 2, result.both
    assert "subscribers.txt:2: 'not an address'" in result.err
    assert "subscribers.txt:4: 'c@@example.org'" in result.err
    assert smtp_server.received == []


def test_csv_with_bom_names_and_repeats(series: Path, smtp_server: Server) -> None:
    subscribe(series, 0, text="\ufeffname,email\nÅsa Öberg,asa@example.org\n"
                              "Bob,bob@example.org\n\"Dup, Bob\",BOB@example.org\n")
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    assert sorted(smtp_server.addresses()) == ["asa@example.org", "bob@example.org"]
    asa = next(r for r in smtp_server.received if r.rcpt_tos == ["asa@example.org"])
    assert asa.message["To"] == "Åsa Öberg <asa@example.org>"


def test_subscribers_added_later_get_it_next_run(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 3)
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert sorted(smtp_server.addresses()) == people
    write(series / "subscribers.txt", "\n".join([*people, "late@example.org"]) + "\n")
    assert invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                  server=smtp_server).code == 0
    assert smtp_server.addresses()[3:] == ["late@example.org"]


def deliver_directly(folder: Path, server: Server, people: list[str], timeout: float = 30,
                     connections: int = 1, **options: Any) -> tuple[dict[str, str], list[Event]]:
    """Run the send loop in this process against ``server``; return the ledger and events."""
    settings = SmtpSettings(host="127.0.0.1", port=server.port, timeout=timeout)
    with Ledger(folder) as ledger:
        campaign = ledger.campaign("talk", "announcement", force=False)
        events = list(deliver(
            [Delivery(n, (Mailbox(p),), (p,)) for n, p in enumerate(people)],
            message=lambda d: b"To: " + d.recipients[0].encode() + b"\r\n\r\nhello\r\n",
            transports=lambda: SmtpTransport(settings, "from@example.org"),
            ledger=ledger, campaign=campaign, connections=connections, pace=Pace(**options),
        ))
        return ledger.settled(campaign), events


class FakeClock:
    """A clock that moves only when the loop sleeps: rate pacing without timing anything."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_per_minute_sleeps_between_messages(tmp_path: Path, smtp_server: Server) -> None:
    fake = FakeClock()
    people = [f"p{i}@example.org" for i in range(5)]
    settled, events = deliver_directly(
        tmp_path, smtp_server, people, rate_per_minute=120, sleep=fake.sleep, clock=fake.clock)
    report = events[-1]
    assert isinstance(report, Report) and report.sent == 5
    assert fake.sleeps == [0.5, 0.5, 0.5, 0.5]
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3, 4, 5]
    assert smtp_server.addresses() == people
    assert settled == dict.fromkeys(people, "sent")


def test_ledger_rows_written_only_after_250(tmp_path: Path, smtp_server: Server) -> None:
    smtp_server.sink.faults = Faults(data=lambda n: "451 4.3.0 later")
    settled, events = deliver_directly(tmp_path, smtp_server, ["a@example.org", "b@example.org"],
                                       retry_seconds=0)
    report = events[-1]
    assert isinstance(report, Report) and report.exit_code == 75
    assert sorted(report.deferred) == ["a@example.org", "b@example.org"]
    assert settled == {}


def test_temporary_failure_retried_within_the_run(tmp_path: Path, smtp_server: Server) -> None:
    people = [f"p{i}@example.org" for i in range(5)]
    refusals = iter(["451 4.3.0 busy", "451 4.3.0 busy"])
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: next(refusals, None) if a == people[2] else None)
    fake = FakeClock()
    settled, events = deliver_directly(tmp_path, smtp_server, people, retry_seconds=30,
                                       sleep=fake.sleep, clock=fake.clock)
    report = events[-1]
    assert isinstance(report, Report) and report.exit_code == 0
    assert sorted(smtp_server.addresses()) == people
    assert fake.sleeps == [1.0, 2.0]  # backoff doubles between retries
    assert set(settled) == set(people)
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert notices == ["1 message(s) deferred by the server; retrying"] * 2


def test_a_second_run_waits_for_the_lock_then_gives_up(series: Path,
                                                       smtp_server: Server) -> None:
    with run_lock(series / ".state"):
        held = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert held.code == 75, held.both
    assert "another announce send is running for this series" in held.err
    assert smtp_server.received == []
    after = invoke(series, "send", "2024-02-22", "--today", "2024-02-20",
                   server=smtp_server)  # released: it goes
    assert after.code == 0, after.both
    assert len(smtp_server.received) == 1


def test_slow_server_times_out_and_is_left_for_the_next_run(tmp_path: Path,
                                                            smtp_server: Server) -> None:
    smtp_server.sink.faults = Faults(slow_seconds=30)  # far beyond the client's 0.2 s
    settled, events = deliver_directly(tmp_path, smtp_server, ["a@example.org"],
                                       timeout=0.2, retry_seconds=0)
    report = events[-1]
    assert isinstance(report, Report) and report.exit_code == 75
    assert report.unreached is not None and "timed out" in report.unreached
    assert settled == {}
    smtp_server.sink.faults = Faults()
    settled, events = deliver_directly(tmp_path, smtp_server, ["a@example.org"])
    assert settled == {"a@example.org": "sent"}


@pytest.mark.parametrize("connections", [1, 4])
def test_never_more_connections_than_configured(series: Path, smtp_server: Server,
                                                connections: int) -> None:
    people = subscribe(series, 120)
    smtp_server.sink.faults = Faults(slow_seconds=0.002, drop_every=25)
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    ANNOUNCE_SMTP_CONNECTIONS=str(connections))
    assert result.code == 0, result.both
    assert sorted(smtp_server.addresses()) == people
    assert 1 <= smtp_server.sink.most_open <= connections
    each_addressed_to_its_subscriber(smtp_server)


def test_one_list_message_opens_one_connection(series: Path, smtp_server: Server) -> None:
    result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    ANNOUNCE_SMTP_CONNECTIONS="8")
    assert result.code == 0, result.both
    assert smtp_server.sink.most_open == 1


def test_451_for_fifty_of_300_over_4_connections(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 300)
    deferred = set(random.Random(4).sample(people, 50))
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "451 4.7.1 try again later" if a in deferred else None)
    first = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                   ANNOUNCE_SMTP_CONNECTIONS="4")
    assert first.code == 75, first.both
    assert sorted(smtp_server.addresses()) == sorted(set(people) - deferred)
    smtp_server.sink.faults = Faults()
    before = len(smtp_server.received)
    second = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    ANNOUNCE_SMTP_CONNECTIONS="4")
    assert second.code == 0, second.both
    assert sorted(smtp_server.addresses()[before:]) == sorted(deferred)


def test_rate_per_minute_holds_for_the_run_over_several_connections(
        tmp_path: Path, smtp_server: Server) -> None:
    fake = FakeClock()
    people = [f"p{i}@example.org" for i in range(9)]
    settled, _ = deliver_directly(tmp_path, smtp_server, people, connections=3,
                                  rate_per_minute=60, sleep=fake.sleep, clock=fake.clock)
    assert settled == dict.fromkeys(people, "sent")
    assert fake.sleeps == [1.0] * 8  # nine messages a second apart, whatever the connections


def test_a_refused_login_on_one_connection_stops_the_run(series: Path) -> None:
    from smtpserver import authenticator, start_server

    server = start_server(authenticator=authenticator("seminar", "right"),
                          auth_require_tls=False)
    try:
        subscribe(series, 50)
        result = invoke(series, "send", "2024-02-22", "--today", "2024-02-20", server=server,
                        ANNOUNCE_SMTP_USERNAME="seminar", ANNOUNCE_SMTP_PASSWORD="wrong",
                        ANNOUNCE_SMTP_CONNECTIONS="4")
        assert result.code == 1, result.both
        assert "login refused" in result.err
        assert server.received == []
        # aiosmtpd opens one connection itself when it starts; then the one login attempt.
        assert server.sink.connections == 2, "one failed login, not one per connection"
    finally:
        server.controller.stop()
