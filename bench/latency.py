"""Start-up latency: announce against floors measured in the same run, as ratios.

    python bench/latency.py [--pairs 7]

Each figure is the median of PAIRS alternating runs (floor, announce, floor, announce ...):
- `announce --help` against the `--help` of a one-command Typer app with Typer's defaults
  (same Python, same Typer). Goal <= 1.0.
- `announce send --dry-run` on the bundled example against
  `python -c "import jinja2, yaml, markdown, premailer, typer, icalendar"`. Goal <= 1.3.
- the same dry run in a folder holding 5,000 past talks against one holding 20. Goal <= 1.1.
- `send --due` with nothing due (what cron runs every 15 minutes), 5,000 past talks against 20.
  Goal <= 1.1.
- `check` at 17, 1,000 and 5,000 talks: linear in the archive, (t(5,000) - t(17)) <=
  5.5 x (t(1,000) - t(17)); the three times and the cost per talk are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parent.parent
ONE_COMMAND_APP = '''
import typer

app = typer.Typer()


@app.command()
def main(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


app()
'''


def seconds(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def ratio(floor: list[str], ours: list[str], pairs: int, *, floor_cwd: Path, ours_cwd: Path,
          env: dict[str, str]) -> tuple[float, float, float]:
    """Return (floor median, ours median, ratio) over alternating runs, after one warm-up each."""
    seconds(floor, floor_cwd, env)
    seconds(ours, ours_cwd, env)
    floors, mine = [], []
    for _ in range(pairs):
        floors.append(seconds(floor, floor_cwd, env))
        mine.append(seconds(ours, ours_cwd, env))
    a, b = statistics.median(floors), statistics.median(mine)
    return a, b, b / a


def series_with_past(folder: Path, past: int) -> Path:
    """Copy the bundled example and add ``past`` weekly talks before it."""
    shutil.copytree(REPO / "seminars", folder / "seminars")
    day = date(2024, 2, 15)
    for index in range(past):
        (folder / "seminars" / f"{day.isoformat()}-speaker-{index}.yaml").write_text(
            f"date: {day.isoformat()}\nspeaker: Speaker {index}\naffiliation: Somewhere\n"
            f"title: Talk number {index}\nabstract: |\n  An abstract.\nbio: |\n  A bio.\n")
        day -= timedelta(days=7)
    return folder


def check_growth(work: Path, announce: list[str], pairs: int, env: dict[str, str]) -> str:
    """Time `check` at 17, 1,000 and 5,000 talks (medians); say whether it grows linearly."""
    check = [*announce, "check"]
    times = {}
    for talks in (17, 1000, 5000):
        folder = series_with_past(work / f"check-{talks}", talks - 7)  # the example has 7
        seconds(check, folder, env)
        times[talks] = statistics.median(seconds(check, folder, env) for _ in range(pairs))
    small, middle, large = times[17], times[1000], times[5000]
    allowed = 5.5 * (middle - small)
    verdict = "ok" if large - small <= allowed else "OVER"
    per_talk = (large - small) / (5000 - 17) * 1e6
    return (f"check: 17 talks {small * 1000:.0f} ms, 1,000 {middle * 1000:.0f} ms, 5,000 "
            f"{large * 1000:.0f} ms; {per_talk:.0f} us per talk; t(5,000)-t(17) = "
            f"{(large - small) * 1000:.0f} ms, goal <= 5.5 x (t(1,000)-t(17)) = "
            f"{allowed * 1000:.0f} ms {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="announce-latency-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANNOUNCE_", "TYPER_"))}
    env["ANNOUNCE_STATE_DIR"] = str(work / "state")
    python = sys.executable
    announce = [python, "-m", "mailer"]
    try:
        app = work / "one_command.py"
        app.write_text(ONE_COMMAND_APP)
        rows = []
        a, b, r = ratio([python, str(app), "--help"], [*announce, "--help"], args.pairs,
                        floor_cwd=work, ours_cwd=REPO, env=env)
        rows.append(("announce --help / one-command Typer --help", a, b, r, 1.0))
        dry = [*announce, "send", "--dry-run", "--today", "2024-02-20"]
        imports = "import jinja2, yaml, markdown, premailer, typer, icalendar"
        a, b, r = ratio([python, "-c", imports], dry, args.pairs, floor_cwd=work, ours_cwd=REPO,
                        env=env)
        rows.append(("send --dry-run / import of the six libraries", a, b, r, 1.3))
        few = series_with_past(work / "few", 20)
        many = series_with_past(work / "many", 5000)
        a, b, r = ratio(dry, dry, args.pairs, floor_cwd=few, ours_cwd=many, env=env)
        rows.append(("dry run, 5,000 past talks / 20 past talks", a, b, r, 1.1))
        due = [*announce, "send", "--due", "--now", "2030-01-07T08:00"]  # every talk is past
        a, b, r = ratio(due, due, args.pairs, floor_cwd=few, ours_cwd=many, env=env)
        rows.append(("send --due, nothing due: 5,000 / 20 past talks", a, b, r, 1.1))
        linear = check_growth(work, announce, args.pairs, env)
        print(f"Python {sys.version.split()[0]}, Typer {typer.__version__}; "
              f"median of {args.pairs} alternating pairs")
        for name, floor, ours, value, goal in rows:
            verdict = "ok" if value <= goal else "OVER"
            print(f"{name:<48} {floor * 1000:7.0f} ms {ours * 1000:7.0f} ms  "
                  f"ratio {value:.2f} (goal <= {goal}) {verdict}")
        print(linear)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
