"""Where a process is the point: kill -9 in the middle of a send, and a real terminal."""

from __future__ import annotations

import collections
import os
import pty
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runners import cli_env, popen, run
from seriesfiles import edit, subscribe, write
from smtpserver import Faults, Server


def kill_after(series: Path, server: Server, received: int, connections: int,
               command: tuple[str, ...] = ("send", "2024-02-22", "--today", "2024-02-20"),
               ) -> None:
    """Start a send and kill -9 it once the server has ``received`` messages in all."""
    process = popen(series, *command, "--quiet", server=server,
                    ANNOUNCE_SMTP_CONNECTIONS=str(connections))
    deadline = time.monotonic() + 60
    while len(server.received) < received and process.poll() is None:
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("connections", [1, 4])
def test_five_kills_at_random_moments_lose_nobody(series: Path, smtp_server: Server,
                                                  connections: int) -> None:
    people = subscribe(series, 1000)
    rng = random.Random(5)
    smtp_server.sink.faults = Faults(slow_seconds=0.0002)
    for _ in range(5):
        kill_after(series, smtp_server, len(smtp_server.received) + rng.randint(30, 150),
                   connections)
    assert len(smtp_server.received) < len(people), "the kills came too late to test a resume"
    smtp_server.sink.faults = Faults()
    result = run(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    got = smtp_server.counts()
    assert set(got) == set(people)
    extra = sum(got.values()) - len(people)
    assert extra <= 5 * connections, "more than one extra copy per connection at a kill"


def test_a_killed_update_resumes_to_the_same_audience(series: Path,
                                                      smtp_server: Server) -> None:
    people = subscribe(series, 400)
    assert run(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server).code == 0
    moved = run(series, "move", "2024-02-22", "2024-02-23", "--today", "2024-02-20")
    assert moved.code == 0, moved.both
    smtp_server.sink.faults = Faults(slow_seconds=0.0005)
    start = len(smtp_server.received)
    for _ in range(2):
        kill_after(series, smtp_server, len(smtp_server.received) + 60, 2,
                   ("send", "--due", "--now", "2024-02-20T09:00"))
    updates = smtp_server.received[start:]
    assert 0 < len(updates) < len(people), "the kills came too late to test a resume"
    write(series / "subscribers.txt", "\n".join([*people, "late@example.org"]) + "\n")
    smtp_server.sink.faults = Faults()
    result = run(series, "send", "--due", "--now", "2024-02-20T09:00", server=smtp_server)
    assert result.code == 0, result.both
    got = collections.Counter(r.rcpt_tos[0] for r in smtp_server.received[start:]
                              if str(r.message["Subject"]).startswith("Moved:"))
    assert set(got) == set(people), result.both  # the late one gets the announcement instead
    assert sum(got.values()) - len(people) <= 2 * 2, "more than one extra copy a connection"
    late = [str(r.message["Subject"]) for r in smtp_server.received[start:]
            if r.rcpt_tos == ["late@example.org"]]
    assert late == ["Learning Machines seminar 2024-02-23 15:00: Measuring behavior and "
                    "modeling the brain with machine learning (Alexander Mathis, EPFL)"]


def test_progress_bar_on_a_terminal_and_not_in_a_pipe(series: Path, smtp_server: Server) -> None:
    subscribe(series, 60)
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    process = subprocess.Popen([sys.executable, "-m", "mailer", "send", "2024-02-22",
                                "--today", "2024-02-20"],
                               stdout=subprocess.PIPE, stderr=secondary,
                               env={**env, **cli_env(series, smtp_server)}, cwd=series)
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
    piped = run(series, "send", "2024-02-22", "--force", "--today", "2024-02-20",
                server=smtp_server)
    assert "60/60" not in piped.both
    assert "sent 60" in piped.out


def signal_at(server: Server, count: int, process: subprocess.Popen[str], number: int) -> None:
    """Have the server itself send ``number`` to ``process`` when it takes its ``count``-th
    message from now on (so no test loop polls for the moment)."""
    start = len(server.received)

    def reply(received: int) -> str | None:
        if received - start == count - 1:
            os.kill(process.pid, number)
        return None
    server.sink.faults = Faults(data=reply)


def test_twenty_signals_at_random_moments_lose_nobody_and_never_hang(
        series: Path, smtp_server: Server) -> None:
    people = subscribe(series, 2000)
    edit(series / "seminars" / "series.yaml", ("    security: none\n",
                                               "    security: none\n    timeout: 5\n"))
    rng = random.Random(19)
    stopped = 0
    for _ in range(20):
        number = rng.choice([signal.SIGINT, signal.SIGTERM])
        process = popen(series, "send", "2024-02-22", "--quiet", "--today", "2024-02-20",
                        server=smtp_server, ANNOUNCE_SMTP_CONNECTIONS="3")
        signal_at(smtp_server, rng.randint(1, 150), process, number)
        _, err = process.communicate(timeout=5 + 5)  # the timeout, and 5 s more
        if process.returncode == 0:
            continue  # it finished before the server's moment came
        assert process.returncode == 128 + number, err
        assert "stopped by a signal" in err and "Traceback" not in err, err
        stopped += 1
    assert stopped >= 15, "the signals came too late to test a stop"
    assert len(smtp_server.received) < len(people)
    smtp_server.sink.faults = Faults()
    result = run(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)
    assert result.code == 0, result.both
    got = smtp_server.counts()
    assert set(got) == set(people)
    assert sum(got.values()) == len(people), "a stopped run left a message unrecorded"


def test_a_second_signal_stops_at_once(series: Path, smtp_server: Server) -> None:
    subscribe(series, 50)
    process = popen(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server)

    def first_signal(address: str) -> None:  # at the first RCPT; its DATA then takes 25 s
        os.kill(process.pid, signal.SIGINT)
    smtp_server.sink.faults = Faults(rcpt=first_signal, slow_seconds=25)
    assert process.stderr is not None
    for line in process.stderr:  # the run says it is stopping, then waits for the reply
        if "stopping: no new message starts" in line:
            break
    else:
        pytest.fail("the run never said it was stopping")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)  # far less than the 25 s the reply would take
    assert process.returncode == 130
    assert "second signal: stopping at once" in err


def test_a_signal_while_the_relay_hangs_ends_within_the_timeout(series: Path,
                                                                smtp_server: Server) -> None:
    subscribe(series, 50)
    edit(series / "seminars" / "series.yaml", ("    security: none\n",
                                               "    security: none\n    timeout: 2\n"))
    process = popen(series, "send", "2024-02-22", "--today", "2024-02-20", server=smtp_server,
                    ANNOUNCE_SMTP_CONNECTIONS="3")
    faults = smtp_server.sink.faults

    def fifth(received: int) -> None:  # signal at the fifth message; none answered after it
        if received == 4:
            os.kill(process.pid, signal.SIGTERM)
            faults.slow_seconds = 60
    faults.data = fifth
    _, err = process.communicate(timeout=2 + 5)
    assert process.returncode == 143, err
    smtp_server.sink.faults = Faults()
    again = run(series, "send", "2024-02-22", "--today", "2024-02-20",
                server=smtp_server)  # the lock is free
    assert again.code == 0, again.both
