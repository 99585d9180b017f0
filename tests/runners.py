"""Ways to run announce in a test.

``invoke`` runs announce in this process through Typer's CliRunner; ``run`` starts a new
process, for the few tests where a process is the point (kill -9, a terminal, start-up
imports); ``popen`` starts one without waiting. Each run gets the series folder, its own state
folder and, when given, the test SMTP server. Nothing is added to the arguments: a test of
a send names its day (``--today``) or moment (``--now``, ``--due``) itself, as every bundled
talk is in 2024.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from smtpserver import Server
from typer.testing import CliRunner

from mailer.cli import app


@dataclass
class Result:
    """A finished ``announce`` run."""

    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def cli_env(root: Path, server: Server | None = None, **extra: str) -> dict[str, str]:
    """The environment of one run: the series, its own state folder, the test server."""
    env = {"ANNOUNCE_ROOT": str(root), "ANNOUNCE_STATE_DIR": str(root / ".state"),
           "ANNOUNCE_RETRY_SECONDS": "0"}
    if server is not None:
        env.update(server.env())
    env.update(extra)
    return env


def invoke(root: Path, *args: str, server: Server | None = None, cwd: Path | None = None,
           **extra: str) -> Result:
    """Run ``announce`` in this process, in ``root`` as the working folder."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ANNOUNCE_")}
    env.update(cli_env(root, server, **extra))
    with contextlib.chdir(cwd or root):
        done = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Result(done.exit_code, done.stdout, done.stderr)


def _process_env(root: Path, server: Server | None, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOUNCE_")}
    env.update(cli_env(root, server, **extra))
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(root: Path, *args: str, server: Server | None = None, timeout: float = 120,
        **extra: str) -> Result:
    """Run ``announce`` as a new process, as cron would."""
    done = subprocess.run([sys.executable, "-m", "mailer", *args], capture_output=True,
                          text=True, env=_process_env(root, server, extra), cwd=root,
                          timeout=timeout, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def popen(root: Path, *args: str, server: Server | None = None,
          **extra: str) -> subprocess.Popen[str]:
    """Start ``announce`` as a new process without waiting for it."""
    return subprocess.Popen([sys.executable, "-m", "mailer", *args],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env=_process_env(root, server, extra), cwd=root)
