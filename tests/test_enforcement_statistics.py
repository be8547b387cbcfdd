"""Enforcement figures (GET /api/v1/statistics/enforcement): every figure, for every role of the
world, against an oracle computed here from the rows written (scope: the enterprises a role
sees, plus the inspections it is listed on), and by hand for the county."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.services.catalog_data import DECISION_KINDS, INSPECTION_KINDS, SECTORS
from tests.conftest import World
from tests.inspection_rows import add_inspections

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/statistics/enforcement"
HIGH_RISK = {s.code for s in SECTORS if s.high_risk}
DONE = ("completed", "signed")
PENALTIES = {"suspension", "fine", "closure", "referral", "blacklist"}
ENTERPRISES = {
    # key: high-risk sector or red/orange (ent_a1 is neither)
    "ent_a1": ("341302001001", "industry_trade", False),
    "ent_a2": ("341302001002", "construction", True),
    "ent_b1": ("341302100201", "hazardous_chemicals", True),
    "ent_b2": ("341302100202", "road_transport", True),
}
SCOPE = {
    "admin": {"ent_a1", "ent_a2", "ent_b1", "ent_b2"},
    "county_officer": {"ent_a1", "ent_a2", "ent_b1", "ent_b2"},
    "county_viewer": {"ent_a1", "ent_a2", "ent_b1", "ent_b2"},
    "town_a_manager": {"ent_a1", "ent_a2"},
    "town_a_officer": {"ent_a1", "ent_a2"},
    "town_a_inspector": {"ent_a1", "ent_a2"},
    "town_a_viewer": {"ent_a1", "ent_a2"},
    "town_b_officer": {"ent_b1", "ent_b2"},
    "bureau_e_manager": {"ent_a1", "ent_b1"},
    "bureau_e_officer": {"ent_a1", "ent_b1"},
    "bureau_c_officer": {"ent_a2", "ent_b2"},
    "machine": {"ent_a1", "ent_a2"},
}
GOVERNMENT = tuple(SCOPE)
ENTERPRISE_USERS = ("ent_a1_manager", "ent_a1_staff", "ent_b1_manager")

# (name, enterprise, unit, kind, status, completed (local), findings, major, exempt,
#  entity fine fen, person fine fen, decisions, inspectors)
ROWS: list[tuple[Any, ...]] = [
    (
        "i1",
        "ent_a1",
        "town_a",
        "routine",
        "signed",
        "2026-10-15T10:00",
        2,
        1,
        0,
        0,
        0,
        ("rectification_order",),
        (),
    ),
    (
        "i2",
        "ent_a2",
        "bureau_c",
        "special_campaign",
        "completed",
        "2026-11-03T09:00",
        3,
        0,
        0,
        500000,
        100050,
        ("rectification_order", "fine"),
        (),
    ),
    (
        "i3",
        "ent_b1",
        "bureau_e",
        "double_random",
        "signed",
        "2026-11-20T15:00",
        1,
        0,
        1,
        0,
        0,
        ("no_issue",),
        (),
    ),
    (
        "i4",
        "ent_b1",
        "county",
        "unannounced",
        "completed",
        "2026-12-01T00:30",
        0,
        0,
        0,
        0,
        0,
        ("no_issue",),
        (),
    ),
    ("i5", "ent_b2", "town_b", "routine", "in_progress", None, 1, 0, 0, 0, 0, (), ()),
    ("i6", "ent_a1", None, "self_inspection", "signed", "2026-11-10T08:00", 1, 0, 0, 0, 0, (), ()),
    ("i7", "ent_a2", "bureau_c", "routine", "cancelled", None, 0, 0, 0, 0, 0, (), ()),
    (
        "i8",
        "ent_b2",
        "town_b",
        "follow_up",
        "signed",
        "2026-11-25T11:00",
        1,
        1,
        0,
        0,
        0,
        ("suspension",),
        (),
    ),
    (
        "i9",
        "ent_a1",
        "bureau_e",
        "expert_guidance",
        "completed",
        "2026-11-30T23:30",
        1,
        0,
        0,
        0,
        0,
        (),
        (),
    ),
    # cross-regional: town A's inspector on a town B enterprise (seen by that inspector only)
    (
        "i10",
        "ent_b1",
        "town_a",
        "cross_regional",
        "signed",
        "2026-10-31T23:59",
        2,
        0,
        0,
        0,
        0,
        ("rectification_order",),
        ("town_a_inspector",),
    ),
    ("i11", "ent_a1", "town_a", "double_random", "planned", None, 0, 0, 0, 0, 0, (), ()),
    (
        "i12",
        "ent_b2",
        "bureau_c",
        "routine",
        "signed",
        "2026-09-30T16:01",
        4,
        2,
        1,
        2000000,
        0,
        ("fine", "blacklist"),
        (),
    ),
]
COLUMNS = (
    "name",
    "ent",
    "unit",
    "kind",
    "status",
    "completed",
    "findings",
    "major",
    "exempt",
    "entity_fen",
    "person_fen",
    "decisions",
    "inspectors",
)


def local(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI) if text else None


@pytest.fixture
async def rows(app, world: World) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    records = [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]
    specs = [
        {
            "enterprise_id": world[r["ent"]],
            "unit": world[r["unit"]] if r["unit"] else None,
            "kind": r["kind"],
            "status": r["status"],
            "completed_at": local(r["completed"]),
            "findings": r["findings"],
            "major": r["major"],
            "exempt": r["exempt"],
            "entity_fine_fen": r["entity_fen"],
            "person_fine_fen": r["person_fen"],
            "decisions": r["decisions"],
            "inspectors": tuple(world[u] for u in r["inspectors"]),
        }
        for r in records
    ]
    for record, id_ in zip(records, await add_inspections(app, specs), strict=True):
        record["id"] = id_
    return records


async def get(client, world: World, actor: str, **query: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params=query, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


# ---- the oracle ------------------------------------------------------------------------------


def visible(actor: str, r: dict[str, Any]) -> bool:
    return r["ent"] in SCOPE[actor] or actor in r["inspectors"]


def selected(actor: str, rows: list[dict[str, Any]], f: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = f.get("kind") or [e.code for e in INSPECTION_KINDS if e.code != "self_inspection"]
    statuses = f.get("status") or list(DONE)
    out = []
    for r in rows:
        region, sector, _ = ENTERPRISES[r["ent"]]
        if not visible(actor, r) or r["kind"] not in kinds or r["status"] not in statuses:
            continue
        if "sector" in f and sector not in f["sector"]:
            continue
        if "region_code" in f and not region.startswith(f["region_code"]):
            continue
        if "has_findings" in f and (r["findings"] > 0) != f["has_findings"]:
            continue
        if "decision" in f and not set(r["decisions"]) & set(f["decision"]):
            continue
        if "completed_from" in f and not (
            r["completed"] and r["completed"][:10] >= f["completed_from"]
        ):
            continue
        out.append(r)
    return out


def group_value(dim: str, r: dict[str, Any], world: World) -> str:
    region, sector, _ = ENTERPRISES[r["ent"]]
    if dim == "town":
        return region[:9]
    if dim == "sector":
        return sector
    if dim == "kind":
        return r["kind"]
    if dim == "month":
        return r["completed"][:7] if r["completed"] else "none"
    return world[r["unit"]] if r["unit"] else "none"


def key_enterprises(actor: str, f: dict[str, Any]) -> list[str]:
    out = []
    for e in SCOPE[actor]:
        region, sector, key = ENTERPRISES[e]
        if not key:
            continue
        if "sector" in f and sector not in f["sector"]:
            continue
        if "region_code" in f and not region.startswith(f["region_code"]):
            continue
        out.append(e)
    return out


def yuan(fen: int) -> str:
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def figures(actor: str, sel: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    covered = {r["ent"] for r in sel}
    key_covered = covered & set(keys) & SCOPE[actor]
    decisions = {d.code: sum(1 for r in sel if d.code in r["decisions"]) for d in DECISION_KINDS}
    return {
        "inspections": len(sel),
        "enterprises_covered": len(covered),
        "key_enterprises": len(keys),
        "key_enterprises_covered": len(key_covered),
        "key_coverage_rate": round(len(key_covered) / len(keys), 4) if keys else 0.0,
        "findings": sum(r["findings"] for r in sel),
        "major_findings": sum(r["major"] for r in sel),
        "exempt_findings": sum(r["exempt"] for r in sel),
        "decisions": decisions,
        "entity_fines_yuan": yuan(sum(r["entity_fen"] for r in sel)),
        "person_fines_yuan": yuan(sum(r["person_fen"] for r in sel)),
    }


def measured(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in figures("admin", [], [])}


def zero_penalty(sel: list[dict[str, Any]], world: World) -> dict[str, int]:
    by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sel:
        enforcement = r["kind"] not in ("self_inspection", "expert_guidance")
        if enforcement and r["status"] in DONE and r["findings"] > r["exempt"] and r["unit"]:
            by_unit[world[r["unit"]]].append(r)
    return {
        unit: len(rs)
        for unit, rs in by_unit.items()
        if not any(set(r["decisions"]) & PENALTIES for r in rs)
    }


FILTERS: list[dict[str, Any]] = [
    {},
    {"status": ["completed"]},
    {"status": ["in_progress", "signed", "cancelled", "planned"]},
    {"kind": ["routine", "self_inspection"]},
    {"sector": ["construction", "road_transport"]},
    {"region_code": "341302100"},
    {"has_findings": True},
    {"has_findings": False},
    {"decision": ["fine", "suspension"]},
    {"completed_from": "2026-11-01"},
]
GROUPINGS = [
    [],
    ["town"],
    ["sector"],
    ["month"],
    ["kind"],
    ["conducting_unit"],
    ["town", "month"],
    ["conducting_unit", "sector"],
]


def query_of(f: dict[str, Any]) -> dict[str, Any]:
    q: dict[str, Any] = {}
    for k, v in f.items():
        if k == "completed_from":
            q["completed_at_from"] = v
        elif isinstance(v, list):
            q[k] = ",".join(v)
        elif isinstance(v, bool):
            q[k] = str(v).lower()
        else:
            q[k] = v
    return q


@pytest.mark.parametrize("actor", GOVERNMENT)
async def test_figures_equal_the_oracle_for_every_role_filter_and_grouping(  # type: ignore[no-untyped-def]
    client, world: World, rows, actor: str
) -> None:
    for f in FILTERS:
        sel = selected(actor, rows, f)
        keys = key_enterprises(actor, f)
        for groups in GROUPINGS:
            q = query_of(f)
            if groups:
                q["group_by"] = ",".join(groups)
            body = await get(client, world, actor, **q)
            where = (actor, f, groups)
            assert measured(body["totals"]) == figures(actor, sel, keys), where
            assert body["totals"]["key"] == {}
            ent_dims = [g for g in groups if g in ("town", "sector")]
            expected: dict[tuple[str, ...], dict[str, Any]] = {}
            buckets: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for r in sel:
                buckets[tuple(group_value(g, r, world) for g in groups)].append(r)
            if groups and len(ent_dims) == len(groups):
                for e in keys:  # enterprise groupings list key enterprises not inspected too
                    fake = {"ent": e, "kind": "", "completed": None, "unit": None}
                    buckets.setdefault(tuple(group_value(g, fake, world) for g in groups), [])
            for k, rs in buckets.items() if groups else []:
                ks = [
                    e
                    for e in keys
                    if all(
                        group_value(g, {"ent": e}, world) == k[groups.index(g)] for g in ent_dims
                    )
                ]
                expected[k] = figures(actor, rs, ks)
            got = {tuple(g["key"][d] for d in groups): measured(g) for g in body["groups"]}
            assert got == expected, where
            assert [tuple(g["key"][d] for d in groups) for g in body["groups"]] == sorted(got)
            zp = {z["unit"]["id"]: z["inspections_with_findings"] for z in body["zero_penalty"]}
            assert zp == zero_penalty(sel, world), where


async def test_county_figures_by_hand(client, world: World, rows) -> None:  # type: ignore[no-untyped-def]
    """The default selection: finished records of every kind but self-inspection (i1–i4, i8–i10,
    i12); ent_a1 is not a key enterprise, the three others are and are all inspected."""
    body = await get(client, world, "county_officer")
    t = body["totals"]
    assert body["implied_filters"]["status"] == "completed,signed"
    assert "self_inspection" not in body["implied_filters"]["kind"].split(",")
    assert (t["inspections"], t["enterprises_covered"]) == (8, 4)
    assert (t["key_enterprises"], t["key_enterprises_covered"], t["key_coverage_rate"]) == (
        3,
        3,
        1.0,
    )
    assert (t["findings"], t["major_findings"], t["exempt_findings"]) == (14, 4, 2)
    assert t["decisions"] == {
        "no_issue": 2,
        "rectification_order": 3,
        "suspension": 1,
        "fine": 2,
        "closure": 0,
        "referral": 0,
        "blacklist": 1,
    }
    assert (t["entity_fines_yuan"], t["person_fines_yuan"]) == ("25000.00", "1000.50")
    # town A: i1 and i10 with findings, a rectification order only; bureau E's exempt-only and
    # expert-guidance visits are no zero-penalty case; the others penalised or found nothing
    assert body["zero_penalty"] == [
        {"unit": {"id": world["town_a"], "name": "埇桥街道"}, "inspections_with_findings": 2}
    ]


async def test_month_is_local_and_labels_follow_the_language(client, world: World, rows) -> None:  # type: ignore[no-untyped-def]
    body = await get(client, world, "county_officer", group_by="month")
    months = {g["month"]: g["inspections"] for g in body["groups"]}
    # i10 at 23:59 on 31 October local is October although 15:59 UTC; i4 at 00:30 on 1 December
    assert months == {"2026-09": 1, "2026-10": 2, "2026-11": 4, "2026-12": 1}
    r = await client.get(
        URL,
        params={"group_by": "conducting_unit,kind", "kind": "routine,self_inspection"},
        headers=world.h("county_officer", **{"Accept-Language": "en"}),
    )
    labels = {tuple(g["key"].values()): g["labels"] for g in r.json()["groups"]}
    assert labels[("none", "self_inspection")] == {
        "conducting_unit": "The enterprise itself (self-inspection)",
        "kind": "Enterprise self-inspection",
    }
    assert labels[(world["town_a"], "routine")]["conducting_unit"] == "埇桥街道"
    zh = await get(client, world, "county_officer", group_by="town,sector")
    town = next(
        g for g in zh["groups"] if g["town"] == "341302100" and g["sector"] == "road_transport"
    )
    assert town["labels"] == {"town": "符离镇", "sector": "道路运输"}


async def test_a_key_enterprise_without_inspection_is_a_group_with_zero_coverage(  # type: ignore[no-untyped-def]
    client, world: World, rows
) -> None:
    body = await get(client, world, "county_officer", group_by="town", kind="unannounced")
    by_town = {g["town"]: g for g in body["groups"]}
    assert by_town["341302001"]["inspections"] == 0
    assert by_town["341302001"]["key_enterprises"] == 1  # ent_a2
    assert by_town["341302001"]["key_coverage_rate"] == 0.0
    assert by_town["341302100"]["key_enterprises_covered"] == 1  # ent_b1 by i4


@pytest.mark.parametrize("actor", ENTERPRISE_USERS)
async def test_enterprise_users_may_not_read_the_figures(client, world: World, actor: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL, headers=world.h(actor))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_experts_may_not_read_the_figures(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert

    await add_expert(client, world)
    for url, params in ((URL, {}), ("/api/v1/statistics/self-inspection", {"period": "2026-Q4"})):
        r = await client.get(url, params=params, headers=world.h("expert"))
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "query",
    [
        {"group_by": "bureau"},
        {"group_by": "town,month,kind"},
        {"kind": "audit"},
        {"status": "done"},
        {"decision": "warning"},
        {"region_code": "34a"},
        {"completed_at_from": "2026-13-01"},
        {"planned_for_to": "2026-01-01T00:00:00Z"},
        {"has_findings": "maybe"},
        {"sort": "planned_for"},
    ],
)
async def test_bad_queries_are_422(client, world: World, query: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params=query, headers=world.h("county_officer"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_no_inspections_gives_zeros_and_every_decision_kind(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await get(client, world, "town_b_officer", group_by="kind")
    assert body["groups"] == []
    t = body["totals"]
    assert t["inspections"] == 0 and t["key_enterprises"] == 2 and t["key_coverage_rate"] == 0.0
    assert t["decisions"] == {d.code: 0 for d in DECISION_KINDS}
    assert t["entity_fines_yuan"] == "0.00" and body["zero_penalty"] == []


# ---- the figures equal the inspection list (GET /api/v1/inspections) ---------------------------
LIST = "/api/v1/inspections"
# The machine client of the world reads statistics but not inspections: its figures are those
# of its unit's staff (town A), so they are compared with the list of a town A officer.
LISTED_AS = {"machine": "town_a_officer"}
LIST_FILTERS: list[dict[str, str]] = [
    {},
    {"status": "completed"},
    {"status": "planned,in_progress,cancelled,signed"},
    {"kind": "routine,self_inspection,cross_regional"},
    {"sector": "construction,hazardous_chemicals", "has_findings": "true"},
    {"region_code": "341302001"},
    {"decision": "rectification_order,no_issue"},
    {"completed_at_from": "2026-10-01", "completed_at_to": "2026-11-30"},
    {"conducting_unit_id": "town_a"},
]
MONTH_END = {"2026-09": "30", "2026-10": "31", "2026-11": "30", "2026-12": "31"}


async def listed(client, world: World, actor: str, query: dict[str, str]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every item of the list for ``query``, checking its ``total`` on the way."""
    items: list[dict[str, Any]] = []
    params = {**query, "limit": "500", "include_total": "true"}
    while True:
        r = await client.get(LIST, params=params, headers=world.h(actor))
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if not body["next_cursor"]:
            assert body["total"] == len(items)
            return items
        params["cursor"] = body["next_cursor"]


