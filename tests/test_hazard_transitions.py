"""Every hazard action × role × state, from a table written here (not from the workflow module).

For each case a fresh hazard of enterprise ent_a1 (town A, industry_trade, bureau E) is brought
into the state through the API; then every role tries the action with a valid payload. A role
that may not take the action at all gets 403; one that may, but not in this state or because a
guard fails, gets 409; otherwise 200. ``allowed_actions`` (GET as that role) must contain the
action exactly when the call succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, JUDGMENT, MAJOR_PLAN, act, register, upload

# ---- the actors, all of whom can see ent_a1's hazards -----------------------------------------

ACTOR = {
    "ent_manager": "ent_a1_manager",
    "ent_staff": "ent_a1_staff",
    "town_officer": "town_a_officer",
    "town_viewer": "town_a_viewer",
    "bureau_officer": "bureau_e_officer",
    "county_officer": "county_officer",
    "admin": "admin",
    "machine": "machine",  # town A, read permissions only
}
ROLES = tuple(ACTOR)
UPLOADERS = frozenset(ROLES) - {"town_viewer", "machine"}

ENTERPRISE = frozenset({"ent_manager", "ent_staff"})
GOVERNMENT = frozenset({"town_officer", "bureau_officer", "county_officer", "admin"})
COUNTY_OR_TOWN = frozenset({"town_officer", "county_officer", "admin"})

STATES = ("registered", "rectifying", "awaiting_acceptance", "closed", "voided")
OPEN = frozenset({"registered", "rectifying", "awaiting_acceptance"})


@dataclass(frozen=True)
class Kind:
    level: str
    self_found: bool  # registered by the enterprise (self_inspection) or by town A (inspection)
    overdue: bool = False
    supervised: bool = False


KINDS = {
    "gov_general": Kind("general", self_found=False),
    "self_general": Kind("general", self_found=True),
    "gov_major": Kind("major", self_found=False),
    "self_major": Kind("major", self_found=True),
    "gov_major_supervised": Kind("major", self_found=False, supervised=True),
    "gov_general_overdue": Kind("general", self_found=False, overdue=True),
}

# ---- the rules, as the issue and DOMAIN.md state them ------------------------------------------

FROM_STATES = {
    "plan": {"registered"},
    "fix_on_spot": {"registered"},
    "complete": {"rectifying"},
    "accept": {"awaiting_acceptance"},
    "reject": {"awaiting_acceptance"},
    "void": OPEN,
    "extend": {"registered", "rectifying"},
    "reclassify": OPEN,
    "supervise": OPEN,
    "unsupervise": OPEN | {"closed"},
    "escalate": OPEN,
}
NEXT_STATE = {
    "plan": "rectifying",
    "fix_on_spot": "closed",
    "complete": "awaiting_acceptance",
    "accept": "closed",
    "reject": "rectifying",
    "void": "voided",
}


def may_act(action: str, kind: Kind) -> frozenset[str]:
    """Who may take the action at all on this hazard (everyone else: 403)."""
    general_self_found = kind.level == "general" and kind.self_found
    table = {
        # rectification work: the enterprise, or government acting for it
        "plan": ENTERPRISE | GOVERNMENT,
        "complete": ENTERPRISE | GOVERNMENT,
        # 立查立改: the enterprise itself
        "fix_on_spot": ENTERPRISE,
        # 审核把关销号: government; the enterprise manager only for its own general self-found ones
        "accept": GOVERNMENT | ({"ent_manager"} if general_self_found else set()),
        "reject": GOVERNMENT | ({"ent_manager"} if general_self_found else set()),
        "void": GOVERNMENT | ({"ent_manager"} if general_self_found else set()),
        # an extension of a major hazard is approved by government only
        "extend": GOVERNMENT | (ENTERPRISE if kind.level == "general" else set()),
        "reclassify": GOVERNMENT,
        # 挂牌督办 and escalation: the county or a town
        "supervise": COUNTY_OR_TOWN,
        "unsupervise": COUNTY_OR_TOWN,
        "escalate": COUNTY_OR_TOWN,
    }
    return frozenset(table[action])


def possible(action: str, kind: Kind) -> bool:
    """Guards that make an action impossible for this hazard whoever asks (409)."""
    if action == "fix_on_spot":
        return kind.level == "general" and kind.self_found
    if action == "supervise":
        return kind.level == "major" and not kind.supervised
    if action == "unsupervise":
        return kind.supervised
    if action == "escalate":
        return kind.overdue
    if action == "reclassify":
        # a major hazard can only become general, and a listed one must be taken off first
        return not kind.supervised
    return True


def expected_status(action: str, kind: Kind, state: str, role: str) -> int:
    if role not in may_act(action, kind):
        return 403
    if state not in FROM_STATES[action] or not possible(action, kind):
        return 409
    return 200


# ---- bringing a hazard into a state -------------------------------------------------------------

OVERDUE_FIELDS = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}


def plan_for(kind: Kind, h: dict[str, Any]) -> dict[str, Any]:
    """A complete plan due on the hazard's deadline (never after it)."""
    return {**(MAJOR_PLAN if kind.level == "major" else GENERAL_PLAN), "deadline": h["deadline"]}


