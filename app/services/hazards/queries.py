"""The hazard filters, shared by the list, the statistics and (later) exports, so their numbers agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, not_, or_, select
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.clock import start_of_local_day
from app.core.config import Settings
from app.models import Enterprise, Hazard, OrgUnit, RiskPoint
from app.services import external_ids
from app.services.hazards.workflow import OPEN

OPEN_STATES = tuple(sorted(OPEN))


@dataclass(frozen=True)
class HazardFilters:
    """Enumeration filters hold every value asked for (any of them matches, SQL ``IN``)."""

    status: tuple[str, ...] | None = None
    level: tuple[str, ...] | None = None
    source: tuple[str, ...] | None = None
    category: tuple[str, ...] | None = None
    enterprise_id: str | None = None
    region_code: str | None = None
    sector: tuple[str, ...] | None = None
    escalation: tuple[str, ...] | None = None
    overdue: bool | None = None
    stock: bool | None = None
    supervised: bool | None = None
    found_at_from: datetime | date | None = None
    found_at_to: datetime | date | None = None
    # Closed (销号) within the period; either bound implies status closed.
    closed_at_from: datetime | date | None = None
    closed_at_to: datetime | date | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    q: str | None = None
    risk_point_id: str | None = None
    # Levels of the hazards' risk points (their current ones); ``none``: no risk point named.
    risk_level: tuple[str, ...] | None = None
    # ``<system>:<id>``: the hazard another system knows by this id.
    external_id: str | None = None


def stock_cutoff_instant(settings: Settings) -> datetime:
    return start_of_local_day(settings.stock_cutoff, settings.timezone)


# The level a hazard's risk point has now, ``none`` when it names none: the grouping
# ``risk_level`` and its filter (a correlated lookup by primary key, so no join to thread through
# every statement the statistics build).
NO_RISK_POINT = "none"


def risk_level_expr() -> ColumnElement[str]:
    level = (
        select(RiskPoint.level)
        .where(RiskPoint.id == Hazard.risk_point_id)
        .correlate(Hazard)
        .scalar_subquery()
    )
    return func.coalesce(level, NO_RISK_POINT)


def overdue_condition(today: date) -> ColumnElement[bool]:
    """Not closed by the end of the deadline day (local time): open, and the deadline is before today."""
    return and_(Hazard.status.in_(OPEN_STATES), Hazard.deadline < today)


def stock_condition(settings: Settings) -> ColumnElement[bool]:
    return Hazard.found_at < stock_cutoff_instant(settings)


def _lower_bound(value: datetime | date, settings: Settings) -> datetime:
    if isinstance(value, datetime):
        return value
    return start_of_local_day(value, settings.timezone)


def _upper_bound_exclusive(value: datetime | date, settings: Settings) -> tuple[datetime, bool]:
    """A date means the whole local day; a datetime is inclusive. Filter values come through
    ``app.schemas.dates`` (years 1900–2999), so the day after is always representable."""
    if isinstance(value, datetime):
        return value, True
    return start_of_local_day(value + timedelta(days=1), settings.timezone), False


def period(
    column: Any, start: datetime | date | None, end: datetime | date | None, settings: Settings
) -> list[ColumnElement[bool]]:
    """``<field>_from``/``<field>_to``: a date is the whole local day, both ends inclusive."""
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(column >= _lower_bound(start, settings))
    if end is not None:
        bound, inclusive = _upper_bound_exclusive(end, settings)
        out.append(column <= bound if inclusive else column < bound)
    return out


def conditions(
    p: Principal, f: HazardFilters, settings: Settings, today: date
) -> list[ColumnElement[bool]]:
    """WHERE clauses over ``Hazard`` joined with ``Enterprise``; scope always comes first."""
    out: list[ColumnElement[bool]] = [visible_enterprises(p)]
    if f.status:
        out.append(Hazard.status.in_(f.status))
    else:  # voided registrations are mistakes: shown only when asked for
        out.append(Hazard.status != "voided")
    if f.level:
        out.append(Hazard.level.in_(f.level))
    if f.source:
        out.append(Hazard.source.in_(f.source))
    if f.category:
        out.append(Hazard.category.in_(f.category))
    if f.enterprise_id:
        out.append(Hazard.enterprise_id == f.enterprise_id)
    if f.region_code:
        out.append(Enterprise.region_code.startswith(f.region_code))
    if f.sector:
        out.append(Enterprise.sector.in_(f.sector))
    if f.escalation:
        out.append(Hazard.escalation.in_(f.escalation))
    if f.overdue is not None:
        cond = overdue_condition(today)
        out.append(cond if f.overdue else not_(cond))
    if f.stock is not None:
        cond = stock_condition(settings)
        out.append(cond if f.stock else not_(cond))
    if f.supervised is not None:
        sup = Hazard.supervision_org_unit_id.is_not(None)
        out.append(sup if f.supervised else not_(sup))
    out += period(Hazard.found_at, f.found_at_from, f.found_at_to, settings)
    if f.closed_at_from is not None or f.closed_at_to is not None:
        out.append(Hazard.status == "closed")
        out += period(Hazard.closed_at, f.closed_at_from, f.closed_at_to, settings)
    if f.deadline_from is not None:
        out.append(Hazard.deadline >= f.deadline_from)
    if f.deadline_to is not None:
        out.append(Hazard.deadline <= f.deadline_to)
    if f.risk_point_id:
        out.append(Hazard.risk_point_id == f.risk_point_id)
    if f.risk_level:
        out.append(risk_level_expr().in_(f.risk_level))
    if f.external_id:
        out.append(external_ids.named("hazard", Hazard.id, f.external_id))
    if f.q:
        out.append(
            or_(
                Hazard.title.icontains(f.q, autoescape=True),
                Hazard.number == f.q,
                Hazard.location.icontains(f.q, autoescape=True),
                Enterprise.name.icontains(f.q, autoescape=True),
            )
        )
    return out


# The enterprise's enforcement department, joined for its name; an alias, so that no scope
# subquery over ``org_units`` is ever correlated with it.
Department = aliased(OrgUnit, name="department")

LIST_COLUMNS = (
    Hazard.id,
    Hazard.number,
    Hazard.enterprise_id,
    Enterprise.name.label("enterprise_name"),
    Enterprise.enforcement_department_id,
    Department.name.label("department_name"),
    Department.name_en.label("department_name_en"),
    Enterprise.region_code,
    Enterprise.sector,
    Hazard.title,
    Hazard.location,
    Hazard.level,
    Hazard.source,
    Hazard.category,
    Hazard.found_at,
    Hazard.deadline,
    Hazard.status,
    Hazard.escalation,
    Hazard.supervision_org_unit_id,
    Hazard.enterprise_extensions,
    Hazard.created_at,
    Hazard.updated_at,
    Hazard.closed_at,
    # The ids other systems give it, gathered into the row (app/services/external_ids.py).
    external_ids.gathered("hazard", Hazard.id),
)


# Built once; each list adds its conditions (app/core/reads.py: building costs more than sending).
_LIST_BASE = (
    select(*LIST_COLUMNS)
    .select_from(Hazard)
    .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
    .join(Department, Department.id == Enterprise.enforcement_department_id)
)


def list_statement(p: Principal, f: HazardFilters, settings: Settings, today: date) -> Select[Any]:
    return _LIST_BASE.where(*conditions(p, f, settings, today))


def count_where(cond: Any) -> Any:
    """How many of the grouped hazards meet ``cond`` (0, not NULL, for an empty group): the one
    form of every measure of the statistics and the unit figures."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)
