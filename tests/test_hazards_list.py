"""Registering hazards, their numbers and computed flags, and the list: filters, sorts, cursors, scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import app.core.clock as clock
from tests.conftest import World
from tests.hazard_helpers import MAJOR_PLAN, act, enterprise_bounds_lifted, register, upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
JUDGMENT_CHEM = {
    "standard": "chemicals",
    "clause": "4",
    "text": "涉及重点监管危险化工工艺装置未实现自动化控制",
}
JUDGMENT_HOUSING = {"standard": "housing_municipal", "clause": "5.3", "text": None}


def today_local() -> date:
    return datetime.now(SHANGHAI).date()


def base_body(world: World, enterprise: str = "ent_a1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enterprise_id": world[enterprise],
        "title": "配电柜前堆放杂物",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
    }
    body.update(fields)
    return body


async def post(client, world: World, actor: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/hazards", json=body, headers=world.h(actor))


async def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


# ---- registration ------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["ent_a1_manager", "ent_a1_staff"])
async def test_enterprise_user_registers_a_self_found_hazard_for_its_own_enterprise(  # type: ignore[no-untyped-def]
    client, world: World, actor: str
) -> None:
    r = await post(client, world, actor, base_body(world, source="self_inspection"))
    assert r.status_code == 201, r.text
    h = r.json()
    assert r.headers["location"] == f"/api/v1/hazards/{h['id']}"
    assert r.headers["etag"]
    assert h["enterprise_id"] == world["ent_a1"]
    assert h["source"] == "self_inspection"
    assert h["found_by"]["id"] == world[actor]
    assert h["status"] == "registered"
    assert h["escalation"] == "none"
    assert h["supervised"] is False and h["supervision"] is None
    assert h["plan"] is None and h["judgment"] is None
    # default deadline: 30 days after discovery (local day)
    found_day = datetime.fromisoformat(h["found_at"]).astimezone(SHANGHAI).date()
    assert h["deadline"] == (found_day + timedelta(days=30)).isoformat()


@pytest.mark.parametrize("source", ["inspection", "assigned", "public_report"])
async def test_enterprise_user_may_register_only_self_inspection(  # type: ignore[no-untyped-def]
    client, world: World, source: str
) -> None:
    r = await post(client, world, "ent_a1_manager", base_body(world, source=source))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["source"]


@pytest.mark.parametrize("enterprise", ["ent_a2", "ent_b1"])
async def test_enterprise_user_cannot_register_for_another_enterprise(  # type: ignore[no-untyped-def]
    client, world: World, enterprise: str
) -> None:
    body = base_body(world, enterprise, source="self_inspection")
    r = await post(client, world, "ent_a1_manager", body)
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_enterprise"
    assert [e["field"] for e in r.json()["errors"]] == ["enterprise_id"]


IN_SCOPE_REGISTRATIONS = [
    ("town_a_officer", "ent_a1"),
    ("town_a_inspector", "ent_a2"),
    ("bureau_e_officer", "ent_b1"),
    ("bureau_c_officer", "ent_b2"),
    ("county_officer", "ent_b2"),
    ("admin", "ent_a1"),
]


async def test_government_registers_for_enterprises_in_its_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor, enterprise in IN_SCOPE_REGISTRATIONS:
        for source in ("inspection", "assigned"):
            r = await post(client, world, actor, base_body(world, enterprise, source=source))
            assert r.status_code == 201, (actor, enterprise, source, r.text)
            assert r.json()["source"] == source
            assert r.json()["enterprise_id"] == world[enterprise]
            assert r.json()["found_by"]["id"] == world[actor]


async def test_government_may_register_a_substantiated_public_report(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, "town_a_officer", base_body(world, source="public_report"))
    assert r.status_code == 201, r.text


async def test_government_cannot_register_a_self_inspection_hazard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, "town_a_officer", base_body(world, source="self_inspection"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["source"]


@pytest.mark.parametrize(
    ("actor", "enterprise"),
    [
        ("town_a_officer", "ent_b1"),
        ("town_b_officer", "ent_a1"),
        ("bureau_c_officer", "ent_a1"),
        ("bureau_e_officer", "ent_a2"),
    ],
)
async def test_government_cannot_register_outside_its_scope(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, enterprise: str
) -> None:
    r = await post(client, world, actor, base_body(world, enterprise))
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_enterprise"


@pytest.mark.parametrize("actor", ["town_a_viewer", "county_viewer", "machine"])
async def test_readers_cannot_register(client, world: World, actor: str) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, actor, base_body(world))
    assert r.status_code == 403
    listed = await client.get("/api/v1/hazards?include_total=true", headers=world.h("admin"))
    assert listed.json()["total"] == 0


async def test_major_hazard_needs_a_judgment_and_general_has_none(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, "town_a_officer", base_body(world, level="major"))
    assert r.status_code == 422
    assert r.json()["code"] == "judgment_required"
    assert [e["field"] for e in r.json()["errors"]] == ["judgment"]
    r = await post(client, world, "town_a_officer", base_body(world, judgment=JUDGMENT_CHEM))
    assert r.status_code == 422
    bad = {**JUDGMENT_CHEM, "standard": "made_up"}
    r = await post(client, world, "town_a_officer", base_body(world, level="major", judgment=bad))
    assert r.status_code == 422
    r = await post(
        client, world, "town_a_officer", base_body(world, level="major", judgment=JUDGMENT_CHEM)
    )
    assert r.status_code == 201
    assert r.json()["judgment"] == JUDGMENT_CHEM


INVALID_REGISTRATIONS = [
    ({"found_at": "2099-01-01T08:00:00+08:00"}, "found_at"),
    ({"found_at": "2025-03-01T08:00:00"}, "found_at"),  # naive: which clock?
    ({"found_at": "2025-03-01"}, "found_at"),
    ({"found_at": "2025-03-10T08:00:00+08:00", "deadline": "2025-03-09"}, "deadline"),
    ({"level": "minor"}, "level"),
    ({"source": "rumour"}, "source"),
    ({"category": "other"}, "category"),
    ({"title": ""}, "title"),
    ({"status": "closed"}, "status"),
    ({"number": "2025-000001"}, "number"),
    ({"enterprise_id": "no-such-enterprise"}, "enterprise_id"),
]


async def test_invalid_registration_is_422_with_the_field(client, world: World) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for fields, field in INVALID_REGISTRATIONS:
        r = await post(client, world, "town_a_officer", base_body(world, **fields))
        named = [e["field"] for e in r.json().get("errors", [])]
        if r.status_code != 422 or field not in named:
            wrong.append(f"{fields}: {r.status_code} {named}")
    assert not wrong, "\n".join(wrong)
    listed = await client.get("/api/v1/hazards?include_total=true", headers=world.h("admin"))
    assert listed.json()["total"] == 0


async def test_numbers_are_unique_consecutive_and_carry_the_year(client, world: World) -> None:  # type: ignore[no-untyped-def]
    year = today_local().year
    numbers = []
    for actor, enterprise in [
        ("town_a_officer", "ent_a1"),
        ("town_b_officer", "ent_b1"),
        ("ent_a1_staff", "ent_a1"),
        ("bureau_c_officer", "ent_b2"),
        ("county_officer", "ent_a2"),
    ]:
        numbers.append((await register(client, world, actor, enterprise))["number"])
        # a refused registration does not use up a number
        await post(client, world, "town_a_officer", base_body(world, level="major"))
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 6)]
    listed = await client.get("/api/v1/hazards?q=" + numbers[2], headers=world.h("admin"))
    assert [h["number"] for h in listed.json()["items"]] == [numbers[2]]


async def test_numbers_stay_unique_when_found_in_another_year(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await register(client, world, found_at="2023-03-01T09:00:00+08:00")
    b = await register(client, world)
    assert a["number"] != b["number"]
    assert a["number"] < b["number"]


# ---- computed flags ---------------------------------------------------------------------------


async def test_is_overdue_after_the_deadline_day_has_ended_locally(client, world: World) -> None:  # type: ignore[no-untyped-def]
    today = today_local()
    found = (today - timedelta(days=10)).isoformat() + "T09:00:00+08:00"
    due_yesterday = await register(
        client, world, found_at=found, deadline=(today - timedelta(days=1)).isoformat()
    )
    due_today = await register(client, world, found_at=found, deadline=today.isoformat())
    assert due_yesterday["is_overdue"] is True
    assert due_today["is_overdue"] is False
    listed = await client.get("/api/v1/hazards?overdue=true", headers=world.h("county_officer"))
    assert [h["id"] for h in listed.json()["items"]] == [due_yesterday["id"]]


class _FrozenClock(datetime):
    """``datetime`` for app.core.clock whose now() is a fixed instant."""

    moment = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)  # 2025-06-11 01:00 in Shanghai

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        return cls.moment.astimezone(tz) if tz else cls.moment.replace(tzinfo=None)

    @classmethod
    def combine(cls, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return datetime.combine(*args, **kwargs)


async def test_overdue_is_judged_by_the_shanghai_day_not_the_utc_day(  # type: ignore[no-untyped-def]
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = "2025-06-01T10:00:00+08:00"
    late = await register(client, world, found_at=found, deadline="2025-06-10")
    due = await register(client, world, found_at=found, deadline="2025-06-11")
    monkeypatch.setattr(clock, "datetime", _FrozenClock)
    # at 17:00 UTC on 10 June it is already 11 June in Shanghai: the 10 June deadline has passed
    got = {
        h["id"]: h["is_overdue"]
        for h in (await client.get("/api/v1/hazards", headers=world.h("county_officer"))).json()[
            "items"
        ]
    }
    assert got == {late["id"]: True, due["id"]: False}
    detail = (await client.get(f"/api/v1/hazards/{late['id']}", headers=world.h("admin"))).json()
    assert detail["is_overdue"] is True
    assert "escalate" in detail["allowed_actions"]
    overdue = await client.get("/api/v1/hazards?overdue=true", headers=world.h("county_officer"))
    assert [h["id"] for h in overdue.json()["items"]] == [late["id"]]
    stats = await client.get("/api/v1/statistics/hazards", headers=world.h("county_officer"))
    assert stats.json()["totals"]["overdue"] == 1
    r = await act(client, world, "county_officer", late["id"], "escalate", note="函告")
    assert r.status_code == 200, r.text
    r = await act(client, world, "county_officer", due["id"], "escalate", note="函告")
    assert r.status_code == 409


STOCK = [
    ("2023-06-01T09:00:00+08:00", True),
    ("2023-12-31T23:59:59+08:00", True),
    ("2023-12-31T15:59:59Z", True),
    ("2024-01-01T00:00:00+08:00", False),
    ("2023-12-31T16:30:00Z", False),  # already 1 January in Shanghai
    ("2025-05-01T09:00:00+08:00", False),
]


async def test_stock_means_found_before_2024_in_shanghai(client, world: World) -> None:  # type: ignore[no-untyped-def]
    want: dict[str, bool] = {}
    for found_at, stock in STOCK:
        h = await register(client, world, found_at=found_at)
        assert h["stock"] is stock, found_at
        want[h["id"]] = stock
    for flag in (True, False):
        items = await list_all(client, world, "admin", f"stock={str(flag).lower()}")
        assert {i["id"] for i in items} == {k for k, v in want.items() if v is flag}
        assert all(i["stock"] is flag for i in items)


# ---- a small data set for filters, sorts and scope --------------------------------------------


async def build(client, world: World) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Six hazards over the four enterprises, in every state (h5 voided)."""
    hz: dict[str, dict[str, Any]] = {}
    hz["h1"] = await register(
        client,
        world,
        "town_a_officer",
        "ent_a1",
        title="车间防护栏破损",
        found_at="2023-06-01T10:00:00+08:00",
        deadline="2023-07-01",
    )
    with enterprise_bounds_lifted(world.settings):  # registered back then, before the bounds
        h2 = await register(
            client,
            world,
            "ent_a1_staff",
            "ent_a1",
            title="灭火器过期",
            found_at="2025-03-01T09:00:00+08:00",
            deadline="2099-12-31",
        )
    photo = await upload(client, world, "ent_a1_staff")
    hz["h2"] = await ok(
        await act(client, world, "ent_a1_staff", h2["id"], "fix_on_spot", attachment_ids=[photo])
    )
    h3 = await register(
        client,
        world,
        "town_a_officer",
        "ent_a2",
        title="深基坑支护变形",
        level="major",
        source="assigned",
        judgment=JUDGMENT_HOUSING,
        found_at="2024-05-05T10:00:00+08:00",
        deadline="2098-05-01",
    )
    await ok(
        await act(
            client,
            world,
            "county_officer",
            h3["id"],
            "supervise",
            supervisor_user_id=world["county_officer"],
        )
    )
    hz["h3"] = await ok(
        await act(
            client,
            world,
            "town_a_officer",
            h3["id"],
            "plan",
            plan={**MAJOR_PLAN, "deadline": "2098-04-30"},
        )
    )
    h4 = await register(
        client,
        world,
        "county_officer",
        "ent_b1",
        title="反应釜未装自动化控制",
        level="major",
        judgment=JUDGMENT_CHEM,
        found_at="2025-01-10T00:30:00+08:00",  # 9 January in UTC
        deadline="2025-02-01",
    )
    await ok(
        await act(
            client,
            world,
            "ent_b1_manager",
            h4["id"],
            "plan",
            plan={**MAJOR_PLAN, "deadline": "2025-02-01"},
        )
    )
    evidence = await upload(client, world, "ent_b1_manager")
    hz["h4"] = await ok(
        await act(client, world, "ent_b1_manager", h4["id"], "complete", attachment_ids=[evidence])
    )
    h5 = await register(
        client,
        world,
        "town_b_officer",
        "ent_b2",
        title="车辆超载",
        source="public_report",
        found_at="2025-06-01T10:00:00+08:00",
        deadline="2099-01-01",
    )
    hz["h5"] = await ok(
        await act(client, world, "town_b_officer", h5["id"], "void", reason="重复登记")
    )
    hz["h6"] = await register(
        client,
        world,
        "bureau_c_officer",
        "ent_b2",
        title="配电箱未接地",
        location="二号仓库",
        found_at="2025-06-15T10:00:00+08:00",
        deadline="2099-06-30",
    )
    return hz