def group_filters(dim: str, value: str, world: World) -> dict[str, str] | None:
    """The list filter that selects one group (None: no filter says "self-inspection")."""
    if dim == "kind":
        return {"kind": value}
    if dim == "town":
        return {"region_code": value}
    if dim == "sector":
        return {"sector": value}
    if dim == "month":
        if value == "none":
            return None
        return {
            "completed_at_from": f"{value}-01",
            "completed_at_to": f"{value}-{MONTH_END[value]}",
        }
    return None if value == "none" else {"conducting_unit_id": value}


def narrowed(base: dict[str, str], extra: dict[str, str]) -> dict[str, str] | None:
    """``base`` and ``extra`` together, or None when they name the same parameter."""
    if set(base) & set(extra):
        return None
    return {**base, **extra}


@pytest.mark.parametrize("actor", GOVERNMENT)
async def test_figures_equal_the_inspection_list(client, world: World, rows, actor: str) -> None:  # type: ignore[no-untyped-def]
    reader = LISTED_AS.get(actor, actor)
    details: dict[str, dict[str, Any]] = {}
    for raw in LIST_FILTERS:
        f = {k: world[v] if k == "conducting_unit_id" else v for k, v in raw.items()}
        body = await get(client, world, actor, **f, group_by="kind")
        q = {**f, **body["implied_filters"]}
        items = await listed(client, world, reader, q)
        t = body["totals"]
        where = (actor, raw)
        assert t["inspections"] == len(items), where
        assert t["enterprises_covered"] == len({i["enterprise"]["id"] for i in items}), where
        for measure in ("findings", "major_findings", "exempt_findings"):
            assert t[measure] == sum(i[f"{measure}_count"] for i in items), (where, measure)
        for d in DECISION_KINDS:
            with_d = narrowed(q, {"decision": d.code})
            if with_d is not None:
                n = len(await listed(client, world, reader, with_d))
                assert t["decisions"][d.code] == n, (where, d.code)
            assert t["decisions"][d.code] == sum(d.code in i["decisions"] for i in items), where
        # fines: the sums of the inspections' own exact amounts
        for i in items:
            if i["id"] not in details:
                r = await client.get(f"{LIST}/{i['id']}", headers=world.h(reader))
                assert r.status_code == 200, r.text
                details[i["id"]] = r.json()
        for money in ("entity_fines_yuan", "person_fines_yuan"):
            total = sum((Decimal(details[i["id"]][money]) for i in items), Decimal("0.00"))
            assert Decimal(t[money]) == total, (where, money)
        # zero-penalty units, from the items
        by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i in items:
            if (
                i["kind"] not in ("self_inspection", "expert_guidance")
                and i["status"] in DONE
                and i["findings_count"] > i["exempt_findings_count"]
                and i["conducting_unit"]
            ):
                by_unit[i["conducting_unit"]["id"]].append(i)
        zero = {
            u: len(its)
            for u, its in by_unit.items()
            if not any(set(i["decisions"]) & PENALTIES for i in its)
        }
        assert {
            z["unit"]["id"]: z["inspections_with_findings"] for z in body["zero_penalty"]
        } == zero
        # each group is the list under the group's own filter
        for dim in ("kind", "town", "sector", "month", "conducting_unit"):
            grouped = body if dim == "kind" else await get(client, world, actor, **f, group_by=dim)
            for g in grouped["groups"]:
                extra = group_filters(dim, g["key"][dim], world)
                narrow = narrowed(q, extra) if extra is not None else None
                if narrow is None:
                    continue
                n = len(await listed(client, world, reader, narrow))
                assert g["inspections"] == n, (where, dim, g["key"])
