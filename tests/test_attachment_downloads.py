"""Downloads never turn into pages, and polyglots are refused at upload (issue 8, item 20).

Every download carries ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy:
sandbox``; images are shown inline, everything else is a download. An image must end where its
image data ends; a PDF may not carry scripts, automatic actions or embedded files."""

from __future__ import annotations

import io
import zlib
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image, PngImagePlugin

from tests.conftest import World

HTML = (
    b"<html><body><script>fetch('/api/v1/me').then(r=>r.text()).then(alert)</script></body></html>"
)
PHP = b"<?php system($_GET['cmd']); ?>"


def image(fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(out, fmt, **options)
    return out.getvalue()


async def send(client, world: World, data: bytes, name: str = "file.bin"):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=world.h("ent_a1_staff"),
    )


async def stored(client, world: World, data: bytes, name: str = "file.bin") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await send(client, world, data, name)
    assert r.status_code == 201, r.text
    return r.json()


def refused(r, code: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code
    assert r.json()["errors"][0]["field"] == "file"


# ---- PDFs built by hand, with a correct cross-reference table -----------------------------------------


def pdf(*objects: bytes, trailer: bytes = b"") -> bytes:
    """Objects numbered from 1 (1: the catalog, 2: the page tree, 3: the page, unless given)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), entries) + data + b"\nendstream"


PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
CONTENT = stream(b"BT /F1 12 Tf 72 712 Td (Rectification report) Tj ET")


def catalog(extra: bytes = b"") -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R " + extra + b">>"


def object_stream(*objects: tuple[int, bytes], filters: bytes = b"/FlateDecode") -> bytes:
    """PDF 1.5 compressed objects: ``N offset`` pairs, then the objects."""
    bodies, index, at = b"", b"", 0
    for number, body in objects:
        index += b"%d %d " % (number, at)
        bodies += body + b"\n"
        at += len(body) + 1
    raw = index + b"\n" + bodies
    first = len(index) + 1
    if filters == b"/FlateDecode":
        data = zlib.compress(raw)
    elif filters == b"[/ASCIIHexDecode /FlateDecode]":
        data = zlib.compress(raw).hex().encode() + b">"
    else:
        data = raw
    return stream(
        data, b"/Type /ObjStm /N %d /First %d /Filter %s " % (len(objects), first, filters)
    )


BENIGN_PDFS = {
    "plain": pdf(catalog(), PAGES, PAGE, CONTENT),
    # Word, WPS and LibreOffice open at a page: a destination, not an action
    "open_at_page": pdf(catalog(b"/OpenAction [3 0 R /Fit] "), PAGES, PAGE, CONTENT),
    "open_with_goto": pdf(
        catalog(b"/OpenAction << /S /GoTo /D [3 0 R /XYZ 0 842 0] >> "), PAGES, PAGE, CONTENT
    ),
    "link_to_a_web_page": pdf(
        catalog(),
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Annots [5 0 R] >>",
        CONTENT,
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] "
        b"/A << /S /URI /URI (https://yjj.example.gov.cn/) >> >>",
    ),
    # a name in page content or in image bytes is drawing data, not a dictionary of the document
    "names_inside_content": pdf(catalog(), PAGES, PAGE, stream(b"/JavaScript /AA /Launch BT ET")),
    "compressed_objects": pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        PAGES,
        PAGE,
        CONTENT,
        object_stream((6, b"<< /Title (report) >>"), (7, b"[3 0 R /Fit]")),
    ),
}

ACTIVE_PDFS = {
    "javascript_on_open": pdf(
        catalog(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "), PAGES, PAGE, CONTENT
    ),
    "document_javascript": pdf(
        catalog(b"/Names << /JavaScript 5 0 R >> "),
        PAGES,
        PAGE,
        CONTENT,
        b"<< /Names [(init) << /S /JavaScript /JS (this.submitForm('x')) >>] >>",
    ),
    "page_additional_actions": pdf(
        catalog(),
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >> >>",
        CONTENT,
    ),
    "launch": pdf(
        catalog(b"/OpenAction << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) >> >> "),
        PAGES,
        PAGE,
        CONTENT,
    ),
    "remote_goto": pdf(
        catalog(b"/OpenAction 5 0 R "),
        PAGES,
        PAGE,
        CONTENT,
        b"<< /S /GoToR /F (\\\\\\\\198.51.100.7\\\\share\\\\x.pdf) /D [0 /Fit] >>",
    ),
    "url_on_open": pdf(
        catalog(b"/OpenAction << /S /URI /URI (https://evil.example/) >> "),
        PAGES,
        PAGE,
        CONTENT,
    ),
    "embedded_file": pdf(
        catalog(b"/Names << /EmbeddedFiles << /Names [(readme.exe) 5 0 R] >> >> "),
        PAGES,
        PAGE,
        CONTENT,
        b"<< /Type /Filespec /F (readme.exe) /EF << /F 6 0 R >> >>",
        stream(b"MZ\x90\x00", b"/Type /EmbeddedFile "),
    ),
    "escaped_names": pdf(
        catalog(b"/OpenAction << /S /J#61va#53cript /J#53 (app.alert(1)) >> "),
        PAGES,
        PAGE,
        CONTENT,
    ),
    "javascript_in_an_object_stream": pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        PAGES,
        PAGE,
        CONTENT,
        object_stream((6, b"<< /S /JavaScript /JS (app.launchURL('x')) >>")),
    ),
    "javascript_in_a_hex_and_flate_object_stream": pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        PAGES,
        PAGE,
        CONTENT,
        object_stream(
            (6, b"<< /S /JavaScript /JS (app.alert(1)) >>"),
            filters=b"[/ASCIIHexDecode /FlateDecode]",
        ),
    ),
}


@pytest.mark.parametrize("name", list(BENIGN_PDFS))
async def test_ordinary_pdfs_are_accepted(client, world: World, name: str) -> None:  # type: ignore[no-untyped-def]
    a = await stored(client, world, BENIGN_PDFS[name], "report.pdf")
    assert a["content_type"] == "application/pdf"


@pytest.mark.parametrize("name", list(ACTIVE_PDFS))
async def test_pdfs_with_active_content_are_422(client, world: World, name: str) -> None:  # type: ignore[no-untyped-def]
    refused(await send(client, world, ACTIVE_PDFS[name], "report.pdf"), "pdf_active_content")


async def test_pdfs_that_cannot_be_checked_are_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    encrypted = pdf(
        catalog(),
        PAGES,
        PAGE,
        CONTENT,
        b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>",
        trailer=b"/Encrypt 5 0 R /ID [<01> <01>] ",
    )
    refused(await send(client, world, encrypted, "locked.pdf"), "pdf_encrypted")
    unknown_filter = pdf(
        catalog(),
        PAGES,
        PAGE,
        CONTENT,
        object_stream((6, b"<< /S /JavaScript /JS (1) >>"), filters=b"/LZWDecode"),
    )
    refused(await send(client, world, unknown_filter, "odd.pdf"), "pdf_unreadable")
    broken = pdf(
        catalog(),
        PAGES,
        PAGE,
        CONTENT,
        stream(b"not zlib", b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode "),
    )
    refused(await send(client, world, broken, "broken.pdf"), "pdf_unreadable")


# ---- image polyglots ----------------------------------------------------------------------------------


POLYGLOTS = {
    "png_with_html": image("PNG") + HTML,
    "png_with_php": image("PNG") + PHP,
    "jpeg_with_html": image("JPEG") + HTML,
    "jpeg_with_php_after_padding": image("JPEG") + b"\x00" * 16 + PHP,
    "webp_with_html": image("WEBP") + HTML,
    "jpeg_with_a_zip": image("JPEG") + b"PK\x03\x04" + b"\x00" * 40,
}


@pytest.mark.parametrize("name", list(POLYGLOTS))
async def test_data_after_the_end_of_an_image_is_422(client, world: World, name: str) -> None:  # type: ignore[no-untyped-def]
    refused(await send(client, world, POLYGLOTS[name], "photo.jpg"), "image_trailing_data")


async def test_images_that_end_where_they_should_are_accepted(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # a camera's multi-picture JPEG (a second image after the first) and zero padding
    mpo = io.BytesIO()
    first = Image.new("RGB", (64, 48), "navy")
    first.save(mpo, "MPO", save_all=True, append_images=[Image.new("RGB", (64, 48), "red")])
    for data in (mpo.getvalue(), image("JPEG") + b"\x00" * 64):
        a = await stored(client, world, data, "photo.jpg")
        assert a["content_type"] == "image/jpeg" and a["has_thumbnail"] is True


async def test_motion_photos_from_phones_are_accepted(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """动态照片: the still, then a short MP4 (Google/Xiaomi/Huawei; Samsung after a marker)."""
    video = (  # an ftyp and an mdat box, their sizes adding up to the end of the file
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        + b"\x00\x00\x01\x08mdat"
        + b"\x00" * 256
    )
    for data in (image("JPEG") + video, image("JPEG") + b"MotionPhoto_Data" + video):
        a = await stored(client, world, data, "MVIMG_20261201.jpg")
        assert a["content_type"] == "image/jpeg" and a["size"] == len(data)


async def test_a_truncated_image_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("PNG", "JPEG", "WEBP"):
        data = image(fmt)
        refused(await send(client, world, data[: len(data) - 20], "photo.png"), "image_malformed")


async def test_markup_inside_an_image_is_served_only_as_that_image(client, world: World) -> None:  # type: ignore[no-untyped-def]
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML.decode())
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(out, "PNG", pnginfo=info)
    a = await stored(client, world, out.getvalue(), "photo.png")
    r = await client.get(f"/api/v1/attachments/{a['id']}/content", headers=world.h("ent_a1_staff"))
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "sandbox"


# ---- download headers -----------------------------------------------------------------------------------


KINDS = {
    "jpeg": (image("JPEG"), "image/jpeg", "inline"),
    "png": (image("PNG"), "image/png", "inline"),
    "webp": (image("WEBP"), "image/webp", "inline"),
    "pdf": (BENIGN_PDFS["plain"], "application/pdf", "attachment"),
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_downloads_are_never_sniffed_and_only_images_are_inline(
    client, world: World, kind: str
) -> None:  # type: ignore[no-untyped-def]
    data, mime, disposition = KINDS[kind]
    a = await stored(client, world, data, f"evidence.{kind}")
    base = f"/api/v1/attachments/{a['id']}"
    r = await client.get(base + "/content", headers=world.h("ent_a1_staff"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(mime)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "sandbox"
    assert r.headers["content-disposition"].split(";")[0] == disposition
    if kind != "pdf":
        thumb = await client.get(base + "/thumbnail", headers=world.h("ent_a1_staff"))
        assert thumb.headers["content-type"] == "image/jpeg"
        assert thumb.headers["x-content-type-options"] == "nosniff"
        assert thumb.headers["content-security-policy"] == "sandbox"
        assert thumb.headers["content-disposition"].startswith("inline;")


async def test_the_saved_name_ends_in_the_real_type(client, world: World) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (image("PNG"), "evidence.html", "evidence.html.png"),
        (image("JPEG"), "照片.JPEG", "照片.JPEG"),
        (image("JPEG"), "照片.png", "照片.png.jpg"),
        (BENIGN_PDFS["plain"], "报告.svg", "报告.svg.pdf"),
        (image("WEBP"), "../", "attachment.webp"),
    ]
    for data, sent, kept in cases:
        a = await stored(client, world, data, sent)
        assert a["filename"] == kept, sent
        r = await client.get(
            f"/api/v1/attachments/{a['id']}/content", headers=world.h("ent_a1_staff")
        )
        assert unquote(r.headers["content-disposition"].split("''", 1)[1]) == a["filename"]
