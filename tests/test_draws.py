"""Double-random draws (双随机一公开) through HTTP: who may draw and read, the pools (the caller's
scope and its filters; certified government inspectors), reproducibility (the same inputs give
the same picks, and anyone recomputes them from the detail), 回避, the inspections planned, and
the publication only once every inspection is over."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from app.auth.tokens import issue_token
from app.models import Draw, Enterprise, Inspection, User
from app.services.draws import algorithm
from tests.conftest import World
from tests.inspection_helpers import ok as act
from tests.statements import statements

TOWN_A_PEOPLE = ("town_a_officer", "town_a_inspector")
TOWN_B_PEOPLE = ("town_b_officer", "town_b_inspector")
BUREAU_PEOPLE = ("bureau_e_officer", "bureau_c_officer")
CERTIFIED = TOWN_A_PEOPLE + TOWN_B_PEOPLE + BUREAU_PEOPLE
ROLES = (
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
    "expert",
    "machine",
)
HOMES = {"admin": "county", "county_officer": "county"}  # the others: the role's prefix
MAY_DRAW = {
    "admin",
    "county_officer",
    "town_a_manager",
    "town_a_officer",
    "town_b_officer",
    "bureau_e_manager",
    "bureau_e_officer",
    "bureau_c_officer",
}


@pytest.fixture
async def w(app, world: World, password_hash: str) -> World:  # type: ignore[no-untyped-def]
    """The world, plus a second town-B inspector and an expert; enforcement certificates for
    two people of each town and two of the bureaus (not the county's staff)."""
    async with app.state.sessionmaker() as s:
        extra = {
            "town_b_inspector": User(
                username="town_b_inspector",
                password_hash=password_hash,
                display_name="符离镇检查员",
                role="inspector",
                org_unit_id=world["town_b"],
                is_active=True,
            ),
            "expert": User(
                username="expert",
                password_hash=password_hash,
                display_name="外聘专家",
                role="expert",
                org_unit_id=world["county"],
                enforcement_cert_no="ZJ-0001",
                is_active=True,
            ),
        }
        s.add_all(extra.values())
        await s.flush()
        for name, user in extra.items():
            world.ids[name] = user.id
            world.tokens[name] = issue_token(world.settings, user.id, "user")[0]
        for i, name in enumerate(CERTIFIED):
            await s.execute(
                update(User)
                .where(User.id == world[name])
                .values(enforcement_cert_no=f"皖执3413020{i:02d}")
            )
        await s.commit()
    app.state.principal_cache.clear()
    return world


def body(w: World, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": "2026年第四季度双随机抽查",
        "inspector_ids": [w[n] for n in CERTIFIED],
        "sample_size": 2,
        "seed": "福彩3D 2026320期 7 4 1",
        "planned_for": "2026-12-20",
    }
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


async def draw(client, w: World, actor: str = "county_officer", **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/draws", json=body(w, **fields), headers=w.h(actor))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/v1/draws/{r.json()['id']}"
    return r.json()


def picks_of(d: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(p["enterprise"]["id"], tuple(u["id"] for u in p["inspectors"])) for p in d["picks"]]


def name_of(w: World, user_id: str) -> str:
    return next(k for k, v in w.ids.items() if v == user_id)


# ---- drawing -----------------------------------------------------------------------------------


async def test_county_officer_draws_and_plans_double_random_inspections(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, sample_size=3, checklist_id=None, campaign="四季度双随机")
    assert d["algorithm"] == {"name": "hmac-sha256-rank", "version": 1}
    assert d["seed"] == "福彩3D 2026320期 7 4 1"
    assert d["conducting_unit"] == {"id": w["county"], "name": "埇桥区"}
    assert d["sample"] == 3 and len(d["picks"]) == 3
    assert d["enterprise_pool_size"] == 4 and d["inspector_pool_size"] == 6
    assert [e["id"] for e in d["enterprise_pool"]] == sorted(
        w[e] for e in ("ent_a1", "ent_a2", "ent_b1", "ent_b2")
    )
    assert [u["id"] for u in d["inspector_pool"]] == sorted(w[n] for n in CERTIFIED)
    assert d["criteria"]["sample_size"] == 3 and d["criteria"]["status"] == "operating"
    assert d["campaign"] == "四季度双随机"
    assert d["drawn_by"] == {"kind": "user", "id": w["county_officer"], "name": "county_officer"}
    assert [p["rank"] for p in d["picks"]] == [1, 2, 3]
    for pick in d["picks"]:
        assert pick["inspection"]["status"] == "planned"
        assert pick["inspection"]["number"].startswith("J")
        r = await client.get(
            f"/api/v1/inspections/{pick['inspection']['id']}", headers=w.h("county_officer")
        )
        assert r.status_code == 200, r.text
        insp = r.json()
        assert insp["kind"] == "double_random" and insp["status"] == "planned"
        assert insp["enterprise"]["id"] == pick["enterprise"]["id"]
        assert sorted(u["id"] for u in insp["inspectors"]) == sorted(
            u["id"] for u in pick["inspectors"]
        )
        assert insp["campaign"] == "四季度双随机"
    # An enterprise never learns of a double-random inspection before it starts.
    mine = [p for p in d["picks"] if p["enterprise"]["id"] == w["ent_a1"]]
    for pick in mine:
        r = await client.get(
            f"/api/v1/inspections/{pick['inspection']['id']}", headers=w.h("ent_a1_manager")
        )
        assert r.status_code == 404


async def test_every_role_may_draw_or_is_refused(client, w: World) -> None:  # type: ignore[no-untyped-def]
    for role in ROLES:
        # The inspectors from outside every town: pairs exist for any enterprise.
        r = await client.post(
            "/api/v1/draws",
            json=body(w, inspector_ids=[w[n] for n in BUREAU_PEOPLE], sample_size=1),
            headers=w.h(role),
        )
        if role in MAY_DRAW:
            assert r.status_code == 201, (role, r.text)
            home = HOMES.get(role, role.rsplit("_", 1)[0])
            assert r.json()["conducting_unit"]["id"] == w[home], role
        else:
            assert r.status_code == 403, (role, r.text)


async def test_detail_lets_anyone_recompute_the_draw(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, sample_size=None, sample_rate=0.5)
    got = (await client.get(f"/api/v1/draws/{d['id']}", headers=w.h("county_viewer"))).json()
    assert got == d
    again = algorithm.draw(
        got["seed"],
        [algorithm.PoolEnterprise(e["id"], e["region_code"]) for e in got["enterprise_pool"]],
        [
            algorithm.PoolInspector(u["id"], u["town_region_code"], True)
            for u in got["inspector_pool"]
        ],
        sample_rate=got["criteria"]["sample_rate"],
    )
    assert got["criteria"]["sample_rate"] == "0.5"
    assert [(p.enterprise_id, p.inspector_ids) for p in again.picks] == picks_of(got)
    towns = {u["id"]: u["town_region_code"] for u in got["inspector_pool"]}
    assert towns[w["town_a_officer"]] == "341302001" and towns[w["bureau_e_officer"]] is None


async def test_same_inputs_same_picks_another_seed_other_picks(client, w: World) -> None:  # type: ignore[no-untyped-def]
    first = await draw(client, w)
    second = await draw(client, w)
    assert picks_of(first) == picks_of(second)
    assert {p["inspection"]["id"] for p in first["picks"]}.isdisjoint(
        p["inspection"]["id"] for p in second["picks"]
    )
    seeds = [f"2026-Q4-{i}" for i in range(6)]
    results = {json.dumps(picks_of(await draw(client, w, seed=s))) for s in seeds}
    assert len(results) > 1  # a pool of four, two picked: the seed decides


async def test_no_inspector_of_the_enterprise_own_town(client, w: World) -> None:  # type: ignore[no-untyped-def]
    town_of = {
        w["ent_a1"]: TOWN_A_PEOPLE,
        w["ent_a2"]: TOWN_A_PEOPLE,
        w["ent_b1"]: TOWN_B_PEOPLE,
        w["ent_b2"]: TOWN_B_PEOPLE,
    }
    for i in range(8):
        d = await draw(client, w, seed=f"回避-{i}", sample_size=4)
        assert len(d["picks"]) == 4
        for pick in d["picks"]:
            names = {name_of(w, u["id"]) for u in pick["inspectors"]}
            assert len(names) == 2
            assert not names & set(town_of[pick["enterprise"]["id"]]), (pick, names)


async def test_enterprise_without_a_pair_refuses_the_draw_and_writes_nothing(
    app, client, w: World
) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/draws",
        json=body(
            w, inspector_ids=[w[n] for n in TOWN_A_PEOPLE] + [w["bureau_e_officer"]], sample_size=4
        ),
        headers=w.h("county_officer"),
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "draw_unpaired"
    assert (
        "埇桥机械制造有限公司" in problem["detail"] and "宿州城建工程有限公司" in problem["detail"]
    )
    assert "符离" not in problem["detail"]  # town B's enterprises have a pair
    async with app.state.sessionmaker() as s:
        assert (await s.execute(select(Draw.id))).first() is None
        assert (await s.execute(select(Inspection.id))).first() is None


async def test_pool_is_the_caller_scope_and_its_filters(app, client, w: World) -> None:  # type: ignore[no-untyped-def]
    outside = [w[n] for n in BUREAU_PEOPLE]

    async def pool(actor: str, **fields: Any) -> set[str]:
        d = await draw(client, w, actor, inspector_ids=outside, **fields)
        return {e["id"] for e in d["enterprise_pool"]}

    assert await pool("town_a_officer") == {w["ent_a1"], w["ent_a2"]}
    assert await pool("bureau_e_officer") == {w["ent_a1"], w["ent_b1"]}
    assert await pool("county_officer", sector=["construction", "road_transport"]) == {
        w["ent_a2"],
        w["ent_b2"],
    }
    assert await pool("county_officer", risk_color=["red", "orange"]) == {w["ent_a2"], w["ent_b1"]}
    assert await pool("county_officer", region_code="341302100") == {w["ent_b1"], w["ent_b2"]}
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Enterprise).where(Enterprise.id == w["ent_b2"]).values(status="suspended")
        )
        await s.commit()
    assert await pool("county_officer", region_code="341302100") == {w["ent_b1"]}
    # Nothing in scope matches: a town cannot draw another town's enterprises.
    r = await client.post(
        "/api/v1/draws",
        json=body(w, inspector_ids=outside, region_code="341302100"),
        headers=w.h("town_a_officer"),
    )
    assert r.status_code == 422 and r.json()["code"] == "draw_pool_empty", r.text


