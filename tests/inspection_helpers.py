"""Shared steps for inspection tests: certify inspectors, add an expert, plan and act."""

from __future__ import annotations

from typing import Any

from app.auth.tokens import issue_token
from tests.conftest import PASSWORD, World

# Town A's two certified inspectors (行政执法两人以上) and bureau E's.
TEAM_A = ("town_a_officer", "town_a_inspector")
TEAM_E = ("bureau_e_officer", "bureau_e_manager")


async def certify(client, world: World, *actors: str) -> None:  # type: ignore[no-untyped-def]
    for i, actor in enumerate(actors):
        r = await client.patch(
            f"/api/v1/users/{world[actor]}",
            json={"enforcement_cert_no": f"皖执{3413020000 + i + len(actor)}"},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text


async def add_expert(client, world: World, name: str = "expert") -> str:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/users",
        json={
            "username": name,
            "password": PASSWORD,
            "display_name": f"专家{name}",
            "role": "expert",
            "org_unit_id": world["county"],
        },
        headers=world.h("admin"),
    )
    assert r.status_code == 201, r.text
    world.ids[name] = r.json()["id"]
    world.tokens[name] = issue_token(world.settings, world[name], "user")[0]
    return world[name]


async def plan(  # type: ignore[no-untyped-def]
    client,
    world: World,
    actor: str = "town_a_officer",
    enterprise: str = "ent_a1",
    team: tuple[str, ...] = TEAM_A,
    **fields: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "routine",
        "enterprise_id": world[enterprise],
        "planned_for": "2026-12-10",
        "inspectors": [world[a] for a in team],
    }
    body.update(fields)
    r = await client.post("/api/v1/inspections", json=body, headers=world.h(actor))
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, world: World, actor: str, inspection_id: str, action: str, **payload: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/inspections/{inspection_id}/transitions",
        json={"action": action, **payload},
        headers=world.h(actor),
    )


async def ok(client, world: World, actor: str, inspection_id: str, action: str, **payload: Any):  # type: ignore[no-untyped-def]
    r = await act(client, world, actor, inspection_id, action, **payload)
    assert r.status_code == 200, r.text
    return r.json()


FINDING = {
    "title": "除尘器未设置泄爆装置",
    "category": "unsafe_condition",
    "deadline": "2027-01-31",
}


async def signed_with_fine(client, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A routine inspection of ent_a1 by town A: one finding, a double fine (一案双罚), signed."""
    await certify(client, world, *TEAM_A)
    insp = await plan(client, world)
    await ok(client, world, "town_a_officer", insp["id"], "start")
    await ok(client, world, "town_a_officer", insp["id"], "add_finding", **FINDING)
    outcome = {
        "decisions": [
            {"kind": "rectification_order", "deadline": "2027-01-31"},
            {
                "kind": "fine",
                "entity_fine_yuan": "30000.00",
                "person_fine_yuan": "5000.50",
                "person_name": "王厂长",
            },
        ]
    }
    await ok(client, world, "town_a_officer", insp["id"], "complete", outcome=outcome)
    await ok(client, world, "town_a_officer", insp["id"], "sign")
    return await ok(client, world, "town_a_inspector", insp["id"], "sign")
