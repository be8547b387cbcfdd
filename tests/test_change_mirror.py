"""The mirror test of the change feed (issue 17): concurrent writers with random delays and
transaction lengths change enterprises and hazards while readers follow the feed into in-memory
mirrors; at the end each mirror equals what its caller may read, field for field, and no change
was seen twice.

Writers use both the API (registering hazards and planning them, creating enterprises, each
request one transaction) and sessions of their own that hold a transaction open for a random
while before committing (on PostgreSQL transactions then commit out of the order they began in:
what the feed's xid horizon is for). Enterprises move between the two towns, so the town's
reader sees objects leave (``delete``) and enter (``upsert``) its scope.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.models import Enterprise, Hazard
from tests.conftest import credit
from tests.hazard_helpers import GENERAL_PLAN
from tests.test_changes import settled

CHANGES = "/api/v1/changes"
TOWNS = ("341302001", "341302100")


def _postgres(settings) -> bool:  # type: ignore[no-untyped-def]
    return settings.resolved_database_url.startswith("postgresql")


async def test_mirrors_follow_the_feed_exactly_under_concurrent_writers(  # type: ignore[no-untyped-def]
    client, world, app, settings
) -> None:
    pg = _postgres(settings)
    writers, seconds = (20, 30.0) if pg else (5, 8.0)
    rng = random.Random(20261207)
    stop = time.monotonic() + seconds
    serial = iter(range(1000, 100_000))
    errors: list[str] = []

    async def via_api(n: int) -> None:
        r_ = random.Random(n)
        while time.monotonic() < stop:
            roll = r_.random()
            try:
                if roll < 0.15:
                    k = next(serial)
                    town = r_.choice(TOWNS)
                    r = await client.post(
                        "/api/v1/enterprises",
                        json={
                            "name": f"镜像企业{k}",
                            "credit_code": credit(k),
                            "region_code": f"{town}{k % 1000:03d}",
                            "sector": "industry_trade",
                            "enforcement_department_id": world["bureau_e"],
                        },
                        headers=world.h("admin"),
                    )
                    assert r.status_code == 201, r.text
                elif roll < 0.6:
                    r = await client.post(
                        "/api/v1/hazards",
                        json={
                            "enterprise_id": world[r_.choice(["ent_a1", "ent_a2", "ent_b1"])],
                            "title": f"镜像隐患{n}",
                            "level": "general",
                            "source": "inspection",
                            "category": "unsafe_condition",
                            "deadline": "2099-12-31",
                            "deadline_reason": "整改工程量大，需较长期限",
                        },
                        headers=world.h("admin"),
                    )
                    assert r.status_code == 201, r.text
                else:
                    async with app.state.read_sessionmaker() as s:
                        ids = (
                            (
                                await s.execute(
                                    select(Hazard.id).where(Hazard.status == "registered")
                                )
                            )
                            .scalars()
                            .all()
                        )
                    if ids:
                        r = await client.post(
                            f"/api/v1/hazards/{r_.choice(ids)}/transitions",
                            json={"action": "plan", "plan": GENERAL_PLAN},
                            headers=world.h("admin"),
                        )
                        assert r.status_code in (200, 409, 412), r.text  # lost races are fine
            except AssertionError as exc:
                errors.append(str(exc))
            await asyncio.sleep(r_.uniform(0, 0.05))

    async def long_transactions(n: int) -> None:
        r_ = random.Random(-n)
        while time.monotonic() < stop:
            try:
                async with app.state.sessionmaker() as s:
                    ents = (await s.execute(select(Enterprise))).scalars().all()
                    ent = r_.choice(ents)
                    if r_.random() < 0.4:
                        ent.region_code = r_.choice(TOWNS) + ent.region_code[9:]
                    else:
                        ent.risk_color = r_.choice(["red", "orange", "yellow", "blue"])
                    await s.flush()
                    await asyncio.sleep(r_.uniform(0, 0.3))  # the transaction stays open
                    await s.commit()
            except StaleDataError:
                pass  # another writer changed it first: this transaction rolled back
            await asyncio.sleep(r_.uniform(0, 0.05))

    seen: dict[str, set[str]] = {"admin": set(), "town_a_officer": set()}
    mirrors: dict[str, dict[tuple[str, str], dict[str, Any]]] = {a: {} for a in seen}
    cursors: dict[str, str | None] = {a: None for a in seen}
    deletes: dict[str, int] = {a: 0 for a in seen}

    async def follow(actor: str, until_quiet: bool = False) -> None:
        while until_quiet or time.monotonic() < stop:
            query = {"limit": rng.choice([5, 50, 200]), "wait": 1}
            if cursors[actor]:
                query["after"] = cursors[actor]  # type: ignore[assignment]
            r = await client.get(CHANGES, params=query, headers=world.h(actor))
            assert r.status_code == 200, r.text
            page = r.json()
            for item in page["items"]:
                assert item["cursor"] not in seen[actor], "a change seen twice"
                seen[actor].add(item["cursor"])
                key = (item["type"], item["id"])
                if item["op"] == "upsert":
                    mirrors[actor][key] = item["data"]
                else:
                    assert item["data"] is None
                    deletes[actor] += 1
                    mirrors[actor].pop(key, None)
            if until_quiet and not page["items"] and page["next_cursor"] == cursors[actor]:
                return
            cursors[actor] = page["next_cursor"]

    half = writers // 2
    await asyncio.gather(
        *(via_api(i) for i in range(writers - half)),
        *(long_transactions(i) for i in range(half)),
        *(follow(actor) for actor in seen),
    )
    assert not errors, errors[:3]
    await settled(client)
    for actor in seen:
        await follow(actor, until_quiet=True)
        expected = await _everything(client, world, actor)
        assert mirrors[actor].keys() == expected.keys(), actor
        for key, data in expected.items():
            assert mirrors[actor][key] == data, (actor, key)
    assert len(seen["admin"]) > 50, "the writers wrote"
    assert deletes["town_a_officer"] > 0, "enterprises left the town's scope during the run"
    assert deletes["admin"] == 0, "nothing leaves the county"


async def _everything(client, world, actor: str) -> dict[tuple[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every enterprise and hazard the caller may read, as its detail endpoint gives it."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for type_, path in (("enterprise", "/api/v1/enterprises"), ("hazard", "/api/v1/hazards")):
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = await client.get(path, params=params, headers=world.h(actor))
            assert r.status_code == 200, r.text
            for item in r.json()["items"]:
                detail = await client.get(f"{path}/{item['id']}", headers=world.h(actor))
                out[(type_, item["id"])] = detail.json()
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
    return out
