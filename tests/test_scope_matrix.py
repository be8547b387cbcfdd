"""The scope matrix: every read endpoint, as every role, in scope and out of scope.

The tables below are the specification. Each row says what one actor may see; the tests walk
every object of the world (plus a second county that must stay invisible) and compare the
whole answer with the table, so a failure prints the exact cells that differ.

- out of scope: 404 on detail, absent from lists and totals;
- in scope but the role lacks the permission: 403;
- county staff and admins: the whole county; a town: enterprises under its 9-digit code;
  a bureau: enterprises of its sectors plus those naming it as enforcement department;
  enterprise users: their own enterprise; a machine client: the scope of its org unit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.tokens import issue_token
from app.core.credit_code import make_credit_code
from app.models import ApiClient, Enterprise, Notification, OrgUnit, User
from app.services.jobs import run_jobs
from tests.conftest import World, credit
from tests.hazard_helpers import register
from tests.report_helpers import submit

# ---- the actors ------------------------------------------------------------------------------

ACTORS = (
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
    "machine",
    "other_admin",  # the administrator of a second county served by the same deployment
)

# Where each actor belongs and what /me says about it.
HOME = {
    "admin": "county",
    "county_officer": "county",
    "county_viewer": "county",
    "town_a_manager": "town_a",
    "town_a_officer": "town_a",
    "town_a_inspector": "town_a",
    "town_a_viewer": "town_a",
    "town_b_officer": "town_b",
    "bureau_e_manager": "bureau_e",
    "bureau_e_officer": "bureau_e",
    "bureau_c_officer": "bureau_c",
    "ent_a1_manager": "ent_a1",
    "ent_a1_staff": "ent_a1",
    "ent_b1_manager": "ent_b1",
    "machine": "town_a",
    "other_admin": "other_county",
}
ROLE = {
    "admin": "admin",
    "county_officer": "officer",
    "county_viewer": "viewer",
    "town_a_manager": "manager",
    "town_a_officer": "officer",
    "town_a_inspector": "inspector",
    "town_a_viewer": "viewer",
    "town_b_officer": "officer",
    "bureau_e_manager": "manager",
    "bureau_e_officer": "officer",
    "bureau_c_officer": "officer",
    "ent_a1_manager": "enterprise_manager",
    "ent_a1_staff": "enterprise_staff",
    "ent_b1_manager": "enterprise_manager",
    "machine": None,
    "other_admin": "admin",
}

# ---- enterprises -----------------------------------------------------------------------------
# ent_a1: town A, industry_trade, enforced by bureau E   (bureau E by sector and designation)
# ent_a2: town A, construction,   enforced by bureau C   (bureau C by sector and designation)
# ent_b1: town B, hazardous_chemicals, bureau E          (bureau E by sector and designation)
# ent_b2: town B, road_transport, enforced by bureau C   (bureau C by designation only)
# other_ent: another county, hazardous_chemicals         (bureau E's sector, but not its county)

ENTERPRISES = ("ent_a1", "ent_a2", "ent_b1", "ent_b2", "other_ent")
COUNTY = {"ent_a1", "ent_a2", "ent_b1", "ent_b2"}
TOWN_A = {"ent_a1", "ent_a2"}
TOWN_B = {"ent_b1", "ent_b2"}
BUREAU_E = {"ent_a1", "ent_b1"}
BUREAU_C = {"ent_a2", "ent_b2"}

ENTERPRISE_SCOPE: dict[str, set[str]] = {
    "admin": COUNTY,
    "county_officer": COUNTY,
    "county_viewer": COUNTY,
    "town_a_manager": TOWN_A,
    "town_a_officer": TOWN_A,
    "town_a_inspector": TOWN_A,
    "town_a_viewer": TOWN_A,
    "town_b_officer": TOWN_B,
    "bureau_e_manager": BUREAU_E,
    "bureau_e_officer": BUREAU_E,
    "bureau_c_officer": BUREAU_C,
    "ent_a1_manager": {"ent_a1"},
    "ent_a1_staff": {"ent_a1"},
    "ent_b1_manager": {"ent_b1"},
    "machine": TOWN_A,
    "other_admin": {"other_ent"},
}

# ---- org units: government sees the units of its own county; enterprises may not list them --

ORG_UNITS = (
    "county",
    "town_a",
    "town_b",
    "bureau_e",
    "bureau_c",
    "other_county",
    "other_town",
    "other_bureau",
)
COUNTY_UNITS = {"county", "town_a", "town_b", "bureau_e", "bureau_c"}
OTHER_UNITS = {"other_county", "other_town", "other_bureau"}
ORG_UNIT_SCOPE: dict[str, set[str] | None] = {
    **dict.fromkeys(ACTORS, COUNTY_UNITS),  # government staff and the machine client
    "other_admin": OTHER_UNITS,
    # None: the role lacks org_units:read, so every read is 403
    "ent_a1_manager": None,
    "ent_a1_staff": None,
    "ent_b1_manager": None,
}

# ---- users: admins see the county's people; a manager its unit and its enterprises' staff ----

WORLD_USERS = (
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
OTHER_USERS = ("other_admin", "other_town_officer", "other_ent_manager")
USERS = WORLD_USERS + OTHER_USERS
USER_SCOPE: dict[str, set[str] | None] = {actor: None for actor in ACTORS}
USER_SCOPE.update(
    {
        "admin": set(WORLD_USERS),
        "town_a_manager": {
            "town_a_manager",
            "town_a_officer",
            "town_a_inspector",
            "town_a_viewer",
            "ent_a1_manager",
            "ent_a1_staff",
        },
        "bureau_e_manager": {
            "bureau_e_manager",
            "bureau_e_officer",
            "ent_a1_manager",
            "ent_a1_staff",
            "ent_b1_manager",
        },
        "other_admin": set(OTHER_USERS),
    }
)

# ---- machine clients: administrators only, those bound to a unit of their county -------------

CLIENTS = ("machine", "other_client")
CLIENT_SCOPE: dict[str, set[str] | None] = {actor: None for actor in ACTORS}
CLIENT_SCOPE.update({"admin": {"machine"}, "other_admin": {"other_client"}})


# ---- a second county in the same deployment --------------------------------------------------


@pytest.fixture
async def world2(app, world: World, password_hash: str) -> World:  # type: ignore[no-untyped-def]
    """The world plus county 341321 with a town, a bureau of the same sectors as bureau E,
    a hazardous-chemicals enterprise, three people and a machine client."""
    async with app.state.sessionmaker() as s:
        county = OrgUnit(
            kind="county", name="砀山县", region_code="341321", county_code="341321", sectors=[]
        )
        s.add(county)
        await s.flush()
        town = OrgUnit(
            kind="town",
            name="砀城镇",
            region_code="341321100",
            county_code="341321",
            parent_id=county.id,
            sectors=[],
        )
        bureau = OrgUnit(
            kind="bureau",
            name="砀山县应急管理局",
            county_code="341321",
            parent_id=county.id,
            sectors=["hazardous_chemicals", "industry_trade"],
        )
        s.add_all([town, bureau])
        await s.flush()
        ent = Enterprise(
            name="砀山化工有限公司",
            credit_code=make_credit_code("91341321MA0000001"),
            region_code="341321100001",
            sector="hazardous_chemicals",
            enforcement_department_id=bureau.id,
            risk_color="red",
            status="operating",
        )
        s.add(ent)
        await s.flush()
        people = {
            "other_admin": ("admin", county.id, None),
            "other_town_officer": ("officer", town.id, None),
            "other_ent_manager": ("enterprise_manager", None, ent.id),
        }
        users = {
            name: User(
                username=name,
                password_hash=password_hash,
                display_name=name,
                role=role,
                org_unit_id=unit_id,
                enterprise_id=ent_id,
                is_active=True,
            )
            for name, (role, unit_id, ent_id) in people.items()
        }
        s.add_all(users.values())
        machine = ApiClient(
            client_id="cli_other_reader",
            secret_hash=password_hash,
            name="砀山数据交换",
            org_unit_id=town.id,
            permissions=["enterprises:read"],
        )
        s.add(machine)
        await s.commit()
    world.ids.update(
        other_county=county.id,
        other_town=town.id,
        other_bureau=bureau.id,
        other_ent=ent.id,
        other_client=machine.id,
        **{name: u.id for name, u in users.items()},
    )
    world.tokens["other_admin"] = issue_token(world.settings, users["other_admin"].id, "user")[0]
    return world


def _expect(scope: set[str] | None, targets: tuple[str, ...]) -> dict[str, int]:
    if scope is None:
        return dict.fromkeys(targets, 403)
    return {t: 200 if t in scope else 404 for t in targets}


async def _list_names(client, w: World, actor: str, path: str) -> tuple[int, set[str], int | None]:  # type: ignore[no-untyped-def]
    r = await client.get(path, params={"limit": 500, "include_total": "true"}, headers=w.h(actor))
    if r.status_code != 200:
        return r.status_code, set(), None
    by_id = {v: k for k, v in w.ids.items()}
    body = r.json()
    assert body["next_cursor"] is None
    return 200, {by_id.get(item["id"], item["id"]) for item in body["items"]}, body["total"]


async def _check_list(client, w: World, actor: str, path: str, scope: set[str] | None) -> None:  # type: ignore[no-untyped-def]
    status, names, total = await _list_names(client, w, actor, path)
    if scope is None:
        assert status == 403
        return
    assert status == 200
    assert names == scope
    assert total == len(scope)  # a count never reveals what lies outside the scope


async def _check_details(  # type: ignore[no-untyped-def]
    client, w: World, actor: str, path: str, targets: tuple[str, ...], scope: set[str] | None
) -> None:
    got = {}
    for target in targets:
        r = await client.get(f"{path}/{w[target]}", headers=w.h(actor))
        got[target] = r.status_code
        if r.status_code == 200:
            assert r.json()["id"] == w[target]
            assert r.headers["etag"]
        else:
            assert r.headers["content-type"].startswith("application/problem+json")
    assert got == _expect(scope, targets)


# ---- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
async def test_enterprise_list_holds_exactly_the_callers_scope(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, world2, actor, "/api/v1/enterprises", ENTERPRISE_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_enterprise_detail_is_404_outside_the_callers_scope(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_details(
        client, world2, actor, "/api/v1/enterprises", ENTERPRISES, ENTERPRISE_SCOPE[actor]
    )


@pytest.mark.parametrize("actor", ACTORS)
async def test_org_unit_list_holds_exactly_the_callers_county(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, world2, actor, "/api/v1/org-units", ORG_UNIT_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_org_unit_detail_is_404_outside_the_callers_county(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_details(
        client, world2, actor, "/api/v1/org-units", ORG_UNITS, ORG_UNIT_SCOPE[actor]
    )


@pytest.mark.parametrize("actor", ACTORS)
async def test_user_list_holds_exactly_the_people_the_caller_manages(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, world2, actor, "/api/v1/users", USER_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_user_detail_is_404_outside_the_callers_scope(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_details(client, world2, actor, "/api/v1/users", USERS, USER_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_client_list_is_for_administrators_of_the_county(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, world2, actor, "/api/v1/clients", CLIENT_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_client_detail_is_404_outside_the_administrators_county(
    client, world2, actor
) -> None:  # type: ignore[no-untyped-def]
    await _check_details(client, world2, actor, "/api/v1/clients", CLIENTS, CLIENT_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_me_describes_the_caller_and_its_home(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/me", headers=world2.h(actor))
    assert r.status_code == 200
    me = r.json()
    assert me["id"] == world2[actor]
    assert me["kind"] == ("client" if actor == "machine" else "user")
    assert me["role"] == ROLE[actor]
    home = HOME[actor]
    if home.startswith("ent_"):
        assert me["org_unit"] is None
        assert me["enterprise"]["id"] == world2[home]
    else:
        assert me["enterprise"] is None
        assert me["org_unit"]["id"] == world2[home]
    assert "me:read" in me["permissions"]


@pytest.mark.parametrize("actor", ACTORS)
async def test_catalogs_list_the_towns_of_the_callers_own_county(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/catalogs", headers=world2.h(actor))
    assert r.status_code == 200
    towns = {t["id"] for t in r.json()["towns"]}
    expected = {"other_town"} if actor == "other_admin" else {"town_a", "town_b"}
    assert towns == {world2[t] for t in expected}
    assert r.json()["sectors"]


# ---- statistics: enterprise users may not read them; everyone else counts its own scope -------

STATISTICS_READERS = {a for a in ACTORS if not HOME[a].startswith("ent_")}
# Each bureau's own scope (its sectors in its county, plus the enterprises naming it).
BUREAU_SCOPE = {"bureau_e": BUREAU_E, "bureau_c": BUREAU_C, "other_bureau": {"other_ent"}}


@pytest.mark.parametrize("actor", ACTORS)
async def test_enterprise_statistics_count_exactly_the_callers_scope(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/statistics/enterprises?group_by=town", headers=world2.h(actor))
    if actor not in STATISTICS_READERS:
        assert r.status_code == 403
        return
    assert r.status_code == 200
    body = r.json()
    scope = ENTERPRISE_SCOPE[actor]
    assert body["totals"]["enterprises"] == len(scope)
    assert sum(row["enterprises"] for row in body["groups"]) == len(scope)


@pytest.mark.parametrize("actor", ACTORS)
async def test_hazard_statistics_by_bureau_hold_only_the_callers_scope(
    client, world2, actor
) -> None:  # type: ignore[no-untyped-def]
    """One hazard per enterprise of both counties: each bureau's row is its own scope within the
    caller's; bureaus of another county never appear."""
    from tests.hazard_helpers import register

    for ent in ENTERPRISES:
        await register(client, world2, "other_admin" if ent == "other_ent" else "admin", ent)
    r = await client.get("/api/v1/statistics/hazards?group_by=bureau", headers=world2.h(actor))
    if actor not in STATISTICS_READERS:
        assert r.status_code == 403
        return
    assert r.status_code == 200
    body = r.json()
    scope = ENTERPRISE_SCOPE[actor]
    by_id = {v: k for k, v in world2.ids.items()}
    got = {by_id[row["key"]["bureau"]]: row["found"] for row in body["groups"]}
    want = {b: len(scope & s) for b, s in BUREAU_SCOPE.items() if scope & s}
    assert got == want
    assert body["totals"]["found"] == len(scope)


