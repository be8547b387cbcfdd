"""Open endpoints of public reports (群众举报, 12350): anyone submits one and follows it with its
tracking code. No sign-in (an ``Authorization`` header is ignored); both are rate-limited per
client address in the database, and a submission honours ``Idempotency-Key`` per address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.idempotency import ApiRoute, claim_public_idempotency_key
from app.api.v1.attachments import _thumbnail_limiter
from app.auth.deps import public
from app.core.db import SessionDep
from app.core.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    validation_errors,
)
from app.core.http import client_address, json_response
from app.core.i18n import wants_english
from app.core.openapi import EXTRA_SCHEMAS
from app.models import PublicReport
from app.schemas.public_reports import (
    PublicReportCreate,
    PublicReportReceipt,
    PublicReportStatusOut,
)
from app.services import rate_limit
from app.services.public_reports import intake, tracking
from app.services.public_reports.workflow import STATUS_LABELS

router = APIRouter(tags=["public"], dependencies=[Depends(public)], route_class=ApiRoute)
EXTRA_SCHEMAS.append(PublicReportCreate)

_RATE_LIMITED = {
    429: {"description": "Too many requests from this address; see `Retry-After`"},
}
_NO_STORE = {"Cache-Control": "no-store"}


def _submissions(request: Request) -> rate_limit.Rule:
    per_hour = request.app.state.settings.public_report_submissions_per_hour
    return rate_limit.Rule("report_submit", per_hour, 3600)


def _lookups(request: Request) -> rate_limit.Rule:
    per_minute = request.app.state.settings.public_report_lookups_per_minute
    return rate_limit.Rule("report_lookup", per_minute, 60)


def _parsed(raw: bytes | str) -> PublicReportCreate:
    try:
        return PublicReportCreate.model_validate_json(raw)
    except ValidationError as exc:
        raw_errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in raw_errors):
            raise BadRequest(
                "请求体不是有效的 JSON", "The body is not valid JSON", code="malformed_body"
            ) from None
        errors = validation_errors(raw_errors)
        fields = ", ".join(e["field"] for e in errors[:5])
        raise ValidationFailed(
            f"以下字段有误：{fields}", f"Invalid fields: {fields}", errors=errors
        ) from None


async def _read_body(
    request: Request,
) -> tuple[PublicReportCreate, list[tuple[str | None, bytes]]]:
    """JSON, or multipart with the JSON as the `report` part and up to five `photos`."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return _parsed(await request.body()), []
    if media != "multipart/form-data":
        raise UnsupportedMediaType(
            "请求体类型应为 application/json 或 multipart/form-data",
            "The request body must be application/json or multipart/form-data",
            code="unsupported_media_type",
        )
    limit = request.app.state.settings.public_report_photo_max_bytes
    try:
        # one more file than allowed, so that a sixth photo is intake's 422 too_many_photos
        form = await request.form(
            max_files=intake.MAX_PHOTOS + 1, max_fields=4, max_part_size=64 * 1024
        )
    except HTTPException as exc:
        if exc.status_code != 400:  # the body's limits (413, 408) answer for themselves
            raise
        detail = str(exc.detail)
        if "Too many files" in detail:
            raise ValidationFailed.field(
                "photos",
                f"最多上传 {intake.MAX_PHOTOS} 张照片",
                f"At most {intake.MAX_PHOTOS} photos",
                code="too_many_photos",
            ) from None
        raise ValidationFailed.field(
            "report",
            "表单无法解析（report 不超过 64 KiB，字段过多或格式错误）",
            f"The form cannot be read (the report part is at most 64 KiB): {detail}",
        ) from None
    report: Any = None
    photos: list[tuple[str | None, bytes]] = []
    for name, value in form.multi_items():
        if name == "report" and isinstance(value, str) and report is None:
            report = value
        elif name == "photos" and isinstance(value, UploadFile):
            data = await value.read(limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge(
                    f"每张照片不超过 {limit // (1024 * 1024)} MB",
                    f"Each photo may be at most {limit} bytes",
                )
            photos.append((value.filename, data))
        else:
            raise ValidationFailed.field(
                name,
                "表单只含 report（JSON 文本）与 photos（照片文件）",
                "The form holds `report` (the JSON text, once) and `photos` (files) only",
            )
    if report is None:
        raise ValidationFailed.field(
            "report", "缺少 report（举报内容的 JSON 文本）", "The `report` part (JSON) is missing"
        )
    return _parsed(report), photos


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PublicReportCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["report"],
                    "properties": {
                        "report": {
                            "type": "string",
                            "description": "The report as JSON text (the schema "
                            "PublicReportCreate)",
                        },
                        "photos": {
                            "type": "array",
                            "maxItems": intake.MAX_PHOTOS,
                            "items": {"type": "string", "format": "binary"},
                            "description": "Up to five photos: JPEG, PNG or WebP, judged by "
                            "content",
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "/public/reports",
    operation_id="submit_public_report",
    response_model=PublicReportReceipt,
    status_code=201,
    responses=_RATE_LIMITED,
    openapi_extra=_BODY,
    summary="Report a hazard or illegal activity (public, 12350)",
    dependencies=[Depends(claim_public_idempotency_key)],
)
async def submit_public_report(request: Request, session: SessionDep) -> Response:
    """Anyone may report a hazard or illegal activity (举报), without signing in, as JSON or
    as `multipart/form-data` with the same JSON as the `report` part and up to five `photos`
    (JPEG, PNG or WebP, judged by content; each at most `ANJIAN_PUBLIC_REPORT_PHOTO_MAX_BYTES`).

    Fields: `description` (10–2000 characters), `location_text`, `location` `{lat, lng}`,
    `region_code` (county, town or village: routes the report to the town), `enterprise_name`
    or `credit_code` of the operator, and for a named report `reporter` `{name, phone}`
    (`anonymous` defaults to true without it). The reporter's identity is confidential (保密):
    sealed at rest and shown to nobody but the few managers who must see it, each view logged.

    Answers 201 with `tracking_code` only (keep it: it is the one way to follow the case,
    `GET /api/v1/public/reports/{tracking_code}`). `Idempotency-Key` is honoured per client
    address: a retried submission creates one report and answers the same code.

    Limits per client address: `ANJIAN_PUBLIC_REPORT_SUBMISSIONS_PER_HOUR` (5) accepted
    submissions an hour (429 `rate_limited` with `Retry-After`). Errors: 400
    `malformed_body`; 413 `payload_too_large`; 415 `unsupported_media_type` (also a photo that
    is not an image, whatever its name); 422 `validation_error`, `region_required` (several
    counties and nothing to tell which), `unknown_region`, `too_many_photos`, `image_*`.
    """
    settings = request.app.state.settings
    body, photos = await _read_body(request)
    await rate_limit.hit(session, _submissions(request), client_address(request))
    _, code = await intake.submit(
        session,
        settings,
        request.app.state.storage,
        body,
        photos,
        _thumbnail_limiter(request),
    )
    response = json_response(
        PublicReportReceipt.model_construct(tracking_code=code),
        status_code=201,
        location=f"/api/v1/public/reports/{code}",
    )
    response.headers.update(_NO_STORE)
    return response


@router.get(
    "/public/reports/{tracking_code}",
    operation_id="get_public_report_status",
    response_model=PublicReportStatusOut,
    responses=_RATE_LIMITED,
    summary="Follow a public report by its tracking code (public)",
)
async def get_public_report_status(
    request: Request,
    session: SessionDep,
    tracking_code: Annotated[
        str, Path(description="As given on submission; any other text is simply not found")
    ],
) -> Response:
    """The status of the report the code was given for, its dates and, once closed, the public
    outcome text: nothing else of the record. The code is read case-insensitively, with or
    without hyphens (`I`/`L` read as 1, `O` as 0). Any code that is not a known one, well-formed
    or not, is 404 `not_found`, answered the same way and in the same time.

    Lookups are limited per client address (`ANJIAN_PUBLIC_REPORT_LOOKUPS_PER_MINUTE`, 20 a
    minute; 429 `rate_limited` with `Retry-After`), so codes (80 random bits) cannot be
    enumerated. `Cache-Control: no-store`."""
    await rate_limit.check(request, session, _lookups(request))
    digest = tracking.digest(tracking_code)
    row = (
        await session.execute(
            select(
                PublicReport.status,
                PublicReport.received_at,
                PublicReport.updated_at,
                PublicReport.closed_at,
                PublicReport.public_outcome,
            ).where(PublicReport.tracking_hash == digest)
        )
    ).first()
    if row is None:
        raise NotFound("举报不存在或查询码有误", "No report has this tracking code")
    zh, en = STATUS_LABELS[row.status]
    out = PublicReportStatusOut.model_construct(
        status=row.status,
        status_label=en if wants_english(request) else zh,
        received_at=row.received_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        public_outcome=row.public_outcome if row.status == "closed" else None,
    )
    response = json_response(out)
    response.headers.update(_NO_STORE)
    return response
