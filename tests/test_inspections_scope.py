"""Who sees which inspection: lists, counts, details and events for every role of the world.

Government sees through the enterprise (属地 and 行业, as for hazards) and what it is listed on;
an enterprise never learns of an inspection before it starts (404, not 403, and absent from
lists and counts); an expert sees its assignments and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.inspection_helpers import FINDING, TEAM_A, act, add_expert, certify, ok, plan

INSPECTIONS = "/api/v1/inspections"


async def _ids(client, world: World, actor: str, **params: Any) -> tuple[int, set[str], int | None]:  # type: ignore[no-untyped-def]
    r = await client.get(
        INSPECTIONS,
        params={"limit": 500, "include_total": "true", **params},
        headers=world.h(actor),
    )
    if r.status_code != 200:
        return r.status_code, set(), None
    body = r.json()
    return 200, {i["id"] for i in body["items"]}, body["total"]


async def _sees(client, world: World, actor: str, insp_id: str) -> bool:  # type: ignore[no-untyped-def]
    """Detail and events agree (200 both, or 404 both); the list agrees with them."""
    d = await client.get(f"{INSPECTIONS}/{insp_id}", headers=world.h(actor))
    e = await client.get(f"{INSPECTIONS}/{insp_id}/events", headers=world.h(actor))
    assert d.status_code in (200, 404), (actor, d.text)
    assert e.status_code == d.status_code, (actor, d.status_code, e.text)
    if d.status_code == 404:
        assert d.json()["code"] == "not_found"
    _, listed, _ = await _ids(client, world, actor)
    assert (insp_id in listed) == (d.status_code == 200), actor
    return d.status_code == 200


# ---- government scope: through the enterprise ----------------------------------------------------


@pytest.fixture
async def four(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One planned inspection per enterprise, each by a unit that sees it."""
    await add_expert(client, world)
    a1 = await plan(client, world, experts=[world["expert"]])
    a2 = await plan(client, world, enterprise="ent_a2")
    b1 = await plan(client, world, "town_b_officer", "ent_b1", team=("town_b_officer",))
    b2 = await plan(client, world, "bureau_c_officer", "ent_b2", team=("bureau_c_officer",))
    return {"a1": a1["id"], "a2": a2["id"], "b1": b1["id"], "b2": b2["id"]}


GOV_SCOPE = {
    "admin": {"a1", "a2", "b1", "b2"},
    "county_officer": {"a1", "a2", "b1", "b2"},
    "county_viewer": {"a1", "a2", "b1", "b2"},
    "town_a_manager": {"a1", "a2"},
    "town_a_officer": {"a1", "a2"},
    "town_a_inspector": {"a1", "a2"},
    "town_a_viewer": {"a1", "a2"},
    "town_b_officer": {"b1", "b2"},
    "bureau_e_manager": {"a1", "b1"},  # industry_trade and hazardous_chemicals
    "bureau_e_officer": {"a1", "b1"},
    "bureau_c_officer": {"a2", "b2"},  # construction, and ent_b2 by designation
    # Not yet started: the enterprises know nothing of them.
    "ent_a1_manager": set(),
    "ent_a1_staff": set(),
    "ent_b1_manager": set(),
    "expert": {"a1"},
}


@pytest.mark.parametrize("actor", sorted(GOV_SCOPE))
async def test_inspection_list_count_and_detail_hold_exactly_the_callers_scope(  # type: ignore[no-untyped-def]
    client, world, four, actor
) -> None:
    status, listed, total = await _ids(client, world, actor)
    assert status == 200
    expected = {four[k] for k in GOV_SCOPE[actor]}
    assert listed == expected
    assert total == len(expected)
    for key, insp_id in four.items():
        assert await _sees(client, world, actor, insp_id) == (key in GOV_SCOPE[actor]), key


async def test_machine_client_without_inspection_permission_is_403(client, world, four) -> None:  # type: ignore[no-untyped-def]
    for path in (INSPECTIONS, f"{INSPECTIONS}/{four['a1']}", f"{INSPECTIONS}/{four['a1']}/events"):
        r = await client.get(path, headers=world.h("machine"))
        assert r.status_code == 403, path


async def test_filters_cannot_widen_the_scope(client, world, four) -> None:  # type: ignore[no-untyped-def]
    for params in (
        {"enterprise_id": world["ent_b1"]},
        {"region_code": "341302100"},
        {"sector": "hazardous_chemicals"},
        {"conducting_unit_id": world["town_b"]},
    ):
        _, listed, total = await _ids(client, world, "town_a_officer", **params)
        assert listed == set() and total == 0, params


