"""Enforcement figures (执法统计) and self-inspection compliance (企业自查), over exactly the rows
the inspection list would return for the same filters (``inspections.queries.conditions``).

Enforcement figures: three statements, whatever the grouping — the measures with the decision
counts (groups and totals in one UNION ALL over the selected inspections as a CTE), the key
enterprises (重点企业) of the scope, and the zero-penalty units (零处罚); plus the names of the
county's units when a grouping labels them. Self-inspection compliance: the page of those
behind and the totals per town and sector (plus the town names).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    and_,
    case,
    desc,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal, UnitInfo
from app.auth.scope import visible_enterprises, visible_org_units
from app.core.clock import local_date, local_today
from app.core.config import Settings
from app.core.i18n import unit_name
from app.core.pagination import fetch_page, parse_sort
from app.models import Enterprise, Inspection, InspectionDecision, OrgUnit
from app.schemas.common import ListParams, NamedRef
from app.schemas.inspection_statistics import (
    DecisionCounts,
    EnforcementStats,
    EnforcementStatsRow,
    RequiredSubPeriods,
    SelfInspectionBehind,
    SelfInspectionCompliance,
    SelfInspectionTotal,
    ZeroPenaltyUnit,
)
from app.services.catalog_data import (
    DECISION_KINDS,
    INSPECTION_KINDS,
    NON_ENFORCEMENT_KINDS,
    PENALTY_DECISIONS,
    SECTORS,
)
from app.services.hazards.queries import count_where, period
from app.services.hazards.statistics import _label, _local_format
from app.services.inspections.queries import InspectionFilters, conditions

# What the figures count when the query does not say: finished records (completed, awaiting
# signatures, or signed) of every kind but the enterprise's own self-inspection.
DONE = ("completed", "signed")
FIGURE_KINDS = tuple(e.code for e in INSPECTION_KINDS if e.code != "self_inspection")
ENFORCEMENT_KINDS = tuple(e.code for e in INSPECTION_KINDS if e.code not in NON_ENFORCEMENT_KINDS)
DECISIONS = tuple(e.code for e in DECISION_KINDS)
PENALTIES = tuple(sorted(PENALTY_DECISIONS))
HIGH_RISK_SECTORS = tuple(s.code for s in SECTORS if s.high_risk)
KEY_RISK_COLORS = ("red", "orange")
# Dimensions of the enterprise (its key-enterprise count is per group) and of the inspection.
ENTERPRISE_GROUPS = ("town", "sector")
NONE = "none"
# What the figures sum over the selected inspections (a decision kind: 1 per inspection holding it).
SUMMED = (
    "findings",
    "major_findings",
    "exempt_findings",
    "entity_fine_fen",
    "person_fine_fen",
    *(f"d_{d}" for d in DECISIONS),
)
_KIND_LABELS = {
    english: {e.code: e.name_en if english else e.name_zh for e in INSPECTION_KINDS}
    for english in (False, True)
}
_NONE_LABELS = {
    "conducting_unit": ("企业自身（自查）", "The enterprise itself (self-inspection)"),
    "month": ("未完成", "Not completed"),
}


def key_enterprise() -> Any:
    """重点企业: a high-risk sector (catalogue ``high_risk``) or a red or orange risk colour."""
    return or_(Enterprise.sector.in_(HIGH_RISK_SECTORS), Enterprise.risk_color.in_(KEY_RISK_COLORS))


def implied_filters(f: InspectionFilters) -> tuple[InspectionFilters, dict[str, str]]:
    """The figures' defaults (``DONE``, ``FIGURE_KINDS``) as filters, and as query values."""
    implied: dict[str, str] = {}
    if not f.status:
        f, implied["status"] = replace(f, status=DONE), ",".join(DONE)
    if not f.kind:
        f, implied["kind"] = replace(f, kind=FIGURE_KINDS), ",".join(FIGURE_KINDS)
    return f, implied


def _group_expr(name: str, dialect: str, settings: Settings) -> Any:
    if name == "conducting_unit":
        return func.coalesce(Inspection.conducting_unit_id, literal(NONE))
    if name == "town":
        return func.substr(Enterprise.region_code, 1, 9)
    if name == "sector":
        return Enterprise.sector
    if name == "kind":
        return Inspection.kind
    assert name == "month", name
    month = _local_format(dialect, settings, "YYYY-MM", "%Y-%m", column=Inspection.completed_at)
    return func.coalesce(month, literal(NONE))


