"""Dashboard figures over exactly the rows the hazard list would return for the same filters."""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, not_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.clock import local_today
from app.core.config import Settings
from app.core.i18n import unit_name
from app.models import Enterprise, Hazard, HazardRollup, OrgUnit
from app.schemas.hazards import HazardStatsRow
from app.services.catalog_data import HAZARD_LEVELS, HAZARD_SOURCES, SECTORS
from app.services.hazards.queries import (
    OPEN_STATES,
    HazardFilters,
    conditions,
    overdue_condition,
    stock_condition,
)

GROUPS = ("town", "sector", "level", "source", "month")
MEASURES = (
    "found",
    "closed",
    "open",
    "overdue",
    "major_open",
    "major_supervised",
    "stock_open",
    "stock_cleared",
)
# Labels by language (English under ``Accept-Language: en``), from the catalogue itself.
_LABELS: dict[bool, dict[str, dict[str, str]]] = {
    english: {
        "sector": {s.code: s.name_en if english else s.name_zh for s in SECTORS},
        "level": {e.code: e.name_en if english else e.name_zh for e in HAZARD_LEVELS},
        "source": {e.code: e.name_en if english else e.name_zh for e in HAZARD_SOURCES},
    }
    for english in (False, True)
}


def _group_expr(name: str, dialect: str, settings: Settings) -> Any:
    if name == "town":
        return func.substr(Enterprise.region_code, 1, 9)
    if name == "sector":
        return Enterprise.sector
    if name == "level":
        return Hazard.level
    if name == "source":
        return Hazard.source
    # month of discovery, local time; Asia/Shanghai has no DST, but PostgreSQL is told the zone anyway
    if dialect == "postgresql":
        return func.to_char(func.timezone(settings.timezone, Hazard.found_at), "YYYY-MM")
    return func.strftime("%Y-%m", Hazard.found_at, "+8 hours")


