"""Reminders written by the overdue job, read in the caller's scope.

The text is stored in Chinese as it was written (the record of what was sent that day) and
rendered in English at read time from the reminder's kind and data: the hazard's number and
title (joined) and the deadline the reminder was about, which only the stored text records (a
later extension changes the hazard's deadline, not what was overdue then). Both texts come from
the templates below, so the Chinese one can be read back."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import visible_enterprise_ids
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, Hazard, OrgUnit, Reminder
from app.schemas.common import ListParams, NamedRef
from app.schemas.reminders import HazardRef, ReminderOut
from app.services.refs import unit_ref

SORTS = {"created_at": Reminder.created_at}
DEFAULT_SORT = "-created_at"

# Aliases: the scope subquery selects from ``enterprises`` and must never be correlated.
RefEnterprise = aliased(Enterprise, name="ref_enterprise")
RefUnit = aliased(OrgUnit, name="ref_unit")
COLUMNS = (
    Reminder.id,
    Reminder.hazard_id,
    Hazard.number.label("hazard_number"),
    Hazard.title.label("hazard_title"),
    Reminder.enterprise_id,
    RefEnterprise.name.label("enterprise_name"),
    Reminder.org_unit_id,
    RefUnit.name.label("org_unit_name"),
    RefUnit.name_en.label("org_unit_name_en"),
    Reminder.kind,
    Reminder.on_date,
    Reminder.message,
    Reminder.created_at,
)

_OVERDUE_ZH = "隐患 {number}《{title}》已逾期 {days} 天（整改期限 {deadline}），请督促整改。"
# The deadline in a stored Chinese text: the last match, since a title may contain anything.
_DEADLINE_ZH = re.compile(r"整改期限 (\d{4}-\d{2}-\d{2})）")


def overdue_message(number: str, title: str, deadline: date, on_date: date, english: bool) -> str:
    """The text of an overdue reminder of ``on_date`` about a hazard due on ``deadline``."""
    days = (on_date - deadline).days
    if english:
        unit = "day" if days == 1 else "days"
        return (
            f'Hazard {number} "{title}" is {days} {unit} overdue (deadline '
            f"{deadline.isoformat()}); please see that it is rectified."
        )
    return _OVERDUE_ZH.format(number=number, title=title, days=days, deadline=deadline.isoformat())


def message(kind: str, stored: str, number: str, title: str, on_date: date, english: bool) -> str:
    """The reminder's text in the caller's language (see the module docstring)."""
    if not english:
        return stored
    if kind == "overdue":
        found = _DEADLINE_ZH.findall(stored)
        if found:
            try:
                deadline = date.fromisoformat(found[-1])
            except ValueError:
                pass
            else:
                return overdue_message(number, title, deadline, on_date, english=True)
        return f'Hazard {number} "{title}" is overdue; please see that it is rectified.'
    return f'Reminder about hazard {number} "{title}" of {on_date.isoformat()}.'


def to_out(row: Any, english: bool) -> ReminderOut:
    """A list row (``COLUMNS``: the hazard, enterprise and unit joined in the same statement)."""
    org_unit_id = row["org_unit_id"]
    return ReminderOut.model_construct(
        id=row["id"],
        hazard_id=row["hazard_id"],
        hazard=HazardRef.model_construct(
            id=row["hazard_id"], number=row["hazard_number"], title=row["hazard_title"]
        ),
        enterprise_id=row["enterprise_id"],
        enterprise=NamedRef.model_construct(id=row["enterprise_id"], name=row["enterprise_name"]),
        org_unit_id=org_unit_id,
        org_unit=unit_ref(org_unit_id, row["org_unit_name"], row["org_unit_name_en"], english),
        kind=row["kind"],
        on_date=row["on_date"],
        message=message(
            row["kind"],
            row["message"],
            row["hazard_number"],
            row["hazard_title"],
            row["on_date"],
            english,
        ),
        created_at=row["created_at"],
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
    stmt = (
        select(*COLUMNS)
        .select_from(Reminder)
        .join(Hazard, Hazard.id == Reminder.hazard_id)
        .join(RefEnterprise, RefEnterprise.id == Reminder.enterprise_id)
        .outerjoin(RefUnit, RefUnit.id == Reminder.org_unit_id)
        .where(Reminder.enterprise_id.in_(visible_enterprise_ids(p)))
    )
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
