"""Paths as a user sees them, files read safely and written whole or not at all, size limits.

A leaf module: of announce it imports only the errors, so every other module may use it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailer.errors import InputError

MAX_FILE_BYTES = 1 << 20  # a talk record or series file is a few KiB; 1 MiB is surely a mistake
MAX_SUBSCRIBER_BYTES = 64 * MAX_FILE_BYTES
MAX_IMAGE_BYTES = 64 * MAX_FILE_BYTES  # a camera's photo is a few MB
_CHUNK = 1 << 16  # read_regular reads a file this much at a time
IMAGE_FORMATS = ("JPEG", "PNG", "WebP")
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
HEIF_BRANDS = frozenset(
    (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")
)
HEIC_HINT = (
    "is a HEIC photo (an iPhone's default); announce inbox converts attached ones, or "
    "convert it to JPEG (e.g. `heif-convert` or Preview's Export)"
)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def read_regular(path: Path, what: str, *, inside: Path | None, limit: int,
                 head: int | None = None) -> bytes:
    """Read a regular file whole (or its first ``head`` bytes), at most ``limit`` bytes.

    With ``inside``, the file (after following every link) must lie in that folder: a
    record or photo that is a link to ``../secret.env`` is refused, never read. A FIFO, a
    device or a folder is refused too, without blocking on it: it is opened non-blocking
    and looked at before a byte is read. Every refusal is an InputError naming the file.
    """
    where = display_path(path)
    try:
        real = path.resolve()
        if inside is not None and not real.is_relative_to(inside.resolve()):
            raise InputError(f"{where}: leads out of the series folder (to {real}); {what} "
                             "must be a file inside it")
        handle = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file ({what})") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None
    try:
        found = os.fstat(handle)
        for test, kind in _KINDS:
            if test(found.st_mode):
                raise InputError(f"{where}: is {kind}, expected {what} (a regular file)")
        if found.st_size > limit:
            raise InputError(f"{where}: {found.st_size} bytes is too large for {what} (at most "
                             f"{limit} bytes)")
        with os.fdopen(handle, "rb") as stream:
            handle = -1
            data = _read_up_to(stream, limit + 1 if head is None else head)
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None
    finally:
        if handle >= 0:
            os.close(handle)
    if len(data) > limit:  # it grew while being read
        raise InputError(f"{where}: too large for {what} (at most {limit} bytes)")
    return data


def _read_up_to(stream: io.BufferedReader, most: int) -> bytes:
    """At most ``most`` bytes, read a chunk at a time: memory as large as the file, not as
    ``most`` (a single ``read(most)`` sets aside all of it before the first byte comes)."""
    chunks: list[bytes] = []
    got = 0
    while got < most:
        chunk = stream.read(min(_CHUNK, most - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def image_format(head: bytes) -> str | None:
    """The image format of a file's first bytes: JPEG, PNG or WebP; None for anything else."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def is_heif(head: bytes) -> bool:
    """Whether a file's first 12 bytes open a HEIF image (HEIC) that pillow-heif can read."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def decode_text(data: bytes, path: Path, what: str) -> str:
    """UTF-8 text (a BOM is dropped), or an error naming the line and what to do."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{display_path(path)}:{line}: not UTF-8 text (byte {exc.start}); "
                         f"save {what} as UTF-8") from None


def display_path(path: Path) -> str:
    """Show ``path`` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


class WriteError(InputError):
    """A file or folder could not be written (read-only, full, not a folder): said in one
    line naming it."""


@contextmanager
def _writing(target: Path, what: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            reason = "a file stands where a folder is needed; give a folder"
        elif isinstance(exc, IsADirectoryError):
            reason = "it is a folder; give a file name"
        else:
            reason = exc.strerror or str(exc)
        raise WriteError(f"{display_path(target)}: cannot write {what} ({reason})") from None


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux):
    setting it to read it would, for an instant, change it for every thread."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text(encoding="ascii")
        return int(next(line for line in status.splitlines() if line.startswith("Umask:"))
                   .split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that it is either whole or absent (mode as the umask says)."""
    with _writing(path, "the file"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder")
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            # mkstemp makes the file 0600; a page, feed or image is for a web server to read,
            # so it gets the mode any Unix tool would give it: 0666 less the umask.
            os.fchmod(handle, 0o666 & ~_umask())
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write several files into ``folder``, each whole or absent."""
    with _writing(folder, "into the folder"):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file")
    for name, data in files.items():
        write_atomically(folder / name, data)


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace ``folder`` with one holding exactly ``files``, all or nothing."""
    with _writing(folder, "the folder"):
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
