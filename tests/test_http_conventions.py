"""The HTTP contract every endpoint keeps (API.md): idempotency, ETags, body limits, validation
problems, pagination and language."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import World, credit
from tests.test_enterprises import ENTERPRISES, enterprise_payload


def idem(world: World, actor: str, key: str) -> dict[str, str]:
    return world.h(actor, **{"Idempotency-Key": key})


async def total(client, world: World, actor: str = "admin", **params: Any) -> int:  # type: ignore[no-untyped-def]
    r = await client.get(
        ENTERPRISES, params={"include_total": "true", **params}, headers=world.h(actor)
    )
    return r.json()["total"]


# ---- Idempotency-Key -------------------------------------------------------------------------


async def test_retry_with_same_key_and_body_replays_the_first_201(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 300)
    first = await client.post(ENTERPRISES, json=body, headers=idem(world, "admin", "k-300"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers

    again = await client.post(ENTERPRISES, json=body, headers=idem(world, "admin", "k-300"))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert await total(client, world, q=credit(300)) == 1


async def test_same_key_with_a_different_body_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    first = await client.post(
        ENTERPRISES, json=enterprise_payload(world, 301), headers=idem(world, "admin", "k-301")
    )
    assert first.status_code == 201
    other = await client.post(
        ENTERPRISES, json=enterprise_payload(world, 302), headers=idem(world, "admin", "k-301")
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await total(client, world, q=credit(302)) == 0


async def test_idempotency_keys_belong_to_the_caller(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 303)
    mine = await client.post(ENTERPRISES, json=body, headers=idem(world, "admin", "shared-key"))
    assert mine.status_code == 201
    # Another caller with the same key is not answered with the admin's response: it acts itself.
    theirs = await client.post(
        ENTERPRISES, json=body, headers=idem(world, "town_a_officer", "shared-key")
    )
    assert theirs.status_code == 409
    assert "idempotent-replayed" not in theirs.headers


async def test_a_rejected_request_does_not_use_up_its_key(client, world) -> None:  # type: ignore[no-untyped-def]
    bad = enterprise_payload(world, 304, sector="mining_of_unicorns")
    r = await client.post(ENTERPRISES, json=bad, headers=idem(world, "admin", "k-304"))
    assert r.status_code == 422
    fixed = enterprise_payload(world, 304)
    r = await client.post(ENTERPRISES, json=fixed, headers=idem(world, "admin", "k-304"))
    assert r.status_code == 201
    assert "idempotent-replayed" not in r.headers


async def test_concurrent_retries_with_one_key_act_once(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 307)
    answers = await asyncio.gather(
        *(
            client.post(ENTERPRISES, json=body, headers=idem(world, "admin", "k-307"))
            for _ in range(4)
        )
    )
    created = [r for r in answers if r.status_code == 201]
    assert created, [r.status_code for r in answers]
    assert len({r.json()["id"] for r in created}) == 1
    for r in answers:
        if r.status_code != 201:
            assert r.status_code == 409 and r.json()["code"] == "idempotency_in_progress"
            assert r.headers["retry-after"]
    assert await total(client, world, q=credit(307)) == 1


async def test_a_deactivated_caller_gets_nothing_replayed(client, world) -> None:  # type: ignore[no-untyped-def]
    h = idem(world, "town_a_officer", "k-308")
    body = enterprise_payload(world, 308)
    assert (await client.post(ENTERPRISES, json=body, headers=h)).status_code == 201
    r = await client.patch(
        f"/api/v1/users/{world['town_a_officer']}",
        json={"is_active": False},
        headers=world.h("admin"),
    )
    assert r.status_code == 200
    for payload in (body, enterprise_payload(world, 309)):
        r = await client.post(ENTERPRISES, json=payload, headers=h)
        assert r.status_code == 401
        assert "idempotent-replayed" not in r.headers
        assert credit(308) not in r.text


async def test_idempotency_key_longer_than_255_characters_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        ENTERPRISES, json=enterprise_payload(world, 305), headers=idem(world, "admin", "k" * 256)
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_idempotency_key"
    assert await total(client, world, q=credit(305)) == 0


async def test_post_without_a_key_acts_every_time(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 306)
    assert (await client.post(ENTERPRISES, json=body, headers=world.h("admin"))).status_code == 201
    assert (await client.post(ENTERPRISES, json=body, headers=world.h("admin"))).status_code == 409


# ---- ETag and If-Match -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "target", "change"),
    [
        ("enterprises", "ent_a1", {"risk_color": "red"}),
        ("org-units", "town_a", {"name": "埇桥街道（新）"}),
        ("users", "town_a_officer", {"display_name": "改名"}),
        ("clients", "machine", {"name": "改名客户端"}),
    ],
)
async def test_stale_if_match_is_412_and_changes_nothing(
    client, world, collection, target, change
) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/{collection}/{world[target]}"
    h = world.h("admin")
    read = await client.get(url, headers=h)
    tag = read.headers["etag"]

    first = await client.patch(url, json=change, headers={**h, "If-Match": tag})
    assert first.status_code == 200
    assert first.headers["etag"] != tag

    # A second writer still holding the old tag must not overwrite the first one's change.
    second = await client.patch(url, json=change, headers={**h, "If-Match": tag})
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    assert (await client.get(url, headers=h)).headers["etag"] == first.headers["etag"]


async def test_current_if_match_and_wildcard_are_accepted(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    h = world.h("admin")
    tag = (await client.get(url, headers=h)).headers["etag"]
    r = await client.patch(url, json={"risk_color": "red"}, headers={**h, "If-Match": tag})
    assert r.status_code == 200
    r = await client.patch(url, json={"risk_color": "blue"}, headers={**h, "If-Match": "*"})
    assert r.status_code == 200
    r = await client.patch(
        url, json={"risk_color": "red"}, headers={**h, "If-Match": f'"nope", {r.headers["etag"]}'}
    )
    assert r.status_code == 200


async def test_etag_changes_when_the_resource_changes(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    h = world.h("admin")
    before = (await client.get(url, headers=h)).headers["etag"]
    assert (await client.get(url, headers=h)).headers["etag"] == before  # stable between reads
    patched = await client.patch(url, json={"address": "新地址"}, headers=h)
    after = (await client.get(url, headers=h)).headers["etag"]
    assert after == patched.headers["etag"] != before


async def test_stale_if_match_is_checked_before_field_permissions(client, world) -> None:  # type: ignore[no-untyped-def]
    """A stale writer learns that first, whatever it tried to change."""
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    await client.patch(url, json={"address": "x"}, headers=world.h("admin"))
    r = await client.patch(
        url,
        json={"principal": {"name": "王五"}},
        headers=world.h("ent_a1_manager", **{"If-Match": '"v1"'}),
    )
    assert r.status_code == 412


# ---- body limits -----------------------------------------------------------------------------


def _oversized(world: World, limit: int) -> bytes:
    body = enterprise_payload(world, 310, address="x" * 100)
    body["name"] = "大" * (limit // 3 + 10)  # 3 bytes each in UTF-8: over the limit
    return json.dumps(body, ensure_ascii=False).encode()


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotent"])
async def test_body_over_the_limit_is_413_with_content_length(client, world, with_key) -> None:  # type: ignore[no-untyped-def]
    data = _oversized(world, world.settings.max_body_bytes)
    h = idem(world, "admin", "big-1") if with_key else world.h("admin")
    r = await client.post(
        ENTERPRISES, content=data, headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotent"])
async def test_body_over_the_limit_is_413_when_chunked(client, world, with_key) -> None:  # type: ignore[no-untyped-def]
    data = _oversized(world, world.settings.max_body_bytes)
    h = idem(world, "admin", "big-2") if with_key else world.h("admin")
    r = await client.post(
        ENTERPRISES, content=_chunks(data), headers={**h, "Content-Type": "application/json"}
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("PATCH", "/api/v1/enterprises/{ent_a1}", "application/json"),
        ("POST", "/api/v1/users", "application/json"),
        ("POST", "/api/v1/auth/token", "application/x-www-form-urlencoded"),
    ],
)
async def test_chunked_bodies_over_the_limit_are_413_on_every_write(  # type: ignore[no-untyped-def]
    client, world, method, path, content_type
) -> None:
    data = b"x" * (world.settings.max_body_bytes + 1)
    r = await client.request(
        method,
        path.format(**world.ids),
        content=_chunks(data),
        headers=world.h("admin", **{"Content-Type": content_type}),
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


async def test_body_over_the_limit_is_413_even_without_a_token(client, world) -> None:  # type: ignore[no-untyped-def]
    data = _oversized(world, world.settings.max_body_bytes)
    r = await client.post(
        ENTERPRISES, content=_chunks(data), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    r = await client.post(ENTERPRISES, content=data, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_chunked_body_under_the_limit_is_accepted(client, world) -> None:  # type: ignore[no-untyped-def]
    data = json.dumps(enterprise_payload(world, 311)).encode()
    r = await client.post(
        ENTERPRISES,
        content=_chunks(data, size=100),
        headers=world.h("admin", **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 201


# ---- validation problems ---------------------------------------------------------------------


async def test_unknown_fields_are_422_with_their_paths(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 320, nickname="x")
    body["principal"] = {"name": "张三", "email": "a@b.c"}
    r = await client.post(ENTERPRISES, json=body, headers=world.h("admin"))
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "validation_error"
    assert problem["status"] == 422
    assert {e["field"] for e in problem["errors"]} == {"nickname", "principal.email"}
    assert all(e["message"] for e in problem["errors"])
    assert await total(client, world, q=credit(320)) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/enterprises/{ent_a1}", {"colour": "red"}),
        ("/api/v1/users/{town_a_officer}", {"username": "renamed"}),
        ("/api/v1/org-units/{town_a}", {"region_code": "341302009"}),
        ("/api/v1/clients/{machine}", {"client_secret": "x" * 20}),
    ],
)
async def test_unknown_or_read_only_fields_on_patch_are_422(client, world, path, body) -> None:  # type: ignore[no-untyped-def]
    url = path.format(**world.ids)
    before = (await client.get(url, headers=world.h("admin"))).json()
    r = await client.patch(url, json=body, headers=world.h("admin"))
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == set(body)
    assert (await client.get(url, headers=world.h("admin"))).json() == before


async def test_problem_details_have_every_rfc9457_member(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{ENTERPRISES}/does-not-exist", headers=world.h("admin"))
    assert r.status_code == 404
    problem = r.json()
    assert {"type", "title", "status", "detail", "instance", "code"} <= set(problem)
    assert problem["status"] == 404
    assert problem["instance"] == f"{ENTERPRISES}/does-not-exist"


@pytest.mark.parametrize(
    "content",
    [b"{", b"[]", b"null", b'"text"', b"\xff\xfe", b'{"name": 1e999999}'],
    ids=["truncated", "array", "null", "string", "not-utf8", "huge-number"],
)
async def test_malformed_json_is_a_client_error_not_500(client, world, content) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        ENTERPRISES,
        content=content,
        headers=world.h("admin", **{"Content-Type": "application/json"}),
    )
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "content_type", "content"),
    [
        ("/api/v1/enterprises", "text/plain", b'{"name": "x"}'),
        ("/api/v1/enterprises", "application/x-www-form-urlencoded", b"name=x"),
        ("/api/v1/hazards", "application/xml", b"<hazard/>"),
        ("/api/v1/attachments", "application/json", b"{}"),
        ("/api/v1/auth/token", "text/plain", b"grant_type=password"),
    ],
)
async def test_a_body_of_an_unsupported_media_type_is_415(
    client, world, path, content_type, content
) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        path, content=content, headers=world.h("admin", **{"Content-Type": content_type})
    )
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"


async def test_json_with_a_structured_suffix_is_accepted(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"/api/v1/enterprises/{world['ent_a1']}",
        content=b'{"address": "\u57c7\u6865\u533a\u4e2d\u5c71\u8def 1 \u53f7"}',
        headers=world.h("admin", **{"Content-Type": "application/merge-patch+json"}),
    )
    assert r.status_code == 200
    assert r.json()["address"] == "埇桥区中山路 1 号"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/api/v1/enterprises?q=a%00b", None),
        ("GET", "/api/v1/users?q=%00", None),
        ("GET", "/api/v1/enterprises/%00", None),
        ("POST", "/api/v1/enterprises", {"name": "空\u0000字符公司"}),
        ("PATCH", "/api/v1/enterprises/{ent_a1}", {"address": "a\u0000b"}),
        ("POST", "/api/v1/org-units", {"kind": "bureau", "name": "\u0000"}),
    ],
)
async def test_nul_characters_never_cause_a_server_error(
    client, world, method, path, payload
) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store U+0000 (SQLite can): either way the answer is not a 5xx."""
    url = path.format(**world.ids)
    content = None
    if payload is not None:
        body = enterprise_payload(world, 340) if path == ENTERPRISES else {}
        content = json.dumps({**body, **payload})  # U+0000 travels as the escape \\u0000
    r = await client.request(
        method,
        url,
        content=content,
        headers=world.h("admin", **{"Content-Type": "application/json"}),
    )
    assert r.status_code < 500, r.text
    if r.status_code == 422 and "errors" not in r.json():
        assert r.json()["code"] == "invalid_character"


