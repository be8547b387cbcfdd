"""The blacklist (联合惩戒黑名单) through HTTP: shown on the enterprise (list and detail, in the
same one statement), the `blacklisted` filter, credit repair (信用修复) by the county or the
deciding unit, one current entry per enterprise, and the public list (no sign-in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

import app.services.rate_limit as rate_limit
from app.core.config import Settings
from app.models import BlacklistEntry
from app.services import blacklist
from tests.conftest import World
from tests.statements import statements
from tests.test_scope_matrix import ENTERPRISE_SCOPE

ENTS = "/api/v1/enterprises"
PUBLIC = "/api/v1/public/blacklist"
ACTORS = tuple(a for a in ENTERPRISE_SCOPE if a != "other_admin")
LISTED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


async def put_on(app, world: World, ent: str, unit: str, at: datetime = LISTED_AT) -> str:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        entry = await blacklist.list_enterprise(
            s,
            enterprise_id=world[ent],
            reason="拒不整改重大事故隐患",
            inspection_id=None,
            unit_id=world[unit],
            at=at,
        )
        await s.commit()
        return entry.id


@pytest.fixture
async def listed(app, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """ent_a1 listed by bureau E, ent_b1 by town B."""
    return {
        "ent_a1": await put_on(app, world, "ent_a1", "bureau_e"),
        "ent_b1": await put_on(app, world, "ent_b1", "town_b", LISTED_AT + timedelta(days=1)),
    }


def remove_url(world: World, ent: str, entry_id: str) -> str:
    return f"{ENTS}/{world[ent]}/blacklist/{entry_id}/remove"


# ---- on the enterprise ---------------------------------------------------------------------


async def test_the_enterprise_shows_its_entries(client, world, listed) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{ENTS}/{world['ent_a1']}", headers=world.h("ent_a1_staff"))
    assert r.status_code == 200
    body = r.json()
    assert body["blacklisted"] is True
    assert body["blacklist"] == [
        {
            "id": listed["ent_a1"],
            "listed_at": "2026-06-01T02:00:00Z",
            "reason": "拒不整改重大事故隐患",
            "decided_by_inspection_id": None,
            "decided_by_unit_id": world["bureau_e"],
            "removed_at": None,
            "removed_reason": None,
            "removed_by": None,
        }
    ]
    clean = (await client.get(f"{ENTS}/{world['ent_a2']}", headers=world.h("admin"))).json()
    assert clean["blacklisted"] is False and clean["blacklist"] == []


@pytest.mark.parametrize("actor", ACTORS)
async def test_the_blacklisted_filter_stays_inside_the_scope(client, world, listed, actor) -> None:  # type: ignore[no-untyped-def]
    h = world.h(actor)
    scope = {world[e] for e in ENTERPRISE_SCOPE[actor]}
    on = {world[e] for e in listed}
    for value, expected in (("true", scope & on), ("false", scope - on)):
        r = await client.get(
            ENTS, params={"blacklisted": value, "include_total": "true"}, headers=h
        )
        assert r.status_code == 200, r.text
        assert {e["id"] for e in r.json()["items"]} == expected, (actor, value)
        assert r.json()["total"] == len(expected)
        assert all(e["blacklisted"] is (value == "true") for e in r.json()["items"])
    assert (await client.get(ENTS, params={"blacklisted": "maybe"}, headers=h)).status_code == 422


async def test_list_and_detail_stay_one_statement_with_entries(app, client, world, listed) -> None:  # type: ignore[no-untyped-def]
    await put_on(app, world, "ent_a1", "county")  # kept: the current entry stands
    async with app.state.sessionmaker() as s:
        await blacklist.remove(s, _admin(world), world["ent_b1"], listed["ent_b1"], "已整改")
        await s.commit()
    later = LISTED_AT + timedelta(days=30)
    await put_on(app, world, "ent_b1", "county", later)  # a past and a current entry
    for url in (ENTS, f"{ENTS}?blacklisted=true", f"{ENTS}/{world['ent_b1']}"):
        await client.get(url, headers=world.h("admin"))  # the caller is cached
        with statements(app) as seen:
            r = await client.get(url, headers=world.h("admin"))
        assert r.status_code == 200
        assert len(seen) == 1, (url, seen)
    detail = (await client.get(f"{ENTS}/{world['ent_b1']}", headers=world.h("admin"))).json()
    assert [e["removed_reason"] for e in detail["blacklist"]] == [None, "已整改"]  # newest first


def _admin(world: World):  # type: ignore[no-untyped-def]
    from app.auth.permissions import ROLE_PERMISSIONS, Role
    from app.auth.principal import Principal, UnitInfo

    unit = UnitInfo(
        id=world["county"], kind="county", name="区", region_code="341302", county_code="341302"
    )
    return Principal(
        "user", world["admin"], "admin", Role.admin, ROLE_PERMISSIONS[Role.admin], unit
    )


async def test_an_enterprise_has_at_most_one_current_entry(app, world, listed) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        s.add(BlacklistEntry(enterprise_id=world["ent_a1"], listed_at=LISTED_AT, reason="再次"))
        with pytest.raises(IntegrityError):
            await s.flush()
        await s.rollback()
    async with app.state.sessionmaker() as s:
        await blacklist.remove(s, _admin(world), world["ent_a1"], listed["ent_a1"], "信用修复")
        s.add(BlacklistEntry(enterprise_id=world["ent_a1"], listed_at=LISTED_AT, reason="再次"))
        await s.commit()  # a past entry does not count


# ---- credit repair (信用修复) ------------------------------------------------------------------

# ent_a1's entry was decided by bureau E: the county, bureau E (its officers and managers) may
# take it off; a town in scope may not (403); outside scope 404; without enterprises:update 403.
REMOVE = {
    "admin": 200,
    "county_officer": 200,
    "county_viewer": 403,
    "town_a_manager": 403,
    "town_a_officer": 403,
    "town_a_inspector": 403,
    "town_a_viewer": 403,
    "town_b_officer": 404,
    "bureau_e_manager": 200,
    "bureau_e_officer": 200,
    "bureau_c_officer": 404,
    "ent_a1_manager": 403,
    "ent_a1_staff": 403,
    "ent_b1_manager": 403,
    "machine": 403,
}


@pytest.mark.parametrize("actor", REMOVE)
async def test_who_may_take_an_enterprise_off_the_blacklist(
    app, client, world, listed, actor
) -> None:  # type: ignore[no-untyped-def]
    url = remove_url(world, "ent_a1", listed["ent_a1"])
    r = await client.post(url, json={"reason": "整改到位，信用修复"}, headers=world.h(actor))
    assert r.status_code == REMOVE[actor], (actor, r.text)
    if r.status_code != 200:
        return
    entry = r.json()
    assert entry["removed_reason"] == "整改到位，信用修复"
    assert entry["removed_by"] == f"user:{world[actor]}"
    assert entry["removed_at"] is not None
    detail = (await client.get(f"{ENTS}/{world['ent_a1']}", headers=world.h("admin"))).json()
    assert detail["blacklisted"] is False and detail["blacklist"] == [entry]
    again = await client.post(url, json={"reason": "再次"}, headers=world.h(actor))
    assert again.status_code == 409 and again.json()["code"] == "blacklist_entry_removed"


async def test_the_deciding_town_may_repair_its_own_listing(client, world, listed) -> None:  # type: ignore[no-untyped-def]
    url = remove_url(world, "ent_b1", listed["ent_b1"])
    r = await client.post(url, json={"reason": "已整改"}, headers=world.h("town_b_officer"))
    assert r.status_code == 200, r.text


async def test_an_entry_is_found_only_under_its_own_enterprise(client, world, listed) -> None:  # type: ignore[no-untyped-def]
    wrong = remove_url(world, "ent_a2", listed["ent_a1"])
    r = await client.post(wrong, json={"reason": "x"}, headers=world.h("admin"))
    assert r.status_code == 404
    blank = await client.post(
        remove_url(world, "ent_a1", listed["ent_a1"]),
        json={"reason": " "},
        headers=world.h("admin"),
    )
    assert blank.status_code == 422


# ---- the public list ---------------------------------------------------------------------


async def test_the_public_list_shows_current_entries_to_anyone(client, world, listed) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(PUBLIC)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cache-control"] == "public, max-age=60"
    items = r.json()["items"]
    assert [i["enterprise_name"] for i in items] == ["符离化工有限公司", "埇桥机械制造有限公司"]
    assert set(items[0]) == {"enterprise_name", "credit_code", "county_code", "reason", "listed_at"}
    assert items[1]["listed_at"] == "2026-06-01T02:00:00Z" and items[1]["county_code"] == "341302"
    signed_in = await client.get(PUBLIC, headers=world.h("ent_a1_staff"))
    assert signed_in.json() == r.json()
    assert (await client.get(PUBLIC, params={"county_code": "341321"})).json()["items"] == []
    first = (await client.get(PUBLIC, params={"limit": 1, "include_total": "true"})).json()
    assert first["total"] == 2 and len(first["items"]) == 1
    rest = (await client.get(PUBLIC, params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert [i["credit_code"] for i in first["items"] + rest["items"]] == [
        i["credit_code"] for i in items
    ]
    assert rest["next_cursor"] is None
    assert (await client.get(PUBLIC, params={"county_code": "34"})).status_code == 422
    await client.post(
        remove_url(world, "ent_a1", listed["ent_a1"]),
        json={"reason": "修复"},
        headers=world.h("admin"),
    )
    after = (await client.get(PUBLIC)).json()["items"]
    assert [i["enterprise_name"] for i in after] == ["符离化工有限公司"]


async def test_the_public_list_is_rate_limited_per_address(
    client, world: World, settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings, "public_rate_limit_per_minute", 2)
    start = datetime(2026, 5, 1, 8, 0, 10, tzinfo=UTC)
    monkeypatch.setattr(rate_limit, "utcnow", lambda: start)
    assert [(await client.get(PUBLIC)).status_code for _ in range(2)] == [200, 200]
    r = await client.get(PUBLIC)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert r.headers["retry-after"] == "50"
    assert r.headers["access-control-allow-origin"] == "*"
    # one budget with the other public endpoints: the same rule (app/api/v1/public.py)
    assert (await client.get("/api/v1/public/major-hazards")).status_code == 429


async def test_the_removal_example_is_accepted(client, world, listed) -> None:  # type: ignore[no-untyped-def]
    from app.api import examples

    for example in examples.BLACKLIST_REMOVE.values():
        r = await client.post(
            remove_url(world, "ent_a1", listed["ent_a1"]),
            json=example["value"],
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "actor", ("admin", "town_a_officer", "bureau_e_officer", "bureau_c_officer")
)
async def test_enterprise_figures_take_the_blacklisted_filter_as_the_list_does(  # type: ignore[no-untyped-def]
    client, world, listed, actor
) -> None:
    for value in ("true", "false"):
        params = {"blacklisted": value}
        figures = await client.get(
            "/api/v1/statistics/enterprises", params=params, headers=world.h(actor)
        )
        assert figures.status_code == 200, figures.text
        listed_total = await client.get(
            ENTS, params={**params, "include_total": "true"}, headers=world.h(actor)
        )
        assert figures.json()["totals"]["enterprises"] == listed_total.json()["total"], (
            actor,
            value,
        )
