"""References carry what a screen shows (issue 9, item 12): `{id, name}` or `{id, display_name}`,
readable by every role that may read the object holding them (even one that may not read the
user or unit itself), joined in the statement that reads the object (no statement per row)."""

from __future__ import annotations

from typing import Any

from app.services.jobs import run_jobs
from tests.conftest import World, credit
from tests.hazard_helpers import act, register
from tests.statements import statements
from tests.test_scope_matrix import ENTERPRISE_SCOPE, HOME, ORG_UNIT_SCOPE, USER_SCOPE

ACTORS = [a for a in ENTERPRISE_SCOPE if a != "other_admin"]  # the world's, one per role
UNIT_NAMES = {
    "county": "埇桥区",
    "town_a": "埇桥街道",
    "town_b": "符离镇",
    "bureau_e": "区应急管理局",
    "bureau_c": "区住房和城乡建设局",
}
ENTERPRISE_NAMES = {
    "ent_a1": "埇桥机械制造有限公司",
    "ent_a2": "宿州城建工程有限公司",
    "ent_b1": "符离化工有限公司",
    "ent_b2": "符离运输有限公司",
}
DEPARTMENT = {
    "ent_a1": "bureau_e",
    "ent_a2": "bureau_c",
    "ent_b1": "bureau_e",
    "ent_b2": "bureau_c",
}
PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}


def unit(world: World, key: str) -> dict[str, str]:
    return {"id": world[key], "name": UNIT_NAMES[key]}


def enterprise(world: World, key: str) -> dict[str, str]:
    return {"id": world[key], "name": ENTERPRISE_NAMES[key]}


async def ok(response) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 201), response.text
    return response.json()


