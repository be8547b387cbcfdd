"""Periodic jobs on the one queue (app/services/job_queue.py): overdue marking with reminders,
and housekeeping.

The scheduler enqueues each periodic job with a dedupe key (``overdue:<local day>``,
``housekeeping:<interval slot>``); the key is unique, so with several workers or instances each
is enqueued once, and a worker claims it once. The work itself is idempotent too (a hazard is
marked once per deadline, a reminder is unique per hazard, kind, deadline, day and recipient and
its notifications are written only with it), so nothing is sent twice even if a job is run
again after a crash.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import local_today
from app.core.config import Settings
from app.models import Hazard, HazardEvent, IdempotencyRecord, Job
from app.models.base import utcnow
from app.services import rate_limit, reminders
from app.services.auth import purge_old_failures
from app.services.changes import feed as change_feed
from app.services.hazards.queries import overdue_condition
from app.services.imports import service as _imports  # noqa: F401 - registers the kind "import"
from app.services.job_queue import JobContext, Outcome, Worker, enqueue, register, worker_loop
from app.services.tasks import overdue as task_overdue

log = logging.getLogger("anjian.jobs")
BATCH = 1000
KEEP_FINISHED_DAYS = 30


async def mark_overdue(session: AsyncSession, settings: Settings, today: date) -> dict[str, int]:
    """Marks newly overdue hazards (one event per deadline) and reminds every unit responsible
    and the enterprise of each overdue hazard, once a day (app/services/reminders.py)."""
    now = utcnow()
    rows = (
        await session.execute(
            reminders.due(overdue_condition(today), Hazard.status, Hazard.overdue_marked_on)
        )
    ).all()
    if not rows:
        return {"marked": 0, "reminders": 0, "notifications": 0}
    marked = 0
    newly: list[str] = []
    events: list[HazardEvent] = []
    for r in rows:
        if r.overdue_marked_on is None:
            newly.append(r.id)
            events.append(
                HazardEvent(
                    hazard_id=r.id,
                    action="mark_overdue",
                    from_status=r.status,
                    to_status=r.status,
                    actor_kind="system",
                    actor_id=None,
                    actor_name=None,
                    note=f"已超过整改期限 {r.deadline.isoformat()}",
                    payload={"deadline": r.deadline.isoformat()},
                    attachment_ids=[],
                    created_at=now,
                )
            )
    for start in range(0, len(newly), BATCH):
        chunk = newly[start : start + BATCH]
        hazards = (
            (await session.execute(select(Hazard).where(Hazard.id.in_(chunk)))).scalars().all()
        )
        for h in hazards:
            h.overdue_marked_on = today
            marked += 1
    session.add_all(events)
    await session.flush()
    written = await reminders.remind(session, "overdue", today, rows)
    return {"marked": marked, **written}


async def daily(session: AsyncSession, settings: Settings, today: date) -> dict[str, int]:
    """The day's run: overdue marks and reminders, then the early warnings (预警) of the day,
    then the notices of overdue task parts (counted in ``notifications``)."""
    overdue = await mark_overdue(session, settings, today)
    warned = await reminders.warn_deadlines(session, settings.reminder_offsets_days, today)
    tasks = await task_overdue.notify_overdue(session, today)
    return {
        "marked": overdue["marked"],
        "reminders": overdue["reminders"],
        "warnings": warned["reminders"],
        "notifications": overdue["notifications"]
        + warned["notifications"]
        + tasks["notifications"],
    }


async def housekeeping(session: AsyncSession, settings: Settings) -> dict[str, int]:
    now = utcnow()
    idem = await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - timedelta(seconds=settings.idempotency_ttl_seconds)
        )
    )
    logins = await purge_old_failures(session, settings)
    limits = await rate_limit.prune(session, now)
    # Finished jobs are kept a month (their dedupe keys with them: a day's overdue job is never
    # enqueued again after its day, so nothing depends on a key older than that).
    jobs = await session.execute(
        delete(Job).where(
            Job.status.in_(("succeeded", "dead")),
            Job.finished_at < now - timedelta(days=KEEP_FINISHED_DAYS),
        )
    )
    # A subscription's delivery job runs after every burst of changes: its finished jobs are
    # kept a day (the delivery log keeps the attempts a month).
    deliveries_done = await session.execute(
        delete(Job).where(
            Job.kind.in_(webhook_delivery.KINDS),
            Job.status == "succeeded",
            Job.finished_at < now - timedelta(days=1),
        )
    )
    exported = await export_jobs.housekeeping(session, settings)
    changes = await change_feed.purge(session, settings)
    deliveries = await webhook_delivery.housekeeping(session)
    return {
        "idempotency_records": idem.rowcount or 0,
        "login_throttles": logins,
        "rate_limits": limits,
        "jobs": (jobs.rowcount or 0) + (deliveries_done.rowcount or 0),
        **exported,
        "changes": changes,
        "webhook_deliveries": deliveries,
    }


async def _overdue_job(ctx: JobContext) -> dict[str, Any]:
    """The local day is the payload's: a retry after midnight still finishes that day's run."""
    return await daily(ctx.session, ctx.settings, date.fromisoformat(ctx.payload["today"]))


async def _housekeeping_job(ctx: JobContext) -> dict[str, Any]:
    return await housekeeping(ctx.session, ctx.settings)


register("overdue", _overdue_job)
register("housekeeping", _housekeeping_job)
# issue 16: list exports too large to answer at once (registers the kind ``export``; imported
# last: the export lists import most services)
from app.services import export_jobs  # noqa: E402
from app.services.webhooks import delivery as webhook_delivery  # noqa: E402

# Webhook deliveries run on workers of their own in each process (a subscription's job sends
# its changes in order; two workers serve two subscriptions at once).
WEBHOOK_WORKERS = 2


def interval_slot(settings: Settings, now: datetime | None = None) -> str:
    seconds = settings.scheduler_interval_seconds
    ts = now.timestamp() if now is not None else time.time()
    return f"every{seconds}-{int(ts) // seconds}"


def periodic_jobs(
    settings: Settings, now: datetime | None = None, slot: str | None = None
) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, dedupe key, payload) of each periodic job due at ``now``: overdue once per local
    day, housekeeping once per scheduler interval (or per ``slot`` when given)."""
    today = local_today(settings.timezone, now).isoformat()
    return [
        ("overdue", f"overdue:{today}", {"today": today}),
        ("housekeeping", f"housekeeping:{slot or interval_slot(settings, now)}", {}),
    ]


