"""GET /api/v1/statistics/units: each town and bureau over its own scope, equal to the hazard list
a user of that unit gets; the flags, the last accountability rung, and every role's view."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.core.config import Settings
from tests.conftest import World
from tests.hazard_helpers import register
from tests.statements import statements
from tests.test_accountability import PAST, created, town
from tests.test_hazard_statistics import build, list_items

OPEN = ("registered", "rectifying", "awaiting_acceptance")
# Each unit, and a user of it whose hazard list is that unit's scope.
MEMBERS = {
    "town_a": "town_a_viewer",
    "town_b": "town_b_officer",
    "bureau_e": "bureau_e_officer",
    "bureau_c": "bureau_c_officer",
}
FIGURES = ("found", "closed", "open", "overdue", "major_open", "major_overdue")


def figures_of(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What the unit row must say, from hazard list items alone."""
    out = {
        "found": len(items),
        "closed": sum(i["status"] == "closed" for i in items),
        "open": sum(i["status"] in OPEN for i in items),
        "overdue": sum(i["is_overdue"] for i in items),
        "major_open": sum(i["level"] == "major" and i["status"] in OPEN for i in items),
        "major_overdue": sum(i["level"] == "major" and i["is_overdue"] for i in items),
    }
    out["rectification_rate"] = round(out["closed"] / out["found"], 4) if out["found"] else 0.0
    out["overdue_rate"] = round(out["overdue"] / out["open"], 4) if out["open"] else 0.0
    return out


