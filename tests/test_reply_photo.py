"""The photo attached to a speaker's reply: found by its bytes, judged as ``check`` judges.

Every image here is made in the test, with Pillow (and pillow-heif's encoder for a HEIC).
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image

from mailer import paths
from mailer.errors import InputError
from mailer.inbox.photo import attached_images, judge
from mailer.render import photos

WHERE = "the photo attached (me.jpg)"


def jpeg(size: tuple[int, int] = (300, 200), **save: object) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    image.paste((20, 40, 200), (0, 0, size[0] // 4, size[1]))  # a blue band on the left
    image.save(out, format="JPEG", quality=90, **save)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 160, 90)).save(out, format="PNG")
    return out.getvalue()


def heic(size: tuple[int, int] = (64, 32), orientation: int = 1) -> bytes:
    """A real HEIC, from pillow-heif's encoder: a blue band on the left of ``size``."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGB", size, (200, 120, 40))
    image.paste((20, 40, 200), (0, 0, size[0] // 4, size[1]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Apple"  # metadata the saved photo must not carry
    out = io.BytesIO()
    image.save(out, format="HEIF", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` pixels, with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 7))
        + chunk(b"IEND", b"")
    )


def mail(*attachments: tuple[bytes, str, str, str | None]) -> EmailMessage:
    """A reply with text and ``(data, maintype, subtype, filename)`` attachments."""
    message = EmailMessage()
    message["From"] = "Fredrik <fredrik@example.org>"
    message["Subject"] = "Re: your talk"
    message.set_content("Title: Learning machines\n")
    for data, maintype, subtype, filename in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_good_jpeg_is_kept_byte_for_byte() -> None:
    sent = jpeg()
    assert judge(sent, WHERE) == (sent, "jpg")


def test_a_png_and_a_webp_are_kept_as_sent() -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, format="WEBP")
    assert judge(png(), WHERE) == (png(), "png")
    assert judge(out.getvalue(), WHERE) == (out.getvalue(), "webp")


def test_a_jpeg_sent_as_octet_stream_is_found_by_its_bytes() -> None:
    sent = jpeg()
    message = mail((sent, "application", "octet-stream", "IMG_0042"))
    assert attached_images(message) == [("IMG_0042", sent)]
    assert judge(sent, "IMG_0042") == (sent, "jpg")


def test_an_image_without_a_file_name_is_named_by_its_type() -> None:
    message = mail()
    message.add_attachment(png(), maintype="image", subtype="png")
    assert attached_images(message) == [("image/png", png())]


def test_a_heic_becomes_an_upright_jpeg_without_its_metadata() -> None:
    sent = heic((64, 32), orientation=6)  # to be shown turned 90 degrees clockwise
    data, extension = judge(sent, "IMG_0001.HEIC")
    assert extension == "jpg" and data.startswith(b"\xff\xd8\xff")
    image = opened(data)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert image.size == (32, 64)  # upright: the band on the left is now on top
    top, bottom = image.getpixel((16, 4)), image.getpixel((16, 60))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]
    assert not image.getexif() and "icc_profile" not in image.info
    assert b"Apple" not in data and b"Exif" not in data


def test_a_heic_sent_as_octet_stream_is_found_and_kept_with_its_name() -> None:
    sent = heic()
    message = mail((sent, "application", "octet-stream", "IMG_0001.HEIC"))
    assert attached_images(message) == [("IMG_0001.HEIC", sent)]
    data, extension = judge(sent, "IMG_0001.HEIC")
    assert extension == "jpg" and opened(data).size == (64, 32)


def test_the_heif_brands_are_those_pillow_heif_opens() -> None:
    from pillow_heif.as_plugin import _is_supported_heif  # what its opener accepts

    for brand in (*paths.HEIF_BRANDS, b"avif", b"avis", b"isom", b"mp42", b"crx "):
        head = b"\0\0\0\x18ftyp" + brand + b"\0\0\0\0mif1"
        assert paths.is_heif(head) == _is_supported_heif(io.BytesIO(head)), brand


def test_a_30000_pixel_square_png_is_refused_before_it_is_decoded() -> None:
    huge = png_header(30000, 30000)
    assert len(huge) < 100
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        judge(huge, WHERE)
    assert time.monotonic() - started < 2
    assert str(refused.value).startswith(
        f"{WHERE}: 30000 x 30000 pixels is more than announce decodes (40 million)"
    )


def test_a_truncated_jpeg_is_refused() -> None:
    whole = jpeg((400, 300))
    with pytest.raises(InputError, match=r"truncated or damaged") as refused:
        judge(whole[: len(whole) * 2 // 3], WHERE)
    assert str(refused.value).startswith(f"{WHERE}: cannot read the photo")


def test_png_magic_followed_by_junk_is_refused() -> None:
    with pytest.raises(InputError) as refused:
        judge(b"\x89PNG\r\n\x1a\n" + b"junk" * 100, WHERE)
    assert str(refused.value).startswith(f"{WHERE}: cannot read the photo")
    assert "PNG" in str(refused.value) or "truncated or damaged" in str(refused.value)


def test_a_truncated_heic_is_refused() -> None:
    whole = heic((256, 256))
    with pytest.raises(InputError, match=r"truncated or damaged") as refused:
        judge(whole[: len(whole) // 2], "IMG_0001.HEIC")
    assert str(refused.value).startswith("IMG_0001.HEIC: cannot read the photo")


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n", b"GIF89a\x01\x00\x01\x00", b"Title: Learning machines\n", b""],
    ids=["pdf", "gif", "text", "empty"],
)
def test_what_is_not_a_usable_image_is_refused(data: bytes) -> None:
    with pytest.raises(InputError) as refused:
        judge(data, WHERE)
    assert str(refused.value) == (
        f"{WHERE}: not an image announce can use: JPEG, PNG, WebP or HEIC"
    )


def test_a_photo_over_the_size_cap_is_refused() -> None:
    from mailer.paths import MAX_IMAGE_BYTES

    with pytest.raises(InputError, match=r"too large for a photo"):
        judge(jpeg() + b"\0" * MAX_IMAGE_BYTES, WHERE)


def test_a_pdf_attachment_is_skipped() -> None:
    photo = jpeg()
    message = mail(
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application", "pdf", "cv.pdf"),
        (photo, "image", "jpeg", "me.jpg"),
    )
    assert attached_images(message) == [("me.jpg", photo)]
    assert attached_images(mail((b"%PDF-1.7\n", "application", "pdf", "cv.pdf"))) == []


def test_a_part_declared_image_but_not_one_is_skipped() -> None:
    message = mail((b"GIF89a\x01\x00\x01\x00", "image", "gif", "logo.gif"))
    message.add_attachment(b"not a jpeg at all", maintype="image", subtype="jpeg")
    assert attached_images(message) == []


def test_two_images_are_given_both_in_order() -> None:
    first, second = png(), jpeg()
    message = mail((first, "image", "png", "b.png"), (second, "image", "jpeg", "a.jpg"))
    assert attached_images(message) == [("b.png", first), ("a.jpg", second)]


def test_images_nested_in_alternative_and_related_parts_keep_their_order() -> None:
    inline, attached = png((8, 8)), jpeg()
    message = EmailMessage()
    message.set_content("text")
    message.add_alternative("<p>text<img src='cid:logo'></p>", subtype="html")
    html = message.get_payload()[1]
    assert isinstance(html, EmailMessage)
    html.add_related(inline, maintype="image", subtype="png", cid="<logo>")
    message.add_attachment(attached, maintype="image", subtype="jpeg", filename="me.jpg")
    assert attached_images(message) == [("image/png", inline), ("me.jpg", attached)]


def test_the_pictures_of_a_mail_attached_whole_are_not_the_senders() -> None:
    forwarded = mail((png(), "image", "png", "their.png"))
    message = mail((jpeg(), "image", "jpeg", "me.jpg"))
    message.add_attachment(forwarded)
    assert [name for name, _ in attached_images(message)] == ["me.jpg"]


def test_a_record_photo_that_is_heic_is_named_so_by_check(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "me.jpg").write_bytes(heic())  # HEIC by its bytes
    (tmp_path / "photos" / "me.heic").write_bytes(b"\0\0\0\x18ftypxxxx")  # by its name
    for name in ("me.jpg", "me.heic"):
        with pytest.raises(InputError) as refused:
            photos.check(tmp_path, f"photos/{name}")
        said = str(refused.value)
        assert said.endswith(
            f"photos/{name}: is a HEIC photo (an iPhone's default); announce inbox converts "
            "attached ones, or convert it to JPEG (e.g. `heif-convert` or Preview's Export)"
        )


def test_a_converted_heic_passes_check_as_a_record_photo(tmp_path: Path) -> None:
    data, extension = judge(heic((200, 100), orientation=6), "IMG_0001.HEIC")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / f"me.{extension}").write_bytes(data)
    photos.check(tmp_path, f"photos/me.{extension}")


def test_check_names_a_heic_record_photo_and_how_to_convert_it(series: Path) -> None:
    import pillow_heif
    from runners import invoke
    from seriesfiles import edit

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (50, 50)).save(out, format="HEIF")
    (series / "photos").mkdir()
    (series / "photos" / "me.heic").write_bytes(out.getvalue())
    edit(series / "seminars" / "2024-02-22-mathis.yaml",
         ("date: 2024-02-22", "date: 2024-02-22\nphoto: photos/me.heic"))
    result = invoke(series, "check")
    assert result.code == 2
    assert 'photo: "photos/me.heic" is a HEIC photo (an iPhone\'s default)' in result.err
    assert "convert it to JPEG" in result.err and "Traceback" not in result.err