# ---- enterprises: nothing before the start ------------------------------------------------------


@pytest.mark.parametrize("kind", ["routine", "unannounced", "double_random", "special_campaign"])
async def test_enterprise_cannot_see_count_or_fetch_an_inspection_before_it_starts(  # type: ignore[no-untyped-def]
    client, world, kind
) -> None:
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world, kind=kind)
    for actor in ("ent_a1_manager", "ent_a1_staff"):
        status, listed, total = await _ids(client, world, actor)
        assert (status, listed, total) == (200, set(), 0)
        _, listed, total = await _ids(client, world, actor, status="planned")
        assert (listed, total) == (set(), 0)
        assert not await _sees(client, world, actor, insp["id"])
        # A transition on it is a 404 too, not a 403 or 409 that would betray it.
        r = await act(client, world, actor, insp["id"], "start")
        assert r.status_code == 404
        r = await client.patch(
            f"{INSPECTIONS}/{insp['id']}", json={"campaign": "x"}, headers=world.h(actor)
        )
        assert r.status_code == 404
    # The enterprise's own hazards list and statistics do not betray it either.
    await ok(client, world, "town_a_officer", insp["id"], "start")
    for actor in ("ent_a1_manager", "ent_a1_staff"):
        assert await _sees(client, world, actor, insp["id"])
        _, listed, total = await _ids(client, world, actor)
        assert listed == {insp["id"]} and total == 1
    assert not await _sees(client, world, "ent_b1_manager", insp["id"])


async def test_enterprise_never_sees_an_inspection_cancelled_before_it_started(  # type: ignore[no-untyped-def]
    client, world
) -> None:
    insp = await plan(client, world, kind="unannounced")
    await ok(client, world, "town_a_officer", insp["id"], "cancel", reason="改期")
    assert not await _sees(client, world, "ent_a1_manager", insp["id"])


async def test_enterprise_sees_its_own_self_inspection_from_the_plan_on(client, world) -> None:  # type: ignore[no-untyped-def]
    insp = await plan(client, world, "ent_a1_manager", team=(), kind="self_inspection")
    assert insp["status"] == "planned"
    for actor in ("ent_a1_manager", "ent_a1_staff", "town_a_officer", "bureau_e_officer"):
        assert await _sees(client, world, actor, insp["id"]), actor
    for actor in ("ent_b1_manager", "town_b_officer", "bureau_c_officer"):
        assert not await _sees(client, world, actor, insp["id"]), actor


async def test_enterprise_cannot_plan_a_self_inspection_of_another_enterprise(
    client, world
) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        INSPECTIONS,
        json={
            "kind": "self_inspection",
            "enterprise_id": world["ent_b1"],
            "planned_for": "2026-12-10",
        },
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_enterprise"


# ---- experts: their assignments and nothing else -------------------------------------------------


async def test_expert_sees_only_the_inspections_listing_it(client, world, four) -> None:  # type: ignore[no-untyped-def]
    other = await add_expert(client, world, "expert2")
    status, listed, total = await _ids(client, world, "expert2")
    assert (status, listed, total) == (200, set(), 0)
    for insp_id in four.values():
        assert not await _sees(client, world, "expert2", insp_id)
    # Listed later, it sees it; taken off, it no longer does.
    r = await client.patch(
        f"{INSPECTIONS}/{four['b1']}", json={"experts": [other]}, headers=world.h("town_b_officer")
    )
    assert r.status_code == 200, r.text
    assert await _sees(client, world, "expert2", four["b1"])
    r = await client.patch(
        f"{INSPECTIONS}/{four['b1']}", json={"experts": []}, headers=world.h("town_b_officer")
    )
    assert r.status_code == 200, r.text
    assert not await _sees(client, world, "expert2", four["b1"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/enterprises",
        "/api/v1/hazards",
        "/api/v1/users",
        "/api/v1/org-units",
        "/api/v1/statistics/hazards",
        "/api/v1/statistics/enterprises",
        "/api/v1/accountability",
        "/api/v1/changes",
        "/api/v1/draws",
        "/api/v1/notifications",
        "/api/v1/reminders",
    ],
)
async def test_expert_sees_nothing_but_its_inspections(client, world, four, path) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(path, headers=world.h("expert"))
    if r.status_code == 200 and path == "/api/v1/changes":  # its inspections, nothing else
        mine = await client.get("/api/v1/inspections", headers=world.h("expert"))
        assigned = {i["id"] for i in mine.json()["items"]}
        assert {(i["type"], i["id"]) for i in r.json()["items"]} <= {
            ("inspection", i) for i in assigned
        }
    elif r.status_code == 200:
        body = r.json()
        assert body.get("items", []) == [], body
    else:
        assert r.status_code in (403, 404), r.text


