"""Building task lists through HTTP for the task tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import World

LISTS = "/api/v1/task-lists"
TASKS = "/api/v1/tasks"


async def new_list(client, world: World, actor: str = "admin", **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {
        "kind": "campaign",
        "title": "安全生产治本攻坚三年行动2026年度任务",
        "year": 2026,
        "basis": "《安全生产治本攻坚三年行动方案(2024-2026年)》",
        **fields,
    }
    r = await client.post(LISTS, json=body, headers=world.h(actor))
    assert r.status_code == 201, r.text
    return r.json()


async def add_task(  # type: ignore[no-untyped-def]
    client,
    world: World,
    list_id: str,
    code: str,
    assignees: list[str],
    actor: str = "admin",
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "task_list_id": list_id,
        "code": code,
        "title": f"任务 {code}",
        "assignees": [
            {"enterprise_id": world[a]} if a.startswith("ent_") else {"unit_id": world[a]}
            for a in assignees
        ],
        **fields,
    }
    r = await client.post(TASKS, json=body, headers=world.h(actor))
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, world: World, actor: str, task_id: str, action: str, **payload: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        f"{TASKS}/{task_id}/transitions", json={"action": action, **payload}, headers=world.h(actor)
    )


async def issue(client, world: World, list_id: str, actor: str = "admin"):  # type: ignore[no-untyped-def]
    return await client.post(
        f"{LISTS}/{list_id}/transitions", json={"action": "issue"}, headers=world.h(actor)
    )


async def county_campaign(client, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The county's issued list: 1.1 led by bureau E for towns A and B and bureau E; 1.2 for
    enterprise a1, due yesterday."""
    tl = await new_list(client, world)
    t1 = await add_task(
        client,
        world,
        tl["id"],
        "1.1",
        ["town_a", "town_b", "bureau_e"],
        lead_unit_id=world["bureau_e"],
        deadline="2099-12-31",
        cycle="monthly",
    )
    t2 = await add_task(client, world, tl["id"], "1.2", ["ent_a1"], deadline="2020-01-31")
    r = await issue(client, world, tl["id"])
    assert r.status_code == 200, r.text
    return {"list": r.json(), "t1": t1, "t2": t2}
