"""Dashboard figures equal what the hazard list gives for the same filters, for every grouping and role.

Each expected figure is computed here from the list endpoint alone: either from the items it
returns (grouped in Python) or from its ``total`` under an extra filter.
"""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, MAJOR_PLAN, act, register, upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = ("registered", "rectifying", "awaiting_acceptance")
JUDGMENT_CHEM = {"standard": "chemicals", "clause": "4", "text": None}
TOWN_A, TOWN_B = "341302001", "341302100"


async def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


def days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat()


async def close(
    client, world: World, hid: str, worker: str, acceptor: str, major: bool = False
) -> None:  # type: ignore[no-untyped-def]
    plan = MAJOR_PLAN if major else GENERAL_PLAN
    await ok(await act(client, world, worker, hid, "plan", plan=plan))
    photo = await upload(client, world, worker)
    await ok(await act(client, world, worker, hid, "complete", attachment_ids=[photo]))
    await ok(await act(client, world, acceptor, hid, "accept"))


async def build(client, world: World) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Ten hazards over two towns, four sectors, both levels, every source and state."""
    ids: dict[str, str] = {}

    async def reg(name: str, actor: str, enterprise: str, **fields: Any) -> str:
        ids[name] = (await register(client, world, actor, enterprise, **fields))["id"]
        return ids[name]

    # s1: town A, industry trade, found in 2023 (stock), closed now (stock cleared)
    h = await reg("s1", "town_a_officer", "ent_a1", found_at="2023-05-10T09:00:00+08:00")
    await close(client, world, h, "ent_a1_manager", "town_a_officer")
    # s2: self-found, fixed on the spot after 10 days
    h = await reg("s2", "ent_a1_staff", "ent_a1", found_at=days_ago(10))
    photo = await upload(client, world, "ent_a1_staff")
    await ok(await act(client, world, "ent_a1_staff", h, "fix_on_spot", attachment_ids=[photo]))
    # s3: town A, construction, major, assigned, supervised, rectifying
    h = await reg(
        "s3",
        "town_a_officer",
        "ent_a2",
        level="major",
        source="assigned",
        found_at="2024-03-03T10:00:00+08:00",
    )
    await ok(
        await act(
            client,
            world,
            "town_a_officer",
            h,
            "supervise",
            supervisor_user_id=world["town_a_officer"],
        )
    )
    await ok(await act(client, world, "town_a_officer", h, "plan", plan=MAJOR_PLAN))
    # s4: town B, chemicals, major, overdue, supervised, awaiting acceptance;
    # found 00:30 on 1 February in Shanghai (still January in UTC)
    h = await reg(
        "s4",
        "county_officer",
        "ent_b1",
        level="major",
        judgment=JUDGMENT_CHEM,
        found_at="2025-02-01T00:30:00+08:00",
        deadline="2025-03-01",
    )
    await ok(
        await act(
            client,
            world,
            "town_b_officer",
            h,
            "supervise",
            supervisor_user_id=world["town_b_officer"],
        )
    )
    await ok(
        await act(
            client,
            world,
            "ent_b1_manager",
            h,
            "plan",
            plan={**MAJOR_PLAN, "deadline": "2025-03-01"},
        )
    )
    photo = await upload(client, world, "ent_b1_manager")
    await ok(await act(client, world, "ent_b1_manager", h, "complete", attachment_ids=[photo]))
    # s5: town B, road transport, public report, voided
    h = await reg(
        "s5",
        "town_b_officer",
        "ent_b2",
        source="public_report",
        found_at="2025-06-01T10:00:00+08:00",
    )
    await ok(await act(client, world, "town_b_officer", h, "void", reason="重复登记"))
    # s6: town B, road transport, closed after 20 days
    h = await reg("s6", "bureau_c_officer", "ent_b2", found_at=days_ago(20))
    await close(client, world, h, "bureau_c_officer", "bureau_c_officer")
    # s7: town B, chemicals, stock, overdue, registered
    await reg(
        "s7",
        "town_b_officer",
        "ent_b1",
        source="assigned",
        found_at="2023-11-11T10:00:00+08:00",
        deadline="2023-12-31",
    )
    # s8: town A, construction, closed after 40 days
    h = await reg("s8", "town_a_officer", "ent_a2", source="assigned", found_at=days_ago(40))
    await close(client, world, h, "town_a_officer", "county_officer")
    # s9: town A, industry trade, major, supervised and then closed
    h = await reg(
        "s9", "county_officer", "ent_a1", level="major", found_at="2025-07-15T10:00:00+08:00"
    )
    await ok(
        await act(
            client,
            world,
            "county_officer",
            h,
            "supervise",
            supervisor_user_id=world["county_officer"],
        )
    )
    await close(client, world, h, "ent_a1_manager", "county_officer", major=True)
    # s10: town A, industry trade, registered late on new year's eve
    await reg("s10", "bureau_e_officer", "ent_a1", found_at="2025-12-31T23:30:00+08:00")
    return ids


# ---- what the list says --------------------------------------------------------------------------


async def list_items(
    client, world: World, actor: str, query: dict[str, str]
) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    items: list[dict[str, Any]] = []
    params = {**query, "limit": "500"}
    while True:
        r = await client.get(f"/api/v1/hazards?{urlencode(params)}", headers=world.h(actor))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if not r.json()["next_cursor"]:
            return items
        params["cursor"] = r.json()["next_cursor"]


def merge(base: dict[str, str], extra: dict[str, str]) -> dict[str, str] | None:
    """Both sets of filters at once, or None when they cannot both hold."""
    out = dict(base)
    for key, value in extra.items():
        if key not in out or out[key] == value:
            out[key] = value
        elif key == "region_code" and (value.startswith(out[key]) or out[key].startswith(value)):
            out[key] = max(value, out[key], key=len)
        else:
            return None
    return out


async def list_total(client, world: World, actor: str, base: dict[str, str], **extra: str) -> int:  # type: ignore[no-untyped-def]
    query = merge(base, extra)
    if query is None:
        return 0
    params = urlencode({**query, "include_total": "true", "limit": "1"})
    r = await client.get(f"/api/v1/hazards?{params}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


def group_value(item: dict[str, Any], group: str) -> str:
    if group == "town":
        return item["region_code"][:9]
    if group == "month":
        return datetime.fromisoformat(item["found_at"]).astimezone(SHANGHAI).strftime("%Y-%m")
    return str(item[group])


def days_to_close(item: dict[str, Any]) -> float:
    delta = datetime.fromisoformat(item["closed_at"]) - datetime.fromisoformat(item["found_at"])
    return delta.total_seconds() / 86400


def figures(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure, computed from list items."""
    found = len(items)
    closed = [i for i in items if i["status"] == "closed"]
    open_ = [i for i in items if i["status"] in OPEN]
    return {
        "found": found,
        "closed": len(closed),
        "open": len(open_),
        "overdue": sum(i["is_overdue"] for i in items),
        "rectification_rate": round(len(closed) / found, 4) if found else 0.0,
        "major_open": sum(i["level"] == "major" for i in open_),
        "major_supervised": sum(i["level"] == "major" and i["supervised"] for i in open_),
        "stock_open": sum(i["stock"] for i in open_),
        "stock_cleared": sum(i["stock"] for i in closed),
        "median_days_to_close": (
            round(stats.median(days_to_close(i) for i in closed), 2) if closed else None
        ),
    }


