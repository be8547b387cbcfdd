"""Periodic jobs: overdue marking with reminders, and housekeeping.

Safe with several workers or instances: each run first claims its slot in ``job_runs``; the
primary key lets exactly one claimant win. The work itself is idempotent too (a hazard is marked
once per deadline, a reminder is unique per hazard, kind and day), so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import local_today
from app.core.config import Settings
from app.models import (
    Enterprise,
    Hazard,
    HazardEvent,
    IdempotencyRecord,
    JobRun,
    Reminder,
)
from app.models.base import utcnow
from app.services.auth import purge_old_failures
from app.services.hazards.queries import overdue_condition
from app.services.reminders import overdue_message

log = logging.getLogger("anjian.jobs")
BATCH = 1000


async def claim(maker: async_sessionmaker[AsyncSession], job: str, slot: str) -> bool:
    async with maker() as session:
        session.add(JobRun(job=job, slot=slot, started_at=utcnow(), result={}))
        try:
            await session.commit()
        except IntegrityError:
            return False
    return True


async def _finish(
    maker: async_sessionmaker[AsyncSession], job: str, slot: str, result: dict[str, Any]
) -> None:
    async with maker() as session:
        run = await session.get(JobRun, (job, slot))
        if run is not None:
            run.finished_at = utcnow()
            run.result = result
            await session.commit()


async def mark_overdue(session: AsyncSession, settings: Settings, today: date) -> dict[str, int]:
    """Marks newly overdue hazards (one event each) and reminds the enterprise and its department daily."""
    now = utcnow()
    rows = (
        await session.execute(
            select(
                Hazard.id,
                Hazard.number,
                Hazard.title,
                Hazard.deadline,
                Hazard.status,
                Hazard.enterprise_id,
                Hazard.overdue_marked_on,
                Enterprise.enforcement_department_id,
            )
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(overdue_condition(today))
        )
    ).all()
    if not rows:
        return {"marked": 0, "reminders": 0}
    reminded = set(
        (
            await session.execute(
                select(Reminder.hazard_id).where(
                    Reminder.kind == "overdue", Reminder.on_date == today
                )
            )
        ).scalars()
    )
    marked = 0
    newly: list[str] = []
    reminders: list[Reminder] = []
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
        if r.id not in reminded:
            reminders.append(
                Reminder(
                    hazard_id=r.id,
                    enterprise_id=r.enterprise_id,
                    org_unit_id=r.enforcement_department_id,
                    kind="overdue",
                    on_date=today,
                    created_at=now,
                    # Stored in Chinese; English is rendered when read (services/reminders.py).
                    message=overdue_message(r.number, r.title, r.deadline, today, english=False),
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
    session.add_all(reminders)
    await session.flush()
    return {"marked": marked, "reminders": len(reminders)}


async def housekeeping(session: AsyncSession, settings: Settings) -> dict[str, int]:
    now = utcnow()
    idem = await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - timedelta(seconds=settings.idempotency_ttl_seconds)
        )
    )
    logins = await purge_old_failures(session, settings)
    runs = await session.execute(delete(JobRun).where(JobRun.started_at < now - timedelta(days=30)))
    return {
        "idempotency_records": idem.rowcount or 0,
        "login_throttles": logins,
        "job_runs": runs.rowcount or 0,
    }


async def run_jobs(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    slot: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Runs every job for ``slot`` unless another worker already claimed it."""
    report: dict[str, Any] = {"slot": slot}
    today = local_today(settings.timezone, now)
    for job, work in (
        ("overdue", lambda s: mark_overdue(s, settings, today)),
        ("housekeeping", lambda s: housekeeping(s, settings)),
    ):
        if not await claim(maker, job, slot):
            report[job] = "skipped: claimed by another worker"
            continue
        async with maker() as session:
            result = await work(session)
            await session.commit()
        await _finish(maker, job, slot, result)
        report[job] = result
    return report


async def run_all_once(settings: Settings) -> dict[str, Any]:
    """For cron-style deployments (`anjian jobs run-once`)."""
    from app.core.db import make_engine, make_sessionmaker

    engine = make_engine(settings.resolved_database_url)
    try:
        return await run_jobs(make_sessionmaker(engine), settings, f"once-{utcnow().isoformat()}")
    finally:
        await engine.dispose()


def interval_slot(settings: Settings) -> str:
    return f"every{settings.scheduler_interval_seconds}-{int(time.time()) // settings.scheduler_interval_seconds}"


async def scheduler_loop(maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Started with the server; each worker tries every slot, one wins it through the database."""
    await asyncio.sleep(random.uniform(1, 5))
    while True:
        try:
            report = await run_jobs(maker, settings, interval_slot(settings))
            log.info("jobs", extra={"report": report})
        except Exception:
            log.exception("periodic jobs failed")
        await asyncio.sleep(settings.scheduler_interval_seconds)