async def supervised_hazard(client, world: World) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A major hazard of ent_a1 listed by town A, tracked by an official renamed since."""
    await ok(
        await client.patch(
            f"/api/v1/users/{world['town_a_officer']}",
            json={"display_name": "王督办"},
            headers=world.h("admin"),
        )
    )
    h = await register(client, world, "town_a_inspector", "ent_a1", level="major", **PAST)
    await ok(
        await act(
            client,
            world,
            "town_a_manager",
            h["id"],
            "supervise",
            supervisor_user_id=world["town_a_officer"],
        )
    )
    return h


async def test_a_hazard_names_its_enterprise_department_supervisor_and_finder_to_every_reader(
    client, world: World
) -> None:
    h = await supervised_hazard(client, world)
    readers = [a for a in ACTORS if "ent_a1" in ENTERPRISE_SCOPE[a]]
    assert {"ent_a1_staff", "machine", "bureau_e_officer", "county_viewer"} <= set(readers)
    for actor in readers:
        got = await ok(await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor)))
        assert got["enterprise"] == enterprise(world, "ent_a1"), actor
        assert got["enforcement_department"] == unit(world, "bureau_e"), actor
        assert got["found_by"] == {"id": world["town_a_inspector"], "name": "town_a_inspector"}
        supervision = got["supervision"]
        assert supervision["org_unit_id"] == world["town_a"]  # kept for compatibility
        assert supervision["org_unit"] == unit(world, "town_a"), actor
        assert supervision["supervisor_user_id"] == world["town_a_officer"]
        assert supervision["supervisor"] == {
            "id": world["town_a_officer"],
            "display_name": "王督办",
        }, actor
        page = await ok(await client.get("/api/v1/hazards", headers=world.h(actor)))
        [item] = [i for i in page["items"] if i["id"] == h["id"]]
        assert item["enterprise"] == enterprise(world, "ent_a1")
        assert item["enforcement_department"] == unit(world, "bureau_e"), actor
    # The enterprise's staff may read neither the official nor the unit, yet sees their names.
    r = await client.get(
        f"/api/v1/users/{world['town_a_officer']}", headers=world.h("ent_a1_staff")
    )
    assert r.status_code == 403
    r = await client.get(f"/api/v1/org-units/{world['town_a']}", headers=world.h("ent_a1_staff"))
    assert r.status_code == 403
    # Escalations and the history name their actor the same way.
    await ok(await act(client, world, "county_officer", h["id"], "escalate", note="函告"))
    got = await ok(await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("ent_a1_staff")))
    [step] = got["escalation_history"]
    assert step["actor"] == {"id": world["county_officer"], "name": "county_officer"}
    events = await ok(
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("ent_a1_staff"))
    )
    assert events["items"][-1]["actor"] == {"id": world["county_officer"], "name": "county_officer"}
    assert events["items"][-1]["actor_kind"] == "user"


async def test_an_enterprise_names_its_enforcement_department_to_every_reader(
    client, world: World
) -> None:
    for actor in ACTORS:
        page = await ok(await client.get("/api/v1/enterprises", headers=world.h(actor)))
        by_id = {v: k for k, v in world.ids.items()}
        seen = {by_id[i["id"]]: i["enforcement_department"] for i in page["items"]}
        assert set(seen) == ENTERPRISE_SCOPE[actor], actor
        for key, department in seen.items():
            assert department == unit(world, DEPARTMENT[key]), (actor, key)
            one = await ok(
                await client.get(f"/api/v1/enterprises/{world[key]}", headers=world.h(actor))
            )
            assert one["enforcement_department"] == unit(world, DEPARTMENT[key])
            assert one["enforcement_department_id"] == world[DEPARTMENT[key]]


async def test_a_new_department_is_named_in_the_answer_that_sets_it(client, world: World) -> None:
    moved = await ok(
        await client.patch(
            f"/api/v1/enterprises/{world['ent_b2']}",
            json={"enforcement_department_id": world["bureau_e"]},
            headers=world.h("admin"),
        )
    )
    assert moved["enforcement_department"] == unit(world, "bureau_e")
    created = await ok(
        await client.post(
            "/api/v1/enterprises",
            json={
                "name": "埇桥商贸有限公司",
                "credit_code": credit(77),
                "region_code": "341302001009",
                "sector": "commerce",
                "enforcement_department_id": world["bureau_c"],
            },
            headers=world.h("town_a_officer"),
        )
    )
    assert created["enforcement_department"] == unit(world, "bureau_c")


def expected_user(world: World, key: str) -> tuple[Any, Any]:
    """(org_unit, enterprise) of a user of the world."""
    home = HOME[key]
    if home in ENTERPRISE_NAMES:
        return None, enterprise(world, home)
    return unit(world, home), None


async def test_a_user_names_its_unit_or_enterprise(client, world: World) -> None:
    by_id = {v: k for k, v in world.ids.items()}
    for actor, scope in USER_SCOPE.items():
        if not scope or actor == "other_admin":
            continue
        page = await ok(await client.get("/api/v1/users?limit=500", headers=world.h(actor)))
        assert {by_id[u["id"]] for u in page["items"]} == scope
        for u in page["items"]:
            org_unit, ent = expected_user(world, by_id[u["id"]])
            assert (u["org_unit"], u["enterprise"]) == (org_unit, ent), (actor, u["username"])
            one = await ok(await client.get(f"/api/v1/users/{u['id']}", headers=world.h(actor)))
            assert (one["org_unit"], one["enterprise"]) == (org_unit, ent)
    made = await ok(
        await client.post(
            "/api/v1/users",
            json={
                "username": "ent_a1_newcomer",
                "password": "Xk39!mmqpzLL",
                "display_name": "新安全员",
                "role": "enterprise_staff",
                "enterprise_id": world["ent_a1"],
            },
            headers=world.h("town_a_manager"),
        )
    )
    assert made["enterprise"] == enterprise(world, "ent_a1") and made["org_unit"] is None
    changed = await ok(
        await client.patch(
            f"/api/v1/users/{world['town_a_viewer']}",
            json={"phone": "13800000000"},
            headers=world.h("town_a_manager"),
        )
    )
    assert changed["org_unit"] == unit(world, "town_a") and changed["enterprise"] is None


async def test_a_machine_client_names_its_unit(client, world: World) -> None:
    page = await ok(await client.get("/api/v1/clients", headers=world.h("admin")))
    [machine] = page["items"]
    assert machine["org_unit"] == unit(world, "town_a")
    one = await ok(
        await client.get(f"/api/v1/clients/{world['machine']}", headers=world.h("admin"))
    )
    assert one["org_unit"] == unit(world, "town_a")
    made = await ok(
        await client.post(
            "/api/v1/clients",
            json={"name": "统计接口", "org_unit_id": world["bureau_c"], "permissions": ["me:read"]},
            headers=world.h("admin"),
        )
    )
    assert made["org_unit"] == unit(world, "bureau_c") and made["client_secret"]
    rotated = await ok(
        await client.post(f"/api/v1/clients/{made['id']}/rotate-secret", headers=world.h("admin"))
    )
    assert rotated["org_unit"] == unit(world, "bureau_c")


async def test_an_org_unit_names_its_parent(client, world: World) -> None:
    by_id = {v: k for k, v in world.ids.items()}
    for actor, scope in ORG_UNIT_SCOPE.items():
        if scope is None or actor == "other_admin":
            continue
        page = await ok(await client.get("/api/v1/org-units", headers=world.h(actor)))
        for u in page["items"]:
            key = by_id[u["id"]]
            expected = None if key == "county" else unit(world, "county")
            assert u["parent"] == expected, (actor, key)
        one = await ok(
            await client.get(f"/api/v1/org-units/{world['town_b']}", headers=world.h(actor))
        )
        assert one["parent"] == unit(world, "county")
    made = await ok(
        await client.post(
            "/api/v1/org-units",
            json={"kind": "bureau", "name": "区水利局"},
            headers=world.h("admin"),
        )
    )
    assert made["parent"] == unit(world, "county")


async def test_a_reminder_names_its_hazard_enterprise_and_department(  # type: ignore[no-untyped-def]
    app, client, world: World, settings
) -> None:
    h = await register(client, world, "town_a_officer", "ent_a1", **PAST)
    await run_jobs(app.state.sessionmaker, settings, "t-references")
    for actor in [a for a in ACTORS if "ent_a1" in ENTERPRISE_SCOPE[a]]:
        page = await ok(await client.get("/api/v1/reminders", headers=world.h(actor)))
        # one per recipient: the enterprise itself, its town and its enforcement department
        by_unit = {r["org_unit_id"]: r for r in page["items"]}
        assert set(by_unit) == {None, world["town_a"], world["bureau_e"]}, actor
        for reminder in page["items"]:
            assert reminder["hazard"] == {"id": h["id"], "number": h["number"], "title": h["title"]}
            assert reminder["enterprise"] == enterprise(world, "ent_a1"), actor
            assert reminder["kind"] == "overdue"
        assert by_unit[world["bureau_e"]]["org_unit"] == unit(world, "bureau_e"), actor
        assert by_unit[world["town_a"]]["org_unit"] == unit(world, "town_a"), actor
        assert by_unit[None]["org_unit"] is None


async def test_the_catalogue_lists_the_bureaus_beside_the_towns_for_everyone(
    client, world: World
) -> None:
    for actor in ACTORS:
        body = await ok(await client.get("/api/v1/catalogs", headers=world.h(actor)))
        bureaus = {b["id"]: b for b in body["bureaus"]}
        assert bureaus == {
            world["bureau_e"]: {
                "id": world["bureau_e"],
                "code": world["bureau_e"],
                "name_zh": "区应急管理局",
                "name_en": "区应急管理局",  # no English name yet: the Chinese one
                "sectors": [
                    "hazardous_chemicals",
                    "industry_trade",
                    "metallurgy",
                    "fireworks",
                    "non_coal_mining",
                ],
            },
            world["bureau_c"]: {
                "id": world["bureau_c"],
                "code": world["bureau_c"],
                "name_zh": "区住房和城乡建设局",
                "name_en": "区住房和城乡建设局",
                "sectors": ["construction", "urban_gas", "self_built_housing"],
            },
        }, actor
        assert [t["name_zh"] for t in body["towns"]] == ["埇桥街道", "符离镇"]


# ---- no statement per row, and none added by the names ------------------------------------


# Data statements per request (besides resolving the caller): lists one, whatever their
# length; details at most two (tests/test_statement_budget.py holds every read to its budget).
DATA_STATEMENTS = {
    "hazards": 1,
    "hazards?limit=1": 1,
    "hazard": 2,  # the hazard with its names; its files and escalation steps (issue 10)
    "events": 1,
    "enterprises": 1,
    "enterprises?limit=1": 1,
    "enterprise": 1,
    "users": 1,
    "users?limit=1": 1,
    "user": 1,
    "enterprise user": 1,
    "clients": 1,
    "client": 1,
    "org-units": 1,
    "org-units?limit=1": 1,
    "org-unit": 1,
    "reminders": 1,
    "catalogs": 1,
    "statistics by town": 3,
    # + the blacklist and the installations of the answer, gathered in one statement
    "patch enterprise": 4,  # + its change row (the feed)
    # + moving its hazards' counts in the rollup, + its change rows and its hazards' and
    # inspections' (one statement)
    "patch enterprise department": 6,
    "patch user": 3,  # + the row that ends cached callers (app/auth/principal_cache.py)
    "patch client": 3,
    "patch org unit": 3,
}


NAMED_BY = {  # a reference each answer now carries (request name, without a query -> field)
    "hazards": "enforcement_department",
    "hazard": "supervisor",
    "enterprise": "enforcement_department",
    "patch enterprise": "enforcement_department",
    "patch enterprise department": "enforcement_department",
    "users": "org_unit",
    "user": "org_unit",
    "enterprise user": "enterprise",
    "clients": "org_unit",
    "client": "org_unit",
    "patch user": "org_unit",
    "patch client": "org_unit",
    "org-unit": "parent",
    "patch org unit": "parent",
    "reminders": "hazard",
    "catalogs": "bureaus",
}


async def test_names_cost_no_statement(app, client, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    h = await supervised_hazard(client, world)
    await register(client, world, "town_b_officer", "ent_b1", **PAST)
    await run_jobs(app.state.sessionmaker, settings, "t-statements")
    v1 = "/api/v1"
    requests = {
        "hazards": ("GET", f"{v1}/hazards", None),
        "hazards?limit=1": ("GET", f"{v1}/hazards?limit=1", None),
        "hazard": ("GET", f"{v1}/hazards/{h['id']}", None),
        "events": ("GET", f"{v1}/hazards/{h['id']}/events", None),
        "enterprises": ("GET", f"{v1}/enterprises", None),
        "enterprises?limit=1": ("GET", f"{v1}/enterprises?limit=1", None),
        "enterprise": ("GET", f"{v1}/enterprises/{world['ent_a1']}", None),
        "users": ("GET", f"{v1}/users", None),
        "users?limit=1": ("GET", f"{v1}/users?limit=1", None),
        "user": ("GET", f"{v1}/users/{world['town_a_officer']}", None),
        "enterprise user": ("GET", f"{v1}/users/{world['ent_a1_staff']}", None),
        "clients": ("GET", f"{v1}/clients", None),
        "client": ("GET", f"{v1}/clients/{world['machine']}", None),
        "org-units": ("GET", f"{v1}/org-units", None),
        "org-units?limit=1": ("GET", f"{v1}/org-units?limit=1", None),
        "org-unit": ("GET", f"{v1}/org-units/{world['town_a']}", None),
        "reminders": ("GET", f"{v1}/reminders", None),
        "catalogs": ("GET", f"{v1}/catalogs", None),
        "statistics by town": ("GET", f"{v1}/statistics/hazards?group_by=town", None),
        "patch enterprise": ("PATCH", f"{v1}/enterprises/{world['ent_a1']}", {"address": "x"}),
        "patch enterprise department": (
            "PATCH",
            f"{v1}/enterprises/{world['ent_a2']}",
            {"enforcement_department_id": world["bureau_e"]},
        ),
        "patch user": ("PATCH", f"{v1}/users/{world['town_a_viewer']}", {"phone": "13800000001"}),
        "patch client": ("PATCH", f"{v1}/clients/{world['machine']}", {"name": "数据交换"}),
        "patch org unit": ("PATCH", f"{v1}/org-units/{world['town_b']}", {"name_en": "Fuli"}),
    }
    app.state.principal_cache.clear()  # the caller resolved afresh before every request
    with statements(app) as seen:  # the caller, and one lookup that finds nothing
        assert (await client.get(f"{v1}/hazards/nope", headers=world.h("admin"))).status_code == 404
    caller = len(seen) - 1
    counted = {}
    for name, (method, url, body) in requests.items():
        app.state.principal_cache.clear()
        with statements(app) as seen:
            r = await client.request(method, url, json=body, headers=world.h("admin"))
        assert r.status_code == 200, (name, r.text)
        counted[name] = len(seen) - caller
        shown = NAMED_BY.get(name.split("?")[0])
        assert shown is None or f'"{shown}":' in r.text, name  # the names are there
    assert counted == DATA_STATEMENTS
