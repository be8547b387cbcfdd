"""Task lists and tasks (清单) through HTTP: drawn up and issued by county and town managers,
moved part by part by each assignee, split down the levels inside the splitter's scope, with
progress derived from sub-tasks, revisions after issue, notifications once per cause, and
every role seeing only what is its own."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.task_helpers import LISTS, TASKS, act, add_task, county_campaign, issue, new_list


async def _inbox(client, world: World, actor: str, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/notifications?limit=100", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == kind]


async def test_the_county_issues_a_list_and_each_assignee_is_told_once(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    tl = made["list"]
    assert tl["status"] == "issued" and tl["issued_at"] and tl["allowed_actions"] == ["close"]
    assert [t["code"] for t in tl["tasks"]] == ["1.1", "1.2"]
    told = {
        actor: len(await _inbox(client, world, actor, "task_list_issued"))
        for actor in (
            "town_a_officer",
            "town_a_viewer",
            "town_b_officer",
            "bureau_e_manager",
            "bureau_c_officer",
            "ent_a1_manager",
            "ent_b1_manager",
            "county_officer",
        )
    }
    assert told == {
        "town_a_officer": 1,
        "town_a_viewer": 1,
        "town_b_officer": 1,
        "bureau_e_manager": 1,
        "bureau_c_officer": 0,
        "ent_a1_manager": 1,
        "ent_b1_manager": 0,
        "county_officer": 0,
    }
    note = (await _inbox(client, world, "ent_a1_manager", "task_list_issued"))[0]
    assert note["link"] == f"/api/v1/task-lists/{tl['id']}" and note["object_type"] == "task_list"


async def test_a_draft_is_the_issuers_alone(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # A town's draft: its own staff and the county's admins; not the county office's staff.
    tl = await new_list(client, world, "town_a_manager")
    await add_task(client, world, tl["id"], "1", ["ent_a1"], actor="town_a_manager")
    seen = {"admin": 200, "town_a_viewer": 200, "county_officer": 404, "ent_a1_manager": 404}
    for actor, status in seen.items():
        r = await client.get(f"{LISTS}/{tl['id']}", headers=world.h(actor))
        assert r.status_code == status, actor
        r = await client.get(f"{TASKS}?task_list_id={tl['id']}", headers=world.h(actor))
        assert len(r.json()["items"]) == (1 if status == 200 else 0), actor
    assert (await issue(client, world, tl["id"], "bureau_e_manager")).status_code == 404
    assert (await issue(client, world, tl["id"], "town_a_manager")).status_code == 200
    for actor in ("county_officer", "county_viewer", "ent_a1_manager"):
        r = await client.get(f"{LISTS}/{tl['id']}", headers=world.h(actor))
        assert r.status_code == 200, actor
    assert (
        await client.get(f"{LISTS}/{tl['id']}", headers=world.h("town_b_officer"))
    ).status_code == 404


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("admin", 201),
        ("town_a_manager", 201),
        ("town_a_officer", 403),
        ("county_officer", 403),
        ("bureau_e_manager", 403),
        ("ent_a1_manager", 403),
        ("machine", 403),
    ],
)
async def test_county_and_town_managers_draw_up_lists(client, world: World, actor, status) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        LISTS,
        json={"kind": "annual", "title": "2026年度任务清单", "year": 2026},
        headers=world.h(actor),
    )
    assert r.status_code == status, r.text


async def test_a_town_list_assigns_only_its_own_enterprises(client, world: World) -> None:  # type: ignore[no-untyped-def]
    tl = await new_list(client, world, "town_a_manager", kind="responsibility")
    assert tl["issuing_unit"]["id"] == world["town_a"]
    await add_task(client, world, tl["id"], "1", ["ent_a1", "ent_a2"], actor="town_a_manager")
    for other in (["ent_b1"], ["town_b"], ["bureau_e"]):
        body = {
            "task_list_id": tl["id"],
            "code": "2",
            "title": "越界",
            "assignees": [
                {"enterprise_id": world[other[0]]}
                if other[0].startswith("ent_")
                else {"unit_id": world[other[0]]}
            ],
        }
        r = await client.post(TASKS, json=body, headers=world.h("town_a_manager"))
        assert r.status_code == 422 and r.json()["code"] == "assignee_out_of_scope", other
    r = await client.post(
        TASKS,
        json={
            "task_list_id": tl["id"],
            "code": "3",
            "title": "x",
            "assignees": [{"unit_id": world["town_a"]}, {"unit_id": world["town_a"]}],
        },
        headers=world.h("town_a_manager"),
    )
    assert r.status_code == 422
    # Another town's manager neither sees nor adds to it.
    r = await client.post(
        TASKS,
        json={"task_list_id": tl["id"], "code": "4", "title": "x"},
        headers=world.h("admin"),
    )
    assert r.status_code == 201  # the county's admin may
    assert (
        await issue(client, world, tl["id"], "town_a_manager")
    ).status_code == 409  # 4 has no assignee


async def test_issuing_needs_tasks_with_assignees_and_a_closed_list_stops(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    tl = await new_list(client, world)
    r = await issue(client, world, tl["id"])
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    task = await add_task(client, world, tl["id"], "1", ["town_a"])
    assert (await issue(client, world, tl["id"])).status_code == 200
    r = await client.post(
        TASKS,
        json={"task_list_id": tl["id"], "code": "2", "title": "x", "assignees": []},
        headers=world.h("admin"),
    )
    assert r.status_code == 409 and r.json()["code"] == "task_list_not_draft"
    r = await client.post(
        f"{LISTS}/{tl['id']}/transitions", json={"action": "close"}, headers=world.h("admin")
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await act(client, world, "town_a_officer", task["id"], "start")
    assert r.status_code == 409


async def test_each_assignee_moves_its_own_part_and_the_lead_reopens(client, world: World) -> None:  # type: ignore[no-untyped-def]
    t1 = (await county_campaign(client, world))["t1"]
    own = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_officer"))).json()
    assert [a["unit"]["id"] for a in own["assignees"]] == [world["town_a"]]  # its own part only
    assert own["allowed_actions"] == ["start", "complete"]
    viewer = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_viewer"))).json()
    assert viewer["allowed_actions"] == []
    assert (await act(client, world, "town_a_viewer", t1["id"], "start")).status_code == 403
    r = await act(client, world, "town_a_officer", t1["id"], "start")
    assert r.status_code == 200 and r.json()["assignees"][0]["status"] == "in_progress"
    r = await act(client, world, "town_a_officer", t1["id"], "complete")
    assert r.json()["assignees"][0]["progress"] == "done"
    lead = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("bureau_e_manager"))).json()
    parts = {a["unit"]["id"]: a["status"] for a in lead["assignees"]}
    assert parts == {
        world["town_a"]: "done",
        world["town_b"]: "not_started",
        world["bureau_e"]: "not_started",
    }
    assert "reopen" in lead["allowed_actions"]
    # An assignee never reopens another's part; the lead unit does, with a reason.
    r = await act(
        client,
        world,
        "town_b_officer",
        t1["id"],
        "reopen",
        assignee={"unit_id": world["town_a"]},
        reason="x",
    )
    assert r.status_code == 403
    r = await act(
        client, world, "bureau_e_manager", t1["id"], "reopen", assignee={"unit_id": world["town_a"]}
    )
    assert r.status_code == 422
    r = await act(
        client,
        world,
        "bureau_e_manager",
        t1["id"],
        "reopen",
        assignee={"unit_id": world["town_a"]},
        reason="台账不完整，退回重办",
    )
    assert r.status_code == 200, r.text
    events = (await client.get(f"{TASKS}/{t1['id']}/events", headers=world.h("admin"))).json()[
        "items"
    ]
    assert [e["action"] for e in events] == ["create", "start", "complete", "reopen"]
    assert events[-1]["note"] == "台账不完整，退回重办"


async def test_overdue_is_computed_from_the_deadline_never_set(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t2 = made["t2"]
    got = (await client.get(f"{TASKS}/{t2['id']}", headers=world.h("ent_a1_manager"))).json()
    assert (
        got["assignees"][0]["progress"] == "overdue"
        and got["assignees"][0]["status"] == "not_started"
    )
    late = await client.get(f"{TASKS}?overdue=true&include_total=true", headers=world.h("admin"))
    assert [t["code"] for t in late.json()["items"]] == ["1.2"]
    by_progress = await client.get(f"{TASKS}?progress=overdue", headers=world.h("admin"))
    assert [t["code"] for t in by_progress.json()["items"]] == ["1.2"]
    r = await act(client, world, "ent_a1_manager", t2["id"], "complete")
    assert r.status_code == 200 and r.json()["assignees"][0]["progress"] == "done"
    late = await client.get(f"{TASKS}?overdue=true", headers=world.h("admin"))
    assert late.json()["items"] == []
    r = await act(client, world, "ent_a1_manager", t2["id"], "start", progress="overdue")
    assert r.status_code == 422  # no such field: progress is never set


async def test_an_assignee_splits_its_part_inside_its_own_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    t1 = (await county_campaign(client, world))["t1"]

    async def split(actor: str, *ents: str, **fields):  # type: ignore[no-untyped-def]
        return await client.post(
            TASKS,
            json={
                "parent_task_id": t1["id"],
                "code": "1.1.1",
                "title": "企业自查",
                "assignees": [{"enterprise_id": world[e]} for e in ents],
                **fields,
            },
            headers=world.h(actor),
        )

    r = await split("town_a_officer", "ent_b1")
    assert r.status_code == 422 and r.json()["code"] == "assignee_out_of_scope"
    r = await split("town_a_officer", "ent_a1", deadline="2100-01-01")
    assert r.status_code == 422  # later than the parent
    assert (await split("town_a_viewer", "ent_a1")).status_code == 403
    assert (await split("bureau_c_officer", "ent_a2")).status_code == 422  # not its task to see
    sub = await split("town_a_officer", "ent_a1", "ent_a2")
    assert sub.status_code == 201, sub.text
    sub = sub.json()
    assert sub["split_by_unit"]["id"] == world["town_a"] and sub["lead_unit_id"] == world["town_a"]
    assert sub["deadline"] == "2099-12-31" and sub["cycle"] == "monthly"
    assert len(await _inbox(client, world, "ent_a1_manager", "task_assigned")) == 1
    assert len(await _inbox(client, world, "ent_b1_manager", "task_assigned")) == 0
    # The parent part now follows the sub-task.
    parent = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_officer"))).json()
    assert parent["assignees"][0]["split"] is True and parent["allowed_actions"] == []
    assert (await act(client, world, "town_a_officer", t1["id"], "start")).status_code == 409
    r = await act(client, world, "town_a_officer", t1["id"], "complete")
    assert r.status_code == 409 and "子任务" in r.json()["detail"]
    await act(client, world, "ent_a1_manager", sub["id"], "complete")
    parent = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_officer"))).json()
    assert parent["assignees"][0]["status"] == "in_progress"
    r = await act(client, world, "ent_a1_manager", sub["id"], "complete")
    assert r.status_code == 409  # done already
    # ent_a2 has no user in the world: the town reopens... no, it completes nothing for it;
    # the bureau's part is untouched by the town's split.
    lead = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("bureau_e_manager"))).json()
    assert {a["unit"]["id"]: a["status"] for a in lead["assignees"]}[
        world["bureau_e"]
    ] == "not_started"


async def test_the_split_part_is_done_when_every_sub_part_is(client, world: World) -> None:  # type: ignore[no-untyped-def]
    t1 = (await county_campaign(client, world))["t1"]
    sub = await client.post(
        TASKS,
        json={
            "parent_task_id": t1["id"],
            "code": "1.1.1",
            "title": "企业自查",
            "assignees": [{"enterprise_id": world["ent_a1"]}],
        },
        headers=world.h("town_a_officer"),
    )
    sub = sub.json()
    await act(client, world, "ent_a1_manager", sub["id"], "start")
    r = await act(client, world, "ent_a1_manager", sub["id"], "complete")
    assert r.status_code == 200
    parent = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_officer"))).json()
    assert parent["assignees"][0]["status"] == "done" and parent["assignees"][0]["completed_at"]
    # The town, leading its sub-task, reopens the enterprise's part: the parent part reopens too.
    r = await act(
        client,
        world,
        "town_a_officer",
        sub["id"],
        "reopen",
        assignee={"enterprise_id": world["ent_a1"]},
        reason="照片不清晰",
    )
    assert r.status_code == 200, r.text
    parent = (await client.get(f"{TASKS}/{t1['id']}", headers=world.h("town_a_officer"))).json()
    assert parent["assignees"][0]["status"] == "in_progress"
    events = (await client.get(f"{TASKS}/{t1['id']}/events", headers=world.h("admin"))).json()[
        "items"
    ]
    assert [e["action"] for e in events] == ["create", "split", "derive", "derive", "derive"]


async def test_who_sees_which_tasks(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = await county_campaign(client, world)
    t1 = made["t1"]
    sub = (
        await client.post(
            TASKS,
            json={
                "parent_task_id": t1["id"],
                "code": "1.1.1",
                "title": "企业自查",
                "assignees": [{"enterprise_id": world["ent_a1"]}],
            },
            headers=world.h("town_a_officer"),
        )
    ).json()
    expected = {
        "admin": {"1.1", "1.2", "1.1.1"},
        "county_officer": {"1.1", "1.2", "1.1.1"},
        "county_viewer": {"1.1", "1.2", "1.1.1"},
        "town_a_officer": {"1.1", "1.1.1"},
        "town_a_viewer": {"1.1", "1.1.1"},
        "town_b_officer": {"1.1"},
        "bureau_e_manager": {"1.1"},
        "bureau_c_officer": set(),
        "ent_a1_manager": {"1.2", "1.1.1"},
        "ent_a1_staff": {"1.2", "1.1.1"},
        "ent_b1_manager": set(),
    }
    for actor, codes in expected.items():
        r = await client.get(f"{TASKS}?include_total=true", headers=world.h(actor))
        assert r.status_code == 200, actor
        got = {t["code"] for t in r.json()["items"]}
        assert got == codes and r.json()["total"] == len(codes), actor
        lists = await client.get(f"{LISTS}?include_total=true", headers=world.h(actor))
        assert lists.json()["total"] == (1 if codes else 0), actor
        detail = await client.get(f"{LISTS}/{made['list']['id']}", headers=world.h(actor))
        assert detail.status_code == (200 if codes else 404), actor
        if codes:
            assert {t["code"] for t in detail.json()["tasks"]} == codes, actor
        for task_id, code in ((t1["id"], "1.1"), (sub["id"], "1.1.1")):
            r = await client.get(f"{TASKS}/{task_id}", headers=world.h(actor))
            assert r.status_code == (200 if code in codes else 404), (actor, code)
    # The machine client holds no tasks:read.
    assert (await client.get(TASKS, headers=world.h("machine"))).status_code == 403
    # An assignee's filters look only at its own part: town B's part is invisible to town A.
    r = await client.get(
        f"{TASKS}?assignee_unit_id={world['town_b']}", headers=world.h("town_a_officer")
    )
    assert r.json()["items"] == []
    r = await client.get(
        f"{TASKS}?assignee_unit_id={world['town_b']}", headers=world.h("bureau_e_manager")
    )
    assert [t["code"] for t in r.json()["items"]] == ["1.1"]


async def test_an_issued_task_is_revised_with_a_reason(client, world: World) -> None:  # type: ignore[no-untyped-def]
    tl = await new_list(client, world)
    task = await add_task(client, world, tl["id"], "1", ["town_a"])
    r = await client.patch(
        f"{TASKS}/{task['id']}",
        json={"title": "草稿改名", "assignees": [{"unit_id": world["town_b"]}]},
        headers={
            **world.h("admin"),
            "If-Match": (
                await client.get(f"{TASKS}/{task['id']}", headers=world.h("admin"))
            ).headers["etag"],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["revisions"] == [] and r.json()["assignees"][0]["unit"]["id"] == world["town_b"]
    await issue(client, world, tl["id"])
    current = await client.get(f"{TASKS}/{task['id']}", headers=world.h("admin"))
    h = {**world.h("admin"), "If-Match": current.headers["etag"]}
    r = await client.patch(f"{TASKS}/{task['id']}", json={"title": "正式改名"}, headers=h)
    assert r.status_code == 422
    r = await client.patch(f"{TASKS}/{task['id']}", json={"assignees": []}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "task_list_not_draft"
    r = await client.patch(
        f"{TASKS}/{task['id']}",
        json={"title": "正式改名", "deadline": "2026-12-31", "reason": "县安委会调整"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    rev = r.json()["revisions"]
    assert len(rev) == 1 and rev[0]["reason"] == "县安委会调整"
    assert rev[0]["changes"]["title"] == {"from": "草稿改名", "to": "正式改名"}
    assert rev[0]["changes"]["deadline"] == {"from": None, "to": "2026-12-31"}
    assert (
        await client.patch(
            f"{TASKS}/{task['id']}",
            json={"title": "x", "reason": "y"},
            headers=world.h("town_b_officer"),
        )
    ).status_code in (403, 428)
    r = await client.delete(f"{TASKS}/{task['id']}", headers=world.h("admin"))
    assert r.status_code == 409


async def test_a_draft_task_is_deleted_and_recorded(client, world: World) -> None:  # type: ignore[no-untyped-def]
    tl = await new_list(client, world)
    task = await add_task(client, world, tl["id"], "1", ["town_a"])
    assert (
        await client.delete(f"{TASKS}/{task['id']}", headers=world.h("town_a_manager"))
    ).status_code == 404
    assert (
        await client.delete(f"{TASKS}/{task['id']}", headers=world.h("admin"))
    ).status_code == 204
    assert (await client.get(f"{TASKS}/{task['id']}", headers=world.h("admin"))).status_code == 404
    events = (await client.get(f"{LISTS}/{tl['id']}/events", headers=world.h("admin"))).json()[
        "items"
    ]
    # The list's own history keeps the task that was added and deleted.
    assert [e["action"] for e in events] == ["create", "create", "delete"]
    assert events[1]["details"]["code"] == events[2]["details"]["code"] == "1"


async def test_reads_cost_few_statements(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    from tests.statements import statements

    made = await county_campaign(client, world)
    for actor, url, budget in (
        ("admin", f"{TASKS}?limit=50", 1),
        ("town_a_officer", f"{TASKS}/{made['t1']['id']}", 1),
        ("ent_a1_manager", f"{TASKS}/{made['t2']['id']}", 1),
        ("admin", f"{LISTS}/{made['list']['id']}", 2),
        ("town_a_officer", f"{LISTS}?limit=50", 1),
    ):
        await client.get(url, headers=world.h(actor))  # the caller is known from here on
        with statements(app) as seen:
            r = await client.get(url, headers=world.h(actor))
        assert r.status_code == 200, (url, r.text)
        assert len(seen) == budget, (url, seen)


async def test_the_daily_run_tells_each_overdue_part_once(
    client, world: World, app, settings
) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from app.services.jobs import run_jobs

    made = await county_campaign(client, world)  # 1.2 (ent_a1) was due on 2020-01-31
    tl = await new_list(client, world, title="另一清单")
    done_late = await add_task(client, world, tl["id"], "9", ["town_b"], deadline="2020-06-30")
    await issue(client, world, tl["id"])
    await act(client, world, "town_b_officer", done_late["id"], "complete")
    await run_jobs(app.state.sessionmaker, settings, "t-tasks-1")
    await run_jobs(
        app.state.sessionmaker, settings, "t-tasks-2", now=datetime.now(UTC) + timedelta(days=1)
    )
    told = {
        actor: await _inbox(client, world, actor, "task_overdue")
        for actor in ("ent_a1_manager", "ent_a1_staff", "town_a_officer", "town_b_officer", "admin")
    }
    assert {a: len(n) for a, n in told.items()} == {
        "ent_a1_manager": 1,
        "ent_a1_staff": 1,
        "town_a_officer": 0,  # 1.1 is due in 2099
        "town_b_officer": 0,  # its overdue task is done
        "admin": 0,
    }
    note = told["ent_a1_manager"][0]
    assert note["link"] == f"/api/v1/tasks/{made['t2']['id']}" and "1.2" in note["title"]
