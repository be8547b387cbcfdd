"""List exports (issue 16): the answer of a list route asked for ``format=csv|xlsx`` (or by
``Accept``), and ``/api/v1/exports/{export_id}`` for the exports built in the background.

An export has the list's filters, sort and scope and the JSON list's fields for the caller; the
request's ``limit``, ``cursor`` and ``include_total`` do not apply (an export is the whole
list, read page after page on the list's keyset cursor). Up to
``ANJIAN_EXPORT_JOB_THRESHOLD_ROWS`` rows (100,000) the file is the answer: CSV streamed as
it is read (a page is fetched in a read session of its own, then sent, then the next: no
connection is held while the client reads), XLSX built page by page by a worker thread into a
temporary file, then streamed (unlinked once open, so it never outlives the answer). Beyond it
the answer is 202 with an export job. The request's own session is released before the first
page is read (it may hold the connection that resolved the caller): a request holds one pooled
connection at a time, never two.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response, StreamingResponse

from app.api.idempotency import ApiRoute
from app.api.v1.risk_lists import spreadsheet_limiter
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.core.db import SessionDep
from app.core.errors import Conflict, Gone
from app.core.http import json_response
from app.core.i18n import wants_english
from app.models import ExportJob
from app.schemas.exports import ExportFormat, ExportJobOut, ExportLang
from app.services import export_jobs, exports
from app.services.export_lists import LISTS, dump_filters
from app.services.job_queue import enqueue

router = APIRouter(tags=["exports"], route_class=ApiRoute)
ExportId = Annotated[str, Path(max_length=64)]
# Any caller may ask after an export (every role holds `me:read`); only its creator sees it.
Caller = Requires(Permission.me_read)

FormatParam = Annotated[
    ExportFormat | None,
    Query(
        description="`json` (the default), `csv` or `xlsx`: the whole list as a file (its "
        "filters, sort and scope; `limit`, `cursor` and `include_total` do not apply). Without "
        "it, `Accept: text/csv` or the XLSX media type chooses; `format` wins over `Accept`"
    ),
]
LangParam = Annotated[
    ExportLang | None,
    Query(
        description="Exports only: `zh` (default) Chinese headers and enumeration labels; `en` "
        "the field names as headers and the codes as values"
    ),
]

_FILE = {"schema": {"type": "string", "format": "binary"}}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The JSON page; with `format=csv|xlsx` (or `Accept`) the whole list as a "
        "file, an attachment",
        "content": {exports.CSV: {"schema": {"type": "string"}}, exports.XLSX: _FILE},
        "headers": {
            "Content-Disposition": {
                "description": "Exports only: `attachment` with the list's Chinese name and the "
                "date (`filename*`, RFC 6266/5987) and an ASCII `filename`",
                "schema": {"type": "string"},
            }
        },
    },
    202: {
        "model": ExportJobOut,
        "description": "An export of more rows than ANJIAN_EXPORT_JOB_THRESHOLD_ROWS (100,000): "
        "an export job, `Location` `/api/v1/exports/{id}`; its `download_url` once built",
        "headers": {
            "Location": {
                "description": "`/api/v1/exports/{export_id}`",
                "schema": {"type": "string"},
            }
        },
    },
}


def wanted(request: Request, format: str | None) -> str:
    """The representation a list route answers: ``json``, ``csv`` or ``xlsx``."""
    return exports.wanted_format(format, request.headers.get("accept", ""))  # type: ignore[arg-type]


def _job_out(job: ExportJob, status: str, settings: Any) -> dict[str, Any]:
    ready = status == "succeeded"
    return ExportJobOut(
        id=job.id,
        list=job.list_name,  # type: ignore[arg-type]
        format=job.format,  # type: ignore[arg-type]
        lang=job.lang,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        rows=job.rows,
        file_name=job.file_name,
        download_url=f"/api/v1/exports/{job.id}/file" if ready else None,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=export_jobs.expires_at(job, settings),
    ).model_dump(mode="json")


async def export_response(
    request: Request,
    session: AsyncSession,
    name: str,
    p: Principal,
    filters: Any,
    sort: str | None,
    fmt: str,
    lang: str | None,
) -> Response:
    """The list ``name`` as a CSV or XLSX answer, or 202 with an export job when it is larger
    than the threshold (the first page, read with the total, decides). ``session`` is the
    request's: released first, each page then has a read session of its own."""
    await session.close()
    entry = LISTS[name]
    state = request.app.state
    settings = state.settings
    english = wants_english(request)  # unit names as the JSON list gives them
    language = "en" if lang == "en" else "zh"
    fetch = entry.make_fetch(p, settings, filters, english)
    source = exports.Source(fetch, sort, state.read_sessionmaker)
    first = await exports.first_page(source)
    tz = settings.timezone
    file_name, ascii_name = exports.file_name(entry.spec, fmt, tz)
    if first.total is not None and first.total > settings.export_job_threshold_rows:
        return await _enqueue(request, name, p, filters, sort, fmt, language, english)
    disposition = exports.content_disposition(file_name, ascii_name)
    headers = {"Content-Disposition": disposition, "Cache-Control": "private"}
    if fmt == "csv":
        return StreamingResponse(
            exports.csv_stream(entry.spec, source, language, tz),  # type: ignore[arg-type]
            media_type=f"{exports.CSV}; charset=utf-8",
            headers=headers,
        )
    path, _ = await exports.build_xlsx(
        entry.spec,
        source,
        language,  # type: ignore[arg-type]
        tz,
        spreadsheet_limiter(request),
    )
    headers["Content-Length"] = str(os.stat(path).st_size)
    return StreamingResponse(await _read_once(path), media_type=exports.XLSX, headers=headers)