def _yuan(fen: Any) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01"))


def _grouped_and_totals(keys: list[Any], measures: list[Any], base: Any, extra: list[Any]) -> Any:
    """The groups (by ``keys`` and ``extra``) and the totals (by ``extra`` only, the keys empty)
    of ``base``'s rows in one statement."""
    totals = base.add_columns(*(literal("").label(k.name) for k in keys), *extra, *measures)
    if extra:
        totals = totals.group_by(*extra)
    if not keys:
        return totals
    grouped = base.add_columns(*keys, *extra, *measures).group_by(*keys, *extra)
    return union_all(grouped, totals)


async def enforcement_statistics(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    group_by: list[str],
    filters: InspectionFilters,
    english: bool = False,
) -> EnforcementStats:
    dialect = session.bind.dialect.name
    f, implied = implied_filters(filters)
    where = conditions(p, f, settings)
    keys = [_group_expr(g, dialect, settings).label(f"g_{g}") for g in group_by]
    in_key_scope = and_(key_enterprise(), _key_scope(p))
    # The selected inspections once (a CTE), with what each one adds: the groups and the totals
    # are two branches over it, so the inspections are read once. The decision kinds of each
    # inspection come from one pass over the decision rows (a flag per kind), hash-joined.
    held = aliased(InspectionDecision)  # the ``decision`` filter's EXISTS must not correlate
    flags = (
        select(
            held.inspection_id.label("inspection_id"),
            *(func.max(case((held.kind == d, 1), else_=0)).label(f"d_{d}") for d in DECISIONS),
        )
        .group_by(held.inspection_id)
        .subquery("decided")
    )
    selected = (
        select(
            *keys,
            Inspection.enterprise_id.label("enterprise_id"),
            case((in_key_scope, Inspection.enterprise_id)).label("key_enterprise_id"),
            Inspection.findings_count.label("findings"),
            Inspection.major_findings_count.label("major_findings"),
            Inspection.exempt_findings_count.label("exempt_findings"),
            Inspection.entity_fine_fen.label("entity_fine_fen"),
            Inspection.person_fine_fen.label("person_fine_fen"),
            *(func.coalesce(flags.c[f"d_{d}"], 0).label(f"d_{d}") for d in DECISIONS),
        )
        .select_from(Inspection)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .outerjoin(flags, flags.c.inspection_id == Inspection.id)
        .where(*where)
        .cte("selected")
    )
    c = selected.c

    def branch(dims: list[Any]) -> Any:
        """The figures by ``dims`` (none: the totals, the keys empty): per enterprise first, so
        the distinct enterprises are a count of rows (a hash aggregate; ``count(DISTINCT)``
        sorts, and spilled to disk at 100,000 inspections)."""
        per = (
            select(
                *dims,
                c.enterprise_id,
                func.count().label("inspections"),
                func.max(c.key_enterprise_id).label("key_enterprise_id"),
                *(func.sum(c[m]).label(m) for m in SUMMED),
            )
            .select_from(selected)
            .group_by(*dims, c.enterprise_id)
            .subquery()
        )
        e = per.c
        own = [e[d.name] for d in dims]
        out = select(
            *(own or [literal("").label(k.name) for k in keys]),
            func.coalesce(func.sum(e.inspections), 0).label("inspections"),
            func.count().label("enterprises_covered"),
            func.count(e.key_enterprise_id).label("key_covered"),
            *(func.coalesce(func.sum(e[m]), 0).label(m) for m in SUMMED),
        ).select_from(per)
        return out.group_by(*own) if own else out

    stmt: Any = branch([])
    if keys:
        stmt = union_all(branch([c[k.name] for k in keys]), stmt)
    rows = (await session.execute(stmt)).mappings()

    def at(row: Any) -> tuple[str, ...] | None:  # None: the totals
        if not keys or row[keys[0].name] == "":
            return None
        return tuple(str(row[f"g_{g}"]) for g in group_by)

    figures: dict[tuple[str, ...] | None, Any] = {at(row): row for row in rows}

    # Key enterprises of the scope and the enterprise filters, per enterprise dimension.
    ent_dims = [g for g in group_by if g in ENTERPRISE_GROUPS]
    key_counts = await _key_enterprises(session, p, f, ent_dims, dialect, settings)
    units = await _units(session, p) if {"town", "conducting_unit"} & set(group_by) else {}
    zero = await _zero_penalty(session, where, english)

    def make(row: Any, key: dict[str, str]) -> EnforcementStatsRow:
        k = key_counts.get(tuple(key[g] for g in ent_dims) if key and ent_dims else None, 0)
        covered = int(row["key_covered"]) if row else 0
        return EnforcementStatsRow(
            key=key,
            labels={g: _group_label(g, v, units, english) for g, v in key.items()},
            **key,
            inspections=int(row["inspections"]) if row else 0,
            enterprises_covered=int(row["enterprises_covered"]) if row else 0,
            key_enterprises=k,
            key_enterprises_covered=covered,
            key_coverage_rate=round(covered / k, 4) if k else 0.0,
            findings=int(row["findings"]) if row else 0,
            major_findings=int(row["major_findings"]) if row else 0,
            exempt_findings=int(row["exempt_findings"]) if row else 0,
            decisions=DecisionCounts(**{d: int(row[f"d_{d}"]) if row else 0 for d in DECISIONS}),
            entity_fines_yuan=_yuan(row["entity_fine_fen"] if row else 0),
            person_fines_yuan=_yuan(row["person_fine_fen"] if row else 0),
        )

    group_keys = {k for k in figures if k is not None}
    if group_by and len(ent_dims) == len(group_by):
        # Grouped by the enterprise only: a town or sector with key enterprises and no
        # inspection is a row too (its coverage is 0), the most telling one.
        group_keys |= {k for k in key_counts if k is not None}
    groups = [make(figures.get(k), dict(zip(group_by, k, strict=True))) for k in sorted(group_keys)]
    return EnforcementStats(
        group_by=group_by,  # type: ignore[arg-type]
        groups=groups,
        totals=make(figures.get(None), {}),
        implied_filters=implied,
        zero_penalty=zero,
    )


