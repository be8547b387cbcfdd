"""``/api/v1/risk-points/{risk_point_id}/notice-board``: the risk notice board (风险告知牌) of a
point, as JSON or as a printable PDF (issue 13, 一图一牌三清单)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.risks import NoticeBoardFormat, RiskNoticeBoardOut
from app.services.risks import notice_board, notice_board_pdf

router = APIRouter(tags=["risks"], route_class=ApiRoute)
PointId = Annotated[str, Path(max_length=64)]


def _limiter(request: Request) -> anyio.CapacityLimiter:
    """One limiter per app (so per worker process), made on first use: a board with many
    measures takes a noticeable slice of a core, and how many render at once bounds it."""
    state = request.app.state
    limiter = getattr(state, "notice_board_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(state.settings.notice_board_workers)
        state.notice_board_limiter = limiter
    return limiter


def _disposition(board: dict[str, object]) -> str:
    """Inline (a browser shows it, ready to print), named after the point: ``filename*`` in
    UTF-8 (RFC 5987/6266) and an ASCII ``filename`` from the id for older clients."""
    name = quote(f"风险告知牌-{board['name']}.pdf", safe="")
    return f"inline; filename=\"risk-notice-board-{board['risk_point_id']}.pdf\"; filename*=UTF-8''{name}"


@router.get(
    "/risk-points/{risk_point_id}/notice-board",
    operation_id="get_risk_point_notice_board",
    response_model=RiskNoticeBoardOut,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The board as JSON, or with `format=pdf` as an A4 PDF",
            "headers": {
                "ETag": {
                    "description": 'The point\'s version (`"v3"`; the PDF\'s `"v3-pdf"`)',
                    "schema": {"type": "string"},
                },
                "Content-Disposition": {
                    "description": "With `format=pdf`: `inline`, the file name as `filename*` "
                    "(UTF-8) and an ASCII `filename`",
                    "schema": {"type": "string"},
                },
            },
        }
    },
    summary="Get a risk point's notice board (风险告知牌)",
)
async def get_notice_board(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.risks_read),
    risk_point_id: PointId,
    format: Annotated[
        NoticeBoardFormat, Query(description="`json` (default) or `pdf` (A4, printable)")
    ] = "json",
) -> Response:
    """What the 风险告知牌 posted at the point shows: its name, enterprise and location, the level
    with its colour (`level_name`, `color_hex`), the control level, hazard factors and accident
    types with their catalogue labels, the control measures by kind, the emergency measures, the
    responsible person and post, and the emergency numbers (119, 120, 110, the enterprise
    principal's phone when the enterprise has one and the caller may read the enterprise, and
    `ANJIAN_EMERGENCY_PHONE` when set). Labels are English under `Accept-Language: en`; the PDF
    is always in Chinese (the board's language), in the built-in CID font STSong-Light.
    `format=pdf` answers `application/pdf`, inline, with a file name. The `ETag` is the point's
    version (the PDF's marked `-pdf`).

    Who: exactly as `GET /api/v1/risk-points/{risk_point_id}` (`risks:read` in scope). Errors:
    404 `not_found` (missing or outside scope); 422 `validation_error` (unknown `format`).
    """
    english = format == "json" and wants_english(request)
    board, version = await notice_board.read_board(
        session, p, request.app.state.settings, risk_point_id, english=english
    )
    if format == "json":
        return json_response(board, version=version)
    pdf = await anyio.to_thread.run_sync(notice_board_pdf.render, board, limiter=_limiter(request))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": _disposition(board),
            "ETag": f'"v{version}-pdf"',  # another representation: never the JSON's tag
            "X-Content-Type-Options": "nosniff",
        },
    )
