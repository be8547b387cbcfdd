"""Enterprises cannot defeat overdue marking (issue 8, item 17).

An enterprise extends a general hazard on its own at most once (ANJIAN_ENTERPRISE_EXTENSIONS_MAX)
and by at most 30 days (ANJIAN_ENTERPRISE_EXTENSION_MAX_DAYS); then only government extends, as
often as it decides. Deadlines set by enterprise users lie at most 180 (general) / 365 (major)
days after discovery, and they register what they found in the last 30 days. Government may set
a later deadline with a ``deadline_reason`` and registers older findings (stock).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core.config import Settings
from tests.conftest import World
from tests.hazard_helpers import act, register

SHANGHAI = ZoneInfo("Asia/Shanghai")


def day(value: str, plus: int = 0) -> str:
    return (date.fromisoformat(value) + timedelta(days=plus)).isoformat()


def days_ago(n: float) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat()


def today() -> date:
    return datetime.now(SHANGHAI).date()


async def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


async def get(client, world: World, actor: str, hazard_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


async def listed(client, world: World, actor: str, hazard_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/hazards?limit=500", headers=world.h(actor))
    [row] = [h for h in r.json()["items"] if h["id"] == hazard_id]
    return row


def body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "enterprise_id": world["ent_a1"],
        "title": "灭火器过期",
        "level": "general",
        "source": "self_inspection",
        "category": "unsafe_condition",
        **fields,
    }


async def post(client, world: World, actor: str, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/hazards", json=payload, headers=world.h(actor))


@pytest.fixture
def configured(settings: Settings) -> Iterator[Settings]:
    """Settings a test may change; restored afterwards."""
    names = [n for n in Settings.model_fields if n.startswith("enterprise_")]
    saved = {n: getattr(settings, n) for n in names}
    yield settings
    for n, v in saved.items():
        setattr(settings, n, v)


# ---- extensions ---------------------------------------------------------------------------------


async def test_enterprise_extends_once_by_at_most_30_days_then_only_government(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world, "ent_a1_staff")
    hid, deadline = h["id"], h["deadline"]
    assert "extend" in h["allowed_actions"]
    # the report: a deadline in year 9999 was 200
    r = await act(client, world, "ent_a1_staff", hid, "extend", deadline="9999-12-31", reason="x")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "deadline"
    r = await act(client, world, "ent_a1_staff", hid, "extend", deadline="2999-12-31", reason="x")
    assert r.status_code == 422
    assert r.json()["code"] == "extension_too_long"
    assert [e["field"] for e in r.json()["errors"]] == ["deadline"]
    r = await act(
        client, world, "ent_a1_manager", hid, "extend", deadline=day(deadline, 31), reason="x"
    )
    assert r.status_code == 422 and r.json()["code"] == "extension_too_long"

    done = await ok(
        await act(
            client, world, "ent_a1_staff", hid, "extend", deadline=day(deadline, 30), reason="备件"
        )
    )
    assert done["deadline"] == day(deadline, 30)
    # used up: gone from allowed_actions for both enterprise roles, in the detail and the list
    assert "extend" not in done["allowed_actions"]
    for actor in ("ent_a1_staff", "ent_a1_manager"):
        assert "extend" not in (await get(client, world, actor, hid))["allowed_actions"], actor
        assert "extend" not in (await listed(client, world, actor, hid))["allowed_actions"], actor
    r = await act(
        client, world, "ent_a1_manager", hid, "extend", deadline=day(deadline, 31), reason="再延"
    )
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"

    # government: offered, and as often as it decides
    for actor in ("town_a_officer", "bureau_e_officer"):
        assert "extend" in (await get(client, world, actor, hid))["allowed_actions"]
        assert "extend" in (await listed(client, world, actor, hid))["allowed_actions"]
    current = done["deadline"]
    for actor, plus in (("town_a_officer", 90), ("bureau_e_officer", 400), ("admin", 1)):
        current = day(current, plus)
        h2 = await ok(
            await act(client, world, actor, hid, "extend", deadline=current, reason="批准延期")
        )
        assert h2["deadline"] == current
    # government's extensions give the enterprise none back
    assert "extend" not in (await get(client, world, "ent_a1_staff", hid))["allowed_actions"]
    events = (await client.get(f"/api/v1/hazards/{hid}/events", headers=world.h("admin"))).json()[
        "items"
    ]
    extends = [e for e in events if e["action"] == "extend"]
    assert [e["details"].get("enterprise_extension") for e in extends] == [1, None, None, None]


async def test_each_hazard_has_its_own_enterprise_extension(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a = await register(client, world, "ent_a1_staff")
    b = await register(client, world, "town_a_officer")  # found by government: still general
    await ok(
        await act(
            client,
            world,
            "ent_a1_staff",
            a["id"],
            "extend",
            deadline=day(a["deadline"], 5),
            reason="x",
        )
    )
    r = await act(
        client,
        world,
        "ent_a1_staff",
        b["id"],
        "extend",
        deadline=day(b["deadline"], 30),
        reason="x",
    )
    assert r.status_code == 200, r.text


async def test_enterprise_may_not_extend_a_major_hazard_at_all(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "ent_a1_staff", level="major")
    assert "extend" not in h["allowed_actions"]
    r = await act(
        client,
        world,
        "ent_a1_manager",
        h["id"],
        "extend",
        deadline=day(h["deadline"], 1),
        reason="x",
    )
    assert r.status_code == 403
    r = await act(
        client,
        world,
        "county_officer",
        h["id"],
        "extend",
        deadline=day(h["deadline"], 365),
        reason="批准",
    )
    assert r.status_code == 200


async def test_the_extension_limits_are_configurable(  # type: ignore[no-untyped-def]
    client, world: World, configured: Settings
) -> None:
    configured.enterprise_extensions_max = 2
    configured.enterprise_extension_max_days = 10
    h = await register(client, world, "ent_a1_staff")
    current = h["deadline"]
    r = await act(
        client, world, "ent_a1_staff", h["id"], "extend", deadline=day(current, 11), reason="x"
    )
    assert r.status_code == 422
    for _ in range(2):
        current = day(current, 10)
        await ok(
            await act(
                client, world, "ent_a1_staff", h["id"], "extend", deadline=current, reason="x"
            )
        )
    r = await act(
        client, world, "ent_a1_staff", h["id"], "extend", deadline=day(current, 1), reason="x"
    )
    assert r.status_code == 409
    configured.enterprise_extensions_max = 0
    fresh = await register(client, world, "ent_a1_staff")
    assert "extend" not in fresh["allowed_actions"]


# ---- registration: the deadline ------------------------------------------------------------------


async def test_enterprise_deadline_at_most_180_days_general_and_365_major(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    found = today()
    # the report: a deadline in 2099
    r = await post(client, world, "ent_a1_staff", body(world, deadline="2099-12-31"))
    assert r.status_code == 422
    assert r.json()["code"] == "deadline_too_late"
    assert [e["field"] for e in r.json()["errors"]] == ["deadline"]
    for level, limit in (("general", 180), ("major", 365)):
        extra: dict[str, Any] = {"level": level}
        if level == "major":
            extra["judgment"] = {"standard": "industry_trade", "clause": "第四条第（一）项"}
        too_far = body(world, deadline=day(found.isoformat(), limit + 1), **extra)
        r = await post(client, world, "ent_a1_manager", too_far)
        assert r.status_code == 422, level
        assert [e["field"] for e in r.json()["errors"]] == ["deadline"]
        at_limit = body(world, deadline=day(found.isoformat(), limit), **extra)
        r = await post(client, world, "ent_a1_manager", at_limit)
        assert r.status_code == 201, (level, r.text)
    # an enterprise cannot buy a longer deadline with a reason
    r = await post(
        client,
        world,
        "ent_a1_staff",
        body(world, deadline=day(found.isoformat(), 200), deadline_reason="工程量大"),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["deadline_reason"]


async def test_government_sets_a_longer_deadline_only_with_a_reason(client, world: World) -> None:  # type: ignore[no-untyped-def]
    found = today().isoformat()
    gov = body(world, source="inspection", deadline=day(found, 181))
    r = await post(client, world, "town_a_officer", gov)
    assert r.status_code == 422
    assert r.json()["code"] == "deadline_reason_required"
    assert [e["field"] for e in r.json()["errors"]] == ["deadline_reason"]
    r = await post(client, world, "town_a_officer", {**gov, "deadline": day(found, 180)})
    assert r.status_code == 201, r.text
    r = await post(client, world, "town_a_officer", {**gov, "deadline_reason": "需停产大修"})
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["deadline"] == day(found, 181)
    events = (
        await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    ).json()["items"]
    assert events[0]["action"] == "register"
    assert events[0]["details"] == {"deadline_reason": "需停产大修"}


async def test_without_a_deadline_an_enterprise_gets_the_default_30_days(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, "ent_a1_staff", body(world))
    assert r.status_code == 201
    assert r.json()["deadline"] == day(today().isoformat(), 30)


# ---- registration: when it was found -----------------------------------------------------------------


async def test_enterprise_registers_only_what_it_found_in_the_last_30_days(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    # the report: found in 2019, due in 2099, so stock that is never overdue
    r = await post(
        client,
        world,
        "ent_a1_staff",
        body(world, found_at="2019-05-01T09:00:00+08:00", deadline="2099-12-31"),
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"found_at"}
    r = await post(client, world, "ent_a1_staff", body(world, found_at="2019-05-01T09:00:00+08:00"))
    assert r.status_code == 422
    assert r.json()["code"] == "found_at_too_early"
    assert [e["field"] for e in r.json()["errors"]] == ["found_at"]
    assert (
        await post(client, world, "ent_a1_staff", body(world, found_at=days_ago(31)))
    ).status_code == 422
    r = await post(client, world, "ent_a1_manager", body(world, found_at=days_ago(29)))
    assert r.status_code == 201, r.text
    # and never in the future
    r = await post(client, world, "ent_a1_manager", body(world, found_at=days_ago(-1)))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["found_at"]


async def test_government_registers_stock_found_years_ago(client, world: World) -> None:  # type: ignore[no-untyped-def]
    stock = body(
        world, source="inspection", found_at="2019-05-01T09:00:00+08:00", deadline="2019-08-01"
    )
    r = await post(client, world, "town_a_officer", stock)
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["stock"] is True and h["is_overdue"] is True
    # a stock hazard due in 2099 needs a stated reason, even for government
    r = await post(client, world, "town_a_officer", {**stock, "deadline": "2099-12-31"})
    assert r.status_code == 422
    assert r.json()["code"] == "deadline_reason_required"
    r = await post(
        client,
        world,
        "county_officer",
        {**stock, "deadline": "2099-12-31", "deadline_reason": "列入城市更新改造计划"},
    )
    assert r.status_code == 201


async def test_the_registration_bounds_are_configurable(  # type: ignore[no-untyped-def]
    client, world: World, configured: Settings
) -> None:
    configured.enterprise_found_at_max_age_days = 400
    configured.enterprise_deadline_max_days_general = 20
    r = await post(client, world, "ent_a1_staff", body(world, found_at=days_ago(300)))
    assert r.status_code == 201, r.text  # the default deadline shrinks to the bound (20 days)
    found = datetime.fromisoformat(r.json()["found_at"]).astimezone(SHANGHAI).date()
    assert r.json()["deadline"] == day(found.isoformat(), 20)
    r = await post(
        client, world, "ent_a1_staff", body(world, deadline=day(today().isoformat(), 21))
    )
    assert r.status_code == 422
