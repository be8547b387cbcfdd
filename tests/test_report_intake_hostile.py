"""Hostile bodies on the one endpoint strangers reach without a login (issue 15): huge, nested,
of the wrong types or media types, with photos that lie about what they are. Each is a clear
RFC 9457 4xx, never a 500, and never half-written: no report row, no attachment row, no file
left in storage. A valid multipart report keeps its photos, which the routed officer downloads
and an enterprise user never sees."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.models import Attachment, PublicReport
from tests.conftest import World, credit
from tests.hazard_helpers import png_bytes
from tests.report_helpers import HAZARD, PUBLIC, act, newest, stranger

VALID = "仓库内堆放大量易燃物品，消防通道被堵塞"
REPORTER = {"name": "王小明", "phone": "13800138000"}


async def written(app: Any) -> tuple[int, int, int]:
    """Reports, attachments, files in storage: what a refused submission must leave as it was."""
    async with app.state.sessionmaker() as s:
        reports = await s.scalar(select(func.count(PublicReport.id)))
        photos = await s.scalar(select(func.count(Attachment.id)))
    root: Path | None = getattr(app.state.storage, "root", None)

    def count_files() -> int:
        return sum(1 for p in root.rglob("*") if p.is_file()) if root and root.exists() else 0

    return reports or 0, photos or 0, await anyio.to_thread.run_sync(count_files)


def refused(
    r: httpx.Response, status: int | tuple[int, ...] | None = None, code: str | None = None
) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if status is not None:
        wanted = (status,) if isinstance(status, int) else status
        assert r.status_code in wanted, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == r.status_code and body["code"]
    if code is not None:
        assert body["code"] == code, body


@asynccontextmanager
async def unchanged(app: Any) -> AsyncIterator[None]:
    before = await written(app)
    yield
    assert await written(app) == before


@contextmanager
def submissions_unlimited(app: Any) -> Iterator[None]:
    s = app.state.settings
    old = s.public_report_submissions_per_hour
    s.public_report_submissions_per_hour = 100_000
    try:
        yield
    finally:
        s.public_report_submissions_per_hour = old


@contextmanager
def small_photos(app: Any, limit: int = 64 * 1024) -> Iterator[int]:
    """A small photo limit, so the body limit (five photos and the report) is small too."""
    s = app.state.settings
    old = s.public_report_photo_max_bytes
    s.public_report_photo_max_bytes = limit
    try:
        yield 5 * limit + 64 * 1024
    finally:
        s.public_report_photo_max_bytes = old


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A few bytes that declare a huge image (a decompression bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def report_part(**body: Any) -> tuple[None, str, str]:
    return (
        None,
        json.dumps({"description": VALID, **body}, ensure_ascii=False),
        "application/json",
    )


# ---- sizes and depth -----------------------------------------------------------------------


async def test_bodies_over_the_limit_are_413_with_or_without_a_length(app, world) -> None:  # type: ignore[no-untyped-def]
    with small_photos(app) as limit, submissions_unlimited(app):
        # JSON is held to the general body limit; multipart to five photos and the report
        json_limit = app.state.settings.max_body_bytes
        huge = json.dumps({"description": VALID, "location_text": "x" * (json_limit + 1)})
        async with stranger(app) as c, unchanged(app):
            r = await c.post(
                PUBLIC, content=huge.encode(), headers={"Content-Type": "application/json"}
            )
            refused(r, 413)

            async def trickle() -> AsyncIterator[bytes]:
                yield b'{"description": "' + VALID.encode() + b'", "location_text": "'
                for _ in range(json_limit // 8192 + 2):
                    yield b"x" * 8192
                yield b'"}'

            r = await c.post(
                PUBLIC, content=trickle(), headers={"Content-Type": "application/json"}
            )
            assert "content-length" not in r.request.headers
            refused(r, 413)
            # a multipart body over the limit, also without a length
            boundary = "hostileboundary"
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\n\r\n'
                f"{json.dumps({'description': VALID})}\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="photos"; filename="a.png"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()

            async def photo_stream() -> AsyncIterator[bytes]:
                yield head
                for _ in range(limit // 8192 + 2):
                    yield b"\x00" * 8192
                yield f"\r\n--{boundary}--\r\n".encode()

            r = await c.post(
                PUBLIC,
                content=photo_stream(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            refused(r, 413)
            # one photo over the photo limit, the body under its own
            big = png_bytes() + b"\x00" * (app.state.settings.public_report_photo_max_bytes + 1)
            r = await c.post(
                PUBLIC, files={"report": report_part(), "photos": ("a.png", big, "image/png")}
            )
            refused(r, 413)
            # the report part itself is held to 64 KB
            r = await c.post(PUBLIC, files={"report": report_part(location_text="x" * (70 * 1024))})
            refused(r, (400, 413, 422))


async def test_a_json_body_is_held_to_the_general_body_limit(app, world) -> None:  # type: ignore[no-untyped-def]
    """A JSON report without photos needs no more than any JSON body (1 MiB): the allowance for
    five photos is the multipart body's only ("body and photo limits as elsewhere")."""
    size = app.state.settings.max_body_bytes + 1024
    body = ('{"description": "' + VALID + '"' + " " * size + "}").encode()
    async with stranger(app) as c, unchanged(app):
        r = await c.post(PUBLIC, content=body, headers={"Content-Type": "application/json"})
        refused(r, 413)