def _decided(*kinds: str) -> Any:
    """The inspections whose outcome holds one of ``kinds`` (the decision rows; an alias, so
    that the list's ``decision`` filter, an EXISTS over the same table, never correlates)."""
    held = aliased(InspectionDecision)
    return select(held.inspection_id).where(held.kind.in_(kinds))


def _key_scope(p: Principal) -> Any:
    """The enterprises counted as key ones: in the caller's own scope (an inspection it sees as
    a listed inspector elsewhere does not make that enterprise one of its key enterprises),
    not closed."""
    return and_(visible_enterprises(p), Enterprise.status != "closed")


async def _key_enterprises(
    session: AsyncSession,
    p: Principal,
    f: InspectionFilters,
    dims: list[str],
    dialect: str,
    settings: Settings,
) -> dict[tuple[str, ...] | None, int]:
    """Key enterprises in scope matching the enterprise filters, inspected or not: per value of
    the enterprise dimensions, and in all (key None)."""
    where = [key_enterprise(), _key_scope(p)]
    if f.enterprise_id:
        where.append(Enterprise.id == f.enterprise_id)
    if f.region_code:
        where.append(Enterprise.region_code.startswith(f.region_code))
    if f.sector:
        where.append(Enterprise.sector.in_(f.sector))
    keys = [_group_expr(g, dialect, settings).label(f"g_{g}") for g in dims]
    base = select().select_from(Enterprise).where(*where)
    stmt = _grouped_and_totals(keys, [func.count().label("n")], base, [])
    out: dict[tuple[str, ...] | None, int] = {}
    for row in (await session.execute(stmt)).mappings():
        at = None if not keys or row[keys[0].name] == "" else tuple(str(row[k.name]) for k in keys)
        out[at] = int(row["n"])
    return out


async def _zero_penalty(
    session: AsyncSession, where: list[Any], english: bool
) -> list[ZeroPenaltyUnit]:
    """零处罚: units whose completed or signed enforcement inspections of the selection with
    findings (not all of them exempt, 依法不予处罚) decided no penalty on any of them."""
    penalised = Inspection.id.in_(_decided(*PENALTIES))
    n = func.count().label("n")
    stmt = (
        select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en, n)
        .select_from(Inspection)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(OrgUnit, OrgUnit.id == Inspection.conducting_unit_id)
        .where(
            *where,
            Inspection.kind.in_(ENFORCEMENT_KINDS),
            Inspection.status.in_(DONE),
            Inspection.findings_count > Inspection.exempt_findings_count,
        )
        .group_by(OrgUnit.id, OrgUnit.name, OrgUnit.name_en)
        .having(count_where(penalised) == 0)
        .order_by(desc(n), OrgUnit.name, OrgUnit.id)
    )
    return [
        ZeroPenaltyUnit(
            unit=NamedRef(id=r.id, name=unit_name(r.name, r.name_en, english)),
            inspections_with_findings=int(r.n),
        )
        for r in await session.execute(stmt)
    ]


