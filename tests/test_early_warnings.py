"""Early warnings (预警): the daily run warns of an open hazard's deadline on the local days
deadline − 7, − 3, − 1 and the day itself, once per hazard, offset, deadline and recipient, to the
enterprise and exactly the units responsible for it (its town, its enforcement department, the
unit supervising it), and to nobody else."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app.core.clock import zone
from app.core.config import Settings
from app.models import Notification, Reminder
from app.services.jobs import daily, run_jobs
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, act, register, upload
from tests.test_enterprises import enterprise_payload

DEADLINE = date(2099, 3, 10)


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock local time (Asia/Shanghai) on ``day``, as the job's clock."""
    return datetime.combine(day, time(hour), tzinfo=zone("Asia/Shanghai")).astimezone(UTC)


async def ok(response) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


async def run_on(app, settings: Settings, day: date) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    report = await run_jobs(app.state.sessionmaker, settings, f"t-{day}", now=at(day))
    assert isinstance(report["overdue"], dict), report
    return report["overdue"]


async def warnings(client, world: World, hazard_id: str, actor: str = "admin", **q: str) -> list:  # type: ignore[no-untyped-def]
    params = {"hazard_id": hazard_id, "kind": "deadline_warning", "limit": "500", **q}
    return (await ok(await client.get("/api/v1/reminders", params=params, headers=world.h(actor))))[
        "items"
    ]


def recipients(world: World, rows: list[dict[str, Any]]) -> list[str]:
    """Who each row went to, by the world's names (the enterprise's own row by its name)."""
    names = {v: k for k, v in world.ids.items()}
    return sorted(names[r["org_unit_id"] or r["enterprise_id"]] for r in rows)