@pytest.mark.parametrize("actor", ACTORS)
async def test_judgment_standards_are_read_by_every_caller(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/catalogs/judgment-standards/fire", headers=world2.h(actor))
    assert r.status_code == 200
    assert r.json()["code"] == "fire" and r.json()["clauses"]


async def test_the_public_list_is_the_same_for_every_caller_and_for_nobody(client, world2) -> None:  # type: ignore[no-untyped-def]
    """Open to all: scope neither widens nor narrows it. Both counties' disclosed hazards are
    listed, to each caller alike (a county picks its own with county_code)."""
    from tests.hazard_helpers import act, register

    a = await register(client, world2, "town_a_officer", "ent_a1", level="major")
    other = await register(
        client, world2, "other_admin", "other_ent", level="major",
        judgment={"standard": "chemicals", "clause": "12"},
    )  # fmt: skip
    for actor, h in (("town_a_officer", a), ("other_admin", other)):
        r = await act(client, world2, actor, h["id"], "supervise", disclosed=True)
        assert r.status_code == 200, r.text
    anonymous = await client.get("/api/v1/public/major-hazards")
    assert {i["number"] for i in anonymous.json()["items"]} == {a["number"], other["number"]}
    assert {i["county_code"] for i in anonymous.json()["items"]} == {"341302", "341321"}
    for actor in ACTORS:
        r = await client.get("/api/v1/public/major-hazards", headers=world2.h(actor))
        assert r.status_code == 200, actor
        assert r.json() == anonymous.json(), actor


# ---- issue 13, maps (i13-geo): the enterprise map holds exactly the list's scope ---------------


async def test_enterprise_map_holds_exactly_the_callers_scope(app, client, world2) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:  # every enterprise of both counties on the map
        for e in (await s.scalars(select(Enterprise))).all():
            e.lng, e.lat = 116.98, 33.64
        await s.commit()
    by_id = {v: k for k, v in world2.ids.items()}
    for actor in ACTORS:
        r = await client.get("/api/v1/maps/enterprises", headers=world2.h(actor))
        assert r.status_code == 200, actor
        got = {by_id.get(f["id"], f["id"]) for f in r.json()["features"]}
        assert got == ENTERPRISE_SCOPE[actor], actor


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me",
        "/api/v1/catalogs",
        "/api/v1/catalogs/judgment-standards/fire",
        "/api/v1/enterprises",
        "/api/v1/org-units",
        "/api/v1/users",
        "/api/v1/clients",
        "/api/v1/accountability",
        "/api/v1/statistics/units",
        "/api/v1/reminders",
        "/api/v1/notifications",
        "/api/v1/statistics/hazards",
        "/api/v1/statistics/enterprises",
        "/api/v1/checklists",  # i12-check
        "/api/v1/maps/enterprises",  # issue 13, maps (i13-geo)
        "/api/v1/maps/risk-points",  # issue 13, the risk register
        "/api/v1/risk-points",
        "/api/v1/statistics/risks",
        "/api/v1/task-lists",  # issue 14
        "/api/v1/tasks",
        # issue 12, enforcement figures
        "/api/v1/statistics/enforcement",
        "/api/v1/statistics/self-inspection?period=2026-Q4",
        "/api/v1/reports",  # issue 15, public reports
        "/api/v1/statistics/reports",
    ],
)
async def test_every_read_endpoint_requires_a_token(client, world, path) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(path)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


