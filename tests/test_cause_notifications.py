"""Notifications written with their cause (issue 14): a hazard put under listed supervision
(挂牌督办) and an inspection record to sign. Each is written once per cause, in the cause's
transaction, to exactly the people it concerns; a refused or failed cause leaves none."""

from __future__ import annotations

from typing import Any

import pytest

from app.api import idempotency
from tests.conftest import World
from tests.hazard_helpers import act as hazard_act
from tests.hazard_helpers import register
from tests.inspection_helpers import TEAM_A, certify, plan
from tests.inspection_helpers import act as inspection_act
from tests.inspection_helpers import ok as inspection_ok

EVERYONE = (
    "admin",
    "county_officer",
    "county_viewer",
    "town_a_manager",
    "town_a_officer",
    "town_a_inspector",
    "town_a_viewer",
    "town_b_officer",
    "bureau_e_manager",
    "bureau_e_officer",
    "bureau_c_officer",
    "ent_a1_manager",
    "ent_a1_staff",
    "ent_b1_manager",
)
TOWN_A = {"town_a_manager", "town_a_officer", "town_a_inspector", "town_a_viewer"}
BUREAU_E = {"bureau_e_manager", "bureau_e_officer"}
ENT_A1 = {"ent_a1_manager", "ent_a1_staff"}


