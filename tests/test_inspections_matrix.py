"""Every inspection action × actor × state, driven from the workflow table.

For each variant (kind, certificates) and state, one *probe* inspection is brought into the
state through the API. Every actor of the world (plus an assigned expert, an expert not
assigned, the read-only machine client and a machine client holding every inspection
permission) tries every action on it with a valid body. The expected answer is read from the
table (``workflow.MACHINE``: ``who``, ``from_states``, the guard) for the caller's resolved
principal and the inspection's facts, and the visibility from the scope rules written here:

- outside the caller's scope: 404 (an enterprise user before the start: 404);
- in scope, the role lacks ``inspections:read``: 403;
- in scope, the role lacks ``inspections:transition``: 403 ``forbidden``;
- in scope, not theirs: 403 ``action_forbidden``;
- theirs, not now (state or guard): 409 ``invalid_transition``;
- otherwise 200, checked on a fresh copy of the inspection in that state, so the probe keeps
  its state for the other callers (and the probe's version must not move under refusals).

``allowed_actions`` of the detail (and of the list item) equals exactly the set of actions that
succeed. Separately, the table's ``who`` is compared with the rules of the issue written out
here, so a table that drifts from the issue fails too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.auth.deps import _resolve
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.tokens import issue_token, read_token
from app.models import ApiClient
from app.services.inspections.workflow import MACHINE, Facts
from tests.conftest import World
from tests.inspection_helpers import FINDING, TEAM_A, act, add_expert, certify, plan

GOV_SEES_ENT_A1 = frozenset(
    {
        "admin",
        "county_officer",
        "county_viewer",
        "town_a_manager",
        "town_a_officer",
        "town_a_inspector",
        "town_a_viewer",
        "bureau_e_manager",
        "bureau_e_officer",
        "machine_rw",  # a client of town A
    }
)
OUTSIDE = frozenset({"town_b_officer", "bureau_c_officer", "ent_b1_manager", "expert_other"})
ENT_A1 = frozenset({"ent_a1_manager", "ent_a1_staff"})
ACTORS = (
    *sorted(GOV_SEES_ENT_A1 | OUTSIDE | ENT_A1),
    "expert",
    "machine",  # town A, read permissions for other resources only
)
ACTIONS = tuple(MACHINE)

BODIES: dict[str, dict[str, Any]] = {
    "start": {},
    "record_results": {"results": [{"item_code": "A-1", "result": "ok", "note": "良好"}]},
    "add_finding": FINDING,
    "complete": {},
    "sign": {},
    "amend": {"reason": "更正专项行动名称", "campaign": "冬季专项（更正）"},
    "cancel": {"reason": "天气原因取消"},
}


@dataclass(frozen=True)
class Variant:
    kind: str
    certified: bool = True

    @property
    def self_inspection(self) -> bool:
        return self.kind == "self_inspection"


VARIANTS = {
    "routine": Variant("routine"),
    "unannounced": Variant("unannounced"),
    "double_random": Variant("double_random"),
    "routine_uncertified": Variant("routine", certified=False),
    "expert_guidance_uncertified": Variant("expert_guidance", certified=False),
    "self_inspection": Variant("self_inspection"),
}
ALL_STATES = (
    "planned",
    "in_progress",
    "completed",
    "half_signed",
    "signed",
    "cancelled",
    "cancelled_started",
)
CASES = [
    *((v, s) for v in ("routine", "self_inspection") for s in ALL_STATES),
    ("unannounced", "planned"),
    ("unannounced", "in_progress"),
    ("double_random", "planned"),
    ("routine_uncertified", "planned"),
    ("routine_uncertified", "cancelled"),
    ("expert_guidance_uncertified", "planned"),
    ("expert_guidance_uncertified", "completed"),
]


# ---- the rules of the issue, written out independently of the table ----------------------------


def issue_who(actor: str, action: str, v: Variant) -> bool:
    """Who may take each action (issue 12, 'Resource /api/v1/inspections'; 谁检查、谁签名、谁负责)."""
    if v.self_inspection:
        # The enterprise conducts it; its listed people (the manager, who planned it) sign.
        if action == "sign":
            return actor == "ent_a1_manager"
        # Its own record: no government unit cancels or amends it (not even an admin).
        return actor in ENT_A1
    inspectors = set(TEAM_A)
    heads = {"admin", "town_a_manager"}  # the conducting unit's manager; county managers: none
    return {
        "start": inspectors,
        "record_results": inspectors | {"expert"},
        "add_finding": inspectors | {"expert"},
        "complete": inspectors,
        "sign": inspectors,
        "amend": inspectors | heads,
        "cancel": inspectors | heads,
    }[action].__contains__(actor)


def visible(actor: str, v: Variant, started: bool) -> bool:
    if actor in GOV_SEES_ENT_A1:
        return True
    if actor in ENT_A1:
        return started or v.self_inspection
    if actor == "expert":
        return not v.self_inspection
    return False


# ---- building ----------------------------------------------------------------------------------


async def _principal(app, world: World, actor: str) -> Principal:  # type: ignore[no-untyped-def]
    claims = read_token(world.settings, world.tokens[actor])
    assert claims is not None
    async with app.state.sessionmaker() as s:
        p = await _resolve(s, claims)
    assert p is not None
    return p


async def _setup(app, client, world: World, v: Variant) -> None:  # type: ignore[no-untyped-def]
    if v.certified:
        await certify(client, world, *TEAM_A)
    await add_expert(client, world, "expert")
    await add_expert(client, world, "expert_other")
    async with app.state.sessionmaker() as s:
        c = ApiClient(
            client_id="cli_town_a_inspections",
            secret_hash="-",
            name="巡查终端（测试）",
            org_unit_id=world["town_a"],
            permissions=[
                Permission.inspections_read.value,
                Permission.inspections_write.value,
                Permission.inspections_transition.value,
            ],
        )
        s.add(c)
        await s.commit()
    world.ids["machine_rw"] = c.id
    world.tokens["machine_rw"] = issue_token(world.settings, c.id, "client")[0]


async def _drive(client, world: World, v: Variant, insp_id: str, action: str, actor: str) -> None:  # type: ignore[no-untyped-def]
    r = await act(client, world, actor, insp_id, action, **BODIES[action])
    assert r.status_code == 200, (action, actor, r.text)


async def _make(client, world: World, v: Variant, state: str) -> str:  # type: ignore[no-untyped-def]
    """A new inspection of ent_a1 in ``state``, through the API."""
    if v.self_inspection:
        insp = await plan(
            client, world, "ent_a1_manager", team=(), kind="self_inspection", campaign="季度自查"
        )
        lead, signers = "ent_a1_manager", ("ent_a1_manager",)
    else:
        insp = await plan(
            client, world, kind=v.kind, experts=[world["expert"]], campaign="冬季专项"
        )
        lead, signers = TEAM_A[0], TEAM_A
    i = insp["id"]
    if state == "cancelled":
        await _drive(client, world, v, i, "cancel", lead)
    if state in ("planned", "cancelled"):
        return i
    await _drive(client, world, v, i, "start", lead)
    if state == "cancelled_started":
        await _drive(client, world, v, i, "cancel", lead)
    if state in ("in_progress", "cancelled_started"):
        return i
    await _drive(client, world, v, i, "complete", lead)
    if state == "completed":
        return i
    for n, signer in enumerate(signers):
        if state == "half_signed" and n == len(signers) - 1:
            break
        await _drive(client, world, v, i, "sign", signer)
    return i


def _facts(d: dict[str, Any], v: Variant) -> Facts:
    return Facts(
        status=d["status"],
        kind=d["kind"],
        enterprise_id=d["enterprise_id"],
        conducting_unit_id=d["conducting_unit_id"],
        inspectors=tuple(u["id"] for u in d["inspectors"]),
        experts=tuple(u["id"] for u in d["experts"]),
        signed_by=tuple(s["user"]["id"] for s in d["signatures"]),
        certified=2 if v.certified and not v.self_inspection else 0,
    )


def _expected(p: Principal, f: Facts, action: str, seen: bool) -> tuple[int, str | None]:
    if not p.can(Permission.inspections_read):
        return 403, None
    if not seen:
        return 404, "not_found"
    t = MACHINE[action]
    if not p.can(Permission.inspections_transition):
        return 403, "forbidden"  # the role lacks the permission (as for hazards)
    if not t.who(p, f):
        return 403, "action_forbidden"
    if f.status not in t.from_states or t.guard(p, f) is not None:
        return 409, "invalid_transition"
    return 200, None


@pytest.mark.parametrize(("variant", "state"), CASES, ids=[f"{v}-{s}" for v, s in CASES])
async def test_every_action_of_every_actor_answers_as_the_table_says(  # type: ignore[no-untyped-def]
    app, client, world, variant, state
) -> None:
    v = VARIANTS[variant]
    await _setup(app, client, world, v)
    probe = await _make(client, world, v, state)
    r = await client.get(f"/api/v1/inspections/{probe}", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    before = r.json()
    facts = _facts(before, v)
    started = before["started_at"] is not None
    principals = {a: await _principal(app, world, a) for a in ACTORS}

    # The table agrees with the issue's rules for every actor who sees the inspection.
    drift = [
        (a, action)
        for a in ACTORS
        for action in ACTIONS
        if visible(a, v, True)
        and principals[a].can(Permission.inspections_transition)
        and MACHINE[action].who(principals[a], facts) != issue_who(a, action, v)
    ]
    assert drift == [], drift

    mismatches = []
    for actor in ACTORS:
        p = principals[actor]
        seen = visible(actor, v, started)
        succeeding = set()
        for action in ACTIONS:
            status, code = _expected(p, facts, action, seen)
            if status == 200:
                succeeding.add(action)
                target = await _make(client, world, v, state)
            else:
                target = probe
            r = await act(client, world, actor, target, action, **BODIES[action])
            got = (r.status_code, r.json().get("code") if r.status_code != 200 else None)
            if r.status_code != status or (code is not None and got[1] != code):
                mismatches.append((actor, action, (status, code), got, r.text[:200]))
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json")
        # allowed_actions equals exactly what succeeds, in the detail and in the list.
        r = await client.get(f"/api/v1/inspections/{probe}", headers=world.h(actor))
        if not seen or not p.can(Permission.inspections_read):
            expected_get = 403 if not p.can(Permission.inspections_read) else 404
            if r.status_code != expected_get:
                mismatches.append((actor, "GET", expected_get, r.status_code, r.text[:200]))
            continue
        if r.status_code != 200:
            mismatches.append((actor, "GET", 200, r.status_code, r.text[:200]))
            continue
        if set(r.json()["allowed_actions"]) != succeeding:
            mismatches.append((actor, "allowed_actions", succeeding, r.json()["allowed_actions"]))
        r = await client.get("/api/v1/inspections", params={"limit": 500}, headers=world.h(actor))
        items = {i["id"]: i for i in r.json()["items"]}
        if set(items.get(probe, {}).get("allowed_actions", ["<absent>"])) != succeeding:
            mismatches.append((actor, "list allowed_actions", succeeding, items.get(probe)))
    assert mismatches == [], "\n".join(map(repr, mismatches))

    # Refusals left the probe as it was.
    r = await client.get(f"/api/v1/inspections/{probe}", headers=world.h("admin"))
    assert r.json()["version"] == before["version"]
    assert r.json()["status"] == before["status"]
