"""The periodic jobs on the queue: overdue hazards are marked once, reminded once a day (one
overdue job per local day), and runs never double up.

In this world an overdue hazard of ent_a1 reminds three recipients (the enterprise, town A and
bureau E) and reaches 8 people (2 of ent_a1, 4 of town A, 2 of bureau E); one of ent_b1 reminds
ent_b1, town B and bureau E and reaches 4 (1, 1, 2). Early warnings: tests/test_early_warnings.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.core.config import Settings
from app.services.jobs import run_all_once, run_jobs
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, act, register, upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}


async def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return response.json()


async def events(client, world: World, hid: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/hazards/{hid}/events", headers=world.h("admin"))
    assert r.status_code == 200
    return r.json()["items"]


async def marks(client, world: World, hid: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [e for e in await events(client, world, hid) if e["action"] == "mark_overdue"]


async def reminders(client, world: World, actor: str, query: str = "") -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/reminders?limit=500&{query}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def build(client, world: World) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    hz = {
        "late_a1": await register(client, world, "town_a_officer", "ent_a1", **PAST),
        "late_b1": await register(client, world, "town_b_officer", "ent_b1", **PAST),
        "on_time": await register(client, world, "town_a_officer", "ent_a1"),
        "late_voided": await register(client, world, "town_b_officer", "ent_b2", **PAST),
        "late_closed": await register(client, world, "town_a_officer", "ent_a2", **PAST),
    }
    await ok(
        await act(client, world, "county_officer", hz["late_voided"]["id"], "void", reason="误登")
    )
    hid = hz["late_closed"]["id"]
    plan = {**GENERAL_PLAN, "deadline": "2025-02-01"}
    await ok(await act(client, world, "town_a_officer", hid, "plan", plan=plan))
    photo = await upload(client, world, "town_a_officer")
    await ok(await act(client, world, "town_a_officer", hid, "complete", attachment_ids=[photo]))
    await ok(await act(client, world, "county_officer", hid, "accept"))
    return hz


async def test_overdue_hazards_are_marked_once_and_reminded_once_a_day(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    hz = await build(client, world)
    first = await run_jobs(app.state.sessionmaker, settings, "t-morning")
    assert first["overdue"] == {"marked": 2, "reminders": 6, "warnings": 0, "notifications": 12}
    assert isinstance(first["housekeeping"], dict)
    for name in ("late_a1", "late_b1"):
        [mark] = await marks(client, world, hz[name]["id"])
        assert mark["actor"] is None and mark["actor_kind"] == "system"
        assert (mark["from_status"], mark["to_status"]) == ("registered", "registered")
        assert mark["details"] == {"deadline": "2025-02-01"}
        assert "2025-02-01" in mark["note"]
    for name in ("on_time", "late_voided", "late_closed"):
        assert await marks(client, world, hz[name]["id"]) == [], name
    # another slot on the same day: the day's overdue job is not enqueued again; nothing new
    second = await run_jobs(app.state.sessionmaker, settings, "t-noon")
    assert second["overdue"].startswith("skipped")
    assert isinstance(second["housekeeping"], dict)
    assert len(await marks(client, world, hz["late_a1"]["id"])) == 1
    assert len(await reminders(client, world, "county_officer")) == 6
    # the same slot again: another worker already ran it
    again = await run_jobs(app.state.sessionmaker, settings, "t-morning")
    assert again["overdue"].startswith("skipped")
    assert again["housekeeping"].startswith("skipped")
    assert len(await reminders(client, world, "county_officer")) == 6


async def test_reminders_are_shown_in_scope_only(
    client, world: World, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    await run_jobs(app.state.sessionmaker, settings, "t-scope")
    today = datetime.now(SHANGHAI).date()
    a1, b1 = hz["late_a1"]["id"], hz["late_b1"]["id"]
    expected = {
        "admin": {a1, b1},
        "county_officer": {a1, b1},
        "county_viewer": {a1, b1},
        "town_a_officer": {a1},
        "town_a_viewer": {a1},
        "town_b_officer": {b1},
        "bureau_e_officer": {a1, b1},
        "bureau_c_officer": set(),
        "ent_a1_manager": {a1},
        "ent_a1_staff": {a1},
        "ent_b1_manager": {b1},
        "machine": {a1},
    }
    for actor, ids in expected.items():
        got = await reminders(client, world, actor)
        assert {r["hazard_id"] for r in got} == ids, actor
    got = await reminders(client, world, "town_a_officer")
    # the enterprise, its town and its designated enforcement department, once each
    assert sorted((r["recipient_kind"], r["org_unit_id"] or "") for r in got) == sorted(
        [("enterprise", ""), ("org_unit", world["town_a"]), ("org_unit", world["bureau_e"])]
    )
    for r in got:
        assert r["enterprise_id"] == world["ent_a1"]
        assert r["kind"] == "overdue"
        assert r["on_date"] == today.isoformat()
        assert r["deadline"] == "2025-02-01" and r["days_before"] is None
        assert hz["late_a1"]["number"] in r["message"]
    by_hazard = await reminders(client, world, "county_officer", f"hazard_id={b1}")
    assert [x["hazard_id"] for x in by_hazard] == [b1] * 3
    assert await reminders(client, world, "county_officer", "on_date=2020-01-01") == []
    assert await reminders(client, world, "town_b_officer", f"hazard_id={a1}") == []


async def test_each_day_brings_one_new_reminder_per_hazard(
    client, world: World, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    await run_jobs(app.state.sessionmaker, settings, "t-day1")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    report = await run_jobs(app.state.sessionmaker, settings, "t-day2", now=tomorrow)
    assert report["overdue"] == {"marked": 0, "reminders": 6, "warnings": 0, "notifications": 12}
    report = await run_jobs(app.state.sessionmaker, settings, "t-day2b", now=tomorrow)
    assert report["overdue"].startswith("skipped")  # one overdue job per day
    got = await reminders(client, world, "county_officer", f"hazard_id={hz['late_a1']['id']}")
    assert (
        sorted(r["on_date"] for r in got)
        == [
            datetime.now(SHANGHAI).date().isoformat(),
        ]
        * 3
        + [tomorrow.astimezone(SHANGHAI).date().isoformat()] * 3
    )
    assert len(await marks(client, world, hz["late_a1"]["id"])) == 1


async def test_a_deadline_passes_at_midnight_in_shanghai(
    client, world: World, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, deadline="2099-06-30")
    # 23:00 on the deadline day in Shanghai: not overdue yet (warned of, on the day)
    before = datetime(2099, 6, 30, 15, 0, tzinfo=UTC)
    report = await run_jobs(app.state.sessionmaker, settings, "t-2300", now=before)
    assert report["overdue"] == {"marked": 0, "reminders": 0, "warnings": 3, "notifications": 8}
    # 00:00 the next day in Shanghai, still 30 June in UTC: overdue
    after = datetime(2099, 6, 30, 16, 0, tzinfo=UTC)
    report = await run_jobs(app.state.sessionmaker, settings, "t-0000", now=after)
    assert report["overdue"] == {"marked": 1, "reminders": 3, "warnings": 0, "notifications": 8}
    got = await reminders(client, world, "admin", f"hazard_id={h['id']}&kind=overdue")
    assert [r["on_date"] for r in got] == ["2099-07-01"] * 3


async def test_extension_resets_overdue_so_a_later_run_marks_again(
    client, world: World, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    hid = hz["late_a1"]["id"]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    day_after = tomorrow + timedelta(days=1)
    await run_jobs(app.state.sessionmaker, settings, "t-1")
    assert len(await marks(client, world, hid)) == 1
    # extended, but still in the past: overdue again under the new deadline, marked again by
    # the next day's run (one overdue job per day), which also reminds of both late hazards
    await ok(
        await act(
            client, world, "town_a_officer", hid, "extend", deadline="2025-03-01", reason="延期"
        )
    )
    report = await run_jobs(app.state.sessionmaker, settings, "t-2", now=tomorrow)
    assert report["overdue"] == {"marked": 1, "reminders": 6, "warnings": 0, "notifications": 12}
    assert [m["details"] for m in await marks(client, world, hid)] == [
        {"deadline": "2025-02-01"},
        {"deadline": "2025-03-01"},
    ]
    # extended into the future: no longer overdue, nothing marked
    h = await ok(
        await act(
            client, world, "town_a_officer", hid, "extend", deadline="2099-12-31", reason="延期"
        )
    )
    assert h["is_overdue"] is False
    report = await run_jobs(app.state.sessionmaker, settings, "t-3", now=day_after)
    # late_b1 only
    assert report["overdue"] == {"marked": 0, "reminders": 3, "warnings": 0, "notifications": 4}
    assert len(await marks(client, world, hid)) == 2
    # once the new deadline has passed as well
    later = datetime(2100, 1, 5, 2, 0, tzinfo=UTC)
    report = await run_jobs(app.state.sessionmaker, settings, "t-4", now=later)
    assert len(await marks(client, world, hid)) == 3
    assert (await marks(client, world, hid))[-1]["details"] == {"deadline": "2099-12-31"}
    # late_a1 again and on_time for the first time; a new day's reminder for all three open ones
    assert report["overdue"] == {"marked": 2, "reminders": 9, "warnings": 0, "notifications": 20}


async def test_concurrent_runs_of_one_slot_do_the_work_once(
    client, world: World, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    reports = await asyncio.gather(
        *(run_jobs(app.state.sessionmaker, settings, "t-race") for _ in range(3))
    )
    done = [r for r in reports if isinstance(r["overdue"], dict)]
    assert len(done) == 1
    assert done[0]["overdue"] == {"marked": 2, "reminders": 6, "warnings": 0, "notifications": 12}
    assert all(r["overdue"].startswith("skipped") for r in reports if r not in done)
    assert sum(isinstance(r["housekeeping"], dict) for r in reports) == 1
    assert len(await marks(client, world, hz["late_a1"]["id"])) == 1
    assert len(await reminders(client, world, "county_officer")) == 6


async def test_run_once_for_cron_deployments(client, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    hz = await build(client, world)
    report = await run_all_once(settings)
    assert report["overdue"] == {"marked": 2, "reminders": 6, "warnings": 0, "notifications": 12}
    report = await run_all_once(settings)
    assert report["overdue"].startswith("skipped")  # the day's overdue job already ran
    assert len(await marks(client, world, hz["late_b1"]["id"])) == 1


async def test_reminders_need_a_token_and_start_empty(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor in ("town_a_viewer", "machine", "ent_a1_staff"):
        r = await client.get("/api/v1/reminders", headers=world.h(actor))
        assert r.status_code == 200
        assert r.json()["items"] == []
    assert (await client.get("/api/v1/reminders")).status_code == 401
