"""The photo a speaker attaches to a reply: found by its bytes, judged as ``check`` judges.

A photo comes as whatever the speaker's mail program sends: ``image/jpeg``, but also
``application/octet-stream``, or an iPhone's HEIC. :func:`attached_images` finds every
attached image by its first bytes, whatever type the part declares; :func:`judge` decodes
one whole, within the pixel budget of :mod:`mailer.render.photos` (the same code that
``check`` runs on a record's photo), and gives the bytes to save and their extension. A
JPEG, PNG or WebP is kept as sent; a HEIC is converted to a JPEG (a record's photo must be a
JPEG, PNG or WebP). What fails here is refused with the reason, never saved to fail ``check``
later.
"""

from __future__ import annotations

import io
from email.message import EmailMessage

from mailer.errors import InputError
from mailer.paths import MAX_IMAGE_BYTES, image_format, is_heif
from mailer.render.photos import WEB_SIZE, decode

_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WebP": "webp"}
_HEIC_QUALITY = 90  # the JPEG a HEIC becomes keeps a photo's detail


def _usable(head: bytes) -> bool:
    return image_format(head[:16]) is not None or is_heif(head[:12])


def attached_images(message: EmailMessage) -> list[tuple[str, bytes]]:
    """Every image in ``message``, in order, with a name for reports (the part's file name,
    or its declared type): each part that is not a container and whose decoded bytes begin
    as a JPEG, PNG, WebP or HEIC, whatever type it declares. Anything else (a PDF, the text,
    a GIF) is left out, and so are the parts of a mail attached whole (``message/rfc822``: a
    forwarded mail's pictures are not the sender's).

    A part over :data:`~mailer.paths.MAX_IMAGE_BYTES` is given by its first
    ``MAX_IMAGE_BYTES + 1`` bytes, which :func:`judge` refuses as too large.
    """
    found: list[tuple[str, bytes]] = []
    stack: list[EmailMessage] = [message]
    while stack:
        part = stack.pop()
        if part.is_multipart():
            # message/rfc822 is a container too; its parts are a forwarded mail's.
            if part.get_content_maintype() == "multipart":
                inner = part.get_payload()
                if isinstance(inner, list):
                    stack += reversed([p for p in inner if isinstance(p, EmailMessage)])
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # a transfer encoding the email package cannot undo: no usable part
            data = None
        if isinstance(data, bytes) and data and _usable(data):
            name = " ".join((part.get_filename() or part.get_content_type()).split())
            printable = "".join(ch if ch.isprintable() else "?" for ch in name)[:200]
            found.append((printable, data[: MAX_IMAGE_BYTES + 1]))
    return found


def judge(data: bytes, where: str) -> tuple[bytes, str]:
    """The photo in ``data`` as it will be saved, and its extension (``jpg``, ``png`` or
    ``webp``); ``where`` names it in errors.

    It is decoded whole, within the pixel budget, exactly as ``check`` decodes a record's
    photo (:func:`mailer.render.photos.decode`): a truncated or damaged image, or one of more
    pixels than announce decodes, is refused. A JPEG, PNG or WebP is kept byte for byte; a
    HEIC is converted to a JPEG (quality 90, upright, without its metadata: no EXIF, no
    location). Every refusal is an InputError naming ``where`` and what is wrong.
    """
    if len(data) > MAX_IMAGE_BYTES:
        raise InputError(
            f"{where}: more than {MAX_IMAGE_BYTES >> 20} MB is too large for a photo; send a "
            "smaller copy (2000 pixels a side is plenty)"
        )
    known = image_format(data[:16])
    if known is not None:
        decode(data, where, need=WEB_SIZE)
        return data, _EXTENSIONS[known]
    if is_heif(data[:12]):
        image = decode(data, where, need=WEB_SIZE, heif=True)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=_HEIC_QUALITY)  # no exif= or icc_profile=
        return out.getvalue(), "jpg"
    raise InputError(f"{where}: not an image announce can use: JPEG, PNG, WebP or HEIC")
