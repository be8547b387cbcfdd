"""Token endpoint, /me, throttling and deactivation."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import PASSWORD, World


async def token(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


async def test_password_grant_issues_bearer_token(client, world: World) -> None:
    r = await token(client, "town_a_officer")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "town_a_officer"
    assert me.json()["org_unit"]["kind"] == "town"
    assert me.json()["org_unit"]["region_code"] == "341302001"
    assert me.json()["enterprise"] is None
    assert "enterprises:create" in me.json()["permissions"]


async def test_wrong_password_and_unknown_user_get_the_same_401(client, world: World) -> None:
    a = await token(client, "town_a_officer", "wrong-password")
    b = await token(client, "nobody-here", "wrong-password")
    assert a.status_code == b.status_code == 401
    assert a.headers["content-type"].startswith("application/problem+json")
    strip = lambda j: {k: v for k, v in j.items() if k != "instance"}  # noqa: E731
    assert strip(a.json()) == strip(b.json())


@pytest.mark.parametrize(
    "from_boundary", [-20, -3, 60], ids=["before-a-boundary", "across-it", "after-it"]
)
async def test_five_failures_throttle_the_username_even_if_unknown(
    client, world: World, monkeypatch: pytest.MonkeyPatch, from_boundary: int
) -> None:
    """The throttle's clock starts ``from_boundary`` seconds from a window boundary and moves on
    a second per sign-in, so the failures fall on one side of it, or on both."""
    seconds = world.settings.login_window_seconds
    boundary = datetime.fromtimestamp(datetime.now(UTC).timestamp() // seconds * seconds, UTC)
    ticks = itertools.count(from_boundary)
    monkeypatch.setattr(
        "app.services.auth.utcnow", lambda: boundary + timedelta(seconds=next(ticks))
    )
    for name in ("town_a_officer", "ghost-user"):
        for _ in range(5):
            assert (await token(client, name, "bad-password")).status_code == 401
        r = await token(client, name, PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0
        assert r.json()["code"] == "login_throttled"


async def test_client_credentials_grant(client, world: World) -> None:
    r = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "cli_town_a_reader",
            "client_secret": PASSWORD,
        },
    )
    assert r.status_code == 200
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["kind"] == "client"
    assert me.json()["role"] is None
    assert "enterprises:read" in me.json()["permissions"]
    assert "users:write" not in me.json()["permissions"]


async def test_missing_and_garbage_tokens_are_401(client, world: World) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    r = await client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


async def test_deactivated_users_token_stops_working(client, world: World) -> None:
    assert (await client.get("/api/v1/me", headers=world.h("town_a_officer"))).status_code == 200
    r = await client.patch(
        f"/api/v1/users/{world['town_a_officer']}",
        json={"is_active": False},
        headers=world.h("admin"),
    )
    assert r.status_code == 200
    assert (await client.get("/api/v1/me", headers=world.h("town_a_officer"))).status_code == 401
    assert (await token(client, "town_a_officer")).status_code == 401


async def test_unsupported_grant_type_is_422(client, world: World) -> None:
    r = await client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "grant_type"


async def test_problems_are_english_on_request(client, world: World) -> None:
    r = await client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert r.json()["title"] == "Not authenticated"
    r = await client.get("/api/v1/me")
    assert r.json()["title"] == "未认证或认证失败"


async def test_the_token_endpoint_accepts_a_json_body_too(client, world: World) -> None:
    r = await client.post(
        "/api/v1/auth/token",
        json={"grant_type": "password", "username": "town_a_officer", "password": PASSWORD},
    )
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"
    assert r.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["username"] == "town_a_officer"


async def test_token_errors_carry_the_rfc_6749_fields_beside_the_problem(
    client, world: World
) -> None:
    wrong = await token(client, "town_a_officer", "wrong-password")
    assert wrong.status_code == 401
    body = wrong.json()
    assert body["code"] == "invalid_credentials" and body["error"] == "invalid_grant"
    assert body["error_description"]
    bad_client = await client.post(
        "/api/v1/auth/token",
        json={"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    grant = await client.post("/api/v1/auth/token", data={"grant_type": "authorization_code"})
    assert grant.status_code == 422
    assert grant.json()["error"] == "unsupported_grant_type"
    missing = await client.post("/api/v1/auth/token", json={"grant_type": "password"})
    assert missing.status_code == 422 and missing.json()["error"] == "invalid_request"
    broken = await client.post(
        "/api/v1/auth/token", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
    # RFC 6749 §3.2: unknown parameters are ignored, empty ones are as if omitted, and a
    # parameter sent twice is invalid_request.
    extra = await client.post(
        "/api/v1/auth/token",
        json={"grant_type": "password", "username": "a", "password": "b", "x": 1},
    )
    assert extra.status_code == 401 and extra.json()["error"] == "invalid_grant"
    empty = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "nope", "client_secret": ""},
    )
    assert empty.status_code == 422 and empty.json()["error"] == "invalid_request"
    assert empty.json()["code"] != "login_throttled"  # refused as missing, before any check
    twice = await client.post(
        "/api/v1/auth/token",
        content=b"grant_type=password&username=a&username=b&password=c",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 422 and twice.json()["error"] == "invalid_request"
    assert twice.json()["errors"][0]["field"] == "username"
    twice_json = await client.post(
        "/api/v1/auth/token",
        content=b'{"grant_type": "password", "username": "a", "username": "b", "password": "c"}',
        headers={"Content-Type": "application/json"},
    )
    assert twice_json.status_code == 422 and twice_json.json()["code"] == "repeated_parameter"
    not_an_object = await client.post("/api/v1/auth/token", json=[["grant_type", "password"]])
    assert not_an_object.status_code == 422


async def test_a_token_request_without_a_body_is_422_and_of_another_type_415(
    client, world: World
) -> None:
    empty = await client.post("/api/v1/auth/token")
    assert empty.status_code == 422 and empty.json()["error"] == "invalid_request"
    xml = await client.post(
        "/api/v1/auth/token", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert xml.status_code == 415 and xml.json()["code"] == "unsupported_media_type"