async def inbox(client, world: World, actor: str, kind: str, **headers: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"/api/v1/notifications?kind={kind}&limit=100", headers=world.h(actor, **headers)
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def told(client, world: World, kind: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """How many notifications of ``kind`` each person of the small world has."""
    return {actor: len(await inbox(client, world, actor, kind)) for actor in EVERYONE}


def only(people: set[str]) -> dict[str, int]:
    return {actor: int(actor in people) for actor in EVERYONE}


@pytest.fixture
def blip_when_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection drops as the answer is recorded, after the cause and its notification
    were written but before the commit (tests/test_idempotency_unit_of_work.py)."""

    def failing_recorder(*args: Any):  # type: ignore[no-untyped-def]
        async def hook(session):  # type: ignore[no-untyped-def]
            raise ConnectionResetError("connection reset by peer")

        return hook

    monkeypatch.setattr(idempotency, "_recorder", failing_recorder)


# ---- hazard_supervised ---------------------------------------------------------------------


async def test_the_county_lists_a_hazard_and_those_who_answer_for_it_are_told_once(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, level="major", title="除尘器未设置泄爆装置")
    r = await hazard_act(client, world, "county_officer", h["id"], "supervise")
    assert r.status_code == 200, r.text
    # the enterprise, its town (属地) and its department; not the county office that listed it
    assert await told(client, world, "hazard_supervised") == only(TOWN_A | BUREAU_E | ENT_A1)
    [n] = await inbox(client, world, "ent_a1_manager", "hazard_supervised")
    assert n["title"] == f"重大隐患挂牌督办：{h['number']}"
    assert n["body"] == (
        f"埇桥区对隐患 {h['number']}《除尘器未设置泄爆装置》挂牌督办，整改期限 2099-12-31，"
        "请督促按期整改到位。"
    )
    assert (n["link"], n["object_type"], n["object_id"]) == (
        f"/api/v1/hazards/{h['id']}",
        "hazard",
        h["id"],
    )
    [en] = await inbox(
        client, world, "town_a_officer", "hazard_supervised", **{"Accept-Language": "en"}
    )
    assert en["title"] == f"Listed supervision: hazard {h['number']}"
    assert f'hazard {h["number"]} "除尘器未设置泄爆装置" under listed supervision' in en["body"]
    assert en["body"].endswith("by 2099-12-31.")
    # Listed again: refused, and nobody is told twice.
    again = await hazard_act(client, world, "town_a_manager", h["id"], "supervise")
    assert again.status_code == 409, again.text
    # Taken off and listed again: a new cause, a new notification.
    off = await hazard_act(client, world, "county_officer", h["id"], "unsupervise", note="重新研判")
    assert off.status_code == 200, off.text
    assert await told(client, world, "hazard_supervised") == only(TOWN_A | BUREAU_E | ENT_A1)
    r = await hazard_act(client, world, "county_officer", h["id"], "supervise")
    assert r.status_code == 200, r.text
    twice = {actor: 2 * n for actor, n in only(TOWN_A | BUREAU_E | ENT_A1).items()}
    assert await told(client, world, "hazard_supervised") == twice


async def test_the_town_that_lists_is_not_told_and_a_named_supervisor_is(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, level="major")
    r = await hazard_act(
        client,
        world,
        "town_a_manager",
        h["id"],
        "supervise",
        supervisor_user_id=world["town_a_viewer"],
    )
    assert r.status_code == 200, r.text
    # Town A is the 属地 and the unit listing it: only the supervisor it named among its people.
    assert await told(client, world, "hazard_supervised") == only(
        {"town_a_viewer"} | BUREAU_E | ENT_A1
    )
    [n] = await inbox(client, world, "bureau_e_officer", "hazard_supervised")
    assert n["body"].startswith(f"埇桥街道对隐患 {h['number']}")


async def test_a_refused_listing_tells_nobody(client, world: World) -> None:  # type: ignore[no-untyped-def]
    general = await register(client, world)
    major = await register(client, world, level="major")
    refused = [
        # only major hazards are listed
        await hazard_act(client, world, "county_officer", general["id"], "supervise"),
        # a department does not list
        await hazard_act(client, world, "bureau_e_manager", major["id"], "supervise"),
        # the supervisor must be one's own colleague
        await hazard_act(
            client,
            world,
            "county_officer",
            major["id"],
            "supervise",
            supervisor_user_id=world["town_a_officer"],
        ),
    ]
    assert [r.status_code for r in refused] == [409, 403, 422], [r.text for r in refused]
    assert await told(client, world, "hazard_supervised") == only(set())


async def test_a_listing_that_fails_to_commit_tells_nobody(  # type: ignore[no-untyped-def]
    client, world: World, blip_when_recording
) -> None:
    h = await register(client, world, level="major")
    r = await client.post(
        f"/api/v1/hazards/{h['id']}/transitions",
        json={"action": "supervise"},
        headers=world.h("county_officer", **{"Idempotency-Key": "supervise-blip"}),
    )
    assert r.status_code == 503, r.text
    assert await told(client, world, "hazard_supervised") == only(set())
    after = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("county_officer"))
    assert after.json()["supervision"] is None  # the listing rolled back with it


# ---- inspection_to_sign --------------------------------------------------------------------


async def started(client, world: World, team: tuple[str, ...] = TEAM_A) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await certify(client, world, *team)
    insp = await plan(client, world, team=team)
    await inspection_ok(client, world, team[0], insp["id"], "start")
    return insp


async def test_completing_a_record_tells_each_inspector_still_to_sign_once(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    insp = await started(client, world)
    done = await inspection_ok(client, world, "town_a_officer", insp["id"], "complete")
    assert done["status"] == "completed"
    # The other listed inspector; not the one who completed it, nor anyone else.
    assert await told(client, world, "inspection_to_sign") == only({"town_a_inspector"})
    [n] = await inbox(client, world, "town_a_inspector", "inspection_to_sign")
    assert n["title"] == f"检查记录待签名：{insp['number']}"
    assert (
        n["body"] == f"对埇桥机械制造有限公司的检查 {insp['number']} 已完成，请核对检查记录并签名。"
    )
    assert (n["link"], n["object_type"], n["object_id"]) == (
        f"/api/v1/inspections/{insp['id']}",
        "inspection",
        insp["id"],
    )
    [en] = await inbox(
        client, world, "town_a_inspector", "inspection_to_sign", **{"Accept-Language": "en"}
    )
    assert en["title"] == f"Inspection record to sign: {insp['number']}"
    # The link is readable by whoever got it.
    r = await client.get(n["link"], headers=world.h("town_a_inspector"))
    assert r.status_code == 200 and "sign" in r.json()["allowed_actions"]
    # Signing tells nobody anything more.
    await inspection_ok(client, world, "town_a_officer", insp["id"], "sign")
    signed = await inspection_ok(client, world, "town_a_inspector", insp["id"], "sign")
    assert signed["status"] == "signed"
    assert await told(client, world, "inspection_to_sign") == only({"town_a_inspector"})
    # Completing again is refused and tells nobody again.
    again = await inspection_act(client, world, "town_a_officer", insp["id"], "complete")
    assert again.status_code == 409, again.text
    assert await told(client, world, "inspection_to_sign") == only({"town_a_inspector"})


async def test_a_self_inspection_tells_its_listed_people(client, world: World) -> None:  # type: ignore[no-untyped-def]
    insp = await plan(client, world, actor="ent_a1_manager", kind="self_inspection", team=())
    assert [i["id"] for i in insp["inspectors"]] == [world["ent_a1_manager"]]
    await inspection_ok(client, world, "ent_a1_manager", insp["id"], "start")
    # A colleague completes it: the listed inspector is told; the enterprise's town is not.
    await inspection_ok(client, world, "ent_a1_staff", insp["id"], "complete")
    assert await told(client, world, "inspection_to_sign") == only({"ent_a1_manager"})


async def test_a_refused_or_failed_completion_tells_nobody(  # type: ignore[no-untyped-def]
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = await plan(client, world)
    insp = await started(client, world)
    refused = [
        # not started yet
        await inspection_act(client, world, "town_a_officer", planned["id"], "complete"),
        # not one of its inspectors
        await inspection_act(client, world, "town_b_officer", insp["id"], "complete"),
        await inspection_act(client, world, "town_a_manager", insp["id"], "complete"),
    ]
    assert [r.status_code for r in refused] == [409, 404, 403], [r.text for r in refused]
    assert await told(client, world, "inspection_to_sign") == only(set())

    def failing_recorder(*args: Any):  # type: ignore[no-untyped-def]
        async def hook(session):  # type: ignore[no-untyped-def]
            raise ConnectionResetError("connection reset by peer")

        return hook

    monkeypatch.setattr(idempotency, "_recorder", failing_recorder)
    r = await client.post(
        f"/api/v1/inspections/{insp['id']}/transitions",
        json={"action": "complete"},
        headers=world.h("town_a_officer", **{"Idempotency-Key": "complete-blip"}),
    )
    assert r.status_code == 503, r.text
    monkeypatch.undo()
    assert await told(client, world, "inspection_to_sign") == only(set())
    # The completion rolled back with it; done now, it tells the inspector once.
    await inspection_ok(client, world, "town_a_officer", insp["id"], "complete")
    assert await told(client, world, "inspection_to_sign") == only({"town_a_inspector"})
