"""Hostile uploads against the content checks (attacker review of items 9 and 20): each answers
quickly, in bounded memory, with a 4xx, never a 500, and never by accepting what it hides.

Times are asserted with generous bounds (the faults took seconds to hours); memory like in
``test_attachment_limits`` (peak RSS growth, ``VmHWM`` reset first)."""

from __future__ import annotations

import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from app.core.errors import AppError
from app.services import attachment_content
from app.services.attachment_content import inspect
from tests.conftest import World
from tests.test_attachment_downloads import HTML, PHP, image, pdf, refused, send
from tests.test_attachment_limits import BOUND, MB, encoded, peak_growth, upload, warm_up

MAX_PIXELS = 50_000_000


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# ---- 1. JPEG marker scan: linear -----------------------------------------------------------------


async def test_a_jpeg_of_fill_bytes_is_refused_at_once(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # the marker pattern was retried at every FF: 40 KB took 6.8 s, 100 KB about 40 s
    start = time.perf_counter()
    with pytest.raises(AppError) as refusal:
        inspect(b"\xff\xd8" + b"\xff" * 100_000, MAX_PIXELS)
    assert refusal.value.code == "image_malformed"
    assert time.perf_counter() - start < 1
    start = time.perf_counter()
    r = await send(client, world, b"\xff\xd8" + b"\xff" * 1_000_000, "photo.jpg")
    took = time.perf_counter() - start
    refused(r, "image_malformed")
    assert took < 1, f"{took:.2f} s"


# ---- 2. PDF decode budget: every filter, never unlimited ---------------------------------------------


def _objstm(data: bytes, filters: bytes) -> bytes:
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter %s /Length %d >>\nstream\n%s\nendstream" % (
        filters,
        len(data),
        data,
    )