def later(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


async def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


async def bring(client, world: World, kind: Kind, state: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A fresh hazard of ent_a1 in ``state``, walked there through the API."""
    registrar = "ent_a1_staff" if kind.self_found else "town_a_officer"
    fields: dict[str, Any] = {"level": kind.level}
    if kind.overdue:
        fields.update(OVERDUE_FIELDS)
    h = await register(client, world, registrar, **fields)
    hid = h["id"]
    if kind.supervised:
        h = await ok(
            await act(
                client,
                world,
                "county_officer",
                hid,
                "supervise",
                supervisor_user_id=world["county_officer"],
            )
        )
    if state == "voided":
        h = await ok(await act(client, world, "county_officer", hid, "void", reason="登记错误"))
    if state in ("rectifying", "awaiting_acceptance", "closed"):
        h = await ok(await act(client, world, registrar, hid, "plan", plan=plan_for(kind, h)))
    if state in ("awaiting_acceptance", "closed"):
        photo = await upload(client, world, registrar)
        h = await ok(await act(client, world, registrar, hid, "complete", attachment_ids=[photo]))
    if state == "closed":
        h = await ok(await act(client, world, "county_officer", hid, "accept", note="验收合格"))
    assert h["status"] == state
    assert h["is_overdue"] is (kind.overdue and state in OPEN)
    return h


async def payload_for(  # type: ignore[no-untyped-def]
    client, world: World, action: str, kind: Kind, role: str, h: dict[str, Any]
) -> dict[str, Any]:
    """A payload that is valid for this role (evidence uploaded by the role itself)."""
    actor = ACTOR[role]
    if action == "plan":
        return {"plan": plan_for(kind, h)}
    if action in ("fix_on_spot", "complete"):
        ids = [await upload(client, world, actor)] if role in UPLOADERS else []
        return {"attachment_ids": ids}
    if action == "accept":
        return {"note": "验收合格"}
    if action == "reject":
        return {"reason": "整改不到位"}
    if action == "void":
        return {"reason": "重复登记"}
    if action == "extend":  # within what an enterprise may take on its own (30 days, once)
        return {"deadline": later(h["deadline"], 30), "reason": "设备到货延迟"}
    if action == "reclassify":
        if kind.level == "general":
            return {"level": "major", "judgment": JUDGMENT, "reason": "复核为重大隐患"}
        return {"level": "general", "reason": "复核为一般隐患"}
    if action == "supervise":
        supervisor = "town_a_officer" if role == "machine" else actor
        return {"supervisor_user_id": world[supervisor], "disclosed": True}
    if action == "escalate":
        return {"note": "逾期未整改，函告"}
    return {}


# ---- the cases ------------------------------------------------------------------------------------

MAIN_KIND = {
    "plan": "gov_general",
    "fix_on_spot": "self_general",
    "complete": "gov_general",
    "accept": "gov_general",
    "reject": "gov_general",
    "void": "gov_general",
    "extend": "gov_general",
    "reclassify": "gov_general",
    "supervise": "gov_major",
    "unsupervise": "gov_major_supervised",
    "escalate": "gov_general_overdue",
}
EXTRA_CASES = [
    ("plan", "gov_major", "registered"),
    ("plan", "self_general", "registered"),
    ("plan", "self_major", "registered"),
    ("plan", "gov_general_overdue", "registered"),
    ("fix_on_spot", "gov_general", "registered"),
    ("fix_on_spot", "self_major", "registered"),
    ("complete", "self_major", "rectifying"),
    ("complete", "gov_general_overdue", "rectifying"),
    ("accept", "self_general", "awaiting_acceptance"),
    ("accept", "self_major", "awaiting_acceptance"),
    ("accept", "gov_major", "awaiting_acceptance"),
    ("reject", "self_general", "awaiting_acceptance"),
    ("reject", "self_major", "awaiting_acceptance"),
    ("reject", "gov_major", "awaiting_acceptance"),
    ("void", "self_general", "registered"),
    ("void", "self_general", "rectifying"),
    ("void", "self_major", "registered"),
    ("void", "gov_major", "registered"),
    ("extend", "gov_major", "registered"),
    ("extend", "gov_major", "rectifying"),
    ("extend", "self_general", "rectifying"),
    ("extend", "self_major", "registered"),
    ("extend", "gov_general_overdue", "registered"),
    ("reclassify", "gov_major", "registered"),
    ("reclassify", "gov_major_supervised", "registered"),
    ("reclassify", "self_general", "rectifying"),
    ("supervise", "gov_general", "registered"),
    ("supervise", "gov_major_supervised", "registered"),
    ("supervise", "self_major", "rectifying"),
    ("unsupervise", "gov_major", "registered"),
    ("escalate", "gov_general", "registered"),
]
CASES = [(a, MAIN_KIND[a], s) for a in MAIN_KIND for s in STATES] + EXTRA_CASES


async def check_case(client, world: World, action: str, kind_name: str, state: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every role tries ``action`` on a ``kind_name`` hazard in ``state``; returns the cells that differ."""
    kind = KINDS[kind_name]
    cell = f"{action} on {kind_name} in {state}"
    expected = {role: expected_status(action, kind, state, role) for role in ROLES}
    shared = await bring(client, world, kind, state)  # refusals must leave it untouched
    history = f"/api/v1/hazards/{shared['id']}/events"
    events_before = (await client.get(history, headers=world.h("admin"))).json()["items"]
    out: list[str] = []
    for role in ROLES:
        actor = ACTOR[role]
        want = expected[role]
        h = await bring(client, world, kind, state) if want == 200 else shared
        got = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor))
        assert got.status_code == 200, got.text
        offered = action in got.json()["allowed_actions"]
        if offered != (want == 200):
            out.append(f"{cell}, {role}: allowed_actions has it={offered}, expected {want}")
        payload = await payload_for(client, world, action, kind, role, h)
        r = await act(client, world, actor, h["id"], action, **payload)
        if r.status_code != want:
            out.append(f"{cell}, {role}: {r.status_code}, expected {want}: {r.text[:160]}")
            continue
        if want != 200:
            if not r.headers["content-type"].startswith("application/problem+json"):
                out.append(f"{cell}, {role}: not a problem document")
            if want == 409 and r.json()["code"] != "invalid_transition":
                out.append(f"{cell}, {role}: code {r.json()['code']}")
            continue
        body = r.json()
        if body["status"] != NEXT_STATE.get(action, state):
            out.append(f"{cell}, {role}: now {body['status']}")
        events = (
            await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
        ).json()["items"]
        last = events[-1]
        seen = (last["action"], last["from_status"], last["to_status"], last["actor"]["id"])
        if seen != (action, state, body["status"], world[actor]):
            out.append(f"{cell}, {role}: last event {seen}")
        if last["attachment_ids"] != payload.get("attachment_ids", []):
            out.append(f"{cell}, {role}: event attachments {last['attachment_ids']}")
    events_after = (await client.get(history, headers=world.h("admin"))).json()["items"]
    if events_after != events_before:
        out.append(f"{cell}: a refused action wrote an event")
    return out


