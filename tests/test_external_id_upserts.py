"""Upserts by external id (issue 17): ``PUT /api/v1/{enterprises|hazards}/by-external-id/
{system}/{external_id}`` creates or updates, idempotently and under concurrency (ten identical
PUTs at once make one record), with the scope and permissions of POST and PATCH; a hazard's PUT
never moves its lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from app.auth.permissions import Permission
from app.auth.tokens import issue_token
from app.models import ApiClient, Enterprise, ExternalId, Hazard, HazardEvent
from tests.conftest import World, credit
from tests.hazard_helpers import GENERAL_PLAN, act, register
from tests.test_enterprises import enterprise_payload

V1 = "/api/v1"


def ent_url(external_id: str, system: str = "province") -> str:
    return f"{V1}/enterprises/by-external-id/{system}/{external_id}"


def hazard_url(external_id: str, system: str = "province") -> str:
    return f"{V1}/hazards/by-external-id/{system}/{external_id}"


def hazard_body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enterprise_id": world["ent_a1"],
        "title": "车间防护栏破损",
        "description": "二号车间东侧护栏断裂",
        "location": "二号车间",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
        "found_at": "2026-12-01T09:00:00+08:00",
        "deadline": "2027-01-31",
    }
    body.update(fields)
    return body


async def _put(
    client,
    world: World,
    url: str,
    body: dict[str, Any],
    actor: str = "county_officer",
    **headers: str,
):  # type: ignore[no-untyped-def]
    return await client.put(url, json=body, headers=world.h(actor, **headers))


async def _count(app, model: Any, *where: Any) -> int:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def _body_of(app, world: World, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A PUT body of the world's enterprise ``key`` as it is (changing nothing)."""
    async with app.state.sessionmaker() as s:
        ent = await s.get(Enterprise, world[key])
        assert ent is not None
        return {
            "name": ent.name,
            "credit_code": ent.credit_code,
            "region_code": ent.region_code,
            "sector": ent.sector,
            "enforcement_department_id": ent.enforcement_department_id,
            "risk_color": ent.risk_color,
        }


async def _machine(app, world: World, *permissions: Permission) -> str:  # type: ignore[no-untyped-def]
    """A provincial exchange client of the whole county with ``permissions``: its actor name."""
    async with app.state.sessionmaker() as s:
        c = ApiClient(
            client_id="cli_province_push",
            secret_hash="-",
            name="省级数据交换（推送）",
            org_unit_id=world["county"],
            permissions=[p.value for p in permissions],
        )
        s.add(c)
        await s.commit()
    world.tokens["province"] = issue_token(world.settings, c.id, "client")[0]
    return "province"


# ---- enterprises --------------------------------------------------------------------------


