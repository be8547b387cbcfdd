from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import page_response
from app.schemas.common import ListParams, list_params_for
from app.schemas.dates import StrictDate
from app.schemas.reminders import ReminderOut, ReminderPage
from app.services import reminders as service

router = APIRouter(tags=["reminders"], route_class=ApiRoute)


@router.get("/reminders", operation_id="list_reminders", response_model=ReminderPage)
async def list_reminders(
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    hazard_id: Annotated[str | None, Query(max_length=64)] = None,
    on_date: Annotated[StrictDate | None, Query()] = None,
) -> Response:
    """Overdue reminders for hazards in the caller's scope, newest first (sort: `created_at`)."""
    page = await service.list_reminders(session, p, params, hazard_id=hazard_id, on_date=on_date)
    return page_response(
        ReminderPage, [ReminderOut.model_validate(dict(r)) for r in page.rows], page
    )
