"""Enterprises in the caller's scope by town, sector, risk colour, standardisation grade, scale
and status: the rows the enterprise list gives for the same filters, counted in one statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_org_units
from app.core.i18n import unit_name
from app.models import Enterprise, Hazard, OrgUnit
from app.schemas.enterprise_statistics import EnterpriseStatsRow
from app.services import enterprises
from app.services.catalog_data import (
    ENTERPRISE_SCALES,
    ENTERPRISE_STATUSES,
    RISK_COLORS,
    SECTORS,
    STANDARDIZATION_GRADES,
)
from app.services.hazards.queries import OPEN_STATES

# The key of an optional field the enterprise's record leaves empty (no code of any catalogue).
UNKNOWN = "unknown"
_OPTIONAL = ("risk_color", "standardization_grade", "scale")
_CATALOGS: dict[str, Any] = {
    "sector": SECTORS,
    "risk_color": RISK_COLORS,
    "standardization_grade": STANDARDIZATION_GRADES,
    "scale": ENTERPRISE_SCALES,
    "status": ENTERPRISE_STATUSES,
}
_LABELS: dict[bool, dict[str, dict[str, str]]] = {
    english: {
        group: {e.code: e.name_en if english else e.name_zh for e in entries}
        | {UNKNOWN: "Not recorded" if english else "未填报"}
        for group, entries in _CATALOGS.items()
    }
    for english in (False, True)
}


def _group_expr(name: str) -> Any:
    if name == "town":
        return func.substr(Enterprise.region_code, 1, 9)
    column = getattr(Enterprise, name)
    return func.coalesce(column, literal(UNKNOWN)) if name in _OPTIONAL else column


async def enterprise_statistics(
    session: AsyncSession,
    p: Principal,
    group_by: list[str],
    filters: dict[str, Any],
    english: bool = False,
) -> tuple[list[EnterpriseStatsRow], EnterpriseStatsRow]:
    """The WHERE is the enterprise list's own (``enterprises.filtered``: the caller's scope and
    the list's filters), so each group is what the list shows for that group's values."""
    where = enterprises.filtered(p, **filters).whereclause
    open_major = (
        select(Hazard.id)
        .where(
            Hazard.enterprise_id == Enterprise.id,
            Hazard.level == "major",
            Hazard.status.in_(OPEN_STATES),
        )
        .exists()
    )
    keys = [_group_expr(g).label(f"g_{g}") for g in group_by]
    stmt = (
        select(
            *keys,
            func.count().label("enterprises"),
            func.coalesce(func.sum(case((open_major, 1), else_=0)), 0).label("with_open_major"),
        )
        .select_from(Enterprise)
        .where(where)
    )
    rows = (await session.execute(stmt.group_by(*keys) if keys else stmt)).mappings().all()
    towns = await _town_names(session, p, english) if "town" in group_by else {}

    def make(key: dict[str, str], count: int, with_major: int) -> EnterpriseStatsRow:
        labels = {
            g: towns.get(v, v) if g == "town" else _LABELS[english][g].get(v, v)
            for g, v in key.items()
        }
        typed = {g: None if v == UNKNOWN and g in _OPTIONAL else v for g, v in key.items()}
        return EnterpriseStatsRow(
            key=key,
            labels=labels,
            **typed,
            enterprises=count,
            with_open_major_hazards=with_major,
        )

    groups = [
        make(
            {g: str(r[f"g_{g}"]) for g in group_by},
            int(r["enterprises"]),
            int(r["with_open_major"]),
        )
        for r in rows
        if int(r["enterprises"])
    ]
    groups.sort(key=lambda r: tuple(r.key[g] for g in group_by))
    # Every grouping expression is non-NULL: each enterprise is in exactly one group.
    totals = make(
        {},
        sum(int(r["enterprises"]) for r in rows),
        sum(int(r["with_open_major"]) for r in rows),
    )
    return groups, totals


async def _town_names(session: AsyncSession, p: Principal, english: bool) -> dict[str, str]:
    rows = await session.execute(
        select(OrgUnit.region_code, OrgUnit.name, OrgUnit.name_en).where(
            OrgUnit.kind == "town", visible_org_units(p)
        )
    )
    return {code: unit_name(name, name_en, english) for code, name, name_en in rows if code}
