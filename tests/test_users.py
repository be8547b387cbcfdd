"""People: who may create, see and change whom."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from tests.conftest import World

USERS = "/api/v1/users"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2 hashes, at the lowest cost: creating people is what these tests exercise,
    not the hasher's work factor (the stored parameters still drive verification)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr("app.services.users.hash_password", cheap.hash)


def user_payload(username: str, role: str, **home: str) -> dict[str, Any]:
    return {
        "username": username,
        "password": "Str0ng-Passw0rd",
        "display_name": f"{username} 的名字",
        "phone": "0557-3021234",
        "role": role,
        **home,
    }


async def create_user(client, world: World, actor: str, username: str, role: str, **home: str):  # type: ignore[no-untyped-def]
    body = user_payload(username, role, **{k: world[v] for k, v in home.items()})
    return await client.post(USERS, json=body, headers=world.h(actor))


async def listed_usernames(client, world: World, actor: str, **params: Any) -> set[str]:  # type: ignore[no-untyped-def]
    r = await client.get(USERS, params={"limit": 500, **params}, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return {u["username"] for u in r.json()["items"]}


# ---- admins --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("admin", {"org_unit_id": "county"}),
        ("officer", {"org_unit_id": "county"}),
        ("manager", {"org_unit_id": "town_b"}),
        ("inspector", {"org_unit_id": "bureau_c"}),
        ("viewer", {"org_unit_id": "bureau_e"}),
        ("enterprise_manager", {"enterprise_id": "ent_b2"}),
        ("enterprise_staff", {"enterprise_id": "ent_a2"}),
    ],
)
async def test_admin_creates_users_of_any_unit_or_enterprise(client, world, role, home) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", f"new_{role}", role, **home)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"{USERS}/{body['id']}"
    assert r.headers["etag"]
    assert body["role"] == role and body["is_active"] is True
    assert body["org_unit_id"] == (world[home["org_unit_id"]] if "org_unit_id" in home else None)
    assert body["enterprise_id"] == (
        world[home["enterprise_id"]] if "enterprise_id" in home else None
    )
    assert "password" not in body and "password_hash" not in body
    detail = await client.get(r.headers["location"], headers=world.h("admin"))
    assert detail.json() == body


async def test_a_created_user_can_sign_in_and_sees_its_scope(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", "zhang.san", "officer", org_unit_id="town_b")
    assert r.status_code == 201
    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "zhang.san", "password": "Str0ng-Passw0rd"},
    )
    assert token.status_code == 200
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    ents = await client.get("/api/v1/enterprises", headers=h)
    assert {e["id"] for e in ents.json()["items"]} == {world["ent_b1"], world["ent_b2"]}


async def test_admin_must_belong_to_the_county_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", "town_admin", "admin", org_unit_id="town_a")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["role"]


# ---- managers ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "inspector", "viewer"])
async def test_town_manager_creates_staff_of_its_own_unit(client, world, role) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "town_a_manager", f"a_{role}", role, org_unit_id="town_a")
    assert r.status_code == 201
    assert f"a_{role}" in await listed_usernames(client, world, "town_a_manager")


@pytest.mark.parametrize("role", ["enterprise_manager", "enterprise_staff"])
async def test_town_manager_creates_users_of_enterprises_in_its_town(client, world, role) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "town_a_manager", "a2_user", role, enterprise_id="ent_a2")
    assert r.status_code == 201
    assert "a2_user" in await listed_usernames(client, world, "town_a_manager")


@pytest.mark.parametrize("unit", ["town_b", "county", "bureau_e"])
async def test_town_manager_cannot_create_users_of_other_units(client, world, unit) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "town_a_manager", "intruder", "officer", org_unit_id=unit)
    assert r.status_code == 403
    assert "intruder" not in await listed_usernames(client, world, "admin")


async def test_town_manager_cannot_create_users_of_enterprises_outside_its_town(
    client, world
) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(
        client, world, "town_a_manager", "intruder", "enterprise_staff", enterprise_id="ent_b1"
    )
    # The enterprise does not exist for this caller, so the reference is invalid.
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["enterprise_id"]
    assert "intruder" not in await listed_usernames(client, world, "admin")


@pytest.mark.parametrize("role", ["admin", "manager"])
async def test_town_manager_cannot_create_admins_or_managers(client, world, role) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "town_a_manager", "boss", role, org_unit_id="town_a")
    assert r.status_code == 403
    assert r.json()["code"] == "role_not_grantable"


async def test_bureau_manager_creates_users_of_enterprises_it_supervises(client, world) -> None:  # type: ignore[no-untyped-def]
    # ent_b2 names bureau C, not E; ent_b1 is bureau E's by sector.
    ok = await create_user(
        client, world, "bureau_e_manager", "b1_staff", "enterprise_staff", enterprise_id="ent_b1"
    )
    assert ok.status_code == 201
    no = await create_user(
        client, world, "bureau_e_manager", "b2_staff", "enterprise_staff", enterprise_id="ent_b2"
    )
    assert no.status_code == 422


@pytest.mark.parametrize(
    "actor", ["town_a_officer", "county_officer", "town_a_viewer", "ent_a1_manager", "machine"]
)
async def test_only_admins_and_managers_create_users(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(
        client, world, actor, "someone", "enterprise_staff", enterprise_id="ent_a1"
    )
    assert r.status_code == 403


async def test_manager_sees_own_unit_and_in_scope_enterprise_users_only(client, world) -> None:  # type: ignore[no-untyped-def]
    assert await listed_usernames(client, world, "town_a_manager") == {
        "town_a_manager",
        "town_a_officer",
        "town_a_inspector",
        "town_a_viewer",
        "ent_a1_manager",
        "ent_a1_staff",
    }
    other = await client.get(
        f"{USERS}/{world['town_b_officer']}", headers=world.h("town_a_manager")
    )
    assert other.status_code == 404


# ---- validation ----------------------------------------------------------------------------


async def test_duplicate_username_is_409(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", "town_a_officer", "officer", org_unit_id="town_b")
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_username"


@pytest.mark.parametrize(
    "home",
    [{}, {"org_unit_id": "town_a", "enterprise_id": "ent_a1"}],
    ids=["neither", "both"],
)
async def test_exactly_one_of_org_unit_and_enterprise_is_required(client, world, home) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", "homeless", "officer", **home)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields & {"org_unit_id", "enterprise_id"}


@pytest.mark.parametrize(
    ("role", "home", "field"),
    [
        ("enterprise_staff", {"org_unit_id": "town_a"}, "enterprise_id"),
        ("officer", {"enterprise_id": "ent_a1"}, "org_unit_id"),
    ],
)
async def test_role_must_fit_the_kind_of_home(client, world, role, home, field) -> None:  # type: ignore[no-untyped-def]
    r = await create_user(client, world, "admin", "misfit", role, **home)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "a b"),
        ("username", "ab"),
        ("password", "short"),
        ("role", "superuser"),
        ("phone", "call me"),
        ("display_name", ""),
    ],
)
async def test_user_fields_are_validated(client, world, field, value) -> None:  # type: ignore[no-untyped-def]
    body = user_payload("valid_name", "officer", org_unit_id=world["town_a"])
    body[field] = value
    r = await client.post(USERS, json=body, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_unknown_org_unit_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    body = user_payload("ghost_unit", "officer", org_unit_id="0000000000000000000000000000dead")
    r = await client.post(USERS, json=body, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["org_unit_id"]


# ---- updates -------------------------------------------------------------------------------


async def test_manager_updates_staff_of_its_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_officer']}",
        json={"display_name": "王科员", "phone": "13900000000", "role": "inspector"},
        headers=world.h("town_a_manager"),
    )
    assert r.status_code == 200
    assert r.json()["display_name"] == "王科员" and r.json()["role"] == "inspector"


async def test_manager_cannot_promote_anyone_to_manager(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_officer']}",
        json={"role": "manager"},
        headers=world.h("town_a_manager"),
    )
    assert r.status_code == 403
    assert r.json()["code"] == "role_not_grantable"


async def test_manager_cannot_change_users_outside_its_scope(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_b_officer']}",
        json={"display_name": "x"},
        headers=world.h("town_a_manager"),
    )
    assert r.status_code == 404


async def test_manager_cannot_change_another_manager_of_its_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    peer = await create_user(client, world, "admin", "a_manager_2", "manager", org_unit_id="town_a")
    assert peer.status_code == 201
    url = f"{USERS}/{peer.json()['id']}"
    assert (await client.get(url, headers=world.h("town_a_manager"))).status_code == 200
    r = await client.patch(url, json={"is_active": False}, headers=world.h("town_a_manager"))
    assert r.status_code == 403
    assert (await client.get(url, headers=world.h("admin"))).json()["is_active"] is True


async def test_manager_cannot_even_see_the_county_admin(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['admin']}", json={"is_active": False}, headers=world.h("town_a_manager")
    )
    assert r.status_code == 404


async def test_officer_cannot_change_users(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_viewer']}",
        json={"display_name": "x"},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 403


async def test_nobody_deactivates_themselves(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['admin']}", json={"is_active": False}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["is_active"]


async def test_role_change_must_fit_the_home(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_officer']}",
        json={"role": "enterprise_staff"},
        headers=world.h("admin"),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["role"]


@pytest.mark.parametrize("field", ["display_name", "role", "password", "is_active"])
async def test_required_user_fields_cannot_be_cleared(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_officer']}", json={field: None}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_deactivated_user_stays_listed_as_inactive(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{USERS}/{world['town_a_viewer']}",
        json={"is_active": False},
        headers=world.h("town_a_manager"),
    )
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    gone = await client.get("/api/v1/me", headers=world.h("town_a_viewer"))
    assert gone.status_code == 401


# ---- list filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"role": "manager"}, {"town_a_manager", "bureau_e_manager"}),
        ({"org_unit_id": "bureau_e"}, {"bureau_e_manager", "bureau_e_officer"}),
        ({"enterprise_id": "ent_a1"}, {"ent_a1_manager", "ent_a1_staff"}),
        (
            {"q": "town_a"},
            {"town_a_manager", "town_a_officer", "town_a_inspector", "town_a_viewer"},
        ),
        ({"q": "nobody"}, set()),
        ({"q": "BUREAU_E"}, {"bureau_e_manager", "bureau_e_officer"}),  # any letter case
    ],
)
async def test_user_list_filters(client, world, params, expected) -> None:  # type: ignore[no-untyped-def]
    resolved = {k: world[v] if k.endswith("_id") else v for k, v in params.items()}
    assert await listed_usernames(client, world, "admin", **resolved) == expected


async def test_unknown_role_filter_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(USERS, params={"role": "king"}, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["role"]


async def test_users_sort_by_username(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(USERS, params={"sort": "-username"}, headers=world.h("admin"))
    names = [u["username"] for u in r.json()["items"]]
    assert names == sorted(names, reverse=True)
