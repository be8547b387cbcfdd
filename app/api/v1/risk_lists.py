"""``/api/v1/enterprises/{enterprise_id}/risk-lists``: the three lists of the risk register
(一图一牌三清单) as JSON or as the workbook an enterprise prints and files."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.risk_lists import RiskListFormat, RiskListKind, RiskListOut
from app.services.risks import lists_xlsx
from app.services.risks.lists import risk_list

router = APIRouter(tags=["risks"], route_class=ApiRoute)
EnterpriseId = Annotated[str, Path(max_length=64)]


def spreadsheet_limiter(request: Request) -> anyio.CapacityLimiter:
    """One limiter per app (so per worker process), made on first use: a workbook is built in
    memory by a worker thread, and how many are built at once bounds the worker's memory."""
    state = request.app.state
    limiter = getattr(state, "spreadsheet_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(state.settings.spreadsheet_workers)
        state.spreadsheet_limiter = limiter
    return limiter


def _wants_xlsx(request: Request, given: str | None) -> bool:
    if given is not None:
        return given == "xlsx"
    return lists_xlsx.XLSX in request.headers.get("accept", "")


@router.get(
    "/enterprises/{enterprise_id}/risk-lists",
    operation_id="get_risk_list",
    response_model=RiskListOut,
    responses={
        200: {
            "description": "The list as JSON, or with `format=xlsx` as a workbook",
            "content": {lists_xlsx.XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": "XLSX only: `attachment` with the file name (`filename*` "
                    "UTF-8, RFC 6266/5987; an ASCII `filename`)",
                    "schema": {"type": "string"},
                }
            },
        }
    },
    summary="Get a list of the risk register (三清单), as JSON or XLSX",
)
async def get_risk_list(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.risks_read),
    enterprise_id: EnterpriseId,
    kind: Annotated[
        RiskListKind,
        Query(
            alias="list",
            description="`responsibility` (风险管控责任清单), `measures` (风险管控措施清单) or "
            "`emergency` (应急处置措施清单)",
        ),
    ],
    format: Annotated[
        RiskListFormat | None,
        Query(description="`json` or `xlsx`; without it, `xlsx` when `Accept` names its type"),
    ] = None,
) -> Response:
    """One of the three lists of the enterprise's risk register, drawn from its active risk
    points (never stored apart, so it always equals `GET /api/v1/risk-points?enterprise_id=…`):
    red points first, then by name; measures in their stored order. Each group is a point with
    its level, control level, responsible person, hazard factors and accident types (codes with
    their labels, English under `Accept-Language: en`) and its `rows`: the control measures
    (`measures`), the emergency measures (`emergency`), none for `responsibility` (the point is
    the row). A point without measures still has its group.

    `format=xlsx` (or `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`)
    answers the workbook to print and file: a title row with the enterprise and the list,
    headers, one row per measure with the point's columns merged over its rows, the level cell
    filled with the level's colour (red FF0000, orange FFA500, yellow FFFF00, blue 0070C0),
    A4 landscape fitted to the page width, the title and headers repeated on every page; as an
    attachment named after the enterprise and the list (`filename*`, an ASCII `filename`).

    Who: every role with `risks:read` for an enterprise in its scope (an enterprise user: its
    own). Errors: 404 `not_found` (the enterprise does not exist or lies outside the caller's
    scope); 422 `validation_error` (an unknown `list` or `format`), `unknown_parameter`,
    `repeated_parameter`.
    """
    english = wants_english(request)
    body = await risk_list(session, p, enterprise_id, kind, english)
    if not _wants_xlsx(request, format):
        return json_response(body)
    tz = request.app.state.settings.timezone
    data = await anyio.to_thread.run_sync(
        lists_xlsx.workbook, body, english, tz, limiter=spreadsheet_limiter(request)
    )
    return Response(
        data,
        media_type=lists_xlsx.XLSX,
        headers={
            "Content-Disposition": lists_xlsx.content_disposition(body, tz),
            "Cache-Control": "private",
        },
    )
