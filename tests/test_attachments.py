"""Evidence files: kind judged by content, size limit, SHA-256, thumbnails, and who may read them."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from app.core.config import Settings
from app.main import create_app
from tests.conftest import World
from tests.hazard_helpers import act, png_bytes, register

SMALL_LIMIT = 2048


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), color: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def pdf_bytes(padding: int = 0) -> bytes:
    body = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    )
    body += b"%" + b"x" * padding + b"\n" if padding else b""
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


FILES = {
    "jpeg": ("现场照片.jpg", lambda: image_bytes("JPEG"), "image/jpeg", True),
    "png": ("after.png", lambda: image_bytes("PNG"), "image/png", True),
    "webp": ("after.webp", lambda: image_bytes("WEBP"), "image/webp", True),
    "pdf": ("整改报告.pdf", pdf_bytes, "application/pdf", False),
}


async def send(
    client,
    world: World,
    actor: str,
    name: str,
    data: bytes,
    declared: str = "application/octet-stream",
):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/attachments", files={"file": (name, data, declared)}, headers=world.h(actor)
    )


async def uploaded(
    client, world: World, actor: str, data: bytes, name: str = "photo.png"
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await send(client, world, actor, name, data)
    assert r.status_code == 201, r.text
    return r.json()


# ---- kinds and content ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FILES))
async def test_accepted_kinds_are_stored_with_their_sha256(client, world: World, kind: str) -> None:  # type: ignore[no-untyped-def]
    name, make, mime, is_image = FILES[kind]
    data = make()
    # the declared type is ignored: the content decides
    r = await send(client, world, "ent_a1_staff", name, data, "application/octet-stream")
    assert r.status_code == 201, r.text
    a = r.json()
    assert r.headers["location"] == f"/api/v1/attachments/{a['id']}"
    assert a["content_type"] == mime
    assert a["size"] == len(data)
    assert a["sha256"] == hashlib.sha256(data).hexdigest()
    assert a["filename"] == name
    assert a["has_thumbnail"] is is_image
    assert a["hazard_id"] is None and a["phase"] is None
    meta = await client.get(f"/api/v1/attachments/{a['id']}", headers=world.h("ent_a1_staff"))
    assert meta.status_code == 200
    assert meta.json() == a
    content = await client.get(
        f"/api/v1/attachments/{a['id']}/content", headers=world.h("ent_a1_staff")
    )
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"].startswith(mime)
    assert hashlib.sha256(content.content).hexdigest() == a["sha256"]


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
async def test_images_get_a_jpeg_thumbnail(client, world: World, kind: str) -> None:  # type: ignore[no-untyped-def]
    fmt = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[kind]
    a = await uploaded(client, world, "town_a_officer", image_bytes(fmt, (1200, 900)))
    r = await client.get(
        f"/api/v1/attachments/{a['id']}/thumbnail", headers=world.h("town_a_officer")
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) <= 320
        assert thumb.size == (320, 240)  # aspect ratio kept


async def test_pdf_has_no_thumbnail(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world, "town_a_officer", pdf_bytes(), "report.pdf")
    r = await client.get(
        f"/api/v1/attachments/{a['id']}/thumbnail", headers=world.h("town_a_officer")
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


REFUSED = [
    ("photo.png", "这不是图片，只是一段文字。".encode(), "image/png"),
    ("photo.jpg", b"just some text pretending to be a photo\n" * 4, "image/jpeg"),
    ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120, "application/octet-stream"),
    ("tool.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 120, "image/png"),
    ("evidence.zip", b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 120, "application/zip"),
    ("anim.gif", b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00" + b"\x00" * 40, "image/gif"),
    ("draw.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/svg+xml"),
    ("page.pdf", b"<html><body>%PDF-1.4</body></html>", "application/pdf"),
]


async def test_other_kinds_are_415_whatever_the_name(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for name, data, declared in REFUSED:
        r = await send(client, world, "ent_a1_staff", name, data, declared)
        assert r.status_code == 415, (name, r.text)
        assert r.json()["code"] == "unsupported_media_type"
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_empty_file_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await send(client, world, "ent_a1_staff", "empty.png", b"")
    assert r.status_code == 422


async def test_upload_without_a_file_part_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/attachments",
        files={"photo": ("a.png", image_bytes("PNG"), "image/png")},
        headers=world.h("ent_a1_staff"),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"


async def test_upload_that_is_not_multipart_is_415(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/attachments", data={"note": "x"}, headers=world.h("ent_a1_staff")
    )
    assert r.status_code == 415


async def test_path_in_the_file_name_is_dropped(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world, "ent_a1_staff", pdf_bytes(), "../../etc/整改报告.pdf")
    assert a["filename"] == "整改报告.pdf"
    r = await client.get(f"/api/v1/attachments/{a['id']}/content", headers=world.h("ent_a1_staff"))
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert "/" not in r.headers["content-disposition"].split("''", 1)[1]


async def test_readers_cannot_upload(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor in ("town_a_viewer", "county_viewer", "machine"):
        r = await send(client, world, actor, "photo.png", image_bytes("PNG"))
        assert r.status_code == 403, actor


async def test_upload_needs_a_token(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/attachments", files={"file": ("photo.png", image_bytes("PNG"), "image/png")}
    )
    assert r.status_code == 401


# ---- the size limit, with an app configured for 2 KiB -----------------------------------------


@pytest.fixture(scope="module")
async def small_app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings.model_copy(update={"attachment_max_bytes": SMALL_LIMIT}))
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def small_client(small_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_file_at_the_limit_is_accepted_and_one_byte_more_is_413(  # type: ignore[no-untyped-def]
    small_client, world: World
) -> None:
    at_limit = pdf_bytes(SMALL_LIMIT - len(pdf_bytes()) - 2)
    assert len(at_limit) == SMALL_LIMIT
    r = await send(small_client, world, "ent_a1_staff", "ok.pdf", at_limit)
    assert r.status_code == 201, r.text
    assert r.json()["size"] == SMALL_LIMIT
    over = pdf_bytes(SMALL_LIMIT - len(pdf_bytes()) - 1)
    assert len(over) == SMALL_LIMIT + 1
    r = await send(small_client, world, "ent_a1_staff", "big.pdf", over)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


async def test_image_over_the_limit_is_413_even_with_a_small_name(
    small_client, world: World
) -> None:  # type: ignore[no-untyped-def]
    noisy = Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > SMALL_LIMIT
    r = await send(small_client, world, "ent_a1_staff", "a.png", out.getvalue())
    assert r.status_code == 413


async def test_body_far_over_the_limit_is_413_before_it_is_read(small_client, world: World) -> None:  # type: ignore[no-untyped-def]
    huge = pdf_bytes(200_000)
    r = await send(small_client, world, "ent_a1_staff", "huge.pdf", huge)
    assert r.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        boundary = b"--xyz\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="h.pdf"\r\n'
        yield b"Content-Type: application/pdf\r\n\r\n"
        for _ in range(20):
            yield huge[:10_000]
        yield b"\r\n--xyz--\r\n"

    r = await small_client.post(
        "/api/v1/attachments",
        content=chunks(),
        headers=world.h("ent_a1_staff", **{"Content-Type": "multipart/form-data; boundary=xyz"}),
    )
    assert r.status_code == 413


async def test_the_default_app_accepts_what_the_small_one_refuses(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await send(client, world, "ent_a1_staff", "big.pdf", pdf_bytes(10_000))
    assert r.status_code == 201


# ---- who may read --------------------------------------------------------------------------------

OTHERS = [
    "ent_a1_manager",
    "town_a_officer",
    "town_a_viewer",
    "county_officer",
    "admin",
    "bureau_e_officer",
    "machine",
    "town_b_officer",
]


async def _reads(client, world: World, actor: str, attachment_id: str) -> list[int]:  # type: ignore[no-untyped-def]
    base = f"/api/v1/attachments/{attachment_id}"
    return [
        (await client.get(base + suffix, headers=world.h(actor))).status_code
        for suffix in ("", "/content", "/thumbnail")
    ]


async def test_unbound_attachment_is_its_uploaders_alone(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world, "ent_a1_staff", image_bytes("PNG"))
    assert await _reads(client, world, "ent_a1_staff", a["id"]) == [200, 200, 200]
    for actor in OTHERS:
        assert await _reads(client, world, actor, a["id"]) == [404, 404, 404], actor
    missing = await client.get("/api/v1/attachments/no-such-id", headers=world.h("admin"))
    assert missing.status_code == 404


IN_SCOPE_OF_ENT_A1 = [
    "ent_a1_manager",
    "ent_a1_staff",
    "town_a_officer",
    "town_a_viewer",
    "county_officer",
    "county_viewer",
    "admin",
    "bureau_e_officer",
    "machine",
]
OUT_OF_SCOPE_OF_ENT_A1 = ["town_b_officer", "bureau_c_officer", "ent_b1_manager"]


async def test_bound_attachment_follows_the_scope_of_its_hazard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    discovery = await uploaded(client, world, "town_a_officer", image_bytes("JPEG"))
    h = await register(client, world, "town_a_officer", "ent_a1", attachment_ids=[discovery["id"]])
    assert [(a["id"], a["phase"]) for a in h["attachments"]] == [(discovery["id"], "discovery")]
    meta = await client.get(
        f"/api/v1/attachments/{discovery['id']}", headers=world.h("ent_a1_staff")
    )
    assert meta.json()["hazard_id"] == h["id"]
    assert meta.json()["phase"] == "discovery"
    for actor in IN_SCOPE_OF_ENT_A1:
        assert await _reads(client, world, actor, discovery["id"]) == [200, 200, 200], actor
    for actor in OUT_OF_SCOPE_OF_ENT_A1:
        assert await _reads(client, world, actor, discovery["id"]) == [404, 404, 404], actor


async def test_evidence_of_a_hazard_of_another_enterprise_is_hidden(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "ent_b1_manager", "ent_b1")
    photo = await uploaded(client, world, "ent_b1_manager", image_bytes("WEBP"))
    r = await act(
        client, world, "ent_b1_manager", h["id"], "fix_on_spot", attachment_ids=[photo["id"]]
    )
    assert r.status_code == 200, r.text
    assert await _reads(client, world, "ent_b1_manager", photo["id"]) == [200, 200, 200]
    assert await _reads(client, world, "town_b_officer", photo["id"]) == [200, 200, 200]
    assert await _reads(client, world, "bureau_e_officer", photo["id"]) == [200, 200, 200]
    for actor in (
        "ent_a1_manager",
        "ent_a1_staff",
        "town_a_officer",
        "machine",
        "bureau_c_officer",
    ):
        assert await _reads(client, world, actor, photo["id"]) == [404, 404, 404], actor


async def test_a_failed_upload_leaves_no_file_behind(  # type: ignore[no-untyped-def]
    client, world: World, settings, monkeypatch
) -> None:
    """The bytes are written before the row; when the transaction does not commit, the file
    and its thumbnail are taken back (nothing on disk that no row names)."""
    from app.core.errors import ValidationFailed
    from app.services import attachments as service

    root = settings.data_dir / "files"
    before = {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()

    def refuse(*_args: object) -> str:  # fails after the file and thumbnail are written
        raise ValidationFailed.field("file", "文件名无效", "Bad file name")

    monkeypatch.setattr(service, "_clean_filename", refuse)
    r = await client.post(
        "/api/v1/attachments",
        files={"file": ("photo.png", png_bytes(), "image/png")},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 422, r.text
    after = {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    assert after == before
    monkeypatch.undo()
    ok = await client.post(  # and a good upload still keeps its files
        "/api/v1/attachments",
        files={"file": ("photo.png", png_bytes(), "image/png")},
        headers=world.h("town_a_officer"),
    )
    assert ok.status_code == 201
    assert len({p for p in root.rglob("*") if p.is_file()} - before) == 2  # file + thumbnail
