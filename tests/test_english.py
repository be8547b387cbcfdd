"""`Accept-Language: en` gives English wherever the server writes a label (issue 9, item 13): unit
names in references and the catalogue (`name_en`, the Chinese name when none is set), statistics
labels and reminder texts. Chinese stays the default."""

from __future__ import annotations

from typing import Any

from app.services.jobs import run_jobs
from tests.conftest import World
from tests.hazard_helpers import act, register
from tests.test_scope_matrix import ENTERPRISE_SCOPE, ORG_UNIT_SCOPE

ACTORS = [a for a in ENTERPRISE_SCOPE if a != "other_admin"]
PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}
ENGLISH = {
    "town_a": "Yongqiao Subdistrict",
    "bureau_e": "District Emergency Management Bureau",
}  # town B, bureau C and the county keep no English name: they fall back to Chinese


async def ok(response) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 201), response.text
    return response.json()


def en(world: World, actor: str) -> dict[str, str]:
    return world.h(actor, **{"Accept-Language": "en"})


async def name_units(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for key, name in ENGLISH.items():
        got = await ok(
            await client.patch(
                f"/api/v1/org-units/{world[key]}", json={"name_en": name}, headers=world.h("admin")
            )
        )
        assert got["name_en"] == name


async def test_an_org_unit_has_an_optional_english_name(client, world: World) -> None:
    made = await ok(
        await client.post(
            "/api/v1/org-units",
            json={"kind": "bureau", "name": "区水利局", "name_en": "District Water Bureau"},
            headers=world.h("admin"),
        )
    )
    assert (made["name"], made["name_en"]) == ("区水利局", "District Water Bureau")
    plain = await ok(
        await client.post(
            "/api/v1/org-units",
            json={"kind": "bureau", "name": "区教育局"},
            headers=world.h("admin"),
        )
    )
    assert plain["name_en"] is None
    url = f"/api/v1/org-units/{made['id']}"
    renamed = await ok(
        await client.patch(
            url, json={"name_en": "Water Resources Bureau"}, headers=world.h("admin")
        )
    )
    assert renamed["name_en"] == "Water Resources Bureau" and renamed["name"] == "区水利局"
    cleared = await ok(await client.patch(url, json={"name_en": None}, headers=world.h("admin")))
    assert cleared["name_en"] is None
    for bad in ("x" * 201, "", 5):
        r = await client.patch(url, json={"name_en": bad}, headers=world.h("admin"))
        assert r.status_code == 422, bad
        assert [e["field"] for e in r.json()["errors"]] == ["name_en"]
    listed = await ok(await client.get("/api/v1/org-units?q=区水利局", headers=world.h("admin")))
    assert [u["name_en"] for u in listed["items"]] == [None]


async def test_references_to_units_are_english_when_asked_for_and_set(client, world: World) -> None:
    await name_units(client, world)
    h = await register(client, world, "town_a_officer", "ent_a1", level="major")
    await ok(await act(client, world, "town_a_officer", h["id"], "supervise"))
    for actor in [a for a in ACTORS if "ent_a1" in ENTERPRISE_SCOPE[a]]:
        got = await ok(await client.get(f"/api/v1/hazards/{h['id']}", headers=en(world, actor)))
        assert got["enforcement_department"]["name"] == ENGLISH["bureau_e"], actor
        assert got["supervision"]["org_unit"]["name"] == ENGLISH["town_a"], actor
        assert got["enterprise"]["name"] == "埇桥机械制造有限公司"  # enterprises have one name
        page = await ok(await client.get("/api/v1/hazards", headers=en(world, actor)))
        assert {i["enforcement_department"]["name"] for i in page["items"]} == {ENGLISH["bureau_e"]}
        chinese = await ok(await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor)))
        assert chinese["enforcement_department"]["name"] == "区应急管理局"
        assert chinese["supervision"]["org_unit"]["name"] == "埇桥街道"
    for actor in ACTORS:
        page = await ok(await client.get("/api/v1/enterprises", headers=en(world, actor)))
        names = {i["enforcement_department"]["name"] for i in page["items"]}
        assert names <= {ENGLISH["bureau_e"], "区住房和城乡建设局"}, actor  # C has no English
        assert names, actor


