"""A hazard from discovery to sign-off (隐患排查治理闭环), through the API alone."""

from __future__ import annotations

from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, MAJOR_PLAN, act, png_bytes, register, upload


async def test_county_officer_takes_a_major_hazard_from_discovery_to_sign_off(
    client, world: World
) -> None:
    before = await upload(client, world, "town_a_officer")
    h = await register(client, world, "town_a_officer", level="major", attachment_ids=[before])
    assert h["status"] == "registered"
    assert h["number"].startswith("20") and len(h["number"]) == 11
    assert h["judgment"]["standard"] == "industry_trade"
    assert [a["phase"] for a in h["attachments"]] == ["discovery"]
    assert "plan" in h["allowed_actions"]

    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=MAJOR_PLAN)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectifying"
    assert r.json()["plan"]["funds_yuan"] == 52000.5

    after = await upload(client, world, "ent_a1_staff")
    r = await act(client, world, "ent_a1_staff", h["id"], "complete", attachment_ids=[after])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_acceptance"

    # 审核把关销号: the enterprise may not sign off a major hazard
    r = await act(client, world, "ent_a1_manager", h["id"], "accept")
    assert r.status_code == 403
    r = await act(client, world, "county_officer", h["id"], "accept", note="现场复核合格")
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["allowed_actions"] == []

    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("town_a_viewer"))
    ).json()["items"]
    assert [e["action"] for e in events] == ["register", "plan", "complete", "accept"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "registered"),
        ("registered", "rectifying"),
        ("rectifying", "awaiting_acceptance"),
        ("awaiting_acceptance", "closed"),
    ]
    assert events[2]["attachment_ids"] == [after]
    assert events[3]["actor"]["id"] == world["county_officer"]
    assert events[3]["note"] == "现场复核合格"


async def test_enterprise_fixes_its_own_general_hazard_on_the_spot(client, world: World) -> None:
    h = await register(client, world, "ent_a1_staff")
    assert h["source"] == "self_inspection"
    r = await act(client, world, "ent_a1_staff", h["id"], "fix_on_spot")
    assert r.status_code == 422
    assert r.json()["code"] == "evidence_required"
    photo = await upload(client, world, "ent_a1_staff")
    r = await act(client, world, "ent_a1_staff", h["id"], "fix_on_spot", attachment_ids=[photo])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"


async def test_enterprise_manager_accepts_its_own_general_self_found_hazard(
    client, world: World
) -> None:
    h = await register(client, world, "ent_a1_staff")
    plan = {**GENERAL_PLAN, "deadline": h["deadline"]}
    assert (await act(client, world, "ent_a1_staff", h["id"], "plan", plan=plan)).status_code == 200
    photo = await upload(client, world, "ent_a1_staff")
    assert (
        await act(client, world, "ent_a1_staff", h["id"], "complete", attachment_ids=[photo])
    ).status_code == 200
    assert (await act(client, world, "ent_a1_staff", h["id"], "accept")).status_code == 403
    r = await act(client, world, "ent_a1_manager", h["id"], "accept")
    assert r.status_code == 200
    assert r.json()["status"] == "closed"


async def test_enterprise_cannot_accept_a_hazard_found_by_government(client, world: World) -> None:
    h = await register(client, world, "town_a_officer")
    await act(client, world, "ent_a1_manager", h["id"], "plan", plan=GENERAL_PLAN)
    photo = await upload(client, world, "ent_a1_manager")
    await act(client, world, "ent_a1_manager", h["id"], "complete", attachment_ids=[photo])
    r = await act(client, world, "ent_a1_manager", h["id"], "accept")
    assert r.status_code == 403
    r = await act(client, world, "bureau_e_officer", h["id"], "reject", reason="护栏高度不足")
    assert r.status_code == 200
    assert r.json()["status"] == "rectifying"


async def test_action_in_wrong_state_is_409_and_stale_if_match_is_412(client, world: World) -> None:
    h = await register(client, world)
    r = await act(client, world, "county_officer", h["id"], "accept")
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    got = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("county_officer"))
    etag = got.headers["etag"]
    ok = await client.post(
        f"/api/v1/hazards/{h['id']}/transitions",
        json={"action": "extend", "deadline": "2100-01-01", "reason": "设备到货延迟"},
        headers=world.h("county_officer", **{"If-Match": etag}),
    )
    assert ok.status_code == 200
    stale = await client.post(
        f"/api/v1/hazards/{h['id']}/transitions",
        json={"action": "plan", "plan": GENERAL_PLAN},
        headers=world.h("county_officer", **{"If-Match": etag}),
    )
    assert stale.status_code == 412


