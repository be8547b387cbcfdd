"""Import jobs: the upload is stored and a job enqueued in the request's transaction (202); a
worker (any instance) runs it on the jobs mechanism.

The whole import is one transaction, the job's own, and the import's outcome is written in it:
``succeeded`` commits together with every row it applied, so a worker killed midway leaves
nothing half-applied and the job (its lease run out) is taken again from the start. A dry run,
an all-or-nothing run with a failing row, and a cancelled run roll their rows back and record
only the outcome. ``mode=valid_rows`` gives each row a savepoint: a failing row is undone alone.

Progress while running: kept in this process (what ``GET`` answers when the job runs here:
``running``, the total and the rows processed) and on PostgreSQL also written to the row every
``PROGRESS_EVERY`` rows from a short transaction of its own (SQLite has one writer: the import
holds it, so there the row itself says ``queued`` until the end).
Cancellation: a flag in this process, or on the row for a job running elsewhere, read between
rows.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.deps import resolve_principal
from app.auth.principal import Principal
from app.core.errors import AppError, Conflict, NotFound, PayloadTooLarge, ValidationFailed
from app.core.ids import new_id
from app.core.middleware import IMPORT_MAX_BYTES
from app.core.storage import LocalStorage, Storage
from app.models import ImportJob
from app.models.base import utcnow
from app.services import job_queue
from app.services.imports import bulk, workbooks
from app.services.imports import rows as row_rules
from app.services.imports.columns import (
    SPECS,
    CellError,
    Column,
    converter,
    external_system_of,
    text_of,
)
from app.services.imports.kinds import KINDS
from app.services.imports.reader import ImportFileError, Table, read_table

log = logging.getLogger("anjian.imports")

ERRORS_KEPT = 5000
PROGRESS_EVERY = 2000  # rows a chunk: progress, cancellation and bulk writes
MAX_FILE_BYTES = IMPORT_MAX_BYTES
MAX_ROWS = 200_000
JOB_KIND = "import"
# import id -> {"processed", "total", "started_at", "cancel"} of the imports running here
_LIVE: dict[str, dict[str, Any]] = {}


async def create(
    session: AsyncSession,
    p: Principal,
    storage: Storage,
    *,
    kind: str,
    filename: str | None,
    data: bytes,
    dry_run: bool,
    mode: str,
    credit_code_check: str,
    max_bytes: int = MAX_FILE_BYTES,
) -> ImportJob:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"文件超过大小上限（{max_bytes // (1024 * 1024)} MB）",
            f"The file exceeds {max_bytes} bytes",
        )
    if not data:
        raise ValidationFailed.field("file", "文件为空", "The file is empty")
    import_id = new_id()
    key = f"imports/{import_id[:8]}/{import_id}"
    await storage.put(key, data)
    job = ImportJob(
        id=import_id,
        kind=kind,
        status="queued",
        dry_run=dry_run,
        mode=mode,
        credit_code_check=credit_code_check,
        filename=(filename or "import")[:255],
        size=len(data),
        storage_key=key,
        county_code=p.unit.county_code if p.unit else None,
        created_by_kind=p.kind,
        created_by_id=p.id,
        created_by_cv=p.credential_version,
        errors=[],
        created_at=utcnow(),
    )
    session.add(job)
    await session.flush()
    job.job_id = await job_queue.enqueue(
        session, JOB_KIND, {"import_id": import_id}, max_attempts=3
    )
    await session.flush()
    return job


def _visible(p: Principal) -> Any:
    """The caller's own imports; an admin's: every import of its county."""
    own = (ImportJob.created_by_kind == p.kind) & (ImportJob.created_by_id == p.id)
    if p.is_admin and p.unit is not None:
        return own | (ImportJob.county_code == p.unit.county_code)
    return own


async def get(session: AsyncSession, p: Principal, import_id: str) -> ImportJob:
    found = (
        await session.execute(select(ImportJob).where(ImportJob.id == import_id, _visible(p)))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("导入任务不存在", "Import not found")
    return found


async def list_imports(session: AsyncSession, p: Principal, limit: int = 50) -> list[ImportJob]:
    return list(
        (
            await session.execute(
                select(ImportJob)
                .where(_visible(p))
                .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


def out(job: ImportJob) -> dict[str, Any]:
    status, total, processed, started_at = job.status, job.total, job.processed, job.started_at
    live = _LIVE.get(job.id)
    if live is not None and status in ("queued", "running"):
        # Running in this process: what its transaction has not committed yet (on SQLite, whose
        # one writer is the import, the row says ``queued`` until the end).
        status = "running"
        total = max(total, live["total"])
        processed = max(processed, live["processed"])
        started_at = started_at or live["started_at"]
    return {
        "id": job.id,
        "kind": job.kind,
        "status": status,
        "dry_run": job.dry_run,
        "mode": job.mode,
        "credit_code_check": job.credit_code_check,
        "filename": job.filename,
        "size": job.size,
        "applied": job.applied,
        "rows": {
            "total": total,
            "processed": processed,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "failed": job.failed,
        },
        "progress": round(processed / total, 4) if total else None,
        "warnings": job.warnings,
        "errors": job.errors or [],
        "file_error": job.file_error,
        "header_row": job.header_row,
        "encoding": job.encoding,
        "created_at": job.created_at,
        "started_at": started_at,
        "finished_at": job.finished_at,
        "errors_url": f"/api/v1/imports/{job.id}/errors.xlsx" if job.failed else None,
    }


async def cancel(session: AsyncSession, p: Principal, import_id: str) -> ImportJob:
    job = await get(session, p, import_id)
    if job.status not in ("queued", "running"):
        raise Conflict(
            "导入已结束，不能取消",
            "The import has finished; it cannot be cancelled",
            code="invalid_transition",
        )
    live = _LIVE.get(job.id)
    if live is not None:  # running in this process: it stops at the next row
        live["cancel"] = True
        return job
    if job.status == "queued":
        job.status = "cancelled"
        job.finished_at = utcnow()
    job.cancel_requested = True
    await session.flush()
    return job


# ---- the job --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Mapped:
    columns: dict[int, Column]  # column index -> column
    external: dict[int, str]  # column index -> external system
    headers: list[str]
    readers: list[tuple[int, Column, Callable[[object], Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.readers = [(i, c, converter(c)) for i, c in self.columns.items()]


def _map_headers(kind: str, table: Table) -> _Mapped:
    spec = SPECS[kind]
    columns: dict[int, Column] = {}
    external: dict[int, str] = {}
    for i, header in enumerate(table.headers):
        if not header:
            continue
        system = external_system_of(header)
        if system is not None:
            external[i] = system
            continue
        column = spec.column_of(header)
        if column is not None and column not in columns.values():
            columns[i] = column
    present = set(columns.values())
    missing = [c for c in spec.columns if c.required and c not in present]
    if missing:
        names = "、".join(c.header for c in missing)
        raise ImportFileError(
            422,
            f"缺少必填列：{names}",
            "Missing required columns: " + ", ".join(c.field for c in missing),
            code="missing_column",
        )
    return _Mapped(columns, external, table.headers)


def _error(
    mapped: _Mapped, row: int, field: str | None, value: Any, zh: str, en: str, *, code: str
) -> dict[str, Any]:
    column = None
    if field is not None:
        head = field.split(".")[0]
        for i, c in mapped.columns.items():
            if (
                c.field == head
                or c.field.startswith(head + "_")
                or (head == "enforcement_department_id" and c.field == "enforcement_department")
                or (head == "location" and c.field in ("lat", "lng"))
            ):
                column = mapped.headers[i]
                break
        else:
            for i, system in mapped.external.items():
                if field == f"external_ids.{system}":
                    column = mapped.headers[i]
    return {
        "row": row,
        "column": column,
        "value": None if value is None else str(value)[:200],
        "code": code,
        "message_zh": zh,
        "message_en": en,
    }


async def _progress(maker: async_sessionmaker[AsyncSession], import_id: str, **values: Any) -> None:
    """A short transaction of its own (PostgreSQL only: SQLite's one writer is the import)."""
    async with maker() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        await session.execute(update(ImportJob).where(ImportJob.id == import_id).values(**values))
        await session.commit()


async def _progress_and_cancel(
    maker: async_sessionmaker[AsyncSession], import_id: str, processed: int
) -> bool:
    """The progress written (as ``_progress``) and whether a cancel was asked, in this process
    or on the row. On PostgreSQL one statement, ``UPDATE … RETURNING cancel_requested``, in
    autocommit: one round trip a chunk (a transaction of its own would be three more)."""
    async with maker() as session:
        if session.get_bind().dialect.name == "postgresql":
            connection = await session.connection(
                execution_options={"isolation_level": "AUTOCOMMIT"}
            )
            flag = (
                await connection.execute(
                    update(ImportJob.__table__)
                    .where(ImportJob.id == import_id)
                    .values(processed=processed)
                    .returning(ImportJob.cancel_requested)
                )
            ).scalar_one_or_none()
        elif _LIVE.get(import_id, {}).get("cancel"):
            return True
        else:
            flag = (
                await session.execute(
                    select(ImportJob.cancel_requested).where(ImportJob.id == import_id)
                )
            ).scalar_one_or_none()
            await session.rollback()
    return bool(_LIVE.get(import_id, {}).get("cancel") or flag)


_READERS = anyio.CapacityLimiter(2)


async def _off_loop(fn: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


def _read_row(mapped: _Mapped, row_no: int, cells: list[Any]) -> tuple[bulk.Row, dict | None]:
    """A row's cells as its fields and external ids, or the error of its first bad cell."""
    values: dict[str, Any] = {}
    external: dict[str, str] = {}
    bad: dict[str, Any] | None = None
    width = len(cells)
    for i, column, read in mapped.readers:
        cell = cells[i] if i < width else None
        try:
            values[column.field] = read(cell)
        except CellError as exc:
            zh, _, en = str(exc).partition("|")
            bad = _error(mapped, row_no, column.field, cell, zh, en or zh, code="invalid_value")
            break
    for i, system in mapped.external.items():
        cell = cells[i] if i < width else None
        if cell not in (None, ""):
            external[system] = str(text_of(cell))[:100]
    return bulk.Row(row_no, values, external), bad


@contextmanager
def _heap_kept(table: Table) -> Iterator[None]:
    """The file's table (every cell of up to MAX_ROWS rows) held out of the cyclic garbage
    collector while the job runs: it lives until the end anyway, and each full collection
    would walk it again (measured: about a fifth of a 100,000-row job's CPU). ``gc.freeze``
    is process-wide; what it holds back is collected normally again after ``unfreeze``."""
    del table  # what is frozen: everything alive now, the table among it
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def run(ctx: job_queue.JobContext) -> dict[str, Any]:
    """The job's handler (kind ``import``)."""
    session = ctx.session
    import_id = str(ctx.payload["import_id"])
    job = await session.get(ImportJob, import_id)
    if job is None or job.status in ("succeeded", "failed", "cancelled"):
        return {"import_id": import_id, "skipped": True}
    maker = async_sessionmaker(session.bind, expire_on_commit=False)
    _LIVE[import_id] = {"processed": 0, "total": 0, "started_at": None, "cancel": False}
    try:
        return await _run(ctx, session, maker, job)
    finally:
        _LIVE.pop(import_id, None)


async def _finish(session: AsyncSession, import_id: str, **values: Any) -> dict[str, Any]:
    await session.execute(
        update(ImportJob)
        .where(ImportJob.id == import_id)
        .values(finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    simple = (str, int, bool, type(None))
    return {
        "import_id": import_id,
        **{k: v for k, v in values.items() if isinstance(v, simple) and k != "errors"},
    }


async def _run(
    ctx: job_queue.JobContext,
    session: AsyncSession,
    maker: async_sessionmaker[AsyncSession],
    job: ImportJob,
) -> dict[str, Any]:
    import_id = job.id
    # What the run needs of the row, read now: a rolled-back savepoint expires loaded rows.
    kind, dry_run, mode, filename = job.kind, job.dry_run, job.mode, job.filename
    stored = job.storage_key
    started = _LIVE[import_id]["started_at"] = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        await _progress(maker, import_id, status="running", started_at=started, processed=0)
    else:
        # SQLite's driver opens a transaction only at a write: without this first one each
        # row's savepoint would be a transaction of its own, committed on release.
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == import_id)
            .values(status="running", started_at=started)
            .execution_options(synchronize_session=False)
        )
    p = await resolve_principal(session, job.created_by_kind, job.created_by_id, job.created_by_cv)
    if p is None:
        return await _finish(
            session,
            import_id,
            status="failed",
            started_at=started,
            file_error={
                "code": "caller_changed",
                "message_zh": "发起人已停用或其凭据已变更，导入未执行",
                "message_en": "The caller was deactivated or its credentials changed",
            },
        )
    storage = LocalStorage(ctx.settings.data_dir / "files")
    try:
        data = b"".join([chunk async for chunk in storage.stream(stored)])
    except FileNotFoundError:  # a run that scrubbed it (secrets) died before its commit
        return await _finish(
            session,
            import_id,
            status="failed",
            started_at=started,
            file_error={
                "code": "file_missing",
                "message_zh": "上传的文件已不存在，请重新上传",
                "message_en": "The uploaded file is gone: upload it again",
            },
        )
    spec = SPECS[kind]
    try:
        table = await anyio.to_thread.run_sync(
            lambda: read_table(data, filename, spec.is_header, max_rows=MAX_ROWS),
            limiter=_READERS,
        )
        mapped = _map_headers(kind, table)
    except ImportFileError as exc:
        return await _finish(
            session,
            import_id,
            storage_key=await _scrub(storage, kind, stored, filename, data, [], 0),
            status="failed",
            started_at=started,
            file_error={"code": exc.code, "message_zh": exc.zh, "message_en": exc.en},
        )
    rctx = row_rules.RowContext(session, p, ctx.settings, credit_code_check=job.credit_code_check)
    rctx.departments = await row_rules.load_departments(session, p)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    errors: list[dict[str, Any]] = []
    cancelled = False
    total = _LIVE[import_id]["total"] = len(table.rows)
    await _progress(maker, import_id, total=total)
    prepare = bulk.PREPARE.get(kind)

    def read_chunk(part: list[tuple[int, list[Any]]]) -> list[tuple[bulk.Row, dict | None]]:
        """A chunk's cells as fields (and, for a kind that has one, its pure checks): no
        database, nothing shared written, so it runs in a thread while the chunk before it is
        written."""
        chunk = [_read_row(mapped, row_no, cells) for row_no, cells in part]
        if prepare is not None:
            prepare.rows(rctx, [r for r, bad in chunk if bad is None])
        return chunk

    async def flush(chunk: list[tuple[bulk.Row, dict | None]]) -> None:
        """The chunk's rows applied, their outcomes counted and errors kept in row order."""
        good = [r for r, bad in chunk if bad is None]
        results = iter(await _apply_chunk(session, rctx, kind, good))
        for r, bad in chunk:
            if bad is None:
                outcome = next(results)
                if isinstance(outcome, str):
                    counts[outcome] += 1
                    continue
                bad = _error(
                    mapped,
                    r.row,
                    outcome.field,
                    r.values.get(outcome.field or ""),
                    outcome.zh,
                    outcome.en,
                    code=outcome.code,
                )
            counts["failed"] += 1
            if len(errors) < ERRORS_KEPT:
                errors.append(bad)

    parts = [table.rows[k : k + PROGRESS_EVERY] for k in range(0, total, PROGRESS_EVERY)]
    ahead: asyncio.Future[list[tuple[bulk.Row, dict | None]]] | None = None
    done = 0
    with _heap_kept(table):
        try:
            if parts and prepare is not None:
                await prepare.start(rctx)
            if parts:
                ahead = asyncio.ensure_future(_off_loop(read_chunk, parts[0]))
            for k, part in enumerate(parts):
                assert ahead is not None  # started for every part
                chunk = await ahead
                # The next chunk is read in its thread while this one waits on the database.
                ahead = (
                    asyncio.ensure_future(_off_loop(read_chunk, parts[k + 1]))
                    if k + 1 < len(parts)
                    else None
                )
                await flush(chunk)
                done += len(part)
                _LIVE[import_id]["processed"] = done
                if await _progress_and_cancel(maker, import_id, done):
                    cancelled = True
                    break
        finally:
            if ahead is not None:
                ahead.cancel()  # a chunk read past the last applied: its thread ends alone
    whole = mode == "all_or_nothing"
    applied = not (dry_run or cancelled or (whole and counts["failed"]))
    if not applied:
        await session.rollback()
    status = "cancelled" if cancelled else ("failed" if counts["failed"] and whole else "succeeded")
    kept = await _scrub(storage, kind, stored, filename, data, errors, counts["failed"])
    return await _finish(
        session,
        import_id,
        storage_key=kept,
        status=status,
        applied=applied,
        started_at=started,
        total=total,
        processed=total if not cancelled else _LIVE[import_id]["processed"],
        errors=errors,
        warnings=len(rctx.warnings),
        encoding=table.encoding,
        header_row=table.header_row,
        **counts,
    )


SECRET_KINDS = frozenset({"users"})  # their files hold initial passwords
ERRORS_SUFFIX = ".errors.xlsx"


async def _scrub(
    storage: Storage,
    kind: str,
    key: str,
    filename: str,
    data: bytes,
    errors: list[dict[str, Any]],
    failed: int,
) -> str:
    """The stored upload of a kind whose file holds secrets is not kept once the job has read
    it: its failed rows are kept as the errors workbook (passwords left blank), the file itself
    deleted. The key of what is kept is answered (the job's ``storage_key``)."""
    if kind not in SECRET_KINDS or key.endswith(ERRORS_SUFFIX):
        return key
    kept = key
    if failed and errors:
        body = await anyio.to_thread.run_sync(
            lambda: workbooks.errors_workbook(kind, filename, data, errors), limiter=_READERS
        )
        kept = key + ERRORS_SUFFIX
        await storage.put(kept, body)
    await storage.delete(key)
    return kept


async def _apply_chunk(
    session: AsyncSession, rctx: row_rules.RowContext, kind: str, rows: list[bulk.Row]
) -> list[bulk.Outcome]:
    """The outcome of each row: enterprises a chunk at a time (``bulk``), other kinds row by
    row."""
    if kind == "enterprises":
        return await bulk.enterprise_chunk(rctx, rows)
    out: list[bulk.Outcome] = []
    for r in rows:
        try:
            out.append(await _apply(session, rctx, kind, r.values, r.row, r.external))
        except row_rules.RowError as exc:
            out.append(exc)
    return out


async def _apply(
    session: AsyncSession,
    rctx: row_rules.RowContext,
    kind: str,
    values: dict[str, Any],
    row_no: int,
    external: dict[str, str],
) -> str:
    """One row, in a savepoint of its own: a failing row is undone alone and the transaction
    goes on (``valid_rows`` keeps the others; all-or-nothing still checks every row, to report
    them all, and rolls back at the end)."""
    apply = KINDS[kind].apply
    try:
        async with session.begin_nested():
            return await apply(rctx, values, row_no, external)
    except AppError as exc:
        raise row_rules.app_error(exc) from None


async def _interrupted(session: AsyncSession, payload: dict[str, Any], error: str) -> None:
    """Its job is dead (every attempt failed or lost its worker, each rolled back): the import
    ends ``failed`` with nothing applied. ``error`` is for admins (``GET /api/v1/jobs``), never
    shown to the importer."""
    await session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == str(payload.get("import_id")),
            ImportJob.status.in_(("queued", "running")),
        )
        .values(
            status="failed",
            applied=False,
            finished_at=utcnow(),
            file_error={
                "code": "import_interrupted",
                "message_zh": "导入多次中断（服务重启或出错），未写入任何数据，请重新上传",
                "message_en": "The import was interrupted on every attempt (a restart or an "
                "error); nothing was applied: upload it again",
            },
        )
    )


job_queue.register(JOB_KIND, run, max_attempts=3, lease_seconds=600, on_dead=_interrupted)
