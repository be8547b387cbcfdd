"""Regressions for what the schemathesis run found, pinned down as plain examples."""

from __future__ import annotations

import httpx

from tests.conftest import World


async def test_text_the_database_cannot_store_is_bad_input_not_a_server_error(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/api/v1/enterprises", params={"q": "a\x00b"}, headers=world.h("admin"))
    if world.settings.database_url and world.settings.database_url.startswith("postgresql"):
        assert r.status_code == 422
        assert r.json()["code"] == "invalid_character"
    else:  # SQLite stores U+0000 like any other character
        assert r.status_code == 200


async def test_a_login_with_a_nul_in_the_username_is_not_a_server_error(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "adm\x00in", "password": "x"},
    )
    assert r.status_code in (401, 422)


async def test_method_not_allowed_names_every_method_of_the_resource(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.request("OPTIONS", "/api/v1/enterprises", headers=world.h("admin"))
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    r = await client.delete(f"/api/v1/enterprises/{world['ent_a1']}", headers=world.h("admin"))
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, PATCH"


async def test_an_admin_cannot_change_their_own_role(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.patch(
        f"/api/v1/users/{world['admin']}", json={"role": "viewer"}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "role"
    me = await client.get("/api/v1/me", headers=world.h("admin"))
    assert me.json()["role"] == "admin"


def test_every_error_response_is_documented_as_a_problem(app) -> None:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            if op.get("security"):
                assert {"401", "403"} <= set(op["responses"]), (method, path)
            if "{" in path:
                assert "404" in op["responses"], (method, path)
