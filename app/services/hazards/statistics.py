"""Dashboard figures over exactly the rows the hazard list would return for the same filters."""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, not_, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from app.auth.principal import Principal, UnitInfo
from app.auth.scope import unit_enterprises, visible_enterprises, visible_org_units
from app.core.clock import local_today
from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.core.i18n import unit_name
from app.models import Enterprise, Hazard, HazardRollup, OrgUnit
from app.schemas.hazards import HazardStatsRow, StatsGroup
from app.services import catalog_data, judgment_standards
from app.services.catalog_data import HAZARD_LEVELS, HAZARD_SOURCES, SECTORS
from app.services.hazards.queries import (
    NO_RISK_POINT,
    OPEN_STATES,
    HazardFilters,
    conditions,
    count_where,
    overdue_condition,
    risk_level_expr,
    stock_condition,
)
from app.services.risks.catalog import RISK_LEVELS

GROUPS: tuple[str, ...] = StatsGroup.__args__  # type: ignore[attr-defined]
# Groupings that count only part of the hazards, and the filter each implies (as the query
# string would say it): the answer's ``implied_filters``.
IMPLIED = {"stock_year": ("stock", "true"), "judgment_clause": ("level", "major")}
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
# The key of a major hazard that cites no judgment (registered before judgments were required).
NO_JUDGMENT = "none"
# Labels by language (English under ``Accept-Language: en``), from the catalogue itself.
_LABELS: dict[bool, dict[str, dict[str, str]]] = {
    english: {
        "sector": {s.code: s.name_en if english else s.name_zh for s in SECTORS},
        "level": {e.code: e.name_en if english else e.name_zh for e in HAZARD_LEVELS},
        "source": {e.code: e.name_en if english else e.name_zh for e in HAZARD_SOURCES},
        "risk_level": {
            **{e.code: e.name_en if english else e.name_zh for e in RISK_LEVELS},
            NO_RISK_POINT: "No risk point named" if english else "未关联风险点",
        },
    }
    for english in (False, True)
}


@dataclass(frozen=True)
class HazardStatistics:
    groups: list[HazardStatsRow]
    totals: HazardStatsRow
    groups_overlap: bool
    implied_filters: dict[str, str]


def implied_filters(
    group_by: Sequence[str], f: HazardFilters
) -> tuple[HazardFilters, dict[str, str]]:
    """The filters a grouping narrows to (``IMPLIED``); a filter that excludes what the grouping
    counts is a 422 rather than an empty answer that looks like zero."""
    implied: dict[str, str] = {}
    if "stock_year" in group_by:
        if f.stock is False:
            raise _conflict(
                "stock",
                "按存量年份分组只统计存量隐患",
                "group_by=stock_year counts stock hazards only",
            )
        f, implied["stock"] = replace(f, stock=True), "true"
    if "judgment_clause" in group_by:
        if f.level and "major" not in f.level:
            raise _conflict(
                "level",
                "按判定条款分组只统计重大事故隐患",
                "group_by=judgment_clause counts major hazards only",
            )
        f, implied["level"] = replace(f, level=("major",)), "major"
    return f, implied