async def list_all(client, world: World, actor: str, query: str = "") -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every page of the list, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        url = "/api/v1/hazards?limit=2" + (f"&{query}" if query else "")
        if cursor:
            url += f"&cursor={cursor}"
        r = await client.get(url, headers=world.h(actor))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def labels(hz: dict[str, dict[str, Any]], items: list[dict[str, Any]]) -> set[str]:
    by_id = {h["id"]: name for name, h in hz.items()}
    names = [by_id[i["id"]] for i in items]
    assert len(names) == len(set(names)), f"duplicates in {names}"
    return set(names)


# Expected answers, by hand: h1 ent_a1 general inspection registered (stock, overdue);
# h2 ent_a1 general self_inspection closed; h3 ent_a2 major assigned rectifying (supervised);
# h4 ent_b1 major inspection awaiting_acceptance (overdue); h5 ent_b2 voided; h6 ent_b2 registered.
FILTERS = [
    ("", {"h1", "h2", "h3", "h4", "h6"}),
    ("status=registered", {"h1", "h6"}),
    ("status=rectifying", {"h3"}),
    ("status=awaiting_acceptance", {"h4"}),
    ("status=closed", {"h2"}),
    ("status=voided", {"h5"}),
    ("level=major", {"h3", "h4"}),
    ("level=general", {"h1", "h2", "h6"}),
    ("source=inspection", {"h1", "h4", "h6"}),
    ("source=self_inspection", {"h2"}),
    ("source=assigned", {"h3"}),
    ("source=public_report", set()),
    ("source=public_report&status=voided", {"h5"}),
    ("region_code=341302", {"h1", "h2", "h3", "h4", "h6"}),
    ("region_code=341302001", {"h1", "h2", "h3"}),
    ("region_code=341302100", {"h4", "h6"}),
    ("region_code=341302100201", {"h4"}),
    ("region_code=34130210020", {"h4", "h6"}),
    ("region_code=341303", set()),
    ("sector=industry_trade", {"h1", "h2"}),
    ("sector=construction", {"h3"}),
    ("sector=hazardous_chemicals", {"h4"}),
    ("sector=road_transport", {"h6"}),
    ("sector=fireworks", set()),
    ("overdue=true", {"h1", "h4"}),
    ("overdue=false", {"h2", "h3", "h6"}),
    ("stock=true", {"h1"}),
    ("stock=false", {"h2", "h3", "h4", "h6"}),
    ("supervised=true", {"h3"}),
    ("supervised=false", {"h1", "h2", "h4", "h6"}),
    ("found_at_from=2025-01-01", {"h2", "h4", "h6"}),
    ("found_at_to=2024-12-31", {"h1", "h3"}),
    # dates are local days: h4 was found at 00:30 on 10 January in Shanghai (9 January UTC)
    ("found_at_from=2025-01-10&found_at_to=2025-01-10", {"h4"}),
    ("found_at_to=2025-01-09", {"h1", "h3"}),
    ("found_at_from=2025-01-09T16:30:00Z", {"h2", "h4", "h6"}),
    ("found_at_from=2025-01-09T16:30:01Z", {"h2", "h6"}),
    ("found_at_to=2025-01-10T00:30:00%2B08:00", {"h1", "h3", "h4"}),
    ("deadline_from=2099-01-01", {"h2", "h6"}),
    ("deadline_to=2025-02-01", {"h1", "h4"}),
    ("deadline_from=2025-02-01&deadline_to=2098-05-01", {"h3", "h4"}),
    ("q=配电箱", {"h6"}),
    ("q=二号仓库", {"h6"}),
    ("q=符离化工", {"h4"}),
    ("q=%25", set()),
    ("q=_", set()),
    ("level=major&region_code=341302100", {"h4"}),
    ("level=general&overdue=true&stock=true", {"h1"}),
    ("status=closed&sector=construction", set()),
]


