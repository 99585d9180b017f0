"""Throughput: announce's whole send run against floors measured in the same run.

    python bench/throughput.py [--subscribers 3000] [--rounds 5]
    python bench/throughput.py --rtt-ms 50 [--subscribers 400] [--connections 4]

Every side is counted at the sink: a run that did not deliver every message is an error, not
a figure. Rounds alternate which side goes first; medians are compared.

On loopback, announce runs as a cron job would (a new process, a fresh ledger, a subscriber
file of N lines) on one connection, against two floors on one connection, each in its own
process, sending the prebuilt bytes of the same message to the same addresses: the smtplib
loop (goal: announce <= 1.15x) and the one-round-trip client below (goal: <= 1.1x). All talk
to the same local sink (bench/sink.py) in a process of its own. If mailmerge is installed, it
is measured too.

On loopback, the list is also sent at a third of its length: the two sizes part each side's
fixed cost (start-up, imports, render, checks, shutdown) from its cost a message.

With --rtt-ms, everything goes through a proxy that delays each direction by half that
(bench/proxy.py), as a relay at that distance would; announce with N connections is set
against the one-round-trip client on N connections (goal: announce <= 1.15x), and, with
--smtplib-loop, the one-connection smtplib loop. The one-round-trip client is the physical
limit: RFC 2920 3.1 lets the end of a message's data and the next message's MAIL, RCPT and
DATA share a write, so each message costs one round trip.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FLOOR = """
import smtplib, sys
data = open(sys.argv[3], "rb").read()
addresses = open(sys.argv[4]).read().split()
with smtplib.SMTP("127.0.0.1", int(sys.argv[2])) as smtp:
    for address in addresses:
        smtp.sendmail(sys.argv[1], [address], data)
"""


REFERENCE = """
import re, smtplib, sys, threading
sender, port, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[5])
body = re.sub(rb"(?m)^\\.", b"..", open(sys.argv[3], "rb").read())
body += b"" if body.endswith(b"\\r\\n") else b"\\r\\n"
addresses = open(sys.argv[4]).read().split()

def envelope(address):
    return f"MAIL FROM:<{sender}>\\r\\nRCPT TO:<{address}>\\r\\nDATA\\r\\n".encode()

def work(share):
    # One round trip a message: each body's end goes with the next envelope (RFC 2920 3.1).
    smtp = smtplib.SMTP("127.0.0.1", port)
    smtp.ehlo()
    if share:
        smtp.send(envelope(share[0]))
    for index, address in enumerate(share):
        replies = [smtp.getreply()[0] for _ in range(3)]
        assert replies == [250, 250, 354], replies
        following = envelope(share[index + 1]) if index + 1 < len(share) else b""
        smtp.send(body + b".\\r\\n" + following)
        assert smtp.getreply()[0] == 250
    smtp.quit()