def _flate_bomb(size: int) -> bytes:
    z = zlib.compressobj(9)
    chunk = b"\x00" * (1024 * 1024)
    return b"".join(z.compress(chunk) for _ in range(size // len(chunk))) + z.flush()


async def test_ascii85_cannot_empty_the_budget_for_a_flate_bomb(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # "z" is 4 zero bytes: 8 Mi of them and "!!" (one byte) decode to 32 MiB + 1, the old budget
    # plus one: it went to -1, and max_length 0 inflated the next stream without a limit
    a85 = b"z" * (8 * 1024 * 1024) + b"!!~>"
    bomb = pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        _objstm(a85, b"/ASCII85Decode"),
        _objstm(_flate_bomb(128 * MB), b"/FlateDecode"),
    )
    await warm_up(client, world)
    with peak_growth() as growth:
        start = time.perf_counter()
        r = await send(client, world, bomb, "report.pdf")
        took = time.perf_counter() - start
    refused(r, "pdf_unreadable")
    assert took < 1, f"{took:.2f} s"
    assert growth[0] < BOUND, f"peak RSS grew by {growth[0] / MB:.1f} MB"


@pytest.mark.parametrize(
    "body, filters",
    [
        (b"z" * (5 * 1024 * 1024) + b"~>", b"/A85"),  # 20 MiB from 5 MiB
        (b"00" * (17 * 1024 * 1024) + b">", b"/AHx"),
        (zlib.compress(b"\x00" * (17 * 1024 * 1024)), b"/Fl"),
        (zlib.compress(b"\x00" * (9 * 1024 * 1024)).hex().encode() + b">", b"[/AHx /Fl]"),
    ],
    ids=["a85", "ahx", "flate", "chain"],
)
def test_every_filter_is_bounded_by_the_budget(body: bytes, filters: bytes) -> None:
    assert attachment_content.PDF_DECODE_BUDGET == 16 * MB
    second = _objstm(zlib.compress(b"\x00" * (9 * 1024 * 1024)), b"/Fl")
    doc = pdf(b"<< /Type /Catalog >>", _objstm(body, filters), second)
    with pytest.raises(AppError) as refusal:
        inspect(doc, MAX_PIXELS)
    assert refusal.value.code == "pdf_unreadable"


# ---- 3. PDF names: streamed, linear, capped ----------------------------------------------------------


async def test_a_pdf_of_slashes_answers_at_once_in_little_memory(client, world: World) -> None:  # type: ignore[no-untyped-def]
    slashes = b"%PDF-1.4\n" + b"/" * 4_000_000  # took 4.2 s and 458 MB: a list entry per "/"
    await warm_up(client, world)
    with peak_growth() as growth:
        start = time.perf_counter()
        r = await send(client, world, slashes, "report.pdf")
        took = time.perf_counter() - start
    assert r.status_code == 201, r.text  # nothing in it is active
    assert took < 1, f"{took:.2f} s"
    assert growth[0] < 60 * MB, f"peak RSS grew by {growth[0] / MB:.1f} MB"


async def test_an_object_stream_of_slashes_is_bounded(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # 33 M slashes in 32 KB: took 33 s and 3.4 GB, and was accepted
    doc = pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        _objstm(zlib.compress(b"/" * 33_000_000, 9), b"/FlateDecode"),
    )
    assert len(doc) < 64 * 1024
    await warm_up(client, world)
    with peak_growth() as growth:
        start = time.perf_counter()
        r = await send(client, world, doc, "report.pdf")
        took = time.perf_counter() - start
    refused(r, "pdf_unreadable")  # beyond the decode budget
    assert took < 1, f"{took:.2f} s"
    assert growth[0] < BOUND, f"peak RSS grew by {growth[0] / MB:.1f} MB"
    # within the budget, the slashes are read in well under a second
    inner = _objstm(zlib.compress(b"/" * 15_000_000, 9), b"/FlateDecode")
    (_, took) = _timed(lambda: inspect(pdf(b"<< /Type /Catalog >>", inner), MAX_PIXELS))
    assert took < 1, f"{took:.2f} s"


def test_too_many_names_or_streams_are_too_complex_to_check() -> None:
    many_names = b"%PDF-1.4\n" + b"/Length " * (attachment_content.PDF_MAX_NAMES + 1)
    many_streams = b"%PDF-1.4\n" + b"<</Length 1>>stream\nx\nendstream\n" * (
        attachment_content.PDF_MAX_STREAMS + 1
    )
    for doc in (many_names, many_streams):
        start = time.perf_counter()
        with pytest.raises(AppError) as refusal:
            inspect(doc, MAX_PIXELS)
        assert refusal.value.code == "pdf_too_complex"
        assert refusal.value.status == 422
        assert time.perf_counter() - start < 2


def test_active_names_are_still_found_after_a_long_run_of_names() -> None:
    # the scan goes window by window: a name at a window's edge is not lost
    for pad in range(0, 4):
        doc = b"%PDF-1.4\n" + b"/a" * (128 * 1024) + b" " * pad + b"/JavaScript (x) /J#53"
        with pytest.raises(AppError) as refusal:
            inspect(doc, MAX_PIXELS)
        assert refusal.value.code == "pdf_active_content"
        assert "/JS, /JavaScript" in (refusal.value.detail_en or "")


# ---- 4. hostile numbers: 4xx, never 500 --------------------------------------------------------------


async def test_a_length_of_thousands_of_digits_is_not_a_500(client, world: World) -> None:  # type: ignore[no-untyped-def]
    doc = pdf(
        b"<< /Type /Catalog >>",
        b"<< /Length " + b"9" * 5000 + b" >>\nstream\nBT ET\nendstream",
    )
    r = await send(client, world, doc, "report.pdf")
    assert r.status_code == 201, r.text  # no direct length: the body ends at endstream


def _seeds() -> list[bytes]:
    from tests.test_attachment_downloads import BENIGN_PDFS, object_stream

    return [
        image("PNG"),
        image("JPEG"),
        image("JPEG", progressive=True),
        image("WEBP"),
        image("WEBP", lossless=True),
        BENIGN_PDFS["plain"],
        BENIGN_PDFS["compressed_objects"],
        pdf(b"<< /Type /Catalog >>", object_stream((5, b"<< /A 1 >>"), filters=b"/ASCII85Decode")),
    ]


SEEDS = _seeds()


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "append", "overwrite", "number", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "truncate":
            del data[max(12, at) :]
        elif op == "append":
            data += draw(st.binary(max_size=64))
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif op == "number":
            number = draw(st.sampled_from([b"9" * 5000, b"\xff\xff\xff\xff", b"-1", b"0"]))
            prefix = draw(st.sampled_from([b"", b"/Length ", b"/Length 1 0 R /Length "]))
            if prefix and draw(st.booleans()) and (head := data.find(b">>\nstream")) >= 0:
                at = head  # in a stream's dictionary
            data[at:at] = prefix + number
        else:
            data[at:at] = draw(
                st.sampled_from([b"/", b"stream\n", b"endstream", b"\xff", b"~>", b">>", b"#"])
            )
    return bytes(data)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile())
@example(pdf(b"<< /Type /Catalog >>", b"<< /Length " + b"9" * 5000 + b" >>\nstream\nx\nendstream"))
def test_the_parsers_only_ever_refuse_with_an_app_error(data: bytes) -> None:
    try:
        inspect(data, MAX_PIXELS)
    except AppError as e:
        assert e.status in (415, 422), e.status


# ---- 5. motion photos: boxes to the end of the file ----------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


FTYP = _box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")


async def test_markup_after_an_ftyp_box_is_not_a_motion_photo(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for tail in (
        b"\x00\x00\x00\x10ftyp" + b"mp42\x00\x00\x00\x00" + PHP + HTML,  # was accepted
        FTYP + PHP + HTML,
        FTYP + _box(b"mdat", b"\x00" * 64) + HTML,  # boxes, then something else
        FTYP + struct.pack(">I", 4096) + b"mdat" + HTML,  # a box past the end
        FTYP + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 2**63) + HTML,
        b"MotionPhoto_Data" + FTYP + HTML,
        b"MotionPhoto_Data" + FTYP + HTML + b"\x00\x00\x00\x00SEFT",  # no SEF header there
    ):
        refused(await send(client, world, image("JPEG") + tail, "photo.jpg"), "image_trailing_data")


async def test_well_formed_motion_photos_are_accepted(client, world: World) -> None:  # type: ignore[no-untyped-def]
    mdat = _box(b"mdat", b"\x00" * 64)
    sef = b"SEFH" + struct.pack("<II", 106, 1) + b"\x00" * 12
    for tail in (
        FTYP + mdat,
        FTYP + _box(b"moov", b"\x00" * 16) + struct.pack(">I", 0) + b"mdat" + HTML,  # to the end
        FTYP + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 8) + b"\x00" * 8,
        b"MotionPhoto_Data" + FTYP + mdat,
        b"MotionPhoto_Data" + FTYP + mdat + sef + struct.pack("<I", len(sef)) + b"SEFT",
    ):
        data = image("JPEG") + tail
        r = await send(client, world, data, "MVIMG_20261201.jpg")
        assert r.status_code == 201, r.text
        assert r.json()["size"] == len(data)