# ---- notifications: a person's own inbox, nobody else's --------------------------------------
# An overdue hazard in each enterprise of the county reaches the people of the enterprise, of its
# town and of its designated enforcement department (not the bureaus of its sector, not the
# county office, which supervises none of them): the enterprises below per actor.
NOTIFIED: dict[str, set[str] | None] = {
    **{a: ENTERPRISE_SCOPE[a] for a in ACTORS},
    "admin": set(),
    "county_officer": set(),
    "county_viewer": set(),
    "other_admin": set(),
    "machine": None,  # no inbox: 403 not_a_person
}


@pytest.fixture
async def notified(app, client, world2: World, settings) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """One overdue hazard per enterprise of the county, reminded by the daily run; answers the
    notification ids of each person (read from the database, not through the API)."""
    past = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}
    hazards = {}
    for ent, actor in (
        ("ent_a1", "town_a_officer"),
        ("ent_a2", "town_a_officer"),
        ("ent_b1", "town_b_officer"),
        ("ent_b2", "town_b_officer"),
    ):
        hazards[(await register(client, world2, actor, ent, **past))["id"]] = ent
    await run_jobs(app.state.sessionmaker, settings, "t-scope-notify")
    by_user: dict[str, list[str]] = {}
    async with app.state.sessionmaker() as s:
        for user_id, nid, object_id in await s.execute(
            select(Notification.user_id, Notification.id, Notification.object_id)
        ):
            by_user.setdefault(user_id, []).append(nid)
            world2.ids[f"n:{nid}"] = hazards[object_id]  # which enterprise it is about
    return by_user


@pytest.mark.parametrize("actor", ACTORS)
async def test_notifications_are_the_callers_own_and_no_one_elses(  # type: ignore[no-untyped-def]
    app, client, world2: World, notified, actor
) -> None:
    expected = NOTIFIED[actor]
    r = await client.get(
        "/api/v1/notifications?limit=500&include_total=true", headers=world2.h(actor)
    )
    if expected is None:
        assert r.status_code == 403 and r.json()["code"] == "not_a_person"
        return
    assert r.status_code == 200
    items = r.json()["items"]
    assert {n["id"] for n in items} == set(notified.get(world2[actor], []))
    assert r.json()["total"] == len(items)
    assert {world2[f"n:{n['id']}"] for n in items} == expected
    # each notification links to what the caller may read
    for n in items:
        assert (await client.get(n["link"], headers=world2.h(actor))).status_code == 200
    # anyone else's is 404 and stays unread, also after the caller marked all its own read
    own = set(notified.get(world2[actor], []))
    for user_id, ids in notified.items():
        if user_id == world2[actor]:
            continue
        r = await client.post(f"/api/v1/notifications/{ids[0]}/read", headers=world2.h(actor))
        assert r.status_code == 404, (actor, user_id)
    r = await client.post("/api/v1/notifications/read-all", headers=world2.h(actor))
    assert r.json() == {"marked_read": len(own)}
    async with app.state.sessionmaker() as s:
        read = set(
            (
                await s.execute(select(Notification.id).where(Notification.read_at.is_not(None)))
            ).scalars()
        )
    assert read == own


# ---- the scope rules, one by one, by name -----------------------------------------------------


async def test_town_officer_cannot_see_enterprise_of_other_town(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"/api/v1/enterprises/{world['ent_b1']}", headers=world.h("town_a_officer")
    )
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


async def test_out_of_scope_enterprise_answers_exactly_like_a_missing_one(client, world) -> None:  # type: ignore[no-untyped-def]
    hidden = await client.get(
        f"/api/v1/enterprises/{world['ent_b1']}", headers=world.h("town_a_officer")
    )
    missing = await client.get(
        "/api/v1/enterprises/0000000000000000000000000000dead", headers=world.h("town_a_officer")
    )
    strip = lambda j: {k: v for k, v in j.items() if k != "instance"}  # noqa: E731
    assert hidden.status_code == missing.status_code == 404
    assert strip(hidden.json()) == strip(missing.json())


