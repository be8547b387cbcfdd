"""Inspections through their lifecycle: plan, start, results, findings that are hazards,
outcome with exact fines, signatures, amendments, cancellation, follow-ups, self-inspections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import BlacklistEntry, Checklist, InspectionDecision
from tests.conftest import World
from tests.hazard_helpers import register
from tests.inspection_helpers import (
    FINDING,
    TEAM_A,
    act,
    add_expert,
    certify,
    ok,
    plan,
    signed_with_fine,
)


async def _checklist(app, major: bool = True) -> str:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        c = Checklist(
            code="dust",
            version_no=1,
            name="粉尘防爆检查表",
            sector="industry_trade",
            items=[
                {
                    "code": "D1",
                    "text": "除尘系统未设置泄爆装置",
                    "basis": "应急管理部令第10号 第十一条",
                    "major_if_failed": major,
                    "judgment_standard": "industry_trade",
                    "judgment_clause": "11.3",
                },
                {
                    "code": "D2",
                    "text": "粉尘清扫制度落实",
                    "basis": "AQ 4273",
                    "major_if_failed": False,
                },
            ],
        )
        s.add(c)
        await s.commit()
        return c.id


async def test_a_plan_is_numbered_per_county_and_year_and_waits_for_its_inspectors(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    first = await plan(client, world)
    second = await plan(client, world, enterprise="ent_a2")
    assert first["number"].startswith("J2026-") and first["number"].endswith("000001")
    assert second["number"].endswith("000002")
    assert first["status"] == "planned"
    assert first["conducting_unit"]["id"] == world["town_a"]
    assert [i["id"] for i in first["inspectors"]] == [world[a] for a in TEAM_A]
    # Uncertified inspectors: start is not possible yet, cancel is.
    assert first["allowed_actions"] == ["cancel"]
    r = await client.get(f"/api/v1/inspections/{first['id']}", headers=world.h("town_a_officer"))
    assert r.status_code == 200 and r.headers["etag"]


async def test_enforcement_needs_two_certified_inspectors_to_start(client, world: World) -> None:  # type: ignore[no-untyped-def]
    insp = await plan(client, world)
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert "0" in r.json()["detail"] or "两名" in r.json()["detail"]
    await certify(client, world, "town_a_officer")
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409
    await certify(client, world, "town_a_inspector")
    started = await ok(client, world, "town_a_officer", insp["id"], "start")
    assert started["status"] == "in_progress" and started["started_at"]


async def test_expert_guidance_starts_without_certificates_and_decides_no_penalty(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    expert = await add_expert(client, world)
    insp = await plan(
        client, world, kind="expert_guidance", team=("town_a_officer",), experts=[expert]
    )
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "expert", insp["id"], "add_finding", **FINDING)
    r = await act(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={"decisions": [{"kind": "fine", "entity_fine_yuan": "100"}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "penalty_not_allowed"
    done = await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={"decisions": [{"kind": "rectification_order", "deadline": "2027-01-31"}]},
    )
    assert done["status"] == "completed"


async def test_an_expert_records_and_finds_but_never_signs_or_starts(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    expert = await add_expert(client, world)
    insp = await plan(client, world, experts=[expert])
    assert (await act(client, world, "expert", insp["id"], "start")).status_code == 403
    await ok(client, world, "town_a_officer", insp["id"], "start")
    r = await client.get(f"/api/v1/inspections/{insp['id']}", headers=world.h("expert"))
    assert r.json()["allowed_actions"] == ["record_results", "add_finding"]
    await ok(
        client,
        world,
        "expert",
        insp["id"],
        "record_results",
        results=[{"item_code": "A1", "result": "finding", "note": "泄爆片缺失"}],
    )
    found = await ok(client, world, "expert", insp["id"], "add_finding", **FINDING)
    assert found["results"][0]["recorded_by"]["id"] == expert
    hazard_id = found["findings"][0]["id"]
    # The hazard belongs to the enterprise's scope: government sees it, the expert does not.
    assert (
        await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("town_a_officer"))
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("expert"))
    ).status_code in (403, 404)
    await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={"decisions": [{"kind": "rectification_order", "deadline": "2027-01-31"}]},
    )
    assert (await act(client, world, "expert", insp["id"], "sign")).status_code == 403


async def test_findings_are_hazards_linked_both_ways_that_follow_the_hazard_lifecycle(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    out = await ok(client, world, "town_a_inspector", insp["id"], "add_finding", **FINDING)
    finding = out["findings"][0]
    assert out["findings_count"] == 1 and finding["exempt"] is False
    hazard = (
        await client.get(f"/api/v1/hazards/{finding['id']}", headers=world.h("ent_a1_manager"))
    ).json()
    assert hazard["inspection_id"] == insp["id"]
    assert hazard["source"] == "inspection" and hazard["number"] == finding["number"]
    assert hazard["found_by"]["id"] == world["town_a_inspector"]
    r = await client.post(
        f"/api/v1/hazards/{finding['id']}/transitions",
        json={
            "action": "plan",
            "responsible_person": "李工",
            "measures": "加装泄爆片",
            "deadline": "2027-01-15",
        },
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200, r.text
    again = (
        await client.get(f"/api/v1/inspections/{insp['id']}", headers=world.h("town_a_officer"))
    ).json()
    assert again["findings"][0]["status"] == "rectifying"


async def test_a_failed_major_item_proposes_a_major_hazard_with_its_clause(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    checklist = await _checklist(app)
    insp = await plan(client, world, checklist_id=checklist)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    out = await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "add_finding",
        item_code="D1",
        title="除尘系统未设置泄爆装置",
        category="unsafe_condition",
    )
    assert out["major_findings_count"] == 1 and out["findings"][0]["item_code"] == "D1"
    hazard = (
        await client.get(
            f"/api/v1/hazards/{out['findings'][0]['id']}", headers=world.h("town_a_officer")
        )
    ).json()
    assert hazard["level"] == "major"
    assert hazard["judgment"]["standard"] == "industry_trade"
    assert hazard["judgment"]["clause"] == "11.3"
    r = await act(
        client, world, "town_a_officer", insp["id"], "add_finding", item_code="X9", **FINDING
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_checklist_item"


async def test_complete_needs_a_result_for_every_checklist_item(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    checklist = await _checklist(app)
    insp = await plan(client, world, checklist_id=checklist)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "record_results",
        results=[{"item_code": "D1", "result": "ok"}],
    )
    r = await act(client, world, "town_a_officer", insp["id"], "complete")
    assert r.status_code == 409 and r.json()["code"] == "results_incomplete"
    assert "D2" in r.json()["detail"]
    r = await act(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "record_results",
        results=[{"item_code": "Z1", "result": "ok"}],
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_checklist_item"
    await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "record_results",
        results=[
            {"item_code": "D2", "result": "not_applicable"},
            {"item_code": "D1", "result": "ok", "note": "复核"},
        ],
    )
    done = await ok(client, world, "town_a_officer", insp["id"], "complete")
    assert [r["item_code"] for r in done["results"]] == ["D1", "D2"]
    assert done["results"][0]["note"] == "复核"
    assert done["decisions"] == ["no_issue"]


async def test_the_outcome_keeps_fines_exact_and_the_signed_record_never_changes(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    out = await signed_with_fine(client, world)
    assert out["status"] == "signed" and out["signed_at"]
    assert out["entity_fines_yuan"] == "30000.00" and out["person_fines_yuan"] == "5000.50"
    assert [s["user"]["id"] for s in out["signatures"]] == [world[a] for a in TEAM_A]
    assert all(s["enforcement_cert_no"] for s in out["signatures"])
    assert out["allowed_actions"] == ["amend"]
    async with app.state.sessionmaker() as s:
        rows = (
            (
                await s.execute(
                    select(InspectionDecision).where(InspectionDecision.inspection_id == out["id"])
                )
            )
            .scalars()
            .all()
        )
    assert sorted(d.kind for d in rows) == ["fine", "rectification_order"]
    assert sum(d.entity_fine_fen or 0 for d in rows) == 3_000_000
    # A signed record: no PATCH, no direct change of results.
    r = await client.patch(
        f"/api/v1/inspections/{out['id']}",
        json={"campaign": "x"},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 409 and r.json()["code"] == "inspection_locked"
    r = await act(
        client,
        world,
        "town_a_officer",
        out["id"],
        "record_results",
        results=[{"item_code": "A1", "result": "ok"}],
    )
    assert r.status_code == 409
    original = out["signed_record"]
    amended = await ok(
        client,
        world,
        "town_a_manager",
        out["id"],
        "amend",
        reason="罚款金额笔误",
        outcome={
            "decisions": [
                {"kind": "rectification_order", "deadline": "2027-01-31"},
                {
                    "kind": "fine",
                    "entity_fine_yuan": "20000",
                    "person_fine_yuan": "5000.50",
                    "person_name": "王厂长",
                },
            ]
        },
    )
    assert amended["status"] == "signed"
    assert amended["entity_fines_yuan"] == "20000.00"
    assert amended["signed_record"] == original
    (amendment,) = amended["amendments"]
    assert amendment["reason"] == "罚款金额笔误"
    assert amendment["author"]["id"] == world["town_a_manager"]
    assert set(amendment["changes"]) == {"outcome"}
    events = (
        await client.get(
            f"/api/v1/inspections/{out['id']}/events", headers=world.h("county_officer")
        )
    ).json()["items"]
    assert [e["action"] for e in events] == [
        "plan",
        "start",
        "add_finding",
        "complete",
        "sign",
        "sign",
        "amend",
    ]
    assert events[-2]["to_status"] == "signed"


async def test_each_inspector_signs_once(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "complete")
    half = await ok(client, world, "town_a_officer", insp["id"], "sign")
    assert half["status"] == "completed" and len(half["signatures"]) == 1
    r = await act(client, world, "town_a_officer", insp["id"], "sign")
    assert r.status_code == 409
    r = await act(client, world, "town_a_manager", insp["id"], "sign")
    assert r.status_code == 403  # not listed: signs nothing (谁检查、谁签名)


async def test_decisions_are_checked_against_the_record(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "add_finding", **FINDING)
    cases: list[tuple[dict[str, Any] | None, str]] = [
        (None, "outcome_required"),
        ({"decisions": [{"kind": "no_issue"}]}, "invalid_outcome"),
        ({"decisions": [{"kind": "fine"}]}, "validation_error"),
        ({"decisions": [{"kind": "fine", "person_fine_yuan": "10"}]}, "validation_error"),
        ({"decisions": [{"kind": "rectification_order"}]}, "validation_error"),
        (
            {
                "decisions": [
                    {"kind": "suspension", "from_date": "2027-01-10", "to_date": "2027-01-01"}
                ]
            },
            "validation_error",
        ),
        ({"decisions": [{"kind": "closure"}, {"kind": "closure"}]}, "invalid_outcome"),
        ({"decisions": [{"kind": "closure", "entity_fine_yuan": "5"}]}, "invalid_outcome"),
        ({"decisions": [{"kind": "fine", "entity_fine_yuan": "1.234"}]}, "validation_error"),
        ({"decisions": [{"kind": "fine", "entity_fine_yuan": "-1"}]}, "validation_error"),
        (
            {"decisions": [{"kind": "fine", "entity_fine_yuan": "9", "hazard_ids": ["nope"]}]},
            "invalid_outcome",
        ),
    ]
    for outcome, code in cases:
        body = {} if outcome is None else {"outcome": outcome}
        r = await act(client, world, "town_a_officer", insp["id"], "complete", **body)
        assert r.status_code == 422, (outcome, r.text)
        assert r.json()["code"] == code, (outcome, r.json())
    still = (
        await client.get(f"/api/v1/inspections/{insp['id']}", headers=world.h("town_a_officer"))
    ).json()
    assert still["status"] == "in_progress" and still["outcome"] is None


async def test_a_known_hazard_on_schedule_is_linked_and_exempt_from_a_fine(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    own = await register(client, world, actor="ent_a1_manager", title="配电箱门未关闭")
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    r = await act(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "add_finding",
        existing_hazard_id=own["id"],
        title="x",
    )
    assert r.status_code == 422  # a link carries no hazard fields
    out = await ok(
        client, world, "town_a_officer", insp["id"], "add_finding", existing_hazard_id=own["id"]
    )
    assert out["exempt_findings_count"] == 1 and out["findings"][0]["exempt"] is True
    assert out["findings"][0]["number"] == own["number"]
    hazard = (
        await client.get(f"/api/v1/hazards/{own['id']}", headers=world.h("town_a_officer"))
    ).json()
    assert hazard["inspection_id"] == insp["id"]
    r = await act(
        client, world, "town_a_officer", insp["id"], "add_finding", existing_hazard_id=own["id"]
    )
    assert r.status_code == 409 and r.json()["code"] == "hazard_already_linked"
    fine = {"decisions": [{"kind": "fine", "entity_fine_yuan": "5000"}]}
    r = await act(client, world, "town_a_officer", insp["id"], "complete", outcome=fine)
    assert r.status_code == 422 and r.json()["code"] == "exempt_findings_only"
    # A government-found hazard is not exempt.
    gov = await register(client, world, title="消防通道堵塞")
    r = await act(
        client, world, "town_a_officer", insp["id"], "add_finding", existing_hazard_id=gov["id"]
    )
    assert r.status_code == 422 and r.json()["code"] == "hazard_not_exempt"
    # With a new finding beside it, the fine cites that one.
    out = await ok(client, world, "town_a_officer", insp["id"], "add_finding", **FINDING)
    new_id = next(f["id"] for f in out["findings"] if not f["exempt"])
    r = await act(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={
            "decisions": [{"kind": "fine", "entity_fine_yuan": "5000", "hazard_ids": [own["id"]]}]
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "exempt_findings_only"
    done = await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={
            "decisions": [{"kind": "fine", "entity_fine_yuan": "5000", "hazard_ids": [new_id]}]
        },
    )
    assert done["findings_count"] == 2 and done["exempt_findings_count"] == 1


async def test_a_blacklist_decision_lists_the_enterprise_when_signed(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "add_finding", **FINDING)
    await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "complete",
        outcome={
            "decisions": [
                {"kind": "suspension", "from_date": "2026-12-05", "to_date": "2027-01-05"},
                {"kind": "blacklist", "note": "拒不整改重大隐患"},
            ]
        },
    )

    async def entries() -> list[BlacklistEntry]:
        async with app.state.sessionmaker() as s:
            return list((await s.execute(select(BlacklistEntry))).scalars())

    assert await entries() == []
    await ok(client, world, "town_a_officer", insp["id"], "sign")
    await ok(client, world, "town_a_inspector", insp["id"], "sign")
    (entry,) = await entries()
    assert entry.enterprise_id == world["ent_a1"]
    assert entry.decided_by_inspection_id == insp["id"] and entry.reason == "拒不整改重大隐患"


async def test_cancel_needs_a_reason_and_ends_the_plan(client, world: World) -> None:  # type: ignore[no-untyped-def]
    insp = await plan(client, world)
    r = await act(client, world, "town_a_officer", insp["id"], "cancel")
    assert r.status_code == 422
    r = await act(client, world, "town_b_officer", insp["id"], "cancel", reason="x")
    assert r.status_code == 404  # town B does not see town A's
    out = await ok(client, world, "town_a_manager", insp["id"], "cancel", reason="企业已停产")
    assert out["status"] == "cancelled" and out["cancel_reason"] == "企业已停产"
    assert out["allowed_actions"] == []


async def test_a_plan_changes_until_it_starts(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    url = f"/api/v1/inspections/{insp['id']}"
    r = await client.patch(
        url,
        json={"planned_for": "2026-12-20", "campaign": "岁末年初"},
        headers=world.h("town_a_officer", **{"If-Match": '"999"'}),
    )
    assert r.status_code == 412
    r = await client.patch(
        url,
        json={"planned_for": "2026-12-20", "campaign": "岁末年初"},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 200 and r.json()["planned_for"] == "2026-12-20"
    r = await client.patch(
        url, json={"inspectors": [world["ent_a1_manager"]]}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_inspector"
    r = await client.patch(url, json={"inspectors": []}, headers=world.h("town_a_officer"))
    assert r.status_code == 422 and r.json()["code"] == "inspectors_required"
    await ok(client, world, "town_a_officer", insp["id"], "start")
    r = await client.patch(
        url, json={"planned_for": "2026-12-21"}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 409 and r.json()["code"] == "inspection_locked"
    r = await client.patch(url, json={"campaign": "安全生产月"}, headers=world.h("town_a_viewer"))
    assert r.status_code == 403


async def test_a_follow_up_reports_on_the_earlier_findings(client, world: World) -> None:  # type: ignore[no-untyped-def]
    first = await signed_with_fine(client, world)
    hazard_id = first["findings"][0]["id"]
    r = await client.post(
        "/api/v1/inspections",
        headers=world.h("town_a_officer"),
        json={
            "kind": "follow_up",
            "enterprise_id": world["ent_a1"],
            "planned_for": "2027-02-01",
            "inspectors": [world[a] for a in TEAM_A],
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_follow_up"
    follow = await plan(client, world, kind="follow_up", follows_inspection_id=first["id"])
    await ok(client, world, "town_a_officer", follow["id"], "start")
    r = await act(
        client,
        world,
        "town_a_officer",
        follow["id"],
        "record_results",
        rectification_checks=[{"hazard_id": "other", "rectified": True}],
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_follow_up"
    out = await ok(
        client,
        world,
        "town_a_officer",
        follow["id"],
        "record_results",
        rectification_checks=[
            {"hazard_id": hazard_id, "rectified": False, "note": "泄爆片仍未安装"}
        ],
    )
    (check,) = out["rectification_checks"]
    assert check["rectified"] is False and check["hazard_number"] == first["findings"][0]["number"]
    assert out["follows_inspection_id"] == first["id"]


async def test_an_enterprise_records_its_own_self_inspection(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/inspections",
        headers=world.h("ent_a1_manager"),
        json={"kind": "routine", "enterprise_id": world["ent_a1"], "planned_for": "2026-12-03"},
    )
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/inspections",
        headers=world.h("town_a_officer"),
        json={
            "kind": "self_inspection",
            "enterprise_id": world["ent_a1"],
            "planned_for": "2026-12-03",
            "inspectors": [world["town_a_officer"]],
        },
    )
    assert r.status_code == 422
    insp = await plan(client, world, actor="ent_a1_manager", kind="self_inspection", team=())
    assert insp["conducting_unit"] is None
    assert [i["id"] for i in insp["inspectors"]] == [world["ent_a1_manager"]]
    await ok(client, world, "ent_a1_manager", insp["id"], "start")
    out = await ok(
        client, world, "ent_a1_staff", insp["id"], "add_finding", **{**FINDING, "deadline": None}
    )
    hazard = (
        await client.get(
            f"/api/v1/hazards/{out['findings'][0]['id']}", headers=world.h("ent_a1_manager")
        )
    ).json()
    assert hazard["source"] == "self_inspection"
    done = await ok(client, world, "ent_a1_manager", insp["id"], "complete")
    assert done["outcome"] is None  # the hazards are its outcome; no penalty on oneself
    signed = await ok(client, world, "ent_a1_manager", insp["id"], "sign")
    assert signed["status"] == "signed"
    # Another enterprise never sees it.
    r = await client.get(f"/api/v1/inspections/{insp['id']}", headers=world.h("ent_b1_manager"))
    assert r.status_code == 404


async def test_a_result_cites_photos_that_follow_the_inspection_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.hazard_helpers import upload

    await certify(client, world, *TEAM_A)
    expert = await add_expert(client, world)
    insp = await plan(client, world, experts=[expert])
    await ok(client, world, "town_a_officer", insp["id"], "start")
    photo = await upload(client, world, "expert")
    others = await upload(client, world, "town_a_officer")
    r = await act(
        client,
        world,
        "expert",
        insp["id"],
        "record_results",
        results=[{"item_code": "A1", "result": "finding", "attachment_ids": [others]}],
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"
    out = await ok(
        client,
        world,
        "expert",
        insp["id"],
        "record_results",
        results=[{"item_code": "A1", "result": "finding", "attachment_ids": [photo]}],
    )
    assert out["results"][0]["attachment_ids"] == [photo]
    assert [a["id"] for a in out["attachments"]] == [photo]
    assert out["attachments"][0]["inspection_id"] == insp["id"]
    # Cited again by a later record of the same inspection: still valid.
    await ok(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "record_results",
        results=[{"item_code": "A1", "result": "ok", "attachment_ids": [photo]}],
    )
    for actor, status in (
        ("county_officer", 200),
        ("ent_a1_manager", 200),
        ("town_b_officer", 404),
        ("expert", 200),
    ):
        r = await client.get(f"/api/v1/attachments/{photo}", headers=world.h(actor))
        assert r.status_code == status, actor
    # Bound to the inspection, it cannot become a hazard's evidence.
    r = await act(
        client,
        world,
        "town_a_officer",
        insp["id"],
        "add_finding",
        **{**FINDING, "attachment_ids": [photo]},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"
