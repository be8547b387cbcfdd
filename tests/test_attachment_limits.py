"""Decompression bombs: images are judged by the pixel count in their header before anything
decodes them, and thumbnails are made in a bounded pool with bounded memory (issue 8, item 9).

Memory is measured as the growth of this process's peak resident set (``VmHWM``, reset through
``/proc/self/clear_refs`` before each measurement, so an earlier peak cannot hide a new one;
freed memory is first handed back with ``malloc_trim``, so reused pages cannot hide it either).
Each test that relies on the measurement shows first that decoding the same image would exceed
the bound, so the test would fail if the server decoded it."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import io
import math
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from app.core.config import Settings
from app.main import create_app
from app.services import attachments as attachment_service
from tests.conftest import World

MB = 1024 * 1024
BOUND = 100 * MB  # the bound on a worker's growth while handling such an upload
CLEAR_REFS = Path("/proc/self/clear_refs")


# ---- measuring ----------------------------------------------------------------------------------


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _release_free_memory() -> None:
    """Hands memory freed earlier (by other tests) back to the system, so that what the block
    allocates shows as new resident pages instead of reusing pages already counted."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def peak_growth() -> Iterator[list[int]]:
    """Yields a list that holds, after the block, how far the peak RSS rose above the RSS at
    its start."""
    _release_free_memory()
    try:
        CLEAR_REFS.write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pytest.skip("peak RSS cannot be reset here (/proc/self/clear_refs)")
    before = _status_bytes("VmRSS")
    out: list[int] = []
    yield out
    out.append(_status_bytes("VmHWM") - before)


# ---- making images without holding their pixels ------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of any size, a few KB: rows of zeros, compressed row by row
    (decoded by Pillow it takes one byte per pixel)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header claims another size."""
    data = bytearray(encoded(Image.new("RGB", (64, 64), "gray"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def webp_claiming(kind: str, width: int, height: int) -> bytes:
    """A small real WebP (lossy ``VP8 ``, lossless ``VP8L`` or extended ``VP8X``) whose header
    claims another size."""
    img = Image.new("RGBA", (64, 64), (90, 90, 90, 128 if kind == "VP8X" else 255))
    data = bytearray(encoded(img, "WEBP", lossless=kind == "VP8L"))
    assert data[12:16] == kind.ljust(4).encode(), data[12:16]
    if kind == "VP8 ":
        struct.pack_into("<HH", data, 26, width, height)
    elif kind == "VP8L":
        (bits,) = struct.unpack_from("<I", data, 21)
        struct.pack_into("<I", data, 21, (width - 1) | (height - 1) << 14 | (bits >> 28) << 28)
    else:
        data[24:27] = (width - 1).to_bytes(3, "little")
        data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def decoding_growth(data: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    """What decoding ``data`` in full would cost: the control that proves a measurement can see
    a decode (Pillow's own guard lifted for it)."""
    with monkeypatch.context() as patched:
        patched.setattr(Image, "MAX_IMAGE_PIXELS", None)
        with peak_growth() as growth:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    return growth[0]


async def upload(client, world: World, data: bytes, name: str = "photo.png"):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=world.h("ent_a1_staff"),
    )


