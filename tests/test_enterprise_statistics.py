"""`GET /api/v1/statistics/enterprises` equals the enterprise list for the same filters, for every
grouping and role; `with_open_major_hazards` equals what the hazard list says."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.conftest import World
from tests.hazard_helpers import act, register
from tests.test_hazard_statistics import ROLES, ok

GROUPS = ("town", "sector", "risk_color", "standardization_grade", "scale", "status")
FILTERS = [
    "",
    "sector=industry_trade,hazardous_chemicals",
    "risk_color=red,yellow",
    "status=operating",
    "region_code=341302100",
    "q=符离",
    "enforcement_department_id={bureau_c}",
]
GROUPINGS = [
    "",
    "town",
    "sector",
    "risk_color",
    "standardization_grade",
    "scale",
    "status",
    "town,risk_color",
    "scale,standardization_grade",
]


async def enterprise_items(
    client, world: World, actor: str, query: dict[str, str]
) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every page of the enterprise list, walked along its cursor."""
    items: list[dict[str, Any]] = []
    params = {**query, "limit": "2"}
    while True:
        r = await client.get(f"/api/v1/enterprises?{urlencode(params)}", headers=world.h(actor))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if not r.json()["next_cursor"]:
            return items
        params["cursor"] = r.json()["next_cursor"]


