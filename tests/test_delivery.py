"""Cron-safe delivery to subscriber lists: faults injected by a real server, kill -9, the lock."""

from __future__ import annotations

import collections
import os
import pty
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Faults, Server, cli_env, edit, popen, run, use_subscriber_file, write

from mailer.config import SmtpSettings
from mailer.deliver import Delivery, Event, Progress, Report, deliver
from mailer.ledger import Ledger
from mailer.transport import SmtpTransport


def subscribe(root: Path, count: int, *, text: str | None = None) -> list[str]:
    """Point the series at a subscriber file of ``count`` addresses; return them."""
    addresses = [f"person{i:05d}@example.org" for i in range(count)]
    write(root / "subscribers.txt", text if text is not None else "\n".join(addresses) + "\n")
    use_subscriber_file(root, "subscribers.txt")
    return addresses


def counts(server: Server) -> collections.Counter[str]:
    return collections.Counter(server.addresses())


def each_addressed_to_its_subscriber(server: Server) -> None:
    for item in server.received:
        assert len(item.rcpt_tos) == 1
        assert item.message["To"] == item.rcpt_tos[0]


def test_451_for_fifty_then_rerun_delivers_exactly_them(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 300)
    deferred = set(random.Random(3).sample(people, 50))
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "451 4.7.1 try again later" if a in deferred else None)
    first = run(series, "send", "2024-02-22", server=smtp_server)
    assert first.code == 75, first.both
    assert set(smtp_server.addresses()) == set(people) - deferred
    assert counts(smtp_server).most_common(1)[0][1] == 1
    each_addressed_to_its_subscriber(smtp_server)
    assert "deferred 50" in first.err
    smtp_server.sink.faults = Faults()
    before = len(smtp_server.received)
    second = run(series, "send", "2024-02-22", server=smtp_server)
    assert second.code == 0, second.both
    assert set(smtp_server.addresses()[before:]) == deferred
    assert len(smtp_server.received) - before == 50
    assert "skipped 250" in second.out


def test_550_exits_1_names_refused_and_is_not_retried(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 40)
    refused = {people[3], people[17]}
    smtp_server.sink.faults = Faults(
        rcpt=lambda a: "550 5.1.1 no such user" if a in refused else None)
    first = run(series, "send", "2024-02-22", server=smtp_server)
    assert first.code == 1, first.both
    for address in refused:
        assert f"refused (permanent, not retried without --force): {address}: 550" in first.err
    assert len(smtp_server.received) == 38
    smtp_server.sink.faults = Faults()
    again = run(series, "send", "2024-02-22", server=smtp_server)
    assert again.code == 0, again.both
    assert len(smtp_server.received) == 38
    forced = run(series, "send", "2024-02-22", "--force", server=smtp_server)
    assert forced.code == 0
    assert counts(smtp_server)[people[3]] == 1
    assert len(smtp_server.received) == 78


def test_554_at_data_exits_1(series: Path, smtp_server: Server) -> None:
    smtp_server.sink.faults = Faults(data=lambda n: "554 5.6.0 message refused")
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 1, result.both
    assert "lm-seminar-list@example.org: 554" in result.err


def test_both_kinds_exit_75_and_name_the_permanent(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 10)
    replies = {people[1]: "550 5.1.1 gone", people[2]: "452 4.2.2 mailbox full"}
    smtp_server.sink.faults = Faults(rcpt=replies.get)
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 75
    assert f"{people[1]}: 550" in result.err


def test_dropped_connection_every_150_everyone_delivered(series: Path,
                                                        smtp_server: Server) -> None:
    people = subscribe(series, 500)
    smtp_server.sink.faults = Faults(drop_every=150)
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 0, result.both
    assert counts(smtp_server) == collections.Counter(people)
    assert smtp_server.sink.connections >= 4


def test_temporary_failure_retried_within_the_run(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 5)
    seen: set[str] = set()

    def once(address: str) -> str | None:
        if address == people[2] and address not in seen:
            seen.add(address)
            return "451 4.3.0 busy"
        return None

    smtp_server.sink.faults = Faults(rcpt=once)
    result = run(series, "send", "2024-02-22", server=smtp_server, ANNOUNCE_RETRY_SECONDS="3")
    assert result.code == 0, result.both
    assert counts(smtp_server) == collections.Counter(people)


def kill_after(series: Path, server: Server, received: int) -> None:
    process = popen(series, "send", "2024-02-22", "--quiet", server=server)
    deadline = time.monotonic() + 60
    while len(server.received) < received and process.poll() is None:
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_9_then_rerun_loses_nobody(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 2000)
    smtp_server.sink.faults = Faults(slow_seconds=0.0005)
    kill_after(series, smtp_server, 700)
    assert 700 <= len(smtp_server.received) < 2000
    smtp_server.sink.faults = Faults()
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 0, result.both
    got = counts(smtp_server)
    assert set(got) == set(people)
    assert sum(got.values()) - len(people) <= 1


def test_five_kills_at_random_moments(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 3000)
    rng = random.Random(5)
    smtp_server.sink.faults = Faults(slow_seconds=0.0002)
    for _ in range(5):
        kill_after(series, smtp_server, len(smtp_server.received) + rng.randint(50, 450))
    smtp_server.sink.faults = Faults()
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 0, result.both
    got = counts(smtp_server)
    assert set(got) == set(people)
    assert sum(got.values()) - len(people) <= 5