async def test_deeply_nested_json_is_refused(app, world) -> None:  # type: ignore[no-untyped-def]
    deep_arrays = "[" * 100_000 + "]" * 100_000
    deep_objects = '{"a":' * 50_000 + "1" + "}" * 50_000
    bodies = [
        deep_arrays,
        '{"description": "' + VALID + '", "location": ' + deep_arrays + "}",
        '{"description": "' + VALID + '", "reporter": ' + deep_objects + "}",
    ]
    async with stranger(app) as c, unchanged(app):
        for body in bodies:
            r = await c.post(PUBLIC, content=body, headers={"Content-Type": "application/json"})
            refused(r, (400, 413, 422))
        nested = "[" * 20_000 + "]" * 20_000
        r = await c.post(PUBLIC, files={"report": (None, nested, "application/json")})
        refused(r, (400, 422))


# ---- wrong fields --------------------------------------------------------------------------

WRONG: dict[str, list[Any]] = {
    "description": [
        None,
        123,
        1.5,
        True,
        [],
        {},
        [VALID],
        "短短短",
        "x" * 2001,
        " " * 20,
        "\n" * 12,
    ],
    "location_text": [5, [], {}, True, "x" * 301],
    "location": [
        "33.7,116.9",
        [33.7, 116.9],
        1,
        True,
        {},
        {"lat": 33.7},
        {"lat": "north", "lng": 116.9},
        {"lat": 91, "lng": 0},
        {"lat": 0, "lng": -181},
        {"lat": 0, "lng": 0, "alt": 10},
        {"lat": None, "lng": None},
    ],
    "region_code": [341302, "abc", "3413021", "34130210", "", "３４１３０２"],
    "enterprise_name": [1, [], "", " ", "x" * 201],
    "credit_code": [1, "short", "91341302MA000000-X", "9" * 19, []],  # lower case is read
    "anonymous": ["maybe", 2, [], {}, "是"],
    "reporter": [
        "王小明",
        ["王小明", "13800138000"],
        1,
        {},
        {"name": "王小明"},
        {"phone": "13800138000"},
        {"name": 1, "phone": 13800138000},
        {"name": "", "phone": "13800138000"},
        {"name": "王小明", "phone": "not a phone"},
        {"name": "x" * 51, "phone": "13800138000"},
        {**REPORTER, "id_card": "340000199001011234"},
    ],
}


