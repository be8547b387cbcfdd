"""Issue 11's figures: grouped by enforcement department, bureau, stock year and judgment clause,
and filtered by the closing date; each equals what the hazard list gives for the same scope and
filters, for several roles, from the rollup and from the direct query alike."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from app.models import Hazard
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, JUDGMENT, MAJOR_PLAN, act, register, upload
from tests.test_hazard_rollup import both
from tests.test_hazard_statistics import (
    JUDGMENT_CHEM,
    ROLES,
    build,
    figures,
    group_value,
    list_items,
    ok,
    same,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTY = "341302"


async def overlapping_world(app, client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """``build``'s ten hazards, with ent_a1 (industry and trade: bureau E's sector) naming
    bureau C as its enforcement department, so its hazards count under both bureaus; and the
    closed ones closed at known instants (the rollup keeps no closing date, so setting it
    directly changes nothing the statistics keep elsewhere)."""
    url = f"/api/v1/enterprises/{world['ent_a1']}"
    etag = (await client.get(url, headers=world.h("admin"))).headers["etag"]
    r = await client.patch(
        url,
        json={"enforcement_department_id": world["bureau_c"]},
        headers={**world.h("admin"), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    ids = await build(client, world)
    start_of_today = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    closings = {
        "s1": datetime(2024, 6, 30, 23, 30, tzinfo=SHANGHAI),
        "s9": datetime(2025, 8, 1, 0, 30, tzinfo=SHANGHAI),  # still 31 July in UTC
        "s6": start_of_today - timedelta(days=2) + timedelta(minutes=1),
        "s8": start_of_today - timedelta(days=5),
        "s2": start_of_today - timedelta(minutes=1),  # 23:59 yesterday
    }
    async with app.state.sessionmaker() as s:
        for name, at in closings.items():
            await s.execute(
                update(Hazard).where(Hazard.id == ids[name]).values(closed_at=at.astimezone(UTC))
            )
        await s.commit()
    return ids


async def bureaus(client, world: World) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """Each bureau of the county with its sectors, as the org-unit endpoint says."""
    out = {}
    for name in ("bureau_e", "bureau_c"):
        unit = await ok(
            await client.get(f"/api/v1/org-units/{world[name]}", headers=world.h("admin"))
        )
        out[unit["id"]] = set(unit["sectors"])
    return out


def supervises(bureau: str, sectors: set[str], item: dict[str, Any]) -> bool:
    """DOMAIN.md: a bureau's sectors in its county, plus the enterprises naming it."""
    return (item["sector"] in sectors and item["region_code"].startswith(COUNTY)) or item[
        "enforcement_department"
    ]["id"] == bureau


