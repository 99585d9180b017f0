"""The talk's images, as the series makes them: a social-media card, a meeting backdrop and a
video thumbnail, drawn by Pillow from the record and the speaker's photo.

One layout, scaled to each size: the series name, the title (wrapped, and made smaller until
it fits), the speakers and their affiliations, the day and time with the zone, and the photo
in a circle on the right (or the speaker's initials where there is none); a logo, if the
series has one. The font is DejaVu Sans, shipped in ``mailer/render/fonts`` with its licence: it
covers the Latin, Greek, Cyrillic, Armenian and Georgian scripts (Hebrew and Arabic in part)
but not Chinese, Japanese or Korean; a name in a script it lacks is drawn transliterated
("李小龙" as "Li Xiao Long"). The same record and photo give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, ImageOps

from mailer.paths import MAX_IMAGE_BYTES, image_format, read_regular
from mailer.render.photos import open_photo
from mailer.render.times import hhmm, long_day, zone_abbreviation
from mailer.series.model import RGB, TBA, ImageStyle, Series, Talk
from mailer.series.names import slugify, transliterate

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageFont import FreeTypeFont

FONTS = Path(__file__).resolve().parent / "fonts"
SIZES = {"social-media": (1200, 630), "meeting-backdrop": (1920, 1080),
         "youtube-thumbnail": (1280, 720)}


@cache
def _font(bold: bool, size: int) -> FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")),
                              size)


@cache
def _glyph(char: str) -> bytes:
    """The pixels of one character in the regular font."""
    canvas = PILImage.new("L", (48, 48), 0)
    ImageDraw.Draw(canvas).text((8, 8), char, font=_font(False, 24), fill=255)
    return canvas.tobytes()


@cache
def _covered(char: str) -> bool:
    """Whether the font has a glyph for ``char`` (else Pillow would draw an empty box)."""
    return char.isspace() or _glyph(char) != _glyph("\U0010fffd")


def drawable(text: str) -> str:
    """``text``, each word the font cannot draw transliterated ("李小龙" -> "Li Xiao Long")."""
    return " ".join(word if all(_covered(ch) for ch in word) else transliterate(word)
                    for word in text.split(" "))


def _split(word: str, font: FreeTypeFont, width: float) -> Iterator[str]:
    """Break a word wider than ``width`` (a long name, text with no spaces) into pieces."""
    piece = ""
    for char in word:
        if piece and font.getlength(piece + char) > width:
            yield piece
            piece = ""
        piece += char
    if piece:
        yield piece


def wrap(text: str, font: FreeTypeFont, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        for piece in _split(word, font, width):
            candidate = f"{line} {piece}" if line else piece
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = piece
            else:
                line = candidate
    return [*lines, line] if line else lines


def fit(text: str, width: float, height: float, largest: int, smallest: int, *,
        bold: bool) -> tuple[FreeTypeFont, list[str]]:
    """The largest font from ``largest`` down to ``smallest`` whose lines fit the box.

    At the smallest size, lines that still do not fit are cut, the last one ending in "…".
    """
    size = largest
    while True:
        font = _font(bold, size)
        lines = wrap(text, font, width)
        room = max(1, int(height // (size * 1.22)))
        if len(lines) <= room or size <= smallest:
            break
        size = max(smallest, int(size * 0.92))
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and font.getlength(last + " …") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return font, lines


def _circle(photo: Image | None, diameter: int, initials: str, look: ImageStyle) -> Image:
    """The photo cropped round (drawn at 4x and scaled down, for smooth edges), or initials."""
    big = diameter * 4
    mask = PILImage.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, big - 1, big - 1), fill=255)
    mask = mask.resize((diameter, diameter), PILImage.Resampling.LANCZOS)
    if photo is not None:
        face = ImageOps.fit(photo, (diameter, diameter), PILImage.Resampling.LANCZOS)
    else:
        face = PILImage.new("RGB", (diameter, diameter), look.accent)
        font = _font(True, diameter // 3)
        ImageDraw.Draw(face).text((diameter / 2, diameter / 2), initials, font=font,
                                  fill=look.background, anchor="mm")
    face.putalpha(mask)
    return face


def _initials(talk: Talk) -> str:
    name = transliterate(talk.speakers[0].name) if talk.speakers else "?"
    letters = [word[0] for word in name.split() if word[:1].isalnum()]
    return "".join(letters[:1] + letters[-1:] if len(letters) > 1 else letters).upper() or "?"


def _lines(draw: ImageDraw.ImageDraw, lines: list[str], font: FreeTypeFont,
           at: tuple[float, float], *, fill: RGB) -> float:
    """Draw lines from ``at`` down; return where the next thing may start."""
    x, y = at
    step = font.size * 1.22
    for line in lines:
        draw.text((x, y), line, font=font, fill=fill)
        y += step
    return y


def _texts(series: Series, talk: Talk) -> tuple[str, str, str, str]:
    start = talk.start(series)
    names = " · ".join(s.name for s in talk.speakers) or TBA
    places = " · ".join(dict.fromkeys(s.affiliation for s in talk.speakers
                                      if s.affiliation))
    day = f"{long_day(start)} · {hhmm(start)} {zone_abbreviation(start)}"
    return drawable(talk.shown_title), drawable(names), drawable(places), day


def draw(kind: str, series: Series, talk: Talk, photo: Image | None,
         logo: Image | None) -> bytes:
    """One image of ``kind`` (see SIZES), as JPEG bytes."""
    look = series.images
    width, height = SIZES[kind]
    image = PILImage.new("RGB", (width, height), look.background)
    pen = ImageDraw.Draw(image)
    margin, diameter = round(width * 0.06), round(height * 0.5)
    pen.rectangle((0, 0, round(width * 0.012), height), fill=look.accent)
    column = width - 3 * margin - diameter
    title, names, places, day = _texts(series, talk)
    y = _lines(pen, [drawable(series.name).upper()], _font(True, round(height * 0.042)),
               (margin, margin), fill=look.accent) + height * 0.03
    font, lines = fit(title, column, height * 0.42, round(height * 0.085),
                      round(height * 0.036), bold=True)
    y = _lines(pen, lines, font, (margin, y), fill=look.text) + height * 0.04
    font, lines = fit(names, column, height * 0.16, round(height * 0.056),
                      round(height * 0.03), bold=False)
    y = _lines(pen, lines, font, (margin, y), fill=look.text)
    if places:
        font, lines = fit(places, column, height * 0.1, round(height * 0.04),
                          round(height * 0.026), bold=False)
        _lines(pen, lines, font, (margin, y), fill=look.text)
    pen.text((margin, height - margin), day, font=_font(True, round(height * 0.045)),
             fill=look.accent, anchor="ls")
    face = _circle(photo, diameter, _initials(talk), look)
    image.paste(face, (width - margin - diameter, (height - diameter) // 2), face)
    if logo is not None:
        _logo(image, logo, margin)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, optimize=True)
    return out.getvalue()


def _logo(image: Image, logo: Image, margin: int) -> None:
    """Paste the series' logo in the top right corner, at most a tenth of the height."""
    logo = logo.copy()
    logo.thumbnail((image.width // 5, image.height // 10))
    image.paste(logo, (image.width - margin - logo.width, margin // 2), logo)


def file_name(kind: str, talk: Talk) -> str:
    """``2024-02-22-social-media-alexander-mathis.jpg``, as the series names them."""
    who = slugify(talk.speakers[0].name) if talk.speakers else "tba"
    return f"{talk.date.isoformat()}-{kind}-{who or 'speaker'}.jpg"


def _sources(root: Path, series: Series, talk: Talk,
             need: int) -> tuple[Image | None, Image | None]:
    """The speaker's photo and the series' logo, opened at the size the images need."""
    photo = open_photo(root, talk.photo, need=need) if talk.photo else None
    logo = (open_photo(root, series.images.logo, need=need, keep_alpha=True)
            if series.images.logo else None)
    return photo, logo


def talk_images(root: Path, series: Series, talk: Talk) -> dict[str, bytes]:
    """The three images of a talk, by file name (paths in the records are under ``root``)."""
    photo, logo = _sources(root, series, talk, max(max(size) for size in SIZES.values()))
    return {file_name(kind, talk): draw(kind, series, talk, photo, logo)
            for kind in SIZES}


def backdrop(root: Path, series: Series, talk: Talk) -> tuple[str, bytes]:
    """The talk's meeting backdrop: the one in ``images/`` when `announce images` made it,
    else drawn now."""
    name = file_name("meeting-backdrop", talk)
    made = root / "images" / name
    if made.is_file():
        data = read_regular(made, "an image", inside=root, limit=MAX_IMAGE_BYTES)
        if image_format(data[:16]) == "JPEG":
            return name, data
    photo, logo = _sources(root, series, talk, max(SIZES["meeting-backdrop"]))
    return name, draw("meeting-backdrop", series, talk, photo, logo)