async def test_users_clients_and_units_name_units_in_english(client, world: World) -> None:
    await name_units(client, world)
    user = await ok(
        await client.get(f"/api/v1/users/{world['town_a_officer']}", headers=en(world, "admin"))
    )
    assert user["org_unit"] == {"id": world["town_a"], "name": ENGLISH["town_a"]}
    users = await ok(
        await client.get("/api/v1/users?limit=500", headers=en(world, "town_a_manager"))
    )
    assert {u["org_unit"]["name"] for u in users["items"] if u["org_unit"]} == {ENGLISH["town_a"]}
    town_b = await ok(
        await client.get(f"/api/v1/users/{world['town_b_officer']}", headers=en(world, "admin"))
    )
    assert town_b["org_unit"]["name"] == "符离镇"  # no English name: the Chinese one
    machine = await ok(await client.get("/api/v1/clients", headers=en(world, "admin")))
    assert machine["items"][0]["org_unit"]["name"] == ENGLISH["town_a"]
    for actor, scope in ORG_UNIT_SCOPE.items():
        if scope is None or actor == "other_admin":
            continue
        units = await ok(await client.get("/api/v1/org-units", headers=en(world, actor)))
        parents = {u["parent"]["name"] for u in units["items"] if u["parent"]}
        assert parents == {"埇桥区"}, actor  # the county has no English name here
    await ok(
        await client.patch(
            f"/api/v1/org-units/{world['county']}",
            json={"name_en": "Yongqiao District"},
            headers=world.h("admin"),
        )
    )
    one = await ok(
        await client.get(f"/api/v1/org-units/{world['town_b']}", headers=en(world, "machine"))
    )
    assert one["parent"]["name"] == "Yongqiao District"
    assert one["name"] == "符离镇" and one["name_en"] is None  # the unit's own fields stay apart


async def test_me_names_the_callers_unit_in_english(client, world: World) -> None:
    await name_units(client, world)
    me = await ok(await client.get("/api/v1/me", headers=en(world, "town_a_officer")))
    assert me["org_unit"]["name"] == ENGLISH["town_a"]
    me = await ok(await client.get("/api/v1/me", headers=world.h("town_a_officer")))
    assert me["org_unit"]["name"] != ENGLISH["town_a"]  # Chinese by default
    me = await ok(await client.get("/api/v1/me", headers=en(world, "town_b_officer")))
    assert me["org_unit"]["name"] == "符离镇"  # no English name: the Chinese one


async def test_the_catalogue_gives_english_town_and_bureau_names(client, world: World) -> None:
    await name_units(client, world)
    for actor in ACTORS:
        body = await ok(await client.get("/api/v1/catalogs", headers=world.h(actor)))
        towns = {t["id"]: (t["name_zh"], t["name_en"]) for t in body["towns"]}
        assert towns == {
            world["town_a"]: ("埇桥街道", ENGLISH["town_a"]),
            world["town_b"]: ("符离镇", "符离镇"),
        }, actor
        bureaus = {b["id"]: (b["name_zh"], b["name_en"]) for b in body["bureaus"]}
        assert bureaus == {
            world["bureau_e"]: ("区应急管理局", ENGLISH["bureau_e"]),
            world["bureau_c"]: ("区住房和城乡建设局", "区住房和城乡建设局"),
        }, actor
        # every other entry carries both labels, whatever the language asked for
        english = await ok(await client.get("/api/v1/catalogs", headers=en(world, actor)))
        assert english == body
        for name in ("hazard_event_actions", "event_actor_kinds", "reminder_kinds"):
            assert all(e["name_en"] and e["name_zh"] for e in body[name]), name