async def _units(session: AsyncSession, p: Principal) -> dict[str, UnitInfo]:
    """The units of the caller's county by id, and its towns also by region code (the two never
    collide: ids are not 9 digits), for the labels."""
    rows = await session.execute(
        select(
            OrgUnit.id,
            OrgUnit.kind,
            OrgUnit.name,
            OrgUnit.name_en,
            OrgUnit.region_code,
            OrgUnit.county_code,
        ).where(visible_org_units(p))
    )
    out: dict[str, UnitInfo] = {}
    for r in rows:
        unit = UnitInfo(
            id=r.id,
            kind=r.kind,
            name=r.name,
            region_code=r.region_code,
            county_code=r.county_code,
            sectors=(),
            name_en=r.name_en,
        )
        out[r.id] = unit
        if r.kind == "town" and r.region_code:
            out[r.region_code] = unit
    return out


def _group_label(group: str, value: str, units: dict[str, UnitInfo], english: bool) -> str:
    if value == NONE and group in _NONE_LABELS:
        return _NONE_LABELS[group][english]
    if group == "conducting_unit":
        unit = units.get(value)
        return unit_name(unit.name, unit.name_en, english) if unit else value
    if group == "kind":
        return _KIND_LABELS[english].get(value, value)
    return _label(group, value, units, english)  # town, sector (and a month is itself)


# ---- self-inspection compliance (企业自查) -----------------------------------------------------

SELF_SORTS = {"region_code": Enterprise.region_code, "name": Enterprise.name}
SELF_DEFAULT_SORT = "region_code"


@dataclass(frozen=True)
class SubPeriod:
    label: str  # YYYY-MM or YYYY-Qn
    start: date
    end: date  # inclusive


def _month(year: int, month: int) -> SubPeriod:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return SubPeriod(
        f"{year}-{month:02d}", date(year, month, 1), date.fromordinal(nxt.toordinal() - 1)
    )


def _quarter(year: int, q: int) -> SubPeriod:
    first, last = _month(year, 3 * q - 2), _month(year, 3 * q)
    return SubPeriod(f"{year}-Q{q}", first.start, last.end)


@dataclass(frozen=True)
class Period:
    """A period asked for and its required sub-periods begun by ``today``: for high-risk
    enterprises each month of it; for the others the quarter that is it or holds it. A period
    not begun has none."""

    whole: SubPeriod
    months: tuple[SubPeriod, ...]
    quarters: tuple[SubPeriod, ...]