def _conflict(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed.field(field, zh, en, code="filter_conflicts_with_grouping")


def _local_format(
    dialect: str, settings: Settings, pg: str, sqlite: str, column: Any = Hazard.found_at
) -> Any:
    """The local time of ``column`` (discovery by default) formatted; Asia/Shanghai has no DST,
    but PostgreSQL is told the zone anyway (SQLite adds its fixed offset, as the rollup's
    ``month_expr`` does). The enforcement figures' month uses it too."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(settings.timezone, column), pg)
    return func.strftime(sqlite, column, "+8 hours")


def _group_expr(name: str, dialect: str, settings: Settings) -> Any:
    if name == "town":
        return func.substr(Enterprise.region_code, 1, 9)
    if name == "sector":
        return Enterprise.sector
    if name == "level":
        return Hazard.level
    if name == "source":
        return Hazard.source
    if name == "enforcement_department":
        return Enterprise.enforcement_department_id
    if name == "risk_level":
        return risk_level_expr()
    if name == "stock_year":
        return _local_format(dialect, settings, "YYYY", "%Y")
    if name == "judgment_clause":
        return case(
            (Hazard.judgment_standard.is_(None), literal(NO_JUDGMENT)),
            else_=Hazard.judgment_standard + ":" + func.coalesce(Hazard.judgment_clause, ""),
        )
    assert name == "month", name
    return _local_format(dialect, settings, "YYYY-MM", "%Y-%m")


@dataclass(frozen=True)
class _Source:
    """Where the counts come from: the hazards themselves, or the rollup."""

    from_: Any
    where: list[Any]
    measures: list[Any]  # labelled as MEASURES
    group: Callable[[str], Any]
    # Enterprise columns as this source keeps them (for a bureau's scope), by column name.
    enterprise: Callable[[str], Any | None]


def _direct_source(
    p: Principal, f: HazardFilters, settings: Settings, today: date, dialect: str
) -> _Source:
    is_open = Hazard.status.in_(OPEN_STATES)
    is_closed = Hazard.status == "closed"
    supervised = Hazard.supervision_org_unit_id.is_not(None)
    stock = stock_condition(settings)
    measures = [
        func.count().label("found"),
        count_where(is_closed).label("closed"),
        count_where(is_open).label("open"),
        count_where(overdue_condition(today)).label("overdue"),
        count_where(and_(Hazard.level == "major", is_open)).label("major_open"),
        count_where(and_(Hazard.level == "major", is_open, supervised)).label("major_supervised"),
        count_where(and_(stock, is_open)).label("stock_open"),
        count_where(and_(stock, is_closed)).label("stock_cleared"),
    ]
    return _Source(
        from_=Hazard.__table__.join(Enterprise.__table__, Enterprise.id == Hazard.enterprise_id),
        where=conditions(p, f, settings, today),
        measures=measures,
        group=lambda g: _group_expr(g, dialect, settings),
        enterprise=lambda name: Enterprise.__table__.c[name],
    )


async def hazard_statistics(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    group_by: list[str],
    filters: HazardFilters,
    english: bool = False,
) -> HazardStatistics:
    dialect = session.bind.dialect.name
    today = local_today(settings.timezone)
    filters, implied = implied_filters(group_by, filters)
    by_bureau = "bureau" in group_by
    units = await _units(session, p, group_by)
    bureaus = [u for u in units.values() if u.kind == "bureau"] if by_bureau else []
    served = _rollup_conditions(p, filters, settings, today, group_by)
    source = (
        _direct_source(p, filters, settings, today, dialect)
        if served is None
        else _rollup_source(served, settings, today)
    )
    stmt = _counts_statement(source, group_by, bureaus) if by_bureau else None
    if by_bureau and stmt is None:  # a bureau's scope needs a column the rollup does not keep
        source = _direct_source(p, filters, settings, today, dialect)
        stmt = _counts_statement(source, group_by, bureaus)
    if stmt is None:
        keys = [source.group(g).label(f"g_{g}") for g in group_by]
        stmt = select(*keys, *source.measures).select_from(source.from_).where(*source.where)
        stmt = stmt.group_by(*keys) if keys else stmt
    rows = (await session.execute(stmt)).mappings().all()
    medians = await _medians(session, p, settings, filters, group_by, bureaus, today, dialect)

    def make(row: Any, key: dict[str, str]) -> HazardStatsRow:
        found, closed = int(row["found"]), int(row["closed"])
        labels = {g: _label(g, v, units, english) for g, v in key.items()}
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

    groups, totals_row = [], None
    for row in rows:
        if by_bureau and row["g_bureau"] == "":  # the caller's scope once (_counts_statement)
            totals_row = row
            continue
        key = {g: str(row[f"g_{g}"]) for g in group_by}
        if int(row["found"] or 0):
            groups.append(make(row, key))
    groups.sort(key=lambda r: tuple(r.key[g] for g in group_by))
    if totals_row is None:
        # No grouping expression can be NULL, so every admitted row is in exactly one group and
        # the totals are the sums of the groups: a second scan would give the same numbers.
        totals_row = {m: sum(int(r[m]) for r in rows) for m in MEASURES}
    totals = make(totals_row, {})
    return HazardStatistics(groups, totals, by_bureau, implied)


# ---- by bureau: each bureau over its own scope, the totals over the caller's once -------------


def _enterprise_columns(conds: Sequence[Any]) -> list[str]:
    """The enterprise columns the bureaus' scopes compare (sector, region, department)."""
    names = {
        e.name
        for cond in conds
        for e in iterate(cond)
        if isinstance(e, ColumnClause) and e.table is Enterprise.__table__
    }
    return sorted(names)


def _onto(expr: Any, columns: Callable[[str], Any | None]) -> Any | None:
    """``expr`` (over ``Enterprise``) with its enterprise columns replaced by ``columns(name)``, or
    None when one has no replacement, or hazards or enterprises are still read."""
    missing: list[str] = []

    def swap(element: Any) -> Any:
        if isinstance(element, ColumnClause) and element.table is Enterprise.__table__:
            found = columns(element.name)
            if found is None:
                missing.append(element.name)
            return found
        return None

    out = replacement_traverse(expr, {}, swap)
    if missing or _reads_hazards_or_enterprises(out):
        return None
    return out


def _counts_statement(source: _Source, group_by: list[str], bureaus: list[UnitInfo]) -> Any | None:
    """One statement: the rows in the caller's scope and filters summed once per enterprise key
    (a CTE), then a branch per bureau over its own scope (``unit_enterprises``, the one rule) and a
    totals branch (``g_bureau`` empty) over all of them, joined by UNION ALL. None when the source
    lacks a column a bureau's scope compares."""
    others = [g for g in group_by if g != "bureau"]
    conds = [unit_enterprises(b) for b in bureaus]
    names = _enterprise_columns(conds)
    columns = {n: source.enterprise(n) for n in names}
    if any(c is None for c in columns.values()):
        return None
    keys = [source.group(g).label(f"g_{g}") for g in others]
    ent = [c.label(f"e_{n}") for n, c in columns.items()]
    scoped = (
        select(*keys, *ent, *source.measures)
        .select_from(source.from_)
        .where(*source.where)
        .group_by(*keys, *ent)
        .cte("scoped")
    )
    own = [scoped.c[f"g_{g}"] for g in others]
    sums = [func.coalesce(func.sum(scoped.c[m]), 0).label(m) for m in MEASURES]
    branches = []
    for bureau, cond in zip(bureaus, conds, strict=True):
        on = _onto(cond, lambda n: scoped.c.get(f"e_{n}"))
        if on is None:
            return None
        branch = select(literal(bureau.id).label("g_bureau"), *own, *sums).where(on)
        branches.append(branch.group_by(*own) if own else branch)
    totals = select(
        literal("").label("g_bureau"), *(literal("").label(f"g_{g}") for g in others), *sums
    )
    return union_all(*branches, totals) if branches else totals


async def _units(session: AsyncSession, p: Principal, group_by: list[str]) -> dict[str, UnitInfo]:
    """The caller's county's towns (their names) and bureaus (names and scopes), by region code
    for a town and by id for a bureau; one statement, only when a grouping needs them."""
    kinds = set()
    if "town" in group_by:
        kinds.add("town")
    if {"bureau", "enforcement_department"} & set(group_by):
        kinds.add("bureau")
    if not kinds:
        return {}
    rows = await session.execute(
        select(
            OrgUnit.id,
            OrgUnit.kind,
            OrgUnit.name,
            OrgUnit.name_en,
            OrgUnit.region_code,
            OrgUnit.county_code,
            OrgUnit.sectors,
        )
        .where(OrgUnit.kind.in_(sorted(kinds)), visible_org_units(p))
        .order_by(OrgUnit.id)
    )
    out = {}
    for r in rows:
        unit = UnitInfo.of(r)
        if r.kind == "town" and r.region_code:
            out[r.region_code] = unit
        elif r.kind == "bureau":
            out[r.id] = unit
    return out


# ---- labels ----------------------------------------------------------------------------------


def _label(group: str, value: str, units: dict[str, UnitInfo], english: bool) -> str:
    if group in ("town", "bureau", "enforcement_department"):
        unit = units.get(value)
        return unit_name(unit.name, unit.name_en, english) if unit else value
    if group == "judgment_clause":
        return _judgment_label(value, english)
    return _LABELS[english].get(group, {}).get(value, value)


def _judgment_label(value: str, english: bool) -> str:
    """The standard's name and the clause's wording from the catalogue; a clause stored before
    the catalogue knew it keeps its code as label."""
    if value == NO_JUDGMENT:
        return "No judgment cited" if english else "未引用判定标准"
    standard, _, code = value.partition(":")
    entry = next((e for e in catalog_data.JUDGMENT_STANDARDS if e.code == standard), None)
    name = (entry.name_en if english else entry.name_zh) if entry else standard
    known = judgment_standards.clause(standard, code)
    text = (known.text_en if english else known.text_zh) if known else None
    return f"{name} {code} {text}".strip() if text else f"{name} {code}".strip()


# ---- median days to close (always from the hazards) --------------------------------------------


async def _medians(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    filters: HazardFilters,
    group_by: list[str],
    bureaus: list[UnitInfo],
    today: date,
    dialect: str,
) -> dict[tuple[str, ...], float]:
    """Median days to close per group, and over all of them under the key ``()``, in one scan."""
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
    else:
        days = func.julianday(Hazard.closed_at) - func.julianday(Hazard.found_at)
    if "bureau" in group_by:
        stmt = _bureau_medians_statement(joined, days, group_by, bureaus, dialect, settings)
        return await _collect_medians(session, stmt, group_by, dialect, rolled_up="g_bureau")
    exprs = [_group_expr(g, dialect, settings) for g in group_by]
    keys = [e.label(f"g_{g}") for e, g in zip(exprs, group_by, strict=True)]
    if dialect == "postgresql":
        median = func.percentile_cont(0.5).within_group(days).label("median")
        stmt = joined.add_columns(*keys, median)
        if exprs:  # the groups and the grand total () together; grouping() tells them apart
            stmt = stmt.add_columns(func.grouping(*exprs).label("rolled_up")).group_by(
                func.grouping_sets(tuple_(*exprs), tuple_())
            )
        return await _collect_medians(session, stmt, group_by, dialect, rolled_up="rolled_up")
    stmt = joined.add_columns(*keys, days.label("days"))
    return await _collect_medians(session, stmt, group_by, dialect, rolled_up=None)


def _bureau_medians_statement(
    joined: Any,
    days: Any,
    group_by: list[str],
    bureaus: list[UnitInfo],
    dialect: str,
    settings: Settings,
) -> Any:
    """As ``_counts_statement``: the closed rows once (a CTE), a branch per bureau over its own
    scope, and the caller's whole scope under an empty ``g_bureau``."""
    others = [g for g in group_by if g != "bureau"]
    conds = [unit_enterprises(b) for b in bureaus]
    names = _enterprise_columns(conds)
    closed = joined.add_columns(
        days.label("days"),
        *(_group_expr(g, dialect, settings).label(f"g_{g}") for g in others),
        *(Enterprise.__table__.c[n].label(f"e_{n}") for n in names),
    ).cte("closed_rows")
    own = [closed.c[f"g_{g}"] for g in others]
    if dialect == "postgresql":
        value = func.percentile_cont(0.5).within_group(closed.c.days).label("median")
    else:
        value = closed.c.days.label("days")
    branches = []
    for bureau, cond in zip(bureaus, conds, strict=True):
        on = _onto(cond, lambda n: closed.c.get(f"e_{n}"))
        assert on is not None  # every column the scopes compare is in the CTE
        branch = select(literal(bureau.id).label("g_bureau"), *own, value).where(on)
        branches.append(branch.group_by(*own) if own and dialect == "postgresql" else branch)
    totals = select(
        literal("").label("g_bureau"), *(literal("").label(f"g_{g}") for g in others), value
    )
    return union_all(*branches, totals) if branches else totals


async def _collect_medians(
    session: AsyncSession, stmt: Any, group_by: list[str], dialect: str, rolled_up: str | None
) -> dict[tuple[str, ...], float]:
    """Rows to medians by key; a row whose ``rolled_up`` column is set (grouping() on
    PostgreSQL, or an empty bureau) is the grand total ``()``. On SQLite the rows are single
    durations and the medians are taken here."""

    def key_of(row: Any) -> tuple[str, ...]:
        if rolled_up == "g_bureau" and row["g_bureau"] == "":
            return ()
        if rolled_up == "rolled_up" and group_by and row["rolled_up"]:
            return ()
        return tuple(str(row[f"g_{g}"]) for g in group_by)

    result = (await session.execute(stmt)).mappings()
    if dialect == "postgresql":
        return {
            key_of(row): round(float(row["median"]), 2)
            for row in result
            if row["median"] is not None
        }
    buckets: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for row in result:
        buckets[key_of(row)].append(float(row["days"]))
    if rolled_up is None and group_by and buckets:  # the grand total: every row once
        buckets[()] = [d for values in list(buckets.values()) for d in values]
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


def _reads_hazards_or_enterprises(expr: Any) -> bool:
    tables = (Enterprise.__table__, Hazard.__table__)
    return any(
        any(t is (e.table if isinstance(e, ColumnClause) else e) for t in tables)
        for e in iterate(expr)
    )


# The groupings the rollup answers; ``bureau`` too, through the enterprise columns it keeps
# (``_ROLLUP_COLUMNS``). The judgment clause is not kept (docs/decisions.md, issue 11).
_ROLLUP_GROUPS = {
    "town": R.town_code,
    "sector": R.sector,
    "level": R.level,
    "source": R.source,
    "month": R.found_month,
    "enforcement_department": R.department_id,
    "stock_year": func.substr(R.found_month, 1, 4),
}


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def _rollup_scope(p: Principal) -> Any | None:
    """The caller's scope (``visible_enterprises``, the one rule) over the rollup's columns, or
    None when it needs what the rollup does not keep (an enterprise, a region finer than a town)."""
    if p.enterprise_id is not None or (p.unit and len(p.unit.region_code or "") > 9):
        return None
    return _onto(visible_enterprises(p), _ROLLUP_COLUMNS.get)


def _rollup_conditions(
    p: Principal,
    f: HazardFilters,
    settings: Settings,
    today: date,
    group_by: Sequence[str] = (),
) -> list[Any] | None:
    """The same WHERE as ``queries.conditions`` over the rollup, or None: the direct query."""
    if any(g not in _ROLLUP_GROUPS and g != "bureau" for g in group_by):
        return None
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


def _rollup_source(where: list[Any], settings: Settings, today: date) -> _Source:
    def total(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, R.n), else_=0)), 0)

    is_open = R.status.in_(OPEN_STATES)
    is_closed = R.status == "closed"
    stock = R.found_month < _month(settings.stock_cutoff)
    measures = [
        func.coalesce(func.sum(R.n), 0).label("found"),
        total(is_closed).label("closed"),
        total(is_open).label("open"),
        total(_rollup_overdue(today)).label("overdue"),
        total(and_(R.level == "major", is_open)).label("major_open"),
        total(and_(R.level == "major", is_open, R.supervised.is_(True))).label("major_supervised"),
        total(and_(stock, is_open)).label("stock_open"),
        total(and_(stock, is_closed)).label("stock_cleared"),
    ]
    return _Source(
        from_=R.__table__,
        where=where,
        measures=measures,
        group=_ROLLUP_GROUPS.__getitem__,
        enterprise=_ROLLUP_COLUMNS.get,
    )
