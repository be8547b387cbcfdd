"""Reminders about hazards: written by the daily job, read in the caller's scope.

Two kinds, written by the same daily run (``overdue`` job, app/services/jobs.py):

- ``deadline_warning`` (预警): on the local days deadline − 7, − 3, − 1 and the day itself
  (``ANJIAN_REMINDER_OFFSETS_DAYS``), for open hazards (registered, rectifying, awaiting
  acceptance). Only today's are written: a day the job did not run is not made up later.
- ``overdue`` (逾期): every day after the deadline until the hazard is closed or voided.

Each goes to every unit responsible and to the enterprise, one row per recipient: the
enterprise; its town (属地: the town whose region code is the enterprise's 9-digit prefix); its
designated enforcement department; and, under listed supervision (挂牌督办), the supervising
unit; a unit that is two of these is reminded once. A row is unique per hazard, kind, deadline,
day and recipient and written with ``ON CONFLICT DO NOTHING``, so a rerun of the day or a second
process racing this one writes nothing twice; every row it did write reaches the users of its
recipient as a notification (``notify``), in the same transaction. An extension moves the
deadline and the warnings follow it: a warning day of the new deadline comes again.

The text is stored in Chinese as written (the record of what was sent that day) with its
template data; it is rendered in English at read time from the same template
(app/services/messages.py), with the number, title and deadline it was about then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import visible_enterprise_ids
from app.core.db import upsert_insert
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, Hazard, OrgUnit, Reminder
from app.models.base import utcnow
from app.schemas.common import ListParams, NamedRef
from app.schemas.reminders import HazardRef, ReminderOut
from app.services.hazards.queries import OPEN_STATES
from app.services.messages import localized, render
from app.services.notifications import notify
from app.services.refs import unit_ref

SORTS = {"created_at": Reminder.created_at}
DEFAULT_SORT = "-created_at"
KINDS = ("deadline_warning", "overdue")
# The notification (and template) of each reminder kind.
NOTIFICATION_KIND = {"deadline_warning": "hazard_deadline_warning", "overdue": "hazard_overdue"}
BATCH = 500

# ---- writing ---------------------------------------------------------------------------------

Town = aliased(OrgUnit, name="town")
# A hazard to remind of, with every unit that answers for it (read in the same statement).
DUE_COLUMNS = (
    Hazard.id,
    Hazard.number,
    Hazard.title,
    Hazard.deadline,
    Hazard.enterprise_id,
    Enterprise.enforcement_department_id,
    Hazard.supervision_org_unit_id,
    Town.id.label("town_id"),
)


def due(where: ColumnElement[bool], *extra: Any) -> Select[Any]:
    """The hazards matching ``where`` with their recipients' ids (``DUE_COLUMNS``), in id order
    (two racing runs insert in the same order, so neither waits on the other in a cycle)."""
    return (
        select(*DUE_COLUMNS, *extra)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .outerjoin(
            Town,
            and_(
                Town.kind == "town", Town.region_code == func.substr(Enterprise.region_code, 1, 9)
            ),
        )
        .where(where)
        .order_by(Hazard.id)
    )


def recipient_units(row: Any) -> list[str]:
    """The units responsible for a hazard, each once: its town, its enterprise's enforcement
    department, the unit supervising it."""
    units = (row.town_id, row.enforcement_department_id, row.supervision_org_unit_id)
    return list(dict.fromkeys(u for u in units if u))


def _data(kind: str, row: Any, today: date) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hazard_id": row.id,
        "number": row.number,
        "title": row.title,
        "deadline": row.deadline.isoformat(),
    }
    if kind == "deadline_warning":
        data["days_left"] = (row.deadline - today).days
    else:
        data["days_overdue"] = (today - row.deadline).days
    return data


async def remind(
    session: AsyncSession, kind: str, today: date, hazards: Sequence[Any]
) -> dict[str, int]:
    """Writes the reminders of ``kind`` for ``today`` about ``hazards`` (rows of ``due``), one
    per recipient, skipping those already written; notifies the users of each recipient whose
    reminder this call wrote. Answers the rows and notifications written."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    data_of: dict[str, dict[str, Any]] = {}
    for h in hazards:
        data = data_of[h.id] = _data(kind, h, today)
        message = render(NOTIFICATION_KIND[kind], data, english=False).body
        for unit in [None, *recipient_units(h)]:
            rows.append(
                {
                    "id": new_id(),
                    "hazard_id": h.id,
                    "enterprise_id": h.enterprise_id,
                    "org_unit_id": unit,
                    "recipient_id": unit or h.enterprise_id,
                    "kind": kind,
                    "on_date": today,
                    "deadline": h.deadline,
                    "message": message,
                    "data": data,
                    "created_at": now,
                }
            )
    table = Reminder.__table__
    written: set[tuple[str, str]] = set()
    for start in range(0, len(rows), BATCH):
        stmt = (
            upsert_insert(session, table)
            .values(rows[start : start + BATCH])
            .on_conflict_do_nothing()
            .returning(table.c.hazard_id, table.c.recipient_id)
        )
        written.update((r.hazard_id, r.recipient_id) for r in await session.execute(stmt))
    notified = 0
    for h in hazards:
        units = [u for u in recipient_units(h) if (h.id, u) in written]
        enterprises = [h.enterprise_id] if (h.id, h.enterprise_id) in written else []
        if units or enterprises:
            notified += await notify(
                session,
                NOTIFICATION_KIND[kind],
                data_of[h.id],
                link=f"/api/v1/hazards/{h.id}",
                object_type="hazard",
                object_id=h.id,
                to_units=units,
                to_enterprises=enterprises,
                now=now,
            )
    return {"reminders": len(written), "notifications": notified}


