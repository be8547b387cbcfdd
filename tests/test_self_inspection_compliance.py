"""Self-inspection compliance (GET /api/v1/statistics/self-inspection): who is behind with the
principal's self-inspection (monthly in high-risk sectors, quarterly otherwise), for every
role of the world, on a frozen day (15 November 2026, local)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core import clock
from app.models import Enterprise
from tests.conftest import World, credit
from tests.inspection_rows import add_inspections

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/statistics/self-inspection"
ALL = {"ent_a1", "ent_a2", "ent_a3", "ent_b1", "ent_b2"}
SCOPE = {
    "admin": ALL,
    "county_officer": ALL,
    "county_viewer": ALL,
    "town_a_manager": {"ent_a1", "ent_a2", "ent_a3"},
    "town_a_officer": {"ent_a1", "ent_a2", "ent_a3"},
    "town_a_inspector": {"ent_a1", "ent_a2", "ent_a3"},
    "town_a_viewer": {"ent_a1", "ent_a2", "ent_a3"},
    "town_b_officer": {"ent_b1", "ent_b2"},
    "bureau_e_manager": {"ent_a1", "ent_b1", "ent_a3"},  # ent_a3 names bureau E
    "bureau_e_officer": {"ent_a1", "ent_b1", "ent_a3"},
    "bureau_c_officer": {"ent_a2", "ent_b2"},
    "machine": {"ent_a1", "ent_a2", "ent_a3"},
}
# For 2026-Q4 on 15 November: the months October and November, the quarter Q4.
BEHIND_Q4 = {
    "ent_a2": ("monthly", ["2026-11"], "2026-10-31"),
    "ent_b1": ("monthly", ["2026-10", "2026-11"], "2026-09-28"),
    "ent_a3": ("quarterly", ["2026-Q4"], None),
}


class _Frozen(datetime):
    moment = datetime(2026, 11, 15, 4, 0, tzinfo=UTC)  # 12:00 on 15 November in Shanghai

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        return cls.moment.astimezone(tz) if tz else cls.moment.replace(tzinfo=None)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
async def records(app, world: World, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        extra = {
            # town A, commerce (not high-risk: quarterly), designated to bureau E; none ever
            "ent_a3": Enterprise(
                name="埇桥商贸有限公司",
                credit_code=credit(5),
                region_code="341302001003",
                sector="commerce",
                enforcement_department_id=world["bureau_e"],
                status="operating",
            ),
            # suspended: not required to self-inspect while it does not operate
            "ent_a4": Enterprise(
                name="埇桥停产企业",
                credit_code=credit(6),
                region_code="341302001004",
                sector="construction",
                enforcement_department_id=world["bureau_c"],
                status="suspended",
            ),
        }
        s.add_all(extra.values())
        await s.commit()
    for k, e in extra.items():
        world.ids[k] = e.id

    def self_insp(ent: str, when: str, status: str = "signed", kind: str = "self_inspection"):  # type: ignore[no-untyped-def]
        unit = None if kind == "self_inspection" else world["town_a"]
        return {
            "enterprise_id": world[ent],
            "unit": unit,
            "kind": kind,
            "status": status,
            "completed_at": local(when),
        }

    await add_inspections(
        app,
        [
            self_insp("ent_a1", "2026-10-20T10:00"),  # quarterly: Q4 done
            self_insp("ent_a2", "2026-10-31T23:30", status="completed"),  # October, locally
            self_insp("ent_a2", "2026-11-10T10:00", status="in_progress"),  # not finished
            self_insp("ent_a2", "2026-11-12T10:00", kind="routine"),  # a government visit
            self_insp("ent_b1", "2026-09-28T09:00"),  # Q3 only
            self_insp("ent_b2", "2026-10-02T09:00"),
            self_insp("ent_b2", "2026-11-01T00:10"),
        ],
    )
    monkeypatch.setattr(clock, "datetime", _Frozen)
    return world


async def get(client, world: World, actor: str, **query: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params=query, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("actor", tuple(SCOPE))
async def test_behind_enterprises_and_totals_for_every_role(  # type: ignore[no-untyped-def]
    client, records: World, actor: str
) -> None:
    w = records
    body = await get(client, w, actor, period="2026-Q4", include_total="true")
    names = {w[k]: k for k in ALL}
    want = {k: v for k, v in BEHIND_Q4.items() if k in SCOPE[actor]}
    got = {
        names[i["enterprise"]["id"]]: (
            i["required_frequency"],
            i["missing"],
            i["last_self_inspection_on"],
        )
        for i in body["items"]
    }
    assert got == want
    assert body["total"] == len(want)
    assert (body["period_start"], body["period_end"]) == ("2026-10-01", "2026-12-31")
    assert body["required"] == {"monthly": ["2026-10", "2026-11"], "quarterly": ["2026-Q4"]}
    assert body["enterprises"] == len(SCOPE[actor]) and body["behind"] == len(want)
    towns: dict[str, list[int]] = {}
    for k in SCOPE[actor]:
        t = towns.setdefault("341302001" if "_a" in k else "341302100", [0, 0])
        t[0] += 1
        t[1] += k in want
    assert {t["key"]: [t["enterprises"], t["behind"]] for t in body["by_town"]} == towns
    assert sum(s["enterprises"] for s in body["by_sector"]) == len(SCOPE[actor])
    region = [i["region_code"] for i in body["items"]]
    assert region == sorted(region)


async def test_a_month_checks_its_quarter_for_quarterly_enterprises(client, records: World) -> None:  # type: ignore[no-untyped-def]
    body = await get(client, records, "county_officer", period="2026-11", sort="name")
    got = {i["enterprise"]["name"]: i["missing"] for i in body["items"]}
    assert got == {
        "宿州城建工程有限公司": ["2026-11"],
        "符离化工有限公司": ["2026-11"],
        "埇桥商贸有限公司": ["2026-Q4"],
    }
    assert body["required"] == {"monthly": ["2026-11"], "quarterly": ["2026-Q4"]}
    by_sector = {s["key"]: (s["label"], s["enterprises"], s["behind"]) for s in body["by_sector"]}
    assert by_sector["hazardous_chemicals"] == ("危险化学品", 1, 1)
    assert by_sector["industry_trade"] == ("工贸", 1, 0)
    assert {t["key"]: t["label"] for t in body["by_town"]} == {
        "341302001": "埇桥街道",
        "341302100": "符离镇",
    }


async def test_a_past_quarter_checks_each_of_its_months(client, records: World) -> None:  # type: ignore[no-untyped-def]
    body = await get(client, records, "town_b_officer", period="2026-Q3")
    got = {i["enterprise"]["name"]: i["missing"] for i in body["items"]}
    assert got == {
        "符离化工有限公司": ["2026-07", "2026-08"],
        "符离运输有限公司": ["2026-07", "2026-08", "2026-09"],
    }


async def test_a_period_not_begun_has_nobody_behind(client, records: World) -> None:  # type: ignore[no-untyped-def]
    body = await get(client, records, "county_officer", period="2026-12", include_total="true")
    assert body["items"] == [] and body["total"] == 0 and body["behind"] == 0
    # December has not begun: not even the quarterly ones are judged on Q4 through it
    assert body["required"] == {"monthly": [], "quarterly": []}
    assert body["enterprises"] == 5


async def test_pages_with_a_cursor_and_filters(client, records: World) -> None:  # type: ignore[no-untyped-def]
    seen, cursor = [], None
    while True:
        q: dict[str, Any] = {"period": "2026-Q4", "limit": 1}
        if cursor:
            q["cursor"] = cursor
        body = await get(client, records, "admin", **q)
        seen += [i["enterprise"]["id"] for i in body["items"]]
        assert "total" not in body
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(records[k] for k in BEHIND_Q4) and len(seen) == 3
    body = await get(client, records, "admin", period="2026-Q4", sector="commerce,industry_trade")
    assert [i["enterprise"]["id"] for i in body["items"]] == [records["ent_a3"]]
    assert body["enterprises"] == 2
    body = await get(client, records, "admin", period="2026-Q4", region_code="341302100")
    assert [i["enterprise"]["id"] for i in body["items"]] == [records["ent_b1"]]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"period": "2026-13"},
        {"period": "2026-Q5"},
        {"period": "2026Q4"},
        {"period": "2026-11-01"},
        {"period": "2026-Q4", "sort": "last_self_inspection_on"},
        {"period": "2026-Q4", "cursor": "garbage"},
        {"period": "2026-Q4", "sector": "bakery"},
        {"period": "2026-Q4", "kind": "routine"},
    ],
)
async def test_bad_queries_are_422(client, world: World, query: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params=query, headers=world.h("county_officer"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("actor", ["ent_a1_manager", "ent_a1_staff", "ent_b1_manager"])
async def test_enterprise_users_may_not_read_it(client, world: World, actor: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params={"period": "2026-Q4"}, headers=world.h(actor))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