async def schedule(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime | None = None,
    slot: str | None = None,
) -> dict[str, str | None]:
    """Enqueues the periodic jobs due at ``now``; per kind the new job's id, or None when
    another scheduler (or an earlier tick) already enqueued it."""
    ids: dict[str, str | None] = {}
    async with maker() as session:
        for kind, key, payload in periodic_jobs(settings, now, slot):
            ids[kind] = await enqueue(session, kind, payload, dedupe_key=key)
        await session.commit()
    return ids


def _report(
    settings: Settings,
    now: datetime | None,
    slot: str | None,
    enqueued: dict[str, str | None],
    outcomes: list[Outcome],
) -> dict[str, Any]:
    ran = {o.job.dedupe_key: o for o in outcomes if o.job.dedupe_key}
    report: dict[str, Any] = {"slot": slot, "jobs_run": len(outcomes)}
    for kind, key, _ in periodic_jobs(settings, now, slot):
        outcome = ran.get(key)
        if outcome is not None and outcome.status == "succeeded":
            report[kind] = outcome.result
        elif outcome is not None:
            report[kind] = f"{outcome.status}: {outcome.error or key}"
        elif enqueued.get(kind) is not None:
            report[kind] = f"skipped: {key} run by another worker"
        else:
            report[kind] = f"skipped: {key} already enqueued"
    return report


async def run_jobs(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    slot: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Enqueues the periodic jobs due at ``now`` and drains the queue once; per periodic kind
    its result when this call ran it, else why not."""
    enqueued = await schedule(maker, settings, now, slot)
    outcomes = await Worker(maker, settings).drain()
    return _report(settings, now, slot, enqueued, outcomes)


async def run_all_once(settings: Settings) -> dict[str, Any]:
    """For cron-style deployments (`anjian jobs run-once`)."""
    from app.core.db import make_engine, make_sessionmaker

    engine = make_engine(settings.resolved_database_url)
    try:
        return await run_jobs(make_sessionmaker(engine), settings)
    finally:
        await engine.dispose()


async def _schedule_loop(maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    while True:
        try:
            enqueued = await schedule(maker, settings)
            log.info("jobs scheduled", extra={"report": enqueued})
        except Exception:
            log.exception("scheduling periodic jobs failed")
        await asyncio.sleep(settings.scheduler_interval_seconds)


async def scheduler_loop(maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Started with the server: every process enqueues the periodic jobs each interval (the
    dedupe keys keep one of each) and works the queue (claims keep each job to one worker)."""
    await asyncio.sleep(random.uniform(1, 5))
    worker = Worker(maker, settings, exclude=webhook_delivery.KINDS)
    tasks = [
        asyncio.create_task(_schedule_loop(maker, settings)),
        asyncio.create_task(webhook_delivery.pump_loop(maker, settings)),
        *(
            asyncio.create_task(worker_loop(Worker(maker, settings, kinds=webhook_delivery.KINDS)))
            for _ in range(WEBHOOK_WORKERS)
        ),
    ]
    try:
        await worker_loop(worker)
    finally:
        for task in tasks:
            task.cancel()