async def test_expert_cannot_read_the_enterprise_or_its_hazards_directly(
    client, world, four
) -> None:  # type: ignore[no-untyped-def]
    for path in (
        f"/api/v1/enterprises/{world['ent_a1']}",
        f"/api/v1/org-units/{world['town_a']}",
        f"/api/v1/users/{world['town_a_officer']}",
    ):
        r = await client.get(path, headers=world.h("expert"))
        assert r.status_code in (403, 404), (path, r.status_code)


async def test_expert_cannot_plan_or_edit_an_inspection(client, world, four) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        INSPECTIONS,
        json={
            "kind": "expert_guidance",
            "enterprise_id": world["ent_a1"],
            "planned_for": "2026-12-10",
            "inspectors": [world["town_a_officer"]],
        },
        headers=world.h("expert"),
    )
    assert r.status_code == 403
    r = await client.patch(
        f"{INSPECTIONS}/{four['a1']}", json={"campaign": "x"}, headers=world.h("expert")
    )
    assert r.status_code == 403


async def test_findings_of_an_expert_are_hazards_government_sees_and_the_expert_does_not(  # type: ignore[no-untyped-def]
    client, world, four
) -> None:
    await certify(client, world, *TEAM_A)
    await ok(client, world, "town_a_officer", four["a1"], "start")
    out = await ok(client, world, "expert", four["a1"], "add_finding", **FINDING)
    [finding] = out["findings"]
    hazard_id = finding["id"]
    # Government sees the hazard through the enterprise; so does the enterprise.
    for actor in ("town_a_officer", "bureau_e_officer", "county_officer", "ent_a1_manager"):
        r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h(actor))
        assert r.status_code == 200, (actor, r.text)
        assert r.json()["source"] == "inspection"
    # The expert sees it only through the inspection.
    r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("expert"))
    assert r.status_code in (403, 404)
    r = await client.get("/api/v1/hazards", headers=world.h("expert"))
    assert r.status_code == 403 or r.json()["items"] == []
    r = await client.get(f"{INSPECTIONS}/{four['a1']}", headers=world.h("expert"))
    assert [f["id"] for f in r.json()["findings"]] == [hazard_id]
    for actor in ("town_b_officer", "bureau_c_officer", "ent_b1_manager"):
        r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h(actor))
        assert r.status_code == 404, actor


async def test_a_finding_links_the_hazard_back_to_its_inspection(client, world, four) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    await ok(client, world, "town_a_officer", four["a1"], "start")
    out = await ok(client, world, "town_a_officer", four["a1"], "add_finding", **FINDING)
    hazard_id = out["findings"][0]["id"]
    r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("town_a_officer"))
    assert r.status_code == 200
    assert r.json().get("inspection_id") == four["a1"], sorted(r.json())


# ---- listed on it: a cross-regional visit -------------------------------------------------------


async def test_listed_inspector_of_another_town_sees_the_cross_regional_inspection(  # type: ignore[no-untyped-def]
    client, world
) -> None:
    insp = await plan(
        client,
        world,
        kind="cross_regional",
        team=("town_a_officer", "town_b_officer"),
    )
    assert await _sees(client, world, "town_b_officer", insp["id"])
    # Not listed: town B's inspections of town A stay invisible (bureau C is never listed).
    assert not await _sees(client, world, "bureau_c_officer", insp["id"])
    # Listed, it acts on it like any inspector (certified: both may start).
    await certify(client, world, "town_a_officer", "town_b_officer", "town_a_inspector")
    r = await act(client, world, "town_b_officer", insp["id"], "start")
    assert r.status_code == 200, r.text
    # It does not widen town B's view of the enterprise itself.
    r = await client.get(
        f"/api/v1/enterprises/{world['ent_a1']}", headers=world.h("town_b_officer")
    )
    assert r.status_code == 404
    # Taken off the list, it no longer sees it.
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}",
        json={"inspectors": [world["town_a_officer"], world["town_a_inspector"]]},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 200, r.text
    assert not await _sees(client, world, "town_b_officer", insp["id"])
