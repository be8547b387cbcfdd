"""Browsers on other origins (CORS), gzip for big answers, and a cacheable catalogue
(issue 9, items 1 and 14)."""

from __future__ import annotations

import gzip

import httpx
import pytest

from app.main import create_app
from tests.conftest import World

DASHBOARD = "http://localhost:5173"


@pytest.fixture(scope="module")
async def cors_app(settings):  # type: ignore[no-untyped-def]
    application = create_app(
        settings.model_copy(update={"cors_origins": f"{DASHBOARD}, https://a.example"})
    )
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def browser(cors_app):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=cors_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_a_preflight_from_an_allowed_origin_is_answered(browser, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await browser.options(
        "/api/v1/hazards",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key, if-match",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    assert r.headers["access-control-allow-credentials"] == "true"
    allowed = r.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "idempotency-key", "if-match", "content-type"):
        assert header in allowed
    assert "POST" in r.headers["access-control-allow-methods"]


async def test_a_credentialed_request_exposes_the_headers_clients_need(
    browser, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await browser.get(
        f"/api/v1/enterprises/{world['ent_a1']}",
        headers={**world.h("admin"), "Origin": DASHBOARD},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == DASHBOARD
    assert r.headers["access-control-allow-credentials"] == "true"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "retry-after", "x-request-id", "content-disposition"} <= exposed


async def test_an_error_reaches_the_page_with_its_cors_headers(browser, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await browser.get("/api/v1/me", headers={"Origin": DASHBOARD})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == DASHBOARD


async def test_an_origin_not_listed_gets_no_cors_headers(browser, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await browser.get(
        "/api/v1/me", headers={**world.h("admin"), "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in r.headers
    pre = await browser.options(
        "/api/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 400
    assert "access-control-allow-origin" not in pre.headers


async def test_without_configured_origins_there_is_no_cors(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/me", headers={**world.h("admin"), "Origin": DASHBOARD})
    assert "access-control-allow-origin" not in r.headers


async def test_big_answers_are_gzipped_small_ones_and_downloads_are_not(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/catalogs", headers={**world.h("admin"), "Accept-Encoding": "gzip"}
    )
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["sectors"]  # httpx decoded it
    raw = await client.get(
        "/api/v1/catalogs", headers={**world.h("admin"), "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in raw.headers
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert gzip.compress(raw.content)  # sanity: there was something to compress


async def test_the_catalogue_is_cacheable_with_etag_and_304(client, world: World) -> None:  # type: ignore[no-untyped-def]
    first = await client.get("/api/v1/catalogs", headers=world.h("town_a_officer"))
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, max-age=300"
    again = await client.get(
        "/api/v1/catalogs", headers={**world.h("town_a_officer"), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    stale = await client.get(
        "/api/v1/catalogs", headers={**world.h("town_a_officer"), "If-None-Match": '"old"'}
    )
    assert stale.status_code == 200 and stale.json() == first.json()
