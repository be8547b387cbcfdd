"""A conflict answer never carries the id, name or unit of an object outside the caller's
scope (issue 8, item 15). It may say the bare fact: the credit code is already registered
(the 统一社会信用代码 register is public), the username is not available."""

from __future__ import annotations

from typing import Any

from tests.conftest import World, credit
from tests.test_enterprises import ENTERPRISES, enterprise_payload
from tests.test_users import user_payload


def _secrets_of_ent_a1(world: World) -> list[str]:
    return [
        world["ent_a1"],
        "埇桥机械制造有限公司",
        "341302001001",
        world["town_a"],
        world["bureau_e"],
        "埇桥街道",
    ]


def _assert_reveals_nothing(body: dict[str, Any], hidden: list[str]) -> None:
    text = str(body)
    for value in hidden:
        assert value not in text, f"{value!r} leaked in {body}"


async def test_credit_code_conflict_names_nothing_outside_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(
        world,
        500,
        credit_code=credit(1),  # ent_a1's, in town A
        region_code="341302100300",
        enforcement_department_id=world["bureau_c"],
        sector="road_transport",
    )
    r = await client.post(ENTERPRISES, json=body, headers=world.h("town_b_officer"))
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_credit_code"
    assert "location" not in r.headers and "etag" not in r.headers
    _assert_reveals_nothing(r.json(), _secrets_of_ent_a1(world))


async def test_credit_code_conflict_on_patch_names_nothing_outside_scope(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_b2']}",
        json={"credit_code": credit(1)},
        headers=world.h("town_b_officer"),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_credit_code"
    _assert_reveals_nothing(r.json(), _secrets_of_ent_a1(world))


async def test_username_conflict_names_nothing_outside_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = user_payload("bureau_e_officer", "officer", org_unit_id=world["town_a"])
    r = await client.post("/api/v1/users", json=body, headers=world.h("town_a_manager"))
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_username"
    _assert_reveals_nothing(
        r.json(), [world["bureau_e_officer"], world["bureau_e"], "区应急管理局"]
    )