def parse_period(text: str, today: date) -> Period:
    """``2026-Q4`` or ``2026-11`` (the route's pattern has checked the form)."""
    year, part = int(text[:4]), text[5:]
    if part.startswith("Q"):
        whole = _quarter(year, int(part[1]))
        months = [_month(year, m) for m in range(3 * int(part[1]) - 2, 3 * int(part[1]) + 1)]
        quarters = [whole]
    else:
        whole = _month(year, int(part))
        months = [whole]
        quarters = [_quarter(year, (int(part) - 1) // 3 + 1)]
    if whole.start > today:  # nothing of it is due yet, not even the quarter that holds it
        months, quarters = [], []
    return Period(
        whole=whole,
        months=tuple(m for m in months if m.start <= today),
        quarters=tuple(q for q in quarters if q.start <= today),
    )


def _self_inspected(sub: SubPeriod, settings: Settings) -> Any:
    """The enterprise has a completed or signed self-inspection completed within ``sub``: an
    uncorrelated IN (one hashed set per statement; a correlated EXISTS in the select list was
    run per row by PostgreSQL, along the completed_at index)."""
    return Enterprise.id.in_(
        select(Inspection.enterprise_id).where(
            Inspection.kind == "self_inspection",
            Inspection.status.in_(DONE),
            *period(Inspection.completed_at, sub.start, sub.end, settings),
        )
    )


def _missing_any(flags: list[Any]) -> Any:
    return or_(*(not_(x) for x in flags)) if flags else false()


async def self_inspection_compliance(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    params: ListParams,
    period_text: str,
    region_code: str | None = None,
    sectors: tuple[str, ...] | None = None,
    english: bool = False,
) -> SelfInspectionCompliance:
    """The operating enterprises of the caller's scope behind with their self-inspections for
    the period (one page), and the period's totals per town and sector: two statements (three
    with ``include_total``) and the town names."""
    today = local_today(settings.timezone)
    per = parse_period(period_text, today)
    high_risk = Enterprise.sector.in_(HIGH_RISK_SECTORS)
    month_flags = [_self_inspected(m, settings).label(f"m_{i}") for i, m in enumerate(per.months)]
    quarter_flags = [
        _self_inspected(q, settings).label(f"q_{i}") for i, q in enumerate(per.quarters)
    ]
    behind = or_(
        and_(high_risk, _missing_any([m.element for m in month_flags])),
        and_(not_(high_risk), _missing_any([q.element for q in quarter_flags])),
    )
    where = [visible_enterprises(p), Enterprise.status == "operating"]
    if region_code:
        where.append(Enterprise.region_code.startswith(region_code))
    if sectors:
        where.append(Enterprise.sector.in_(sectors))

    # The latest finished self-inspection of every enterprise in one pass (a correlated max()
    # per row let PostgreSQL walk the completed_at index backwards: 20 ms an enterprise).
    latest = (
        select(
            Inspection.enterprise_id.label("enterprise_id"),
            func.max(Inspection.completed_at).label("last_done"),
        )
        .where(Inspection.kind == "self_inspection", Inspection.status.in_(DONE))
        .group_by(Inspection.enterprise_id)
        .subquery("latest")
    )
    listed = (
        select(
            Enterprise.id,
            Enterprise.name,
            Enterprise.region_code,
            Enterprise.sector,
            latest.c.last_done,
            *month_flags,
            *quarter_flags,
        )
        .outerjoin(latest, latest.c.enterprise_id == Enterprise.id)
        .where(*where, behind)
    )
    sort = parse_sort(params.sort, SELF_SORTS, SELF_DEFAULT_SORT)
    page = await fetch_page(
        session,
        listed,
        sort=sort,
        id_column=Enterprise.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    items = []
    for r in page.rows:
        monthly = r["sector"] in HIGH_RISK_SECTORS
        if monthly:
            missing = [m.label for i, m in enumerate(per.months) if not r[f"m_{i}"]]
        else:
            missing = [q.label for i, q in enumerate(per.quarters) if not r[f"q_{i}"]]
        done = r["last_done"]
        if isinstance(done, str):  # pragma: no cover - SQLite's text, should the type be lost
            done = datetime.fromisoformat(done)
        items.append(
            SelfInspectionBehind(
                enterprise=NamedRef(id=r["id"], name=r["name"]),
                region_code=r["region_code"],
                town=r["region_code"][:9],
                sector=r["sector"],
                required_frequency="monthly" if monthly else "quarterly",
                last_self_inspection_on=local_date(done, settings.timezone) if done else None,
                missing=missing,
            )
        )

    town = func.substr(Enterprise.region_code, 1, 9).label("town")
    totals = (
        select(town, Enterprise.sector, func.count().label("n"), count_where(behind).label("b"))
        .where(*where)
        .group_by(town, Enterprise.sector)
    )
    by_town: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_sector: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in (await session.execute(totals)).mappings():
        for bucket, key in ((by_town, r["town"]), (by_sector, r["sector"])):
            bucket[key][0] += int(r["n"])
            bucket[key][1] += int(r["b"])
    units = await _units(session, p) if by_town else {}

    def rows_of(bucket: dict[str, list[int]], group: str) -> list[SelfInspectionTotal]:
        return [
            SelfInspectionTotal(
                key=k, label=_label(group, k, units, english), enterprises=n, behind=b
            )
            for k, (n, b) in sorted(bucket.items())
        ]

    return SelfInspectionCompliance(
        items=items,
        next_cursor=page.next_cursor,
        total=page.total,
        period=period_text,
        period_start=per.whole.start,
        period_end=per.whole.end,
        required=RequiredSubPeriods(
            monthly=[m.label for m in per.months], quarterly=[q.label for q in per.quarters]
        ),
        enterprises=sum(n for n, _ in by_town.values()),
        behind=sum(b for _, b in by_town.values()),
        by_town=rows_of(by_town, "town"),
        by_sector=rows_of(by_sector, "sector"),
    )
