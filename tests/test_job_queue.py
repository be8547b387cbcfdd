"""The one jobs mechanism (issue 10): enqueued in the cause's transaction, claimed once however
many workers ask, retried with back-off until dead, leases reclaimed after a crash, the daily
overdue job enqueued once per day, and the queue visible to admins only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.models import Job
from app.services import job_queue
from app.services.job_queue import (
    BACKOFF_BASE_SECONDS,
    JobContext,
    Worker,
    backoff_seconds,
    enqueue,
    register,
)
from app.services.jobs import run_jobs, schedule
from tests.conftest import World
from tests.test_statement_budget import statements

RUNS: list[tuple[str, int]] = []  # (worker name, payload n) of every run of ``test_record``
FAILS_LEFT: dict[str, int] = {}


async def _record(ctx: JobContext) -> dict[str, Any]:
    await asyncio.sleep(0.005)  # let the other worker interleave
    RUNS.append((str(ctx.payload.get("worker", "")), int(ctx.payload["n"])))  # type: ignore[arg-type]
    return {"n": ctx.payload["n"]}


async def _flaky(ctx: JobContext) -> dict[str, Any]:
    """Fails while ``FAILS_LEFT[key]`` lasts; its write of the attempt is rolled back with it."""
    key = str(ctx.payload["key"])
    await enqueue(ctx.session, "test_noop", dedupe_key=f"side:{key}:{ctx.attempt}")
    if FAILS_LEFT.get(key, 0) > 0:
        FAILS_LEFT[key] -= 1
        raise RuntimeError(f"upstream refused attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}


async def _noop(ctx: JobContext) -> None:
    return None


register("test_record", _record)
register("test_flaky", _flaky, max_attempts=3)
register("test_noop", _noop)


@pytest.fixture
async def maker(app, world: World) -> async_sessionmaker[AsyncSession]:  # type: ignore[no-untyped-def]
    """The app's sessions, on a database the world fixture emptied (jobs included)."""
    RUNS.clear()
    FAILS_LEFT.clear()
    return app.state.sessionmaker


