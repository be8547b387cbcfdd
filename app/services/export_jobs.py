"""Export jobs (issue 16): an export of more than ``export_job_threshold_rows`` rows is built by
the jobs worker (app/services/job_queue.py, kind ``export``) into storage, as its creator.

The job re-runs the list with the filters and sort the route read, as the principal that asked
(rebuilt by ``app.auth.deps.resolve_principal`` from its kind, id and credential version: a caller
deactivated, or whose role or credentials changed, since gets ``failed`` and no file). The
worker reads the pages in its own unit of work (one connection for the build: a worker is not
a slow client) and writes the file to a temporary file first, then moves it into storage under
``exports/<id>.<format>``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import resolve_principal
from app.auth.principal import Principal
from app.core.errors import NotFound
from app.core.storage import LocalStorage
from app.models import ExportJob, Job
from app.models.base import utcnow
from app.services import exports
from app.services.export_lists import LISTS, load_filters
from app.services.job_queue import JobContext, register

KIND = "export"
LEASE_SECONDS = 3600  # a million rows take minutes; the lease must outlast a normal run


def storage_of(settings: Any) -> LocalStorage:
    return LocalStorage(settings.data_dir / "files")


async def get_own(session: AsyncSession, p: Principal, export_id: str) -> ExportJob:
    """The export job, for its creator only (anyone else: 404, as if it did not exist)."""
    job = await session.get(ExportJob, export_id)
    if job is None or (job.principal_kind, job.principal_id) != (p.kind, p.id):
        raise NotFound("导出任务不存在", "No such export job")
    return job


async def effective_status(session: AsyncSession, job: ExportJob, job_id: str | None) -> str:
    """``failed`` too when the queue gave the job up (``dead``) before it could record it."""
    if job.status != "queued" or job_id is None:
        return job.status
    queue_status = (
        await session.execute(select(Job.status).where(Job.id == job_id))
    ).scalar_one_or_none()
    return "failed" if queue_status == "dead" else job.status


@asynccontextmanager
async def _same(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    yield session


def _fail(job: ExportJob, zh: str, en: str) -> dict[str, Any]:
    job.status, job.error, job.finished_at = "failed", f"{zh} | {en}", utcnow()
    return {"status": "failed", "error": en}


async def run_export(ctx: JobContext) -> dict[str, Any]:
    session = ctx.session
    job = await session.get(ExportJob, str(ctx.payload["export_id"]))
    if job is None or job.status != "queued":
        return {"skipped": True}
    p = await resolve_principal(session, job.principal_kind, job.principal_id, job.principal_cv)
    entry = LISTS[job.list_name]
    if p is None or not p.can(entry.permission):
        return _fail(
            job,
            "导出发起人已停用或其角色、凭据已变更",
            "The caller who asked was deactivated, or its role or credentials changed",
        )
    fetch = entry.make_fetch(p, ctx.settings, load_filters(job.list_name, job.filters), job.english)
    source = exports.Source(fetch, job.sort, lambda: _same(session))
    lang = "en" if job.lang == "en" else "zh"
    tz = ctx.settings.timezone
    if job.format == "xlsx":
        path, rows = await exports.build_xlsx(entry.spec, source, lang, tz, None)
    else:
        path, rows = await exports.build_csv_file(entry.spec, source, lang, tz)
    key = f"exports/{job.id}.{job.format}"
    target = storage_of(ctx.settings).local_path(key)
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)
    job.status, job.rows, job.file_key, job.finished_at = "succeeded", rows, key, utcnow()
    return {"export_id": job.id, "rows": rows}


register(KIND, run_export, max_attempts=3, lease_seconds=LEASE_SECONDS)
