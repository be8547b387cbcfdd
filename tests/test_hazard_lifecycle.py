"""A hazard from discovery to sign-off (隐患排查治理闭环), through the API alone."""

from __future__ import annotations

from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, MAJOR_PLAN, act, register, upload


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
    assert (
        await act(client, world, "ent_a1_staff", h["id"], "plan", plan=GENERAL_PLAN)
    ).status_code == 200
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