def same(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    diffs = []
    for name, value in want.items():
        if name == "median_days_to_close" and value is not None and got[name] is not None:
            if abs(got[name] - value) > 0.011:
                diffs.append(f"{name}: {got[name]} != {value}")
        elif got[name] != value:
            diffs.append(f"{name}: {got[name]} != {value}")
    return diffs


# ---- the cases -----------------------------------------------------------------------------------

FILTERS = [
    "",
    "level=major",
    "level=general&source=inspection",
    "region_code=341302001",
    "sector=hazardous_chemicals",
    "found_at_from=2025-01-01&found_at_to=2025-12-31",
    "overdue=true",
    "stock=true",
    "status=closed",
    "supervised=true",
    "status=voided",
]
GROUPINGS = [
    "",
    "town",
    "sector",
    "level",
    "source",
    "month",
    "town,level",
    "sector,month",
    "level,source",
    "month,town",
]
ROLES = [
    "county_officer",
    "town_a_officer",
    "town_b_officer",
    "bureau_e_officer",
    "bureau_c_officer",
    "machine",
]


@pytest.mark.parametrize("actor", ROLES)
async def test_statistics_equal_the_list_for_every_filter_and_grouping(  # type: ignore[no-untyped-def]
    client, world: World, actor: str
) -> None:
    await build(client, world)
    problems: list[str] = []
    for raw in FILTERS:
        base = dict(parse_qsl(raw))
        items = await list_items(client, world, actor, base)
        # the totals row, figure by figure, from list totals under one more filter
        totals_want = {
            "found": await list_total(client, world, actor, base),
            "closed": await list_total(client, world, actor, base, status="closed"),
            "open": sum([await list_total(client, world, actor, base, status=s) for s in OPEN]),
            "overdue": await list_total(client, world, actor, base, overdue="true"),
            "major_open": sum(
                [
                    await list_total(client, world, actor, base, level="major", status=s)
                    for s in OPEN
                ]
            ),
            "major_supervised": sum(
                [
                    await list_total(
                        client, world, actor, base, level="major", supervised="true", status=s
                    )
                    for s in OPEN
                ]
            ),
            "stock_open": sum(
                [await list_total(client, world, actor, base, stock="true", status=s) for s in OPEN]
            ),
            "stock_cleared": await list_total(
                client, world, actor, base, stock="true", status="closed"
            ),
        }
        assert totals_want["found"] == len(items)
        whole = figures(items)
        assert {k: whole[k] for k in totals_want} == totals_want, raw
        for grouping in GROUPINGS:
            query = {**base, **({"group_by": grouping} if grouping else {})}
            r = await client.get(
                f"/api/v1/statistics/hazards?{urlencode(query)}", headers=world.h(actor)
            )
            assert r.status_code == 200, r.text
            body = r.json()
            groups = grouping.split(",") if grouping else []
            assert body["group_by"] == groups
            where = f"{actor} ?{raw} group_by={grouping}"
            problems += [f"{where} totals {d}" for d in same(body["totals"], whole)]
            buckets: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for item in items:
                buckets[tuple(group_value(item, g) for g in groups)].append(item)
            if not groups:
                # ungrouped: one row with an empty key, equal to the totals (none when empty)
                assert body["groups"] == ([body["totals"]] if items else []), where
                continue
            got_keys = [tuple(row["key"][g] for g in groups) for row in body["groups"]]
            if got_keys != sorted(buckets):
                problems.append(f"{where} keys {got_keys} != {sorted(buckets)}")
                continue
            for row in body["groups"]:
                key = tuple(row["key"][g] for g in groups)
                problems += [f"{where} {key} {d}" for d in same(row, figures(buckets[key]))]
                assert set(row["labels"]) == set(groups)
            assert sum(row["found"] for row in body["groups"]) == body["totals"]["found"]
    assert not problems, "\n".join(problems[:40])


async def test_expected_figures_for_the_county(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """The same data set with figures written out by hand."""
    await build(client, world)
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=town", headers=world.h("county_officer")
        )
    )
    t = body["totals"]
    # s5 is voided and counted nowhere
    assert (t["found"], t["closed"], t["open"]) == (9, 5, 4)
    assert t["rectification_rate"] == round(5 / 9, 4)
    assert (t["overdue"], t["major_open"], t["major_supervised"]) == (2, 2, 2)
    assert (t["stock_open"], t["stock_cleared"]) == (1, 1)
    towns = {row["key"]["town"]: row for row in body["groups"]}
    assert set(towns) == {TOWN_A, TOWN_B}
    assert towns[TOWN_A]["labels"]["town"] == "埇桥街道"
    assert towns[TOWN_B]["labels"]["town"] == "符离镇"
    a, b = towns[TOWN_A], towns[TOWN_B]
    assert (a["found"], a["closed"], a["open"], a["overdue"]) == (6, 4, 2, 0)
    assert (b["found"], b["closed"], b["open"], b["overdue"]) == (3, 1, 2, 2)
    assert (a["major_supervised"], b["major_supervised"]) == (1, 1)
    months = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=month&found_at_from=2025-01-01&found_at_to=2025-12-31",
            headers=world.h("county_officer"),
        )
    )
    # by the Shanghai calendar: s4 in February, s10 in December
    assert [(r["key"]["month"], r["found"]) for r in months["groups"]] == [
        ("2025-02", 1),
        ("2025-07", 1),
        ("2025-12", 1),
    ]
    levels = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=level,source", headers=world.h("county_officer")
        )
    )
    assert {(r["key"]["level"], r["key"]["source"]): r["found"] for r in levels["groups"]} == {
        ("general", "inspection"): 3,
        ("general", "self_inspection"): 1,
        ("general", "assigned"): 2,
        ("major", "assigned"): 1,
        ("major", "inspection"): 2,
    }
    labelled = {(r["labels"]["level"], r["labels"]["source"]) for r in levels["groups"]}
    assert ("一般事故隐患", "企业自查") in labelled
    assert ("重大事故隐患", "上级交办") in labelled


