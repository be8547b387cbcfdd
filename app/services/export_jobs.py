"""Export jobs (issue 16): an export of more than ``export_job_threshold_rows`` rows is built by
the jobs worker (app/services/job_queue.py, kind ``export``) into storage, as its creator.

The job re-runs the list with the filters and sort the route read, as the principal that asked
(rebuilt by ``app.auth.deps.resolve_principal`` from its kind, id and credential version: a caller
deactivated, or whose role or credentials changed, since gets ``failed`` and no file). The
worker reads the pages in its own unit of work (one connection for the build: a worker is not
a slow client) and writes the file to a temporary file first, then moves it into storage under
``file_key`` (``exports/<id>.<format>``, named when the job is made, so a file can always be
found by its row).

Life of a job: ``queued`` → (``running`` while a worker builds it, read from the queue) →
``succeeded`` | ``failed`` | ``cancelled``; a built file is kept ``export_retention_hours``,
then housekeeping marks the job ``expired`` and deletes the file. The worker's last write is
conditional on the job still being ``queued``, so a cancel that arrives while it builds wins
(the worker also looks between pages and stops early). Housekeeping deletes the files of jobs
that ended without one (cancelled, failed, expired) and forgets their ``file_key``.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import resolve_principal
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import Conflict, NotFound
from app.core.storage import LocalStorage
from app.models import ExportJob, Job
from app.models.base import utcnow
from app.services import exports
from app.services.export_lists import LISTS, load_filters
from app.services.job_queue import JobContext, register

KIND = "export"
LEASE_SECONDS = 3600  # a million rows take minutes; the lease must outlast a normal run
ENDED = ("failed", "cancelled", "expired")
KEEP_ROWS_DAYS = 30  # a job's row is kept a month after it ended (as the queue's jobs are)


class ExportCancelled(Exception):
    """The job was cancelled while it was being built: stop reading pages."""


def storage_of(settings: Any) -> LocalStorage:
    return LocalStorage(settings.data_dir / "files")


def file_key(export_id: str, fmt: str) -> str:
    return f"exports/{export_id}.{fmt}"


def _own(p: Principal, export_id: str) -> Select[Any]:
    """The job with its queue job's status, for its creator only: one statement."""
    return (
        select(ExportJob, Job.status.label("queue_status"))
        .outerjoin(Job, Job.id == ExportJob.job_id)
        .where(
            ExportJob.id == export_id,
            ExportJob.principal_kind == p.kind,
            ExportJob.principal_id == p.id,
        )
    )


async def get_own(session: AsyncSession, p: Principal, export_id: str) -> tuple[ExportJob, str]:
    """The export job and its status as a client sees it; anyone but its creator: 404."""
    row = (await session.execute(_own(p, export_id))).first()
    if row is None:
        raise NotFound("导出任务不存在", "No such export job")
    return row.ExportJob, effective_status(row.ExportJob.status, row.queue_status)


def effective_status(status: str, queue_status: str | None) -> str:
    """A ``queued`` job is ``running`` while a worker holds it and ``failed`` once the queue gave
    it up (``dead``) before it could record that itself."""
    if status != "queued":
        return status
    if queue_status == "running":
        return "running"
    return "failed" if queue_status == "dead" else status


def expires_at(job: ExportJob, settings: Settings) -> datetime | None:
    if job.status != "succeeded" or job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=settings.export_retention_hours)


def _finished() -> Conflict:
    return Conflict(
        "导出任务已结束，不能取消",
        "The export has finished; it cannot be cancelled",
        code="invalid_transition",
    )


