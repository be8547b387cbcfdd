"""Checklists (检查表) through HTTP: the starter ones every county reads, a county's own, who may
write them, item validation (judgment clauses as hazards validate them), and versioning: a
version used by a signed inspection (``lock``) never changes, a PATCH writes the next one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.auth.permissions import ROLE_PERMISSIONS, Role
from app.auth.principal import Principal, UnitInfo
from app.core.errors import ValidationFailed
from app.core.migrations import upgrade
from app.models import Checklist
from app.models.base import utcnow
from app.services import checklists, judgment_standards
from app.services.checklist_data import STARTER_CHECKLISTS, STARTER_CODES, starter_rows
from tests.conftest import World

URL = "/api/v1/checklists"
READERS = (
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
WRITERS = {"admin", "bureau_e_manager"}  # the world has no manager of the county office


async def _install_starters(app) -> None:  # type: ignore[no-untyped-def]
    """What migration 0017 inserts (the world's truncation took it away)."""
    async with app.state.sessionmaker() as s:
        await s.execute(insert(Checklist), starter_rows(utcnow()))
        await s.commit()


@pytest.fixture
async def starters(app, world: World) -> World:  # type: ignore[no-untyped-def]
    await _install_starters(app)
    return world


def item(code: str = "A1", **extra: Any) -> dict[str, Any]:
    return {"code": code, "text": "安全出口畅通", "basis": "GB 35181-2017 第6.3.3条", **extra}


def major(code: str = "M1", standard: str = "industry_trade", clause: str = "11.3") -> dict:
    return item(code, major_if_failed=True, judgment_standard=standard, judgment_clause=clause)


async def create(client, world: World, actor: str = "admin", **body: Any):  # type: ignore[no-untyped-def]
    payload = {"code": "county-fire", "name": "本区消防检查表", "items": [item()], **body}
    return await client.post(URL, json=payload, headers=world.h(actor))


# ---- the starter checklists -----------------------------------------------------------------


def test_starter_items_cite_real_judgment_clauses() -> None:
    for checklist in STARTER_CHECKLISTS:
        codes = [i["code"] for i in checklist["items"]]
        assert len(codes) == len(set(codes)), checklist["code"]
        for i in checklist["items"]:
            assert i["text"] and i["basis"], i
            if i["major_if_failed"]:
                found = judgment_standards.clause(i["judgment_standard"], i["judgment_clause"])
                assert found is not None, (checklist["code"], i["code"])
            else:
                assert i["judgment_standard"] is None and i["judgment_clause"] is None
    cited = {
        (i["judgment_standard"], i["judgment_clause"])
        for c in STARTER_CHECKLISTS
        for i in c["items"]
        if i["major_if_failed"]
    }
    # 粉尘防爆 (第十一条) and 有限空间 (第十三条) of 10号令, 餐饮燃气 and GB 35181
    assert {("industry_trade", f"11.{n}") for n in range(1, 11)} <= cited
    assert {("industry_trade", "13.1"), ("industry_trade", "13.2")} <= cited
    assert {("gas", "7.2"), ("gas", "7.3")} <= cited
    assert {("fire", "5.5"), ("fire", "6.3.3"), ("fire", "6.1.3")} <= cited


def test_migration_inserts_the_starters_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "fresh.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    upgrade(f"sqlite+aiosqlite:///{path}")  # at head already: nothing more
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT code, version_no, county_code, locked, is_current FROM checklists"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(STARTER_CODES)
    assert {r[1:] for r in rows} == {(1, None, 0, 1)}
    assert starter_rows(utcnow(), skip=STARTER_CODES) == []  # what the migration would add again


@pytest.mark.parametrize("actor", READERS)
async def test_every_person_reads_the_starter_checklists(client, starters, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params={"limit": 500}, headers=starters.h(actor))
    assert r.status_code == 200, r.text
    assert {c["code"] for c in r.json()["items"]} == STARTER_CODES
    first = r.json()["items"][0]
    assert first["starter"] is True and first["county_code"] is None and "items" not in first
    one = await client.get(f"{URL}/{first['id']}", headers=starters.h(actor))
    assert one.status_code == 200
    assert one.headers["etag"] == '"v1"'
    assert len(one.json()["items"]) == first["item_count"] > 0


async def test_machine_client_without_inspections_read_may_not_read_checklists(  # type: ignore[no-untyped-def]
    client, starters
) -> None:
    assert (await client.get(URL, headers=starters.h("machine"))).status_code == 403


async def test_a_major_starter_item_carries_its_judgment(client, starters) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        URL, params={"code": "starter-it-dust-explosion"}, headers=starters.h("ent_a1_staff")
    )
    (dust,) = r.json()["items"]
    items = (await client.get(f"{URL}/{dust['id']}", headers=starters.h("ent_a1_staff"))).json()[
        "items"
    ]
    d03 = next(i for i in items if i["code"] == "D03")
    assert d03["major_if_failed"] is True
    assert (d03["judgment_standard"], d03["judgment_clause"]) == ("industry_trade", "11.3")
    assert "第十一条" in d03["basis"]


