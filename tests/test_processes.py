"""Where a process is the point: kill -9 in the middle of a send, and a real terminal."""

from __future__ import annotations

import os
import pty
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import Faults, Server, cli_env, popen, run, subscribe


def kill_after(series: Path, server: Server, received: int, connections: int) -> None:
    """Start a send and kill -9 it once the server has ``received`` messages in all."""
    process = popen(series, "send", "2024-02-22", "--quiet", server=server,
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
    result = run(series, "send", "2024-02-22", server=smtp_server)
    assert result.code == 0, result.both
    got = smtp_server.counts()
    assert set(got) == set(people)
    extra = sum(got.values()) - len(people)
    assert extra <= 5 * connections, "more than one extra copy per connection at a kill"


def test_progress_bar_on_a_terminal_and_not_in_a_pipe(series: Path, smtp_server: Server) -> None:
    subscribe(series, 60)
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    process = subprocess.Popen([sys.executable, "-m", "mailer", "send", "2024-02-22"],
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
    piped = run(series, "send", "2024-02-22", "--force", server=smtp_server)
    assert "60/60" not in piped.both
    assert "sent 60" in piped.out
