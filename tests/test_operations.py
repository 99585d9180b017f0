"""The documented cron line and the shipped systemd units, run as written.

The cron line is taken from the docs (docs/howto/cron.md, and the README while it has one) and
run by /bin/sh under ``env -i`` with cron's PATH, as cron would; the unit files are checked with
``systemd-analyze verify``.
"""

from __future__ import annotations

import getpass
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from outside import require_tool
from runners import invoke
from seriesfiles import REPO, edit, write
from smtpserver import Server

UNITS = REPO / "contrib" / "systemd"
CRON_PATH = "/usr/bin:/bin"


def installed_announce() -> Path:
    """The ``announce`` command of this environment (what pip or pipx installs)."""
    found = Path(sys.executable).parent / "announce"
    if not found.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{found} is missing; `make test` installs the package")
        pytest.skip(f"{found} is missing: install the package (make test does)")
    return found


# Where the cron line is written: the how-to, and the README while it still has one.
CRON_PAGES = [path for path in (REPO / "docs" / "howto" / "cron.md", REPO / "README.md")
              if "\n*/15 " in path.read_text(encoding="utf-8")]


def cron_command(page: Path = CRON_PAGES[0]) -> str:
    """The command part of the cron line of ``page``."""
    text = page.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines()
                if line.startswith("*/15") and "send --due --quiet" in line)
    return line.split(None, 5)[5]


@pytest.fixture
def new_series(tmp_path: Path) -> Path:
    """A series made by `announce init`, its example talk (two days from now) made the
    organiser's own: confirmed, so it is due."""
    assert invoke(tmp_path, "init", "series").code == 0
    [example] = (tmp_path / "series" / "seminars").glob("20*.yaml")
    edit(example, ("status: tentative", "status: confirmed"))
    return tmp_path / "series"


def run_cron_line(series: Path, home: Path, announce: Path,
                  page: Path = CRON_PAGES[0]) -> subprocess.CompletedProcess[str]:
    command = cron_command(page).replace(
        "/home/organiser/.local/bin/announce", str(announce)).replace("/srv/seminar", str(series))
    return subprocess.run(["/usr/bin/env", "-i", f"HOME={home}", f"PATH={CRON_PATH}",
                           "SHELL=/bin/sh", "LOGNAME=organiser", "/bin/sh", "-c", command],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("page", CRON_PAGES, ids=[p.name for p in CRON_PAGES])
def test_the_documented_cron_line_works_under_crons_environment(
        new_series: Path, tmp_path: Path, smtp_server: Server, page: Path) -> None:
    announce = installed_announce()
    home = tmp_path / "home"
    env_file = write(home / ".config" / "announce" / "smtp.env",
                     f"ANNOUNCE_SMTP_HOST=127.0.0.1\nANNOUNCE_SMTP_PORT={smtp_server.port}\n")
    env_file.chmod(0o600)
    first = run_cron_line(new_series, home, announce, page)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (first.stdout, first.stderr) == ("", "")
    assert smtp_server.addresses() == ["seminar-list@example.org"]
    assert "Notes on the Analytical Engine" in str(smtp_server.received[0].message["Subject"])
    again = run_cron_line(new_series, home, announce, page)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len(smtp_server.received) == 1


def test_the_units_say_what_the_readme_says() -> None:
    service = (UNITS / "seminar-announce.service").read_text(encoding="utf-8")
    timer = (UNITS / "seminar-announce.timer").read_text(encoding="utf-8")
    assert "\nExecStart=/home/seminar/.local/bin/announce send --due --quiet\n" in service
    assert "SuccessExitStatus" not in service
    assert "\nOnCalendar=*:0/15\n" in timer and "\nPersistent=true\n" in timer
    for line in (service + timer).splitlines():
        if "=" in line and not line.startswith("#"):
            assert "#" not in line, f"systemd would read this comment as part of the value: {line}"


@pytest.mark.integration
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze")
    announce = installed_announce()
    env_file = write(tmp_path / "seminar.env", "ANNOUNCE_SMTP_PASSWORD=unused\n")
    service = (UNITS / "seminar-announce.service").read_text(encoding="utf-8")
    service = (service.replace("/home/seminar/.local/bin/announce", str(announce))
               .replace("WorkingDirectory=/srv/seminar", f"WorkingDirectory={tmp_path}")
               .replace("EnvironmentFile=/etc/announce/seminar.env",
                        f"EnvironmentFile={env_file}")
               .replace("User=seminar", f"User={getpass.getuser()}"))
    write(tmp_path / "seminar-announce.service", service)
    write(tmp_path / "seminar-announce.timer",
          (UNITS / "seminar-announce.timer").read_text(encoding="utf-8"))
    done = subprocess.run([analyze, "verify", "--man=no", "seminar-announce.service",
                           "seminar-announce.timer"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "seminar-announce" not in done.stderr, done.stderr


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_published_files_honour_the_umask(series: Path, tmp_path: Path, umask: int,
                                          mode: int) -> None:
    site = tmp_path / "site"
    site.mkdir()
    kept = site / "2024-02-22.md"
    kept.write_text("old\n")
    kept.chmod(0o644)
    old = os.umask(umask)
    try:
        for command in (["page", "--all", "--out", str(site)],
                        ["ics", "--out", str(site / "f.ics")],
                        ["images", "2024-02-22", "--out", str(site / "img")]):
            assert invoke(series, *command).code == 0
    finally:
        os.umask(old)
    files = [p for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(files) >= 5
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