async def test_checklists_filter_by_sector_and_code_and_speak_english(client, starters) -> None:  # type: ignore[no-untyped-def]
    h = starters.h("town_a_officer")
    gas = (await client.get(URL, params={"sector": "urban_gas"}, headers=h)).json()["items"]
    assert [c["code"] for c in gas] == ["starter-gas-restaurant"]
    two = await client.get(URL, params={"sector": "self_built_housing,fire_key_units"}, headers=h)
    assert len(two.json()["items"]) == 2
    en = await client.get(
        URL, params={"code": "starter-gas-restaurant"}, headers={**h, "Accept-Language": "en"}
    )
    (one,) = en.json()["items"]
    assert one["name"] == one["name_en"] == "Urban gas: restaurants and canteens"
    assert one["name_zh"] == "餐饮场所燃气安全检查表"
    bad = await client.get(URL, params={"sector": "nowhere"}, headers=h)
    assert bad.status_code == 422
    assert (await client.get(URL, params={"colour": "x"}, headers=h)).json()[
        "code"
    ] == "unknown_parameter"


async def test_checklist_list_pages_with_a_cursor(client, starters) -> None:  # type: ignore[no-untyped-def]
    h = starters.h("admin")
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "include_total": "true"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(URL, params=params, headers=h)).json()
        assert page["total"] == 5
        seen += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(STARTER_CODES)


async def test_starter_checklists_are_read_only_even_for_admins(client, starters) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        URL, params={"code": "starter-gas-restaurant"}, headers=starters.h("admin")
    )
    cid = r.json()["items"][0]["id"]
    for actor in ("admin", "bureau_e_manager"):
        r = await client.patch(f"{URL}/{cid}", json={"name": "改"}, headers=starters.h(actor))
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "checklist_read_only"


# ---- a county's own checklists ---------------------------------------------------------------

ALL_ACTORS = (*READERS, "machine")