@pytest.mark.parametrize("action", list(FROM_STATES))
async def test_action_by_every_role_in_every_state(client, world: World, action: str) -> None:  # type: ignore[no-untyped-def]
    cases = [(k, s) for a, k, s in CASES if a == action]
    assert len(cases) >= len(STATES)
    mismatches: list[str] = []
    for kind_name, state in cases:
        mismatches += await check_case(client, world, action, kind_name, state)
    assert not mismatches, "\n".join(mismatches)


# ---- specific rules -------------------------------------------------------------------------------


def _leaf(field: str) -> str:
    """The body field an error names. The transition body is a union tagged by ``action`` and the
    error path currently carries the tag (``void.reason``); only the last segment is asserted."""
    return field.rsplit(".", 1)[-1]


async def _to_rectifying(client, world: World, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", **fields)
    plan = MAJOR_PLAN if h["level"] == "major" else GENERAL_PLAN
    return await ok(await act(client, world, "ent_a1_manager", h["id"], "plan", plan=plan))


async def test_complete_requires_rectification_evidence(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await _to_rectifying(client, world)
    r = await act(client, world, "ent_a1_manager", h["id"], "complete")
    assert r.status_code == 422
    assert r.json()["code"] == "evidence_required"
    assert r.json()["errors"][0]["field"] == "attachment_ids"
    # a discovery photo is not rectification evidence
    h2 = await register(
        client, world, attachment_ids=[await upload(client, world, "town_a_officer")]
    )
    await ok(await act(client, world, "ent_a1_manager", h2["id"], "plan", plan=GENERAL_PLAN))
    r = await act(client, world, "ent_a1_manager", h2["id"], "complete")
    assert r.status_code == 422
    assert r.json()["code"] == "evidence_required"
    got = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("ent_a1_manager"))
    assert got.json()["status"] == "rectifying"


async def test_fix_on_spot_requires_an_after_photo(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "ent_a1_manager")
    r = await act(client, world, "ent_a1_manager", h["id"], "fix_on_spot", attachment_ids=[])
    assert r.status_code == 422
    assert r.json()["code"] == "evidence_required"
    photo = await upload(client, world, "ent_a1_manager")
    closed = await ok(
        await act(client, world, "ent_a1_manager", h["id"], "fix_on_spot", attachment_ids=[photo])
    )
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert [(a["id"], a["phase"]) for a in closed["attachments"]] == [(photo, "rectification")]


async def test_evidence_uploaded_by_someone_else_cannot_be_used(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await _to_rectifying(client, world)
    theirs = await upload(client, world, "ent_a1_staff")
    r = await act(client, world, "ent_a1_manager", h["id"], "complete", attachment_ids=[theirs])
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_attachment"
    assert theirs in r.json()["detail"]
    # nor on the spot
    h2 = await register(client, world, "ent_a1_manager")
    r = await act(client, world, "ent_a1_manager", h2["id"], "fix_on_spot", attachment_ids=[theirs])
    assert r.status_code == 422
    # the file stays its uploader's, still unbound, and usable by them
    r = await act(client, world, "ent_a1_staff", h["id"], "complete", attachment_ids=[theirs])
    assert r.status_code == 200, r.text


async def test_evidence_already_bound_to_a_hazard_cannot_be_reused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await _to_rectifying(client, world)
    b = await _to_rectifying(client, world)
    photo = await upload(client, world, "ent_a1_manager")
    await ok(
        await act(client, world, "ent_a1_manager", a["id"], "complete", attachment_ids=[photo])
    )
    r = await act(client, world, "ent_a1_manager", b["id"], "complete", attachment_ids=[photo])
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_attachment"


async def test_major_plan_needs_all_five_items_interim_measures_and_equipment_stop(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, level="major")
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=GENERAL_PLAN)
    assert r.status_code == 422
    assert r.json()["code"] == "plan_incomplete"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {
        "plan.funds_yuan",
        "plan.contingency_plan",
        "plan.interim_measures",
        "plan.equipment_out_of_service",
    }
    for missing in MAJOR_PLAN:
        plan = {k: v for k, v in MAJOR_PLAN.items() if k != missing}
        r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=plan)
        assert r.status_code == 422, missing
        assert [e["field"] for e in r.json()["errors"]] == [f"plan.{missing}"]
    assert (await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))).json()[
        "status"
    ] == "registered"
    done = await ok(await act(client, world, "ent_a1_manager", h["id"], "plan", plan=MAJOR_PLAN))
    assert done["plan"]["interim_measures"] == MAJOR_PLAN["interim_measures"]
    assert done["plan"]["equipment_out_of_service"] is True
    assert done["plan"]["funds_yuan"] == 52000.5