async def test_out_of_scope_hazard_is_404_for_reads_and_actions(client, world: World) -> None:
    h = await register(client, world, "town_a_officer")
    assert (
        await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("town_b_officer"))
    ).status_code == 404
    assert (
        await act(client, world, "town_b_officer", h["id"], "void", reason="x")
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("ent_b1_manager"))
    ).status_code == 404
    listed = await client.get("/api/v1/hazards", headers=world.h("town_b_officer"))
    assert listed.json()["items"] == []


async def test_validation_errors_name_the_field_of_the_action_body(client, world: World) -> None:
    h = await register(client, world)
    r = await act(client, world, "county_officer", h["id"], "void")
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["reason"]
    r = await act(client, world, "county_officer", h["id"], "teleport")
    assert r.status_code == 422


async def test_reason_is_the_event_note_and_a_note_beside_it_is_kept(client, world: World) -> None:
    h = await register(client, world)
    r = await act(
        client,
        world,
        "county_officer",
        h["id"],
        "void",
        reason="重复登记",
        note="与 2026-000001 相同",
    )
    assert r.status_code == 200
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert events[-1]["note"] == "重复登记"
    assert events[-1]["details"]["note"] == "与 2026-000001 相同"


async def test_statistics_rows_carry_their_dimensions_as_fields(client, world: World) -> None:
    await register(client, world, "town_a_officer", level="major")
    r = await client.get("/api/v1/statistics/hazards?group_by=town,level", headers=world.h("admin"))
    assert r.status_code == 200
    [row] = r.json()["groups"]
    assert (row["town"], row["level"]) == ("341302001", "major")
    assert row["key"] == {"town": "341302001", "level": "major"}
    assert row["labels"]["town"] == "埇桥街道"
    assert row["found"] == row["major_open"] == 1
    assert r.json()["totals"]["town"] is None


async def test_source_defaults_to_the_callers_side(client, world: World) -> None:
    base = {"title": "灭火器过期", "level": "general", "category": "unsafe_condition"}
    own = await client.post(
        "/api/v1/hazards",
        json={**base, "enterprise_id": world["ent_a1"]},
        headers=world.h("ent_a1_staff"),
    )
    assert own.status_code == 201 and own.json()["source"] == "self_inspection"
    gov = await client.post(
        "/api/v1/hazards",
        json={**base, "enterprise_id": world["ent_a1"]},
        headers=world.h("town_a_officer"),
    )
    assert gov.status_code == 201 and gov.json()["source"] == "inspection"


async def test_plan_items_may_be_sent_beside_the_action(client, world: World) -> None:
    h = await register(client, world)
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", **GENERAL_PLAN)
    assert r.status_code == 200, r.text
    assert r.json()["plan"]["responsible_person"] == GENERAL_PLAN["responsible_person"]


async def test_supervisor_defaults_to_the_official_who_lists_the_hazard(
    client, world: World
) -> None:
    h = await register(client, world, level="major")
    r = await act(client, world, "county_officer", h["id"], "supervise")
    assert r.status_code == 200, r.text
    assert r.json()["supervision"]["supervisor_user_id"] == world["county_officer"]
    assert r.json()["supervision"]["org_unit_id"] == world["county"]


async def test_evidence_uploaded_with_the_hazard_id_counts_for_completion(
    client, world: World
) -> None:
    h = await register(client, world)
    await act(client, world, "ent_a1_manager", h["id"], "plan", plan=GENERAL_PLAN)
    photo = png_bytes()
    r = await client.post(
        "/api/v1/attachments",
        files={"file": ("after.png", photo, "image/png")},
        data={"hazard_id": h["id"]},
        headers=world.h("ent_a1_staff"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["hazard_id"], r.json()["phase"]) == (h["id"], "rectification")
    done = await act(client, world, "ent_a1_staff", h["id"], "complete")
    assert done.status_code == 200, done.text
    assert [a["phase"] for a in done.json()["attachments"]] == ["rectification"]


async def test_evidence_cannot_be_uploaded_to_a_hazard_out_of_scope_or_closed(
    client, world: World
) -> None:
    h = await register(client, world)
    files = {"file": ("a.png", png_bytes(), "image/png")}
    r = await client.post(
        "/api/v1/attachments",
        files=files,
        data={"hazard_id": h["id"]},
        headers=world.h("ent_b1_manager"),
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_hazard"
    await act(client, world, "county_officer", h["id"], "void", reason="登记错误")
    r = await client.post(
        "/api/v1/attachments",
        files=files,
        data={"hazard_id": h["id"]},
        headers=world.h("county_officer"),
    )
    assert r.status_code == 409
