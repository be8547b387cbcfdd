"""Risk points (安全风险分级管控) through HTTP: the enterprise keeps its register, the level always
follows from the assessment, government in scope reads and follows up, every change is an
event, and the enterprise's colour follows its highest point."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World

POINTS = "/api/v1/risk-points"
LEC_RED = {"method": "lec", "inputs": {"L": 6, "E": 6, "C": 15}}  # D = 540 > 320
LEC_YELLOW = {"method": "lec", "inputs": {"L": 3, "E": 6, "C": 7}}  # D = 126
LS_BLUE = {"method": "ls", "inputs": {"L": 2, "S": 3}}  # R = 6


def point(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "粉尘涉爆除尘系统",
        "kind": "equipment",
        "location_text": "二号车间抛光工段",
        "location": {"lat": 33.641, "lng": 116.978, "coordinate_system": "gcj02"},
        "hazard_factors": ["2201"],
        "assessment": LEC_YELLOW,
        "control_level": "workshop",
        "responsible": {"person": "李工", "post": "车间主任"},
        "control_measures": [
            {"kind": "engineering", "text": "除尘器设置泄爆片并定期检查"},
            {"kind": "management", "text": "每班清扫积尘并记录"},
        ],
        "emergency_measures": ["发生爆燃立即停机、疏散并报告"],
        "accident_types": ["other_explosion", "fire"],
    }
    body.update(fields)
    return body


async def _create(client, world: World, actor: str = "ent_a1_manager", **fields: Any):  # type: ignore[no-untyped-def]
    r = await client.post(POINTS, json=point(**fields), headers=world.h(actor))
    assert r.status_code == 201, r.text
    return r.json()


async def test_an_enterprise_registers_a_point_whose_level_follows_the_assessment(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = await _create(client, world)
    assert body["enterprise_id"] == world["ent_a1"]
    assert body["level"] == "yellow" and body["assessment"]["score"] == "126"
    assert body["assessment"]["method"] == "lec" and body["assessment"]["grade"]
    assert body["location"] == {"lat": 33.641, "lng": 116.978, "coordinate_system": "gcj02"}
    assert body["control_measures"][0] == {
        "kind": "engineering",
        "text": "除尘器设置泄爆片并定期检查",
    }
    r = await client.get(f"{POINTS}/{body['id']}", headers=world.h("ent_a1_staff"))
    assert r.status_code == 200 and r.headers["etag"]
    assert r.json()["allowed_actions"] == ["retire"]


@pytest.mark.parametrize(
    ("assessment", "level"),
    [
        (LEC_RED, "red"),
        ({"method": "lec", "inputs": {"L": 3, "E": 6, "C": 15}}, "orange"),  # D = 270
        (LEC_YELLOW, "yellow"),
        ({"method": "lec", "inputs": {"L": 1, "E": 6, "C": 7}}, "blue"),  # D = 42
        ({"method": "ls", "inputs": {"L": 5, "S": 4}}, "red"),  # R = 20
        ({"method": "ls", "inputs": {"L": 3, "S": 5}}, "orange"),  # R = 15
        ({"method": "ls", "inputs": {"L": 3, "S": 3}}, "yellow"),  # R = 9
        (LS_BLUE, "blue"),
        ({"method": "matrix", "inputs": {"likelihood": "A", "severity": 5}}, "red"),
        ({"method": "matrix", "inputs": {"likelihood": "E", "severity": 1}}, "blue"),
    ],
)
async def test_each_method_gives_its_published_level(
    client, world: World, assessment, level
) -> None:  # type: ignore[no-untyped-def]
    assert (await _create(client, world, assessment=assessment))["level"] == level


@pytest.mark.parametrize(
    "fields",
    [
        {"level": "blue"},
        {"assessment": {"method": "lec", "inputs": {"L": 4, "E": 6, "C": 7}}},
        {"assessment": {"method": "lec", "inputs": {"L": 3, "E": 6}}},
        {"assessment": {"method": "ls", "inputs": {"L": 6, "S": 1}}},
        {"assessment": {"method": "ls", "inputs": {"L": True, "S": 1}}},
        {"assessment": {"method": "astrology", "inputs": {}}},
        {"hazard_factors": ["99999"]},
        {"accident_types": ["meteor"]},
        {"control_measures": [{"kind": "prayer", "text": "x"}]},
        {"location": {"lat": 33.6, "lng": 116.9, "coordinate_system": "bd09"}},
        {"kind": "vibe"},
    ],
)
async def test_bad_points_are_422_and_write_nothing(client, world: World, fields) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(POINTS, json=point(**fields), headers=world.h("ent_a1_manager"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("validation_error", "invalid_assessment")
    listed = await client.get(f"{POINTS}?include_total=true", headers=world.h("ent_a1_manager"))
    assert listed.json()["total"] == 0


async def test_a_client_sent_level_names_the_rule(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    r = await client.patch(
        f"{POINTS}/{created['id']}", json={"level": "blue"}, headers=world.h("ent_a1_manager")
    )
    assert r.status_code == 422
    assert "assessment" in r.json()["detail"] or "assessment" in str(r.json().get("errors"))


async def test_reassessment_is_a_patch_recorded_with_its_levels(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    url = f"{POINTS}/{created['id']}"
    stale = world.h("ent_a1_manager", **{"If-Match": '"999"'})
    assert (await client.patch(url, json={"assessment": LEC_RED}, headers=stale)).status_code == 412
    r = await client.patch(url, json={"assessment": LEC_RED}, headers=world.h("ent_a1_manager"))
    assert r.status_code == 200 and r.json()["level"] == "red"
    r = await client.patch(url, json={"name": "除尘系统（改）"}, headers=world.h("ent_a1_staff"))
    assert r.status_code == 200
    events = (await client.get(f"{url}/events", headers=world.h("county_officer"))).json()["items"]
    assert [e["action"] for e in events] == ["create", "reassess", "update"]
    assert events[1]["details"]["from_level"] == "yellow"
    assert events[1]["details"]["to_level"] == "red"


async def test_the_enterprise_colour_follows_its_highest_point(client, world: World) -> None:  # type: ignore[no-untyped-def]
    ent = f"/api/v1/enterprises/{world['ent_a1']}"
    before = (await client.get(ent, headers=world.h("admin"))).json()["risk_color"]
    assert before == "yellow"
    r = await client.patch(ent, json={"risk_color": "blue"}, headers=world.h("admin"))
    assert r.status_code == 200  # no points yet: as government sets it
    await _create(client, world, assessment=LS_BLUE)
    assert (await client.get(ent, headers=world.h("admin"))).json()["risk_color"] == "blue"
    red = await _create(client, world, assessment=LEC_RED)
    assert (await client.get(ent, headers=world.h("admin"))).json()["risk_color"] == "red"
    r = await client.patch(ent, json={"risk_color": "yellow"}, headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["code"] == "risk_color_derived"
    r = await client.post(
        f"{POINTS}/{red['id']}/transitions",
        json={"action": "retire", "reason": "设备已拆除"},
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200 and r.json()["status"] == "retired"
    assert (await client.get(ent, headers=world.h("admin"))).json()["risk_color"] == "blue"


ROLES = {
    # who sees ent_a1's point (town A, industry_trade under bureau E)
    "admin": True,
    "county_officer": True,
    "county_viewer": True,
    "town_a_manager": True,
    "town_a_officer": True,
    "town_a_viewer": True,
    "town_b_officer": False,
    "bureau_e_manager": True,
    "bureau_c_officer": False,
    "ent_a1_manager": True,
    "ent_a1_staff": True,
    "ent_b1_manager": False,
}


@pytest.mark.parametrize(("actor", "sees"), sorted(ROLES.items()))
async def test_every_role_sees_the_points_of_its_scope_only(
    client, world: World, actor, sees
) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    listed = await client.get(f"{POINTS}?include_total=true", headers=world.h(actor))
    assert listed.status_code == 200
    assert listed.json()["total"] == int(sees)
    detail = await client.get(f"{POINTS}/{created['id']}", headers=world.h(actor))
    assert detail.status_code == (200 if sees else 404)
    events = await client.get(f"{POINTS}/{created['id']}/events", headers=world.h(actor))
    assert events.status_code == (200 if sees else 404)
    # Only the enterprise's own users write its register.
    r = await client.patch(f"{POINTS}/{created['id']}", json={"name": "x"}, headers=world.h(actor))
    # Government holds no risks:write (admins do, and are refused by the rule): 403; another
    # enterprise's user may write its own register but does not see this point: 404.
    expected = 200 if actor.startswith("ent_a1") else (404 if actor == "ent_b1_manager" else 403)
    assert r.status_code == expected, (actor, r.text)


async def test_government_marks_a_point_for_follow_up(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world, assessment=LEC_RED)
    url = f"{POINTS}/{created['id']}/transitions"
    view = await client.get(f"{POINTS}/{created['id']}", headers=world.h("town_a_officer"))
    assert view.json()["allowed_actions"] == ["flag"]
    r = await client.post(url, json={"action": "flag"}, headers=world.h("town_a_officer"))
    assert r.status_code == 422  # a reason
    r = await client.post(
        url,
        json={"action": "flag", "reason": "重大风险管控措施落实情况需复核"},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 200 and r.json()["follow_up"] is True
    again = await client.post(
        url, json={"action": "flag", "reason": "x"}, headers=world.h("bureau_e_manager")
    )
    assert again.status_code == 409
    for actor, status in (("ent_a1_manager", 403), ("town_a_viewer", 403), ("town_b_officer", 404)):
        r = await client.post(url, json={"action": "unflag"}, headers=world.h(actor))
        assert r.status_code == status, actor
    flagged = await client.get(f"{POINTS}?follow_up=true", headers=world.h("county_officer"))
    assert [p["id"] for p in flagged.json()["items"]] == [created["id"]]
    r = await client.post(url, json={"action": "unflag"}, headers=world.h("county_officer"))
    assert r.status_code == 200 and r.json()["follow_up"] is False


async def test_government_does_not_write_an_enterprise_register(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        POINTS, json=point(enterprise_id=world["ent_a1"]), headers=world.h("town_a_officer")
    )
    assert r.status_code == 403
    r = await client.post(
        POINTS, json=point(enterprise_id=world["ent_b1"]), headers=world.h("ent_a1_manager")
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_enterprise"


async def test_lists_filter_by_level_kind_and_place(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await _create(client, world, assessment=LEC_RED, kind="operation", name="有限空间作业")
    await _create(client, world, assessment=LS_BLUE)
    await _create(client, world, "ent_b1_manager", assessment=LEC_RED)
    h = world.h("county_officer")
    red = (await client.get(f"{POINTS}?level=red&include_total=true", headers=h)).json()
    assert red["total"] == 2
    town_a = (await client.get(f"{POINTS}?level=red&region_code=341302001", headers=h)).json()
    assert [p["name"] for p in town_a["items"]] == ["有限空间作业"]
    ops = (await client.get(f"{POINTS}?kind=operation,place", headers=h)).json()
    assert len(ops["items"]) == 1
    bad = await client.get(f"{POINTS}?level=purple", headers=h)
    assert bad.status_code == 422


async def test_experts_and_unsigned_callers_see_no_risk_points(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert

    await _create(client, world)
    await add_expert(client, world)
    assert (await client.get(POINTS, headers=world.h("expert"))).status_code == 403
    assert (await client.get(POINTS)).status_code == 401


async def test_a_hazard_names_the_risk_point_whose_measure_failed(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.hazard_helpers import register

    own = await _create(client, world, assessment=LEC_RED)
    other = await _create(client, world, "ent_b1_manager")
    hazard = await register(client, world, risk_point_id=own["id"])
    assert hazard["risk_point_id"] == own["id"]
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "泄爆片缺失",
            "level": "general",
            "category": "unsafe_condition",
            "risk_point_id": other["id"],
        },
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_risk_point"


async def test_risk_figures_equal_the_list_and_name_where_red_meets_major(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    from tests.hazard_helpers import register

    await _create(client, world, assessment=LEC_RED, kind="operation", name="有限空间作业")
    await _create(client, world, assessment=LS_BLUE)
    await _create(client, world, "ent_b1_manager", assessment=LEC_RED)
    await register(client, world, level="major", title="除尘系统未设泄爆装置")
    for actor in (
        "admin",
        "county_officer",
        "town_a_officer",
        "bureau_e_manager",
        "town_b_officer",
    ):
        h = world.h(actor)
        stats = (await client.get("/api/v1/statistics/risks", headers=h)).json()
        listed = (await client.get(f"{POINTS}?include_total=true", headers=h)).json()
        assert stats["totals"]["points"] == listed["total"], actor
        red = (await client.get(f"{POINTS}?include_total=true&level=red", headers=h)).json()
        assert stats["totals"]["red"] == red["total"], actor
        assert sum(g["points"] for g in stats["by_town"]) == listed["total"]
        coinciding = [e["enterprise"]["id"] for e in stats["red_with_major_open_hazards"]]
        sees_a1 = actor != "town_b_officer"
        assert coinciding == ([world["ent_a1"]] if sees_a1 else []), actor
    county = (
        await client.get("/api/v1/statistics/risks", headers=world.h("county_officer"))
    ).json()
    assert {g["key"]: g["red"] for g in county["by_kind"]} == {"equipment": 1, "operation": 1}
    assert (
        await client.get("/api/v1/statistics/risks", headers=world.h("ent_a1_manager"))
    ).status_code == 403


async def test_the_risk_point_map_shows_red_points_beside_open_major_hazards(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    from tests.hazard_helpers import register

    red = await _create(client, world, assessment=LEC_RED)
    await _create(client, world, assessment=LS_BLUE, location=None)  # no location: not mapped
    await register(
        client, world, level="major", title="除尘系统未设泄爆装置", risk_point_id=red["id"]
    )
    r = await client.get("/api/v1/maps/risk-points", headers=world.h("county_officer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    (feature,) = r.json()["features"]
    props = feature["properties"]
    assert props["level"] == "red" and props["open_hazards"] == props["major_open_hazards"] == 1
    assert props["enterprise_major_open_hazards"] == 1
    # Given in GCJ-02 (the point's location), served in WGS-84 by default.
    lng = feature["geometry"]["coordinates"][0]
    assert abs(lng - 116.978) > 1e-4 and r.json()["coordinate_system"] == "wgs84"
    as_given = (
        await client.get("/api/v1/maps/risk-points?coords=gcj02", headers=world.h("county_officer"))
    ).json()["features"][0]["geometry"]["coordinates"]
    assert abs(as_given[0] - 116.978) < 1e-5 and abs(as_given[1] - 33.641) < 1e-5
    empty = await client.get("/api/v1/maps/risk-points", headers=world.h("town_b_officer"))
    assert empty.json()["features"] == []
    blues = await client.get("/api/v1/maps/risk-points?level=blue", headers=world.h("admin"))
    assert blues.json()["features"] == []


async def test_hazard_figures_group_by_the_level_of_their_risk_point(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """``group_by=risk_level``: the level each hazard's risk point has now, ``none`` for hazards
    naming none; each group equals the list filtered by ``risk_level``."""
    from tests.hazard_helpers import register

    red = await _create(client, world, assessment=LEC_RED)
    yellow = await _create(client, world, name="有限空间作业", kind="operation")
    await register(client, world, risk_point_id=red["id"])
    await register(client, world, risk_point_id=red["id"])
    await register(client, world, risk_point_id=yellow["id"])
    await register(client, world)
    for actor in ("county_officer", "town_a_officer", "ent_a1_manager", "town_b_officer"):
        h = world.h(actor)
        r = await client.get("/api/v1/statistics/hazards?group_by=risk_level", headers=h)
        if actor == "ent_a1_manager":  # enterprise users hold no statistics:read
            assert r.status_code == 403
            continue
        assert r.status_code == 200, r.text
        groups = {g["risk_level"]: g for g in r.json()["groups"]}
        for level, group in groups.items():
            listed = await client.get(
                f"/api/v1/hazards?risk_level={level}&include_total=true", headers=h
            )
            assert listed.json()["total"] == group["found"], (actor, level)
        if actor == "town_b_officer":
            assert "red" not in groups
            continue
        assert groups["red"]["found"] == 2 and groups["yellow"]["found"] == 1
        assert groups["red"]["labels"]["risk_level"] == "重大风险"
        assert groups["none"]["labels"]["risk_level"] == "未关联风险点"
    by_point = await client.get(
        f"/api/v1/hazards?risk_point_id={red['id']}&include_total=true",
        headers=world.h("ent_a1_manager"),
    )
    assert by_point.json()["total"] == 2
    # A re-assessment moves the point's hazards to its new level.
    current = await client.get(f"{POINTS}/{red['id']}", headers=world.h("ent_a1_manager"))
    r = await client.patch(
        f"{POINTS}/{red['id']}",
        json={"assessment": LS_BLUE},
        headers={**world.h("ent_a1_manager"), "If-Match": current.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    r = await client.get(
        "/api/v1/statistics/hazards?group_by=risk_level,town", headers=world.h("county_officer")
    )
    levels = {g["key"]["risk_level"]: g["found"] for g in r.json()["groups"]}
    assert levels.get("blue") == 2 and "red" not in levels
