"""The change feed (issue 17): every committed change in the caller's scope, in order, each with
the object's current representation for that caller; moves out of a scope are deletes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.models import Change
from app.models.base import utcnow
from tests.hazard_helpers import register

CHANGES = "/api/v1/changes"
ENTERPRISES = "/api/v1/enterprises"


async def settled(client) -> None:  # type: ignore[no-untyped-def]
    """Until every committed change row is final for the feed. On PostgreSQL the feed waits for
    transactions still running anywhere in the cluster (the xid horizon); other work sharing
    the test cluster may hold it back for a moment."""
    from app.services.changes import feed

    app = client._transport.app
    for _ in range(600):
        async with app.state.read_sessionmaker() as s:
            newest = (
                await s.execute(
                    select(Change.xid, Change.seq)
                    .order_by(Change.xid.desc(), Change.seq.desc())
                    .limit(1)
                )
            ).first()
            if newest is None or await feed.head(s) >= (newest.xid, newest.seq):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the feed's horizon did not pass the committed changes in 30 s")


async def drain(
    client, world, actor: str, after: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:  # type: ignore[no-untyped-def]
    """Every entry after ``after``, page by page (small pages: the cursor is exercised)."""
    await settled(client)
    items: list[dict[str, Any]] = []
    cursor = after
    while True:
        query = {"limit": 3, **params, **({"after": cursor} if cursor else {})}
        r = await client.get(CHANGES, params=query, headers=world.h(actor))
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if not page["items"] and page["next_cursor"] == cursor:
            return items, cursor  # nothing new: the same cursor
        cursor = page["next_cursor"]  # an empty page may move on past others' changes


async def head(client, world, actor: str = "admin") -> str:  # type: ignore[no-untyped-def]
    await settled(client)
    r = await client.get(f"{CHANGES}/head", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return str(r.json()["cursor"])


async def test_the_feed_from_its_start_holds_the_world(client, world) -> None:  # type: ignore[no-untyped-def]
    items, cursor = await drain(client, world, "admin")
    assert {(i["type"], i["id"]) for i in items} == {
        ("enterprise", world[k]) for k in ("ent_a1", "ent_a2", "ent_b1", "ent_b2")
    }
    assert all(i["op"] == "upsert" for i in items)
    for item in items:
        detail = await client.get(f"{ENTERPRISES}/{item['id']}", headers=world.h("admin"))
        assert item["data"] == detail.json(), "the representation its detail endpoint gives"
    assert cursor == await head(client, world)
    again = await client.get(CHANGES, params={"after": cursor}, headers=world.h("admin"))
    assert again.json() == {"items": [], "next_cursor": cursor}, "nothing new: the same cursor"


async def test_changes_follow_in_commit_order_with_the_current_representation(  # type: ignore[no-untyped-def]
    client, world
) -> None:
    start = await head(client, world)
    hazard = await register(client, world)
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}", json={"risk_color": "red"}, headers=world.h("admin")
    )
    assert r.status_code == 200, r.text
    items, _ = await drain(client, world, "town_a_officer", start)
    assert [(i["type"], i["id"]) for i in items] == [
        ("hazard", hazard["id"]),
        ("enterprise", world["ent_a1"]),
    ]
    detail = await client.get(f"/api/v1/hazards/{hazard['id']}", headers=world.h("town_a_officer"))
    assert items[0]["data"] == detail.json()
    assert items[1]["data"]["risk_color"] == "red"
    assert [i["cursor"] for i in items] == sorted({i["cursor"] for i in items}, key=_position)
    only = await drain(client, world, "town_a_officer", start, types="hazard")
    assert [i["type"] for i in only[0]] == ["hazard"]


def _position(cursor: str) -> tuple[int, int]:
    xid, seq = cursor.split("-")
    return int(xid), int(seq)


async def test_a_transition_is_a_change_of_its_hazard(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.hazard_helpers import GENERAL_PLAN, act

    hazard = await register(client, world)
    start = await head(client, world)
    r = await act(client, world, "ent_a1_manager", hazard["id"], "plan", plan=GENERAL_PLAN)
    assert r.status_code == 200, r.text
    items, _ = await drain(client, world, "ent_a1_manager", start)
    assert [(i["type"], i["id"], i["op"]) for i in items] == [("hazard", hazard["id"], "upsert")]
    assert items[0]["data"]["status"] == r.json()["status"]
    assert items[0]["data"]["plan"] == r.json()["plan"]


async def test_scope_each_caller_sees_its_own(client, world) -> None:  # type: ignore[no-untyped-def]
    start = await head(client, world)
    a = await register(client, world, enterprise="ent_a1")
    b = await register(client, world, actor="town_b_officer", enterprise="ent_b1")
    seen = {
        actor: {i["id"] for i in (await drain(client, world, actor, start))[0]}
        for actor in (
            "admin",
            "town_a_officer",
            "town_b_officer",
            "ent_a1_manager",
            "bureau_c_officer",
        )
    }
    assert seen["admin"] == {a["id"], b["id"]}
    assert seen["town_a_officer"] == {a["id"]}
    assert seen["town_b_officer"] == {b["id"]}
    assert seen["ent_a1_manager"] == {a["id"]}
    assert seen["bureau_c_officer"] == set(), "neither enterprise is the construction bureau's"


async def test_an_enterprise_moved_away_is_a_delete_for_the_old_town(client, world) -> None:  # type: ignore[no-untyped-def]
    hazard = await register(client, world, enterprise="ent_a1")
    start = await head(client, world)
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}",
        json={"region_code": "341302100299"},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    old, _ = await drain(client, world, "town_a_officer", start)
    assert {(i["type"], i["id"], i["op"]) for i in old} == {
        ("enterprise", world["ent_a1"], "delete"),
        ("hazard", hazard["id"], "delete"),
    }
    assert all(i["data"] is None for i in old), "a delete tells nothing of where it went"
    new, _ = await drain(client, world, "town_b_officer", start)
    assert {(i["type"], i["id"], i["op"]) for i in new} == {
        ("enterprise", world["ent_a1"], "upsert"),
        ("hazard", hazard["id"], "upsert"),
    }
    county, _ = await drain(client, world, "admin", start)
    assert {i["op"] for i in county} == {"upsert"}, "the county sees it stay"
    # the enterprise's own people still see it
    own, _ = await drain(client, world, "ent_a1_manager", start)
    assert {i["op"] for i in own} == {"upsert"}


async def test_a_stale_cursor_is_410_and_no_cursor_starts_after_retention(  # type: ignore[no-untyped-def]
    client, world, app, settings
) -> None:
    from app.services.changes import feed

    old = await head(client, world)
    await register(client, world)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Change)
            .where(Change.type == "enterprise")
            .values(changed_at=utcnow() - timedelta(days=31))
        )
        await s.commit()
    async with app.state.sessionmaker() as s:
        assert await feed.purge(s, settings) == 4
        await s.commit()
    r = await client.get(CHANGES, params={"after": "0-0"}, headers=world.h("admin"))
    assert r.status_code == 410 and r.json()["code"] == "cursor_expired"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.get(CHANGES, params={"after": old}, headers=world.h("admin"))
    ).status_code == 200
    items, _ = await drain(client, world, "admin")
    assert [i["type"] for i in items] == ["hazard"], "the oldest retained change first"
    async with app.state.sessionmaker() as s:
        assert await feed.purge(s, settings) == 0, "a second run deletes nothing more"


async def test_bad_cursors_and_types_are_422(client, world) -> None:  # type: ignore[no-untyped-def]
    for params in (
        {"after": "abc"},
        {"after": "1-"},
        {"after": "9999999999999999999-1"},
        {"after": "-1-2"},
        {"types": "inspection_x"},
        {"limit": 0},
        {"wait": 61},
    ):
        r = await client.get(CHANGES, params=params, headers=world.h("admin"))
        assert r.status_code == 422, (params, r.text)


async def test_who_may_read_the_feed(client, world) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(CHANGES)).status_code == 401
    r = await client.get(CHANGES, headers=world.h("machine"))
    assert r.status_code == 403, "a machine client needs changes:read granted"
    for actor in ("county_viewer", "town_a_inspector", "ent_a1_staff", "bureau_e_officer"):
        assert (await client.get(CHANGES, headers=world.h(actor))).status_code == 200


async def test_long_poll_answers_when_a_change_commits(client, world) -> None:  # type: ignore[no-untyped-def]
    cursor = await head(client, world)
    poll = asyncio.create_task(
        client.get(CHANGES, params={"after": cursor, "wait": 20}, headers=world.h("admin"))
    )
    await asyncio.sleep(0.3)
    assert not poll.done()
    hazard = await register(client, world)
    r = await asyncio.wait_for(poll, 10)
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [hazard["id"]]
    empty = await client.get(
        CHANGES, params={"after": r.json()["next_cursor"], "wait": 1}, headers=world.h("admin")
    )
    assert empty.json()["items"] == []


async def test_a_transaction_that_rolls_back_leaves_no_change(client, world, app) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        before = (await s.execute(select(func.count()).select_from(Change))).scalar_one()
    r = await client.post(
        "/api/v1/hazards",
        json={"enterprise_id": world["ent_a1"], "title": "x", "level": "nonsense"},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 422
    async with app.state.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Change))).scalar_one() == before


async def test_an_imported_register_is_in_the_feed(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    """The bulk import writes enterprises by Core statements (COPY on PostgreSQL): their changes
    are recorded all the same."""
    from tests.conftest import credit

    start = await head(client, world)
    lines = ["企业名称,统一社会信用代码,所属行业,行政区划代码,日常执法部门"]
    for n in range(5):
        lines.append(f"导入企业{n},{credit(100 + n)},industry_trade,3413020010{n:02d},区应急管理局")
    r = await client.post(
        "/api/v1/imports",
        data={"kind": "enterprises"},
        files={"file": ("r.csv", "\n".join(lines).encode(), "text/csv")},
        headers=world.h("admin"),
    )
    assert r.status_code == 202, r.text
    from app.services.jobs import run_jobs

    await run_jobs(app.state.sessionmaker, settings, "t-import-feed")
    job = (await client.get(r.headers["location"], headers=world.h("admin"))).json()
    assert job["status"] == "succeeded" and job["rows"]["created"] == 5, job
    items, _ = await drain(client, world, "town_a_officer", start)
    assert sorted(i["data"]["name"] for i in items) == [f"导入企业{n}" for n in range(5)]


async def test_an_imports_change_rows_commit_and_roll_back_with_its_enterprises(  # type: ignore[no-untyped-def]
    client, world, app, settings
) -> None:
    """The bulk import writes its enterprises' change rows with the chunk that creates them:
    one row per enterprise, holding its scope, and none from a dry run or from an
    all-or-nothing import that a bad row rolls back."""
    from app.models import Enterprise
    from app.services.jobs import run_jobs
    from tests.conftest import credit

    async def rows() -> list[Any]:
        async with app.state.sessionmaker() as s:
            of = (Change.seq, Change.op, Change.object_id, Change.enterprise_id, Change.region_code)
            more = (Change.sector, Change.department_id, Change.prev_enterprise_id)
            return list(
                (
                    await s.execute(
                        select(*of, *more).where(Change.type == "enterprise").order_by(Change.seq)
                    )
                ).all()
            )

    async def imported(bad: bool, **form: str) -> dict[str, Any]:
        lines = ["企业名称,统一社会信用代码,所属行业,行政区划代码,日常执法部门"]
        for n in range(4):
            lines.append(
                f"回滚企业{n},{credit(200 + n)},industry_trade,3413020010{n:02d},区应急管理局"
            )
        if bad:
            lines.append(f"回滚企业9,{credit(209)},industry_trade,999999000000,区应急管理局")
        r = await client.post(
            "/api/v1/imports",
            data={"kind": "enterprises", **form},
            files={"file": ("r.csv", "\n".join(lines).encode(), "text/csv")},
            headers=world.h("admin"),
        )
        assert r.status_code == 202, r.text
        await run_jobs(app.state.sessionmaker, settings, "t-import-feed-rollback")
        return (await client.get(r.headers["location"], headers=world.h("admin"))).json()

    before = await rows()
    job = await imported(False, dry_run="true")
    assert job["status"] == "succeeded" and job["applied"] is False, job
    job = await imported(True, mode="all_or_nothing")
    assert job["status"] == "failed" and job["rows"]["failed"] == 1, job
    assert await rows() == before  # neither wrote a change row

    job = await imported(False)
    assert job["status"] == "succeeded" and job["rows"]["created"] == 4, job
    new = [c for c in await rows() if c not in before]
    async with app.state.sessionmaker() as s:
        made = {
            e.id: e
            for e in (
                await s.execute(select(Enterprise).where(Enterprise.name.like("回滚企业%")))
            ).scalars()
        }
    assert sorted(c.object_id for c in new) == sorted(made)  # one row each
    for c in new:
        e = made[c.object_id]
        assert (c.op, c.enterprise_id, c.region_code, c.sector, c.department_id) == (
            "upsert",
            e.id,
            e.region_code,
            e.sector,
            e.enforcement_department_id,
        )
        assert c.prev_enterprise_id is None


# ---- inspections: the enterprise is told once they start; experts of their assignments --------


async def test_an_inspection_reaches_its_enterprise_only_once_started(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import TEAM_A, certify, ok, plan

    await certify(client, world, *TEAM_A)
    start = await head(client, world)
    insp = await plan(client, world)
    town, _ = await drain(client, world, "town_a_manager", start, types="inspection")
    assert [(i["type"], i["id"], i["op"]) for i in town] == [("inspection", insp["id"], "upsert")]
    detail = await client.get(
        f"/api/v1/inspections/{insp['id']}", headers=world.h("town_a_manager")
    )
    assert town[0]["data"] == detail.json()
    ent, cursor = await drain(client, world, "ent_a1_manager", start)
    assert ent == [], (
        "a planned inspection is not announced to the enterprise, not even as a delete"
    )
    started = await ok(client, world, "town_a_officer", insp["id"], "start")
    ent, _ = await drain(client, world, "ent_a1_manager", cursor)
    assert [(i["id"], i["op"]) for i in ent] == [(insp["id"], "upsert")]
    assert ent[0]["data"]["status"] == started["status"] == "in_progress"
    other, _ = await drain(client, world, "ent_b1_manager", start)
    assert other == []


async def test_an_expert_follows_only_its_assignments(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert, plan

    await add_expert(client, world)
    start = await head(client, world)
    mine = await plan(client, world, experts=[world["expert"]])
    await plan(client, world)
    await register(client, world)
    seen, _ = await drain(client, world, "expert", start)
    assert [(i["type"], i["id"], i["op"]) for i in seen] == [("inspection", mine["id"], "upsert")]


async def test_a_moved_enterprise_takes_its_inspections_along(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import plan

    insp = await plan(client, world)
    start = await head(client, world)
    r = await client.patch(
        f"{ENTERPRISES}/{world['ent_a1']}",
        json={"region_code": "341302100299"},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    left, _ = await drain(client, world, "town_a_manager", start, types="inspection")
    assert [(i["id"], i["op"], i["data"]) for i in left] == [(insp["id"], "delete", None)]
    listed, _ = await drain(client, world, "town_a_officer", start, types="inspection")
    assert [(i["id"], i["op"]) for i in listed] == [(insp["id"], "upsert")], (
        "a listed inspector still sees the visit it is on"
    )
    arrived, _ = await drain(client, world, "town_b_officer", start, types="inspection")
    assert [(i["id"], i["op"]) for i in arrived] == [(insp["id"], "upsert")]


# ---- public reports: the county, then the units they are routed to; never the identity -------


async def test_a_public_report_reaches_the_county_then_the_unit_it_is_routed_to(  # type: ignore[no-untyped-def]
    client, world, app
) -> None:
    from tests.report_helpers import NAME, PHONE, act, newest, submit

    start = await head(client, world)
    await submit(app, reporter={"name": NAME, "phone": PHONE}, anonymous=False)
    report = await newest(client, world, "county_officer")
    county, _ = await drain(client, world, "county_officer", start, types="report")
    assert [(i["type"], i["id"], i["op"]) for i in county] == [("report", report["id"], "upsert")]
    assert county[0]["data"]["number"] == report["number"]
    assert county[0]["data"]["reporter"] is None
    for actor in ("county_officer", "bureau_c_officer", "ent_a1_manager", "town_a_inspector"):
        r = await client.get(
            CHANGES, params={"types": "report"} | ({"after": start}), headers=world.h(actor)
        )
        if r.status_code == 200:
            body = r.text
            assert NAME not in body and PHONE not in body, "never the reporter's identity"
    before, cursor = await drain(client, world, "bureau_c_officer", start)
    assert before == [], "not routed to the bureau yet"
    r = await act(
        client, world, "county_officer", report["id"], "assign", unit_ids=[world["bureau_c"]]
    )
    assert r.status_code == 200, r.text
    routed, _ = await drain(client, world, "bureau_c_officer", cursor)
    assert [(i["id"], i["op"]) for i in routed] == [(report["id"], "upsert")]
    others, _ = await drain(client, world, "town_a_officer", start, types="report")
    assert others == []
    ent = await client.get(CHANGES, params={"types": "report"}, headers=world.h("ent_a1_manager"))
    assert ent.status_code == 200 and ent.json()["items"] == [], "an enterprise reads no report"


# ---- tasks: the issuer and the county whole, assignees once the list is issued ---------------


async def test_tasks_reach_their_assignees_when_the_list_is_issued(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.task_helpers import add_task, issue, new_list

    start = await head(client, world)
    tl = await new_list(client, world)
    t1 = await add_task(client, world, tl["id"], "1.1", ["town_a"], deadline="2099-12-31")
    t2 = await add_task(client, world, tl["id"], "1.2", ["ent_a1"], deadline="2099-12-31")
    draft, _ = await drain(client, world, "admin", start, types="task")
    assert {(i["id"], i["op"]) for i in draft} == {(t1["id"], "upsert"), (t2["id"], "upsert")}
    for actor in ("town_a_officer", "ent_a1_manager", "bureau_e_officer"):
        seen, _ = await drain(client, world, actor, start, types="task")
        assert seen == [], f"{actor}: a draft is the issuing unit's (the county office's)"
    r = await issue(client, world, tl["id"])
    assert r.status_code == 200, r.text
    town, _ = await drain(client, world, "town_a_officer", start, types="task")
    assert [(i["id"], i["op"]) for i in town] == [(t1["id"], "upsert")]
    detail = await client.get(f"/api/v1/tasks/{t1['id']}", headers=world.h("town_a_officer"))
    assert town[0]["data"] == detail.json()
    ent, _ = await drain(client, world, "ent_a1_manager", start, types="task")
    assert [(i["id"], i["op"]) for i in ent] == [(t2["id"], "upsert")]
    county, _ = await drain(client, world, "county_officer", start, types="task")
    assert {i["id"] for i in county} == {t1["id"], t2["id"]}, "the county sees issued lists whole"
    assert all(i["data"]["list"]["status"] == "issued" for i in county if i["data"].get("list"))
    other, _ = await drain(client, world, "town_b_officer", start, types="task")
    assert other == []


async def test_a_deleted_draft_task_is_a_delete_for_its_issuer(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.task_helpers import TASKS, add_task, new_list

    tl = await new_list(client, world)
    t1 = await add_task(client, world, tl["id"], "1.1", ["town_a"])
    start = await head(client, world)
    r = await client.delete(f"{TASKS}/{t1['id']}", headers=world.h("admin"))
    assert r.status_code == 204, r.text
    seen, _ = await drain(client, world, "admin", start, types="task")
    assert [(i["id"], i["op"], i["data"]) for i in seen] == [(t1["id"], "delete", None)]
