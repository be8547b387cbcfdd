from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from starlette.responses import Response

from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.auth.scope import visible_enterprise_ids
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.pagination import fetch_page, parse_sort
from app.models import Reminder
from app.schemas.common import ListParams, list_params

router = APIRouter(tags=["reminders"])


class ReminderOut(BaseModel):
    id: str
    hazard_id: str
    enterprise_id: str
    org_unit_id: str | None
    kind: str
    on_date: date
    message: str
    created_at: datetime


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    next_cursor: str | None
    total: int | None = None


COLUMNS = (
    Reminder.id,
    Reminder.hazard_id,
    Reminder.enterprise_id,
    Reminder.org_unit_id,
    Reminder.kind,
    Reminder.on_date,
    Reminder.message,
    Reminder.created_at,
)


@router.get("/reminders", operation_id="list_reminders", response_model=ReminderPage)
async def list_reminders(
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    params: Annotated[ListParams, Depends(list_params)],
    hazard_id: Annotated[str | None, Query(max_length=64)] = None,
    on_date: Annotated[date | None, Query()] = None,
) -> Response:
    """Overdue reminders for hazards in the caller's scope, newest first."""
    sort = parse_sort(params.sort, {"created_at": Reminder.created_at}, "-created_at")
    stmt = select(*COLUMNS).where(Reminder.enterprise_id.in_(visible_enterprise_ids(p)))
    if hazard_id:
        stmt = stmt.where(Reminder.hazard_id == hazard_id)
    if on_date:
        stmt = stmt.where(Reminder.on_date == on_date)
    page = await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=Reminder.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    out = ReminderPage(
        items=[ReminderOut.model_validate(dict(r)) for r in page.rows],
        next_cursor=page.next_cursor,
        total=page.total,
    )
    return json_response(out, exclude=None if params.include_total else {"total"})
