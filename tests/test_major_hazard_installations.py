"""Major hazard installations (重大危险源) through HTTP: read by whoever reads the enterprise,
written by government staff in scope, shown in the enterprise's detail (same one statement)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.statements import statements
from tests.test_scope_matrix import ENTERPRISE_SCOPE

ACTORS = tuple(a for a in ENTERPRISE_SCOPE if a != "other_admin")
# enterprises:update: officers, managers, admins (enterprise users, viewers, inspectors and
# the machine client lack it)
WRITERS = {
    "admin",
    "county_officer",
    "town_a_manager",
    "town_a_officer",
    "town_b_officer",
    "bureau_e_manager",
    "bureau_e_officer",
    "bureau_c_officer",
}


def url(world: World, ent: str = "ent_a1", installation_id: str | None = None) -> str:
    base = f"/api/v1/enterprises/{world[ent]}/major-hazard-installations"
    return f"{base}/{installation_id}" if installation_id else base


async def add(client, world: World, actor: str = "town_a_officer", **body: Any):  # type: ignore[no-untyped-def]
    payload = {"name": "液氯储罐区", "grade": 2, "substances": ["液氯"], **body}
    return await client.post(url(world), json=payload, headers=world.h(actor))


@pytest.fixture
async def tank(client, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await add(client, world)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("actor", ACTORS)
async def test_whoever_reads_the_enterprise_reads_its_installations(
    client, world, tank, actor
) -> None:  # type: ignore[no-untyped-def]
    h = world.h(actor)
    listed = await client.get(url(world), headers=h)
    one = await client.get(url(world, installation_id=tank["id"]), headers=h)
    detail = await client.get(f"/api/v1/enterprises/{world['ent_a1']}", headers=h)
    if "ent_a1" in ENTERPRISE_SCOPE[actor]:
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == [tank]
        assert one.status_code == 200 and one.json() == tank and one.headers["etag"] == '"v1"'
        brief = {k: tank[k] for k in ("id", "name", "grade", "substances")}
        assert detail.json()["major_hazard_installations"] == [brief]
    else:
        assert listed.status_code == one.status_code == detail.status_code == 404, actor


@pytest.mark.parametrize("actor", ACTORS)
async def test_government_in_scope_with_enterprises_update_writes_them(
    client, world, actor
) -> None:  # type: ignore[no-untyped-def]
    r = await add(client, world, actor)
    if actor not in WRITERS:
        assert r.status_code == 403, (actor, r.text)
        return
    if "ent_a1" not in ENTERPRISE_SCOPE[actor]:
        assert r.status_code == 404, (actor, r.text)
        return
    assert r.status_code == 201, (actor, r.text)
    made = r.json()
    assert r.headers["location"] == url(world, installation_id=made["id"])
    assert made["enterprise_id"] == world["ent_a1"]
    patched = await client.patch(
        url(world, installation_id=made["id"]),
        json={"grade": 1, "substances": ["液氯", "液氨"]},
        headers=world.h(actor, **{"If-Match": r.headers["etag"]}),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["grade"] == 1 and patched.json()["name"] == "液氯储罐区"
    assert patched.headers["etag"] == '"v2"'
    gone = await client.delete(url(world, installation_id=made["id"]), headers=world.h(actor))
    assert gone.status_code == 204
    assert (
        await client.get(url(world, installation_id=made["id"]), headers=world.h(actor))
    ).status_code == 404


async def test_out_of_scope_writes_answer_404(client, world, tank) -> None:  # type: ignore[no-untyped-def]
    one = url(world, installation_id=tank["id"])
    for actor in ("town_b_officer", "bureau_c_officer"):
        h = world.h(actor)
        assert (await client.patch(one, json={"grade": 1}, headers=h)).status_code == 404
        assert (await client.delete(one, headers=h)).status_code == 404
    # an installation is found only under its own enterprise
    other = url(world, "ent_a2", tank["id"])
    assert (await client.get(other, headers=world.h("admin"))).status_code == 404


async def test_installation_fields_are_validated(client, world, tank) -> None:  # type: ignore[no-untyped-def]
    for body in (
        {"grade": 5},
        {"grade": 0},
        {"name": " "},
        {"substances": [""]},
        {"substances": "液氯"},
        {"colour": "red"},
    ):
        r = await add(client, world, **body)
        assert r.status_code == 422, (body, r.text)
    one = url(world, installation_id=tank["id"])
    assert (
        await client.patch(one, json={"grade": None}, headers=world.h("admin"))
    ).status_code == 422
    stale = await client.patch(
        one, json={"grade": 3}, headers=world.h("admin", **{"If-Match": '"v9"'})
    )
    assert stale.status_code == 412
    assert (
        await client.delete(one, headers=world.h("admin", **{"If-Match": '"v9"'}))
    ).status_code == 412


async def test_installations_sort_by_grade_and_the_detail_stays_one_statement(
    app, client, world, tank
) -> None:  # type: ignore[no-untyped-def]
    await add(client, world, name="液氨制冷车间", grade=4, substances=["液氨"])
    await add(client, world, name="甲醇罐区", grade=1, substances=[])
    listed = (await client.get(url(world), headers=world.h("ent_a1_staff"))).json()["items"]
    assert [i["grade"] for i in listed] == [1, 2, 4]
    by_name = await client.get(
        url(world), params={"sort": "-name"}, headers=world.h("ent_a1_staff")
    )
    assert [i["name"] for i in by_name.json()["items"]] == sorted(
        (i["name"] for i in listed), reverse=True
    )
    detail_url = f"/api/v1/enterprises/{world['ent_a1']}"
    await client.get(detail_url, headers=world.h("ent_a1_staff"))
    with statements(app) as seen:
        detail = await client.get(detail_url, headers=world.h("ent_a1_staff"))
    assert len(seen) == 1, seen
    assert [i["grade"] for i in detail.json()["major_hazard_installations"]] == [1, 2, 4]
    assert detail.json()["major_hazard_installations"][0]["substances"] == []
    assert (
        "major_hazard_installations"
        not in (await client.get("/api/v1/enterprises", headers=world.h("admin"))).json()["items"][
            0
        ]
    )


async def test_an_enterprise_write_answers_its_installations_and_blacklist(
    client, world, tank
) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"/api/v1/enterprises/{world['ent_a1']}", json={"scale": "small"}, headers=world.h("admin")
    )
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["major_hazard_installations"]] == [tank["id"]]
    assert r.json()["blacklist"] == [] and r.json()["blacklisted"] is False


async def test_the_installation_examples_are_accepted(client, world) -> None:  # type: ignore[no-untyped-def]
    from app.api import examples

    for example in examples.INSTALLATION_CREATE.values():
        r = await client.post(
            url(world), json=example["value"], headers=world.h("bureau_e_officer")
        )
        assert r.status_code == 201, r.text
        for update in examples.INSTALLATION_UPDATE.values():
            one = url(world, installation_id=r.json()["id"])
            assert (
                await client.patch(one, json=update["value"], headers=world.h("admin"))
            ).status_code == 200