async def test_every_filter_selects_exactly_the_matching_hazards(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    wrong = []
    for query, expected in FILTERS:
        got = labels(hz, await list_all(client, world, "county_officer", query))
        r = await client.get(
            f"/api/v1/hazards?include_total=true&limit=1&{query}",
            headers=world.h("county_officer"),
        )
        if got != expected or r.json()["total"] != len(expected):
            wrong.append(
                f"?{query}: {sorted(got)} total {r.json()['total']}, want {sorted(expected)}"
            )
    assert not wrong, "\n".join(wrong)


async def test_filters_by_enterprise_and_by_number(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    for ent, expected in [("ent_a1", {"h1", "h2"}), ("ent_b2", {"h6"}), ("ent_a2", {"h3"})]:
        items = await list_all(client, world, "admin", f"enterprise_id={world[ent]}")
        assert labels(hz, items) == expected
    items = await list_all(client, world, "admin", f"q={hz['h3']['number']}")
    assert labels(hz, items) == {"h3"}


BAD_QUERIES = [
    "status=open",
    "level=minor",
    "source=x",
    "sector=nowhere",
    "region_code=abc",
    "overdue=maybe",
    "found_at_from=yesterday",
    "found_at_from=2025-01-01T08:00:00",  # naive date-time
    "deadline_to=2025-13-01",
    "sort=title",
    "sort=-enterprise",
    "limit=0",
    "limit=501",
    "cursor=not-a-cursor",
]


async def test_unknown_filter_values_are_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for query in BAD_QUERIES:
        r = await client.get(f"/api/v1/hazards?{query}", headers=world.h("county_officer"))
        assert r.status_code == 422, (query, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_sorts_in_both_directions_across_pages(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    # two hazards with the same deadline and found_at as h6, to exercise the id tie-break
    for _ in range(2):
        await register(
            client,
            world,
            "county_officer",
            "ent_b2",
            found_at="2025-06-15T10:00:00+08:00",
            deadline="2099-06-30",
        )
    everyone = await list_all(client, world, "county_officer")
    assert len(everyone) == 7
    for field, descending in [
        (f, d) for f in ("found_at", "deadline", "updated_at") for d in (0, 1)
    ]:
        sort = ("-" if descending else "") + field
        items = await list_all(client, world, "county_officer", f"sort={sort}")
        assert [i["id"] for i in items] != [] and len(items) == 7
        assert len({i["id"] for i in items}) == 7, "a hazard appeared on two pages"
        keys = [
            (datetime.fromisoformat(i[field]) if field != "deadline" else i[field], i["id"])
            for i in items
        ]
        assert keys == sorted(keys, reverse=bool(descending)), sort


async def test_default_order_is_newest_found_first(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    items = await list_all(client, world, "admin")
    assert [i["id"] for i in items] == [hz[n]["id"] for n in ("h6", "h2", "h4", "h3", "h1")]


async def test_cursor_is_stable_under_concurrent_inserts(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    first = (await client.get("/api/v1/hazards?limit=2", headers=world.h("admin"))).json()
    assert [i["id"] for i in first["items"]] == [hz["h6"]["id"], hz["h2"]["id"]]
    # a newer and an older hazard arrive while the client pages
    await register(client, world, "county_officer", "ent_b1")
    older = await register(client, world, found_at="2020-01-01T09:00:00+08:00")
    rest: list[dict[str, Any]] = []
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get(f"/api/v1/hazards?limit=2&cursor={cursor}", headers=world.h("admin"))
        ).json()
        rest += page["items"]
        cursor = page["next_cursor"]
    assert [i["id"] for i in rest] == [hz["h4"]["id"], hz["h3"]["id"], hz["h1"]["id"], older["id"]]


async def test_a_cursor_belongs_to_its_sort(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    page = (
        await client.get("/api/v1/hazards?limit=2&sort=deadline", headers=world.h("admin"))
    ).json()
    r = await client.get(
        f"/api/v1/hazards?limit=2&sort=found_at&cursor={page['next_cursor']}",
        headers=world.h("admin"),
    )
    assert r.status_code == 422


SCOPE = {
    "admin": {"h1", "h2", "h3", "h4", "h6"},
    "county_officer": {"h1", "h2", "h3", "h4", "h6"},
    "county_viewer": {"h1", "h2", "h3", "h4", "h6"},
    "town_a_officer": {"h1", "h2", "h3"},
    "town_a_viewer": {"h1", "h2", "h3"},
    "town_b_officer": {"h4", "h6"},
    # bureau E: its sectors (industry_trade, hazardous_chemicals) and the enterprises naming it
    "bureau_e_officer": {"h1", "h2", "h4"},
    # bureau C: construction, plus ent_b2 (road transport) which names it
    "bureau_c_officer": {"h3", "h6"},
    "ent_a1_manager": {"h1", "h2"},
    "ent_a1_staff": {"h1", "h2"},
    "ent_b1_manager": {"h4"},
    "machine": {"h1", "h2", "h3"},  # bound to town A
}
# h5 (ent_b2, voided): listed only with status=voided, and only by those who see ent_b2
SEES_VOIDED_H5 = {"admin", "county_officer", "county_viewer", "town_b_officer", "bureau_c_officer"}


async def test_each_role_lists_and_reads_exactly_its_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    for actor, expected in SCOPE.items():
        items = await list_all(client, world, actor)
        assert labels(hz, items) == expected, actor
        total = await client.get("/api/v1/hazards?include_total=true", headers=world.h(actor))
        assert total.json()["total"] == len(expected), actor
        voided = await list_all(client, world, actor, "status=voided")
        assert labels(hz, voided) == ({"h5"} if actor in SEES_VOIDED_H5 else set()), actor
        for name, h in hz.items():
            r = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor))
            in_scope = name in expected or (name == "h5" and actor in SEES_VOIDED_H5)
            assert r.status_code == (200 if in_scope else 404), (actor, name)
            e = await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h(actor))
            assert e.status_code == (200 if in_scope else 404), (actor, name)


async def test_filters_cannot_widen_the_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    for query in (f"enterprise_id={world['ent_b1']}", "region_code=341302100", "q=符离"):
        assert await list_all(client, world, "town_a_officer", query) == [], query
    assert labels(hz, await list_all(client, world, "ent_a1_manager", "region_code=3413")) == {
        "h1",
        "h2",
    }


async def test_list_items_carry_the_callers_allowed_actions(client, world: World) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    for actor in ("county_officer", "town_a_viewer", "ent_a1_manager", "machine"):
        for item in await list_all(client, world, actor):
            detail = (
                await client.get(f"/api/v1/hazards/{item['id']}", headers=world.h(actor))
            ).json()
            assert item["allowed_actions"] == detail["allowed_actions"], (actor, item["number"])
            assert item["is_overdue"] == detail["is_overdue"]
            assert item["stock"] == detail["stock"]
    viewer = await list_all(client, world, "town_a_viewer")
    assert all(i["allowed_actions"] == [] for i in viewer)
    assert labels(hz, viewer) == {"h1", "h2", "h3"}
