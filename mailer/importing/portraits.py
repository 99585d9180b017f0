"""A speaker's photo from the archive, to become the record's ``photo:``.

The photo is the file the front matter names (``image:``/``photo:``) or the plan's photo
column links; else an image the page links, or a file beside the page, whose name holds the
speaker's name (``2024-02-22-photo-alexander-mathis.jpg``) and is not one of the series' other
images (a thumbnail, a backdrop, a social-media card). The file must be in the archive: the
folder of a file given to ``import`` (a site path such as ``/lm/x.jpg`` is looked for from
the page's folder and the three above it); and a JPEG, PNG or WebP. It is copied to
``photos/<talk id>.<ext>`` in the series.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mailer.errors import InputError
from mailer.importing.draft import Draft, shorten
from mailer.paths import MAX_IMAGE_BYTES, image_format, read_regular
from mailer.series.names import slugify

_NOT_PORTRAIT = re.compile(r"(?i)(thumbnail|backdrop|social|banner|poster|flyer|slide|logo|"
                           r"qr|background|cover)")
_IMAGE_FILE = re.compile(r"(?i)\.(jpe?g|png|webp)$")
_SUFFIXES = {"JPEG": "jpg", "PNG": "png", "WebP": "webp"}


def _resolve(written: str, folder: Path, archive: list[Path]) -> Path | None:
    """The archive file a link names, or None when it is not in the archive."""
    target = unquote(urlsplit(written).path if "://" in written else written).strip()
    if not target:
        return None
    relative = target.lstrip("/")
    options = [Path(target)] if Path(target).is_absolute() else []
    options += [base / relative for base in [folder, *list(folder.resolve().parents)[:3]]]
    options.append(folder / Path(target).name)
    for option in options:
        path = option.resolve()
        if path.is_file() and any(path.is_relative_to(place) for place in archive):
            return path
    return None


def _names(draft: Draft) -> list[str]:
    """The slugs of the speakers' family names (``mathis``), to find in a file name."""
    return [part for speaker in draft.speakers
            if len(part := slugify(speaker.name).rsplit("-", 1)[-1]) >= 2]


def _portrait(name: str, draft: Draft) -> bool:
    slug = slugify(Path(name).stem)
    return bool(_IMAGE_FILE.search(name)) and not _NOT_PORTRAIT.search(name) and\
        any(part in slug.split("-") for part in _names(draft))


def _candidates(draft: Draft, archive: list[Path]) -> list[Path]:
    folder = draft.folder
    if folder is None:
        return []
    if draft.photo:
        found = _resolve(draft.photo, folder, archive)
        if found is not None:
            return [found]
        if not draft.from_plan:  # the plan says once that its photos need their files
            draft.add_note(1, f"the photo {shorten(draft.photo)!r} is not in the archive "
                              f"folder ({folder}); no photo: (put the file beside the page to "
                              "import it)")
    linked = [p for src in draft.images if _portrait(src, draft)
              and (p := _resolve(src, folder, archive)) is not None]
    if linked or draft.day is None:
        return list(dict.fromkeys(linked))
    return sorted(p for p in folder.glob(f"{draft.day.isoformat()}*")
                  if p.is_file() and _portrait(p.name, draft))


def find_photo(draft: Draft, archive: list[Path]) -> tuple[bytes, str, Path] | None:
    """The photo's bytes, its file suffix and where it was; None (reported) when there is none
    or more than one to choose from. ``archive``: the folders of the files imported."""
    found = _candidates(draft, archive)
    if len(found) > 1:
        draft.add_note(1, "several images could be the speaker's photo ("
                          f"{', '.join(p.name for p in found[:3])}); none is taken: set photo: "
                          "by hand")
        return None
    if not found:
        return None
    try:
        data = read_regular(found[0], "a photo", inside=None, limit=MAX_IMAGE_BYTES)
    except InputError as exc:
        draft.add_note(1, f"the photo could not be read ({exc}); no photo:")
        return None
    kind = image_format(data[:16])
    if kind is None:
        draft.add_note(1, f"{found[0].name} is not a JPEG, PNG or WebP image; no photo: (convert "
                          "it, then set photo: by hand)")
        return None
    draft.took("photo", 1, f"the image {found[0].name}")
    return data, _SUFFIXES[kind], found[0]
