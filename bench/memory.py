"""Peak memory of a whole ``announce send``: 30,000 subscribers against 300, in the same run.

    python bench/memory.py [--small 300] [--large 30000]

Each send runs as a cron job would (a new process, a fresh ledger) against the local sink
(bench/sink.py); its peak resident set size comes from the kernel (wait4). Subscribers are
read once and messages are made one at a time from the shared blueprint, so memory should
hardly grow with the list. Goal: large / small <= 1.2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from throughput import Bench  # the script beside this one: its folder is on sys.path


def peak_kib(bench: Bench) -> int:
    """Run one send; return its peak resident set size in KiB."""
    env = {**bench.env, "ANNOUNCE_STATE_DIR": str(bench.work / "state")}
    process = subprocess.Popen([sys.executable, "-m", "mailer", "send", "2024-02-22", "--quiet",
                                "--today", "2024-02-20"],
                               env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    return int(usage.ru_maxrss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=30_000)
    args = parser.parse_args()
    peaks = {}
    for count in (args.small, args.large):
        bench = Bench(count)
        try:
            peaks[count] = peak_kib(bench)
        finally:
            bench.close()
    small, large = peaks[args.small], peaks[args.large]
    print(f"peak memory, {args.small:,} subscribers: {small / 1024:6.1f} MiB")
    print(f"peak memory, {args.large:,} subscribers: {large / 1024:6.1f} MiB")
    print(f"ratio: {large / small:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
