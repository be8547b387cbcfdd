"""Enterprises (生产经营单位): registration, scope of writes, contact edits, filters and sorting."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, credit

ENTERPRISES = "/api/v1/enterprises"


def enterprise_payload(world: World, n: int, **overrides: Any) -> dict[str, Any]:
    """A valid new enterprise in town A (industry and trade, bureau E), numbered ``n``."""
    body: dict[str, Any] = {
        "name": f"测试企业{n:03d}有限公司",
        "credit_code": credit(n),
        "region_code": "341302001099",
        "address": "埇桥区测试路 1 号",
        "location": {"lat": 33.64, "lng": 116.97},
        "sector": "industry_trade",
        "industry_code": "C33",
        "enforcement_department_id": world["bureau_e"],
        "scale": "small",
        "risk_color": "yellow",
        "standardization_grade": "level_3",
        "principal": {"name": "张三", "phone": "13800000001"},
        "actual_controller": {"name": "李四", "phone": "13800000002"},
    }
    body.update(overrides)
    return body


async def create(client, world: World, actor: str, n: int, **overrides: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        ENTERPRISES, json=enterprise_payload(world, n, **overrides), headers=world.h(actor)
    )


def error_fields(r) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["field"] for e in r.json()["errors"]}


# ---- create ----------------------------------------------------------------------------------


async def test_admin_registers_an_enterprise_with_location_and_etag(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 100)
    assert r.status_code == 201
    body = r.json()
    assert r.headers["location"] == f"{ENTERPRISES}/{body['id']}"
    assert r.headers["etag"]
    assert body["credit_code"] == credit(100)
    assert body["principal"] == {"name": "张三", "phone": "13800000001"}
    assert body["location"] == {"lat": 33.64, "lng": 116.97, "coordinate_system": "wgs84"}
    assert body["status"] == "operating"  # the default
    assert body["created_at"] and body["updated_at"]

    again = await client.get(r.headers["location"], headers=world.h("admin"))
    assert again.status_code == 200
    assert again.json() == body
    assert again.headers["etag"] == r.headers["etag"]


async def test_enterprise_ids_are_opaque_strings_not_sequential_numbers(client, world) -> None:  # type: ignore[no-untyped-def]
    a = (await create(client, world, "admin", 101)).json()["id"]
    b = (await create(client, world, "admin", 102)).json()["id"]
    assert isinstance(a, str) and not a.isdigit() and len(a) >= 16
    assert a != b


async def test_town_officer_registers_an_enterprise_inside_its_town(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "town_a_officer", 103)
    assert r.status_code == 201
    mine = await client.get(r.headers["location"], headers=world.h("town_a_officer"))
    assert mine.status_code == 200


async def test_town_officer_cannot_register_an_enterprise_in_another_town(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "town_a_officer", 104, region_code="341302100099")
    assert r.status_code == 403
    assert r.json()["code"] == "outside_scope"
    listed = await client.get(ENTERPRISES, params={"q": credit(104)}, headers=world.h("admin"))
    assert listed.json()["items"] == []


async def test_bureau_officer_registers_an_enterprise_of_its_sector(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "bureau_e_officer", 105, sector="hazardous_chemicals")
    assert r.status_code == 201


async def test_bureau_officer_registers_outside_its_sectors_only_as_enforcement_department(
    client, world
) -> None:  # type: ignore[no-untyped-def]
    r = await create(
        client,
        world,
        "bureau_c_officer",
        106,
        sector="road_transport",
        enforcement_department_id=world["bureau_c"],
    )
    assert r.status_code == 201
    r = await create(
        client,
        world,
        "bureau_c_officer",
        107,
        sector="road_transport",
        enforcement_department_id=world["bureau_e"],
    )
    assert r.status_code == 403
    assert r.json()["code"] == "outside_scope"


@pytest.mark.parametrize(
    "actor", ["town_a_inspector", "town_a_viewer", "county_viewer", "ent_a1_manager", "machine"]
)
async def test_roles_without_enterprises_create_cannot_register(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, actor, 108)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_credit_code_with_a_wrong_check_character_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    good = credit(109)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    r = await create(client, world, "admin", 109, credit_code=bad)
    assert r.status_code == 422
    assert error_fields(r) == {"credit_code"}
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "code",
    [
        credit(110)[:16],
        credit(110) + "0",
        credit(110)[:12] + "O" + credit(110)[13:],  # O is not in the charset
        "".join(chr(ord(c) + 0xFEE0) for c in credit(110)),  # full-width forms
    ],
)
async def test_credit_code_of_wrong_length_or_charset_is_422(client, world, code) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 110, credit_code=code)
    assert r.status_code == 422
    assert "credit_code" in error_fields(r)


async def test_credit_code_is_accepted_in_lower_case_and_stored_upper_case(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 111, credit_code=credit(111).lower())
    assert r.status_code == 201
    assert r.json()["credit_code"] == credit(111)


async def test_duplicate_credit_code_is_409(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 1, name="另一家公司")  # credit(1) is ent_a1's
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_credit_code"


async def test_region_code_outside_the_county_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 112, region_code="341321100001")
    assert r.status_code == 422
    assert r.json()["code"] == "region_outside_county"
    assert error_fields(r) == {"region_code"}


@pytest.mark.parametrize("region_code", ["34130200109", "3413020010991", "34130200109x"])
async def test_region_code_must_be_twelve_digits(client, world, region_code) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 113, region_code=region_code)
    assert r.status_code == 422
    assert error_fields(r) == {"region_code"}


@pytest.mark.parametrize("department", ["town_a", "county", "missing"])
async def test_enforcement_department_must_be_a_bureau(client, world, department) -> None:  # type: ignore[no-untyped-def]
    dep = "0000000000000000000000000000dead" if department == "missing" else world[department]
    r = await create(client, world, "admin", 114, enforcement_department_id=dep)
    assert r.status_code == 422
    assert error_fields(r) == {"enforcement_department_id"}


async def test_unknown_sector_is_422_on_create(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 115, sector="mining_of_unicorns")
    assert r.status_code == 422
    assert error_fields(r) == {"sector"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("risk_color", "purple"),
        ("status", "bankrupt"),
        ("scale", "huge"),
        ("standardization_grade", "level_9"),
        ("location", {"lat": 91, "lng": 0}),
        ("principal", {"name": "张三", "phone": "not a phone"}),
        ("industry_code", "C3333333"),
    ],
)
async def test_enumerated_and_shaped_fields_are_validated(client, world, field, value) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, "admin", 116, **{field: value})
    assert r.status_code == 422
    assert any(f == field or f.startswith(field + ".") for f in error_fields(r))


async def test_missing_required_fields_are_listed(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(ENTERPRISES, json={}, headers=world.h("admin"))
    assert r.status_code == 422
    assert {
        "name",
        "credit_code",
        "region_code",
        "sector",
        "enforcement_department_id",
    } <= error_fields(r)


# ---- update ----------------------------------------------------------------------------------


async def test_town_officer_updates_an_enterprise_of_its_town(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    r = await client.patch(
        url, json={"risk_color": "red", "status": "suspended"}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 200
    assert r.json()["risk_color"] == "red" and r.json()["status"] == "suspended"
    assert r.json()["name"] == "埇桥机械制造有限公司"  # untouched fields stay


async def test_town_officer_cannot_move_an_enterprise_out_of_its_town(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    r = await client.patch(
        url, json={"region_code": "341302100999"}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 403
    assert r.json()["code"] == "outside_scope"
    still = await client.get(url, headers=world.h("admin"))
    assert still.json()["region_code"] == "341302001001"


async def test_enterprise_manager_updates_principal_and_actual_controller(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}",
        json={
            "principal": {"name": "王五", "phone": "13900000003"},
            "actual_controller": {"name": "赵六"},
        },
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200
    assert r.json()["principal"] == {"name": "王五", "phone": "13900000003"}
    assert r.json()["actual_controller"] == {"name": "赵六", "phone": None}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "改名公司"},
        {"risk_color": "blue"},
        {"principal": {"name": "王五"}, "address": "新地址"},
        {"enforcement_department_id": "x"},
    ],
)
async def test_enterprise_manager_may_change_no_other_field(client, world, body) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    before = (await client.get(url, headers=world.h("admin"))).json()
    r = await client.patch(url, json=body, headers=world.h("ent_a1_manager"))
    assert r.status_code == 422
    assert r.json()["code"] == "field_not_writable"
    assert error_fields(r) == set(body) - {"principal", "actual_controller"}
    after = (await client.get(url, headers=world.h("admin"))).json()
    assert after == before  # nothing applied, not even the allowed part


async def test_enterprise_staff_may_not_update_contacts(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}",
        json={"principal": {"name": "王五"}},
        headers=world.h("ent_a1_staff"),
    )
    assert r.status_code == 403


@pytest.mark.parametrize("actor", ["town_a_viewer", "county_viewer", "town_a_inspector", "machine"])
async def test_roles_without_update_permission_get_403_in_scope(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}", json={"risk_color": "red"}, headers=world.h(actor)
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("actor", "target"),
    [
        ("town_a_officer", "ent_b1"),
        ("bureau_c_officer", "ent_a1"),
        ("ent_b1_manager", "ent_a1"),
        ("town_a_viewer", "ent_b1"),
    ],
)
async def test_update_outside_scope_is_404(client, world, actor, target) -> None:  # type: ignore[no-untyped-def]
    body = {"principal": {"name": "王五"}}
    r = await client.patch(f"{ENTERPRISES}/{world[target]}", json=body, headers=world.h(actor))
    assert r.status_code == 404


async def test_update_to_a_taken_credit_code_is_409(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}",
        json={"credit_code": credit(2)},
        headers=world.h("admin"),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_credit_code"


@pytest.mark.parametrize("field", ["name", "credit_code", "region_code", "sector", "status"])
async def test_required_fields_cannot_be_cleared(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}", json={field: None}, headers=world.h("admin")
    )
    assert r.status_code == 422
    assert error_fields(r) == {field}


async def test_optional_fields_can_be_cleared(client, world) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    await client.patch(
        url, json={"location": {"lat": 33.6, "lng": 117.0}}, headers=world.h("admin")
    )
    r = await client.patch(
        url, json={"location": None, "risk_color": None}, headers=world.h("admin")
    )
    assert r.status_code == 200
    assert r.json()["location"] is None and r.json()["risk_color"] is None


# ---- filters and sorting ---------------------------------------------------------------------


async def _ids(client, world: World, actor: str = "admin", **params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get(ENTERPRISES, params={"limit": 500, **params}, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


def _names(world: World, ids: list[str]) -> set[str]:
    by_id = {v: k for k, v in world.ids.items()}
    return {by_id.get(i, i) for i in ids}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "化工"}, {"ent_b1"}),
        ({"q": "有限公司"}, {"ent_a1", "ent_a2", "ent_b1", "ent_b2"}),
        ({"q": credit(2)}, {"ent_a2"}),
        ({"q": credit(2).lower()}, {"ent_a2"}),
        ({"region_code": "341302001"}, {"ent_a1", "ent_a2"}),
        ({"region_code": "341302100202"}, {"ent_b2"}),
        ({"region_code": "3413"}, {"ent_a1", "ent_a2", "ent_b1", "ent_b2"}),
        ({"sector": "construction"}, {"ent_a2"}),
        ({"sector": "medical"}, set()),
        ({"risk_color": "red"}, {"ent_b1"}),
        ({"status": "operating"}, {"ent_a1", "ent_a2", "ent_b1", "ent_b2"}),
        ({"status": "closed"}, set()),
        ({"risk_color": "red", "region_code": "341302001"}, set()),
    ],
)
async def test_list_filters(client, world, params, expected) -> None:  # type: ignore[no-untyped-def]
    assert _names(world, await _ids(client, world, **params)) == expected


async def test_filter_by_enforcement_department(client, world) -> None:  # type: ignore[no-untyped-def]
    ids = await _ids(client, world, enforcement_department_id=world["bureau_c"])
    assert _names(world, ids) == {"ent_a2", "ent_b2"}


async def test_q_ignores_letter_case_on_every_database(client, world) -> None:  # type: ignore[no-untyped-def]
    created = await create(client, world, "admin", 140, name="ABC精细化工有限公司")
    assert created.status_code == 201
    for q in ("abc", "ABC", "aBc精细"):
        assert await _ids(client, world, q=q) == [created.json()["id"]], q


async def test_q_treats_wildcards_literally(client, world) -> None:  # type: ignore[no-untyped-def]
    assert await _ids(client, world, q="%") == []
    assert await _ids(client, world, q="_") == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("sector", "mining_of_unicorns"),
        ("risk_color", "purple"),
        ("status", "bankrupt"),
        ("region_code", "34a"),
        ("region_code", "3413020011111"),
        ("sort", "credit_score"),
        ("sort", "-address"),
    ],
)
async def test_unknown_filter_or_sort_values_are_422(client, world, param, value) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(ENTERPRISES, params={param: value}, headers=world.h("admin"))
    assert r.status_code == 422
    assert error_fields(r) == {param}


async def test_sort_by_name_both_ways(client, world) -> None:  # type: ignore[no-untyped-def]
    for n in (3, 1, 2):
        r = await create(client, world, "admin", 120 + n, name=f"排序测试-{n:02d}")
        assert r.status_code == 201
    up = await client.get(
        ENTERPRISES, params={"q": "排序测试", "sort": "name"}, headers=world.h("admin")
    )
    down = await client.get(
        ENTERPRISES, params={"q": "排序测试", "sort": "-name"}, headers=world.h("admin")
    )
    assert [e["name"] for e in up.json()["items"]] == ["排序测试-01", "排序测试-02", "排序测试-03"]
    assert [e["name"] for e in down.json()["items"]] == [
        "排序测试-03",
        "排序测试-02",
        "排序测试-01",
    ]


async def test_sort_by_most_recently_updated(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_b2']}", json={"risk_color": "yellow"}, headers=world.h("admin")
    )
    assert r.status_code == 200
    first = await create(client, world, "admin", 130)
    ids = await _ids(client, world, sort="-updated_at")
    assert ids[:2] == [first.json()["id"], world["ent_b2"]]
    items = (
        await client.get(ENTERPRISES, params={"sort": "-updated_at"}, headers=world.h("admin"))
    ).json()["items"]
    stamps = [e["updated_at"] for e in items]
    assert stamps == sorted(stamps, reverse=True)


async def test_default_order_is_by_name(client, world) -> None:  # type: ignore[no-untyped-def]
    default = await _ids(client, world)
    by_name = await _ids(client, world, sort="name")
    assert default == by_name


async def test_timestamps_are_rfc3339_with_offset(client, world) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    body = (await create(client, world, "admin", 131)).json()
    for field in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(body[field].replace("Z", "+00:00"))
        assert parsed.utcoffset() is not None