async def test_wrong_types_for_every_field_are_422(app, world) -> None:  # type: ignore[no-untyped-def]
    async with stranger(app) as c, unchanged(app):
        for name, values in WRONG.items():
            for value in values:
                body = {"description": VALID, name: value}
                r = await c.post(PUBLIC, json=body)
                refused(r, 422, code=None)
                assert any(e["field"].startswith(name) for e in r.json()["errors"]), (
                    name,
                    value,
                    r.json(),
                )
        for body in ([], [{"description": VALID}], "text", 1, None, True, {}):
            r = await c.post(
                PUBLIC, content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            refused(r, 422)


async def test_unknown_fields_and_identity_mismatches_are_422(app, world) -> None:  # type: ignore[no-untyped-def]
    async with stranger(app) as c, unchanged(app):
        for extra in (
            {"status": "closed"},
            {"hazard_id": "x"},
            {"tracking_code": "AAAA"},
            {"Description": VALID},
        ):
            r = await c.post(PUBLIC, json={"description": VALID, **extra})
            refused(r, 422)
        r = await c.post(
            PUBLIC, json={"description": VALID, "anonymous": True, "reporter": REPORTER}
        )
        refused(r, 422)
        assert REPORTER["name"] not in r.text and REPORTER["phone"] not in r.text
        r = await c.post(PUBLIC, json={"description": VALID, "anonymous": False})
        refused(r, 422)
        r = await c.post(PUBLIC, json={"description": VALID, "anonymous": False, "reporter": None})
        refused(r, 422)


async def test_description_bounds_are_exact(app, world) -> None:  # type: ignore[no-untyped-def]
    async with stranger(app) as c, unchanged(app):
        refused(await c.post(PUBLIC, json={"description": "一" * 9}), 422)
        refused(await c.post(PUBLIC, json={"description": "一" * 2001}), 422)
        refused(await c.post(PUBLIC, json={"description": "  " + "一" * 9 + "  "}), 422)
    for text in ("一" * 10, "一" * 2000):
        async with stranger(app) as c:
            r = await c.post(PUBLIC, json={"description": text})
            assert r.status_code == 201, r.text
    assert (await written(app))[0] == 2


async def test_nan_and_infinity_in_the_location_are_422(app, world) -> None:  # type: ignore[no-untyped-def]
    async with stranger(app) as c, unchanged(app):
        for lat, lng in (
            ("NaN", "1"),
            ("1", "Infinity"),
            ("-Infinity", "1"),
            ("1e400", "1"),
            ("1", "-1e999"),
        ):
            body = f'{{"description": "{VALID}", "location": {{"lat": {lat}, "lng": {lng}}}}}'
            r = await c.post(PUBLIC, content=body, headers={"Content-Type": "application/json"})
            refused(r, (400, 422))
        for body in (
            "{",
            '{"description": "' + VALID + '"',
            "\xff\xfe",
            '{"description": "\\ud800xxxxxxxxxx"}',
            "",
        ):
            r = await c.post(
                PUBLIC,
                content=body.encode("utf-8", "surrogatepass"),
                headers={"Content-Type": "application/json"},
            )
            refused(r, (400, 422))


async def test_wrong_media_types_are_415(app, world) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"description": VALID})
    async with stranger(app) as c, unchanged(app):
        for media in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "image/png",
            "multipart/mixed; boundary=x",
        ):
            r = await c.post(PUBLIC, content=body, headers={"Content-Type": media})
            refused(r, 415)
        r = await c.post(PUBLIC, data={"report": body})  # a urlencoded form
        refused(r, 415)
        r = await c.post(PUBLIC, content=body.encode())  # no content type at all
        refused(r, (415, 422))
        r = await c.post(PUBLIC, content=body, headers={"Content-Type": "multipart/form-data"})
        refused(r, (400, 415, 422))  # no boundary


# ---- multipart -----------------------------------------------------------------------------