async def test_statistics_labels_are_english_when_asked_for(client, world: World) -> None:
    await name_units(client, world)
    await register(client, world, "town_a_officer", "ent_a1")
    await register(client, world, "town_b_officer", "ent_b1", level="major")
    url = "/api/v1/statistics/hazards?group_by=town,sector"
    for actor in ("admin", "county_viewer", "town_a_viewer", "bureau_e_officer", "machine"):
        body = await ok(await client.get(url, headers=en(world, actor)))
        labels = {(g["town"], g["sector"]): g["labels"] for g in body["groups"]}
        chinese = await ok(await client.get(url, headers=world.h(actor)))
        if ("341302001", "industry_trade") in labels:
            assert labels[("341302001", "industry_trade")] == {
                "town": ENGLISH["town_a"],
                "sector": "Industry and trade",
            }, actor
        if ("341302100", "hazardous_chemicals") in labels:
            assert labels[("341302100", "hazardous_chemicals")] == {
                "town": "符离镇",  # no English name
                "sector": "Hazardous chemicals",
            }, actor
        assert labels, actor
        assert {g["labels"]["sector"] for g in chinese["groups"]} <= {"工贸", "危险化学品"}
    levels = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=level,source", headers=en(world, "admin")
        )
    )
    assert {tuple(g["labels"].values()) for g in levels["groups"]} == {
        ("General hazard", "Found by supervision or inspection"),
        ("Major hazard", "Found by supervision or inspection"),
    }
    months = await ok(
        await client.get("/api/v1/statistics/hazards?group_by=month", headers=en(world, "admin"))
    )
    assert all(g["labels"]["month"] == g["month"] for g in months["groups"])


async def test_reminder_texts_are_english_when_asked_for(  # type: ignore[no-untyped-def]
    app, client, world: World, settings
) -> None:
    await name_units(client, world)
    h = await register(client, world, "town_a_officer", "ent_a1", title="配电箱门锁损坏", **PAST)
    await run_jobs(app.state.sessionmaker, settings, "t-english")
    for actor in [a for a in ACTORS if "ent_a1" in ENTERPRISE_SCOPE[a]]:
        [chinese] = [
            r
            for r in (await ok(await client.get("/api/v1/reminders", headers=world.h(actor))))[
                "items"
            ]
            if r["org_unit_id"] == world["bureau_e"]
        ]
        assert chinese["message"].startswith(f"隐患 {h['number']}《配电箱门锁损坏》已逾期")
        assert "（整改期限 2025-02-01）" in chinese["message"]
        [english] = [
            r
            for r in (await ok(await client.get("/api/v1/reminders", headers=en(world, actor))))[
                "items"
            ]
            if r["org_unit_id"] == world["bureau_e"]
        ]
        days = chinese["message"].split("已逾期 ")[1].split(" 天")[0]
        assert english["message"] == (
            f'Hazard {h["number"]} "配电箱门锁损坏" is {days} days overdue (deadline '
            "2025-02-01); please see that it is rectified."
        ), actor
        assert english["org_unit"]["name"] == ENGLISH["bureau_e"]
    # An extension afterwards changes the hazard's deadline, not what the reminder said then.
    await ok(
        await act(
            client, world, "county_officer", h["id"], "extend", deadline="2099-01-01", reason="工期"
        )
    )
    later = (await ok(await client.get("/api/v1/reminders", headers=en(world, "admin"))))["items"]
    assert len(later) == 3  # the enterprise, town A and bureau E
    assert all("(deadline 2025-02-01)" in r["message"] for r in later)


async def test_chinese_stays_the_default_and_wins_when_preferred(client, world: World) -> None:
    await name_units(client, world)
    url = f"/api/v1/users/{world['town_a_officer']}"
    for header in ({}, {"Accept-Language": "zh-CN,en;q=0.5"}, {"Accept-Language": "fr"}):
        got = await ok(await client.get(url, headers=world.h("admin", **header)))
        assert got["org_unit"]["name"] == "埇桥街道", header
    got = await ok(
        await client.get(url, headers=world.h("admin", **{"Accept-Language": "en-GB,zh;q=0.8"}))
    )
    assert got["org_unit"]["name"] == ENGLISH["town_a"]
