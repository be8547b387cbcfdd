"""Hostile input on every inspection route: each answer is a 4xx RFC 9457 problem, never a 500,
and the outcome rules (no_issue, fines, penalties, 依法不予处罚) hold."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.inspections.workflow import MACHINE
from tests.conftest import World
from tests.inspection_helpers import FINDING, TEAM_A, act, add_expert, certify, ok, plan

INSPECTIONS = "/api/v1/inspections"
MISSING = "01a00000-0000-7000-8000-000000000000"


def problem(  # type: ignore[no-untyped-def]
    r, status: int | tuple[int, ...] | None = None, code: str | None = None, case: Any = None
) -> dict:  # type: ignore[type-arg]
    assert r.status_code < 500, (case, r.text)
    assert 400 <= r.status_code < 500, (case, r.text)
    if status is not None:
        statuses = status if isinstance(status, tuple) else (status,)
        assert r.status_code in statuses, (case, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert {"type", "title", "status", "code"} <= set(body), body
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
async def w(client, world: World) -> World:
    """Town A's certified team; one inspection planned, one in progress with a finding, one
    expert guidance visit in progress, one enterprise self-found hazard on schedule."""
    await certify(client, world, *TEAM_A)
    await add_expert(client, world)
    world.ids["planned"] = (await plan(client, world))["id"]
    busy = await plan(client, world, experts=[world["expert"]])
    world.ids["busy"] = busy["id"]
    await ok(client, world, "town_a_officer", busy["id"], "start")
    out = await ok(client, world, "town_a_officer", busy["id"], "add_finding", **FINDING)
    world.ids["finding"] = out["findings"][0]["id"]
    guide = await plan(client, world, kind="expert_guidance", experts=[world["expert"]])
    world.ids["guidance"] = guide["id"]
    await ok(client, world, "town_a_officer", guide["id"], "start")
    clean = await plan(client, world)
    world.ids["clean"] = clean["id"]
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "配电箱未接地",
            "level": "general",
            "category": "unsafe_condition",
            "deadline": "2027-03-31",
        },
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 201, r.text
    world.ids["own_hazard"] = r.json()["id"]
    # Found and reported by the enterprise before the inspectors arrive (依法不予处罚).
    await ok(client, world, "town_a_officer", clean["id"], "start")
    return world


# ---- POST /inspections ---------------------------------------------------------------------------


def _plan_body(w: World, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "routine",
        "enterprise_id": w["ent_a1"],
        "planned_for": "2026-12-10",
        "inspectors": [w["town_a_officer"], w["town_a_inspector"]],
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


BAD_PLANS = {
    "kind_unknown": {"kind": "raid"},
    "kind_null": {"kind": None},
    "kind_number": {"kind": 3},
    "kind_missing": {"kind": ...},
    "enterprise_missing": {"enterprise_id": ...},
    "enterprise_unknown": {"enterprise_id": MISSING},
    "enterprise_null": {"enterprise_id": None},
    "enterprise_list": {"enterprise_id": ["x"]},
    "enterprise_long": {"enterprise_id": "x" * 5000},
    "date_13_45": {"planned_for": "2026-13-45"},
    "date_feb_30": {"planned_for": "2026-02-30"},
    "date_time": {"planned_for": "2026-12-10T08:00:00+08:00"},
    "date_number": {"planned_for": 20261210},
    "date_null": {"planned_for": None},
    "date_blank": {"planned_for": ""},
    "date_year_1": {"planned_for": "0001-01-01"},
    "date_year_9999": {"planned_for": "9999-12-31"},
    "date_huge_year": {"planned_for": "+10000-01-01"},
    "inspectors_string": {"inspectors": "abc"},
    "inspectors_null": {"inspectors": None},
    "inspectors_empty": {"inspectors": []},
    "inspectors_unknown": {"inspectors": [MISSING]},
    "inspectors_numbers": {"inspectors": [1, 2]},
    "inspectors_huge": {"inspectors": [MISSING] * 10_000},
    "inspectors_enterprise_user": {"inspectors": ["<ent_a1_manager>"]},
    "inspectors_other_county_none": {"inspectors": [""]},
    "experts_not_experts": {"experts": ["<town_a_viewer>"]},
    "experts_null": {"experts": None},
    "checklist_unknown": {"checklist_id": MISSING},
    "campaign_blank": {"campaign": "   "},
    "campaign_long": {"campaign": "专" * 201},
    "follows_on_routine": {"follows_inspection_id": "<planned>"},
    "follow_up_without_follows": {"kind": "follow_up"},
    "follow_up_of_planned": {"kind": "follow_up", "follows_inspection_id": "<planned>"},
    "follow_up_of_unknown": {"kind": "follow_up", "follows_inspection_id": MISSING},
    "self_inspection_by_government": {"kind": "self_inspection"},
    "unit_unknown": {"conducting_unit_id": MISSING},
    "extra_field": {"status": "signed"},
    "extra_number": {"number": "J2026-999999"},
}


def _resolve(w: World, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return w[value[1:-1]]
    if isinstance(value, list):
        return [_resolve(w, v) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(w, v) for k, v in value.items()}
    return value


async def test_a_bad_plan_is_a_4xx_problem(client, w) -> None:  # type: ignore[no-untyped-def]
    for case in sorted(BAD_PLANS):  # one world for every case: the cases change nothing
        body = _plan_body(w, **_resolve(w, BAD_PLANS[case]))
        r = await client.post(INSPECTIONS, json=body, headers=w.h("town_a_officer"))
        problem(r, (403, 413, 422), case=case)
    r = await client.get(INSPECTIONS, params={"include_total": "true"}, headers=w.h("admin"))
    assert r.json()["total"] == 4


@pytest.mark.parametrize(
    "raw", [b"", b"null", b"[]", b"{", b'"text"', b"{}", '{"kind": "routine"\u0000}'.encode()]
)
async def test_a_malformed_plan_body_is_a_4xx_problem(client, w, raw) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        INSPECTIONS,
        content=raw,
        headers={**w.h("town_a_officer"), "content-type": "application/json"},
    )
    problem(r)


async def test_town_b_cannot_plan_for_an_enterprise_of_town_a(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        INSPECTIONS,
        json=_plan_body(w, inspectors=[w["town_b_officer"]]),
        headers=w.h("town_b_officer"),
    )
    problem(r, 422, "unknown_enterprise")


async def test_a_town_cannot_plan_in_another_units_name(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        INSPECTIONS,
        json=_plan_body(w, conducting_unit_id=w["bureau_e"]),
        headers=w.h("town_a_officer"),
    )
    problem(r, 403, "outside_scope")


# ---- PATCH /inspections/{id} ---------------------------------------------------------------------


BAD_PATCHES = {
    "planned_for_null": {"planned_for": None},
    "planned_for_bad": {"planned_for": "2026-13-45"},
    "inspectors_null": {"inspectors": None},
    "inspectors_empty": {"inspectors": []},
    "inspectors_unknown": {"inspectors": [MISSING]},
    "experts_null": {"experts": None},
    "experts_unknown": {"experts": [MISSING]},
    "checklist_unknown": {"checklist_id": MISSING},
    "status": {"status": "signed"},
    "kind": {"kind": "unannounced"},
    "enterprise": {"enterprise_id": "<ent_b1>"},
    "outcome": {"outcome": {"decisions": [{"kind": "no_issue"}]}},
    "list_body": [],
}


async def test_a_bad_patch_is_a_4xx_problem_and_changes_nothing(client, w) -> None:  # type: ignore[no-untyped-def]
    url = f"{INSPECTIONS}/{w['planned']}"
    before = (await client.get(url, headers=w.h("admin"))).json()
    for case in sorted(BAD_PATCHES):
        body = _resolve(w, BAD_PATCHES[case])
        r = await client.patch(url, json=body, headers=w.h("town_a_officer"))
        problem(r, 422, case=case)
        assert (await client.get(url, headers=w.h("admin"))).json() == before, case


async def test_patch_of_an_unknown_inspection_is_404(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(f"{INSPECTIONS}/{MISSING}", json={}, headers=w.h("admin"))
    problem(r, 404, "not_found")
    r = await client.patch(f"{INSPECTIONS}/{'x' * 65}", json={}, headers=w.h("admin"))
    problem(r, (404, 422))


# ---- POST /inspections/{id}/transitions ----------------------------------------------------------


async def test_an_unknown_or_missing_action_lists_the_inspection_actions(client, w) -> None:  # type: ignore[no-untyped-def]
    url = f"{INSPECTIONS}/{w['busy']}/transitions"
    for body in ({"action": "accept"}, {}, {"action": None}, {"action": 7}, {"note": "x"}):
        r = await client.post(url, json=body, headers=w.h("town_a_officer"))
        p = problem(r, 422)
        text = repr(p)
        for action in MACHINE:
            assert action in text, (body, action, p)
        # Not the hazard lifecycle's actions.
        listed = text.split("start", 1)[1]
        for hazard_action in ("submit_plan", "accept", "reject", "extend", "void"):
            assert hazard_action not in listed, (body, hazard_action, p)


BAD_TRANSITIONS = {
    "body_list": [],
    "body_string": "start",
    "start_extra": {"action": "start", "reason": "x"},
    "note_long": {"action": "start", "note": "x" * 100_000},
    "record_nothing": {"action": "record_results"},
    "record_empty": {"action": "record_results", "results": []},
    "record_result_unknown": {
        "action": "record_results",
        "results": [{"item_code": "A", "result": "maybe"}],
    },
    "record_code_blank": {
        "action": "record_results",
        "results": [{"item_code": " ", "result": "ok"}],
    },
    "record_code_null": {
        "action": "record_results",
        "results": [{"item_code": None, "result": "ok"}],
    },
    "record_not_list": {"action": "record_results", "results": {"item_code": "A", "result": "ok"}},
    "record_huge": {
        "action": "record_results",
        "results": [{"item_code": f"A{i}", "result": "ok"} for i in range(5000)],
    },
    "record_extra_in_item": {
        "action": "record_results",
        "results": [{"item_code": "A", "result": "ok", "score": 3}],
    },
    "record_checks_not_follow_up": {
        "action": "record_results",
        "rectification_checks": [{"hazard_id": "<finding>", "rectified": True}],
    },
    "record_checks_bad_bool": {
        "action": "record_results",
        "rectification_checks": [{"hazard_id": "<finding>", "rectified": "perhaps"}],
    },
    "finding_no_title": {"action": "add_finding", "category": "unsafe_condition"},
    "finding_no_category": {"action": "add_finding", "title": "t"},
    "finding_bad_category": {"action": "add_finding", "title": "t", "category": "bad"},
    "finding_bad_level": {**FINDING, "action": "add_finding", "level": "huge"},
    "finding_bad_deadline": {**FINDING, "action": "add_finding", "deadline": "2026-13-45"},
    "finding_past_deadline": {**FINDING, "action": "add_finding", "deadline": "2020-01-01"},
    "finding_far_deadline": {**FINDING, "action": "add_finding", "deadline": "2099-01-01"},
    "finding_unknown_attachment": {**FINDING, "action": "add_finding", "attachment_ids": [MISSING]},
    "finding_existing_and_new": {
        **FINDING,
        "action": "add_finding",
        "existing_hazard_id": "<own_hazard>",
    },
    "finding_existing_unknown": {"action": "add_finding", "existing_hazard_id": MISSING},
    "finding_existing_not_self_found": {
        "action": "add_finding",
        "existing_hazard_id": "<finding>",
    },
    "finding_title_long": {**FINDING, "action": "add_finding", "title": "t" * 201},
    "finding_title_null": {**FINDING, "action": "add_finding", "title": None},
    "finding_major_without_judgment": {**FINDING, "action": "add_finding", "level": "major"},
    "complete_findings_no_outcome": {"action": "complete"},
    "complete_outcome_null_decisions": {"action": "complete", "outcome": {"decisions": None}},
    "complete_outcome_empty": {"action": "complete", "outcome": {"decisions": []}},
    "complete_outcome_string": {"action": "complete", "outcome": "fine"},
    "complete_decision_unknown": {"action": "complete", "outcome": {"decisions": [{"kind": "x"}]}},
    "complete_no_issue_with_findings": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "no_issue"}]},
    },
    "complete_duplicate_kinds": {
        "action": "complete",
        "outcome": {
            "decisions": [
                {"kind": "rectification_order", "deadline": "2027-01-31"},
                {"kind": "rectification_order", "deadline": "2027-02-28"},
            ]
        },
    },
    "complete_order_without_deadline": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "rectification_order"}]},
    },
    "complete_order_bad_deadline": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "rectification_order", "deadline": "2026-13-45"}]},
    },
    "complete_suspension_reversed": {
        "action": "complete",
        "outcome": {
            "decisions": [
                {"kind": "suspension", "from_date": "2027-02-01", "to_date": "2027-01-01"}
            ]
        },
    },
    "complete_suspension_no_dates": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "suspension"}]},
    },
    "complete_fine_no_amount": {"action": "complete", "outcome": {"decisions": [{"kind": "fine"}]}},
    "complete_fine_zero": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "0.00"}]},
    },
    "complete_fine_three_decimals": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "100.005"}]},
    },
    "complete_fine_float_three_decimals": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": 100.005}]},
    },
    "complete_fine_negative": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "-100.00"}]},
    },
    "complete_fine_text": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "一万元"}]},
    },
    "complete_fine_nan": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "NaN"}]},
    },
    "complete_fine_infinity": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "Infinity"}]},
    },
    "complete_fine_exponent": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "1e30"}]},
    },
    "complete_fine_huge": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": "9" * 40}]},
    },
    "complete_fine_bool": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "entity_fine_yuan": True}]},
    },
    "complete_person_fine_without_name": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "fine", "person_fine_yuan": "500.00"}]},
    },
    "complete_fine_cites_unknown": {
        "action": "complete",
        "outcome": {
            "decisions": [{"kind": "fine", "entity_fine_yuan": "500.00", "hazard_ids": [MISSING]}]
        },
    },
    "complete_amount_on_order": {
        "action": "complete",
        "outcome": {
            "decisions": [
                {"kind": "rectification_order", "deadline": "2027-01-31", "entity_fine_yuan": "1"}
            ]
        },
    },
    "complete_deadline_on_closure": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "closure", "deadline": "2027-01-31"}]},
    },
    "complete_dates_on_order": {
        "action": "complete",
        "outcome": {
            "decisions": [
                {
                    "kind": "rectification_order",
                    "deadline": "2027-01-31",
                    "from_date": "2027-01-01",
                    "to_date": "2027-01-31",
                }
            ]
        },
    },
    "complete_person_on_referral": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "referral", "person_name": "张三"}]},
    },
    "complete_hazards_on_closure": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "closure", "hazard_ids": ["<finding>"]}]},
    },
    "complete_too_many_decisions": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "closure"}] * 11},
    },
    "complete_extra_in_decision": {
        "action": "complete",
        "outcome": {"decisions": [{"kind": "closure", "severity": 3}]},
    },
    "sign_in_progress": {"action": "sign"},
    "amend_in_progress": {"action": "amend", "reason": "r", "campaign": "c"},
    "cancel_no_reason": {"action": "cancel"},
    "cancel_blank_reason": {"action": "cancel", "reason": "   "},
    "cancel_null_reason": {"action": "cancel", "reason": None},
}


async def test_a_bad_transition_is_a_4xx_problem_and_changes_nothing(client, w) -> None:  # type: ignore[no-untyped-def]
    url = f"{INSPECTIONS}/{w['busy']}"
    before = (await client.get(url, headers=w.h("admin"))).json()
    for case in sorted(BAD_TRANSITIONS):
        r = await client.post(
            f"{url}/transitions",
            json=_resolve(w, BAD_TRANSITIONS[case]),
            headers=w.h("town_a_officer"),
        )
        problem(r, (409, 413, 422), case=case)
        assert (await client.get(url, headers=w.h("admin"))).json() == before, case


async def test_transition_on_an_unknown_inspection_is_404(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await act(client, w, "admin", MISSING, "start")
    problem(r, 404, "not_found")
    r = await client.get(f"{INSPECTIONS}/{MISSING}/events", headers=w.h("admin"))
    problem(r, 404, "not_found")
    r = await client.get(f"{INSPECTIONS}/{MISSING}", headers=w.h("admin"))
    problem(r, 404, "not_found")


async def test_penalties_on_expert_guidance_are_refused(client, w) -> None:  # type: ignore[no-untyped-def]
    for decision in (
        {"kind": "fine", "entity_fine_yuan": "100.00"},
        {"kind": "suspension", "from_date": "2027-01-01", "to_date": "2027-01-31"},
        {"kind": "closure"},
        {"kind": "referral"},
        {"kind": "blacklist"},
    ):
        r = await act(
            client,
            w,
            "town_a_officer",
            w["guidance"],
            "complete",
            outcome={"decisions": [decision]},
        )
        problem(r, 422, "penalty_not_allowed")
    # Advice, never a penalty: a rectification order (or nothing) is fine.
    out = await ok(
        client,
        w,
        "expert",
        w["guidance"],
        "add_finding",
        **FINDING,
    )
    assert out["findings_count"] == 1
    out = await ok(client, w, "town_a_officer", w["guidance"], "complete")
    assert out["status"] == "completed"
    assert out["outcome"] is None or out["outcome"]["decisions"] == []


async def test_a_fine_citing_only_exempt_findings_is_refused(client, w) -> None:  # type: ignore[no-untyped-def]
    insp = w["clean"]
    out = await ok(
        client, w, "town_a_officer", insp, "add_finding", existing_hazard_id=w["own_hazard"]
    )
    assert out["exempt_findings_count"] == 1
    assert out["findings"][0]["exempt"] is True
    fine = {"kind": "fine", "entity_fine_yuan": "1000.00"}
    r = await act(client, w, "town_a_officer", insp, "complete", outcome={"decisions": [fine]})
    problem(r, 422, "exempt_findings_only")
    cited = {**fine, "hazard_ids": [w["own_hazard"]]}
    r = await act(client, w, "town_a_officer", insp, "complete", outcome={"decisions": [cited]})
    problem(r, 422, "exempt_findings_only")
    # Linking the same hazard twice is refused.
    r = await act(
        client, w, "town_a_officer", insp, "add_finding", existing_hazard_id=w["own_hazard"]
    )
    problem(r, (409, 422))
    # A second, real finding: the fine may cite it, not the exempt one alone.
    out = await ok(client, w, "town_a_officer", insp, "add_finding", **FINDING)
    new = next(f["id"] for f in out["findings"] if not f["exempt"])
    r = await act(client, w, "town_a_officer", insp, "complete", outcome={"decisions": [cited]})
    problem(r, 422, "exempt_findings_only")
    out = await ok(
        client,
        w,
        "town_a_officer",
        insp,
        "complete",
        outcome={"decisions": [{**fine, "hazard_ids": [new]}]},
    )
    assert out["entity_fines_yuan"] == "1000.00"


async def test_a_hazard_the_enterprise_registers_during_the_inspection_is_not_exempt(  # type: ignore[no-untyped-def]
    client, w
) -> None:
    """已查出、已报告: a hazard registered while the inspectors are on site (the enterprise
    sees the inspection once it starts) is their finding, not one exempt from penalty."""
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": w["ent_a1"],
            "title": "除尘器未设置泄爆装置",
            "level": "general",
            "category": "unsafe_condition",
            "deadline": "2027-03-31",
        },
        headers=w.h("ent_a1_staff"),
    )
    assert r.status_code == 201, r.text
    r = await act(
        client, w, "town_a_officer", w["busy"], "add_finding", existing_hazard_id=r.json()["id"]
    )
    problem(r, 422, "hazard_not_exempt")


async def test_a_fine_with_two_decimals_is_exact(client, w) -> None:  # type: ignore[no-untyped-def]
    out = await ok(
        client,
        w,
        "town_a_officer",
        w["busy"],
        "complete",
        outcome={
            "decisions": [
                {
                    "kind": "fine",
                    "entity_fine_yuan": "12345678.91",
                    "person_fine_yuan": 0.1,
                    "person_name": "张三",
                }
            ]
        },
    )
    assert out["entity_fines_yuan"] == "12345678.91"
    assert out["person_fines_yuan"] == "0.10"
    assert out["outcome"]["decisions"][0]["person_fine_yuan"] == "0.10"


# ---- GET /inspections filters --------------------------------------------------------------------


GOOD_FILTERS = [
    {"kind": "routine"},
    {"kind": "routine,unannounced"},
    {"kind": ["routine", "expert_guidance"]},
    {"status": "planned"},
    {"status": "in_progress,signed"},
    {"enterprise_id": MISSING},
    {"conducting_unit_id": MISSING},
    {"region_code": "341302001"},
    {"region_code": "3"},
    {"sector": "industry_trade"},
    {"planned_for_from": "2026-12-01", "planned_for_to": "2026-12-31"},
    {"completed_at_from": "2026-01-01"},
    {"completed_at_to": "2026-12-31"},
    {"completed_at_to": "2026-12-31T23:59:59+08:00"},
    {"completed_at_from": "2026-12-01T00:00:00Z", "completed_at_to": "2026-12-31T00:00:00Z"},
    {"has_findings": "true"},
    {"has_findings": "false"},
    {"decision": "fine"},
    {"decision": "fine,rectification_order"},
    {"campaign": "冬季专项"},
    {"draw_id": MISSING},
    {"sort": "planned_for"},
    {"sort": "-planned_for"},
    {"sort": "completed_at"},
    {"sort": "-completed_at"},
    {"sort": "updated_at"},
    {"sort": "-updated_at"},
    {"limit": "1"},
    {"limit": "500"},
    {"include_total": "true"},
]


async def test_every_filter_accepts_good_values(client, w) -> None:  # type: ignore[no-untyped-def]
    for params in GOOD_FILTERS:
        r = await client.get(INSPECTIONS, params=params, headers=w.h("town_a_officer"))
        assert r.status_code == 200, (params, r.text)
        assert "items" in r.json()


BAD_FILTERS = [
    {"kind": "raid"},
    {"kind": "routine,raid"},
    {"kind": ""},
    {"status": "open"},
    {"sector": "nope"},
    {"decision": "prison"},
    {"region_code": "abc"},
    {"region_code": "1234567890123"},
    {"planned_for_from": "2026-13-45"},
    {"planned_for_to": "2026-12-10T00:00:00Z"},
    {"planned_for_from": "yesterday"},
    {"completed_at_from": "2026-13-45"},
    {"completed_at_to": "2026-12-31T25:00:00Z"},
    {"completed_at_to": "2026-12-31T10:00:00"},  # no offset
    {"has_findings": "maybe"},
    {"sort": "number"},
    {"sort": "--planned_for"},
    {"sort": "planned_for,updated_at"},
    {"limit": "0"},
    {"limit": "501"},
    {"limit": "x"},
    {"cursor": "garbage"},
    {"cursor": "eyJ4IjoxfQ"},
    {"cursor": "%%%%"},
    {"cursor": "x" * 5000},
    {"include_total": "perhaps"},
    {"unknown": "1"},
    {"enterprise_id": "x" * 65},
    {"campaign": "x" * 201},
]


async def test_every_filter_refuses_bad_values_with_a_problem(client, w) -> None:  # type: ignore[no-untyped-def]
    for params in BAD_FILTERS:
        r = await client.get(INSPECTIONS, params=params, headers=w.h("town_a_officer"))
        problem(r, 422, case=params)


async def test_a_repeated_single_valued_parameter_is_422(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"{INSPECTIONS}?enterprise_id={w['ent_a1']}&enterprise_id={w['ent_a2']}",
        headers=w.h("town_a_officer"),
    )
    problem(r, 422)


async def test_a_cursor_of_one_sort_used_with_another_is_refused_or_consistent(client, w) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        INSPECTIONS, params={"limit": 1, "sort": "completed_at"}, headers=w.h("town_a_officer")
    )
    cursor = r.json()["next_cursor"]
    assert cursor
    r = await client.get(
        INSPECTIONS,
        params={"limit": 1, "sort": "-updated_at", "cursor": cursor},
        headers=w.h("town_a_officer"),
    )
    assert r.status_code in (200, 422), r.text


@pytest.mark.parametrize("limit", [1, 2, 3])
@pytest.mark.parametrize(
    "sort", ["planned_for", "-planned_for", "completed_at", "-completed_at", "-updated_at"]
)
async def test_paging_through_every_sort_visits_each_inspection_once(
    client, w, sort, limit
) -> None:  # type: ignore[no-untyped-def]
    """``completed_at`` is null for half: the keyset must page over the nulls too, whichever
    page the boundary between values and nulls falls on."""
    await ok(client, w, "town_a_officer", w["guidance"], "complete")
    await ok(client, w, "town_a_officer", w["clean"], "complete")
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": limit, "sort": sort}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(INSPECTIONS, params=params, headers=w.h("admin"))
        assert r.status_code == 200, r.text
        seen += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    r = await client.get(INSPECTIONS, params={"limit": 500}, headers=w.h("admin"))
    everything = [i["id"] for i in r.json()["items"]]
    assert sorted(seen) == sorted(everything)
    assert len(seen) == len(set(seen)) == 4
    # Pages follow the order of the whole list.
    r = await client.get(INSPECTIONS, params={"limit": 500, "sort": sort}, headers=w.h("admin"))
    assert seen == [i["id"] for i in r.json()["items"]]


async def test_filters_find_what_they_say(client, w) -> None:  # type: ignore[no-untyped-def]
    await ok(
        client,
        w,
        "town_a_officer",
        w["busy"],
        "complete",
        outcome={"decisions": [{"kind": "fine", "entity_fine_yuan": "100.00"}]},
    )
    await ok(client, w, "town_a_officer", w["clean"], "complete")

    async def ids(**params: Any) -> set[str]:
        r = await client.get(INSPECTIONS, params={"limit": 500, **params}, headers=w.h("admin"))
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert await ids(decision="fine") == {w["busy"]}
    assert await ids(decision="no_issue") == {w["clean"]}
    assert await ids(decision="fine,no_issue") == {w["busy"], w["clean"]}
    assert await ids(has_findings="true") == {w["busy"]}
    assert w["busy"] not in await ids(has_findings="false")
    assert await ids(status="completed") == {w["busy"], w["clean"]}
    assert await ids(kind="expert_guidance") == {w["guidance"]}
    assert await ids(completed_at_to="2000-01-01") == set()
    # A date bound is the whole local day; a date-time bound is that instant.
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert await ids(completed_at_from=today, completed_at_to=today) == {w["busy"], w["clean"]}
    future = (datetime.now(ZoneInfo("UTC")) + timedelta(hours=1)).isoformat()
    assert await ids(completed_at_from=future) == set()
    assert await ids(completed_at_to=future) == {w["busy"], w["clean"]}
    assert await ids(region_code="341302100") == set()
    assert await ids(sector="construction") == set()
