"""Reminders written by the overdue job, read in the caller's scope."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_enterprise_ids
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Reminder
from app.schemas.common import ListParams

SORTS = {"created_at": Reminder.created_at}
DEFAULT_SORT = "-created_at"

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


async def list_reminders(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    hazard_id: str | None,
    on_date: date | None,
) -> PageResult:
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    stmt = select(*COLUMNS).where(Reminder.enterprise_id.in_(visible_enterprise_ids(p)))
    if hazard_id:
        stmt = stmt.where(Reminder.hazard_id == hazard_id)
    if on_date:
        stmt = stmt.where(Reminder.on_date == on_date)
    return await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=Reminder.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
