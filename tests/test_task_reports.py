"""Progress reports (进展报告) through HTTP: submitted by the assignee for its own part and a
period of the task's cycle, returned (退回) by the lead unit or the issuer and submitted again,
late after the period's end plus the grace, missing when never sent, figures checked against a
dispatch list's indicators, the assignee told once of a return, and no assignee ever seeing
another's reports."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from app.models import TaskList
from tests.conftest import World
from tests.hazard_helpers import upload
from tests.statements import statements
from tests.task_helpers import LISTS, TASKS, add_task, county_campaign, issue, new_list


def _today() -> date:
    from datetime import UTC, datetime

    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


def _this_month() -> str:
    t = _today()
    return f"{t.year:04d}-{t.month:02d}"


def _month_end(d: date) -> date:
    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


async def _submit(client, world: World, actor: str, task_id: str, period: str, **extra):  # type: ignore[no-untyped-def]
    body = {"period": period, "text": "已完成本期排查整治工作", **extra}
    return await client.post(f"{TASKS}/{task_id}/reports", json=body, headers=world.h(actor))


async def _return(client, world: World, actor: str, task_id: str, report_id: str):  # type: ignore[no-untyped-def]
    return await client.post(
        f"{TASKS}/{task_id}/reports/{report_id}/return",
        json={"reason": "数据不完整，请补充"},
        headers=world.h(actor),
    )


async def _inbox(client, world: World, actor: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/notifications?limit=100", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == "task_report_returned"]


async def test_submit_return_and_submit_again(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]  # monthly, towns A and B and bureau E, led by bureau E
    period = _this_month()
    r = await _submit(client, world, "town_a_officer", t1, period)
    assert r.status_code == 201, r.text
    first = r.json()
    assert r.headers["location"] == f"{TASKS}/{t1}/reports/{first['id']}"
    assert first["status"] == "submitted" and first["late"] is False
    assert first["unit"]["id"] == world["town_a"] and first["enterprise"] is None
    assert first["due_on"] == str(_month_end(_today()) + timedelta(days=5))
    assert first["submitted_by"]["name"] and first["allowed_actions"] == []
    # One submitted report per part and period.
    r = await _submit(client, world, "town_a_officer", t1, period)
    assert r.status_code == 409 and r.json()["code"] == "report_already_submitted"
    # Not the assignee's own to return; another assignee does not even see it.
    assert (await _return(client, world, "town_a_officer", t1, first["id"])).status_code == 403
    assert (await _return(client, world, "town_b_officer", t1, first["id"])).status_code == 404
    # The lead unit sees it returnable and returns it.
    r = await client.get(f"{TASKS}/{t1}/reports/{first['id']}", headers=world.h("bureau_e_officer"))
    assert r.json()["allowed_actions"] == ["return"]
    r = await _return(client, world, "bureau_e_officer", t1, first["id"])
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["status"] == "returned" and back["return_reason"] == "数据不完整，请补充"
    assert back["returned_by"]["name"] and back["returned_at"] and back["allowed_actions"] == []
    again = await _return(client, world, "admin", t1, first["id"])
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    # The assignee's users are told once; nobody else.
    told = {
        a: len(await _inbox(client, world, a))
        for a in (
            "town_a_officer",
            "town_a_viewer",
            "town_b_officer",
            "bureau_e_manager",
            "admin",
            "ent_a1_manager",
        )
    }
    assert told == {
        "town_a_officer": 1,
        "town_a_viewer": 1,
        "town_b_officer": 0,
        "bureau_e_manager": 0,
        "admin": 0,
        "ent_a1_manager": 0,
    }
    note = (await _inbox(client, world, "town_a_officer"))[0]
    assert note["link"] == f"{TASKS}/{t1}/reports/{first['id']}"
    assert note["object_type"] == "task_report" and note["object_id"] == first["id"]
    assert period in note["body"] and "数据不完整" in note["body"]
    r = await client.get(
        "/api/v1/notifications?limit=100",
        headers=world.h("town_a_officer", **{"Accept-Language": "en"}),
    )
    (en,) = [n for n in r.json()["items"] if n["kind"] == "task_report_returned"]
    assert en["title"].startswith("Report returned") and period in en["title"]
    # A new one for the same period; the issuer (the county's admin) may return it too.
    r = await _submit(client, world, "town_a_officer", t1, period)
    assert r.status_code == 201, r.text
    second = r.json()
    assert (await _return(client, world, "admin", t1, second["id"])).status_code == 200
    assert len(await _inbox(client, world, "town_a_officer")) == 2
    r = await client.get(f"{TASKS}/{t1}/reports?period={period}", headers=world.h("admin"))
    assert [x["id"] for x in r.json()["items"]] == [first["id"], second["id"]]
    # The history holds each report and return.
    r = await client.get(f"{TASKS}/{t1}/events", headers=world.h("admin"))
    actions = [e["action"] for e in r.json()["items"] if e["action"] in ("report", "return")]
    assert actions == ["report", "return", "report", "return"]
    ev = next(e for e in r.json()["items"] if e["action"] == "report")
    assert ev["details"]["report_id"] == first["id"] and ev["details"]["period"] == period


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("town_a_officer", 201),
        ("town_a_inspector", 201),
        ("town_a_manager", 201),
        ("town_a_viewer", 403),  # reads only
        ("bureau_e_officer", 201),  # the lead unit is also an assignee here
        ("county_officer", 403),  # sees the task, has no part
        ("bureau_c_officer", 404),  # does not see the task
        ("ent_a1_manager", 404),
        ("machine", 403),  # no tasks:read
    ],
)
async def test_only_an_assignee_submits_for_its_own_part(  # type: ignore[no-untyped-def]
    client, world: World, actor, status
) -> None:
    made = await county_campaign(client, world)
    r = await _submit(client, world, actor, made["t1"]["id"], _this_month())
    assert r.status_code == status, r.text


async def test_an_assignee_never_sees_another_assignees_reports(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]
    period = _this_month()
    a = (await _submit(client, world, "town_a_officer", t1, period)).json()
    b = (await _submit(client, world, "town_b_officer", t1, period)).json()
    for actor, seen in (
        ("town_a_viewer", {a["id"]}),
        ("town_b_officer", {b["id"]}),
        ("bureau_e_manager", {a["id"], b["id"]}),  # the lead unit
        ("county_viewer", {a["id"], b["id"]}),  # the county
        ("admin", {a["id"], b["id"]}),  # the issuer
    ):
        r = await client.get(f"{TASKS}/{t1}/reports", headers=world.h(actor))
        assert r.status_code == 200, r.text
        assert {x["id"] for x in r.json()["items"]} == seen, actor
        r = await client.get(f"{TASKS}/{t1}/reporting", headers=world.h(actor))
        parts = r.json()["parts"]
        assert len(parts) == (1 if len(seen) == 1 else 3), actor
    # Another assignee's report is 404, by id and through the filters.
    r = await client.get(f"{TASKS}/{t1}/reports/{a['id']}", headers=world.h("town_b_officer"))
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await client.get(
        f"{TASKS}/{t1}/reports?assignee_id={a['assignee_id']}", headers=world.h("town_b_officer")
    )
    assert r.json()["items"] == []
    r = await client.get(f"{TASKS}/{t1}/reports", headers=world.h("ent_b1_manager"))
    assert r.status_code == 404
    # A report of another task's id under this task is 404 too.
    r = await client.get(f"{TASKS}/{made['t2']['id']}/reports/{a['id']}", headers=world.h("admin"))
    assert r.status_code == 404


async def _past_list(client, world: World, kind: str = "annual") -> dict:  # type: ignore[no-untyped-def]
    """A 2025 list of town A's with a task per cycle, issued."""
    tl = await new_list(
        client, world, kind=kind, year=2025, period_from="2025-01-01", period_to="2025-12-31"
    )
    tasks = {}
    for code, cycle, deadline in (
        ("M", "monthly", None),
        ("Q", "quarterly", None),
        ("A", "annual", None),
        ("O", "once", "2025-06-30"),
        ("N", "once", None),
    ):
        extra = {"deadline": deadline} if deadline else {}
        t = await add_task(client, world, tl["id"], code, ["town_a"], cycle=cycle, **extra)
        tasks[code] = t["id"]
    assert (await issue(client, world, tl["id"])).status_code == 200
    return {"list": tl, **tasks}