async def test_hostile_forms_are_refused(app, world) -> None:  # type: ignore[no-untyped-def]
    png = ("a.png", png_bytes(), "image/png")
    async with stranger(app) as c, unchanged(app):
        # no report part
        refused(await c.post(PUBLIC, files={"photos": png}), 422)
        # a report that is not JSON, or JSON of the wrong shape
        refused(
            await c.post(PUBLIC, files={"report": (None, "not json", "text/plain")}),
            400,
            "malformed_body",
        )
        refused(await c.post(PUBLIC, files={"report": (None, "[1, 2]", "application/json")}), 422)
        refused(
            await c.post(
                PUBLIC, files={"report": (None, '{"description": 5}', "application/json")}
            ),
            422,
        )
        # the report as a file, twice, or beside unknown fields
        refused(
            await c.post(
                PUBLIC,
                files={
                    "report": ("r.json", json.dumps({"description": VALID}), "application/json")
                },
            ),
            422,
        )
        refused(
            await c.post(PUBLIC, files=[("report", report_part()), ("report", report_part())]), 422
        )
        refused(
            await c.post(PUBLIC, files={"report": report_part(), "reporter": (None, "王小明")}), 422
        )
        refused(await c.post(PUBLIC, files={"report": report_part(), "photo": png}), 422)
        refused(
            await c.post(PUBLIC, files=[("report", report_part()), ("photos", (None, "text"))]), 422
        )
        # more than five photos
        r = await c.post(PUBLIC, files=[("report", report_part()), *[("photos", png)] * 6])
        refused(r, 422, "too_many_photos")
        # photos that lie: a text file named .jpg, a PDF, a bomb, a valid photo then a PDF
        text_jpg = ("photo.jpg", "这不是图片".encode() * 100, "image/jpeg")
        r = await c.post(PUBLIC, files=[("report", report_part()), ("photos", text_jpg)])
        refused(r, 415)
        pdf = ("photo.png", PDF, "image/png")
        r = await c.post(PUBLIC, files=[("report", report_part()), ("photos", pdf)])
        refused(r, 415)
        r = await c.post(
            PUBLIC,
            files=[("report", report_part()), ("photos", png), ("photos", png), ("photos", pdf)],
        )
        refused(r, 415)
        bomb = ("photo.png", png_claiming(30_000, 30_000), "image/png")
        r = await c.post(
            PUBLIC, files=[("report", report_part()), ("photos", png), ("photos", bomb)]
        )
        refused(r, 422, "image_too_large")
        empty = ("photo.png", b"", "image/png")
        r = await c.post(PUBLIC, files=[("report", report_part()), ("photos", empty)])
        refused(r)
    assert not (await written(app))[1]


async def test_a_sixth_photo_is_the_documented_422_too_many_photos(app, world) -> None:  # type: ignore[no-untyped-def]
    png = ("a.png", png_bytes(), "image/png")
    async with stranger(app) as c, unchanged(app):
        r = await c.post(PUBLIC, files=[("report", report_part()), *[("photos", png)] * 6])
        refused(r, 422, "too_many_photos")


