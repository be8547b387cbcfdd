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
from app.schemas.common import ListParams, list_params_for
from app.schemas.dates import StrictDate
from app.schemas.reminders import ReminderPage
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
) -> Response:
    """Reminders (提醒) the daily overdue job writes for hazards past their deadline (逾期未整改):
    one per overdue hazard and day, naming the enterprise and its enforcement department, for
    hazards in the caller's scope only. One page at a time (`limit` ≤ 500, `cursor`, `include_total`); newest first by
    default (`sort`: `created_at` or `-created_at`). Filters: `hazard_id` (one hazard's
    reminders), `on_date` (those written for that local day, `YYYY-MM-DD`).

    Who: every role with `hazards:read`. Errors: 422 `validation_error`, `unknown_parameter`,
    `repeated_parameter`.
    """
    page = await service.list_reminders(session, p, params, hazard_id=hazard_id, on_date=on_date)
    en = wants_english(request)
    return page_response(ReminderPage, [service.to_out(r, en) for r in page.rows], page)