@pytest.fixture
async def other_maker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A second engine, as a second process or instance would have."""
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def jobs(maker: async_sessionmaker[AsyncSession], **where: Any) -> list[Job]:
    async with maker() as s:
        stmt = select(Job).filter_by(**where).order_by(Job.created_at, Job.id)
        return list((await s.execute(stmt)).scalars().all())


async def make_due(maker: async_sessionmaker[AsyncSession], job_id: str) -> None:
    """Time passes: the retry (or the lease) is due now."""
    async with maker() as s:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await s.execute(update(Job).where(Job.id == job_id).values(run_at=past))
        await s.commit()


# ---- enqueue -------------------------------------------------------------------------------


async def test_a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(maker, settings) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        await enqueue(s, "test_record", {"n": 1})
        await s.rollback()
    assert await jobs(maker) == []
    assert await Worker(maker, settings).drain() == []
    async with maker() as s:
        job_id = await enqueue(s, "test_record", {"n": 2})
        await s.commit()
    [job] = await jobs(maker)
    assert (job.id, job.status, job.attempts, job.payload) == (job_id, "queued", 0, {"n": 2})
    [outcome] = await Worker(maker, settings).drain()
    assert outcome.status == "succeeded"
    [job] = await jobs(maker)
    assert (job.status, job.result, job.locked_by) == ("succeeded", {"n": 2}, None)
    assert job.finished_at is not None and job.attempts == 1


async def test_an_unknown_kind_cannot_be_enqueued(maker) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        with pytest.raises(LookupError):
            await enqueue(s, "no_such_kind", {})


async def test_a_dedupe_key_enqueues_once(maker, other_maker) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        first = await enqueue(s, "test_noop", dedupe_key="k:1")
        await s.commit()
    async with other_maker() as s:
        again = await enqueue(s, "test_noop", dedupe_key="k:1")
        await s.commit()
    assert first is not None and again is None
    assert len(await jobs(maker)) == 1


# ---- claiming ------------------------------------------------------------------------------


async def test_two_workers_never_run_one_job_twice(maker, other_maker, settings) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        for n in range(30):
            await enqueue(s, "test_record", {"n": n})
        await s.commit()
    one, two = Worker(maker, settings, name="one"), Worker(other_maker, settings, name="two")
    results = await asyncio.gather(one.drain(), two.drain(), one.drain())
    assert sorted(n for _, n in RUNS) == list(range(30))  # each exactly once
    assert sum(len(r) for r in results) == 30
    assert all(o.status == "succeeded" for r in results for o in r)
    done = await jobs(maker)
    assert {j.status for j in done} == {"succeeded"} and {j.attempts for j in done} == {1}


async def test_concurrent_claims_of_one_job_give_it_to_one_worker(  # type: ignore[no-untyped-def]
    maker, other_maker, settings
) -> None:
    async with maker() as s:
        await enqueue(s, "test_record", {"n": 7})
        await s.commit()
    workers = [Worker(m, settings) for m in (maker, other_maker, maker, other_maker)]
    claims = await asyncio.gather(*(w.claim() for w in workers))
    assert sum(c is not None for c in claims) == 1
    [job] = await jobs(maker)
    assert job.status == "running" and job.attempts == 1
    assert job.locked_by == next(w.name for w, c in zip(workers, claims, strict=True) if c)
    assert job.locked_until is not None and job.locked_until > datetime.now(UTC)


async def test_a_job_locked_by_a_claiming_worker_is_skipped_not_waited_for(  # type: ignore[no-untyped-def]
    maker, other_maker, settings
) -> None:
    """PostgreSQL: ``FOR UPDATE SKIP LOCKED`` passes over a row another transaction is claiming
    (SQLite has one writer at a time and needs no row locks)."""
    async with maker() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's")
        first = await enqueue(s, "test_record", {"n": 1})
        second = await enqueue(s, "test_record", {"n": 2})
        await s.commit()
    async with maker() as holder:
        # the first job is being claimed by someone else right now
        await holder.execute(select(Job.id).where(Job.id == first).with_for_update())
        claimed = await asyncio.wait_for(Worker(other_maker, settings).claim(), timeout=5)
        assert claimed is not None and claimed.id == second
        assert await asyncio.wait_for(Worker(other_maker, settings).claim(), timeout=5) is None
        await holder.rollback()


# ---- failure, back-off, dead ---------------------------------------------------------------


def test_back_off_doubles_with_jitter_and_is_capped() -> None:
    for attempts, base in ((1, 30), (2, 60), (3, 120), (5, 480)):
        values = [backoff_seconds(attempts) for _ in range(50)]
        assert all(base <= v <= base * 1.25 for v in values), attempts
        assert len(set(values)) > 1  # jitter
    assert backoff_seconds(30) <= job_queue.BACKOFF_CAP_SECONDS * 1.25


async def test_a_failing_job_is_retried_with_back_off_then_dead(maker, settings) -> None:  # type: ignore[no-untyped-def]
    FAILS_LEFT["a"] = 99
    async with maker() as s:
        job_id = await enqueue(s, "test_flaky", {"key": "a"})
        await s.commit()
    worker = Worker(maker, settings)
    for attempt in (1, 2):
        before = datetime.now(UTC)
        [outcome] = await worker.drain()
        assert outcome.status == "failed"
        [job] = await jobs(maker, kind="test_flaky")
        assert (job.status, job.attempts, job.locked_by) == ("failed", attempt, None)
        assert job.last_error == f"RuntimeError: upstream refused attempt {attempt}"
        delay = (job.run_at - before).total_seconds()
        base = BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        assert base - 1 <= delay <= base * 1.25 + 1, delay
        assert await worker.drain() == []  # not due before its retry
        await make_due(maker, job_id)  # type: ignore[arg-type]
    [outcome] = await worker.drain()
    assert outcome.status == "dead"
    [job] = await jobs(maker, kind="test_flaky")
    assert (job.status, job.attempts, job.max_attempts) == ("dead", 3, 3)
    assert job.finished_at is not None
    assert await worker.drain() == []  # dead stays dead
    # every failed attempt's own writes were rolled back with it
    assert await jobs(maker, kind="test_noop") == []


async def test_a_job_that_fails_once_succeeds_on_its_retry(maker, settings) -> None:  # type: ignore[no-untyped-def]
    FAILS_LEFT["b"] = 1
    async with maker() as s:
        job_id = await enqueue(s, "test_flaky", {"key": "b"})
        await s.commit()
    worker = Worker(maker, settings)
    assert [o.status for o in await worker.drain()] == ["failed"]
    await make_due(maker, job_id)  # type: ignore[arg-type]
    # the job, then the job its successful attempt enqueued in the same transaction
    ran = await worker.drain()
    assert [(o.job.kind, o.status) for o in ran] == [
        ("test_flaky", "succeeded"),
        ("test_noop", "succeeded"),
    ]
    [job] = await jobs(maker, kind="test_flaky")
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})
    assert job.last_error is not None  # the failure before stays visible
    assert [j.dedupe_key for j in await jobs(maker, kind="test_noop")] == ["side:b:2"]


# ---- leases --------------------------------------------------------------------------------


async def expire_lease(maker: async_sessionmaker[AsyncSession], job_id: str) -> None:
    async with maker() as s:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await s.execute(update(Job).where(Job.id == job_id).values(locked_until=past))
        await s.commit()


async def test_an_expired_lease_is_reclaimed_and_the_first_worker_cannot_finish(  # type: ignore[no-untyped-def]
    maker, other_maker, settings
) -> None:
    async with maker() as s:
        job_id = await enqueue(s, "test_flaky", {"key": "c"})
        await s.commit()
    crashed, rescuer = Worker(maker, settings, name="crashed"), Worker(other_maker, settings)
    held = await crashed.claim()
    assert held is not None and held.attempt == 1
    assert await rescuer.claim() is None  # leased: nobody else takes it
    await expire_lease(maker, job_id)  # type: ignore[arg-type]
    taken = await rescuer.claim()
    assert taken is not None and (taken.id, taken.attempt) == (job_id, 2)
    assert (await rescuer.run(taken)).status == "succeeded"
    # the first worker wakes up and finishes late: refused, its work rolled back
    assert (await crashed.run(held)).status == "lease_lost"
    [job] = await jobs(maker, kind="test_flaky")
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})
    assert [j.dedupe_key for j in await jobs(maker, kind="test_noop")] == ["side:c:2"]


async def test_a_lease_that_expires_on_the_last_attempt_makes_the_job_dead(maker, settings) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        job_id = await enqueue(s, "test_noop", max_attempts=1)
        await s.commit()
    assert await Worker(maker, settings).claim() is not None
    await expire_lease(maker, job_id)  # type: ignore[arg-type]
    assert await Worker(maker, settings).drain() == []
    [job] = await jobs(maker)
    assert (job.status, job.last_error) == ("dead", "lease expired on the last attempt")


async def test_the_lease_setting_replaces_every_kinds_own(maker, settings) -> None:  # type: ignore[no-untyped-def]
    """``ANJIAN_JOB_LEASE_SECONDS``: a job of a dead worker is taken again after it, whatever
    its kind registered (tests/test_import_restart.py relies on it with real processes)."""
    async with maker() as s:
        await enqueue(s, "test_noop")
        await s.commit()
    short = settings.model_copy(update={"job_lease_seconds": 7})
    before = datetime.now(UTC)
    assert await Worker(maker, short).claim() is not None
    [job] = await jobs(maker)
    until = job.locked_until.replace(tzinfo=job.locked_until.tzinfo or UTC)
    assert timedelta(seconds=6) < until - before < timedelta(seconds=9)  # not the kind's 300 s


# ---- the periodic jobs on the queue --------------------------------------------------------


async def test_the_daily_overdue_job_is_enqueued_once_when_two_schedulers_tick(  # type: ignore[no-untyped-def]
    maker, other_maker, settings: Settings
) -> None:
    await asyncio.gather(*(schedule(m, settings) for m in (maker, other_maker) * 3))
    async with maker() as s:
        n = (
            await s.execute(select(func.count()).select_from(Job).where(Job.kind == "overdue"))
        ).scalar_one()
    assert n == 1
    [job] = await jobs(maker, kind="overdue")
    today = datetime.now(UTC).astimezone(settings_zone(settings)).date().isoformat()
    assert (job.dedupe_key, job.payload) == (f"overdue:{today}", {"today": today})
    # the next day brings the next one
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await asyncio.gather(
        schedule(maker, settings, tomorrow), schedule(other_maker, settings, tomorrow)
    )
    assert len(await jobs(maker, kind="overdue")) == 2
    # two workers drain: each day's job runs once
    reports = await asyncio.gather(
        run_jobs(maker, settings, "t-a"), run_jobs(other_maker, settings, "t-b")
    )
    assert sum(isinstance(r["overdue"], dict) for r in reports) == 1  # today's: one ran it
    assert {j.status for j in await jobs(maker, kind="overdue")} == {"succeeded"}
    assert {j.attempts for j in await jobs(maker, kind="overdue")} == {1}


def settings_zone(settings: Settings):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)


# ---- the admin view ------------------------------------------------------------------------


async def test_only_admins_see_the_queue(client, world: World, maker, settings) -> None:  # type: ignore[no-untyped-def]
    await run_jobs(maker, settings, "t-view")
    [overdue] = await jobs(maker, kind="overdue")
    for actor in world.tokens:
        r = await client.get("/api/v1/jobs", headers=world.h(actor))
        d = await client.get(f"/api/v1/jobs/{overdue.id}", headers=world.h(actor))
        if actor == "admin":
            assert r.status_code == 200, r.text
            assert {j["kind"] for j in r.json()["items"]} == {"overdue", "housekeeping"}
            assert d.status_code == 200, d.text
        else:
            assert (r.status_code, d.status_code) == (403, 403), actor
            assert r.json()["code"] == "forbidden"
    assert (await client.get("/api/v1/jobs")).status_code == 401


async def test_the_job_list_filters_sorts_and_pages(client, world: World, maker, settings) -> None:  # type: ignore[no-untyped-def]
    await run_jobs(maker, settings, "t-list")
    FAILS_LEFT["d"] = 99
    async with maker() as s:
        await enqueue(s, "housekeeping", {}, run_at=datetime.now(UTC) + timedelta(hours=1))
        await s.commit()
    admin = world.h("admin")
    r = await client.get("/api/v1/jobs?status=succeeded", headers=admin)
    assert r.status_code == 200
    assert sorted(j["kind"] for j in r.json()["items"]) == ["housekeeping", "overdue"]
    [later] = (await client.get("/api/v1/jobs?status=queued,failed", headers=admin)).json()["items"]
    assert later["kind"] == "housekeeping" and later["attempts"] == 0
    assert later["locked_by"] is None and later["result"] is None
    r = await client.get("/api/v1/jobs?kind=overdue&include_total=true", headers=admin)
    [overdue] = r.json()["items"]
    assert r.json()["total"] == 1
    assert overdue["status"] == "succeeded" and overdue["result"] == {
        "marked": 0,
        "reminders": 0,
        "warnings": 0,
        "notifications": 0,
    }
    assert overdue["dedupe_key"].startswith("overdue:")
    detail = (await client.get(f"/api/v1/jobs/{overdue['id']}", headers=admin)).json()
    assert detail == overdue
    # pages by run_at, newest first, three jobs two at a time
    first = (await client.get("/api/v1/jobs?sort=-run_at&limit=2", headers=admin)).json()
    assert first["items"][0]["id"] == later["id"] and first["next_cursor"]
    rest = await client.get(
        f"/api/v1/jobs?sort=-run_at&limit=2&cursor={first['next_cursor']}", headers=admin
    )
    assert len(first["items"]) + len(rest.json()["items"]) == 3
    assert rest.json()["next_cursor"] is None
    for bad in ("status=lost", "kind=nothing", "sort=kind", "colour=red"):
        r = await client.get(f"/api/v1/jobs?{bad}", headers=admin)
        assert r.status_code == 422, bad
    r = await client.get("/api/v1/jobs/does-not-exist", headers=admin)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


async def test_a_job_page_and_a_job_are_one_statement_each(
    client, world: World, maker, settings
) -> None:  # type: ignore[no-untyped-def]
    await run_jobs(maker, settings, "t-budget")
    [overdue] = await jobs(maker, kind="overdue")
    admin = world.h("admin")
    assert (await client.get("/api/v1/jobs", headers=admin)).status_code == 200  # caller cached
    for path in ("/api/v1/jobs?status=succeeded&kind=overdue", f"/api/v1/jobs/{overdue.id}"):
        with statements(client._transport.app) as seen:
            assert (await client.get(path, headers=admin)).status_code == 200
        assert len(seen) == 1, (path, seen)


async def test_the_server_schedules_and_works_the_queue(maker, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.services import jobs as jobs_module

    monkeypatch.setattr(jobs_module.random, "uniform", lambda a, b: a)
    task = asyncio.create_task(jobs_module.scheduler_loop(maker, settings))
    try:
        for _ in range(100):
            await asyncio.sleep(0.1)
            done = await jobs(maker, status="succeeded")
            if {j.kind for j in done} == {"overdue", "housekeeping"}:
                break
        assert {j.kind for j in done} == {"overdue", "housekeeping"}
    finally:
        task.cancel()


# ---- leases renewed while a job runs, and handed back on shutdown --------------------------

STARTED = asyncio.Event()


async def _slow(ctx: JobContext) -> dict[str, Any]:
    """Runs for ``seconds``: longer than its kind's one-second lease."""
    STARTED.set()
    await asyncio.sleep(float(ctx.payload["seconds"]))
    return {"slept": ctx.payload["seconds"]}