async def judgments(client, world: World, items: list[dict[str, Any]]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """`<standard>:<clause>` of each major item, from its detail (the list does not carry it)."""
    out = {}
    for item in items:
        if item["level"] != "major":
            continue
        detail = await ok(
            await client.get(f"/api/v1/hazards/{item['id']}", headers=world.h("admin"))
        )
        j = detail["judgment"]
        out[item["id"]] = f"{j['standard']}:{j['clause']}" if j else "none"
    return out


def local_year(item: dict[str, Any]) -> str:
    return datetime.fromisoformat(item["found_at"]).astimezone(SHANGHAI).strftime("%Y")


def buckets_of(
    items: list[dict[str, Any]],
    groups: list[str],
    units: dict[str, set[str]],
    clauses: dict[str, str],
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The list's items by the grouping, recomputed from the spec (an item may be in several
    bureau groups)."""
    out: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        choices: list[list[str]] = []
        for g in groups:
            if g == "bureau":
                choices.append([b for b, sectors in units.items() if supervises(b, sectors, item)])
            elif g == "enforcement_department":
                choices.append([item["enforcement_department"]["id"]])
            elif g == "stock_year":
                choices.append([local_year(item)])
            elif g == "judgment_clause":
                choices.append([clauses[item["id"]]])
            else:
                choices.append([group_value(item, g)])
        keys: list[tuple[str, ...]] = [()]
        for values in choices:
            keys = [(*k, v) for k in keys for v in values]
        for key in keys:
            out[key].append(item)
    return out


FILTERS = [
    "",
    "status=closed",
    "region_code=341302001",
    "level=major",
    "sector=industry_trade,road_transport",
    "found_at_from=2025-01-01&found_at_to=2025-12-31",
    "closed_at_from=2025-01-01",
    "closed_at_to=2025-07-31",
]
GROUPINGS = [
    "enforcement_department",
    "bureau",
    "stock_year",
    "judgment_clause",
    "bureau,level",
    "month,bureau",
    "enforcement_department,town",
    "bureau,stock_year",
    "stock_year,sector",
    "judgment_clause,town",
    "bureau,enforcement_department",
]
IMPLIED = {"stock_year": {"stock": "true"}, "judgment_clause": {"level": "major"}}


@pytest.mark.parametrize("actor", ROLES)
async def test_new_groupings_equal_the_list_on_both_paths(  # type: ignore[no-untyped-def]
    app, client, world: World, actor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await overlapping_world(app, client, world)
    units = await bureaus(client, world)
    problems: list[str] = []
    for raw in FILTERS:
        base = dict(parse_qsl(raw))
        for grouping in GROUPINGS:
            groups = grouping.split(",")
            implied: dict[str, str] = {}
            for g in groups:
                implied |= IMPLIED.get(g, {})
            if "level" in base and "level" in implied and base["level"] != implied["level"]:
                continue  # a conflict: test_conflicting_filters_are_422
            query = {**base, **implied}
            items = await list_items(client, world, actor, query)
            clauses = await judgments(client, world, items) if "judgment_clause" in groups else {}
            got, direct, used = await both(
                client, world, actor, {**base, "group_by": grouping}, monkeypatch
            )
            where = f"{actor} ?{raw} group_by={grouping}"
            if got != direct:
                problems.append(f"{where}: rollup {got} != direct {direct}")
            # served by the rollup unless a closing date or the judgment clause is asked for
            if used != ("closed_at" not in raw and "judgment_clause" not in groups):
                problems.append(f"{where}: served by the rollup: {used}")
            assert got["implied_filters"] == implied, where
            assert got["groups_overlap"] is ("bureau" in groups), where
            problems += [f"{where} totals {d}" for d in same(got["totals"], figures(items))]
            want = buckets_of(items, groups, units, clauses)
            keys = [tuple(row["key"][g] for g in groups) for row in got["groups"]]
            if keys != sorted(want):
                problems.append(f"{where} keys {keys} != {sorted(want)}")
                continue
            for row in got["groups"]:
                key = tuple(row["key"][g] for g in groups)
                problems += [f"{where} {key} {d}" for d in same(row, figures(want[key]))]
                assert set(row["labels"]) == set(groups)
                assert all(row[g] == row["key"][g] for g in groups)
            if "bureau" not in groups:
                assert sum(r["found"] for r in got["groups"]) == got["totals"]["found"], where
    assert not problems, "\n".join(problems[:40])


async def test_bureau_groups_overlap_and_the_totals_count_each_hazard_once(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    await overlapping_world(app, client, world)
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=bureau", headers=world.h("county_officer")
        )
    )
    rows = {r["key"]["bureau"]: r for r in body["groups"]}
    e, c = rows[world["bureau_e"]], rows[world["bureau_c"]]
    # ent_a1 (s1, s2, s9, s10: four counted, s2..s10 all of it) is bureau E's by sector and
    # bureau C's by designation; ent_b1 (s4, s7) is E's; ent_a2 (s3, s8) and ent_b2 (s6; s5
    # voided) are C's
    assert (e["found"], c["found"], body["totals"]["found"]) == (6, 7, 9)
    assert body["groups_overlap"] is True
    assert e["labels"]["bureau"] == "区应急管理局"
    assert c["labels"]["bureau"] == "区住房和城乡建设局"
    assert e["bureau"] == world["bureau_e"]
    departments = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=enforcement_department",
            headers=world.h("county_officer"),
        )
    )
    # each enterprise has exactly one designated department: these groups partition the totals
    by_department = {r["key"]["enforcement_department"]: r["found"] for r in departments["groups"]}
    assert by_department == {world["bureau_e"]: 2, world["bureau_c"]: 7}
    assert departments["groups_overlap"] is False
    english = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=bureau",
            headers=world.h("county_officer", **{"Accept-Language": "en"}),
        )
    )
    assert {r["labels"]["bureau"] for r in english["groups"]} <= {
        "区应急管理局",
        "区住房和城乡建设局",
        "District Emergency Management Bureau",
        "District Housing and Urban-Rural Development Bureau",
    }


async def test_a_bureau_sees_the_other_bureaus_only_within_its_own_scope(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    await overlapping_world(app, client, world)
    own = await ok(
        await client.get("/api/v1/statistics/hazards", headers=world.h("bureau_e_officer"))
    )
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=bureau", headers=world.h("bureau_e_officer")
        )
    )
    rows = {r["key"]["bureau"]: r for r in body["groups"]}
    # its own row is its whole scope; bureau C's row only what both supervise (ent_a1), never
    # ent_a2 or ent_b2, which bureau E cannot see
    assert rows[world["bureau_e"]]["found"] == own["totals"]["found"] == 6
    assert rows[world["bureau_c"]]["found"] == 4
    assert body["totals"]["found"] == 6
    town_b = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=bureau", headers=world.h("town_b_officer")
        )
    )
    assert {r["key"]["bureau"]: r["found"] for r in town_b["groups"]} == {
        world["bureau_e"]: 2,  # ent_b1: s4, s7
        world["bureau_c"]: 1,  # ent_b2: s6
    }


async def test_stock_year_shows_each_years_stock_cleared_to_zero(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    ids = await overlapping_world(app, client, world)
    url = "/api/v1/statistics/hazards?group_by=stock_year"
    body = await ok(await client.get(url, headers=world.h("county_officer")))
    assert body["implied_filters"] == {"stock": "true"}
    # s1 (May 2023) cleared, s7 (November 2023) still open; nothing else is stock
    assert [
        (r["key"]["stock_year"], r["found"], r["stock_cleared"], r["stock_open"])
        for r in body["groups"]
    ] == [("2023", 2, 1, 1)]
    assert body["totals"]["found"] == 2
    # s7's deadline (31 December 2023) has passed: the plan keeps it
    plan = {**GENERAL_PLAN, "deadline": "2023-12-31"}
    await ok(await act(client, world, "town_b_officer", ids["s7"], "plan", plan=plan))
    photo = await upload(client, world, "town_b_officer")
    await ok(
        await act(client, world, "town_b_officer", ids["s7"], "complete", attachment_ids=[photo])
    )
    await ok(await act(client, world, "town_b_officer", ids["s7"], "accept"))
    body = await ok(await client.get(url, headers=world.h("county_officer")))
    [row] = body["groups"]
    assert (row["stock_open"], row["stock_cleared"], row["rectification_rate"]) == (0, 2, 1.0)
    same_as_filter = await ok(
        await client.get(f"{url}&stock=true", headers=world.h("county_officer"))
    )
    assert same_as_filter == body


async def test_judgment_clause_groups_major_hazards_by_standard_and_clause(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    await overlapping_world(app, client, world)
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=judgment_clause",
            headers=world.h("county_officer"),
        )
    )
    assert body["implied_filters"] == {"level": "major"}
    chem = f"{JUDGMENT_CHEM['standard']}:{JUDGMENT_CHEM['clause']}"
    trade = f"{JUDGMENT['standard']}:{JUDGMENT['clause']}"
    got = {r["key"]["judgment_clause"]: r for r in body["groups"]}
    assert {k: r["found"] for k, r in got.items()} == {chem: 1, trade: 2}
    assert got[trade]["closed"] == 1 and got[chem]["major_open"] == 1
    assert got[chem]["labels"]["judgment_clause"].startswith("化工和危险化学品")
    assert JUDGMENT_CHEM["clause"] in got[chem]["labels"]["judgment_clause"]
    english = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=judgment_clause",
            headers=world.h("county_officer", **{"Accept-Language": "en"}),
        )
    )
    labels = {
        r["key"]["judgment_clause"]: r["labels"]["judgment_clause"] for r in english["groups"]
    }
    assert labels[trade].startswith("Industry and trade")
    # the clause's own wording, from the catalogue of judgment standards
    from app.services.judgment_standards import clause

    cited = clause(JUDGMENT["standard"], JUDGMENT["clause"])
    assert cited is not None and labels[trade].endswith(cited.text_en)
    assert got[trade]["labels"]["judgment_clause"].endswith(cited.text_zh)
    both_levels = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=judgment_clause&level=general,major",
            headers=world.h("county_officer"),
        )
    )
    assert both_levels["totals"] == body["totals"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("group_by=stock_year&stock=false", "stock"),
        ("group_by=judgment_clause&level=general", "level"),
        ("group_by=judgment_clause,stock_year&stock=false", "stock"),
    ],
)
async def test_conflicting_filters_are_422(client, world: World, query: str, field: str) -> None:  # type: ignore[no-untyped-def]
    for language, words in (("zh", "只统计"), ("en", "only")):
        r = await client.get(
            f"/api/v1/statistics/hazards?{query}",
            headers=world.h("county_officer", **{"Accept-Language": language}),
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "filter_conflicts_with_grouping"
        assert words in body["detail"]
        assert body["errors"][0]["field"] == field


async def test_closed_at_filters_select_the_hazards_closed_in_the_period(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await overlapping_world(app, client, world)
    by_id = {v: k for k, v in ids.items()}
    yesterday = (datetime.now(SHANGHAI) - timedelta(days=1)).date().isoformat()
    today = datetime.now(SHANGHAI).date().isoformat()
    cases = {
        "closed_at_to=2025-07-31": {"s1"},
        "closed_at_from=2024-06-30&closed_at_to=2024-06-30": {"s1"},
        "closed_at_from=2025-08-01&closed_at_to=2025-08-01": {"s9"},  # the local day
        "closed_at_from=2025-07-31T16:30:00Z": {"s9", "s2", "s6", "s8"},  # inclusive instant
        "closed_at_to=2025-07-31T16:29:59Z": {"s1"},
        "closed_at_from=2025-07-31T16:30:01Z": {"s2", "s6", "s8"},
        f"closed_at_from={yesterday}": {"s2"},
        f"closed_at_to={yesterday}": {"s1", "s9", "s6", "s8", "s2"},
        f"closed_at_from={today}": set(),
        "closed_at_from=2024-01-01&status=registered": set(),  # implies closed
        "closed_at_from=2024-01-01&region_code=341302001": {"s1", "s2", "s8", "s9"},
    }
    await client.get("/api/v1/hazards", headers=world.h("county_officer"))  # cache the caller
    for raw, want in cases.items():
        items = await list_items(client, world, "county_officer", dict(parse_qsl(raw)))
        assert {by_id[i["id"]] for i in items} == want, raw
        assert all(i["status"] == "closed" for i in items)
        # one item per page, along the keyset cursor, in every sort: the same set
        for sort in ("-found_at", "deadline", "updated_at"):
            seen, cursor = [], None
            while True:
                params = {
                    **dict(parse_qsl(raw)),
                    "limit": "1",
                    "sort": sort,
                    "include_total": "true",
                }
                if cursor:
                    params["cursor"] = cursor
                page = await ok(
                    await client.get(
                        f"/api/v1/hazards?{urlencode(params)}", headers=world.h("county_officer")
                    )
                )
                assert page["total"] == len(want)
                seen += [by_id[i["id"]] for i in page["items"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert sorted(seen) == sorted(want), (raw, sort)
        got, direct, used = await both(
            client,
            world,
            "county_officer",
            {**dict(parse_qsl(raw)), "group_by": "town"},
            monkeypatch,
        )
        assert got == direct and not used, raw
        assert same(got["totals"], figures(items)) == [], raw


async def test_a_list_with_closed_at_is_the_routes_answer_not_the_hot_reads(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import hot

    await overlapping_world(app, client, world)
    seen: list[bool] = []
    original = hot._try

    async def spy(*args: Any) -> Any:
        response = await original(*args)
        seen.append(response is not None)
        return response

    monkeypatch.setattr(hot, "_try", spy)
    await client.get("/api/v1/hazards?status=closed", headers=world.h("admin"))
    seen.clear()
    await client.get("/api/v1/hazards?status=closed", headers=world.h("admin"))
    assert seen == [True]  # the caller is cached: a canonical list is the hot read's
    seen.clear()
    r = await client.get(
        "/api/v1/hazards?status=closed&closed_at_to=2025-07-31&include_total=true",
        headers=world.h("admin"),
    )
    assert seen == [False]
    assert r.status_code == 200 and r.json()["total"] == 1
    for bad in ("closed_at_from=2025-02-30", "closed_at_to=yesterday", "closed_at_from=99999"):
        r = await client.get(f"/api/v1/hazards?{bad}", headers=world.h("admin"))
        assert r.status_code == 422, bad
        assert r.json()["errors"][0]["field"] == bad.split("=")[0]
        r = await client.get(f"/api/v1/statistics/hazards?{bad}", headers=world.h("admin"))
        assert r.status_code == 422, bad


async def test_bureau_grouping_falls_back_with_the_same_figures(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter the rollup cannot serve sends the bureau grouping to the direct query, with the
    same figures as the list; an empty county answers no groups and zero totals."""
    await overlapping_world(app, client, world)
    for raw in ({"q": "防护栏"}, {"category": "unsafe_condition"}, {"found_at_from": "2025-02-02"}):
        got, direct, used = await both(
            client, world, "county_officer", {**raw, "group_by": "bureau,level"}, monkeypatch
        )
        assert not used and got == direct, raw
    empty = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=bureau&found_at_to=1999-12-31",
            headers=world.h("county_officer"),
        )
    )
    assert empty["groups"] == [] and empty["totals"]["found"] == 0
    assert empty["totals"]["median_days_to_close"] is None