async def _read_once(path: str) -> AsyncIterator[bytes]:
    """The file's bytes; the file is unlinked as soon as it is open, so it is gone however the
    answer ends (sent, the client gone, the worker stopped)."""
    fh = await anyio.open_file(path, "rb")
    os.unlink(path)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await fh.read(64 * 1024):
                yield chunk
        finally:
            await fh.aclose()

    return chunks()


async def _enqueue(
    request: Request,
    name: str,
    p: Principal,
    filters: Any,
    sort: str | None,
    fmt: str,
    lang: str,
    english: bool,
) -> Response:
    """The export job, in a write session of its own (the request's read session was released
    before the first page was read)."""
    settings = request.app.state.settings
    file_name, ascii_name = exports.file_name(LISTS[name].spec, fmt, settings.timezone)
    session: AsyncSession
    async with request.app.state.sessionmaker() as session:
        job = ExportJob(
            list_name=name,
            format=fmt,
            lang=lang,
            english=english,
            filters=dump_filters(filters),
            sort=sort,
            principal_kind=p.kind,
            principal_id=p.id,
            principal_cv=p.credential_version,
            status="queued",
            file_name=file_name,
            ascii_file_name=ascii_name,
        )
        session.add(job)
        await session.flush()
        job.file_key = export_jobs.file_key(job.id, fmt)
        job.job_id = await enqueue(session, export_jobs.KIND, {"export_id": job.id})
        await session.commit()
    return json_response(
        _job_out(job, "queued", settings), status_code=202, location=f"/api/v1/exports/{job.id}"
    )


@router.get(
    "/exports/{export_id}",
    operation_id="get_export",
    response_model=ExportJobOut,
    summary="Get an export job",
)
async def get_export(
    request: Request, session: SessionDep, p: Caller, export_id: ExportId
) -> Response:
    """An export built in the background (a list export of more rows than
    `ANJIAN_EXPORT_JOB_THRESHOLD_ROWS`): `status` (`queued`, `running`, `succeeded`, `failed`,
    `cancelled`, `expired`), `rows`, `download_url` once built and `expires_at`, when the file
    will be deleted (`ANJIAN_EXPORT_RETENTION_HOURS` after it was built, 72 by default).

    Who: only the caller who asked for it. Errors: 404 `not_found` (no such export, or another
    caller's)."""
    job, status = await export_jobs.get_own(session, p, export_id)
    return json_response(_job_out(job, status, request.app.state.settings))


@router.post(
    "/exports/{export_id}/cancel",
    operation_id="cancel_export",
    response_model=ExportJobOut,
    status_code=202,
    responses={409: {"description": "`invalid_transition`: the export has finished"}},
    summary="Cancel an export job",
)
async def cancel_export(
    request: Request, session: SessionDep, p: Caller, export_id: ExportId
) -> Response:
    """A `queued` or `running` export is `cancelled` at once: a worker building it stops at its
    next page and keeps no file.

    Who: only the caller who asked for it. Errors: 404 `not_found`; 409 `invalid_transition`
    (already `succeeded`, `failed`, `cancelled` or `expired`)."""
    job, status = await export_jobs.cancel(session, p, export_id)
    return json_response(_job_out(job, status, request.app.state.settings), status_code=202)


@router.get(
    "/exports/{export_id}/file",
    operation_id="get_export_file",
    responses={
        200: {
            "description": "The file, an attachment",
            "content": {exports.CSV: {"schema": {"type": "string"}}, exports.XLSX: _FILE},
        },
        409: {"description": "`export_not_ready`: the job is queued or running, or failed"},
        410: {"description": "`export_expired`: the file was deleted after its retention"},
    },
    summary="Download an export job's file",
)
async def get_export_file(
    request: Request, session: SessionDep, p: Caller, export_id: ExportId
) -> Response:
    """The file of a built export job (CSV or XLSX, as asked), named as the list's export is.

    Who: only the caller who asked for it. Errors: 404 `not_found`; 409 `export_not_ready`
    (`queued`, `running`, `failed` or `cancelled`); 410 `export_expired` (the file was deleted
    after `ANJIAN_EXPORT_RETENTION_HOURS`: ask for the export again)."""
    job, status = await export_jobs.get_own(session, p, export_id)
    if status == "expired":
        raise Gone(
            "导出文件已过保存期限并删除，请重新导出",
            "The export file was deleted after its retention period; export the list again",
            code="export_expired",
        )
    if status != "succeeded" or job.file_key is None:
        raise Conflict(
            "导出文件尚未生成，请稍后查询导出任务状态",
            "The export file is not built yet (or the export failed); see the export job",
            code="export_not_ready",
        )
    storage = export_jobs.storage_of(request.app.state.settings)
    media = exports.MEDIA_TYPES[job.format]
    return StreamingResponse(
        storage.stream(job.file_key),
        media_type=f"{media}; charset=utf-8" if job.format == "csv" else media,
        headers={
            "Content-Disposition": exports.content_disposition(job.file_name, job.ascii_file_name),
            "Cache-Control": "private",
        },
    )