async def test_not_inspected_since_leaves_out_enterprises_inspected_since(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, region_code="341302001001", sample_size=1)  # ent_a1 only
    (pick,) = d["picks"]
    first, second = (name_of(w, u["id"]) for u in pick["inspectors"])
    iid = pick["inspection"]["id"]
    await act(client, w, first, iid, "start")
    # Started is not inspected: still in the pool.
    again = await draw(client, w, region_code="341302001", not_inspected_since="2026-01-01")
    assert w["ent_a1"] in {e["id"] for e in again["enterprise_pool"]}
    await act(client, w, first, iid, "complete")
    after = await draw(client, w, region_code="341302001", not_inspected_since="2026-01-01")
    assert {e["id"] for e in after["enterprise_pool"]} == {w["ent_a2"]}
    later = await draw(client, w, region_code="341302001", not_inspected_since="2999-01-01")
    assert w["ent_a1"] in {e["id"] for e in later["enterprise_pool"]}
    assert second


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"sample_size": None}, "validation_error"),  # neither
        ({"sample_rate": 0.5}, "validation_error"),  # both
        ({"sample_size": None, "sample_rate": 0}, "validation_error"),
        ({"sample_size": None, "sample_rate": 1.5}, "validation_error"),
        ({"sample_size": 0}, "validation_error"),
        ({"seed": ""}, "validation_error"),
        ({"seed": "   "}, "validation_error"),
        ({"seed": "x" * 201}, "validation_error"),
        ({"planned_for": "2026-13-01"}, "validation_error"),
        ({"sector": ["no_such_sector"]}, "validation_error"),
        ({"unknown": 1}, "validation_error"),
    ],
)
async def test_bad_draw_requests_are_422(
    client, w: World, fields: dict[str, Any], code: str
) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/draws", json=body(w, **fields), headers=w.h("county_officer"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code


