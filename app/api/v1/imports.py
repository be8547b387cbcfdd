"""``/api/v1/imports``: bulk imports of the spreadsheets county offices send (批量导入)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.risk_lists import spreadsheet_limiter
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.clock import local_today
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.http import json_response
from app.schemas.imports import CreditCodeCheck, ImportKind, ImportList, ImportMode, ImportOut
from app.services.exports import XLSX, content_disposition
from app.services.imports import kinds, service, workbooks
from app.services.imports import rows as row_rules
from app.services.imports.columns import SPECS

router = APIRouter(tags=["imports"], route_class=ApiRoute)
ImportId = Annotated[str, Path(max_length=64)]
_XLSX_RESPONSE = {200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


def _xlsx(request: Request, body: bytes, name_zh: str, name_en: str) -> Response:
    day = local_today(request.app.state.settings.timezone).isoformat()
    disposition = content_disposition(f"{name_zh}_{day}.xlsx", f"{name_en}_{day}.xlsx")
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post(
    "/imports",
    operation_id="create_import",
    response_model=ImportOut,
    status_code=202,
    summary="Import a spreadsheet (CSV or XLSX)",
)
async def create_import(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.imports_write),
    kind: Annotated[ImportKind, Form(description="What the file holds")],
    file: Annotated[UploadFile, File(description="CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX")],
    dry_run: Annotated[bool, Form(description="Check everything, write nothing")] = False,
    mode: Annotated[
        ImportMode, Form(description="all_or_nothing (default) or valid_rows")
    ] = "all_or_nothing",
    credit_code_check: Annotated[
        CreditCodeCheck, Form(description="warn: accept a failing check character as a warning")
    ] = "error",
) -> Response:
    """Uploads a register as the office keeps it and imports it in the background: answers 202
    with the job (`Location`: `GET /api/v1/imports/{import_id}`), never holding the request
    while rows are written. See the README's "Bulk import" for the files read (encodings,
    separators, title rows, Chinese or English headers, catalog labels, dates), the natural keys
    and the modes. Kinds: `enterprises`, `hazards`, `users` (needs `users:write`), `org_units`
    (`org_units:write`), `inspections` (past inspections; `inspections:write`). Errors: 403
    `forbidden` (the kind's permission); 413 `payload_too_large` (over 50 MB); 415; 422
    `validation_error`."""
    kinds.check_permission(p, kind)
    data = await file.read(service.MAX_FILE_BYTES + 1)
    job = await service.create(
        session,
        p,
        request.app.state.storage,
        kind=kind,
        filename=file.filename,
        data=data,
        dry_run=dry_run,
        mode=mode,
        credit_code_check=credit_code_check,
    )
    return json_response(service.out(job), status_code=202, location=f"/api/v1/imports/{job.id}")


@router.get(
    "/imports", operation_id="list_imports", response_model=ImportList, summary="List imports"
)
async def list_imports(session: SessionDep, p: Requires(Permission.imports_write)) -> Response:
    """The caller's 50 latest imports (an admin's: its county's), newest first."""
    return json_response(
        {"items": [service.out(j) for j in await service.list_imports(session, p)]}
    )


@router.get(
    "/imports/templates/{kind}",
    operation_id="get_import_template",
    responses=_XLSX_RESPONSE,
    response_class=Response,
    summary="The template workbook of an import kind",
)
async def get_import_template(
    request: Request, session: SessionDep, p: Requires(Permission.imports_write), kind: ImportKind
) -> Response:
    """An XLSX with the Chinese headers (required ones marked `*`), one example row, and a hidden
    sheet of catalog values wired as drop-down lists (data validation), the caller's bureaus
    among them."""
    kinds.check_permission(p, kind)
    departments = sorted(
        {k for k, v in (await row_rules.load_departments(session, p)).items() if k != v}
    )
    body = await anyio.to_thread.run_sync(
        workbooks.template, kind, departments, limiter=spreadsheet_limiter(request)
    )
    return _xlsx(request, body, f"{SPECS[kind].name_zh}导入模板", f"{kind}_template")


@router.get(
    "/imports/{import_id}",
    operation_id="get_import",
    response_model=ImportOut,
    summary="Get an import",
)
async def get_import(
    session: SessionDep, p: Requires(Permission.imports_write), import_id: ImportId
) -> Response:
    """Status (`queued`, `running`, `succeeded`, `failed`, `cancelled`), rows `total`,
    `processed`, `created`, `updated`, `unchanged`, `failed`, `progress` while running, and the
    errors per row (`row` as the spreadsheet shows it, `column` as written, `value`, `code`,
    `message_zh`/`message_en`). Its creator, and the county's admins. Errors: 404."""
    return json_response(service.out(await service.get(session, p, import_id)))


@router.get(
    "/imports/{import_id}/errors.xlsx",
    operation_id="get_import_errors",
    responses=_XLSX_RESPONSE,
    response_class=Response,
    summary="The failed rows of an import as a workbook",
)
async def get_import_errors(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.imports_write),
    import_id: ImportId,
) -> Response:
    """The rows that failed, as the file had them, with an error column: fix them and upload
    the workbook again. Errors: 404 (also while nothing failed)."""
    job = await service.get(session, p, import_id)
    if not job.failed:
        raise NotFound("该导入没有失败的行", "The import has no failed rows")
    data = b"".join([c async for c in request.app.state.storage.stream(job.storage_key)])
    if job.storage_key.endswith(service.ERRORS_SUFFIX):  # built when the job ended (secrets)
        body = data
    else:
        body = await anyio.to_thread.run_sync(
            workbooks.errors_workbook,
            job.kind,
            job.filename,
            data,
            job.errors or [],
            limiter=spreadsheet_limiter(request),
        )
    return _xlsx(request, body, f"{SPECS[job.kind].name_zh}导入错误行", f"{job.kind}_errors")


@router.post(
    "/imports/{import_id}/cancel",
    operation_id="cancel_import",
    response_model=ImportOut,
    status_code=202,
    responses={409: {"description": "The import has finished (`invalid_transition`)"}},
    summary="Cancel an import",
)
async def cancel_import(
    session: SessionDep, p: Requires(Permission.imports_write), import_id: ImportId
) -> Response:
    """A queued import is cancelled at once; a running one stops at its next row and rolls back
    everything it did (status `cancelled`, nothing applied). Errors: 404; 409 once finished."""
    return json_response(service.out(await service.cancel(session, p, import_id)), status_code=202)