async def test_median_days_to_close_for_known_closings(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # closed now, found 10, 20 and 40 days ago (town A, town B, town A)
    for actor, enterprise, n in [
        ("town_a_officer", "ent_a1", 10),
        ("town_b_officer", "ent_b2", 20),
        ("town_a_officer", "ent_a2", 40),
    ]:
        h = await register(client, world, actor, enterprise, found_at=days_ago(n))
        await close(client, world, h["id"], actor, "county_officer")
    open_one = await register(client, world, "town_a_officer", "ent_a1", found_at=days_ago(5))
    assert open_one["status"] == "registered"
    body = await ok(
        await client.get("/api/v1/statistics/hazards?group_by=town", headers=world.h("admin"))
    )
    assert body["totals"]["median_days_to_close"] == pytest.approx(20, abs=0.01)
    towns = {row["key"]["town"]: row for row in body["groups"]}
    assert towns[TOWN_A]["median_days_to_close"] == pytest.approx(25, abs=0.01)
    assert towns[TOWN_B]["median_days_to_close"] == pytest.approx(20, abs=0.01)
    assert towns[TOWN_A]["rectification_rate"] == round(2 / 3, 4)
    assert towns[TOWN_B]["rectification_rate"] == 1.0
    nothing_closed = await ok(
        await client.get("/api/v1/statistics/hazards?status=registered", headers=world.h("admin"))
    )
    assert nothing_closed["totals"]["median_days_to_close"] is None
    assert nothing_closed["totals"]["rectification_rate"] == 0.0


async def test_town_officer_totals_exclude_other_towns(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    for actor, town, found in [("town_a_officer", TOWN_A, 6), ("town_b_officer", TOWN_B, 3)]:
        body = await ok(
            await client.get("/api/v1/statistics/hazards?group_by=town", headers=world.h(actor))
        )
        assert body["totals"]["found"] == found
        assert [row["key"]["town"] for row in body["groups"]] == [town]
        # asking for the other town yields nothing, not its figures
        other = TOWN_B if town == TOWN_A else TOWN_A
        body = await ok(
            await client.get(
                f"/api/v1/statistics/hazards?region_code={other}", headers=world.h(actor)
            )
        )
        assert body["totals"]["found"] == 0
        assert body["totals"]["rectification_rate"] == 0.0


async def test_empty_scope_gives_zero_figures(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await ok(
        await client.get(
            "/api/v1/statistics/hazards?group_by=town,level", headers=world.h("county_viewer")
        )
    )
    assert body["groups"] == []
    assert body["totals"]["found"] == 0
    assert body["totals"]["median_days_to_close"] is None


async def test_invalid_group_by_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for group_by in ("county", "Town", "town,", "town,sector,level", "town;level", "status", ""):
        r = await client.get(
            f"/api/v1/statistics/hazards?{urlencode({'group_by': group_by})}",
            headers=world.h("county_officer"),
        )
        assert r.status_code == 422, group_by
        assert r.json()["errors"][0]["field"] == "group_by"


async def test_invalid_filter_values_are_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for query in ("level=minor", "status=open", "region_code=x1", "found_at_from=never"):
        r = await client.get(f"/api/v1/statistics/hazards?{query}", headers=world.h("admin"))
        assert r.status_code == 422, query


async def test_enterprise_users_have_no_dashboard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor in ("ent_a1_manager", "ent_a1_staff", "ent_b1_manager"):
        r = await client.get("/api/v1/statistics/hazards", headers=world.h(actor))
        assert r.status_code == 403, actor
