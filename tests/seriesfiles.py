"""The bundled example series and the files of a series under test: copy it, write and edit
its records, give it subscribers and speaker photos."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
TALK = "2024-02-22-mathis.yaml"


def copy_example(root: Path) -> Path:
    """Copy the bundled Learning Machines series into ``root``."""
    shutil.copytree(REPO / "seminars", root / "seminars", dirs_exist_ok=True)
    return root


def write(path: Path, text: str) -> Path:
    """Write a file (making its folder) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(path: Path, *changes: tuple[str, str]) -> None:
    """Replace text in a file; each old text must be there, so no test edits nothing quietly."""
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"{old!r} is not in {path}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def use_subscriber_file(root: Path, name: str) -> None:
    """Send the series to each subscriber of ``root/name`` instead of the list address."""
    edit(root / "seminars" / "series.yaml",
         ("  to: lm-seminar-list@example.org\n", f"  recipients_file: {name}\n"))


def subscribe(root: Path, count: int, *, text: str | None = None) -> list[str]:
    """Point the series at a subscriber file of ``count`` addresses; return them."""
    addresses = [f"person{i:05d}@example.org" for i in range(count)]
    write(root / "subscribers.txt", text if text is not None else "\n".join(addresses) + "\n")
    use_subscriber_file(root, "subscribers.txt")
    return addresses


def make_photo(path: Path, size: int = 2400, shade: int = 0) -> Path:
    """Draw a portrait-like JPEG of ``size`` pixels (a speaker's photo is often this big)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (70 + shade, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size * 0.3, size * 0.15, size * 0.7, size * 0.6), fill=(230, 190, 160))
    draw.rectangle((size * 0.2, size * 0.62, size * 0.8, size), fill=(40, 60, 90 + shade))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92)
    return path


def add_photo(series: Path, talk: str = TALK, name: str = "mathis.jpg", **draw: int) -> Path:
    """Give a talk of ``series`` a photo under photos/; return the photo's path."""
    photo = make_photo(series / "photos" / name, **draw)
    with open(series / "seminars" / talk, "a", encoding="utf-8") as record:
        record.write(f"photo: photos/{name}\n")
    return photo