threads = [threading.Thread(target=work, args=(addresses[i::connections],))
           for i in range(connections)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_mailmerge(command: str, work: Path, eml: Path, addresses: list[str], *, port: int,
                  env: dict[str, str]) -> float:
    """Send the same message to the same list with mailmerge; return its whole-run time."""
    folder = work / "mailmerge"
    folder.mkdir()
    head, _, body = eml.read_text(encoding="utf-8").partition("\n\n")
    headers = [line for line in head.splitlines() if not line.startswith(("To:", "Message-ID:"))]
    (folder / "template.txt").write_text("TO: {{email}}\n" + "\n".join(headers) + "\n\n" + body)
    (folder / "database.csv").write_text("email\n" + "\n".join(addresses) + "\n")
    (folder / "server.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nratelimit = 0\n")
    return timed([command, "--no-dry-run", "--no-limit", "--output-format", "raw",
                  "--template", str(folder / "template.txt"),
                  "--database", str(folder / "database.csv"),
                  "--config", str(folder / "server.conf")], env)


class Bench:
    """A series with N subscribers, a sink in its own process, and the message's bytes."""

    def __init__(self, subscribers: int) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="announce-bench-"))
        root = self.work / "series"
        shutil.copytree(REPO / "seminars", root / "seminars")
        settings = root / "seminars" / "series.yaml"
        settings.write_text(settings.read_text().replace(
            "  to: lm-seminar-list@example.org\n", "  recipients_file: subscribers.txt\n"))
        self.addresses = [f"subscriber{i}@example.org" for i in range(subscribers)]
        (root / "subscribers.txt").write_text("\n".join(self.addresses) + "\n")
        self.address_file = self.work / "addresses.txt"
        self.address_file.write_text("\n".join(self.addresses))
        self.port = free_port()
        self.sink = subprocess.Popen([sys.executable, str(HERE / "sink.py"), str(self.port)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.sink.stdout is not None
        self.sink.stdout.readline()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
        self.env.update(ANNOUNCE_ROOT=str(root), ANNOUNCE_SMTP_HOST="127.0.0.1",
                        ANNOUNCE_SMTP_PORT=str(self.port))
        self.eml = self.work / "preview" / "message.eml"
        subprocess.run([sys.executable, "-m", "mailer", "preview", "2024-02-22", "--out",
                        str(self.eml.parent)], check=True, env=self.env,
                       stdout=subprocess.DEVNULL)
        self.runs = [0]  # shared with the cut() of this bench
        self.delivered = [0]  # the sink's count at the last check

    def cut(self, count: int) -> Bench:
        """The same sink and message, for the first ``count`` subscribers only."""
        part = copy.copy(self)
        root = self.work / f"series-{count}"
        shutil.copytree(self.work / "series", root)
        part.addresses = self.addresses[:count]
        (root / "subscribers.txt").write_text("\n".join(part.addresses) + "\n")
        part.address_file = self.work / f"addresses-{count}.txt"
        part.address_file.write_text("\n".join(part.addresses))
        part.env = {**self.env, "ANNOUNCE_ROOT": str(root)}
        return part

    def counted(self, seconds: float) -> float:
        """Check at the sink that the run just timed delivered every message; pass its time."""
        assert self.sink.stdout is not None
        self.sink.send_signal(signal.SIGUSR1)
        count = int(self.sink.stdout.readline())
        got, self.delivered[0] = count - self.delivered[0], count
        if got != len(self.addresses):
            raise SystemExit(f"a run delivered {got} of {len(self.addresses)} messages")
        return seconds

    def floor(self, port: int) -> list[str]:
        """The one-connection smtplib loop sending the prebuilt bytes."""
        return [sys.executable, "-c", FLOOR, "lm-seminar@example.org", str(port),
                str(self.eml), str(self.address_file)]

    def reference(self, port: int, connections: int) -> list[str]:
        """The pipelined reference client on ``connections`` connections."""
        return [sys.executable, "-c", REFERENCE, "lm-seminar@example.org", str(port),
                str(self.eml), str(self.address_file), str(connections)]

    def announce(self, port: int, connections: int | None = None) -> float:
        """Time one whole ``announce send`` with a fresh ledger."""
        self.runs[0] += 1
        env = {**self.env, "ANNOUNCE_STATE_DIR": str(self.work / f"state{self.runs[0]}"),
               "ANNOUNCE_SMTP_PORT": str(port)}
        env["ANNOUNCE_SMTP_CONNECTIONS"] = str(connections or 1)
        return self.counted(timed([sys.executable, "-m", "mailer", "send", "2024-02-22",
                                   "--quiet", "--today", "2024-02-20"], env))

    def side(self, command: list[str]) -> float:
        """Time a floor or reference command, counted at the sink."""
        return self.counted(timed(command, self.env))

    def close(self) -> None:
        self.sink.terminate()
        self.sink.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def alternate(sides: dict[str, object], rounds: int) -> dict[str, float]:
    """Run each side once a round, who goes first turning each round; return the medians."""
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            run = sides[name]
            times[name].append(run())  # type: ignore[operator]
    return {name: statistics.median(values) for name, values in times.items()}


def line_fit(small: tuple[int, float], large: tuple[int, float]) -> tuple[float, float]:
    """The fixed cost and the cost a message of a side, from its times at two list sizes."""
    (n1, t1), (n2, t2) = small, large
    each = (t2 - t1) / (n2 - n1)
    return t1 - n1 * each, each


def loopback(bench: Bench, args: argparse.Namespace) -> None:
    """announce on one connection against the smtplib loop and the one-round-trip client, at
    the whole list and at a third of it: the difference parts the fixed cost (start-up,
    render, checks, shutdown) from the cost a message."""
    port = bench.port
    count = len(bench.addresses)
    third = max(1, count // 3)
    part = bench.cut(third)
    medians = alternate({
        "floor": lambda: bench.side(bench.floor(port)),
        "reference": lambda: bench.side(bench.reference(port, 1)),
        "announce": lambda: bench.announce(port, 1),
        "reference-third": lambda: part.side(part.reference(port, 1)),
        "announce-third": lambda: part.announce(port, 1),
    }, args.rounds)
    floor, reference, announce = medians["floor"], medians["reference"], medians["announce"]
    ours = line_fit((third, medians["announce-third"]), (count, announce))
    theirs = line_fit((third, medians["reference-third"]), (count, reference))
    print(f"loopback; subscribers: {count} (and {third}), rounds: {args.rounds}, one "
          "connection each, every run counted at the sink")
    print(f"smtplib loop (prebuilt bytes):   {count / floor:,.0f} messages/s")
    print(f"one-round-trip client:           {count / reference:,.0f} messages/s")
    print(f"announce send (whole run):       {count / announce:,.0f} messages/s")
    print(f"fixed cost: announce {ours[0]:.3f} s (start-up, imports, render, checks, "
          f"shutdown), one-round-trip client {theirs[0]:.3f} s")
    print(f"a message: announce {ours[1] * 1e6:.0f} us, one-round-trip client "
          f"{theirs[1] * 1e6:.0f} us, ratio {ours[1] / theirs[1]:.3f}")
    print(f"ratio announce/smtplib loop: {announce / floor:.3f} (goal <= 1.15)")
    print(f"ratio announce/one-round-trip client: {announce / reference:.3f} (goal <= 1.1)")
    if args.mailmerge:
        seconds = run_mailmerge(args.mailmerge, bench.work, bench.eml, bench.addresses,
                                port=bench.port, env=bench.env)
        print(f"mailmerge (whole run, one round): {count / seconds:,.0f} messages/s; "
              f"announce is {seconds / announce:.1f}x faster (goal >= 3)")
    else:
        print("mailmerge: not found (pipx install mailmerge, or --mailmerge PATH, to compare)")


def distance(bench: Bench, args: argparse.Namespace) -> None:
    """announce, the pipelined reference and the smtplib loop through a delaying proxy."""
    port = free_port()
    proxy = subprocess.Popen([sys.executable, str(HERE / "proxy.py"), str(port),
                              str(bench.port), str(args.rtt_ms)], stdout=subprocess.PIPE,
                             text=True)
    assert proxy.stdout is not None
    proxy.stdout.readline()
    try:
        medians = alternate({
            "reference": lambda: bench.side(bench.reference(port, args.connections)),
            "announce": lambda: bench.announce(port, args.connections),
        }, args.rounds)
        loop = bench.side(bench.floor(port)) if args.smtplib_loop else None
    finally:
        proxy.terminate()
        proxy.wait()
    announce, reference = medians["announce"], medians["reference"]
    print(f"round trip {args.rtt_ms:g} ms (proxy); subscribers: {len(bench.addresses)}, "
          f"connections: {args.connections}, rounds: {args.rounds}")
    if loop is not None:
        print(f"smtplib loop, one connection:   {loop:7.2f} s "
              f"(announce is {loop / announce:.1f}x faster)")
    print(f"one-round-trip client, {args.connections} conn.: {reference:7.2f} s")
    print(f"announce send, {args.connections} conn.:         {announce:7.2f} s")
    rtts = len(bench.addresses) / args.connections
    print(f"a message a connection: announce {announce / rtts * 1000:.1f} ms, one-round-trip "
          f"client {reference / rtts * 1000:.1f} ms (one round trip: {args.rtt_ms:g} ms)")
    print(f"ratio announce/one-round-trip client: {announce / reference:.2f} (goal <= 1.15)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=None,
                        help="default: 3000 on loopback, 400 with --rtt-ms")
    parser.add_argument("--rounds", type=int, default=None,
                        help="default: 5 on loopback, 3 with --rtt-ms")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="send through a proxy that adds this round trip")
    parser.add_argument("--connections", type=int, default=4,
                        help="connections for announce and the reference (with --rtt-ms)")
    parser.add_argument("--smtplib-loop", action="store_true",
                        help="with --rtt-ms, also time the one-connection smtplib loop (four "
                             "round trips a message: minutes at 1,000 subscribers)")
    parser.add_argument("--mailmerge", default=shutil.which("mailmerge"),
                        help="the mailmerge command to compare with (default: found on PATH)")
    args = parser.parse_args()
    far = args.rtt_ms > 0
    args.subscribers = args.subscribers or (400 if far else 3000)
    args.rounds = args.rounds or (3 if far else 5)
    bench = Bench(args.subscribers)
    try:
        (distance if far else loopback)(bench, args)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