async def open_major_enterprises(client, world: World, actor: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Enterprises with an open major hazard, from the hazard list."""
    r = await client.get(
        "/api/v1/hazards?level=major&status=registered,rectifying,awaiting_acceptance&limit=500",
        headers=world.h("admin"),
    )
    assert r.status_code == 200 and r.json()["next_cursor"] is None
    return {item["enterprise"]["id"] for item in r.json()["items"]}


def value(item: dict[str, Any], group: str) -> str:
    if group == "town":
        return item["region_code"][:9]
    return item[group] or "unknown"


async def varied_world(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Scales and grades on some enterprises (others leave them empty), one suspended, and open
    major hazards at ent_a1 (twice) and ent_b1, a closed-out one at ent_a2 (voided)."""
    changes = {
        "ent_a1": {"scale": "small", "standardization_grade": "level_3"},
        "ent_a2": {"scale": "large", "standardization_grade": "level_2", "status": "suspended"},
        "ent_b1": {"scale": "small"},
    }
    for name, body in changes.items():
        url = f"/api/v1/enterprises/{world[name]}"
        etag = (await client.get(url, headers=world.h("admin"))).headers["etag"]
        r = await client.patch(url, json=body, headers={**world.h("admin"), "If-Match": etag})
        assert r.status_code == 200, r.text
    await register(client, world, "county_officer", "ent_a1", level="major")
    await register(client, world, "county_officer", "ent_a1", level="major")
    await register(client, world, "county_officer", "ent_a1")
    await register(client, world, "county_officer", "ent_b1", level="major")
    await register(client, world, "county_officer", "ent_b2")  # general only
    voided = await register(client, world, "county_officer", "ent_a2", level="major")
    r = await act(client, world, "county_officer", voided["id"], "void", reason="误登记")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("actor", [*ROLES, "admin", "county_viewer", "bureau_e_manager"])
async def test_enterprise_statistics_equal_the_enterprise_list(  # type: ignore[no-untyped-def]
    client, world: World, actor: str
) -> None:
    await varied_world(client, world)
    majors = await open_major_enterprises(client, world, actor)
    problems = []
    for raw in FILTERS:
        base = dict(parse_qsl(raw.format(bureau_c=world["bureau_c"])))
        items = await enterprise_items(client, world, actor, base)
        total = await client.get(
            f"/api/v1/enterprises?{urlencode({**base, 'include_total': 'true', 'limit': 1})}",
            headers=world.h(actor),
        )
        assert total.json()["total"] == len(items)
        for grouping in GROUPINGS:
            groups = grouping.split(",") if grouping else []
            query = {**base, **({"group_by": grouping} if grouping else {})}
            body = await ok(
                await client.get(
                    f"/api/v1/statistics/enterprises?{urlencode(query)}", headers=world.h(actor)
                )
            )
            where = f"{actor} ?{raw} group_by={grouping}"
            assert body["group_by"] == groups
            want: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for item in items:
                want[tuple(value(item, g) for g in groups)].append(item)
            t = body["totals"]
            if (t["enterprises"], t["with_open_major_hazards"]) != (
                len(items),
                sum(i["id"] in majors for i in items),
            ):
                problems.append(f"{where} totals {t}")
            keys = [tuple(row["key"][g] for g in groups) for row in body["groups"]]
            if keys != sorted(want):
                problems.append(f"{where} keys {keys} != {sorted(want)}")
                continue
            for row in body["groups"]:
                key = tuple(row["key"][g] for g in groups)
                got = (row["enterprises"], row["with_open_major_hazards"])
                expected = (len(want[key]), sum(i["id"] in majors for i in want[key]))
                if got != expected:
                    problems.append(f"{where} {key}: {got} != {expected}")
                assert set(row["labels"]) == set(groups)
    assert not problems, "\n".join(problems[:40])


async def test_expected_enterprise_figures_with_labels(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await varied_world(client, world)
    body = await ok(
        await client.get(
            "/api/v1/statistics/enterprises?group_by=risk_color", headers=world.h("county_officer")
        )
    )
    rows = {r["key"]["risk_color"]: r for r in body["groups"]}
    assert {k: (r["enterprises"], r["with_open_major_hazards"]) for k, r in rows.items()} == {
        "blue": (1, 0),  # ent_b2: general only
        "orange": (1, 0),  # ent_a2: its major hazard was voided
        "red": (1, 1),  # ent_b1
        "yellow": (1, 1),  # ent_a1: two open major hazards, one enterprise
    }
    assert rows["red"]["labels"]["risk_color"] == "红色（重大风险）"
    assert rows["red"]["risk_color"] == "red"
    assert (body["totals"]["enterprises"], body["totals"]["with_open_major_hazards"]) == (4, 2)
    grades = await ok(
        await client.get(
            "/api/v1/statistics/enterprises?group_by=standardization_grade,town",
            headers=world.h("county_officer", **{"Accept-Language": "en"}),
        )
    )
    got = {
        (r["key"]["standardization_grade"], r["key"]["town"]): (
            r["enterprises"],
            r["labels"]["standardization_grade"],
            r["standardization_grade"],
        )
        for r in grades["groups"]
    }
    assert got == {
        ("level_2", "341302001"): (1, "Standardisation grade 2", "level_2"),
        ("level_3", "341302001"): (1, "Standardisation grade 3", "level_3"),
        ("unknown", "341302100"): (2, "Not recorded", None),
    }
    town = {r["key"]["town"]: r["labels"]["town"] for r in grades["groups"]}
    assert town == {"341302001": "埇桥街道", "341302100": "符离镇"}
    status = await ok(
        await client.get(
            "/api/v1/statistics/enterprises?group_by=status&status=suspended",
            headers=world.h("county_officer"),
        )
    )
    assert [
        (r["key"]["status"], r["labels"]["status"], r["enterprises"]) for r in status["groups"]
    ] == [("suspended", "停产停业", 1)]


async def test_enterprise_statistics_answers_400s_and_403s_like_the_list(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    for query, field in (
        ("group_by=colour", "group_by"),
        ("group_by=town,sector,status", "group_by"),
        ("group_by=", "group_by"),
        ("risk_color=purple", "risk_color"),
        ("region_code=34x", "region_code"),
    ):
        r = await client.get(f"/api/v1/statistics/enterprises?{query}", headers=world.h("admin"))
        assert r.status_code == 422, query
        assert r.json()["errors"][0]["field"] == field
    r = await client.get("/api/v1/statistics/enterprises?limit=5", headers=world.h("admin"))
    assert r.status_code == 422 and r.json()["code"] == "unknown_parameter"
    r = await client.get(
        "/api/v1/statistics/enterprises?group_by=town&group_by=town", headers=world.h("admin")
    )
    assert r.status_code == 200 and r.json()["group_by"] == ["town"]
    for actor in ("ent_a1_manager", "ent_a1_staff", "ent_b1_manager"):
        r = await client.get("/api/v1/statistics/enterprises", headers=world.h(actor))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", actor
    r = await client.get("/api/v1/statistics/enterprises")
    assert r.status_code == 401


async def test_an_empty_scope_counts_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = await ok(
        await client.get(
            "/api/v1/statistics/enterprises?group_by=town&region_code=341302999",
            headers=world.h("county_officer"),
        )
    )
    assert body["groups"] == []
    assert (body["totals"]["enterprises"], body["totals"]["with_open_major_hazards"]) == (0, 0)
    assert body["totals"]["key"] == {} and body["totals"]["labels"] == {}