async def test_bureau_sees_enterprise_that_names_it_outside_its_sectors(client, world) -> None:  # type: ignore[no-untyped-def]
    # ent_b2 is road transport, not a sector of bureau C, but names bureau C as its enforcer.
    r = await client.get(
        f"/api/v1/enterprises/{world['ent_b2']}", headers=world.h("bureau_c_officer")
    )
    assert r.status_code == 200
    assert r.json()["enforcement_department_id"] == world["bureau_c"]


async def test_bureau_sees_enterprise_of_its_sector_enforced_by_another_bureau(
    client, world
) -> None:  # type: ignore[no-untyped-def]
    from tests.test_enterprises import enterprise_payload

    body = enterprise_payload(
        world, 201, sector="hazardous_chemicals", enforcement_department_id=world["bureau_c"]
    )
    created = await client.post("/api/v1/enterprises", json=body, headers=world.h("admin"))
    assert created.status_code == 201
    ent_id = created.json()["id"]
    for actor in ("bureau_e_officer", "bureau_c_officer"):
        r = await client.get(f"/api/v1/enterprises/{ent_id}", headers=world.h(actor))
        assert r.status_code == 200, actor


async def test_bureau_does_not_see_its_sector_in_another_county(client, world2) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"/api/v1/enterprises/{world2['other_ent']}", headers=world2.h("bureau_e_officer")
    )
    assert r.status_code == 404