async def units(client, world: World, actor: str, **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/statistics/units", params=params, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


def by_unit(world: World, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = {v: k for k, v in world.ids.items()}
    return {names[u["org_unit"]["id"]]: u for u in body["units"]}


@contextmanager
def thresholds(settings: Settings, **values: float) -> Iterator[None]:
    saved = {k: getattr(settings, f"accountability_{k}") for k in values}
    try:
        for k, v in values.items():
            setattr(settings, f"accountability_{k}", v)
        yield
    finally:
        for k, v in saved.items():
            setattr(settings, f"accountability_{k}", v)


@pytest.mark.parametrize(
    "query",
    [{}, {"level": "major"}, {"found_at_from": "2025-01-01", "found_at_to": "2025-12-31"}],
    ids=["all", "major", "found in 2025"],
)
async def test_every_units_figures_equal_the_hazard_list_of_its_own_users(
    client, world: World, query
) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    county = by_unit(world, await units(client, world, "county_officer", **query))
    assert list(county) == ["town_a", "town_b", "bureau_c", "bureau_e"]  # towns, then bureaus
    for unit, member in MEMBERS.items():
        expected = figures_of(await list_items(client, world, member, query))
        assert {k: county[unit][k] for k in expected} == expected, unit
        # the unit's own view says the same
        own = by_unit(world, await units(client, world, member, **query))
        assert list(own) == [unit]
        assert {k: own[unit][k] for k in expected} == expected, unit
    assert sum(county[u]["found"] for u in ("town_a", "town_b")) == len(
        await list_items(client, world, "county_officer", query)
    )


async def test_an_enterprise_counts_under_each_unit_that_supervises_it(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    # ent_b2 (town B, road transport): town B by territory, bureau C by designation only
    await register(client, world, "town_b_officer", "ent_b2", **PAST)
    rows = by_unit(world, await units(client, world, "admin"))
    assert {u: rows[u]["overdue"] for u in rows} == {
        "town_a": 0,
        "town_b": 1,
        "bureau_e": 0,
        "bureau_c": 1,
    }
    assert rows["town_b"]["region_code"] == "341302100"
    assert rows["bureau_c"]["region_code"] is None
    assert rows["bureau_c"]["kind"] == "bureau"


async def test_voided_hazards_do_not_count_unless_asked_for(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", "ent_a1")
    from tests.hazard_helpers import act

    r = await act(client, world, "town_a_officer", h["id"], "void", reason="登记错误")
    assert r.status_code == 200
    rows = by_unit(world, await units(client, world, "admin"))
    assert rows["town_a"]["found"] == 0
    rows = by_unit(world, await units(client, world, "admin", status="voided"))
    assert rows["town_a"]["found"] == 1 and rows["town_a"]["open"] == 0


async def test_units_past_the_thresholds_are_flagged(client, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    # town A: 5 open, 2 of them overdue (40 %); town B: 1 open, overdue (100 %, but only one)
    for _ in range(3):
        await register(client, world, "town_a_officer", "ent_a1")
    for _ in range(2):
        await register(client, world, "town_a_officer", "ent_a2", **PAST)
    await register(client, world, "town_b_officer", "ent_b2", **PAST)
    rows = by_unit(world, await units(client, world, "admin"))
    assert (rows["town_a"]["open"], rows["town_a"]["overdue"]) == (5, 2)
    assert rows["town_a"]["overdue_rate"] == 0.4
    assert rows["town_a"]["flagged"] and rows["town_a"]["reasons"] == ["overdue_rate"]
    assert rows["town_b"]["overdue_rate"] == 1.0
    assert not rows["town_b"]["flagged"] and rows["town_b"]["reasons"] == []
    body = await units(client, world, "admin")
    assert body["thresholds"] == {"overdue_rate": 0.2, "min_open": 5, "major_overdue": 1}
    with thresholds(settings, overdue_rate_threshold=0.5):
        assert not by_unit(world, await units(client, world, "admin"))["town_a"]["flagged"]
    with thresholds(settings, min_open=1):
        rows = by_unit(world, await units(client, world, "admin"))
        assert rows["town_b"]["flagged"]
        # bureau C (ent_a2, ent_b2): 3 open, all overdue
        assert rows["bureau_c"]["reasons"] == ["overdue_rate"]
    # a major hazard overdue flags its units at once (one is the default threshold)
    await register(client, world, "town_b_officer", "ent_b1", level="major", **PAST)
    rows = by_unit(world, await units(client, world, "admin"))
    assert rows["town_b"]["major_overdue"] == 1
    assert rows["town_b"]["reasons"] == ["major_overdue"]
    assert rows["bureau_e"]["reasons"] == ["major_overdue"]
    with thresholds(settings, major_overdue_threshold=0):
        assert not by_unit(world, await units(client, world, "admin"))["town_b"]["flagged"]
    flagged = by_unit(world, await units(client, world, "admin", flagged="true"))
    assert set(flagged) == {"town_a", "town_b", "bureau_e"}
    calm = by_unit(world, await units(client, world, "admin", flagged="false"))
    assert set(calm) == {"bureau_c"}


async def test_each_unit_shows_its_last_rung_and_what_may_follow(client, world: World) -> None:  # type: ignore[no-untyped-def]
    rows = by_unit(world, await units(client, world, "county_officer"))
    assert all(r["last_accountability"] is None for r in rows.values())
    assert all(r["allowed_rungs"] == ["notice_letter"] for r in rows.values())
    await created(client, world, "county_officer", town(world), "notice_letter")
    second = await created(client, world, "county_officer", town(world), "circulated")
    await created(
        client, world, "county_officer", {"enterprise_id": world["ent_a1"]}, "notice_letter"
    )
    rows = by_unit(world, await units(client, world, "county_officer"))
    last = rows["town_a"]["last_accountability"]
    assert last == {"id": second["id"], "rung": "circulated", "decided_at": second["decided_at"]}
    assert rows["town_a"]["allowed_rungs"] == ["circulated", "summoned"]
    assert rows["town_b"]["last_accountability"] is None  # an enterprise's record is not its town's
    # who may not decide about units sees the rung but no rungs to record
    for actor in ("county_viewer", "town_a_officer"):
        own = by_unit(world, await units(client, world, actor))
        assert own["town_a"]["last_accountability"]["rung"] == "circulated"
        assert own["town_a"]["allowed_rungs"] == []


VIEWS = {
    "admin": ["town_a", "town_b", "bureau_c", "bureau_e"],
    "county_officer": ["town_a", "town_b", "bureau_c", "bureau_e"],
    "county_viewer": ["town_a", "town_b", "bureau_c", "bureau_e"],
    "town_a_manager": ["town_a"],
    "town_a_inspector": ["town_a"],
    "town_a_viewer": ["town_a"],
    "town_b_officer": ["town_b"],
    "bureau_e_manager": ["bureau_e"],
    "bureau_c_officer": ["bureau_c"],
    "machine": ["town_a"],
    "ent_a1_manager": None,
    "ent_a1_staff": None,
}


@pytest.mark.parametrize("actor", VIEWS)
async def test_every_role_sees_the_units_of_its_scope(client, world: World, actor) -> None:  # type: ignore[no-untyped-def]
    await created(client, world, "admin", town(world), "notice_letter")
    r = await client.get("/api/v1/statistics/units", headers=world.h(actor))
    if VIEWS[actor] is None:
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        return
    assert r.status_code == 200
    rows = by_unit(world, r.json())
    assert list(rows) == VIEWS[actor]
    last = rows["town_a"]["last_accountability"] if "town_a" in rows else None
    if actor == "machine":  # statistics:read, but not accountability:read
        assert last is None and rows["town_a"]["allowed_rungs"] == []
    elif "town_a" in rows:
        assert last is not None and last["rung"] == "notice_letter"


async def test_kind_and_unknown_parameters(client, world: World) -> None:  # type: ignore[no-untyped-def]
    towns = by_unit(world, await units(client, world, "admin", kind="town"))
    assert list(towns) == ["town_a", "town_b"]
    both = by_unit(world, await units(client, world, "admin", kind="town,bureau"))
    assert len(both) == 4
    for params in ({"kind": "county"}, {"flagged": "maybe"}, {"group_by": "town"}):
        r = await client.get("/api/v1/statistics/units", params=params, headers=world.h("admin"))
        assert r.status_code == 422, params


async def test_english_unit_names(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    from app.models import OrgUnit

    async with app.state.sessionmaker() as s:
        (await s.get(OrgUnit, world["bureau_e"])).name_en = "Emergency Management Bureau"
        await s.commit()
    en = await client.get(
        "/api/v1/statistics/units", headers=world.h("admin", **{"Accept-Language": "en"})
    )
    names = {u["org_unit"]["id"]: u["org_unit"]["name"] for u in en.json()["units"]}
    assert names[world["bureau_e"]] == "Emergency Management Bureau"
    assert names[world["town_a"]] == "埇桥街道"  # no English name: the Chinese one


async def test_the_unit_figures_cost_three_statements(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    await client.get("/api/v1/statistics/units", headers=world.h("admin"))  # the caller cached
    with statements(app) as seen:
        r = await client.get("/api/v1/statistics/units", headers=world.h("admin"))
    assert r.status_code == 200
    assert len(seen) == 3, seen