async def test_general_plan_needs_person_measures_and_deadline(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan={"measures": "更换护栏"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "plan.responsible_person",
        "plan.deadline",
    }


async def test_plan_deadline_after_the_hazard_deadline_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, deadline="2099-01-15")
    r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=GENERAL_PLAN)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["plan.deadline"]
    same_day = {**GENERAL_PLAN, "deadline": "2099-01-15"}
    await ok(await act(client, world, "ent_a1_manager", h["id"], "plan", plan=same_day))


async def test_extend_needs_a_later_deadline_and_a_reason(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, deadline="2099-06-30")
    for earlier in ("2099-06-30", "2099-06-01"):
        r = await act(
            client, world, "town_a_officer", h["id"], "extend", deadline=earlier, reason="延期"
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "deadline"
    r = await act(client, world, "town_a_officer", h["id"], "extend", deadline="2099-07-31")
    assert r.status_code == 422
    assert [_leaf(e["field"]) for e in r.json()["errors"]] == ["reason"]
    done = await ok(
        await act(
            client,
            world,
            "ent_a1_staff",
            h["id"],
            "extend",
            deadline="2099-07-30",
            reason="停产检修",
        )
    )
    assert done["deadline"] == "2099-07-30"
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert events[-1]["action"] == "extend"
    assert events[-1]["note"] == "停产检修"
    assert events[-1]["details"] == {
        "from_deadline": "2099-06-30",
        "to_deadline": "2099-07-30",
        "enterprise_extension": 1,  # the enterprise's first (and, by default, only) own extension
    }


async def test_enterprise_cannot_extend_a_major_hazard_but_government_can(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, level="major")
    for actor in ("ent_a1_manager", "ent_a1_staff"):
        r = await act(client, world, actor, h["id"], "extend", deadline="2100-01-31", reason="x")
        assert r.status_code == 403
    done = await ok(
        await act(
            client,
            world,
            "bureau_e_officer",
            h["id"],
            "extend",
            deadline="2100-01-31",
            reason="批准延期",
        )
    )
    assert done["deadline"] == "2100-01-31"


async def test_reclassify_to_major_needs_the_judgment_clause(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    r = await act(client, world, "county_officer", h["id"], "reclassify", level="major")
    assert r.status_code == 422
    assert r.json()["code"] == "judgment_required"
    assert r.json()["errors"][0]["field"] == "judgment"
    r = await act(client, world, "county_officer", h["id"], "reclassify", level="general")
    assert r.status_code == 422  # already general
    major = await ok(
        await act(
            client, world, "county_officer", h["id"], "reclassify", level="major", judgment=JUDGMENT
        )
    )
    assert major["level"] == "major"
    assert major["judgment"] == JUDGMENT
    assert "supervise" in major["allowed_actions"]
    r = await act(
        client, world, "county_officer", h["id"], "reclassify", level="general", judgment=JUDGMENT
    )
    assert r.status_code == 422  # a general hazard carries no judgment
    general = await ok(
        await act(client, world, "county_officer", h["id"], "reclassify", level="general")
    )
    assert general["level"] == "general" and general["judgment"] is None
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert [(e["action"], e["details"]) for e in events[1:]] == [
        ("reclassify", {"from_level": "general", "to_level": "major"}),
        ("reclassify", {"from_level": "major", "to_level": "general"}),
    ]


async def test_supervision_rules(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, level="major")
    hid = h["id"]
    # the supervisor must be a user of the caller's own unit
    for supervisor in ("town_a_officer", "bureau_e_officer", "ent_a1_manager", "missing"):
        sid = world.ids.get(supervisor, "no-such-user")
        r = await act(client, world, "county_officer", hid, "supervise", supervisor_user_id=sid)
        assert r.status_code == 422, supervisor
        assert r.json()["errors"][0]["field"] == "supervisor_user_id"
    r = await act(
        client,
        world,
        "bureau_e_manager",
        hid,
        "supervise",
        supervisor_user_id=world["bureau_e_officer"],
    )
    assert r.status_code == 403
    listed = await ok(
        await act(
            client,
            world,
            "town_a_officer",
            hid,
            "supervise",
            supervisor_user_id=world["town_a_manager"],
            disclosed=True,
        )
    )
    assert listed["supervised"] is True
    sup = listed["supervision"]
    assert sup["org_unit_id"] == world["town_a"]
    assert sup["supervisor_user_id"] == world["town_a_manager"]
    assert sup["disclosed"] is True and sup["listed_at"]
    assert "supervise" not in listed["allowed_actions"]
    assert "unsupervise" in listed["allowed_actions"]
    r = await act(
        client,
        world,
        "county_officer",
        hid,
        "supervise",
        supervisor_user_id=world["county_officer"],
    )
    assert r.status_code == 409
    off = await ok(await act(client, world, "county_officer", hid, "unsupervise"))
    assert off["supervised"] is False and off["supervision"] is None
    r = await act(client, world, "county_officer", hid, "unsupervise")
    assert r.status_code == 409
    again = await ok(
        await act(
            client,
            world,
            "county_officer",
            hid,
            "supervise",
            supervisor_user_id=world["county_officer"],
        )
    )
    assert again["supervision"]["org_unit_id"] == world["county"]
    assert again["supervision"]["disclosed"] is False


async def test_supervised_major_hazard_must_be_taken_off_the_list_before_becoming_general(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, level="major")
    listed = await ok(
        await act(
            client,
            world,
            "county_officer",
            h["id"],
            "supervise",
            supervisor_user_id=world["county_officer"],
        )
    )
    assert "reclassify" not in listed["allowed_actions"]
    r = await act(client, world, "county_officer", h["id"], "reclassify", level="general")
    assert r.status_code == 409
    off = await ok(await act(client, world, "county_officer", h["id"], "unsupervise"))
    assert "reclassify" in off["allowed_actions"]
    await ok(await act(client, world, "county_officer", h["id"], "reclassify", level="general"))


async def test_escalation_climbs_the_ladder_once_per_rung(client, world: World) -> None:  # type: ignore[no-untyped-def]
    fresh = await register(client, world)
    r = await act(client, world, "county_officer", fresh["id"], "escalate", note="函告")
    assert r.status_code == 409  # not overdue
    h = await register(client, world, **OVERDUE_FIELDS)
    assert h["is_overdue"] is True and h["escalation"] == "none"
    assert "escalate" in h["allowed_actions"]
    ladder = [
        ("town_a_officer", "notice_letter", "函告"),
        ("county_officer", "circulated", "通报"),
        ("admin", "summoned", "约谈"),
        ("county_officer", "exposed", "曝光"),
    ]
    for actor, level, note in ladder:
        h = await ok(await act(client, world, actor, h["id"], "escalate", note=note))
        assert h["escalation"] == level
    assert "escalate" not in h["allowed_actions"]
    r = await act(client, world, "county_officer", h["id"], "escalate", note="再次升级")
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    history = h["escalation_history"]
    assert [(s["level"], s["actor"]["id"], s["note"]) for s in history] == [
        (level, world[actor], note) for actor, level, note in ladder
    ]
    assert [s["at"] for s in history] == sorted(s["at"] for s in history)
    r = await act(client, world, "county_officer", h["id"], "escalate")
    assert r.status_code == 422  # a note is required


async def test_every_action_is_in_the_history_oldest_first(client, world: World) -> None:  # type: ignore[no-untyped-def]
    discovery = await upload(client, world, "town_a_officer")
    h = await register(client, world, level="major", attachment_ids=[discovery], **OVERDUE_FIELDS)
    hid = h["id"]
    photo1 = await upload(client, world, "ent_a1_manager")
    photo2 = await upload(client, world, "ent_a1_staff")
    record = await upload(client, world, "county_officer")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("county_officer", "supervise", {"supervisor_user_id": world["county_officer"]}),
        ("town_a_officer", "escalate", {"note": "函告企业"}),
        ("bureau_e_officer", "extend", {"deadline": "2099-12-31", "reason": "设备采购"}),
        ("ent_a1_manager", "plan", {"plan": MAJOR_PLAN, "note": "方案已报"}),
        ("ent_a1_manager", "complete", {"attachment_ids": [photo1]}),
        ("county_officer", "reject", {"reason": "泄爆面积不足"}),
        ("ent_a1_staff", "complete", {"attachment_ids": [photo2], "note": "已加大泄爆面积"}),
        ("county_officer", "accept", {"attachment_ids": [record], "note": "验收合格"}),
        ("county_officer", "unsupervise", {}),
    ]
    for actor, action, payload in steps:
        await ok(await act(client, world, actor, hid, action, **payload))
    r = await client.get(f"/api/v1/hazards/{hid}/events", headers=world.h("town_a_viewer"))
    assert r.status_code == 200
    events = r.json()["items"]
    assert [e["action"] for e in events] == ["register"] + [s[1] for s in steps]
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
    assert [e["actor"]["id"] for e in events] == [world["town_a_officer"]] + [
        world[s[0]] for s in steps
    ]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "registered"),
        ("registered", "registered"),
        ("registered", "registered"),
        ("registered", "registered"),
        ("registered", "rectifying"),
        ("rectifying", "awaiting_acceptance"),
        ("awaiting_acceptance", "rectifying"),
        ("rectifying", "awaiting_acceptance"),
        ("awaiting_acceptance", "closed"),
        ("closed", "closed"),
    ]
    notes = [e["note"] for e in events]
    assert notes[2] == "函告企业"
    assert notes[3] == "设备采购"
    assert notes[4] == "方案已报"
    assert notes[6] == "泄爆面积不足"
    assert notes[7] == "已加大泄爆面积"
    assert notes[8] == "验收合格"
    assert [e["attachment_ids"] for e in events] == [
        [discovery],
        [],
        [],
        [],
        [],
        [photo1],
        [],
        [photo2],
        [record],
        [],
    ]
    assert all(e["actor_kind"] == "user" for e in events)
    final = (await client.get(f"/api/v1/hazards/{hid}", headers=world.h("admin"))).json()
    assert {a["id"]: a["phase"] for a in final["attachments"]} == {
        discovery: "discovery",
        photo1: "rectification",
        photo2: "rectification",
        record: "acceptance",
    }