async def test_enterprise_user_sees_only_its_own_enterprise(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/enterprises", headers=world.h("ent_a1_staff"))
    assert [e["id"] for e in r.json()["items"]] == [world["ent_a1"]]
    # even its town neighbour is invisible
    r = await client.get(f"/api/v1/enterprises/{world['ent_a2']}", headers=world.h("ent_a1_staff"))
    assert r.status_code == 404


async def test_enterprise_user_may_not_read_org_units_or_users(client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/org-units", "/api/v1/users", f"/api/v1/users/{world['ent_a1_staff']}"):
        r = await client.get(path, headers=world.h("ent_a1_manager"))
        assert r.status_code == 403, path
        assert r.json()["code"] == "forbidden"


async def test_machine_client_reads_with_the_scope_of_its_org_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/enterprises", headers=world.h("machine"))
    assert {e["id"] for e in r.json()["items"]} == {world["ent_a1"], world["ent_a2"]}
    # a permission it was not granted is 403 even for objects in scope
    r = await client.get(f"/api/v1/users/{world['town_a_officer']}", headers=world.h("machine"))
    assert r.status_code == 403


async def test_filters_cannot_widen_the_scope(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.h("town_a_officer")
    for params in (
        {"region_code": "341302100"},
        {"q": "符离"},
        {"enforcement_department_id": world["bureau_c"], "region_code": "3413"},
        {"sector": "hazardous_chemicals"},
    ):
        r = await client.get("/api/v1/enterprises", params=params, headers=h)
        assert r.status_code == 200
        ids = {e["id"] for e in r.json()["items"]}
        assert ids <= {world["ent_a1"], world["ent_a2"]}, params
        assert world["ent_b1"] not in ids and world["ent_b2"] not in ids


# ---- writes follow the same scope: outside it 404, inside it without permission 403 ---------

WRITES = [
    # actor, collection, target, body, expected status
    ("admin", "enterprises", "other_ent", {"risk_color": "blue"}, 404),
    ("admin", "org-units", "other_town", {"name": "改名"}, 404),
    ("admin", "users", "other_town_officer", {"display_name": "改名"}, 404),
    ("admin", "clients", "other_client", {"name": "改名"}, 404),
    ("other_admin", "enterprises", "ent_a1", {"risk_color": "blue"}, 404),
    ("other_admin", "users", "town_a_officer", {"display_name": "改名"}, 404),
    ("town_a_officer", "enterprises", "ent_b1", {"risk_color": "blue"}, 404),
    ("bureau_c_officer", "enterprises", "ent_a1", {"risk_color": "blue"}, 404),
    ("bureau_e_officer", "enterprises", "ent_b2", {"risk_color": "red"}, 404),
    ("ent_a1_manager", "enterprises", "ent_b1", {"principal": {"name": "王五"}}, 404),
    ("town_a_manager", "users", "town_b_officer", {"display_name": "改名"}, 404),
    ("bureau_e_manager", "users", "town_a_officer", {"display_name": "改名"}, 404),
    ("town_a_viewer", "enterprises", "ent_a1", {"risk_color": "blue"}, 403),
    ("ent_a1_staff", "enterprises", "ent_a1", {"principal": {"name": "王五"}}, 403),
    ("town_a_officer", "users", "town_a_viewer", {"display_name": "改名"}, 403),
    ("town_a_manager", "org-units", "town_a", {"name": "改名"}, 403),
    ("machine", "enterprises", "ent_a1", {"risk_color": "blue"}, 403),
    ("bureau_e_officer", "enterprises", "ent_b1", {"risk_color": "blue"}, 200),
    ("bureau_c_officer", "enterprises", "ent_b2", {"risk_color": "red"}, 200),
    ("town_a_manager", "users", "ent_a1_staff", {"display_name": "改名"}, 200),
    ("other_admin", "enterprises", "other_ent", {"risk_color": "blue"}, 200),
]


@pytest.mark.parametrize(
    ("actor", "collection", "target", "body", "expected"),
    WRITES,
    ids=[f"{a}-{c}-{t}-{e}" for a, c, t, _, e in WRITES],
)
async def test_patch_follows_the_read_scope(  # type: ignore[no-untyped-def]
    client, world2, actor, collection, target, body, expected
) -> None:
    url = f"/api/v1/{collection}/{world2[target]}"
    owner = "other_admin" if target.startswith("other_") else "admin"
    before = (await client.get(url, headers=world2.h(owner))).json()
    r = await client.patch(url, json=body, headers=world2.h(actor))
    assert r.status_code == expected, r.text
    after = (await client.get(url, headers=world2.h(owner))).json()
    if expected == 200:
        assert after == r.json() != before
    else:
        assert after == before


# ---- accountability records (问责) and the unit figures ----------------------------------------
# One record about each town, bureau and enterprise of both counties, written by their admins.

RECORD_TARGETS = (
    "town_a",
    "town_b",
    "bureau_e",
    "bureau_c",
    "ent_a1",
    "ent_a2",
    "ent_b1",
    "ent_b2",
    "other_town",
    "other_bureau",
    "other_ent",
)
RECORDS = tuple(f"record_{t}" for t in RECORD_TARGETS)


def _records(*targets: str) -> set[str]:
    return {f"record_{t}" for t in targets}


_COUNTY_RECORDS = _records("town_a", "town_b", "bureau_e", "bureau_c", *COUNTY)
ACCOUNTABILITY_SCOPE: dict[str, set[str] | None] = {
    "admin": _COUNTY_RECORDS,
    "county_officer": _COUNTY_RECORDS,
    "county_viewer": _COUNTY_RECORDS,
    # a unit: the records about itself and about the enterprises in its scope
    **dict.fromkeys(
        ("town_a_manager", "town_a_officer", "town_a_inspector", "town_a_viewer"),
        _records("town_a", *TOWN_A),
    ),
    "town_b_officer": _records("town_b", *TOWN_B),
    "bureau_e_manager": _records("bureau_e", *BUREAU_E),
    "bureau_e_officer": _records("bureau_e", *BUREAU_E),
    "bureau_c_officer": _records("bureau_c", *BUREAU_C),
    # an enterprise: the records about itself
    "ent_a1_manager": _records("ent_a1"),
    "ent_a1_staff": _records("ent_a1"),
    "ent_b1_manager": _records("ent_b1"),
    "machine": None,  # not granted accountability:read
    "other_admin": _records("other_town", "other_bureau", "other_ent"),
}
# towns by region code, then bureaus by name
UNIT_SCOPE: dict[str, tuple[str, ...] | None] = {
    **dict.fromkeys(
        ("admin", "county_officer", "county_viewer"), ("town_a", "town_b", "bureau_c", "bureau_e")
    ),
    **dict.fromkeys(
        ("town_a_manager", "town_a_officer", "town_a_inspector", "town_a_viewer", "machine"),
        ("town_a",),
    ),
    "town_b_officer": ("town_b",),
    "bureau_e_manager": ("bureau_e",),
    "bureau_e_officer": ("bureau_e",),
    "bureau_c_officer": ("bureau_c",),
    **dict.fromkeys(("ent_a1_manager", "ent_a1_staff", "ent_b1_manager"), None),
    "other_admin": ("other_town", "other_bureau"),
}


@pytest.fixture
async def records(client, world2: World) -> World:  # type: ignore[no-untyped-def]
    for target in RECORD_TARGETS:
        key = "enterprise_id" if "ent" in target else "org_unit_id"
        author = "other_admin" if target.startswith("other_") else "admin"
        r = await client.post(
            "/api/v1/accountability",
            json={"target": {key: world2[target]}, "rung": "notice_letter", "reason": "矩阵"},
            headers=world2.h(author),
        )
        assert r.status_code == 201, r.text
        world2.ids[f"record_{target}"] = r.json()["id"]
    return world2


@pytest.mark.parametrize("actor", ACTORS)
async def test_accountability_list_holds_exactly_the_callers_scope(client, records, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, records, actor, "/api/v1/accountability", ACCOUNTABILITY_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_accountability_detail_is_404_outside_the_callers_scope(
    client, records, actor
) -> None:  # type: ignore[no-untyped-def]
    await _check_details(
        client, records, actor, "/api/v1/accountability", RECORDS, ACCOUNTABILITY_SCOPE[actor]
    )


@pytest.mark.parametrize("actor", ACTORS)
async def test_unit_figures_list_exactly_the_units_the_caller_sees(client, records, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/statistics/units", headers=records.h(actor))
    expected = UNIT_SCOPE[actor]
    if expected is None:
        assert r.status_code == 403
        return
    assert r.status_code == 200
    by_id = {v: k for k, v in records.ids.items()}
    assert tuple(by_id[u["org_unit"]["id"]] for u in r.json()["units"]) == expected


async def test_an_accountability_filter_cannot_widen_the_scope(client, records) -> None:  # type: ignore[no-untyped-def]
    h = records.h("town_a_officer")
    for params in (
        {"target_org_unit_id": records["town_b"]},
        {"target_enterprise_id": records["ent_b1"]},
        {"target_org_unit_id": records["other_town"]},
    ):
        r = await client.get("/api/v1/accountability", params=params, headers=h)
        assert r.status_code == 200 and r.json()["items"] == [], params


async def test_an_admin_cannot_hold_another_countys_units_to_account(client, records) -> None:  # type: ignore[no-untyped-def]
    for actor, target in (
        ("admin", {"org_unit_id": records["other_town"]}),
        ("admin", {"enterprise_id": records["other_ent"]}),
        ("other_admin", {"org_unit_id": records["town_a"]}),
        ("other_admin", {"enterprise_id": records["ent_a1"]}),
    ):
        r = await client.post(
            "/api/v1/accountability",
            json={"target": target, "rung": "circulated", "reason": "越界"},
            headers=records.h(actor),
        )
        assert r.status_code == 422, (actor, target, r.text)
        assert r.json()["code"] in ("unknown_org_unit", "unknown_enterprise")


# ---- double-random draws (双随机, issue 12) ----------------------------------------------------
# A draw is seen by the county (admins and county staff: every draw of the county) and by the
# unit that conducts it; enterprise users have no draws:read (403), nor has the machine client.

DRAWS = ("draw_county", "draw_town_b", "draw_town_a", "draw_bureau_e", "draw_other")
_COUNTY_DRAWS = {"draw_county", "draw_town_b", "draw_town_a", "draw_bureau_e"}
DRAW_SCOPE: dict[str, set[str] | None] = {
    **dict.fromkeys(("admin", "county_officer", "county_viewer"), _COUNTY_DRAWS),
    **{
        a: {"draw_town_a"}
        for a in ("town_a_manager", "town_a_officer", "town_a_inspector", "town_a_viewer")
    },
    "town_b_officer": {"draw_town_b"},
    "bureau_e_manager": {"draw_bureau_e"},
    "bureau_e_officer": {"draw_bureau_e"},
    "bureau_c_officer": set(),
    **dict.fromkeys(("ent_a1_manager", "ent_a1_staff", "ent_b1_manager", "machine"), None),
    "other_admin": {"draw_other"},
}


@pytest.fixture
async def draws(app, client, world2: World, password_hash: str) -> World:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    async with app.state.sessionmaker() as s:
        other_inspector = User(
            username="other_bureau_officer",
            password_hash=password_hash,
            display_name="other_bureau_officer",
            role="officer",
            org_unit_id=world2["other_bureau"],
            is_active=True,
            enforcement_cert_no="皖执3413210001",
        )
        s.add(other_inspector)
        for i, name in enumerate(("bureau_e_officer", "bureau_c_officer", "other_admin")):
            await s.execute(
                update(User)
                .where(User.id == world2[name])
                .values(enforcement_cert_no=f"皖执34130200{i}")
            )
        await s.commit()
    app.state.principal_cache.clear()
    county_team = [world2["bureau_e_officer"], world2["bureau_c_officer"]]
    for name, author, fields in (
        ("draw_county", "admin", {}),
        ("draw_town_b", "county_officer", {"conducting_unit_id": world2["town_b"]}),
        ("draw_town_a", "town_a_officer", {}),
        ("draw_bureau_e", "bureau_e_officer", {}),
        ("draw_other", "other_admin", {}),
    ):
        team = [world2["other_admin"], other_inspector.id] if name == "draw_other" else county_team
        r = await client.post(
            "/api/v1/draws",
            json={
                "name": name,
                "inspector_ids": team,
                "sample_size": 1,
                "seed": f"矩阵-{name}",
                "planned_for": "2026-12-20",
                **fields,
            },
            headers=world2.h(author),
        )
        assert r.status_code == 201, r.text
        world2.ids[name] = r.json()["id"]
    return world2


@pytest.mark.parametrize("actor", ACTORS)
async def test_draw_list_holds_exactly_the_callers_draws(client, draws, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, draws, actor, "/api/v1/draws", DRAW_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_draw_detail_is_404_outside_the_callers_draws(client, draws, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_details(client, draws, actor, "/api/v1/draws", DRAWS, DRAW_SCOPE[actor])


async def test_draw_reads_require_a_token_and_the_public_view_none(client, draws) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/draws", f"/api/v1/draws/{draws['draw_county']}"):
        r = await client.get(path)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    # Not yet published (its inspection is planned): 404 for anyone, signed in or not.
    for headers in ({}, draws.h("admin")):
        r = await client.get(f"/api/v1/public/draws/{draws['draw_county']}", headers=headers)
        assert r.status_code == 404


# ---- issue 12, enforcement figures: two counties, each caller counts its own scope only -------
KEY = {"ent_a2", "ent_b1", "ent_b2", "other_ent"}  # high-risk sector or red/orange


@pytest.mark.parametrize("actor", ACTORS)
async def test_enforcement_and_self_inspection_figures_hold_only_the_callers_scope(
    app, client, world2, actor
) -> None:  # type: ignore[no-untyped-def]
    """One signed routine inspection with a finding and no decision per enterprise of both
    counties, by the enterprise's town: each caller counts its scope's, and zero-penalty units
    of another county never appear."""
    from tests.inspection_rows import add_inspections

    town = {"ent_a1": "town_a", "ent_a2": "town_a", "other_ent": "other_town"}
    await add_inspections(
        app,
        [
            {
                "enterprise_id": world2[e],
                "unit": world2[town.get(e, "town_b")],
                "findings": 1,
                "county_code": "341321" if e == "other_ent" else "341302",
            }
            for e in ENTERPRISES
        ],
    )
    r = await client.get("/api/v1/statistics/enforcement", headers=world2.h(actor))
    s = await client.get(
        "/api/v1/statistics/self-inspection", params={"period": "2026-Q4"}, headers=world2.h(actor)
    )
    if actor not in STATISTICS_READERS:
        assert (r.status_code, s.status_code) == (403, 403)
        return
    assert r.status_code == 200 and s.status_code == 200
    scope = ENTERPRISE_SCOPE[actor]
    totals = r.json()["totals"]
    assert totals["inspections"] == totals["enterprises_covered"] == len(scope)
    assert totals["key_enterprises"] == totals["key_enterprises_covered"] == len(scope & KEY)
    units = {world2[town.get(e, "town_b")] for e in scope}
    assert {z["unit"]["id"] for z in r.json()["zero_penalty"]} == units
    assert s.json()["enterprises"] == len(scope)
    assert {i["enterprise"]["id"] for i in s.json()["items"]} == {world2[e] for e in scope}


# ---- inspections (issue 12, i12-itest): through the enterprise; enterprises only once started --
# Per enterprise one expert-guidance visit under way (started_*) and one routine one still
# planned (planned_*), each by a unit that sees the enterprise; the other county has its own.

INSPECTION_TARGETS = tuple(f"{k}_{e}" for e in ENTERPRISES for k in ("started", "planned"))
INSPECTION_SCOPE: dict[str, set[str] | None] = {
    actor: {f"{k}_{e}" for e in ENTERPRISE_SCOPE[actor] for k in ("started", "planned")}
    for actor in ACTORS
}
INSPECTION_SCOPE.update(
    {
        # An enterprise never learns of an inspection before it starts.
        "ent_a1_manager": {"started_ent_a1"},
        "ent_a1_staff": {"started_ent_a1"},
        "ent_b1_manager": {"started_ent_b1"},
        "machine": None,  # no inspections:read
    }
)
INSPECTING = {
    "ent_a1": ("town_a_officer", "town_a_officer"),
    "ent_a2": ("town_a_officer", "town_a_officer"),
    "ent_b1": ("bureau_e_officer", "bureau_e_officer"),
    "ent_b2": ("bureau_c_officer", "bureau_c_officer"),
    "other_ent": ("other_admin", "other_admin"),
}


@pytest.fixture
async def inspected(client, world2: World) -> World:  # type: ignore[no-untyped-def]
    for ent, (planner, inspector) in INSPECTING.items():
        for key, kind in (("started", "expert_guidance"), ("planned", "routine")):
            r = await client.post(
                "/api/v1/inspections",
                json={
                    "kind": kind,
                    "enterprise_id": world2[ent],
                    "planned_for": "2026-12-10",
                    "inspectors": [world2[inspector]],
                },
                headers=world2.h(planner),
            )
            assert r.status_code == 201, r.text
            world2.ids[f"{key}_{ent}"] = r.json()["id"]
            if key == "started":
                r = await client.post(
                    f"/api/v1/inspections/{r.json()['id']}/transitions",
                    json={"action": "start"},
                    headers=world2.h(planner),
                )
                assert r.status_code == 200, r.text
    return world2


@pytest.mark.parametrize("actor", ACTORS)
async def test_inspection_list_holds_exactly_the_callers_scope(client, inspected, actor) -> None:  # type: ignore[no-untyped-def]
    await _check_list(client, inspected, actor, "/api/v1/inspections", INSPECTION_SCOPE[actor])


@pytest.mark.parametrize("actor", ACTORS)
async def test_inspection_detail_and_events_are_404_outside_the_callers_scope(  # type: ignore[no-untyped-def]
    client, inspected, actor
) -> None:
    scope = INSPECTION_SCOPE[actor]
    await _check_details(client, inspected, actor, "/api/v1/inspections", INSPECTION_TARGETS, scope)
    got = {}
    for target in INSPECTION_TARGETS:
        r = await client.get(
            f"/api/v1/inspections/{inspected[target]}/events", headers=inspected.h(actor)
        )
        got[target] = r.status_code
        assert r.headers["content-type"].startswith(
            "application/json" if r.status_code == 200 else "application/problem+json"
        )
    assert got == _expect(scope, INSPECTION_TARGETS)


@pytest.mark.parametrize("actor", ACTORS)
async def test_an_inspection_filter_cannot_widen_the_scope(client, inspected, actor) -> None:  # type: ignore[no-untyped-def]
    scope = INSPECTION_SCOPE[actor]
    for ent in ENTERPRISES:
        for params in ({"enterprise_id": inspected[ent]}, {"status": "planned,in_progress"}):
            r = await client.get(
                "/api/v1/inspections",
                params={"limit": 500, "include_total": "true", **params},
                headers=inspected.h(actor),
            )
            if scope is None:
                assert r.status_code == 403
                continue
            by_id = {v: k for k, v in inspected.ids.items()}
            names = {by_id.get(i["id"], i["id"]) for i in r.json()["items"]}
            assert names <= scope, (params, names - scope)
            assert r.json()["total"] == len(names)


async def test_inspectors_and_enterprises_come_from_the_callers_own_county(
    client, inspected
) -> None:  # type: ignore[no-untyped-def]
    w = inspected
    body = {"kind": "routine", "planned_for": "2026-12-10"}
    r = await client.post(
        "/api/v1/inspections",
        json={**body, "enterprise_id": w["ent_a1"], "inspectors": [w["other_town_officer"]]},
        headers=w.h("admin"),
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_inspector"
    r = await client.post(
        "/api/v1/inspections",
        json={**body, "enterprise_id": w["ent_a1"], "inspectors": [w["other_town_officer"]]},
        headers=w.h("other_admin"),
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_enterprise"
    r = await client.post(
        f"/api/v1/inspections/{w['started_other_ent']}/transitions",
        json={"action": "cancel", "reason": "x"},
        headers=w.h("admin"),
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/inspections", "/api/v1/inspections/x", "/api/v1/inspections/x/events"]
)
async def test_every_inspection_read_requires_a_token(client, world, path) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(path)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


# ---- issue 13, the risk register: a risk point in every enterprise of both counties ----------
# Risk points follow their enterprise's scope (app.auth.scope.visible_risk_points); the machine
# client holds no risks:read (403), enterprise users no statistics:read.
RISK_READERS = {a for a in ACTORS if a != "machine"}


@pytest.fixture
async def risk_world(app, world2: World) -> World:  # type: ignore[no-untyped-def]
    from app.models import RiskPoint, RiskPointEvent
    from app.models.base import utcnow
    from app.services.risks import checklist as risk_checklist

    async with app.state.sessionmaker() as s:
        for name in ENTERPRISES:
            ent = await s.get(Enterprise, world2[name])
            assert ent is not None
            pt = RiskPoint(
                enterprise_id=ent.id,
                name=f"{name} 有限空间作业",
                kind="operation",
                lat=33.64,
                lng=116.98,
                coordinate_system="wgs84",
                hazard_factors=["2201"],
                assessment={"method": "ls", "inputs": {"l": 5, "s": 4}, "score": "20"},
                level="red",
                control_level="company",
                control_measures=[{"kind": "management", "text": "作业审批"}],
                emergency_measures=[],
                accident_types=["poisoning_asphyxiation"],
                status="active",
                follow_up=False,
            )
            s.add(pt)
            await s.flush()
            s.add(
                RiskPointEvent(
                    risk_point_id=pt.id,
                    action="create",
                    to_status="active",
                    actor_kind="system",
                    payload={},
                    attachment_ids=[],
                    created_at=utcnow(),
                )
            )
            s.add(risk_checklist.version_of(pt, ent.region_code, ent.sector, 1))
            world2.ids[f"rp_{name}"] = pt.id
        await s.commit()
    return world2


def _points(names: set[str] | None) -> set[str] | None:
    return None if names is None else {f"rp_{n}" for n in names}


@pytest.mark.parametrize("actor", ACTORS)
async def test_risk_points_hold_exactly_the_callers_scope(client, risk_world, actor) -> None:  # type: ignore[no-untyped-def]
    w = risk_world
    scope = _points(ENTERPRISE_SCOPE[actor]) if actor in RISK_READERS else None
    await _check_list(client, w, actor, "/api/v1/risk-points", scope)
    targets = tuple(f"rp_{n}" for n in ENTERPRISES)
    await _check_details(client, w, actor, "/api/v1/risk-points", targets, scope)
    got = {}
    for t in targets:
        for tail in ("events", "checklist"):
            r = await client.get(f"/api/v1/risk-points/{w[t]}/{tail}", headers=w.h(actor))
            got[(t, tail)] = r.status_code
    expected = {
        (t, tail): s for t, s in _expect(scope, targets).items() for tail in ("events", "checklist")
    }
    assert got == expected, actor
    r = await client.get("/api/v1/maps/risk-points", headers=w.h(actor))
    if scope is None:
        assert r.status_code == 403
    else:
        by_id = {v: k for k, v in w.ids.items()}
        assert {by_id.get(f["id"], f["id"]) for f in r.json()["features"]} == scope, actor


@pytest.mark.parametrize("actor", ACTORS)
async def test_risk_figures_count_exactly_the_callers_scope(client, risk_world, actor) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/statistics/risks", headers=risk_world.h(actor))
    if actor not in STATISTICS_READERS:
        assert r.status_code == 403
        return
    assert r.status_code == 200, r.text
    totals = r.json()["totals"]
    assert totals["points"] == totals["red"] == len(ENTERPRISE_SCOPE[actor]), (actor, totals)


@pytest.mark.parametrize("actor", ACTORS)
async def test_risk_lists_hold_exactly_the_callers_scope(client, risk_world, actor) -> None:  # type: ignore[no-untyped-def]
    """The three lists (三清单) of each enterprise: in scope its point, else 404 (403 without
    risks:read), as JSON and as the workbook."""
    w = risk_world
    scope = ENTERPRISE_SCOPE[actor] if actor in RISK_READERS else None
    got = {}
    for name in ENTERPRISES:
        path = f"/api/v1/enterprises/{w[name]}/risk-lists"
        for fmt in ("json", "xlsx"):
            r = await client.get(
                path, params={"list": "measures", "format": fmt}, headers=w.h(actor)
            )
            got[(name, fmt)] = r.status_code
            if r.status_code == 200 and fmt == "json":
                groups = r.json()["groups"]
                assert [g["risk_point_id"] for g in groups] == [w[f"rp_{name}"]], (actor, name)
    expected = {
        (t, fmt): s for t, s in _expect(scope, ENTERPRISES).items() for fmt in ("json", "xlsx")
    }
    assert got == expected, actor


# ---- issue 14, task lists: a county list whose task 1 every town and bureau of the county and
# every county enterprise share, and a town-A list for its enterprises. Nobody of the second
# county sees any of it; an enterprise sees its own tasks; the machine holds no tasks:read.
TASK_SEES: dict[str, set[str] | None] = {
    "admin": {"county.1", "town_a.1"},
    "county_officer": {"county.1"},  # a town's list is the town's (and the admins') until issued
    "county_viewer": {"county.1"},
    "town_a_manager": {"county.1", "town_a.1"},
    "town_a_officer": {"county.1", "town_a.1"},
    "town_a_inspector": {"county.1", "town_a.1"},
    "town_a_viewer": {"county.1", "town_a.1"},
    "town_b_officer": {"county.1"},
    "bureau_e_manager": {"county.1"},
    "bureau_e_officer": {"county.1"},
    "bureau_c_officer": {"county.1"},
    "ent_a1_manager": {"county.1"},
    "ent_a1_staff": {"county.1"},
    "ent_b1_manager": {"county.1"},
    "machine": None,
    "other_admin": set(),
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_tasks_hold_exactly_what_is_the_callers(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    w = world2
    county = await client.post(
        "/api/v1/task-lists",
        json={"kind": "campaign", "title": "治本攻坚", "year": 2026},
        headers=w.h("admin"),
    )
    assignees = [{"unit_id": w[u]} for u in ("town_a", "town_b", "bureau_e", "bureau_c")]
    assignees += [{"enterprise_id": w[e]} for e in sorted(COUNTY)]
    t = await client.post(
        "/api/v1/tasks",
        json={
            "task_list_id": county.json()["id"],
            "code": "1",
            "title": "排查",
            "assignees": assignees,
        },
        headers=w.h("admin"),
    )
    assert t.status_code == 201, t.text
    assert (
        await client.post(
            f"/api/v1/task-lists/{county.json()['id']}/transitions",
            json={"action": "issue"},
            headers=w.h("admin"),
        )
    ).status_code == 200
    town = await client.post(
        "/api/v1/task-lists",
        json={"kind": "responsibility", "title": "街道责任清单", "year": 2026},
        headers=w.h("town_a_manager"),
    )
    t2 = await client.post(
        "/api/v1/tasks",
        json={
            "task_list_id": town.json()["id"],
            "code": "1",
            "title": "自查",
            "assignees": [{"enterprise_id": w["ent_a1"]}],
        },
        headers=w.h("town_a_manager"),
    )
    ids = {t.json()["id"]: "county.1", t2.json()["id"]: "town_a.1"}
    expected = TASK_SEES[actor]
    r = await client.get(
        "/api/v1/tasks", params={"limit": 500, "include_total": "true"}, headers=w.h(actor)
    )
    if expected is None:
        assert r.status_code == 403
        return
    got = {ids[i["id"]] for i in r.json()["items"]}
    assert got == expected and r.json()["total"] == len(expected), actor
    for task_id, name in ids.items():
        d = await client.get(f"/api/v1/tasks/{task_id}", headers=w.h(actor))
        assert d.status_code == (200 if name in expected else 404), (actor, name)
        if d.status_code == 200 and actor.startswith("ent_"):  # its own part only
            parts = d.json()["assignees"]
            assert [p["enterprise"]["id"] for p in parts] == [w[HOME[actor]]], actor


# Progress reports on that county task: town A and enterprise a1 report; the county sees both,
# each assignee only its own (another assignee's is 404), nobody of the second county any.
REPORT_SEES: dict[str, set[str] | None] = {
    "admin": {"town_a", "ent_a1"},
    "county_officer": {"town_a", "ent_a1"},
    "county_viewer": {"town_a", "ent_a1"},
    "town_a_manager": {"town_a"},
    "town_a_officer": {"town_a"},
    "town_a_inspector": {"town_a"},
    "town_a_viewer": {"town_a"},
    "town_b_officer": set(),
    "bureau_e_manager": set(),
    "bureau_e_officer": set(),
    "bureau_c_officer": set(),
    "ent_a1_manager": {"ent_a1"},
    "ent_a1_staff": {"ent_a1"},
    "ent_b1_manager": set(),
    "machine": None,  # no tasks:read: 403
    "other_admin": None,  # the task is out of scope: 404
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_task_reports_are_each_assignees_own(client, world2, actor) -> None:  # type: ignore[no-untyped-def]
    w = world2
    tl = await client.post(
        "/api/v1/task-lists",
        json={"kind": "campaign", "title": "治本攻坚", "year": 2026},
        headers=w.h("admin"),
    )
    assignees = [{"unit_id": w[u]} for u in ("town_a", "town_b", "bureau_e", "bureau_c")]
    assignees += [{"enterprise_id": w[e]} for e in sorted(COUNTY)]
    t = await client.post(
        "/api/v1/tasks",
        json={
            "task_list_id": tl.json()["id"],
            "code": "1",
            "title": "排查",
            "assignees": assignees,
        },
        headers=w.h("admin"),
    )
    task_id = t.json()["id"]
    await client.post(
        f"/api/v1/task-lists/{tl.json()['id']}/transitions",
        json={"action": "issue"},
        headers=w.h("admin"),
    )
    made = {}
    for who, reporter in (("town_a", "town_a_officer"), ("ent_a1", "ent_a1_staff")):
        r = await client.post(
            f"/api/v1/tasks/{task_id}/reports",
            json={"period": "once", "text": "已完成"},
            headers=w.h(reporter),
        )
        assert r.status_code == 201, r.text
        made[r.json()["id"]] = who
    r = await client.get(f"/api/v1/tasks/{task_id}/reports", headers=w.h(actor))
    expected = REPORT_SEES[actor]
    if expected is None:
        assert r.status_code == (403 if actor == "machine" else 404), actor
        return
    assert {made[x["id"]] for x in r.json()["items"]} == expected, actor
    for report_id, who in made.items():
        d = await client.get(f"/api/v1/tasks/{task_id}/reports/{report_id}", headers=w.h(actor))
        assert d.status_code == (200 if who in expected else 404), (actor, who)
    parts = (await client.get(f"/api/v1/tasks/{task_id}/reporting", headers=w.h(actor))).json()
    shown = len(parts["parts"])
    assert shown == (8 if actor in ("admin", "county_officer", "county_viewer") else 1), actor


# ---- public reports (群众举报, issue 15): the county's, or those routed to the unit ----------
REPORT_SCOPE: dict[str, set[str] | None] = {
    "admin": {"r_town_a", "r_ent_b1", "r_county"},
    "county_officer": {"r_town_a", "r_ent_b1", "r_county"},
    "town_a_manager": {"r_town_a"},
    "town_a_officer": {"r_town_a"},
    "town_b_officer": {"r_ent_b1"},
    "bureau_e_manager": {"r_ent_b1"},
    "bureau_e_officer": {"r_ent_b1"},
    "bureau_c_officer": set(),
    "other_admin": {"r_other"},
    # no reports:read (viewers, inspectors, enterprise users, the test machine client): 403
    **{
        a: None
        for a in (
            "county_viewer",
            "town_a_inspector",
            "town_a_viewer",
            "ent_a1_manager",
            "ent_a1_staff",
            "ent_b1_manager",
            "machine",
        )
    },
}


@pytest.fixture
async def reports(app, client, world2: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Four reports: one routed to town A by its region, one about ent_b1 (town B and bureau E),
    one to nobody but the county office, one in the second county; answers their ids."""
    bodies = {
        "r_town_a": {"region_code": "341302001"},
        "r_ent_b1": {"credit_code": credit(3)},
        "r_county": {"region_code": "341302"},
        "r_other": {"region_code": "341321100"},
    }
    ids = {}
    for key, body in bodies.items():
        await submit(app, **body)
        admin = "other_admin" if key == "r_other" else "admin"
        r = await client.get("/api/v1/reports?limit=1", headers=world2.h(admin))
        ids[key] = r.json()["items"][0]["id"]
    return ids


@pytest.mark.parametrize("actor", ACTORS)
async def test_reports_are_the_countys_or_those_routed_to_the_unit(  # type: ignore[no-untyped-def]
    client, world2, reports, actor
) -> None:
    expected = REPORT_SCOPE[actor]
    r = await client.get("/api/v1/reports?include_total=true", headers=world2.h(actor))
    figures = await client.get("/api/v1/statistics/reports", headers=world2.h(actor))
    if expected is None:
        assert (r.status_code, figures.status_code) == (403, 403)
        for rid in reports.values():
            assert (
                await client.get(f"/api/v1/reports/{rid}", headers=world2.h(actor))
            ).status_code == 403
        return
    names = {v: k for k, v in reports.items()}
    assert {names[i["id"]] for i in r.json()["items"]} == expected
    assert r.json()["total"] == len(expected)
    assert figures.json()["total"]["received"] == len(expected)
    for key, rid in reports.items():
        d = await client.get(f"/api/v1/reports/{rid}", headers=world2.h(actor))
        assert d.status_code == (200 if key in expected else 404), (key, d.text)
        log = await client.get(
            f"/api/v1/reports/{rid}/reporter-access-log", headers=world2.h(actor)
        )
        if key not in expected:
            assert log.status_code == 404
