"""Statistics from the maintained rollup equal the direct query, the list, and a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

import app.core.clock as clock
from app.models import HazardRollup
from app.services.hazards import rollup
from app.services.hazards import statistics as statistics_service
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, act, register, upload
from tests.test_hazard_statistics import FILTERS, GROUPINGS, ROLES, build

ENTERPRISES = ("ent_a1", "ent_a2", "ent_b1", "ent_b2")


async def stats(client, world: World, actor: str, query: dict[str, str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/statistics/hazards?{urlencode(query)}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


async def both(client, world: World, actor: str, query: dict[str, str], monkeypatch) -> tuple:  # type: ignore[no-untyped-def]
    """The figures from the rollup, then from the direct query (rollup switched off)."""
    served = statistics_service._rollup_conditions
    used: list[bool] = []

    def spy(*args: Any) -> Any:
        out = served(*args)
        used.append(out is not None)
        return out

    monkeypatch.setattr(statistics_service, "_rollup_conditions", spy)
    from_rollup = await stats(client, world, actor, query)
    monkeypatch.setattr(statistics_service, "_rollup_conditions", lambda *a: None)
    direct = await stats(client, world, actor, query)
    monkeypatch.setattr(statistics_service, "_rollup_conditions", served)
    return from_rollup, direct, used[0]


async def rollup_table(app) -> dict[tuple[Any, ...], int]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        rows = (await s.execute(select(HazardRollup))).scalars().all()
        return {tuple(getattr(r, c) for c in rollup.KEY_COLUMNS): r.n for r in rows if r.n}


async def rebuilt_table(app) -> dict[tuple[Any, ...], int]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        await rollup.rebuild(s)
        await s.commit()
    return await rollup_table(app)


@pytest.mark.parametrize("actor", ROLES)
async def test_rollup_equals_the_direct_query_for_every_scope_filter_and_grouping(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(client, world)
    for raw in [
        *FILTERS,
        "status=rectifying,registered&escalation=none",
        "found_at_from=2025-02-01",
    ]:
        for grouping in GROUPINGS:
            query = dict(p.split("=", 1) for p in raw.split("&") if p)
            if grouping:
                query["group_by"] = grouping
            got, want, used = await both(client, world, actor, query, monkeypatch)
            assert got == want, (actor, raw, grouping)
            assert used, f"{actor} ?{raw}: served by the direct query"


async def test_filters_the_rollup_cannot_serve_fall_back_with_the_same_figures(  # type: ignore[no-untyped-def]
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(client, world)
    for raw in (
        {"q": "防护栏"},
        {"enterprise_id": world["ent_a1"]},
        {"category": "unsafe_condition"},
        {"region_code": "341302001001"},
        {"found_at_from": "2025-02-02"},
        {"found_at_to": "2025-06-30T12:00:00+08:00"},
        {"deadline_to": "2025-12-31"},
    ):
        got, want, used = await both(client, world, "county_officer", raw, monkeypatch)
        assert not used and got == want, raw


async def test_random_histories_keep_rollup_equal_to_recount_and_rebuild(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261203)
    hazards: list[tuple[str, str]] = []  # (id, enterprise)
    today = datetime.now(UTC)
    for _ in range(24):
        ent = rng.choice(ENTERPRISES)
        found = today - timedelta(days=rng.randint(0, 900), hours=rng.randint(0, 23))
        deadline = (found + timedelta(days=rng.randint(1, 60))).date()
        fields: dict[str, Any] = {
            "found_at": found.isoformat(),
            "deadline": max(deadline, found.date() + timedelta(days=1)).isoformat(),
            "source": rng.choice(["inspection", "assigned", "public_report"]),
        }
        h = await register(client, world, "county_officer", ent, **fields)
        hazards.append((h["id"], ent))
    for hid, _ in hazards:
        for _ in range(rng.randint(0, 4)):
            detail = (
                await client.get(f"/api/v1/hazards/{hid}", headers=world.h("county_officer"))
            ).json()
            actions = [
                a
                for a in detail["allowed_actions"]
                if a
                in {
                    "plan",
                    "complete",
                    "accept",
                    "void",
                    "reject",
                    "escalate",
                    "supervise",
                    "extend",
                }
            ]
            if not actions:
                break
            action = rng.choice(actions)
            payload: dict[str, Any] = {}
            if action == "plan":
                payload = {"plan": {**GENERAL_PLAN, "deadline": detail["deadline"]}}
            elif action == "complete":
                payload = {"attachment_ids": [await upload(client, world, "county_officer")]}
            elif action in ("void", "reject"):
                payload = {"reason": "随机"}
            elif action == "supervise":
                payload = {"supervisor_user_id": world["county_officer"]}
            elif action == "extend":
                payload = {
                    "deadline": (
                        date.fromisoformat(detail["deadline"]) + timedelta(days=3)
                    ).isoformat(),
                    "reason": "随机",
                }
            r = await act(client, world, "county_officer", hid, action, **payload)
            assert r.status_code in (200, 409, 422), r.text
    # an enterprise moves to the other town, sector and department: its hazards move with it
    url = f"/api/v1/enterprises/{world['ent_a1']}"
    etag = (await client.get(url, headers=world.h("admin"))).headers["etag"]
    r = await client.patch(
        url,
        json={
            "region_code": "341302100301",
            "sector": "hazardous_chemicals",
            "enforcement_department_id": world["bureau_c"],
        },
        headers={**world.h("admin"), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    incremental = await rollup_table(app)
    for actor in ROLES:
        for grouping in GROUPINGS:
            query = {"group_by": grouping} if grouping else {}
            got, want, used = await both(client, world, actor, query, monkeypatch)
            assert used and got == want, (actor, grouping)
    assert await rebuilt_table(app) == incremental


async def test_overdue_is_exact_across_midnight_without_a_job(  # type: ignore[no-untyped-def]
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_hazards_list import _FrozenClock

    await register(client, world, found_at="2025-06-01T10:00:00+08:00", deadline="2025-06-10")
    await register(client, world, found_at="2025-06-01T10:00:00+08:00", deadline="2025-06-11")

    class Before(_FrozenClock):
        moment = datetime(2025, 6, 10, 15, 59, tzinfo=UTC)  # 23:59 on 10 June in Shanghai

    monkeypatch.setattr(clock, "datetime", Before)
    got, want, used = await both(client, world, "county_officer", {}, monkeypatch)
    assert used and got == want and got["totals"]["overdue"] == 0
    monkeypatch.setattr(clock, "datetime", _FrozenClock)  # 01:00 on 11 June
    got, want, used = await both(client, world, "county_officer", {}, monkeypatch)
    assert used and got == want and got["totals"]["overdue"] == 1


async def test_a_changed_stock_cutoff_needs_no_rebuild(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build(client, world)
    settings = app.state.settings
    for cutoff, served in ((date(2025, 3, 1), True), (date(2025, 2, 15), False)):
        monkeypatch.setattr(settings, "stock_cutoff", cutoff)
        for query in ({}, {"group_by": "month"}, {"stock": "true"}, {"stock": "false"}):
            got, want, used = await both(client, world, "county_officer", query, monkeypatch)
            assert used is served and got == want, (cutoff, query)
        assert got["totals"]["found"] > 0