async def warn_deadlines(
    session: AsyncSession, offsets: Sequence[int], today: date
) -> dict[str, int]:
    """Today's early warnings: open hazards whose deadline is ``today`` plus one of
    ``offsets`` days (only today's: a missed day is not made up)."""
    if not offsets:
        return {"reminders": 0, "notifications": 0}
    days = sorted({today + timedelta(days=o) for o in offsets})
    hazards = (
        await session.execute(due(and_(Hazard.status.in_(OPEN_STATES), Hazard.deadline.in_(days))))
    ).all()
    return await remind(session, "deadline_warning", today, hazards)


# ---- reading ---------------------------------------------------------------------------------

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
    Reminder.deadline,
    Reminder.message,
    Reminder.data,
    Reminder.created_at,
)


def to_out(row: Any, english: bool) -> ReminderOut:
    """A list row (``COLUMNS``: the hazard, enterprise and unit joined in the same statement)."""
    org_unit_id = row["org_unit_id"]
    kind = row["kind"]
    message = localized(NOTIFICATION_KIND.get(kind, kind), row["data"], "", row["message"], english)
    return ReminderOut.model_construct(
        id=row["id"],
        hazard_id=row["hazard_id"],
        hazard=HazardRef.model_construct(
            id=row["hazard_id"], number=row["hazard_number"], title=row["hazard_title"]
        ),
        enterprise_id=row["enterprise_id"],
        enterprise=NamedRef.model_construct(id=row["enterprise_id"], name=row["enterprise_name"]),
        recipient_kind="org_unit" if org_unit_id else "enterprise",
        org_unit_id=org_unit_id,
        org_unit=unit_ref(org_unit_id, row["org_unit_name"], row["org_unit_name_en"], english),
        kind=kind,
        on_date=row["on_date"],
        deadline=row["deadline"],
        days_before=(row["deadline"] - row["on_date"]).days if kind == "deadline_warning" else None,
        message=message.body,
        created_at=row["created_at"],
    )


async def list_reminders(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    hazard_id: str | None,
    on_date: date | None,
    kind: list[str] | None = None,
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
    if kind:
        stmt = stmt.where(Reminder.kind.in_(kind))
    return await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=Reminder.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
