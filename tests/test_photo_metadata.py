"""Metadata taken out of a public report's photos (保密): the owner's name, the device, GPS and
free text go; the pixels stay byte for byte and the orientation stays, so it shows upright."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from app.services.attachment_content import inspect
from app.services.photo_metadata import strip

SECRET = "保密举报人 13912345678"


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "Wang Xiaoming"  # Artist
    exif[0x8298] = "13912345678"  # Copyright
    exif[0x010F] = "PhoneMaker"  # Make
    return exif


def _jpeg(progressive: bool = False) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", (64, 48), "red")
    img.save(out, "JPEG", exif=_exif(6), comment=SECRET.encode(), progressive=progressive)
    return out.getvalue()


def test_a_jpeg_loses_its_exif_and_comments_but_keeps_its_orientation_and_pixels() -> None:
    for progressive in (False, True):
        data = _jpeg(progressive)
        assert b"13912345678" in data and b"Wang Xiaoming" in data
        clean = strip(data, "image/jpeg")
        for leaked in (b"13912345678", b"Wang Xiaoming", b"PhoneMaker", SECRET.encode()):
            assert leaked not in clean
        with Image.open(io.BytesIO(clean)) as img:
            assert img.getexif().get(0x0112) == 6
            img.load()
            assert img.size == (64, 48)
        with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(clean)) as b:
            assert a.tobytes() == b.tobytes()
        assert inspect(clean, 50_000_000).mime == "image/jpeg"


def test_a_png_loses_its_text_chunks_and_a_webp_its_exif() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Author", SECRET)
    info.add_text("Comment", "13912345678")
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(out, "PNG", pnginfo=info)
    clean = strip(out.getvalue(), "image/png")
    assert b"13912345678" not in clean and "保密".encode() not in clean
    with Image.open(io.BytesIO(clean)) as img:
        img.load()
        assert img.size == (32, 32)
    webp = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(webp, "WEBP", exif=_exif(3))
    assert b"13912345678" in webp.getvalue()
    clean = strip(webp.getvalue(), "image/webp")
    assert b"13912345678" not in clean
    with Image.open(io.BytesIO(clean)) as img:
        img.load()
        assert img.size == (32, 32)
    assert inspect(clean, 50_000_000).mime == "image/webp"
