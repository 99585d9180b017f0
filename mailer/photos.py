"""A speaker's photo: checked where the record names it, resized for the mail and the web.

Pillow decodes and resizes; the series' photos are often several megabytes, and a mail
carries a small square copy (2x its display size, for sharp screens). The same photo gives
the same bytes every time (no timestamps, no metadata copied), so a preview, a send and a
rerun agree.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from mailer.errors import InputError
from mailer.paths import display_path

if TYPE_CHECKING:
    from PIL.Image import Image

MAIL_SIZE = 240  # pixels, square; shown at 120 CSS pixels
WEB_SIZE = 480  # pixels, the longer side, for the web page
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
FORMATS = ("JPEG", "PNG", "WebP")


def sniff(head: bytes) -> str | None:
    """The image format of a file's first bytes: JPEG, PNG or WebP; None for anything else."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return None


def open_photo(path: Path, *, keep_alpha: bool = False) -> Image:
    """The photo, upright (EXIF orientation applied), in RGB (RGBA with ``keep_alpha``)."""
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with PILImage.open(path) as image:
            image.load()
            return ImageOps.exif_transpose(image).convert("RGBA" if keep_alpha else "RGB")
    except (OSError, UnidentifiedImageError, PILImage.DecompressionBombError) as exc:
        raise InputError(f"{display_path(path)}: cannot read the photo ({exc})") from None


def _jpeg(image: Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def check(path: Path) -> None:
    """Decode the whole photo, so that a broken file is found by ``check``, not by a send."""
    open_photo(path)


def square(path: Path, size: int = MAIL_SIZE) -> bytes:
    """A square JPEG of ``size`` pixels, cropped around the middle (for a round avatar)."""
    from PIL import ImageOps

    return _jpeg(ImageOps.fit(open_photo(path), (size, size)))


def web(path: Path, size: int = WEB_SIZE) -> bytes:
    """A JPEG no larger than ``size`` pixels on its longer side, in its own proportions."""
    image = open_photo(path)
    image.thumbnail((size, size))
    return _jpeg(image)
