"""Signed download links for `<img src>` (issue 9, item 11).

Every attachment representation carries ``download_url`` and ``thumbnail_url``: they work
without a bearer header, for that attachment and that file only, until they expire or their
caller is deactivated. Downloads support ``Range``."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.services import attachment_links
from tests.conftest import World
from tests.hazard_helpers import png_bytes, register


async def uploaded(client, world: World, actor: str = "town_a_officer", **kw: Any) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/attachments",
        files={"file": ("photo.png", kw.get("data") or png_bytes(), "image/png")},
        headers=world.h(actor),
    )
    assert r.status_code == 201, r.text
    return r.json()


def with_params(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def assert_refused(r, code: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


async def test_upload_answer_links_fetch_the_file_without_a_bearer(client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = png_bytes("green")
    a = await uploaded(client, world, data=data)
    assert a["download_url"].startswith(f"/api/v1/attachments/{a['id']}/content?")
    r = await client.get(a["download_url"])
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "sandbox"
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["accept-ranges"] == "bytes"
    cache = r.headers["cache-control"]
    assert cache.startswith("private, max-age=")
    assert 0 < int(cache.split("=")[1]) <= 660
    thumb = await client.get(a["thumbnail_url"])
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"


async def test_get_and_hazard_detail_carry_links(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    got = await client.get(f"/api/v1/attachments/{a['id']}", headers=world.h("town_a_officer"))
    assert (await client.get(got.json()["download_url"])).status_code == 200
    hazard = await register(client, world, attachment_ids=[a["id"]])
    detail = await client.get(f"/api/v1/hazards/{hazard['id']}", headers=world.h("county_officer"))
    (item,) = detail.json()["attachments"]
    assert "caller=user%3A" + world["county_officer"] in item["download_url"]
    assert (await client.get(item["download_url"])).status_code == 200
    assert (await client.get(item["thumbnail_url"])).status_code == 200


async def test_a_pdf_has_no_thumbnail_url(client, world: World) -> None:  # type: ignore[no-untyped-def]
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    r = await client.post(
        "/api/v1/attachments",
        files={"file": ("r.pdf", pdf, "application/pdf")},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["thumbnail_url"] is None
    d = await client.get(r.json()["download_url"])
    assert d.status_code == 200
    assert d.headers["content-disposition"].startswith("attachment;")


async def test_a_link_works_only_for_its_attachment_and_file(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    b = await uploaded(client, world)
    other = a["download_url"].replace(a["id"], b["id"])
    assert_refused(await client.get(other), "invalid_link")
    as_thumb = a["download_url"].replace("/content?", "/thumbnail?")
    assert_refused(await client.get(as_thumb), "invalid_link")
    # an unknown id is refused the same way: a link never tells whether a file exists
    unknown = a["download_url"].replace(a["id"], "0" * len(a["id"]))
    assert_refused(await client.get(unknown), "invalid_link")


async def test_tampered_links_are_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    url = a["download_url"]
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert_refused(await client.get(with_params(url, sig=flipped)), "invalid_link")
    expires = parse_qs(urlsplit(url).query)["expires"][0]
    later = str(int(expires) + 3600)
    assert_refused(await client.get(with_params(url, expires=later)), "invalid_link")
    caller = "user%3A" + world["county_officer"]
    assert_refused(await client.get(with_params(url, caller=caller)), "invalid_link")
    assert_refused(await client.get(with_params(url, expires="soon")), "invalid_link")
    parts = urlsplit(url)
    assert_refused(await client.get(parts.path + "?sig=" + sig), "invalid_link")


async def test_expired_links_are_refused(client, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    expires = int(parse_qs(urlsplit(a["download_url"]).query)["expires"][0])
    monkeypatch.setattr(attachment_links, "now", lambda: expires - 1.0)
    r = await client.get(a["download_url"])
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, max-age=1"
    monkeypatch.setattr(attachment_links, "now", lambda: float(expires))
    assert_refused(await client.get(a["download_url"]), "link_expired")
    assert_refused(await client.get(a["thumbnail_url"]), "link_expired")


async def test_the_lifetime_comes_from_the_settings(client, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(world.settings, "attachment_url_lifetime_seconds", 1)
    monkeypatch.setattr(attachment_links, "now", lambda: 1_000_000.0)
    a = await uploaded(client, world)
    assert "expires=1000001&" in a["download_url"]
    monkeypatch.setattr(attachment_links, "now", lambda: 1_000_001.0)
    assert_refused(await client.get(a["download_url"]), "link_expired")


async def test_another_users_link_works_while_its_signer_is_active(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    hazard = await register(client, world, attachment_ids=[a["id"]])
    detail = await client.get(f"/api/v1/hazards/{hazard['id']}", headers=world.h("town_a_viewer"))
    (item,) = detail.json()["attachments"]
    # fetched by anyone holding it (no bearer), for this file only
    assert (await client.get(item["download_url"])).status_code == 200
    b = await uploaded(client, world)
    assert_refused(await client.get(item["download_url"].replace(a["id"], b["id"])), "invalid_link")
    r = await client.patch(
        f"/api/v1/users/{world['town_a_viewer']}",
        json={"is_active": False},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    assert_refused(await client.get(item["download_url"]), "invalid_link")
    assert_refused(await client.get(item["thumbnail_url"]), "invalid_link")
    # the uploader's own link is unaffected
    assert (await client.get(a["download_url"])).status_code == 200


async def test_a_machine_clients_links_work(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await uploaded(client, world)
    hazard = await register(client, world, attachment_ids=[a["id"]])
    detail = await client.get(f"/api/v1/hazards/{hazard['id']}", headers=world.h("machine"))
    (item,) = detail.json()["attachments"]
    assert "caller=client%3A" in item["download_url"]
    assert (await client.get(item["download_url"])).status_code == 200


async def test_ranges(client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = png_bytes("blue", (200, 150))
    a = await uploaded(client, world, data=data)
    r = await client.get(a["download_url"], headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == data[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(data)}"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"] == f'"{a["sha256"]}"'
    tail = await client.get(a["download_url"], headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    # with the bearer too, and If-Range with the current ETag
    r = await client.get(
        f"/api/v1/attachments/{a['id']}/content",
        headers=world.h("town_a_officer", Range="bytes=10-19", **{"If-Range": f'"{a["sha256"]}"'}),
    )
    assert r.status_code == 206 and r.content == data[10:20]
    stale = await client.get(
        a["download_url"], headers={"Range": "bytes=10-19", "If-Range": '"other"'}
    )
    assert stale.status_code == 200 and stale.content == data
    r = await client.get(a["download_url"], headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(data)}"


async def test_the_bearer_path_is_unchanged(client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = png_bytes("purple")
    a = await uploaded(client, world, data=data)
    path = f"/api/v1/attachments/{a['id']}/content"
    r = await client.get(path, headers=world.h("town_a_officer"))
    assert r.status_code == 200 and r.content == data
    assert r.headers["cache-control"] == "private"
    assert r.headers["etag"] == f'"{a["sha256"]}"'
    thumb = await client.get(
        f"/api/v1/attachments/{a['id']}/thumbnail", headers=world.h("town_a_officer")
    )
    assert thumb.status_code == 200
    # no bearer and no link: 401 as before; someone else's unbound upload: 404 as before
    r = await client.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert (await client.get(path, headers=world.h("town_b_officer"))).status_code == 404
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get(path, headers=bad)).status_code == 401
    # a bearer without the permission scope still decides, even with a link attached
    r = await client.get(a["download_url"], headers=world.h("town_b_officer"))
    assert r.status_code == 404