async def warm_up(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """One ordinary upload first, so what is loaded once (codecs, plugins) is not measured."""
    for fmt in ("PNG", "JPEG", "WEBP"):
        r = await upload(client, world, encoded(Image.new("RGB", (700, 700), "red"), fmt))
        assert r.status_code == 201, r.text


def _refused_as_too_large(r: httpx.Response) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "image_too_large"
    assert body["errors"][0]["field"] == "file"


# ---- the bomb of the issue ----------------------------------------------------------------------------


async def test_a_12600_square_png_is_refused_from_its_header_without_the_worker_growing(
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    bomb = blank_png(12600, 12600)
    assert len(bomb) < 64 * 1024  # a few KB on the wire, 158.8 million pixels
    await warm_up(client, world)

    decoded = decoding_growth(bomb, monkeypatch)  # the measurement is sound
    assert decoded > BOUND, decoded
    print(f"\npeak RSS growth decoding the 12600x12600 PNG directly: {decoded / MB:.1f} MB")

    with peak_growth() as growth:
        r = await upload(client, world, bomb)
    _refused_as_too_large(r)
    assert "12600×12600" in r.json()["detail"]
    assert growth[0] < BOUND, f"peak RSS grew by {growth[0] / MB:.1f} MB"
    print(f"\npeak RSS growth uploading the 12600x12600 PNG: {growth[0] / MB:.1f} MB")


async def test_four_bombs_at_once_leave_the_worker_as_it_was(
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    bomb = blank_png(12600, 12600)
    await warm_up(client, world)
    assert decoding_growth(bomb, monkeypatch) > BOUND
    with peak_growth() as growth:
        answers = await asyncio.gather(*(upload(client, world, bomb) for _ in range(4)))
    for r in answers:
        _refused_as_too_large(r)
    assert growth[0] < BOUND, f"peak RSS grew by {growth[0] / MB:.1f} MB"


BOMBS = {
    "png": lambda: blank_png(12600, 12600),
    "jpeg": lambda: jpeg_claiming(60000, 60000),
    "webp_lossy": lambda: webp_claiming("VP8 ", 16383, 16383),
    "webp_lossless": lambda: webp_claiming("VP8L", 16384, 16384),
    "webp_extended": lambda: webp_claiming("VP8X", 30000, 30000),
}


@pytest.mark.parametrize("kind", list(BOMBS))
async def test_bombs_of_every_image_kind_are_422_image_too_large(
    client, world: World, kind: str
) -> None:  # type: ignore[no-untyped-def]
    r = await upload(client, world, BOMBS[kind]())
    _refused_as_too_large(r)
    r = await upload(client, world, BOMBS[kind](), name="photo.jpg")
    _refused_as_too_large(r)  # the name changes nothing


# ---- just under the limit: a thumbnail, in bounded memory ------------------------------------------------


async def test_a_png_just_under_the_pixel_limit_gets_a_thumbnail_in_bounded_memory(
    client, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    side = math.isqrt(settings.attachment_max_pixels)
    assert side * side <= settings.attachment_max_pixels < (side + 1) * (side + 1)
    big = blank_png(side, side)
    await warm_up(client, world)
    with peak_growth() as growth:
        r = await upload(client, world, big)
    assert r.status_code == 201, r.text
    assert r.json()["has_thumbnail"] is True
    # PNG cannot be decoded at a smaller scale: the decoded image (1 byte per pixel here) is the
    # one full-size buffer; conversion and reduction go band by band
    assert growth[0] < side * side + 40 * MB, f"peak RSS grew by {growth[0] / MB:.1f} MB"
    print(f"\npeak RSS growth, {side}x{side} PNG with its thumbnail: {growth[0] / MB:.1f} MB")
    thumb = await client.get(
        f"/api/v1/attachments/{r.json()['id']}/thumbnail", headers=world.h("ent_a1_staff")
    )
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert img.size == (320, 320)


async def test_a_jpeg_just_under_the_pixel_limit_is_decoded_at_a_fraction_of_its_size(
    client, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    width, height = 8000, 6000  # a 48 MP phone photo
    assert width * height <= settings.attachment_max_pixels
    photo = encoded(Image.new("RGB", (width, height), "olive"), "JPEG", quality=50)
    await warm_up(client, world)

    # decoded whole it would take 3 bytes per pixel
    assert decoding_growth(photo, monkeypatch) > 100 * MB

    with peak_growth() as growth:
        r = await upload(client, world, photo, "photo.jpg")
    assert r.status_code == 201, r.text
    assert r.json()["has_thumbnail"] is True
    assert growth[0] < 40 * MB, f"peak RSS grew by {growth[0] / MB:.1f} MB"  # draft: 1/8 scale
    print(f"\npeak RSS growth, 8000x6000 JPEG with its thumbnail: {growth[0] / MB:.1f} MB")
    thumb = await client.get(
        f"/api/v1/attachments/{r.json()['id']}/thumbnail", headers=world.h("ent_a1_staff")
    )
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert img.size == (320, 240)


# ---- the limit is a setting; the pool is bounded ---------------------------------------------------------


@pytest.fixture(scope="module")
async def strict_app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(
        settings.model_copy(
            update={"attachment_max_pixels": 10_000, "attachment_thumbnail_workers": 1}
        )
    )
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def strict_client(strict_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
async def test_the_pixel_limit_is_configured_and_inclusive(
    strict_client, world: World, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    at_limit = encoded(Image.new("RGB", (100, 100), "blue"), fmt)
    r = await upload(strict_client, world, at_limit)
    assert r.status_code == 201, r.text
    over = encoded(Image.new("RGB", (101, 100), "blue"), fmt)
    _refused_as_too_large(await upload(strict_client, world, over))
    r = await upload(strict_client, world, over, "x.png")
    assert "10,000" in r.json()["detail"]


def _counting_thumbnails(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wraps the thumbnail maker; the list holds the largest number running at once."""
    real = attachment_service._thumbnail
    lock = threading.Lock()
    running = [0]
    most = [0]

    def counted(data: bytes) -> bytes | None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)
            return real(data)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(attachment_service, "_thumbnail", counted)
    return most


async def test_thumbnails_are_made_by_a_bounded_pool(
    client, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    most = _counting_thumbnails(monkeypatch)
    photo = encoded(Image.new("RGB", (800, 600), "teal"), "PNG")
    answers = await asyncio.gather(*(upload(client, world, photo) for _ in range(8)))
    assert [r.status_code for r in answers] == [201] * 8
    assert all(r.json()["has_thumbnail"] for r in answers)
    assert 1 < most[0] <= settings.attachment_thumbnail_workers == 2


async def test_the_pool_size_is_configured(
    strict_client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    most = _counting_thumbnails(monkeypatch)
    photo = encoded(Image.new("RGB", (100, 50), "teal"), "PNG")
    answers = await asyncio.gather(*(upload(strict_client, world, photo) for _ in range(4)))
    assert [r.status_code for r in answers] == [201] * 4
    assert most[0] == 1