# ---- 6. progressive JPEGs: no thumbnail beyond a quarter of the limit ----------------------------------


@pytest.fixture(scope="module")
def progressive_photo() -> bytes:
    # 49 MP, within the 50 MP limit; 0.3 MB: libjpeg buffers all its coefficients (+143 MB)
    return encoded(Image.new("RGB", (7000, 7000), "white"), "JPEG", quality=50, progressive=True)


async def test_a_progressive_jpeg_near_the_limit_is_kept_without_a_thumbnail(
    client, world: World, progressive_photo: bytes
) -> None:  # type: ignore[no-untyped-def]
    assert inspect(progressive_photo, MAX_PIXELS).thumbnail is False
    await warm_up(client, world)
    with peak_growth() as growth:
        r = await upload(client, world, progressive_photo, "photo.jpg")
    assert r.status_code == 201, r.text
    assert r.json()["has_thumbnail"] is False
    assert growth[0] < 40 * MB, f"peak RSS grew by {growth[0] / MB:.1f} MB"


async def test_a_smaller_progressive_jpeg_gets_its_thumbnail_in_bounded_memory(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    side = 3500  # 12.25 MP, within a quarter of the limit
    photo = encoded(Image.new("RGB", (side, side), "white"), "JPEG", progressive=True)
    assert inspect(photo, MAX_PIXELS).thumbnail is True
    assert inspect(photo, 4 * side * side - 4).thumbnail is False  # the quarter is inclusive
    await warm_up(client, world)
    with peak_growth() as growth:
        r = await upload(client, world, photo, "photo.jpg")
    assert r.status_code == 201, r.text
    assert r.json()["has_thumbnail"] is True
    # 3 bytes per pixel at 4:2:0, far below the bound of 4 bytes per pixel of the limit
    assert growth[0] < 3 * side * side + 20 * MB, f"peak RSS grew by {growth[0] / MB:.1f} MB"
    assert inspect(image("JPEG"), MAX_PIXELS).thumbnail is True  # baseline: not concerned