async def test_inspector_pool_is_certified_government_staff_of_the_county(
    app, client, w: World
) -> None:  # type: ignore[no-untyped-def]
    async def refused(ids: list[str]) -> dict[str, Any]:
        r = await client.post(
            "/api/v1/draws", json=body(w, inspector_ids=ids), headers=w.h("county_officer")
        )
        assert r.status_code == 422, r.text
        return r.json()

    certified = [w[n] for n in BUREAU_PEOPLE]
    problem = await refused([*certified, w["county_officer"]])  # no certificate
    assert problem["code"] == "inspector_not_certified"
    assert w["county_officer"] in problem["detail"]
    for other in ("ent_a1_manager", "expert", "county_viewer"):
        problem = await refused([*certified, w[other]])
        assert problem["code"] == "unknown_inspector", other
        assert w[other] in problem["detail"]
    assert (await refused([*certified, "no-such-user"]))["code"] == "unknown_inspector"
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(User).where(User.id == w["town_a_inspector"]).values(is_active=False)
        )
        await s.commit()
    assert (await refused([*certified, w["town_a_inspector"]]))["code"] == "unknown_inspector"
    problem = await refused([certified[0], certified[0]])  # one person twice
    assert problem["code"] == "validation_error"


async def test_conducting_unit_is_the_caller_unless_county(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, conducting_unit_id=w["town_b"])
    assert d["conducting_unit"]["id"] == w["town_b"]
    r = await client.post(
        "/api/v1/draws",
        json=body(w, conducting_unit_id=w["town_b"], inspector_ids=[w[n] for n in BUREAU_PEOPLE]),
        headers=w.h("town_a_officer"),
    )
    assert r.status_code == 403 and r.json()["code"] == "outside_scope", r.text
    r = await client.post(
        "/api/v1/draws", json=body(w, conducting_unit_id="nope"), headers=w.h("admin")
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_org_unit", r.text


async def test_inspections_of_a_draw_are_listed_by_draw_id(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, sample_size=3)
    await draw(client, w, seed="another")
    r = await client.get(f"/api/v1/inspections?draw_id={d['id']}", headers=w.h("admin"))
    assert r.status_code == 200, r.text
    assert {i["id"] for i in r.json()["items"]} == {p["inspection"]["id"] for p in d["picks"]}
    assert {i["kind"] for i in r.json()["items"]} == {"double_random"}


async def test_unknown_checklist_refuses_the_draw_and_writes_nothing(app, client, w: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/draws", json=body(w, checklist_id="no-such-list"), headers=w.h("county_officer")
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_checklist", r.text
    async with app.state.sessionmaker() as s:
        assert (await s.execute(select(Draw.id))).first() is None
        assert (await s.execute(select(Inspection.id))).first() is None


async def test_idempotency_key_draws_once(app, client, w: World) -> None:  # type: ignore[no-untyped-def]
    headers = w.h("county_officer", **{"Idempotency-Key": "draw-2026-q4"})
    first = await client.post("/api/v1/draws", json=body(w), headers=headers)
    again = await client.post("/api/v1/draws", json=body(w), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    async with app.state.sessionmaker() as s:
        assert len((await s.execute(select(Draw.id))).all()) == 1
        assert len((await s.execute(select(Inspection.id))).all()) == 2


# ---- reading -----------------------------------------------------------------------------------


async def test_list_and_detail_in_scope_for_every_role(client, w: World) -> None:  # type: ignore[no-untyped-def]
    county = await draw(client, w, conducting_unit_id=w["town_b"], region_code="341302001")
    town_a = await draw(client, w, "town_a_officer", inspector_ids=[w[n] for n in BUREAU_PEOPLE])
    sees = {
        "admin": {county["id"], town_a["id"]},
        "county_officer": {county["id"], town_a["id"]},
        "county_viewer": {county["id"], town_a["id"]},
        "town_a_manager": {town_a["id"]},
        "town_a_officer": {town_a["id"]},
        "town_a_inspector": {town_a["id"]},
        "town_a_viewer": {town_a["id"]},
        "town_b_officer": {county["id"]},  # conducted by town B
        "bureau_e_manager": set(),
        "bureau_e_officer": set(),
        "bureau_c_officer": set(),
    }
    for role in ROLES:
        r = await client.get("/api/v1/draws?include_total=true", headers=w.h(role))
        if role not in sees:
            assert r.status_code == 403, (role, r.text)
            for d in (county, town_a):
                r = await client.get(f"/api/v1/draws/{d['id']}", headers=w.h(role))
                assert r.status_code == 403, (role, r.text)
            continue
        assert r.status_code == 200, (role, r.text)
        page = r.json()
        assert {d["id"] for d in page["items"]} == sees[role], role
        assert page["total"] == len(sees[role])
        for d in (county, town_a):
            r = await client.get(f"/api/v1/draws/{d['id']}", headers=w.h(role))
            assert r.status_code == (200 if d["id"] in sees[role] else 404), (role, r.text)
    item = next(
        i
        for i in (await client.get("/api/v1/draws", headers=w.h("admin"))).json()["items"]
        if i["id"] == town_a["id"]
    )
    assert item["enterprise_pool_size"] == 2 and item["inspector_pool_size"] == 2
    assert item["sample"] == 2 and item["conducting_unit"]["id"] == w["town_a"]
    assert item["algorithm"] == {"name": "hmac-sha256-rank", "version": 1}


async def test_list_pages_by_cursor(client, w: World) -> None:  # type: ignore[no-untyped-def]
    made = [
        (await draw(client, w, seed=f"page-{i}", planned_for=f"2026-12-2{i}"))["id"]
        for i in range(3)
    ]
    for sort, order in (("-created_at", made[::-1]), ("planned_for", made)):
        seen: list[str] = []
        url = f"/api/v1/draws?limit=2&sort={sort}"
        while url:
            page = (await client.get(url, headers=w.h("county_officer"))).json()
            seen += [d["id"] for d in page["items"]]
            cursor = page["next_cursor"]
            url = f"/api/v1/draws?limit=2&sort={sort}&cursor={cursor}" if cursor else ""
        assert seen == order, sort


async def test_the_record_keeps_the_pools_as_they_were_at_the_draw(app, client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Enterprise)
            .where(Enterprise.id == w["ent_a1"])
            .values(region_code="341302100999")
        )
        await s.execute(
            update(User).where(User.id == w["town_a_officer"]).values(org_unit_id=w["bureau_e"])
        )
        await s.commit()
    got = (await client.get(f"/api/v1/draws/{d['id']}", headers=w.h("admin"))).json()
    assert got["enterprise_pool"] == d["enterprise_pool"]
    assert got["inspector_pool"] == d["inspector_pool"]
    regions = {e["id"]: e["region_code"] for e in got["enterprise_pool"]}
    assert regions[w["ent_a1"]] == "341302001001"


async def test_refusals_speak_english_when_asked(client, w: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/draws",
        json=body(w, inspector_ids=[w[n] for n in TOWN_A_PEOPLE], region_code="341302001"),
        headers=w.h("county_officer", **{"Accept-Language": "en"}),
    )
    assert r.status_code == 422 and r.json()["code"] == "draw_unpaired"
    assert "widen the inspector pool" in r.json()["detail"]


async def test_detail_and_list_statement_budget(app, client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, sample_size=4)
    for url, budget in ((f"/api/v1/draws/{d['id']}", 3), ("/api/v1/draws", 1)):
        assert (await client.get(url, headers=w.h("county_officer"))).status_code == 200
        with statements(app) as seen:
            assert (await client.get(url, headers=w.h("county_officer"))).status_code == 200
        assert len(seen) <= budget, seen


# ---- the publication ---------------------------------------------------------------------------


async def test_public_view_hidden_until_every_inspection_is_over(client, w: World) -> None:  # type: ignore[no-untyped-def]
    d = await draw(client, w, sample_size=3)
    url = f"/api/v1/public/draws/{d['id']}"
    assert (await client.get(url)).status_code == 404
    assert (await client.get("/api/v1/public/draws/no-such-draw")).status_code == 404
    first, second, third = d["picks"]
    # One completed and signed by both, one cancelled, one only completed.
    a, b = (name_of(w, u["id"]) for u in first["inspectors"])
    await act(client, w, a, first["inspection"]["id"], "start")
    assert (await client.get(url)).status_code == 404
    await act(client, w, a, first["inspection"]["id"], "complete")
    await act(client, w, a, first["inspection"]["id"], "sign")
    await act(client, w, b, first["inspection"]["id"], "sign")
    assert (await client.get(url)).status_code == 404
    c = name_of(w, second["inspectors"][0]["id"])
    await act(client, w, c, second["inspection"]["id"], "cancel", reason="企业已停产")
    assert (await client.get(url)).status_code == 404  # the third is still planned
    e = name_of(w, third["inspectors"][0]["id"])
    await act(client, w, e, third["inspection"]["id"], "start")
    await act(client, w, e, third["inspection"]["id"], "complete")
    r = await client.get(url, headers={"Authorization": "Bearer ignored"})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pub = r.json()
    assert set(pub) == {"name", "drawn_on", "planned_for", "seed", "algorithm", "picks"}
    assert pub["seed"] == d["seed"] and pub["algorithm"] == d["algorithm"]
    assert [p["enterprise_name"] for p in pub["picks"]] == [
        p["enterprise"]["name"] for p in d["picks"]
    ]
    assert [p["inspectors"] for p in pub["picks"]] == [
        [u["display_name"] for u in p["inspectors"]] for p in d["picks"]
    ]
    assert [p["result"]["status"] for p in pub["picks"]] == ["signed", "cancelled", "completed"]
    assert pub["picks"][0]["result"] == {
        "status": "signed",
        "findings_count": 0,
        "decisions": ["no_issue"],
    }
    text = r.text
    for user_id in [w[n] for n in CERTIFIED]:
        assert user_id not in text
    for pick in d["picks"]:
        assert pick["inspection"]["id"] not in text and pick["enterprise"]["id"] not in text


async def test_public_view_is_rate_limited_with_the_other_public_endpoints(
    client, w: World, settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import app.services.rate_limit as rate_limit

    monkeypatch.setattr(settings, "public_rate_limit_per_minute", 3)
    start = datetime(2026, 5, 1, 8, 0, 10, tzinfo=UTC)
    monkeypatch.setattr(rate_limit, "utcnow", lambda: start)
    assert (await client.get("/api/v1/public/major-hazards")).status_code == 200
    codes = [(await client.get("/api/v1/public/draws/none")).status_code for _ in range(3)]
    assert codes == [404, 404, 429]  # one counter per address for every public endpoint
    r = await client.get("/api/v1/public/draws/none")
    assert r.json()["code"] == "rate_limited" and r.headers["retry-after"] == "50"
    assert r.headers["access-control-allow-origin"] == "*"
