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

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from mailer.errors import InputError
from mailer.paths import (
    HEIC_HINT,
    MAX_IMAGE_BYTES,
    display_path,
    image_format,
    is_heif,
    read_regular,
)

if TYPE_CHECKING:
    from PIL.Image import Image

MAIL_SIZE = 240  # pixels, square; shown at 120 CSS pixels
WEB_SIZE = 480  # pixels, the longer side, for the web page
MAX_PIXELS = 40_000_000  # decoded RGBA: 160 MB at the most
MAX_JPEG_PIXELS = 64 * MAX_PIXELS  # a JPEG is decoded at up to 1/8 of each side


# The ISO-BMFF ``ftyp`` brands of HEIF stills and sequences that pillow-heif opens (an iPhone
# saves "heic"); AVIF, a HEIF of AV1, is not among them.
_USABLE = ("JPEG", "PNG", "WEBP")  # Pillow's names of the formats a record's photo may have


def open_photo(root: Path, written: str, *, need: int, keep_alpha: bool = False) -> Image:
    """The photo at ``written`` (under the series folder ``root``), decoded by :func:`decode`.

    The file is read only if it is a regular file inside the folder, of at most
    :data:`~mailer.paths.MAX_IMAGE_BYTES`. A HEIC photo (by its bytes, or a ``.heic`` or
    ``.heif`` file that is no JPEG, PNG or WebP) is refused with the way to convert it.
    """
    path = root / written
    data = read_regular(path, "a photo", inside=root, limit=MAX_IMAGE_BYTES)
    where = display_path(path)
    if Path(written).suffix.lower() in (".heic", ".heif") and image_format(data[:16]) is None:
        raise InputError(f"{where}: {HEIC_HINT}")
    return decode(data, where, need=need, keep_alpha=keep_alpha)


def decode(
    data: bytes, where: str, *, need: int, keep_alpha: bool = False, heif: bool = False
) -> Image:
    """The photo in ``data``, upright (EXIF orientation applied), in RGB (RGBA with
    ``keep_alpha``), decoded whole at no more than it takes to give ``need`` pixels on its
    shorter side; ``where`` names it in errors.

    A JPEG, PNG or WebP is decoded; a HEIC (HEIF) too with ``heif`` (pillow-heif's opener is
    registered then), and is refused with :data:`HEIC_HINT` without it. Work is bounded
    before anything is decoded: the pixel count is checked against :data:`MAX_PIXELS`. A JPEG
    is decoded in draft mode (scaled by its DCT, up to 8 times smaller per side), so a
    camera's 12000 x 12000 photo costs a fraction of its full size in memory. A truncated or
    damaged image is refused, never decoded in part. Every refusal is an InputError.
    """
    formats: tuple[str, ...] = _USABLE
    if is_heif(data[:12]):
        if not heif:
            raise InputError(f"{where}: {HEIC_HINT}")
        from pillow_heif import register_heif_opener  # noqa: PLC0415 (pillow-heif loads only for a HEIC photo)

        register_heif_opener()
        formats = ("HEIF",)
    # Our own budget below is the guard; Pillow's would warn (to a cron mail) about a camera's
    # JPEG that draft mode decodes small.
    PILImage.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
    try:
        with PILImage.open(io.BytesIO(data), formats=formats) as image:
            if image.format == "JPEG" and image.width * image.height <= MAX_JPEG_PIXELS:
                scale = max(1, min(image.width, image.height) // max(need, 1))
                image.draft("RGB", (image.width // scale, image.height // scale))
            if image.width * image.height > MAX_PIXELS:
                raise InputError(
                    f"{where}: {image.width} x {image.height} pixels is more than "
                    f"announce decodes ({MAX_PIXELS // 1_000_000} million); save a "
                    "smaller copy (2000 pixels a side is plenty)"
                )
            image.load()
            return ImageOps.exif_transpose(image).convert("RGBA" if keep_alpha else "RGB")
    except UnidentifiedImageError:
        known = "HEIC" if is_heif(data[:12]) else image_format(data[:16])
        said = (
            f"it starts as a {known} image but does not open as one (truncated or damaged)"
            if known
            else "not a JPEG, PNG or WebP image"
        )
        raise InputError(f"{where}: cannot read the photo: {said}") from None
    except PILImage.DecompressionBombError as exc:
        raise InputError(f"{where}: cannot read the photo ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # ValueError: a PNG text chunk that decompresses beyond Pillow's limit (a zTXt bomb).
        said = " ".join(str(exc).split())  # libheif's reasons end in a line break
        raise InputError(
            f"{where}: cannot read the photo: the image is truncated or damaged ({said})"
        ) from None


def _jpeg(image: Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def check(root: Path, written: str) -> None:
    """Decode the photo, so that a broken file is found by ``check``, not by a send."""
    open_photo(root, written, need=WEB_SIZE)


def square(root: Path, written: str, size: int = MAIL_SIZE) -> bytes:
    """A square JPEG of ``size`` pixels, cropped around the middle (for a round avatar)."""
    return _jpeg(ImageOps.fit(open_photo(root, written, need=size), (size, size)))


def web(root: Path, written: str, size: int = WEB_SIZE) -> bytes:
    """A JPEG no larger than ``size`` pixels on its longer side, in its own proportions."""
    image = open_photo(root, written, need=size)
    image.thumbnail((size, size))
    return _jpeg(image)
