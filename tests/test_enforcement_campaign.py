"""The issue's end-to-end story: a bureau runs a double-random campaign — draw, inspect with a
checklist, record findings that become hazards, sign, penalise (一案双罚), blacklist — and the
county sees coverage, fines and zero-penalty units; the enterprise learns of nothing before the
inspection starts."""

from __future__ import annotations

from tests.conftest import World
from tests.inspection_helpers import TEAM_E, act, certify, ok

DUST = {
    "code": "e2e-dust",
    "name": "粉尘防爆专项检查表",
    "sector": "industry_trade",
    "items": [
        {
            "code": "D1",
            "text": "除尘系统未按规定设置泄爆、隔爆装置",
            "basis": "工贸企业重大事故隐患判定标准 第十一条第（三）项",
            "major_if_failed": True,
            "judgment_standard": "industry_trade",
            "judgment_clause": "11.3",
        },
        {"code": "D2", "text": "粉尘清扫制度落实", "basis": "工贸企业粉尘防爆安全规定"},
    ],
}


async def test_a_bureau_runs_a_double_random_campaign_end_to_end(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_E)
    r = await client.post("/api/v1/checklists", json=DUST, headers=world.h("bureau_e_manager"))
    assert r.status_code == 201, r.text
    checklist = r.json()["id"]

    # 1. The draw: one industry-and-trade enterprise of the bureau's scope, two inspectors.
    r = await client.post(
        "/api/v1/draws",
        json={
            "name": "2026年第四季度工贸企业双随机抽查",
            "sector": ["industry_trade"],
            "inspector_ids": [world[a] for a in TEAM_E],
            "sample_size": 1,
            "seed": "2026-12-01 体彩排列五 83715",
            "planned_for": "2026-12-10",
            "checklist_id": checklist,
        },
        headers=world.h("bureau_e_manager"),
    )
    assert r.status_code == 201, r.text
    draw = r.json()
    (pick,) = draw["picks"]
    assert pick["enterprise"]["id"] == world["ent_a1"]
    inspection_id = pick["inspection"]["id"]
    # The enterprise knows nothing yet: not listed, not counted, not found; the public view waits.
    seen = await client.get(
        "/api/v1/inspections?include_total=true", headers=world.h("ent_a1_manager")
    )
    assert seen.json()["total"] == 0
    r = await client.get(f"/api/v1/inspections/{inspection_id}", headers=world.h("ent_a1_manager"))
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/public/draws/{draw['id']}")).status_code == 404

    # 2. Inspect with the checklist; the failed major item becomes a major hazard.
    lead, second = TEAM_E
    insp = await ok(client, world, lead, inspection_id, "start")
    assert insp["kind"] == "double_random" and insp["checklist_id"] == checklist
    r = await client.get(f"/api/v1/inspections/{inspection_id}", headers=world.h("ent_a1_manager"))
    assert r.status_code == 200  # started: the enterprise sees it now
    await ok(
        client,
        world,
        second,
        inspection_id,
        "record_results",
        results=[
            {"item_code": "D1", "result": "finding", "note": "除尘器无泄爆片"},
            {"item_code": "D2", "result": "ok"},
        ],
    )
    insp = await ok(
        client,
        world,
        second,
        inspection_id,
        "add_finding",
        item_code="D1",
        title="除尘器未设置泄爆装置",
        category="unsafe_condition",
    )
    (finding,) = insp["findings"]
    hazard = (
        await client.get(f"/api/v1/hazards/{finding['id']}", headers=world.h("ent_a1_manager"))
    ).json()
    assert hazard["level"] == "major" and hazard["inspection_id"] == inspection_id
    assert hazard["judgment"]["clause"] == "11.3"

    # 3. Decide: order, suspension, a fine on the company and on its principal, the blacklist.
    outcome = {
        "decisions": [
            {"kind": "rectification_order", "deadline": "2027-01-31"},
            {"kind": "suspension", "from_date": "2026-12-11", "to_date": "2027-01-10"},
            {
                "kind": "fine",
                "entity_fine_yuan": "50000",
                "person_fine_yuan": "8000.50",
                "person_name": "王厂长",
            },
            {"kind": "blacklist", "note": "重大事故隐患拒不整改"},
        ]
    }
    await ok(client, world, lead, inspection_id, "complete", outcome=outcome)
    assert (await act(client, world, "bureau_e_officer", inspection_id, "sign")).status_code == 200
    blacklisted = await client.get(
        "/api/v1/enterprises?blacklisted=true", headers=world.h("county_officer")
    )
    assert blacklisted.json()["items"] == []  # takes effect when the record is signed
    signed = await ok(client, world, "bureau_e_manager", inspection_id, "sign")
    assert signed["status"] == "signed"

    # 4. The blacklist, published; the draw, published.
    blacklisted = await client.get(
        "/api/v1/enterprises?blacklisted=true", headers=world.h("county_officer")
    )
    assert [e["id"] for e in blacklisted.json()["items"]] == [world["ent_a1"]]
    public = await client.get("/api/v1/public/blacklist")
    assert [e["enterprise_name"] for e in public.json()["items"]] == ["埇桥机械制造有限公司"]
    published = await client.get(f"/api/v1/public/draws/{draw['id']}")
    assert published.status_code == 200

    # 5. The county's figures: coverage, fines, decisions; the bureau penalised, so it is no
    # zero-penalty unit.
    r = await client.get(
        "/api/v1/statistics/enforcement",
        params={"group_by": "conducting_unit"},
        headers=world.h("county_officer"),
    )
    assert r.status_code == 200, r.text
    totals = r.json()["totals"]
    assert totals["inspections"] == 1 and totals["enterprises_covered"] == 1
    assert totals["findings"] == 1 and totals["major_findings"] == 1
    assert totals["entity_fines_yuan"] == "50000.00" and totals["person_fines_yuan"] == "8000.50"
    assert totals["decisions"]["fine"] == totals["decisions"]["blacklist"] == 1
    assert totals["key_enterprises"] >= 1
    assert r.json()["zero_penalty"] == []