def _count(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


async def hazard_statistics(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    group_by: list[str],
    filters: HazardFilters,
    english: bool = False,
) -> tuple[list[HazardStatsRow], HazardStatsRow]:
    dialect = session.bind.dialect.name
    today = local_today(settings.timezone)
    is_open = Hazard.status.in_(OPEN_STATES)
    is_closed = Hazard.status == "closed"
    supervised = Hazard.supervision_org_unit_id.is_not(None)
    stock = stock_condition(settings)
    keys = [_group_expr(g, dialect, settings).label(f"g_{g}") for g in group_by]
    measures = [
        func.count().label("found"),
        _count(is_closed).label("closed"),
        _count(is_open).label("open"),
        _count(overdue_condition(today)).label("overdue"),
        _count(and_(Hazard.level == "major", is_open)).label("major_open"),
        _count(and_(Hazard.level == "major", is_open, supervised)).label("major_supervised"),
        _count(and_(stock, is_open)).label("stock_open"),
        _count(and_(stock, is_closed)).label("stock_cleared"),
    ]
    served = _rollup_conditions(p, filters, settings, today)
    if served is None:
        base = (
            select(*keys, *measures)
            .select_from(Hazard)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(*conditions(p, filters, settings, today))
        )
        stmt = base.group_by(*keys) if keys else base
    else:
        stmt = _rollup_statement(group_by, served, settings, today)
    rows = (await session.execute(stmt)).mappings().all()
    medians = await _medians(session, p, settings, filters, group_by, today, dialect)
    names = await _town_names(session, p, english) if "town" in group_by else {}

    def make(row: Any, key: dict[str, str]) -> HazardStatsRow:
        found, closed = int(row["found"]), int(row["closed"])
        labels = {g: _label(g, v, names, english) for g, v in key.items()}
        return HazardStatsRow(
            key=key,
            labels=labels,
            **key,
            found=found,
            closed=closed,
            open=int(row["open"]),
            overdue=int(row["overdue"]),
            rectification_rate=round(closed / found, 4) if found else 0.0,
            major_open=int(row["major_open"]),
            major_supervised=int(row["major_supervised"]),
            stock_open=int(row["stock_open"]),
            stock_cleared=int(row["stock_cleared"]),
            median_days_to_close=medians.get(tuple(key.values())),  # () for the totals
        )

    groups = []
    for row in rows:
        key = {g: str(row[f"g_{g}"]) for g in group_by}
        if int(row["found"]):
            groups.append(make(row, key))
    groups.sort(key=lambda r: tuple(r.key[g] for g in group_by))
    # No grouping expression can be NULL, so every admitted row is in exactly one group and the
    # totals are the sums of the groups: a second scan of the table would give the same numbers.
    totals = make({m: sum(int(r[m]) for r in rows) for m in MEASURES}, {})
    return groups, totals


def _label(group: str, value: str, towns: dict[str, str], english: bool) -> str:
    if group == "town":
        return towns.get(value, value)
    return _LABELS[english].get(group, {}).get(value, value)


async def _town_names(session: AsyncSession, p: Principal, english: bool) -> dict[str, str]:
    rows = await session.execute(
        select(OrgUnit.region_code, OrgUnit.name, OrgUnit.name_en).where(OrgUnit.kind == "town")
    )
    return {code: unit_name(name, name_en, english) for code, name, name_en in rows if code}


async def _medians(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    filters: HazardFilters,
    group_by: list[str],
    today: date,
    dialect: str,
) -> dict[tuple[str, ...], float]:
    """Median days to close per group, and over all of them under the key ``()``, in one scan."""
    exprs = [_group_expr(g, dialect, settings) for g in group_by]
    keys = [e.label(f"g_{g}") for e, g in zip(exprs, group_by, strict=True)]
    where = [
        *conditions(p, filters, settings, today),
        Hazard.status == "closed",
        Hazard.closed_at.is_not(None),
    ]
    joined = (
        select()
        .select_from(Hazard)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(*where)
    )
    if dialect == "postgresql":
        days = func.extract("epoch", Hazard.closed_at - Hazard.found_at) / 86400.0
        median = func.percentile_cont(0.5).within_group(days).label("median")
        stmt = joined.add_columns(*keys, median)
        if exprs:  # the groups and the grand total () together; grouping() tells them apart
            stmt = stmt.add_columns(func.grouping(*exprs).label("rolled_up")).group_by(
                func.grouping_sets(tuple_(*exprs), tuple_())
            )
        out = {}
        for row in (await session.execute(stmt)).mappings():
            if row["median"] is None:
                continue
            key = () if exprs and row["rolled_up"] else tuple(str(row[f"g_{g}"]) for g in group_by)
            out[key] = round(float(row["median"]), 2)
        return out
    days = func.julianday(Hazard.closed_at) - func.julianday(Hazard.found_at)
    stmt = joined.add_columns(*keys, days.label("days"))
    buckets: dict[tuple[str, ...], list[float]] = defaultdict(list)
    every: list[float] = []
    for row in (await session.execute(stmt)).mappings():
        buckets[tuple(str(row[f"g_{g}"]) for g in group_by)].append(float(row["days"]))
        every.append(float(row["days"]))
    if group_by and every:
        buckets[()] = every
    return {k: round(stats.median(v), 2) for k, v in buckets.items() if v}


# ---- from the rollup (services/hazards/rollup.py) -------------------------------------------
R = HazardRollup
# The filters the rollup answers (with the limits in ``_rollup_conditions``); any other filter
# set, including one added later to HazardFilters, sends the request to the direct query.
ROLLUP_FILTERS = frozenset(
    {
        "status",
        "level",
        "source",
        "region_code",
        "sector",
        "escalation",
        "overdue",
        "stock",
        "supervised",
        "found_at_from",
        "found_at_to",
    }
)
_ROLLUP_COLUMNS = {
    "region_code": R.__table__.c.town_code,
    "sector": R.__table__.c.sector,
    "enforcement_department_id": R.__table__.c.department_id,
}


def _swap(element: Any) -> Any:
    if isinstance(element, ColumnClause) and element.table is Enterprise.__table__:
        return _ROLLUP_COLUMNS.get(element.name)
    return None


def _reads_hazards_or_enterprises(expr: Any) -> bool:
    tables = (Enterprise.__table__, Hazard.__table__)
    return any(
        any(t is (e.table if isinstance(e, ColumnClause) else e) for t in tables)
        for e in iterate(expr)
    )


_ROLLUP_GROUPS = {
    "town": R.town_code,
    "sector": R.sector,
    "level": R.level,
    "source": R.source,
    "month": R.found_month,
}


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def _rollup_scope(p: Principal) -> Any | None:
    """The caller's scope (``visible_enterprises``, the one rule) over the rollup's columns, or
    None when it needs what the rollup does not keep (an enterprise, a region finer than a town)."""
    if p.enterprise_id is not None or (p.unit and len(p.unit.region_code or "") > 9):
        return None
    scope = replacement_traverse(visible_enterprises(p), {}, _swap)
    if _reads_hazards_or_enterprises(scope):  # a rule on a column the rollup does not keep
        return None
    return scope


def _rollup_conditions(
    p: Principal, f: HazardFilters, settings: Settings, today: date
) -> list[Any] | None:
    """The same WHERE as ``queries.conditions`` over the rollup, or None: the direct query."""
    if any(getattr(f, x.name) is not None for x in fields(f) if x.name not in ROLLUP_FILTERS):
        return None
    cutoff = settings.stock_cutoff
    if cutoff.day != 1:  # stock is then decided within a month: the rollup keeps months
        return None
    if f.region_code and len(f.region_code) > 9:
        return None
    start, end = f.found_at_from, f.found_at_to
    if start is not None and (isinstance(start, datetime) or start.day != 1):
        return None
    if end is not None and (isinstance(end, datetime) or (end + timedelta(days=1)).day != 1):
        return None
    scope = _rollup_scope(p)
    if scope is None:
        return None
    out = [scope, R.status.in_(f.status) if f.status else R.status != "voided"]
    for name in ("level", "source", "sector", "escalation"):
        if getattr(f, name):
            out.append(getattr(R, name).in_(getattr(f, name)))
    if f.region_code:
        out.append(R.town_code.startswith(f.region_code))
    if f.overdue is not None:
        overdue = _rollup_overdue(today)
        out.append(overdue if f.overdue else not_(overdue))
    if f.stock is not None:
        stock = R.found_month < _month(cutoff)
        out.append(stock if f.stock else not_(stock))
    if f.supervised is not None:
        out.append(R.supervised.is_(True) if f.supervised else R.supervised.is_(False))
    if start is not None:
        out.append(R.found_month >= _month(start))
    if end is not None:
        out.append(R.found_month <= _month(end))
    return out


def _rollup_overdue(today: date) -> Any:
    return and_(R.status.in_(OPEN_STATES), R.deadline < today)


def _rollup_statement(
    group_by: list[str], where: list[Any], settings: Settings, today: date
) -> Any:
    def total(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, R.n), else_=0)), 0)

    is_open = R.status.in_(OPEN_STATES)
    is_closed = R.status == "closed"
    stock = R.found_month < _month(settings.stock_cutoff)
    keys = [_ROLLUP_GROUPS[g].label(f"g_{g}") for g in group_by]
    stmt = select(
        *keys,
        func.coalesce(func.sum(R.n), 0).label("found"),
        total(is_closed).label("closed"),
        total(is_open).label("open"),
        total(_rollup_overdue(today)).label("overdue"),
        total(and_(R.level == "major", is_open)).label("major_open"),
        total(and_(R.level == "major", is_open, R.supervised.is_(True))).label("major_supervised"),
        total(and_(stock, is_open)).label("stock_open"),
        total(and_(stock, is_closed)).label("stock_cleared"),
    ).where(*where)
    return stmt.group_by(*keys) if keys else stmt