async def inbox(client, world: World, actor: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/notifications?limit=500", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_hazard_is_warned_exactly_on_deadline_minus_7_3_1_and_on_the_day(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await register(client, world, "town_a_officer", "ent_a1", deadline=DEADLINE.isoformat())
    written: dict[int, int] = {}
    for before in range(10, -2, -1):  # ten days before to the day after
        report = await run_on(app, settings, DEADLINE - timedelta(days=before))
        written[before] = report["warnings"]
    # three recipients on each warning day (ent_a1, town A, bureau E), nothing in between
    assert {b: n for b, n in written.items() if n} == {7: 3, 3: 3, 1: 3, 0: 3}
    rows = await warnings(client, world, h["id"])
    assert sorted(r["on_date"] for r in rows) == sorted(
        (DEADLINE - timedelta(days=b)).isoformat() for b in (7, 3, 1, 0) for _ in range(3)
    )
    for r in rows:
        assert r["deadline"] == DEADLINE.isoformat()
        assert r["days_before"] == (DEADLINE - date.fromisoformat(r["on_date"])).days
        assert r["hazard"]["id"] == h["id"]
    # the day after: overdue, not warned
    overdue = await client.get(
        "/api/v1/reminders",
        params={"hazard_id": h["id"], "kind": "overdue"},
        headers=world.h("admin"),
    )
    assert [r["on_date"] for r in (await ok(overdue))["items"]] == [
        (DEADLINE + timedelta(days=1)).isoformat()
    ] * 3


async def test_warnings_go_to_the_enterprise_its_town_department_and_supervisor_only(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    deadline = {"deadline": DEADLINE.isoformat()}
    a1 = await register(client, world, "town_a_officer", "ent_a1", **deadline)
    b2 = await register(client, world, "town_b_officer", "ent_b2", **deadline)
    # a major hazard of ent_b1 listed by the county (挂牌督办)
    b1 = await register(client, world, "town_b_officer", "ent_b1", level="major", **deadline)
    supervise = {"supervisor_user_id": world["county_officer"]}
    await ok(await act(client, world, "county_officer", b1["id"], "supervise", **supervise))
    # one listed by its own town: the town is reminded once, not twice
    a1_major = await register(client, world, "town_a_officer", "ent_a1", level="major", **deadline)
    supervise = {"supervisor_user_id": world["town_a_officer"]}
    await ok(await act(client, world, "town_a_manager", a1_major["id"], "supervise", **supervise))
    # an enterprise in a town the county has not set up as an org unit: no town to remind
    made = await client.post(
        "/api/v1/enterprises",
        json=enterprise_payload(world, 301, region_code="341302200001"),
        headers=world.h("admin"),
    )
    assert made.status_code == 201, made.text
    world.ids["ent_x"] = made.json()["id"]
    x = await register(client, world, "county_officer", "ent_x", **deadline)

    report = await run_on(app, settings, DEADLINE - timedelta(days=3))
    assert report["warnings"] == 3 + 3 + 4 + 3 + 2

    got = {
        name: recipients(world, await warnings(client, world, h["id"]))
        for name, h in {"a1": a1, "b2": b2, "b1": b1, "a1_major": a1_major, "x": x}.items()
    }
    assert got == {
        "a1": ["bureau_e", "ent_a1", "town_a"],
        "b2": ["bureau_c", "ent_b2", "town_b"],  # bureau C by designation, not by sector
        "b1": ["bureau_e", "county", "ent_b1", "town_b"],
        "a1_major": ["bureau_e", "ent_a1", "town_a"],
        "x": ["bureau_e", "ent_x"],
    }
    # and their inboxes: each person sees the hazards of the units it belongs to, no others
    hazards_of = {
        "admin": {b1["id"]},  # the county office: only where it supervises
        "county_officer": {b1["id"]},
        "town_a_officer": {a1["id"], a1_major["id"]},
        "town_b_officer": {b2["id"], b1["id"]},
        "bureau_e_officer": {a1["id"], a1_major["id"], b1["id"], x["id"]},
        "bureau_c_officer": {b2["id"]},
        "ent_a1_staff": {a1["id"], a1_major["id"]},
        "ent_b1_manager": {b1["id"]},
    }
    for actor, expected in hazards_of.items():
        # (listing a1_major also told its people once, as hazard_supervised: not a reminder)
        items = [n for n in await inbox(client, world, actor) if n["kind"] != "hazard_supervised"]
        assert {n["object_id"] for n in items} == expected, actor
        assert len(items) == len(expected), actor  # one per hazard, even when two roles meet
        assert {n["kind"] for n in items} == {"hazard_deadline_warning"}


async def test_a_rerun_of_the_day_and_two_racing_runs_write_each_warning_once(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await register(client, world, "town_a_officer", "ent_a1", deadline=DEADLINE.isoformat())
    today = DEADLINE - timedelta(days=7)
    maker = app.state.sessionmaker

    async def run() -> dict[str, int]:
        async with maker() as session:
            result = await daily(session, settings, today)
            await session.commit()
            return result

    async def counts() -> tuple[int, int]:
        async with maker() as session:
            reminders = await session.scalar(select(func.count()).select_from(Reminder))
            notes = await session.scalar(select(func.count()).select_from(Notification))
        return int(reminders or 0), int(notes or 0)

    first, second = await asyncio.gather(run(), run(), return_exceptions=True)
    outcomes = [r for r in (first, second) if not isinstance(r, BaseException)]
    failed = [r for r in (first, second) if isinstance(r, BaseException)]
    if app.state.engine.dialect.name == "postgresql":
        assert failed == []  # the second waits on the unique key and writes nothing
    else:  # SQLite: one writer at a time; a loser is refused, as a job it would be retried
        assert all(isinstance(e, DBAPIError) for e in failed), failed
        outcomes.append(await run())
    assert sorted(o["warnings"] for o in outcomes) == [0] * (len(outcomes) - 1) + [3]
    assert sorted(o["notifications"] for o in outcomes)[-1] == 8
    assert await counts() == (3, 8)
    # the same day once more (a retried job): nothing new, no second notification
    assert (await run())["warnings"] == 0
    assert await counts() == (3, 8)
    assert len(await warnings(client, world, h["id"])) == 3
    assert len(await inbox(client, world, "town_a_manager")) == 1


async def test_closed_and_voided_hazards_are_not_warned_awaiting_acceptance_is(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    d = DEADLINE.isoformat()
    voided = await register(client, world, "town_a_officer", "ent_a1", deadline=d)
    await ok(await act(client, world, "county_officer", voided["id"], "void", reason="误登"))
    closed = await register(client, world, "town_a_officer", "ent_a1", deadline=d)
    awaiting = await register(client, world, "town_a_officer", "ent_a1", deadline=d)
    rectifying = await register(client, world, "town_a_officer", "ent_a1", deadline=d)
    plan = {**GENERAL_PLAN, "deadline": d}
    for h in (closed, awaiting, rectifying):
        await ok(await act(client, world, "town_a_officer", h["id"], "plan", plan=plan))
    for h in (closed, awaiting):
        photo = await upload(client, world, "town_a_officer")
        done = await act(
            client, world, "town_a_officer", h["id"], "complete", attachment_ids=[photo]
        )
        await ok(done)
    await ok(await act(client, world, "county_officer", closed["id"], "accept"))

    report = await run_on(app, settings, DEADLINE - timedelta(days=1))
    assert report["warnings"] == 2 * 3
    for h in (voided, closed):
        assert await warnings(client, world, h["id"]) == []
    for h in (awaiting, rectifying):
        assert len(await warnings(client, world, h["id"])) == 3


async def test_an_extension_moves_the_warnings_to_the_new_deadline(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await register(client, world, "town_a_officer", "ent_a1", deadline=DEADLINE.isoformat())
    await run_on(app, settings, DEADLINE - timedelta(days=7))
    later = DEADLINE + timedelta(days=2)
    extend = {"deadline": later.isoformat(), "reason": "材料未到"}
    await ok(await act(client, world, "county_officer", h["id"], "extend", **extend))
    # the old deadline's days pass without a warning; the new deadline's come
    for before in (6, 5, 3, 1, 0, -1):
        await run_on(app, settings, DEADLINE - timedelta(days=before))
    rows = await warnings(client, world, h["id"], actor="town_a_officer")
    by_deadline: dict[str, set[int]] = {}
    for r in rows:
        by_deadline.setdefault(r["deadline"], set()).add(r["days_before"])
    # the 7-day warning again, now for the new deadline (natural key: deadline and offset)
    assert by_deadline == {DEADLINE.isoformat(): {7}, later.isoformat(): {7, 3, 1}}


async def test_a_day_the_job_did_not_run_is_not_made_up(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await register(client, world, "town_a_officer", "ent_a1", deadline=DEADLINE.isoformat())
    await run_on(app, settings, DEADLINE - timedelta(days=7))
    # no run on deadline − 3; the run of deadline − 2 writes no stale 3-day warning
    report = await run_on(app, settings, DEADLINE - timedelta(days=2))
    assert report["warnings"] == 0
    assert {r["days_before"] for r in await warnings(client, world, h["id"])} == {7}


async def test_the_offsets_are_a_setting(app, client, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", "ent_a1", deadline=DEADLINE.isoformat())
    saved = settings.reminder_offsets_days
    try:
        settings.reminder_offsets_days = (14, 2)
        for before in (14, 7, 3, 2, 1, 0):
            await run_on(app, settings, DEADLINE - timedelta(days=before))
        settings.reminder_offsets_days = ()  # none: no early warnings at all
        assert (await run_on(app, settings, DEADLINE - timedelta(days=20)))["warnings"] == 0
    finally:
        settings.reminder_offsets_days = saved
    assert {r["days_before"] for r in await warnings(client, world, h["id"])} == {14, 2}


def test_the_offsets_setting_is_validated() -> None:
    import pytest
    from pydantic import ValidationError

    assert Settings(reminder_offsets_days="0,1,3,7").reminder_offsets_days == (7, 3, 1, 0)
    assert Settings(reminder_offsets_days=" 30 , 60").reminder_offsets_days == (60, 30)
    assert Settings(reminder_offsets_days="").reminder_offsets_days == ()
    assert Settings().reminder_offsets_days == (7, 3, 1, 0)
    for bad in ("7,7", "61", "-1", "seven", "3;1", "1.5"):
        with pytest.raises(ValidationError):
            Settings(reminder_offsets_days=bad)


async def test_warnings_are_written_in_chinese_and_read_in_english(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await register(
        client, world, "town_a_officer", "ent_a1", title="配电箱门锁损坏", deadline="2099-03-10"
    )
    await run_on(app, settings, date(2099, 3, 7))
    await run_on(app, settings, date(2099, 3, 10))
    en = {"Accept-Language": "en"}
    zh_rows = await warnings(client, world, h["id"], actor="town_a_officer")
    n = h["number"]
    assert {r["message"] for r in zh_rows} == {
        f"隐患 {n}《配电箱门锁损坏》的整改期限为 2099-03-10，还有 3 天到期，请按期完成整改。",
        f"隐患 {n}《配电箱门锁损坏》的整改期限为今天（2099-03-10），请于今日完成整改。",
    }
    r = await client.get(
        "/api/v1/reminders",
        params={"hazard_id": h["id"], "kind": "deadline_warning"},
        headers=world.h("town_a_officer", **en),
    )
    assert {x["message"] for x in (await ok(r))["items"]} == {
        f'Hazard {n} "配电箱门锁损坏" is due on 2099-03-10, in 3 days; please complete the '
        "rectification in time.",
        f'Hazard {n} "配电箱门锁损坏" is due today (2099-03-10); please complete the '
        "rectification today.",
    }
    # the inbox: the same texts, with a title
    zh = await inbox(client, world, "ent_a1_staff")
    assert [x["title"] for x in zh] == [f"隐患整改期限预警：{n}"] * 2
    r = await client.get("/api/v1/notifications", headers=world.h("ent_a1_staff", **en))
    english = (await ok(r))["items"]
    assert [x["title"] for x in english] == [f"Deadline warning: hazard {n}"] * 2
    assert english[0]["body"].startswith(f'Hazard {n} "配电箱门锁损坏" is due today')
    # each links to its hazard
    assert all(x["link"] == f"/api/v1/hazards/{h['id']}" for x in english)
