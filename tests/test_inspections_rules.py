"""The rules around the lifecycle: 行政执法两人以上, a signed record never changes silently,
If-Match and Idempotency-Key on inspections."""

from __future__ import annotations

import pytest

from tests.conftest import World
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

INSPECTIONS = "/api/v1/inspections"


async def _get(client, world: World, insp_id: str, actor: str = "admin"):  # type: ignore[no-untyped-def]
    r = await client.get(f"{INSPECTIONS}/{insp_id}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r


async def _events(client, world: World, insp_id: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    r = await client.get(f"{INSPECTIONS}/{insp_id}/events", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


# ---- 行政执法两人以上 ----------------------------------------------------------------------------


ENFORCEMENT_KINDS = (
    "routine",
    "key_period",
    "natural_disaster",
    "accident_prevention",
    "double_random",
    "unannounced",
    "special_campaign",
    "cross_regional",
)


@pytest.mark.parametrize("certified", [(), ("town_a_officer",), ("town_a_inspector",)])
@pytest.mark.parametrize("kind", ENFORCEMENT_KINDS)
async def test_enforcement_start_needs_two_certified_inspectors(  # type: ignore[no-untyped-def]
    client, world, kind, certified
) -> None:
    if certified:
        await certify(client, world, *certified)
    insp = await plan(client, world, kind=kind)
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "invalid_transition"
    assert str(len(certified)) in r.json()["detail"]
    assert (
        "start"
        not in (await _get(client, world, insp["id"], "town_a_officer")).json()["allowed_actions"]
    )
    assert (await _get(client, world, insp["id"])).json()["status"] == "planned"


async def test_two_certificates_among_three_inspectors_are_enough(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, "town_a_officer", "town_a_manager")
    insp = await plan(client, world, team=("town_a_officer", "town_a_inspector", "town_a_manager"))
    out = await ok(client, world, "town_a_inspector", insp["id"], "start")
    assert out["status"] == "in_progress"


async def test_a_certificate_withdrawn_before_the_start_blocks_it(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    r = await client.patch(
        f"/api/v1/users/{world['town_a_inspector']}",
        json={"enforcement_cert_no": None},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409


async def test_the_same_certified_inspector_listed_twice_counts_once(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, "town_a_officer")
    insp = await plan(client, world, team=("town_a_officer", "town_a_officer"))
    assert [u["id"] for u in insp["inspectors"]] == [world["town_a_officer"]]
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409


async def test_an_expert_does_not_count_as_a_certified_inspector(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, "town_a_officer")
    expert = await add_expert(client, world)
    r = await client.patch(
        f"/api/v1/users/{expert}", json={"enforcement_cert_no": "皖执999"}, headers=world.h("admin")
    )
    # Either experts cannot hold a certificate, or it does not count: never a start.
    insp = await plan(client, world, team=("town_a_officer",), experts=[expert])
    r = await act(client, world, "town_a_officer", insp["id"], "start")
    assert r.status_code == 409


@pytest.mark.parametrize("kind", ["expert_guidance", "self_inspection"])
async def test_non_enforcement_kinds_start_without_certificates(client, world, kind) -> None:  # type: ignore[no-untyped-def]
    if kind == "self_inspection":
        insp = await plan(client, world, "ent_a1_manager", team=(), kind=kind)
        actor = "ent_a1_manager"
    else:
        insp = await plan(client, world, kind=kind, team=("town_a_officer",))
        actor = "town_a_officer"
    out = await ok(client, world, actor, insp["id"], "start")
    assert out["status"] == "in_progress"


# ---- signed: immutable, amended only by a recorded amendment ----------------------------------


async def test_signed_record_refuses_patch_and_direct_changes(client, world) -> None:  # type: ignore[no-untyped-def]
    signed = await signed_with_fine(client, world)
    assert signed["status"] == "signed"
    i = signed["id"]
    before = (await _get(client, world, i)).json()
    for change in (
        {"campaign": "改名"},
        {"planned_for": "2026-12-31"},
        {"inspectors": [world["town_a_officer"]]},
        {"experts": []},
        {"checklist_id": None},
    ):
        r = await client.patch(f"{INSPECTIONS}/{i}", json=change, headers=world.h("town_a_officer"))
        assert r.status_code == 409, (change, r.text)
        assert r.json()["code"] == "inspection_locked"
    for action, body in (
        ("record_results", {"results": [{"item_code": "X", "result": "finding"}]}),
        ("add_finding", FINDING),
        ("complete", {}),
        ("start", {}),
        ("cancel", {"reason": "撤销"}),
        ("sign", {}),
    ):
        r = await act(client, world, "town_a_officer", i, action, **body)
        assert r.status_code == 409, (action, r.text)
        assert r.json()["code"] == "invalid_transition"
    after = (await _get(client, world, i)).json()
    assert after == before


async def test_an_amendment_is_recorded_and_the_signed_record_stays(client, world) -> None:  # type: ignore[no-untyped-def]
    signed = await signed_with_fine(client, world)
    i = signed["id"]
    original = signed["signed_record"]
    assert original is not None
    assert original["outcome"]["decisions"][1]["entity_fine_yuan"] == "30000.00"
    new_outcome = {
        "decisions": [
            {"kind": "rectification_order", "deadline": "2027-02-28"},
            {"kind": "fine", "entity_fine_yuan": "20000.00"},
        ]
    }
    out = await ok(
        client,
        world,
        "town_a_manager",
        i,
        "amend",
        reason="罚款金额经复核更正",
        outcome=new_outcome,
        campaign="冬季专项",
    )
    assert out["status"] == "signed"
    assert out["signed_record"] == original
    assert out["entity_fines_yuan"] == "20000.00"
    assert out["person_fines_yuan"] == "0.00"
    [amendment] = out["amendments"]
    assert amendment["reason"] == "罚款金额经复核更正"
    assert amendment["author"]["id"] == world["town_a_manager"]
    assert set(amendment["changes"]) == {"outcome", "campaign"}
    assert amendment["changes"]["campaign"] == {"from": None, "to": "冬季专项"}
    # Signatures stay as given; the original is still readable.
    assert out["signatures"] == signed["signatures"]
    again = (await _get(client, world, i, "ent_a1_manager")).json()
    assert again["signed_record"] == original
    events = await _events(client, world, i)
    assert events[-1]["action"] == "amend"
    assert events[-1]["note"] == "罚款金额经复核更正"
    assert events[-1]["from_status"] == events[-1]["to_status"] == "signed"
    # The fine figures follow the amended outcome.
    r = await client.get(
        INSPECTIONS, params={"decision": "fine", "include_total": "true"}, headers=world.h("admin")
    )
    assert r.json()["total"] == 1


async def test_amend_without_reason_or_without_change_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    signed = await signed_with_fine(client, world)
    for body in ({"campaign": "x"}, {"reason": "理由"}, {"reason": "", "campaign": "x"}):
        r = await act(client, world, "town_a_officer", signed["id"], "amend", **body)
        assert r.status_code == 422, (body, r.text)


async def test_amend_before_signing_is_409(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "complete")
    await ok(client, world, "town_a_officer", insp["id"], "sign")
    r = await act(client, world, "town_a_officer", insp["id"], "amend", reason="r", campaign="c")
    assert r.status_code == 409
    # Half signed: the record is not signed yet, and the signer may not sign twice.
    r = await act(client, world, "town_a_officer", insp["id"], "sign")
    assert r.status_code == 409
    out = await ok(client, world, "town_a_inspector", insp["id"], "sign")
    assert out["status"] == "signed"
    assert [s["user"]["id"] for s in out["signatures"]] == [world[a] for a in TEAM_A]


async def test_a_completed_record_is_locked_before_signing_too(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "complete")
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}", json={"campaign": "x"}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 409
    assert r.json()["code"] == "inspection_locked"
    # Changing the inspectors of a completed record would change who must sign it.
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}",
        json={"inspectors": [world["town_a_officer"]]},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 409


async def test_removing_an_inspector_in_progress_rechecks_the_certificates(client, world) -> None:  # type: ignore[no-untyped-def]
    """Once started, the record's people may still change (as the API says), but the visit
    must keep two certified inspectors (行政执法两人以上)."""
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}",
        json={"inspectors": [world["town_a_officer"]]},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "certified_inspectors_required"
    assert len((await _get(client, world, insp["id"])).json()["inspectors"]) == 2
    # Replacing one certified inspector with another certified one is fine.
    await certify(client, world, "town_a_manager")
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}",
        json={"inspectors": [world["town_a_officer"], world["town_a_manager"]]},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 200, r.text


# ---- If-Match and Idempotency-Key ---------------------------------------------------------------


async def test_stale_if_match_on_patch_and_transition_is_412(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    url = f"{INSPECTIONS}/{insp['id']}"
    tag = (await _get(client, world, insp["id"])).headers["etag"]
    h = world.h("town_a_officer")
    r = await client.patch(url, json={"campaign": "一"}, headers={**h, "If-Match": tag})
    assert r.status_code == 200, r.text
    fresh = r.headers["etag"]
    assert fresh != tag
    r = await client.patch(url, json={"campaign": "二"}, headers={**h, "If-Match": tag})
    assert r.status_code == 412
    assert r.json()["code"] == "precondition_failed"
    r = await client.post(
        f"{url}/transitions", json={"action": "start"}, headers={**h, "If-Match": tag}
    )
    assert r.status_code == 412
    current = (await _get(client, world, insp["id"])).json()
    assert current["status"] == "planned" and current["campaign"] == "一"
    r = await client.post(
        f"{url}/transitions", json={"action": "start"}, headers={**h, "If-Match": fresh}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{url}/transitions",
        json={"action": "cancel", "reason": "x"},
        headers={**h, "If-Match": "*"},
    )
    assert r.status_code == 200, r.text


async def test_a_replayed_transition_answers_the_same_without_acting_twice(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    url = f"{INSPECTIONS}/{insp['id']}/transitions"
    h = world.h("town_a_officer", **{"Idempotency-Key": "finding-0001"})
    body = {"action": "add_finding", **FINDING}
    first = await client.post(url, json=body, headers=h)
    assert first.status_code == 200, first.text
    again = await client.post(url, json=body, headers=h)
    assert again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    detail = (await _get(client, world, insp["id"])).json()
    assert detail["findings_count"] == 1 and len(detail["findings"]) == 1
    assert [e["action"] for e in await _events(client, world, insp["id"])].count("add_finding") == 1
    r = await client.get(
        "/api/v1/hazards", params={"include_total": "true"}, headers=world.h("admin")
    )
    assert r.json()["total"] == 1
    # The same key with another body is refused.
    other = await client.post(url, json={**body, "title": "另一个隐患"}, headers=h)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_a_replayed_plan_creates_one_inspection(client, world) -> None:  # type: ignore[no-untyped-def]
    body = {
        "kind": "routine",
        "enterprise_id": world["ent_a1"],
        "planned_for": "2026-12-10",
        "inspectors": [world["town_a_officer"]],
    }
    h = world.h("town_a_officer", **{"Idempotency-Key": "plan-0001"})
    first = await client.post(INSPECTIONS, json=body, headers=h)
    again = await client.post(INSPECTIONS, json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    r = await client.get(INSPECTIONS, params={"include_total": "true"}, headers=world.h("admin"))
    assert r.json()["total"] == 1


async def test_a_replayed_sign_signs_once(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "complete")
    url = f"{INSPECTIONS}/{insp['id']}/transitions"
    h = world.h("town_a_officer", **{"Idempotency-Key": "sign-0001"})
    first = await client.post(url, json={"action": "sign"}, headers=h)
    again = await client.post(url, json={"action": "sign"}, headers=h)
    assert first.status_code == again.status_code == 200
    assert len(again.json()["signatures"]) == 1


async def test_two_inspectors_signing_at_once_lose_no_signature(client, world) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "complete")
    answers = await asyncio.gather(*(act(client, world, a, insp["id"], "sign") for a in TEAM_A))
    statuses = sorted(r.status_code for r in answers)
    assert statuses in ([200, 200], [200, 409]), [r.text for r in answers]
    for actor, r in zip(TEAM_A, answers, strict=True):
        if r.status_code == 409:  # lost the race: signs again on the current record
            await ok(client, world, actor, insp["id"], "sign")
    out = (await _get(client, world, insp["id"])).json()
    assert out["status"] == "signed"
    assert sorted(s["user"]["id"] for s in out["signatures"]) == sorted(world[a] for a in TEAM_A)


async def test_an_empty_patch_changes_nothing_and_writes_no_event(client, world) -> None:  # type: ignore[no-untyped-def]
    insp = await plan(client, world)
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}", json={}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == insp["version"]
    assert r.headers["etag"] == (await _get(client, world, insp["id"])).headers["etag"]
    assert [e["action"] for e in await _events(client, world, insp["id"])] == ["plan"]
    # Still refused where a change would be.
    r = await client.patch(
        f"{INSPECTIONS}/{insp['id']}", json={}, headers=world.h("town_b_officer")
    )
    assert r.status_code == 404


async def test_a_hazard_found_in_a_self_inspection_can_be_linked_as_exempt(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    own = await plan(client, world, "ent_a1_manager", team=(), kind="self_inspection")
    await ok(client, world, "ent_a1_manager", own["id"], "start")
    found = await ok(
        client, world, "ent_a1_manager", own["id"], "add_finding", **FINDING, level="general"
    )
    hazard_id = found["findings"][0]["id"]
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    out = await ok(
        client, world, "town_a_officer", insp["id"], "add_finding", existing_hazard_id=hazard_id
    )
    assert out["findings"][0]["exempt"] is True
    # It still names where it was found; a second enforcement visit cannot count it again.
    hazard = (await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h("admin"))).json()
    assert hazard["inspection_id"] == own["id"]
    again = await plan(client, world)
    await ok(client, world, "town_a_officer", again["id"], "start")
    r = await client.post(
        f"{INSPECTIONS}/{again['id']}/transitions",
        json={"action": "add_finding", "existing_hazard_id": hazard_id},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 409 and r.json()["code"] == "hazard_already_linked"


async def test_an_idempotency_key_used_on_another_inspection_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    a = await plan(client, world)
    b = await plan(client, world)
    h = world.h("town_a_officer", **{"Idempotency-Key": "start-0001"})
    first = await client.post(
        f"{INSPECTIONS}/{a['id']}/transitions", json={"action": "start"}, headers=h
    )
    assert first.status_code == 200
    other = await client.post(
        f"{INSPECTIONS}/{b['id']}/transitions", json={"action": "start"}, headers=h
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert (await _get(client, world, b["id"])).json()["status"] == "planned"
