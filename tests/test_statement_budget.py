"""The statement budget of every read (issue 10): a list page is one data statement, a detail at
most two, plus one for the caller when this worker has not cached it yet. Counted with
SQLAlchemy's cursor events, for every role that may make the request."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.jobs import run_jobs
from tests.conftest import World
from tests.hazard_helpers import act, register, upload
from tests.inspection_helpers import FINDING, TEAM_A, certify, ok, plan
from tests.statements import statements

PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}
ROLES = (
    "admin",
    "county_officer",
    "town_a_officer",
    "town_a_manager",
    "bureau_e_officer",
    "ent_a1_manager",
    "ent_a1_staff",
    "machine",
)
LIST, DETAIL = 1, 2


@pytest.fixture
async def reads(app, client, world: World, settings) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Every list and detail endpoint, against a hazard with a photo and an escalation step."""
    photo = await upload(client, world, "town_a_officer")
    h = await register(client, world, "town_a_officer", "ent_a1", attachment_ids=[photo], **PAST)
    # overdue, with reminders and their notifications
    await run_jobs(app.state.sessionmaker, settings, "t-budget")
    r = await act(client, world, "admin", h["id"], "escalate", note="函告企业限期整改")
    assert r.status_code == 200, r.text
    letter = await upload(client, world, "admin")
    record = await client.post(
        "/api/v1/accountability",
        json={
            "target": {"enterprise_id": world["ent_a1"]},
            "rung": "notice_letter",
            "reason": "隐患逾期未整改",
            "hazard_ids": [h["id"]],
            "attachment_ids": [letter],
        },
        headers=world.h("admin"),
    )
    assert record.status_code == 201, record.text
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "add_finding", **FINDING)
    from tests.task_helpers import county_campaign
    from tests.test_risk_points import _create

    point = await _create(client, world)
    tasks = await county_campaign(client, world)
    v1 = "/api/v1"
    return {
        "inspections": (f"{v1}/inspections", LIST),
        "inspections filtered": (f"{v1}/inspections?decision=fine&has_findings=true", LIST),
        # the inspection with its listed people's names, then its findings (hazards)
        "inspection": (f"{v1}/inspections/{insp['id']}", DETAIL),
        "inspection events": (f"{v1}/inspections/{insp['id']}/events", LIST),
        "hazards": (f"{v1}/hazards", LIST),
        "hazards filtered": (f"{v1}/hazards?status=registered,rectifying&overdue=true", LIST),
        "hazard": (f"{v1}/hazards/{h['id']}", DETAIL),
        "hazard events": (f"{v1}/hazards/{h['id']}/events", LIST),
        "attachment": (f"{v1}/attachments/{photo}", DETAIL),
        "enterprises": (f"{v1}/enterprises", LIST),
        "enterprise": (f"{v1}/enterprises/{world['ent_a1']}", DETAIL),
        "users": (f"{v1}/users", LIST),
        "user": (f"{v1}/users/{world['town_a_officer']}", DETAIL),
        "clients": (f"{v1}/clients", LIST),
        "client": (f"{v1}/clients/{world['machine']}", DETAIL),
        "org units": (f"{v1}/org-units", LIST),
        "org unit": (f"{v1}/org-units/{world['town_a']}", DETAIL),
        "reminders": (f"{v1}/reminders", LIST),
        "accountability": (f"{v1}/accountability", LIST),
        "accountability record": (f"{v1}/accountability/{record.json()['id']}", DETAIL),
        # the units, the figures of all of them in one grouped statement, their last records
        "unit statistics": (f"{v1}/statistics/units", 3),
        "reminders by kind": (f"{v1}/reminders?kind=overdue,deadline_warning", LIST),
        "notifications": (f"{v1}/notifications", LIST),
        "unread notifications": (f"{v1}/notifications?unread=true&kind=hazard_overdue", LIST),
        "catalogs": (f"{v1}/catalogs", LIST),
        "judgment standard": (f"{v1}/catalogs/judgment-standards/industry_trade", DETAIL),
        # open to all: the rate-limit counter (one autocommit upsert) and the page
        "public major hazards": (f"{v1}/public/major-hazards", LIST + 1),
        "me": (f"{v1}/me", DETAIL),
        # issue 12, enforcement figures: the measures and decisions, the key enterprises, the
        # zero-penalty units and the unit names; the page of those behind, the totals, the towns
        "enforcement statistics": (f"{v1}/statistics/enforcement?group_by=town", 4),
        "self-inspection compliance": (f"{v1}/statistics/self-inspection?period=2026-Q4", 3),
        # issue 13, the risk register
        "risk points": (f"{v1}/risk-points", LIST),
        "risk point": (f"{v1}/risk-points/{point['id']}", LIST),
        "risk point checklist": (f"{v1}/risk-points/{point['id']}/checklist", LIST),
        "risk notice board": (f"{v1}/risk-points/{point['id']}/notice-board", LIST),
        "risk lists": (f"{v1}/enterprises/{world['ent_a1']}/risk-lists?list=measures", LIST),
        # issue 14, task lists: a list's page, a task (list or detail); a list and its tasks
        "task lists": (f"{v1}/task-lists", LIST),
        "task list": (f"{v1}/task-lists/{tasks['list']['id']}", DETAIL),
        "tasks": (f"{v1}/tasks", LIST),
        "task": (f"{v1}/tasks/{tasks['t1']['id']}", LIST),
        "task events": (f"{v1}/tasks/{tasks['t1']['id']}/events", DETAIL),
    }


async def test_every_read_stays_within_its_statement_budget(
    app, client, world: World, reads: dict[str, tuple[str, int]]
) -> None:  # type: ignore[no-untyped-def]
    over: dict[str, Any] = {}
    answered = 0
    for role in ROLES:
        for name, (url, budget) in reads.items():
            first = await client.get(url, headers=world.h(role))  # the caller is now cached
            if first.status_code in (403, 404):
                continue  # not this role's to read
            assert first.status_code == 200, (role, name, first.text)
            with statements(app) as warm:
                assert (await client.get(url, headers=world.h(role))).status_code == 200
            app.state.principal_cache.clear()
            with statements(app) as cold:
                assert (await client.get(url, headers=world.h(role))).status_code == 200
            answered += 1
            if len(warm) > budget or len(cold) > budget + 1:
                over[f"{role} {name}"] = {"warm": warm, "cold": len(cold), "budget": budget}
    assert not over, over
    assert answered >= 70  # most roles read most resources: the budget was really exercised
