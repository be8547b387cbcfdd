from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.dates import StrictDate
from app.schemas.reminders import ReminderKind, ReminderPage
from app.services import reminders as service

router = APIRouter(tags=["reminders"], route_class=ApiRoute)


@router.get(
    "/reminders",
    operation_id="list_reminders",
    response_model=ReminderPage,
    summary="List reminders",
)
async def list_reminders(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    hazard_id: Annotated[str | None, Query(max_length=64)] = None,
    on_date: Annotated[StrictDate | None, Query()] = None,
    kind: any_of(ReminderKind, "Reminders of any of these kinds") = None,
) -> Response:
    """The record of who was reminded of what (提醒), written by the daily job for open hazards:
    `deadline_warning` (预警) on the days deadline − 7, − 3, − 1 and the deadline itself
    (`ANJIAN_REMINDER_OFFSETS_DAYS`), and `overdue` (逾期) every day after it. One row per
    recipient: the enterprise (`recipient_kind` `enterprise`, `org_unit` null) and each unit
    responsible (`org_unit`: its town, its enforcement department, the unit supervising it under
    挂牌督办), each once per hazard, kind, deadline and day. Each also reached its recipient's
    users as a notification (`GET /api/v1/notifications`). For hazards in the caller's scope
    only. One page at a time (`limit` ≤ 500, `cursor`, `include_total`); newest first by
    default (`sort`: `created_at` or `-created_at`). Filters: `hazard_id` (one hazard's
    reminders), `on_date` (those written for that local day, `YYYY-MM-DD`), `kind`.

    Who: every role with `hazards:read`. Errors: 422 `validation_error`, `unknown_parameter`,
    `repeated_parameter`.
    """
    page = await service.list_reminders(
        session, p, params, hazard_id=hazard_id, on_date=on_date, kind=kind
    )
    en = wants_english(request)
    return page_response(ReminderPage, [service.to_out(r, en) for r in page.rows], page)
