"""Throughput: announce's whole send run against the smtplib floor, measured in the same run.

    python bench/throughput.py [--subscribers 3000] [--rounds 3]

The floor is one smtplib connection, in its own process, sending the prebuilt bytes of the same
message to the same addresses. announce runs as a cron job would: a new process, a fresh
ledger, a subscriber file of N lines. Both talk to the same local sink (bench/sink.py) in a
third process. Rounds alternate floor and announce; the medians' ratio is printed.
Goal: announce <= 1.15x the floor. If mailmerge is installed, it is measured the same way.
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mailmerge", default=shutil.which("mailmerge"),
                        help="the mailmerge command to compare with (default: found on PATH)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="announce-bench-"))
    root = work / "series"
    shutil.copytree(REPO / "seminars", root / "seminars")
    settings = root / "seminars" / "series.yaml"
    settings.write_text(settings.read_text().replace(
        "  to: lm-seminar-list@example.org\n", "  recipients_file: subscribers.txt\n"))
    addresses = [f"subscriber{i}@example.org" for i in range(args.subscribers)]
    (root / "subscribers.txt").write_text("\n".join(addresses) + "\n")

    port = free_port()
    sink = subprocess.Popen([sys.executable, str(HERE / "sink.py"), str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    sink.stdout.readline()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    env.update(ANNOUNCE_ROOT=str(root), ANNOUNCE_SMTP_HOST="127.0.0.1",
               ANNOUNCE_SMTP_PORT=str(port))
    try:
        preview = work / "preview"
        subprocess.run([sys.executable, "-m", "mailer", "preview", "2024-02-22", "--out",
                        str(preview)], check=True, env=env, stdout=subprocess.DEVNULL)
        (work / "addresses.txt").write_text("\n".join(addresses))
        floor_cmd = [sys.executable, "-c", FLOOR, "lm-seminar@example.org", str(port),
                     str(preview / "message.eml"), str(work / "addresses.txt")]
        floors, ours = [], []
        for round_ in range(args.rounds):
            floors.append(timed(floor_cmd, env))
            state = work / f"state{round_}"
            ours.append(timed([sys.executable, "-m", "mailer", "send", "2024-02-22", "--quiet"],
                              {**env, "ANNOUNCE_STATE_DIR": str(state)}))
        floor, announce = statistics.median(floors), statistics.median(ours)
        print(f"subscribers: {args.subscribers}, rounds: {args.rounds}")
        print(f"floor (smtplib, prebuilt bytes): {args.subscribers / floor:,.0f} messages/s")
        print(f"announce send (whole run):       {args.subscribers / announce:,.0f} messages/s")
        print(f"ratio announce/floor: {announce / floor:.3f} (goal <= 1.15)")
        if args.mailmerge:
            seconds = run_mailmerge(args.mailmerge, work, preview / "message.eml", addresses,
                                    port=port, env=env)
            print(f"mailmerge (whole run, one round): {args.subscribers / seconds:,.0f} "
                  f"messages/s; announce is {seconds / announce:.1f}x faster (goal >= 3)")
        else:
            print("mailmerge: not found (pipx install mailmerge, or --mailmerge PATH, to compare)")
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
