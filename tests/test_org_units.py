"""Org units: the county, its towns/streets and its sectoral bureaus, managed by admins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.test_enterprises import enterprise_payload
from tests.test_users import cheap_password_hashing  # noqa: F401  (autouse fixture)

ORG_UNITS = "/api/v1/org-units"


async def create_unit(client, world: World, actor: str = "admin", **body: Any):  # type: ignore[no-untyped-def]
    return await client.post(ORG_UNITS, json=body, headers=world.h(actor))


async def test_admin_creates_a_town_under_the_county(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="town", name="朱仙庄镇", region_code="341302102")
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == f"{ORG_UNITS}/{body['id']}"
    assert r.headers["etag"]
    assert body["kind"] == "town"
    assert body["parent_id"] == world["county"]
    assert body["region_code"] == "341302102"
    assert body["sectors"] == []
    detail = await client.get(r.headers["location"], headers=world.h("town_b_officer"))
    assert detail.json() == body


async def test_a_new_town_appears_in_catalogs(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="town", name="朱仙庄镇", region_code="341302102")
    catalogs = await client.get("/api/v1/catalogs", headers=world.h("ent_a1_staff"))
    towns = {t["region_code"]: t for t in catalogs.json()["towns"]}
    assert towns["341302102"]["id"] == r.json()["id"]
    assert towns["341302102"]["name_zh"] == "朱仙庄镇"


async def test_admin_creates_a_bureau_with_its_sectors(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(
        client,
        world,
        kind="bureau",
        name="区交通运输局",
        sectors=["road_transport", "water_transport", "road_transport"],
    )
    assert r.status_code == 201
    assert r.json()["region_code"] is None
    assert r.json()["sectors"] == ["road_transport", "water_transport"]  # duplicates dropped


@pytest.mark.parametrize(
    "region_code",
    ["341321100", "341302"],
    ids=["another-county", "too-short"],
)
async def test_town_code_must_be_nine_digits_under_the_county(client, world, region_code) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="town", name="外县镇", region_code=region_code)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["region_code"]


async def test_town_without_region_code_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="town", name="无码镇")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["region_code"]


async def test_duplicate_town_code_is_409(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="town", name="重复镇", region_code="341302001")
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_region_code"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "kind": "town",
                "name": "有行业镇",
                "region_code": "341302103",
                "sectors": ["medical"],
            },
            "sectors",
        ),
        ({"kind": "bureau", "name": "有区划局", "region_code": "341302104"}, "region_code"),
        ({"kind": "bureau", "name": "怪局", "sectors": ["unicorns"]}, "sectors[0]"),
        ({"kind": "county", "name": "第二个县"}, "kind"),
        ({"kind": "bureau", "name": ""}, "name"),
        ({"kind": "bureau", "name": "子局", "parent_id": "town_a"}, "parent_id"),
    ],
)
async def test_invalid_org_units_are_422(client, world, body, field) -> None:  # type: ignore[no-untyped-def]
    if "parent_id" in body:
        body = {**body, "parent_id": world[body["parent_id"]]}
    r = await create_unit(client, world, **body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]


@pytest.mark.parametrize(
    "actor", ["county_officer", "town_a_manager", "bureau_e_manager", "machine"]
)
async def test_only_admins_create_org_units(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, actor, kind="bureau", name="私设局")
    assert r.status_code == 403


@pytest.mark.parametrize("actor", ["town_a_manager", "county_officer"])
async def test_only_admins_update_org_units(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ORG_UNITS}/{world['town_a']}", json={"name": "改名"}, headers=world.h(actor)
    )
    assert r.status_code == 403


async def test_admin_renames_a_town(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ORG_UNITS}/{world['town_a']}", json={"name": "埇桥新街道"}, headers=world.h("admin")
    )
    assert r.status_code == 200
    assert r.json()["name"] == "埇桥新街道"
    me = await client.get("/api/v1/me", headers=world.h("town_a_officer"))
    assert me.json()["org_unit"]["name"] == "埇桥新街道"


async def test_towns_have_no_sectors_even_by_update(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ORG_UNITS}/{world['town_a']}", json={"sectors": ["medical"]}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["sectors"]


async def test_bureau_scope_follows_its_sectors_when_they_change(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/enterprises/{world['ent_b2']}"  # road transport, enforced by bureau C
    assert (await client.get(url, headers=world.h("bureau_e_officer"))).status_code == 404
    r = await client.patch(
        f"{ORG_UNITS}/{world['bureau_e']}",
        json={"sectors": ["hazardous_chemicals", "road_transport"]},
        headers=world.h("admin"),
    )
    assert r.status_code == 200
    assert (await client.get(url, headers=world.h("bureau_e_officer"))).status_code == 200
    # industry_trade was dropped, but ent_a1 still names bureau E as its enforcement department
    a1 = f"/api/v1/enterprises/{world['ent_a1']}"
    assert (await client.get(a1, headers=world.h("bureau_e_officer"))).status_code == 200


async def test_enterprises_of_a_new_town_are_in_its_scope(client, world) -> None:  # type: ignore[no-untyped-def]
    town = await create_unit(client, world, kind="town", name="新区", region_code="341302400")
    officer = await client.post(
        "/api/v1/users",
        json={
            "username": "new_town_officer",
            "password": "Str0ng-Passw0rd",
            "display_name": "新区科员",
            "role": "officer",
            "org_unit_id": town.json()["id"],
        },
        headers=world.h("admin"),
    )
    assert officer.status_code == 201
    ent = await client.post(
        "/api/v1/enterprises",
        json=enterprise_payload(world, 700, region_code="341302400001"),
        headers=world.h("admin"),
    )
    assert ent.status_code == 201

    from app.auth.tokens import issue_token

    token = issue_token(world.settings, officer.json()["id"], "user")[0]
    r = await client.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"})
    assert [e["id"] for e in r.json()["items"]] == [ent.json()["id"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "town"}, {"town_a", "town_b"}),
        ({"kind": "bureau"}, {"bureau_e", "bureau_c"}),
        ({"kind": "county"}, {"county"}),
        ({"q": "局"}, {"bureau_e", "bureau_c"}),
    ],
)
async def test_org_unit_list_filters(client, world, params, expected) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(ORG_UNITS, params=params, headers=world.h("town_a_viewer"))
    assert r.status_code == 200
    assert {u["id"] for u in r.json()["items"]} == {world[k] for k in expected}


async def test_org_unit_search_ignores_letter_case(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create_unit(client, world, kind="bureau", name="区EMS应急指挥中心")
    found = await client.get(ORG_UNITS, params={"q": "ems"}, headers=world.h("admin"))
    assert [u["id"] for u in found.json()["items"]] == [r.json()["id"]]


async def test_unknown_kind_filter_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(ORG_UNITS, params={"kind": "village"}, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["kind"]


async def test_org_unit_representation(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{ORG_UNITS}/{world['bureau_c']}", headers=world.h("county_viewer"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "id",
        "kind",
        "name",
        "name_en",
        "parent_id",
        "parent",
        "region_code",
        "sectors",
        "created_at",
        "updated_at",
    }
    assert body["sectors"] == ["construction", "urban_gas", "self_built_housing"]