# ---- pagination ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/enterprises", "/api/v1/users", "/api/v1/org-units", "/api/v1/clients"]
)
@pytest.mark.parametrize("limit", ["0", "501", "-1", "many"])
async def test_limit_outside_1_to_500_is_422(client, world, path, limit) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(path, params={"limit": limit}, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["limit"]


async def test_limit_500_is_allowed_and_default_page_is_50(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(ENTERPRISES, params={"limit": 500}, headers=world.h("admin"))
    assert r.status_code == 200
    for n in range(55):
        assert (
            await client.post(
                ENTERPRISES, json=enterprise_payload(world, 400 + n), headers=world.h("admin")
            )
        ).status_code == 201
    page = (await client.get(ENTERPRISES, headers=world.h("admin"))).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"]


async def _walk(client, world: World, path: str, **params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        q = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=q, headers=world.h("admin"))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= int(params["limit"])
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ended")


async def _add_enterprises(client, world: World, count: int, start: int = 500) -> None:  # type: ignore[no-untyped-def]
    for n in range(start, start + count):
        # Some names repeat, so the keyset must break ties by id.
        body = enterprise_payload(world, n, name=f"分页企业{n % 3}")
        assert (
            await client.post(ENTERPRISES, json=body, headers=world.h("admin"))
        ).status_code == 201


@pytest.mark.parametrize("sort", ["name", "-name", "-updated_at", "created_at", "credit_code"])
async def test_cursor_paging_walks_every_enterprise_once(client, world, sort) -> None:  # type: ignore[no-untyped-def]
    await _add_enterprises(client, world, 9)
    everything = (
        await client.get(ENTERPRISES, params={"limit": 500, "sort": sort}, headers=world.h("admin"))
    ).json()["items"]
    walked = await _walk(client, world, ENTERPRISES, limit="2", sort=sort)
    assert len(walked) == len(set(walked)) == 13
    assert walked == [e["id"] for e in everything]  # the same order as one big page


@pytest.mark.parametrize(
    ("path", "sort"),
    [
        ("/api/v1/users", "username"),
        ("/api/v1/users", "-created_at"),
        ("/api/v1/org-units", "name"),
    ],
)
async def test_cursor_paging_walks_users_and_org_units(client, world, path, sort) -> None:  # type: ignore[no-untyped-def]
    everything = (
        await client.get(path, params={"limit": 500, "sort": sort}, headers=world.h("admin"))
    ).json()["items"]
    walked = await _walk(client, world, path, limit="3", sort=sort)
    assert walked == [item["id"] for item in everything]
    assert len(walked) == len(set(walked))


async def test_cursor_is_stable_under_concurrent_inserts(client, world) -> None:  # type: ignore[no-untyped-def]
    await _add_enterprises(client, world, 6)
    before = {
        e["id"] for e in (await client.get(ENTERPRISES, headers=world.h("admin"))).json()["items"]
    }
    h = world.h("admin")
    first = (
        await client.get(ENTERPRISES, params={"limit": 3, "sort": "-updated_at"}, headers=h)
    ).json()
    # A new enterprise is the most recently updated: it sorts before the cursor.
    newcomer = await client.post(ENTERPRISES, json=enterprise_payload(world, 599), headers=h)
    assert newcomer.status_code == 201
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get(
                ENTERPRISES, params={"limit": 3, "sort": "-updated_at", "cursor": cursor}, headers=h
            )
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == before


@pytest.mark.parametrize("cursor", ["garbage!", "eyJ4IjoxfQ", "WyJuYW1lIiwxLDJd"])
async def test_invalid_cursor_is_422(client, world, cursor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(ENTERPRISES, params={"cursor": cursor}, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["cursor"]


async def test_cursor_of_another_sort_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    page = (await client.get(ENTERPRISES, params={"limit": 1}, headers=world.h("admin"))).json()
    r = await client.get(
        ENTERPRISES,
        params={"limit": 1, "cursor": page["next_cursor"], "sort": "-updated_at"},
        headers=world.h("admin"),
    )
    assert r.status_code == 422


async def test_include_total_adds_the_count_only_when_asked(client, world) -> None:  # type: ignore[no-untyped-def]
    plain = (await client.get(ENTERPRISES, params={"limit": 1}, headers=world.h("admin"))).json()
    assert "total" not in plain
    counted = (
        await client.get(
            ENTERPRISES, params={"limit": 1, "include_total": "true"}, headers=world.h("admin")
        )
    ).json()
    assert counted["total"] == 4
    assert len(counted["items"]) == 1
    filtered = await total(client, world, region_code="341302001")
    assert filtered == 2


# ---- language --------------------------------------------------------------------------------


async def test_problems_are_chinese_by_default_and_english_on_request(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_b1']}"
    zh = (await client.get(url, headers=world.h("town_a_officer"))).json()
    en = (
        await client.get(
            url, headers=world.h("town_a_officer", **{"Accept-Language": "en-GB,en;q=0.9"})
        )
    ).json()
    assert zh["title"] == "资源不存在" and zh["detail"] == "企业不存在"
    assert en["title"] == "Not found" and en["detail"] == "Enterprise not found"
    assert zh["code"] == en["code"] == "not_found"


async def test_validation_messages_follow_the_language(client, world) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 330, credit_code=credit(330)[:17] + "#", extra_field=1)
    zh = await client.post(ENTERPRISES, json=body, headers=world.h("admin"))
    en = await client.post(
        ENTERPRISES, json=body, headers=world.h("admin", **{"Accept-Language": "en"})
    )
    assert zh.json()["title"] == "请求参数校验失败"
    assert en.json()["title"] == "Validation failed"
    zh_msgs = {e["field"]: e["message"] for e in zh.json()["errors"]}
    en_msgs = {e["field"]: e["message"] for e in en.json()["errors"]}
    assert set(zh_msgs) == set(en_msgs) == {"credit_code", "extra_field"}
    assert "统一社会信用代码" in zh_msgs["credit_code"]
    assert "credit code" in en_msgs["credit_code"]
    assert zh_msgs["extra_field"] == "不允许的字段"


@pytest.mark.parametrize(
    ("header", "title"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "资源不存在"),
        ("en-US,en;q=0.9", "Not found"),
        ("en;q=0.3, zh-CN;q=0.9", "资源不存在"),  # quality decides, not order
        ("fr-FR, en;q=0.5", "Not found"),  # the best language we speak
        ("de, fr", "资源不存在"),  # none we speak: the default
        ("*", "资源不存在"),
        ("en;q=0", "资源不存在"),  # q=0 means "not English"
        ("en;q=garbage", "资源不存在"),
    ],
)
async def test_language_is_negotiated_by_quality(client, world, header, title) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"{ENTERPRISES}/missing", headers=world.h("admin", **{"Accept-Language": header})
    )
    assert r.json()["title"] == title


async def test_idempotency_errors_follow_the_language_too(client, world) -> None:  # type: ignore[no-untyped-def]
    first = await client.post(
        ENTERPRISES,
        json=enterprise_payload(world, 331),
        headers=idem(world, "admin", "lang-key"),
    )
    assert first.status_code == 201
    r = await client.post(
        ENTERPRISES,
        json=enterprise_payload(world, 332),
        headers={**idem(world, "admin", "lang-key"), "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert r.json()["title"] == "Validation failed"
    assert "Idempotency-Key" in r.json()["detail"]