async def test_a_major_hazard_counts_under_its_clause_after_reclassification(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, "county_officer", "ent_b1")
    r = await act(
        client,
        world,
        "county_officer",
        h["id"],
        "reclassify",
        level="major",
        judgment=JUDGMENT_CHEM,
        reason="复核为重大隐患",
    )
    assert r.status_code == 200, r.text
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=judgment_clause", headers=world.h("admin")
        )
    )
    assert [(r["key"]["judgment_clause"], r["found"]) for r in body["groups"]] == [
        (f"{JUDGMENT_CHEM['standard']}:{JUDGMENT_CHEM['clause']}", 1)
    ]


async def test_random_histories_keep_the_new_groupings_equal_on_both_paths(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random registrations and actions, then enterprises moving between departments and
    sectors: bureau, department and stock-year figures stay equal from the rollup and directly."""
    import random

    rng = random.Random(20261202)
    now = datetime.now(UTC)
    hazards = []
    for _ in range(16):
        found = now - timedelta(days=rng.randint(0, 1400), hours=rng.randint(0, 23))
        ent = rng.choice(("ent_a1", "ent_a2", "ent_b1", "ent_b2"))
        h = await register(
            client,
            world,
            "county_officer",
            ent,
            found_at=found.isoformat(),
            level=rng.choice(("general", "general", "major")),
        )
        hazards.append(h["id"])
    for hid in hazards:
        for _ in range(rng.randint(0, 3)):
            detail = await ok(
                await client.get(f"/api/v1/hazards/{hid}", headers=world.h("county_officer"))
            )
            actions = [
                a for a in detail["allowed_actions"] if a in ("plan", "complete", "accept", "void")
            ]
            if not actions:
                break
            action = rng.choice(actions)
            payload: dict[str, Any] = {}
            if action == "plan":
                plan = MAJOR_PLAN if detail["level"] == "major" else GENERAL_PLAN
                payload = {"plan": {**plan, "deadline": detail["deadline"]}}
            elif action == "complete":
                payload = {"attachment_ids": [await upload(client, world, "county_officer")]}
            elif action == "void":
                payload = {"reason": "随机"}
            r = await act(client, world, "county_officer", hid, action, **payload)
            assert r.status_code in (200, 409, 422), r.text
    for name, body in (
        ("ent_b2", {"enforcement_department_id": world["bureau_e"]}),
        ("ent_a2", {"sector": "industry_trade"}),
    ):
        url = f"/api/v1/enterprises/{world[name]}"
        etag = (await client.get(url, headers=world.h("admin"))).headers["etag"]
        r = await client.patch(url, json=body, headers={**world.h("admin"), "If-Match": etag})
        assert r.status_code == 200, r.text
    for actor in ROLES:
        for grouping in ("bureau", "enforcement_department", "stock_year", "bureau,month"):
            got, direct, used = await both(
                client, world, actor, {"group_by": grouping}, monkeypatch
            )
            assert used and got == direct, (actor, grouping)
