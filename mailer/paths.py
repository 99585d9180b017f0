"""Paths as a user sees them, files written whole or not at all, and size limits.

A leaf module: it imports nothing of announce, so every other module may use it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MAX_FILE_BYTES = 1 << 20  # a talk record or series file is a few KiB; 1 MiB is surely a mistake
MAX_SUBSCRIBER_BYTES = 64 * MAX_FILE_BYTES


def display_path(path: Path) -> str:
    """Show ``path`` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that it is either whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write several files into ``folder``, each whole or absent."""
    for name, data in files.items():
        write_atomically(folder / name, data)


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace ``folder`` with one holding exactly ``files``, all or nothing."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