def test_second_run_waits_then_exits_75_without_duplicates(series: Path,
                                                          smtp_server: Server) -> None:
    people = subscribe(series, 120)
    smtp_server.sink.faults = Faults(slow_seconds=0.07)
    first = popen(series, "send", "2024-02-22", server=smtp_server)
    while not smtp_server.received:
        time.sleep(0.01)
    second = run(series, "send", "2024-02-22", server=smtp_server)
    assert second.code == 75, second.both
    assert "another announce send is running" in second.err
    assert first.wait(timeout=60) == 0
    assert counts(smtp_server) == collections.Counter(people)


def test_corrupt_ledger_sends_nothing(series: Path, smtp_server: Server) -> None:
    write(series / ".state" / "ledger.sqlite3", "this is not a database\n" * 100)
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 1, result.both
    assert "ledger.sqlite3 cannot be used" in result.err
    assert "nothing was sent" in result.err
    assert smtp_server.received == []


def test_unwritable_state_folder_sends_nothing(series: Path, smtp_server: Server) -> None:
    blocker = write(series / "not-a-folder", "x")
    result = run(series, "send", "2024-02-22", server=smtp_server,
                 ANNOUNCE_STATE_DIR=str(blocker / "state"))
    assert result.code == 1, result.both
    assert "nothing was sent" in result.err
    assert smtp_server.received == []


def test_bad_subscriber_line_stops_before_sending(series: Path, smtp_server: Server) -> None:
    subscribe(series, 0, text="a@example.org\nnot an address\nb@example.org\nc@@example.org\n")
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 2, result.both
    assert "subscribers.txt:2: 'not an address'" in result.err
    assert "subscribers.txt:4: 'c@@example.org'" in result.err
    assert smtp_server.received == []


def test_csv_with_bom_names_and_repeats(series: Path, smtp_server: Server) -> None:
    subscribe(series, 0, text="\ufeffname,email\nÅsa Öberg,asa@example.org\n"
                              "Bob,bob@example.org\n\"Dup, Bob\",BOB@example.org\n")
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 0, result.both
    assert smtp_server.addresses() == ["asa@example.org", "bob@example.org"]
    assert smtp_server.received[0].message["To"] == "Åsa Öberg <asa@example.org>"


def test_subscribers_added_later_get_it_next_run(series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 3)
    assert run(series, "send", "2024-02-22", server=smtp_server).code == 0
    write(series / "subscribers.txt", "\n".join([*people, "late@example.org"]) + "\n")
    assert run(series, "send", "2024-02-22", server=smtp_server).code == 0
    assert smtp_server.addresses() == [*people, "late@example.org"]


def deliver_directly(folder: Path, server: Server, people: list[str],
                     **options: Any) -> tuple[Ledger, int, list[Event]]:
    """Run the send loop in this process against ``server``; return the ledger and events."""
    ledger = Ledger(folder)
    campaign = ledger.campaign("talk", "announcement", force=False)
    events = list(deliver(
        [Delivery((p,), (p,)) for p in people],
        message=lambda to: b"To: " + to[0].encode() + b"\r\n\r\nhello\r\n",
        transport=SmtpTransport(SmtpSettings(host="127.0.0.1", port=server.port),
                                "from@example.org"),
        ledger=ledger, campaign=campaign, **options,
    ))
    return ledger, campaign, events


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
    _, _, events = deliver_directly(
        tmp_path, smtp_server, people, rate_per_minute=120, sleep=fake.sleep, clock=fake.clock)
    report = events[-1]
    assert isinstance(report, Report) and report.sent == 5
    assert fake.sleeps == [0.5, 0.5, 0.5, 0.5]
    assert [e.done for e in events if isinstance(e, Progress)] == [1, 2, 3, 4, 5]
    assert smtp_server.addresses() == people
    rows = sqlite3.connect(tmp_path / "ledger.sqlite3").execute(
        "SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()
    assert rows == (5,)


@pytest.mark.parametrize("count", [1])
def test_ledger_rows_written_only_after_250(tmp_path: Path, smtp_server: Server,
                                            count: int) -> None:
    smtp_server.sink.faults = Faults(data=lambda n: "451 4.3.0 later")
    ledger, campaign, events = deliver_directly(tmp_path, smtp_server, ["a@example.org"] * count,
                                                retry_seconds=0)
    report = events[-1]
    assert isinstance(report, Report) and report.exit_code == 75
    assert ledger.finished(campaign) == set()


def test_slow_server_times_out_and_exits_75(series: Path, smtp_server: Server) -> None:
    edit(series / "seminars" / "series.yaml",
         ("    security: none\n", "    security: none\n    timeout: 1\n"))
    smtp_server.sink.faults = Faults(slow_seconds=2.5)
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 75, result.both
    assert "timed out" in result.err
    smtp_server.sink.faults = Faults()
    again = run(series, "send", "2024-02-22", server=smtp_server)
    assert again.code == 0, again.both


def test_progress_bar_on_a_terminal_and_not_in_a_pipe(series: Path, smtp_server: Server) -> None:
    subscribe(series, 60)
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "mailer", "send", "2024-02-22"],
                               stdout=subprocess.PIPE, stderr=secondary,
                               env=cli_env(series, smtp_server), cwd=series)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=60) == 0
    os.close(primary)
    screen = b"".join(chunks).decode()
    assert "] 60/60" in screen and "[" + "#" * 30 + "]" in screen
    piped = run(series, "send", "2024-02-22", "--force", server=smtp_server)
    assert "60/60" not in piped.both
    assert "sent 60" in piped.out
