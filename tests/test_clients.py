"""Machine clients (provincial data exchange, import scripts): managed by admins, secret once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.test_users import cheap_password_hashing  # noqa: F401  (autouse fixture)

CLIENTS = "/api/v1/clients"
READ_ONLY = ["enterprises:read", "org_units:read", "me:read"]


async def create_client(  # type: ignore[no-untyped-def]
    client, world: World, actor: str = "admin", key: str | None = None, **overrides: Any
):
    body = {
        "name": "省级隐患数据交换",
        "org_unit_id": world["town_b"],
        "permissions": READ_ONLY,
        **overrides,
    }
    headers = world.h(actor, **({"Idempotency-Key": key} if key else {}))
    return await client.post(CLIENTS, json=body, headers=headers)


async def client_token(client, client_id: str, secret: str):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_admin_creates_a_client_and_sees_its_secret_once(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_client(client, world)
    assert r.status_code == 201
    body = r.json()
    assert len(body["client_secret"]) >= 32
    assert body["client_id"].startswith("cli_")
    assert body["permissions"] == sorted(READ_ONLY)
    assert r.headers["location"] == f"{CLIENTS}/{body['id']}"

    detail = await client.get(r.headers["location"], headers=world.h("admin"))
    assert detail.status_code == 200
    assert "client_secret" not in detail.json()
    assert body["client_secret"] not in detail.text
    listed = await client.get(CLIENTS, headers=world.h("admin"))
    assert body["client_secret"] not in listed.text
    assert body["id"] in {c["id"] for c in listed.json()["items"]}


async def test_a_new_client_signs_in_with_client_credentials(client, world) -> None:  # type: ignore[no-untyped-def]
    created = (await create_client(client, world)).json()
    r = await client_token(client, created["client_id"], created["client_secret"])
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=h)).json()
    assert me["kind"] == "client" and me["id"] == created["id"]
    assert me["org_unit"]["id"] == world["town_b"]
    assert sorted(me["permissions"]) == sorted(READ_ONLY)
    # It reads with the scope of its org unit (town B) ...
    ents = await client.get("/api/v1/enterprises", headers=h)
    assert {e["id"] for e in ents.json()["items"]} == {world["ent_b1"], world["ent_b2"]}
    # ... and only with the permissions it was granted.
    assert (await client.get("/api/v1/catalogs", headers=h)).status_code == 403


async def test_wrong_client_secret_is_401(client, world) -> None:  # type: ignore[no-untyped-def]
    created = (await create_client(client, world)).json()
    r = await client_token(client, created["client_id"], "not-the-secret")
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_client"


async def test_replaying_a_client_creation_is_409_not_a_second_secret(client, world) -> None:  # type: ignore[no-untyped-def]
    first = await create_client(client, world, key="create-client-1")
    assert first.status_code == 201
    again = await create_client(client, world, key="create-client-1")
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_not_replayable"
    assert first.json()["client_secret"] not in again.text
    listed = await client.get(CLIENTS, params={"include_total": "true"}, headers=world.h("admin"))
    assert listed.json()["total"] == 2  # the world's machine client and this one, not a third


@pytest.mark.parametrize(
    "actor", ["town_a_manager", "county_officer", "bureau_e_manager", "ent_a1_manager", "machine"]
)
async def test_only_admins_manage_clients(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await create_client(client, world, actor)
    assert r.status_code == 403
    assert (await client.get(CLIENTS, headers=world.h(actor))).status_code == 403
    r = await client.patch(
        f"{CLIENTS}/{world['machine']}", json={"is_active": False}, headers=world.h(actor)
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    "permission", ["users:write", "clients:manage", "org_units:write", "everything"]
)
async def test_clients_cannot_be_granted_management_or_unknown_permissions(
    client, world, permission
) -> None:  # type: ignore[no-untyped-def]
    r = await create_client(client, world, permissions=["enterprises:read", permission])
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["permissions"]


async def test_client_needs_at_least_one_permission_and_a_known_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_client(client, world, permissions=[])
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["permissions"]
    r = await create_client(client, world, org_unit_id="0000000000000000000000000000dead")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["org_unit_id"]


async def test_deactivated_client_token_stops_working(client, world) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/me", headers=world.h("machine"))).status_code == 200
    r = await client.patch(
        f"{CLIENTS}/{world['machine']}", json={"is_active": False}, headers=world.h("admin")
    )
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert (await client.get("/api/v1/me", headers=world.h("machine"))).status_code == 401


async def test_changed_permissions_apply_to_existing_tokens(client, world) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/users", headers=world.h("machine"))).status_code == 403
    r = await client.patch(
        f"{CLIENTS}/{world['machine']}",
        json={"permissions": ["users:read", "me:read"]},
        headers=world.h("admin"),
    )
    assert r.status_code == 200
    users = await client.get("/api/v1/users", headers=world.h("machine"))
    assert users.status_code == 200
    # A client with users:read sees the people of its unit (town A) and of its enterprises.
    names = {u["username"] for u in users.json()["items"]}
    assert names == {
        "town_a_manager",
        "town_a_officer",
        "town_a_inspector",
        "town_a_viewer",
        "ent_a1_manager",
        "ent_a1_staff",
    }
    assert (await client.get("/api/v1/enterprises", headers=world.h("machine"))).status_code == 403


@pytest.mark.parametrize("field", ["name", "permissions", "is_active"])
async def test_client_fields_cannot_be_cleared(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{CLIENTS}/{world['machine']}", json={field: None}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