async def test_enterprise_put_creates_then_updates_the_same_record(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 101)
    r = await _put(client, world, ent_url("P-101"), body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{V1}/enterprises/{created['id']}"
    assert created["external_ids"] == {"province": "P-101"}
    assert created["name"] == body["name"]

    changed = {**body, "name": "测试企业101（更名）有限公司", "address": None}
    r = await _put(client, world, ent_url("P-101"), changed)
    assert r.status_code == 200, r.text
    assert "location" not in r.headers
    updated = r.json()
    assert updated["id"] == created["id"]
    assert updated["name"] == "测试企业101（更名）有限公司"
    assert updated["address"] is None
    assert r.headers["etag"] != f'"v{1}"'
    got = await client.get(f"{V1}/enterprises/{created['id']}", headers=world.h("county_officer"))
    assert got.json()["name"] == updated["name"]
    assert got.headers["etag"] == r.headers["etag"]
    listed = await client.get(
        f"{V1}/enterprises", params={"external_id": "province:P-101"}, headers=world.h("admin")
    )
    assert [e["id"] for e in listed.json()["items"]] == [created["id"]]


async def test_an_optional_field_omitted_from_the_put_is_cleared(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 102)
    first = await _put(client, world, ent_url("P-102"), body)
    assert first.status_code == 201, first.text
    del body["principal"], body["scale"]
    r = await _put(client, world, ent_url("P-102"), body)
    assert r.status_code == 200, r.text
    assert (r.json()["principal"], r.json()["scale"]) == (None, None)
    assert r.json()["actual_controller"] == {"name": "李四", "phone": "13800000002"}


async def test_the_same_enterprise_put_twice_changes_nothing(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 103)
    first = await _put(client, world, ent_url("P-103"), body)
    assert first.status_code == 201, first.text
    again = await _put(client, world, ent_url("P-103"), body)
    assert again.status_code == 200, again.text
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json() == first.json()  # updated_at too: nothing was written
    assert await _count(app, Enterprise, Enterprise.credit_code == credit(103)) == 1
    assert await _count(app, ExternalId, ExternalId.external_id == "P-103") == 1


async def test_ten_identical_enterprise_puts_at_once_make_one_enterprise(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 104)
    answers = await asyncio.gather(
        *(_put(client, world, ent_url("P-104"), body) for _ in range(10))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 9 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert len({r.headers["etag"] for r in answers}) == 1
    assert await _count(app, Enterprise, Enterprise.credit_code == credit(104)) == 1
    assert await _count(app, ExternalId, ExternalId.external_id == "P-104") == 1


async def test_ten_identical_puts_changing_a_record_at_once_change_it_once(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 116)
    first = await _put(client, world, ent_url("P-116"), body)
    assert first.status_code == 201, first.text
    changed = {**body, "name": "测试企业116（更名）有限公司", "scale": "medium"}
    answers = await asyncio.gather(
        *(_put(client, world, ent_url("P-116"), changed) for _ in range(10))
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    # one writer changed it (one new version); the others retried and found nothing to change
    assert {r.headers["etag"] for r in answers} == {'"v2"'}
    assert {(r.json()["name"], r.json()["scale"]) for r in answers} == {(changed["name"], "medium")}


async def test_ten_puts_binding_a_registered_credit_code_at_once_bind_it_once(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    created = await client.post(
        f"{V1}/enterprises", json=enterprise_payload(world, 105), headers=world.h("county_officer")
    )
    assert created.status_code == 201, created.text
    body = enterprise_payload(world, 105, name="测试企业105（省库名称）有限公司")
    answers = await asyncio.gather(
        *(_put(client, world, ent_url("P-105"), body) for _ in range(10))
    )
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert {r.json()["id"] for r in answers} == {created.json()["id"]}
    assert {r.json()["name"] for r in answers} == {body["name"]}
    assert await _count(app, ExternalId, ExternalId.external_id == "P-105") == 1


async def test_a_registered_credit_code_is_bound_unless_it_has_another_id_of_the_system(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 106)
    created = await client.post(f"{V1}/enterprises", json=body, headers=world.h("county_officer"))
    assert created.status_code == 201, created.text
    r = await _put(client, world, ent_url("P-106"), body)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created.json()["id"]
    assert r.json()["external_ids"] == {"province": "P-106"}
    assert r.headers["etag"] == created.headers["etag"]  # the body changed no field
    # another id of the same system for the same credit code: the enterprise has one already
    r = await _put(client, world, ent_url("P-106-bis"), body)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "external_id_mismatch"
    # another system may name it too
    r = await _put(client, world, ent_url("C-106", system="city"), body)
    assert r.status_code == 200, r.text
    assert r.json()["external_ids"] == {"province": "P-106", "city": "C-106"}


async def test_a_put_changing_the_credit_code_to_another_enterprises_is_409(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    assert (
        await _put(client, world, ent_url("P-107"), enterprise_payload(world, 107))
    ).status_code == 201
    r = await _put(client, world, ent_url("P-107"), enterprise_payload(world, 1))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "duplicate_credit_code"


async def test_town_officer_put_for_another_towns_enterprise_is_404(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    # the county binds an id to town B's enterprise (its credit code)
    b1 = await _body_of(app, world, "ent_b1")
    assert (await _put(client, world, ent_url("P-B1"), b1)).status_code == 200
    r = await _put(client, world, ent_url("P-B1"), {**b1, "name": "改名"}, actor="town_a_officer")
    assert r.status_code == 404, r.text
    # its credit code under a new id: as POST answers, without revealing the enterprise
    r = await _put(client, world, ent_url("P-B1-new"), b1, actor="town_a_officer")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "duplicate_credit_code"
    # a new enterprise in town B, by town A's officer: outside its jurisdiction
    other_town = enterprise_payload(world, 108, region_code="341302100299")
    r = await _put(client, world, ent_url("P-108"), other_town, actor="town_a_officer")
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "outside_scope"
    assert await _count(app, Enterprise, Enterprise.credit_code == credit(108)) == 0
    async with app.state.sessionmaker() as s:
        assert (await s.get(Enterprise, world["ent_b1"])).name == b1["name"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("admin", 201),
        ("county_officer", 201),
        ("town_a_manager", 201),
        ("town_a_officer", 201),
        ("town_a_inspector", 403),
        ("county_viewer", 403),
        ("ent_a1_manager", 403),
        ("machine", 403),  # the reading client of town A
    ],
)
async def test_enterprise_put_permission_per_role(
    app, client, world: World, actor: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    r = await _put(client, world, ent_url("P-109"), enterprise_payload(world, 109), actor=actor)
    assert r.status_code == status, r.text
    assert await _count(app, Enterprise, Enterprise.credit_code == credit(109)) == (status == 201)


async def test_updating_by_put_needs_enterprises_update(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await _body_of(app, world, "ent_a1")
    assert (await _put(client, world, ent_url("P-A1"), body)).status_code == 200
    # the enterprise's own manager edits its contacts by PATCH, never by the exchange's PUT
    for actor in ("town_a_inspector", "ent_a1_manager", "county_viewer"):
        r = await _put(client, world, ent_url("P-A1"), {**body, "name": "改名"}, actor=actor)
        assert r.status_code == 403, (actor, r.text)
    r = await _put(client, world, ent_url("P-A1"), {**body, "name": "改名"}, actor="town_a_officer")
    assert r.status_code == 200, r.text


async def test_a_machine_client_with_the_permissions_pushes_enterprises(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    actor = await _machine(
        app,
        world,
        Permission.enterprises_read,
        Permission.enterprises_create,
        Permission.enterprises_update,
    )
    body = enterprise_payload(world, 111)
    r = await _put(client, world, ent_url("P-111"), body, actor=actor)
    assert r.status_code == 201, r.text
    r = await _put(client, world, ent_url("P-111"), {**body, "scale": "medium"}, actor=actor)
    assert r.status_code == 200, r.text
    assert r.json()["scale"] == "medium"


async def test_enterprise_put_honours_if_match(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 112)
    r = await _put(client, world, ent_url("P-112"), body, **{"If-Match": '"v1"'})
    assert r.status_code == 412, r.text  # nothing exists yet: no tag matches
    first = await _put(client, world, ent_url("P-112"), body)
    etag = first.headers["etag"]
    changed = {**body, "name": "改名一"}
    r = await _put(client, world, ent_url("P-112"), changed, **{"If-Match": etag})
    assert r.status_code == 200, r.text
    r = await _put(
        client, world, ent_url("P-112"), {**body, "name": "改名二"}, **{"If-Match": etag}
    )
    assert r.status_code == 412, r.text
    assert r.json()["code"] == "precondition_failed"


@pytest.mark.parametrize(
    ("system", "external_id"),
    [
        ("pro vince", "P-1"),
        ("p" * 33, "P-1"),
        ("省", "P-1"),
        ("province", "x" * 101),
        ("province", "a%09b"),  # a control character
    ],
)
async def test_a_bad_system_or_id_in_the_path_is_422(
    app, client, world: World, system: str, external_id: str
) -> None:  # type: ignore[no-untyped-def]
    r = await _put(
        client, world, ent_url(external_id, system=system), enterprise_payload(world, 113)
    )
    assert r.status_code == 422, r.text
    r = await _put(client, world, hazard_url(external_id, system=system), hazard_body(world))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "change",
    [
        {"credit_code": "91341302MA0000001X"},  # a failing check character
        {"region_code": "3413020010"},
        {"sector": "nonsense"},
        {"unknown_field": 1},
        {"name": None},
        {"location": {"lat": 91, "lng": 0}},
        {"region_code": "320102001001"},  # outside the county
        {"enforcement_department_id": "no-such-unit"},
    ],
)
async def test_a_bad_enterprise_body_is_422(
    app, client, world: World, change: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    r = await _put(client, world, ent_url("P-114"), {**enterprise_payload(world, 114), **change})
    assert r.status_code == 422, r.text
    assert await _count(app, ExternalId) == 0


async def test_an_external_id_with_reserved_characters_round_trips(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await _put(client, world, ent_url("省库%20编号%3A7"), enterprise_payload(world, 115))
    assert r.status_code == 201, r.text
    assert r.json()["external_ids"] == {"province": "省库 编号:7"}
    r = await _put(client, world, ent_url("省库%20编号%3A7"), enterprise_payload(world, 115))
    assert r.status_code == 200, r.text
    # a slash, encoded or not, is part of the id (the segment runs to the end of the path)
    r = await _put(client, world, hazard_url("2026%2F0042"), hazard_body(world))
    assert r.status_code == 201, r.text
    assert r.json()["external_ids"] == {"province": "2026/0042"}
    r = await _put(client, world, hazard_url("2026/0042"), hazard_body(world))
    assert r.status_code == 200, r.text


# ---- hazards ------------------------------------------------------------------------------


async def test_hazard_put_registers_then_changes_its_description(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world)
    r = await _put(client, world, hazard_url("H-1"), body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{V1}/hazards/{created['id']}"
    assert (created["status"], created["external_ids"]) == ("registered", {"province": "H-1"})
    r = await _put(
        client, world, hazard_url("H-1"), {**body, "title": "护栏断裂", "location": None}
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert (r.json()["title"], r.json()["location"]) == ("护栏断裂", None)
    assert r.json()["number"] == created["number"]


async def test_the_same_hazard_put_twice_changes_nothing(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world)
    first = await _put(client, world, hazard_url("H-2"), body)
    assert first.status_code == 201, first.text
    events = await _count(app, HazardEvent, HazardEvent.hazard_id == first.json()["id"])
    again = await _put(client, world, hazard_url("H-2"), body)
    assert again.status_code == 200, again.text
    assert again.headers["etag"] == first.headers["etag"]
    assert again.json()["updated_at"] == first.json()["updated_at"]
    assert await _count(app, HazardEvent, HazardEvent.hazard_id == first.json()["id"]) == events
    assert await _count(app, Hazard) == 1


async def test_ten_identical_hazard_puts_at_once_register_one_hazard(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world)
    answers = await asyncio.gather(
        *(_put(client, world, hazard_url("H-3"), body) for _ in range(10))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] * 9 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert len({r.json()["number"] for r in answers}) == 1
    assert await _count(app, Hazard) == 1
    assert await _count(app, ExternalId, ExternalId.external_id == "H-3") == 1
    # the number the losers drew was given back with their savepoint: the next one follows
    nxt = await register(client, world)
    assert int(nxt["number"][-6:]) == int(answers[0].json()["number"][-6:]) + 1


async def test_a_hazard_put_never_moves_the_lifecycle(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world)
    created = (await _put(client, world, hazard_url("H-4"), body)).json()
    r = await act(
        client,
        world,
        "town_a_officer",
        created["id"],
        "plan",
        plan={**GENERAL_PLAN, "deadline": "2027-01-15"},
    )
    assert r.status_code == 200, r.text
    planned = r.json()
    assert planned["status"] == "rectifying"
    events = await _count(app, HazardEvent, HazardEvent.hazard_id == created["id"])

    again = await _put(client, world, hazard_url("H-4"), body)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "rectifying"
    assert again.headers["etag"] == r.headers["etag"]

    r = await _put(client, world, hazard_url("H-4"), {**body, "description": "护栏已拆除待换"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["description"]) == ("rectifying", "护栏已拆除待换")
    assert r.json()["plan"] == planned["plan"]
    assert await _count(app, HazardEvent, HazardEvent.hazard_id == created["id"]) == events

    # what only a transition (or nothing) may change is refused, naming each field
    r = await _put(
        client,
        world,
        hazard_url("H-4"),
        {**body, "level": "major", "deadline": "2027-02-28", "category": "unsafe_behavior"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "field_not_writable"
    assert {e["field"] for e in r.json()["errors"]} == {"level", "deadline", "category"}
    r = await _put(client, world, hazard_url("H-4"), {**body, "status": "closed"})
    assert r.status_code == 422, r.text
    got = await client.get(f"{V1}/hazards/{created['id']}", headers=world.h("county_officer"))
    assert (got.json()["status"], got.json()["level"]) == ("rectifying", "general")
    assert got.json()["deadline"] == "2027-01-31"


async def test_fields_omitted_from_a_hazard_put_are_not_compared(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _put(client, world, hazard_url("H-5"), hazard_body(world))
    assert created.status_code == 201, created.text
    lean = {
        k: v for k, v in hazard_body(world).items() if k not in ("found_at", "deadline", "source")
    }
    r = await _put(client, world, hazard_url("H-5"), lean)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == created.headers["etag"]


async def test_hazard_put_for_another_towns_hazard_is_404(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world, enterprise_id=world["ent_b1"], category="unsafe_condition")
    created = await _put(client, world, hazard_url("H-6"), body)
    assert created.status_code == 201, created.text
    r = await _put(
        client, world, hazard_url("H-6"), {**body, "title": "改"}, actor="town_a_officer"
    )
    assert r.status_code == 404, r.text
    # registering for an enterprise outside its scope: as POST answers
    r = await _put(client, world, hazard_url("H-7"), body, actor="town_a_officer")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "unknown_enterprise"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("town_a_officer", 201),
        ("town_a_inspector", 201),
        ("county_viewer", 403),
        ("town_a_viewer", 403),
        ("machine", 403),
    ],
)
async def test_hazard_put_permission_per_role(
    app, client, world: World, actor: str, status: int
) -> None:  # type: ignore[no-untyped-def]
    r = await _put(client, world, hazard_url("H-8"), hazard_body(world), actor=actor)
    assert r.status_code == status, r.text
    assert await _count(app, Hazard) == (status == 201)


async def test_an_enterprise_user_pushes_its_own_self_inspection_findings(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = {
        k: v
        for k, v in hazard_body(world, source="self_inspection").items()
        if k not in ("found_at", "deadline")
    }
    r = await _put(client, world, hazard_url("E-1", system="erp"), body, actor="ent_a1_staff")
    assert r.status_code == 201, r.text
    r = await _put(client, world, hazard_url("E-1", system="erp"), body, actor="ent_b1_manager")
    assert r.status_code == 404, r.text


async def test_a_machine_client_with_hazards_create_pushes_hazards(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    actor = await _machine(app, world, Permission.hazards_read, Permission.hazards_create)
    r = await _put(client, world, hazard_url("H-9"), hazard_body(world), actor=actor)
    assert r.status_code == 201, r.text
    r = await _put(client, world, hazard_url("H-9"), hazard_body(world, title="改"), actor=actor)
    assert (r.status_code, r.json()["title"]) == (200, "改")


@pytest.mark.parametrize(
    "change",
    [
        {"level": "severe"},
        {"enterprise_id": "no-such-enterprise"},
        {"found_at": "2026-13-01T00:00:00Z"},
        {"found_at": "2099-01-01T00:00:00Z"},
        {"title": ""},
        {"deadline": "2026-11-01"},  # before found_at
        {"level": "major"},  # a major hazard needs its judgment
        {"attachment_ids": ["no-such-file"]},
    ],
)
async def test_a_bad_hazard_body_is_422(app, client, world: World, change: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    r = await _put(client, world, hazard_url("H-10"), {**hazard_body(world), **change})
    assert r.status_code == 422, r.text
    assert await _count(app, Hazard) == 0


async def test_hazard_put_honours_if_match(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = hazard_body(world)
    r = await _put(client, world, hazard_url("H-11"), body, **{"If-Match": "*"})
    assert r.status_code == 412, r.text
    first = await _put(client, world, hazard_url("H-11"), body)
    r = await _put(
        client,
        world,
        hazard_url("H-11"),
        {**body, "title": "一"},
        **{"If-Match": first.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    r = await _put(
        client,
        world,
        hazard_url("H-11"),
        {**body, "title": "二"},
        **{"If-Match": first.headers["etag"]},
    )
    assert r.status_code == 412, r.text
