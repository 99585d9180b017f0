"""`pip install .` gives a working `announce` that carries the default templates."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import typer
from seriesfiles import GOLDEN, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Offline: the build backend is the one the test extras installed, not one from an index.
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--no-build-isolation", "--no-index", "-w", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("announce-*.whl")
    return found


def test_wheel_carries_templates_and_entry_point(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in ("announcement.md.j2", "reminder.md.j2", "cancellation.md.j2",
                     "subject.txt.j2", "email.html.j2", "email-classic.html.j2",
                     "program.md.j2"):
        assert f"mailer/templates/{template}" in names
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"):
        assert f"mailer/render/fonts/{font}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "announce = mailer.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_command_works_without_a_templates_folder(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                   check=True, timeout=300)
    # The dependencies come from this environment, after the new one's own site-packages, so
    # the `mailer` that runs is the installed wheel's.
    own = next((env_dir / "lib").glob("python3*/site-packages"))
    (own / "zz_dependencies.pth").write_text(str(Path(typer.__file__).parent.parent) + "\n")
    where = subprocess.run([str(python), "-c", "import mailer; print(mailer.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert where.stdout.startswith(str(own)), where.stdout
    series = tmp_path / "series"
    (series / "seminars").mkdir(parents=True)
    for item in (REPO / "seminars").iterdir():
        (series / "seminars" / item.name).write_bytes(item.read_bytes())
    done = subprocess.run([str(env_dir / "bin" / "announce"), "page", "2024-02-22"],
                          cwd=series, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr
    golden = (GOLDEN / "2024-02-22-mathis.page.md").read_text(encoding="utf-8")
    assert done.stdout.split("\n---\n", 1)[1] == golden.split("\n---\n", 1)[1]