async def test_void_and_reject_need_a_reason(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    for body in ({"action": "void"}, {"action": "void", "reason": ""}):
        r = await client.post(
            f"/api/v1/hazards/{h['id']}/transitions", json=body, headers=world.h("county_officer")
        )
        assert r.status_code == 422
        assert [_leaf(e["field"]) for e in r.json()["errors"]] == ["reason"]
    voided = await ok(
        await act(client, world, "county_officer", h["id"], "void", reason="重复登记")
    )
    assert voided["status"] == "voided"
    assert voided["allowed_actions"] == []
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert (events[-1]["action"], events[-1]["note"]) == ("void", "重复登记")
    h2 = await _to_rectifying(client, world)
    photo = await upload(client, world, "ent_a1_manager")
    await ok(
        await act(client, world, "ent_a1_manager", h2["id"], "complete", attachment_ids=[photo])
    )
    r = await act(client, world, "county_officer", h2["id"], "reject")
    assert r.status_code == 422


async def test_stale_if_match_is_412_and_current_one_is_accepted(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    url = f"/api/v1/hazards/{h['id']}/transitions"
    first = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("county_officer"))
    etag = first.headers["etag"]
    r = await client.post(
        url,
        json={"action": "plan", "plan": GENERAL_PLAN},
        headers=world.h("ent_a1_manager", **{"If-Match": etag}),
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != etag
    stale = await client.post(
        url,
        json={"action": "extend", "deadline": "2100-01-01", "reason": "延期"},
        headers=world.h("county_officer", **{"If-Match": etag}),
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    now = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("county_officer"))
    assert now.json()["deadline"] == "2099-12-31"
    fresh = await client.post(
        url,
        json={"action": "extend", "deadline": "2100-01-01", "reason": "延期"},
        headers=world.h("county_officer", **{"If-Match": now.headers["etag"]}),
    )
    assert fresh.status_code == 200


MALFORMED = [
    {"action": "sign_off"},
    {"action": "ACCEPT"},
    {},
    {"action": "accept", "unexpected": 1},
    {"action": "plan"},
]


async def test_unknown_action_or_malformed_body_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    for body in MALFORMED:
        r = await client.post(
            f"/api/v1/hazards/{h['id']}/transitions", json=body, headers=world.h("county_officer")
        )
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_error"


async def test_out_of_scope_actor_gets_404_for_every_action(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, level="major")
    for outsider in ("town_b_officer", "bureau_c_officer", "ent_b1_manager"):
        payloads: dict[str, dict[str, Any]] = {
            "plan": {"plan": MAJOR_PLAN},
            "fix_on_spot": {},
            "complete": {},
            "accept": {},
            "reject": {"reason": "x"},
            "void": {"reason": "x"},
            "extend": {"deadline": "2100-01-01", "reason": "x"},
            "reclassify": {"level": "general"},
            "supervise": {"supervisor_user_id": world[outsider]},
            "unsupervise": {},
            "escalate": {"note": "x"},
        }
        assert set(payloads) == set(FROM_STATES)
        for action, payload in payloads.items():
            r = await act(client, world, outsider, h["id"], action, **payload)
            assert r.status_code == 404, (outsider, action, r.text)
        for path in (f"/api/v1/hazards/{h['id']}", f"/api/v1/hazards/{h['id']}/events"):
            assert (await client.get(path, headers=world.h(outsider))).status_code == 404
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert [e["action"] for e in events] == ["register"]