register("test_slow", _slow, lease_seconds=1)


async def test_a_long_job_keeps_its_lease_while_it_runs(maker, other_maker, settings) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        await enqueue(s, "test_slow", {"seconds": 2.5})
        await s.commit()
    runner, other = Worker(maker, settings, name="runner"), Worker(other_maker, settings)
    job = await runner.claim()
    assert job is not None
    running = asyncio.create_task(runner.run(job))
    for _ in range(5):  # 2.5 s in all, past two and a half leases
        await asyncio.sleep(0.5)
        assert await other.claim() is None  # renewed: never free for the taking
    outcome = await running
    assert outcome.status == "succeeded"
    [row] = await jobs(maker, kind="test_slow")
    assert (row.status, row.attempts, row.locked_by) == ("succeeded", 1, None)


async def test_a_job_running_at_shutdown_is_due_again_at_once(maker, other_maker, settings) -> None:  # type: ignore[no-untyped-def]
    async with maker() as s:
        await enqueue(s, "test_slow", {"seconds": 30})
        await s.commit()
    STARTED.clear()
    loop = asyncio.create_task(job_queue.worker_loop(Worker(maker, settings, name="stopping")))
    await asyncio.wait_for(STARTED.wait(), 10)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    [row] = await jobs(maker, kind="test_slow")
    assert (row.status, row.attempts, row.locked_by, row.locked_until) == ("queued", 0, None, None)
    taken = await Worker(other_maker, settings).claim()  # another worker, right away
    assert taken is not None and taken.attempt == 1