@pytest.mark.parametrize(
    ("code", "period", "due_on", "late"),
    [
        ("M", "2025-03", "2025-04-05", True),
        ("Q", "2025-Q2", "2025-07-05", True),
        ("A", "2025", "2026-01-05", True),
        ("O", "once", "2025-07-05", True),
        ("N", "once", None, False),  # no deadline: never late
    ],
)
async def test_late_per_cycle(client, world: World, code, period, due_on, late) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    r = await _submit(client, world, "town_a_officer", made[code], period)
    assert r.status_code == 201, r.text
    assert (r.json()["due_on"], r.json()["late"]) == (due_on, late)


async def test_late_and_missing_periods_per_cycle(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    await _submit(client, world, "town_a_officer", made["M"], "2025-03")
    returned = (await _submit(client, world, "town_a_officer", made["M"], "2025-04")).json()
    assert (await _return(client, world, "admin", made["M"], returned["id"])).status_code == 200
    await _submit(client, world, "town_a_officer", made["Q"], "2025-Q2")

    async def states(task_id: str) -> dict[str, str]:
        r = await client.get(f"{TASKS}/{task_id}/reporting", headers=world.h("county_officer"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["grace_days"] == 5
        (part,) = body["parts"]
        assert part["unit"]["id"] == world["town_a"]
        return {x["period"]: x["state"] for x in part["periods"]}

    monthly = await states(made["M"])
    assert list(monthly) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert monthly["2025-03"] == "late" and monthly["2025-04"] == "returned"
    assert {monthly[p] for p in monthly if p not in ("2025-03", "2025-04")} == {"missing"}
    assert await states(made["Q"]) == {
        "2025-Q1": "missing",
        "2025-Q2": "late",
        "2025-Q3": "missing",
        "2025-Q4": "missing",
    }
    assert await states(made["A"]) == {"2025": "missing"}
    assert await states(made["O"]) == {"once": "missing"}
    assert await states(made["N"]) == {"once": "pending"}
    await _submit(client, world, "town_a_officer", made["N"], "once")
    assert await states(made["N"]) == {"once": "submitted"}


async def test_the_current_period_is_pending_then_submitted_on_time(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]
    r = await client.get(f"{TASKS}/{t1}/reporting", headers=world.h("town_a_officer"))
    (part,) = r.json()["parts"]
    assert part["periods"][-1] == {
        "period": _this_month(),
        "due_on": str(_month_end(_today()) + timedelta(days=5)),
        "state": "pending",
        "report_id": None,
    }
    report = (await _submit(client, world, "town_a_officer", t1, _this_month())).json()
    r = await client.get(f"{TASKS}/{t1}/reporting", headers=world.h("town_a_officer"))
    last = r.json()["parts"][0]["periods"][-1]
    assert (last["state"], last["report_id"]) == ("submitted", report["id"])
    # The enterprise's one-off task was due on 2020-01-31: five days' grace, then late.
    r = await _submit(client, world, "ent_a1_staff", made["t2"]["id"], "once")
    assert r.status_code == 201, r.text
    assert r.json()["late"] is True and r.json()["due_on"] == "2020-02-05"
    assert r.json()["enterprise"]["id"] == world["ent_a1"]


async def test_the_grace_is_a_setting(client, world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    monkeypatch.setattr(world.settings, "task_report_grace_days", 3650)
    r = await _submit(client, world, "town_a_officer", made["M"], "2025-03")
    assert r.json()["late"] is False and r.json()["due_on"] == str(
        date(2025, 3, 31) + timedelta(days=3650)
    )
    monkeypatch.setattr(world.settings, "task_report_grace_days", 0)
    r = await _submit(client, world, "town_a_officer", made["M"], "2025-05")
    assert r.json()["late"] is True and r.json()["due_on"] == "2025-05-31"
    r = await client.get(f"{TASKS}/{made['M']}/reporting", headers=world.h("admin"))
    assert r.json()["grace_days"] == 0


@pytest.mark.parametrize(
    ("code", "period"),
    [
        ("M", "2025-Q1"),
        ("M", "2025-13"),
        ("M", "2025-00"),
        ("M", "once"),
        ("M", "2024-12"),  # before the list's period
        ("M", "2099-01"),  # not begun yet
        ("Q", "2025-03"),
        ("Q", "2025"),
        ("A", "2025-01"),
        ("A", "2099"),
        ("O", "2025"),
        ("O", "2025-Q1"),
    ],
)
async def test_the_period_follows_the_cycle(client, world: World, code, period) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    r = await _submit(client, world, "town_a_officer", made[code], period)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_period"
    assert r.json()["errors"][0]["field"] == "period"


@pytest.mark.parametrize("period", ["26-1", "2025-1", "ONCE", "2025-Q5", "", "2025-11-01"])
async def test_a_malformed_period_is_422(client, world: World, period) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    r = await _submit(client, world, "town_a_officer", made["M"], period)
    assert r.status_code == 422, r.text


async def _dispatch(client, world: World, app) -> dict:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world, kind="dispatch")
    indicators = [
        {"code": "hazards_found", "name_zh": "排查隐患", "name_en": "Hazards found", "unit": "项"},
        {"code": "rectified_rate", "name_zh": "整改率", "name_en": "Rate", "unit": "%"},
    ]
    async with app.state.engine.begin() as conn:
        await conn.execute(
            update(TaskList).where(TaskList.id == made["list"]["id"]).values(indicators=indicators)
        )
    return made


async def test_figures_are_the_dispatch_lists_indicators(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    made = await _dispatch(client, world, app)
    r = await _submit(
        client,
        world,
        "town_a_officer",
        made["M"],
        "2025-01",
        figures={"hazards_found": 12, "rectified_rate": "98.50"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["figures"] == {"hazards_found": "12", "rectified_rate": "98.5"}
    r = await _submit(client, world, "town_a_officer", made["M"], "2025-02", figures={"fines": 3})
    assert r.status_code == 422 and r.json()["code"] == "unknown_indicator"
    assert "fines" in r.json()["detail"]
    for bad in (-1, "NaN", "Infinity", "abc", True, 1e30, "0.0000001"):
        r = await _submit(
            client, world, "town_a_officer", made["M"], "2025-02", figures={"hazards_found": bad}
        )
        assert r.status_code == 422, (bad, r.text)
    r = await _submit(
        client, world, "town_a_officer", made["M"], "2025-02", figures={"hazards_found": 1e2}
    )
    assert r.status_code == 201 and r.json()["figures"] == {"hazards_found": "100"}


async def test_figures_belong_to_dispatch_lists_only(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await _past_list(client, world)
    r = await _submit(
        client, world, "town_a_officer", made["M"], "2025-01", figures={"hazards_found": 1}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "figures"


async def test_attachments_are_the_callers_own(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t2 = made["t2"]["id"]
    mine = await upload(client, world, "ent_a1_staff")
    theirs = await upload(client, world, "town_a_officer")
    for ids in ([theirs], ["no-such-file"], [mine, theirs]):
        r = await _submit(client, world, "ent_a1_staff", t2, "once", attachment_ids=ids)
        assert r.status_code == 422 and r.json()["code"] == "invalid_attachment", ids
    r = await _submit(client, world, "ent_a1_staff", t2, "once", attachment_ids=[mine, mine])
    assert r.status_code == 201, r.text
    assert r.json()["attachment_ids"] == [mine]


async def test_a_reports_evidence_is_read_with_the_report(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """The files a report cites are bound to it: the lead unit, the issuer and the county read
    them as they read the report; another assignee does not; cited again after a return."""
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]  # led by bureau E, for towns A and B and bureau E, monthly
    photo = await upload(client, world, "town_a_officer")
    r = await _submit(client, world, "town_a_officer", t1, _this_month(), attachment_ids=[photo])
    assert r.status_code == 201, r.text
    report = r.json()
    seen = {
        actor: (
            await client.get(f"/api/v1/attachments/{photo}", headers=world.h(actor))
        ).status_code
        for actor in (
            "town_a_officer",
            "bureau_e_manager",
            "admin",
            "county_viewer",
            "town_b_officer",
            "ent_a1_manager",
        )
    }
    assert seen == {
        "town_a_officer": 200,
        "bureau_e_manager": 200,
        "admin": 200,
        "county_viewer": 200,
        "town_b_officer": 404,
        "ent_a1_manager": 404,
    }
    content = await client.get(
        f"/api/v1/attachments/{photo}/content", headers=world.h("bureau_e_manager")
    )
    assert content.status_code == 200
    # Bound to this report, it cannot be claimed by another object (a hazard) …
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "x",
            "level": "general",
            "category": "unsafe_condition",
            "attachment_ids": [photo],
        },
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 422
    # … but is cited again in the report that replaces a returned one.
    r = await client.post(
        f"{TASKS}/{t1}/reports/{report['id']}/return",
        json={"reason": "照片不清晰"},
        headers=world.h("bureau_e_manager"),
    )
    assert r.status_code == 200, r.text
    r = await _submit(client, world, "town_a_officer", t1, _this_month(), attachment_ids=[photo])
    assert r.status_code == 201, r.text


async def test_no_report_outside_an_issued_list(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]
    report = (await _submit(client, world, "town_a_officer", t1, _this_month())).json()
    r = await client.post(
        f"{LISTS}/{made['list']['id']}/transitions",
        json={"action": "close"},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    r = await _submit(client, world, "town_b_officer", t1, _this_month())
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = await _return(client, world, "admin", t1, report["id"])
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    # A draft's tasks are the issuer's alone: an assignee does not see them.
    tl = await new_list(client, world)
    t = await add_task(client, world, tl["id"], "9", ["town_a"], cycle="monthly")
    r = await _submit(client, world, "town_a_officer", t["id"], _this_month())
    assert r.status_code == 404


async def test_a_town_returns_what_its_enterprises_report_on_its_list(client, world: World) -> None:  # type: ignore[no-untyped-def]
    tl = await new_list(client, world, "town_a_manager")
    t = await add_task(client, world, tl["id"], "1", ["ent_a1", "ent_a2"], actor="town_a_manager")
    assert (await issue(client, world, tl["id"], "town_a_manager")).status_code == 200
    report = (await _submit(client, world, "ent_a1_manager", t["id"], "once")).json()
    assert (await _return(client, world, "town_a_viewer", t["id"], report["id"])).status_code == 403
    assert (
        await _return(client, world, "county_officer", t["id"], report["id"])
    ).status_code == 403
    assert (
        await _return(client, world, "town_a_officer", t["id"], report["id"])
    ).status_code == 200
    assert len(await _inbox(client, world, "ent_a1_manager")) == 1
    assert len(await _inbox(client, world, "ent_a1_staff")) == 1
    assert await _inbox(client, world, "town_a_officer") == []


async def test_report_reads_cost_few_statements(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]["id"]
    report = (await _submit(client, world, "town_a_officer", t1, _this_month())).json()
    for actor, url in (
        ("admin", f"{TASKS}/{t1}/reports"),
        ("town_a_officer", f"{TASKS}/{t1}/reports/{report['id']}"),
        ("bureau_e_manager", f"{TASKS}/{t1}/reporting"),
    ):
        await client.get(url, headers=world.h(actor))
        with statements(app) as seen:
            r = await client.get(url, headers=world.h(actor))
        assert r.status_code == 200, (url, r.text)
        assert len(seen) == 2, (url, seen)