@pytest.mark.parametrize("actor", ALL_ACTORS)
async def test_who_may_create_a_checklist(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await create(client, world, actor, code=f"c-{actor.replace('_', '-')}")
    if actor in WRITERS:
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["location"] == f"{URL}/{body['id']}"
        assert body["county_code"] == "341302" and body["version_no"] == 1
        assert body["starter"] is False and body["locked"] is False and body["is_current"] is True
    else:
        assert r.status_code == 403, (actor, r.text)
        # a town's manager holds checklists:write but the rule is the county's and bureaus'
        assert r.json()["code"] == "forbidden"


async def test_a_county_checklist_is_read_by_its_county_only(app, client, world) -> None:  # type: ignore[no-untyped-def]
    mine = (await create(client, world)).json()
    async with app.state.sessionmaker() as s:
        other = Checklist(code="other-county", name="外县", county_code="341321", items=[item()])
        s.add(other)
        await s.commit()
    for actor in READERS:
        listed = await client.get(URL, headers=world.h(actor))
        assert [c["id"] for c in listed.json()["items"]] == [mine["id"]], actor
        assert (await client.get(f"{URL}/{mine['id']}", headers=world.h(actor))).status_code == 200
        hidden = await client.get(f"{URL}/{other.id}", headers=world.h(actor))
        assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
        patch = await client.patch(f"{URL}/{other.id}", json={"name": "x"}, headers=world.h(actor))
        assert patch.status_code in (403, 404), actor  # never a hint it exists
        if actor in WRITERS:
            assert patch.status_code == 404


async def test_items_are_validated_like_hazard_judgments(client, world) -> None:  # type: ignore[no-untyped-def]
    twice = await create(client, world, items=[item("A1"), item("A1")])
    assert twice.status_code == 422 and twice.json()["code"] == "duplicate_item_code"
    assert twice.json()["errors"][0]["field"] == "items[1].code"
    bare = await create(client, world, items=[item("A1", major_if_failed=True)])
    assert bare.status_code == 422 and bare.json()["code"] == "judgment_required"
    wrong = await create(client, world, items=[major(clause="99.9")])
    assert wrong.status_code == 422 and wrong.json()["code"] == "unknown_judgment_clause"
    other_std = await create(client, world, items=[major(standard="gas", clause="11.3")])
    assert other_std.json()["code"] == "unknown_judgment_clause"
    general = await create(
        client, world, items=[item("A1", judgment_standard="fire", judgment_clause="5.5")]
    )
    assert general.status_code == 422 and general.json()["code"] == "validation_error"
    no_items = await create(client, world, items=[])
    assert no_items.status_code == 422
    extra = await create(client, world, items=[item("A1", colour="red")])
    assert extra.status_code == 422
    cited = await create(
        client, world, items=[major(clause="第十一条第（三）项"), major("M2", "fire", "第6.3.3条")]
    )
    assert cited.status_code == 201, cited.text
    assert [i["judgment_clause"] for i in cited.json()["items"]] == ["11.3", "6.3.3"]


async def test_a_code_is_taken_once(client, world) -> None:  # type: ignore[no-untyped-def]
    assert (await create(client, world)).status_code == 201
    again = await create(client, world, "bureau_e_manager")
    assert again.status_code == 409 and again.json()["code"] == "duplicate_checklist_code"


async def test_an_unlocked_version_is_edited_in_place_with_if_match(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await create(client, world)
    cid, tag = made.json()["id"], made.headers["etag"]
    r = await client.patch(
        f"{URL}/{cid}",
        json={
            "name": "本区人员密集场所消防检查表",
            "items": [item("A1"), major("A2", "fire", "5.5")],
        },
        headers=world.h("bureau_e_manager", **{"If-Match": tag}),
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == cid and r.json()["version_no"] == 1 and r.json()["item_count"] == 2
    assert r.headers["etag"] != tag
    stale = await client.patch(
        f"{URL}/{cid}", json={"name": "x"}, headers=world.h("admin", **{"If-Match": tag})
    )
    assert stale.status_code == 412
    null = await client.patch(f"{URL}/{cid}", json={"name": None}, headers=world.h("admin"))
    assert null.status_code == 422
    town = await client.patch(f"{URL}/{cid}", json={"name": "x"}, headers=world.h("town_a_manager"))
    assert town.status_code == 403
    officer = await client.patch(
        f"{URL}/{cid}", json={"name": "x"}, headers=world.h("county_officer")
    )
    assert officer.status_code == 403


async def test_a_locked_version_is_never_changed_a_patch_writes_the_next(
    app, client, world
) -> None:  # type: ignore[no-untyped-def]
    first = (await create(client, world)).json()
    async with app.state.sessionmaker() as s:
        await checklists.lock(s, first["id"])
        await checklists.lock(s, first["id"])  # twice: nothing more
        await s.commit()
    locked = await client.get(f"{URL}/{first['id']}", headers=world.h("admin"))
    assert locked.json()["locked"] is True
    r = await client.patch(
        f"{URL}/{first['id']}",
        json={"items": [item("A1"), item("A2")]},
        headers=world.h("admin", **{"If-Match": locked.headers["etag"]}),
    )
    assert r.status_code == 201, r.text
    second = r.json()
    assert r.headers["location"] == f"{URL}/{second['id']}"
    assert second["id"] != first["id"] and second["code"] == first["code"]
    assert second["version_no"] == 2 and second["is_current"] and not second["locked"]
    assert second["name"] == first["name"] and second["item_count"] == 2
    old = (await client.get(f"{URL}/{first['id']}", headers=world.h("admin"))).json()
    assert old["is_current"] is False and old["items"] == first["items"]  # unchanged
    current = await client.get(URL, headers=world.h("ent_a1_staff"))
    assert [c["id"] for c in current.json()["items"]] == [second["id"]]
    every = await client.get(
        URL, params={"current": "false", "code": "county-fire"}, headers=world.h("admin")
    )
    assert sorted(c["version_no"] for c in every.json()["items"]) == [1, 2]
    again = await client.patch(f"{URL}/{first['id']}", json={"name": "x"}, headers=world.h("admin"))
    assert again.status_code == 409 and again.json()["code"] == "checklist_not_current"
    in_place = await client.patch(
        f"{URL}/{second['id']}", json={"name": "第二版"}, headers=world.h("admin")
    )
    assert in_place.status_code == 200 and in_place.json()["version_no"] == 2


def _principal(
    world: World, unit: UnitInfo | None, enterprise_region: str | None = None
) -> Principal:
    return Principal(
        "user",
        "u",
        "u",
        Role.admin if unit else Role.enterprise_staff,
        ROLE_PERMISSIONS[Role.admin if unit else Role.enterprise_staff],
        unit,
        enterprise_id=None if unit else world["ent_a1"],
        enterprise_region_code=enterprise_region,
    )


async def test_get_for_use_answers_visible_checklists_and_422_otherwise(
    app, client, starters
) -> None:  # type: ignore[no-untyped-def]
    mine = (await create(client, starters)).json()
    county = UnitInfo(
        id=starters["county"], kind="county", name="区", region_code="341302", county_code="341302"
    )
    elsewhere = UnitInfo(
        id="x", kind="county", name="外县", region_code="341321", county_code="341321"
    )
    async with app.state.sessionmaker() as s:
        starter_id = (
            await s.execute(select(Checklist.id).where(Checklist.code == "starter-gas-restaurant"))
        ).scalar_one()
        for p in (_principal(starters, county), _principal(starters, None, "341302001001")):
            assert (await checklists.get_for_use(s, p, mine["id"])).id == mine["id"]
            assert (await checklists.get_for_use(s, p, starter_id)).id == starter_id
        outsider = _principal(starters, elsewhere)
        assert (await checklists.get_for_use(s, outsider, starter_id)).id == starter_id
        for p, cid in ((outsider, mine["id"]), (_principal(starters, county), "nope")):
            with pytest.raises(ValidationFailed) as refused:
                await checklists.get_for_use(s, p, cid)
            assert refused.value.code == "unknown_checklist"
        n = (await s.execute(select(func.count()).select_from(Checklist))).scalar_one()
        assert n == 6


async def test_the_checklist_examples_are_accepted(client, world) -> None:  # type: ignore[no-untyped-def]
    from app.api import examples

    for example in examples.CHECKLIST_CREATE.values():
        r = await client.post(URL, json=example["value"], headers=world.h("bureau_e_manager"))
        assert r.status_code == 201, r.text
        assert r.json()["items"][0]["judgment_clause"] == "11.3"
        for update in examples.CHECKLIST_UPDATE.values():
            patched = await client.patch(
                f"{URL}/{r.json()['id']}", json=update["value"], headers=world.h("admin")
            )
            assert patched.status_code == 200, patched.text


@pytest.mark.parametrize("actor", ALL_ACTORS)
async def test_who_may_edit_a_county_checklist(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    made = (await create(client, world)).json()
    r = await client.patch(f"{URL}/{made['id']}", json={"name": "改名"}, headers=world.h(actor))
    if actor in WRITERS:
        assert r.status_code == 200 and r.json()["name"] == "改名", r.text
    else:
        assert r.status_code == 403, (actor, r.text)
