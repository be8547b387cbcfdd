"""From risks to investigation: a risk point's checklist is generated from its control measures
(one item per measure, the measure as its basis), is a checklist version of its own that a
self-inspection uses, and follows the measures by new versions so a used one never changes."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.inspection_helpers import ok, plan
from tests.test_risk_points import POINTS, ROLES, _create, point

MEASURES = point()["control_measures"]


async def _checklist(client, world: World, point_id: str, actor: str = "ent_a1_manager"):  # type: ignore[no-untyped-def]
    return await client.get(f"{POINTS}/{point_id}/checklist", headers=world.h(actor))


async def test_one_item_per_control_measure_with_the_measure_as_basis(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    r = await _checklist(client, world, created["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["risk_point_id"] == created["id"] and body["code"] == f"RP-{created['id']}"
    assert body["version_no"] == 1 and body["is_current"] and not body["starter"]
    assert body["name"] == f"{created['name']}风险管控措施检查表"
    assert [i["code"] for i in body["items"]] == ["M1", "M2"]
    for item, measure in zip(body["items"], MEASURES, strict=True):
        assert measure["text"] in item["basis"] and measure["text"] in item["text"]
        assert item["major_if_failed"] is False
    assert "工程技术" in body["items"][0]["basis"] and "管理" in body["items"][1]["basis"]
    assert r.headers["etag"]
    # The same version through the checklists.
    same = await client.get(f"/api/v1/checklists/{body['id']}", headers=world.h("ent_a1_manager"))
    assert same.json()["items"] == body["items"]


async def test_a_self_inspection_follows_it_and_keeps_its_version(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    first = (await _checklist(client, world, created["id"])).json()
    insp = await plan(
        client,
        world,
        actor="ent_a1_manager",
        kind="self_inspection",
        team=(),
        checklist_id=first["id"],
    )
    await ok(client, world, "ent_a1_manager", insp["id"], "start")
    await ok(
        client,
        world,
        "ent_a1_manager",
        insp["id"],
        "record_results",
        results=[{"item_code": "M1", "result": "ok"}, {"item_code": "M2", "result": "ok"}],
    )
    await ok(client, world, "ent_a1_manager", insp["id"], "complete")
    await ok(client, world, "ent_a1_manager", insp["id"], "sign")
    # The measures change: the next version; the one the signed inspection used stays as it was.
    current = await client.get(f"{POINTS}/{created['id']}", headers=world.h("ent_a1_manager"))
    r = await client.patch(
        f"{POINTS}/{created['id']}",
        json={"control_measures": [*MEASURES, {"kind": "ppe", "text": "佩戴防尘口罩"}]},
        headers={**world.h("ent_a1_manager"), "If-Match": current.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    second = (await _checklist(client, world, created["id"])).json()
    assert second["version_no"] == 2 and second["id"] != first["id"]
    assert [i["code"] for i in second["items"]] == ["M1", "M2", "M3"]
    old = (
        await client.get(f"/api/v1/checklists/{first['id']}", headers=world.h("ent_a1_manager"))
    ).json()
    assert old["items"] == first["items"] and old["is_current"] is False and old["locked"]
    listed = await client.get(
        f"/api/v1/checklists?risk_point_id={created['id']}&current=false",
        headers=world.h("ent_a1_manager"),
    )
    assert [c["version_no"] for c in listed.json()["items"]] == [1, 2]
    # An edit that leaves the name and measures alone writes no version.
    current = await client.get(f"{POINTS}/{created['id']}", headers=world.h("ent_a1_manager"))
    await client.patch(
        f"{POINTS}/{created['id']}",
        json={"location_text": "三号车间"},
        headers={**world.h("ent_a1_manager"), "If-Match": current.headers["etag"]},
    )
    assert (await _checklist(client, world, created["id"])).json()["id"] == second["id"]


async def test_it_is_read_only_and_out_of_the_county_library(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    got = await _checklist(client, world, created["id"])
    body = got.json()
    r = await client.patch(
        f"/api/v1/checklists/{body['id']}",
        json={"name": "改名"},
        headers={**world.h("admin"), "If-Match": got.headers["etag"]},
    )
    assert r.status_code == 409 and r.json()["code"] == "checklist_read_only"
    library = await client.get("/api/v1/checklists?limit=500", headers=world.h("admin"))
    assert all(c["risk_point_id"] is None for c in library.json()["items"])
    by_code = await client.get(f"/api/v1/checklists?code={body['code']}", headers=world.h("admin"))
    assert [c["id"] for c in by_code.json()["items"]] == [body["id"]]


async def test_a_point_without_measures_has_no_checklist(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world, control_measures=[])
    r = await _checklist(client, world, created["id"])
    assert r.status_code == 409 and r.json()["code"] == "risk_point_without_measures"
    assert (await _checklist(client, world, "nope")).status_code == 404


@pytest.mark.parametrize(("actor", "sees"), sorted(ROLES.items()))
async def test_every_role_reads_it_in_the_points_scope_only(
    client, world: World, actor, sees
) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    body = (await _checklist(client, world, created["id"])).json()
    r = await _checklist(client, world, created["id"], actor)
    assert r.status_code == (200 if sees else 404), (actor, r.text)
    # Through the checklists too: another enterprise's register is not a county list.
    via = await client.get(f"/api/v1/checklists/{body['id']}", headers=world.h(actor))
    assert via.status_code == (200 if sees else 404), (actor, via.text)


async def test_experts_and_strangers_get_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert

    created = await _create(client, world)
    await add_expert(client, world)
    r = await _checklist(client, world, created["id"], "expert")
    assert r.status_code in (403, 404)
    assert (await client.get(f"{POINTS}/{created['id']}/checklist")).status_code == 401