async def cancel(session: AsyncSession, p: Principal, export_id: str) -> tuple[ExportJob, str]:
    """A queued or running export is cancelled at once (a worker building it stops at its next
    page and keeps nothing); a finished one cannot be (409)."""
    job, status = await get_own(session, p, export_id)
    if status not in ("queued", "running"):
        raise _finished()
    now = utcnow()
    done = await session.execute(
        update(ExportJob)
        .where(ExportJob.id == job.id, ExportJob.status == "queued")
        .values(status="cancelled", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # the worker recorded its end first
        raise _finished()
    job.status, job.finished_at = "cancelled", now
    return job, "cancelled"


async def _finish(session: AsyncSession, export_id: str, **values: Any) -> bool:
    """Records the job's end unless it was cancelled meanwhile (then False)."""
    done = await session.execute(
        update(ExportJob)
        .where(ExportJob.id == export_id, ExportJob.status == "queued")
        .values(finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def _stop_if_cancelled(session: AsyncSession, export_id: str) -> Any:
    async def check() -> None:
        status = (
            await session.execute(select(ExportJob.status).where(ExportJob.id == export_id))
        ).scalar_one_or_none()
        if status != "queued":
            raise ExportCancelled(export_id)

    return check


async def run_export(ctx: JobContext) -> dict[str, Any]:
    session = ctx.session
    export_id = str(ctx.payload["export_id"])
    job = await session.get(ExportJob, export_id)
    if job is None or job.status != "queued":
        return {"skipped": True}
    p = await resolve_principal(session, job.principal_kind, job.principal_id, job.principal_cv)
    entry = LISTS[job.list_name]
    if p is None or not p.can(entry.permission):
        await _finish(
            session,
            export_id,
            status="failed",
            error="导出发起人已停用或其角色、凭据已变更 | The caller who asked was deactivated, "
            "or its role or credentials changed",
        )
        return {"status": "failed"}
    fetch = entry.make_fetch(p, ctx.settings, load_filters(job.list_name, job.filters), job.english)
    source = exports.Source(
        fetch,
        job.sort,
        lambda: exports.same_reader(session),
        between=_stop_if_cancelled(session, export_id),
    )
    lang = "en" if job.lang == "en" else "zh"
    tz = ctx.settings.timezone
    try:
        if job.format == "xlsx":
            path, rows = await exports.build_xlsx(entry.spec, source, lang, tz, None)
        else:
            path, rows = await exports.build_csv_file(entry.spec, source, lang, tz)
    except ExportCancelled:
        return {"cancelled": True}
    key = job.file_key or file_key(job.id, job.format)
    storage = storage_of(ctx.settings)
    target = storage.local_path(key)
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    if not await _finish(session, export_id, status="succeeded", rows=rows, file_key=key):
        await storage.delete(key)  # cancelled while it was built
        return {"cancelled": True}
    return {"export_id": export_id, "rows": rows}


async def housekeeping(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Jobs the queue gave up are ``failed``; built files older than the retention are
    ``expired``; the files of ended jobs are deleted (those that ended before this run: a
    rollback of this run cannot leave a ``succeeded`` job without its file); rows a month
    after their end are deleted."""
    now = utcnow()
    storage = storage_of(settings)
    ended = (
        await session.execute(
            select(ExportJob.id, ExportJob.file_key).where(
                ExportJob.status.in_(ENDED), ExportJob.file_key.is_not(None)
            )
        )
    ).all()
    for row in ended:
        await storage.delete(row.file_key)
    if ended:
        await session.execute(
            update(ExportJob)
            .where(ExportJob.id.in_([r.id for r in ended]))
            .values(file_key=None)
            .execution_options(synchronize_session=False)
        )
    dead = select(Job.id).where(Job.status == "dead")
    given_up = await session.execute(
        update(ExportJob)
        .where(ExportJob.status == "queued", ExportJob.job_id.in_(dead))
        .values(
            status="failed",
            finished_at=now,
            error="导出多次失败，已放弃 | The export failed on every attempt",
        )
        .execution_options(synchronize_session=False)
    )
    expired = await session.execute(
        update(ExportJob)
        .where(
            ExportJob.status == "succeeded",
            ExportJob.finished_at < now - timedelta(hours=settings.export_retention_hours),
        )
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    forgotten = await session.execute(
        delete(ExportJob)
        .where(
            ExportJob.status.in_(ENDED),
            ExportJob.file_key.is_(None),
            ExportJob.finished_at < now - timedelta(days=KEEP_ROWS_DAYS),
        )
        .execution_options(synchronize_session=False)
    )
    return {
        "export_files_deleted": len(ended),
        "exports_failed": given_up.rowcount or 0,
        "exports_expired": expired.rowcount or 0,
        "export_jobs_deleted": forgotten.rowcount or 0,
    }


register(KIND, run_export, max_attempts=3, lease_seconds=LEASE_SECONDS)