async def test_a_report_with_two_photos_keeps_them_for_those_who_handle_it(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    photos = [
        ("photos", ("a.png", png_bytes("red"), "image/png")),
        ("photos", ("b.png", png_bytes("blue", (80, 60)), "image/png")),
    ]
    async with stranger(app) as c:
        r = await c.post(PUBLIC, files=[("report", report_part(credit_code=credit(3))), *photos])
        assert r.status_code == 201, r.text
    assert (await written(app))[:2] == (1, 2)
    report = await newest(client, world, "town_b_officer")
    assert len(report["photos"]) == 2
    for photo in report["photos"]:
        got = await client.get(photo["download_url"], headers=world.h("town_b_officer"))
        assert got.status_code == 200 and got.content.startswith(b"\x89PNG")
        meta = await client.get(
            f"/api/v1/attachments/{photo['id']}", headers=world.h("town_b_officer")
        )
        assert meta.status_code == 200, meta.text
        for actor in ("ent_b1_manager", "ent_a1_staff"):
            for path in ("", "/content", "/thumbnail"):
                r = await client.get(
                    f"/api/v1/attachments/{photo['id']}{path}", headers=world.h(actor)
                )
                assert r.status_code == 404, (actor, path, r.status_code)
        # the signed link is the officer's own: another caller's token does not use it
        r = await client.get(photo["download_url"], headers=world.h("ent_b1_manager"))
        assert r.status_code in (403, 404), r.status_code
        r = await client.get(
            f"/api/v1/attachments/{photo['id']}", headers=world.h("bureau_c_officer")
        )
        assert r.status_code == 404
    async with stranger(app) as c:
        r = await c.get(f"/api/v1/attachments/{report['photos'][0]['id']}/content")
        assert r.status_code in (401, 404)
    # the photos cannot be cited as the hazard's evidence: the enterprise (the one reported)
    # never gets the reporter's files
    officer = "town_b_officer"
    assert (await act(client, world, officer, report["id"], "investigate")).status_code == 200
    ids = [ph["id"] for ph in report["photos"]]
    r = await act(
        client,
        world,
        officer,
        report["id"],
        "substantiate",
        hazard={**HAZARD, "attachment_ids": ids},
    )
    refused(r, 422)
    r = await act(client, world, officer, report["id"], "substantiate", hazard=HAZARD)
    assert r.status_code == 200, r.text
    hazard = r.json()["hazard"]["id"]
    for path in (f"/api/v1/hazards/{hazard}", f"/api/v1/hazards/{hazard}/events"):
        got = await client.get(path, headers=world.h("ent_b1_manager"))
        assert got.status_code == 200 and not any(i in got.text for i in ids), path
    for i in ids:
        got = await client.get(f"/api/v1/attachments/{i}", headers=world.h("ent_b1_manager"))
        assert got.status_code == 404


# ---- anything at all -----------------------------------------------------------------------

_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_field_values = {
    "location_text": st.text(max_size=40) | _json,
    "location": st.fixed_dictionaries({"lat": st.floats(), "lng": st.floats()}) | _json,
    "region_code": st.sampled_from(["341302", "341302001", "341302100201", "110101"])
    | st.text(max_size=14),
    "enterprise_name": st.text(max_size=30) | _json,
    "credit_code": st.just(credit(3)) | st.text(max_size=20),
    "anonymous": st.booleans() | _json,
    "reporter": st.fixed_dictionaries(
        {"name": st.text(max_size=10), "phone": st.sampled_from(["13800138000", "+86 138-0013"])}
    )
    | _json,
}
_descriptions = st.just(VALID) | st.text(min_size=10, max_size=80) | _json
_bodies = _json | st.fixed_dictionaries(
    {"description": _descriptions},
    optional=_field_values,  # type: ignore[arg-type]
)


async def test_any_json_body_is_answered_without_a_500(app, world) -> None:  # type: ignore[no-untyped-def]
    """Random bodies (near-valid reports with fields of any kind, and any JSON at all), collected
    by hypothesis and sent one by one: never a 500, and each accepted one wrote one report."""
    bodies: list[Any] = []

    @settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(_bodies)
    def collect(body: Any) -> None:
        bodies.append(body)

    collect()
    accepted = 0
    with submissions_unlimited(app):
        async with stranger(app) as c:
            for body in bodies:
                content = json.dumps(body, ensure_ascii=False, allow_nan=True).encode(
                    "utf-8", "surrogatepass"
                )
                r = await c.post(
                    PUBLIC, content=content, headers={"Content-Type": "application/json"}
                )
                assert r.status_code < 500, (body, r.text)
                if r.status_code == 201:
                    accepted += 1
                else:
                    refused(r)
    assert (await written(app))[0] == accepted
    assert 0 < accepted < len(bodies)  # the bodies reached both sides of the validation
