"""The figures of units (towns, bureaus) and enterprises over their own scope, for the county to see
whom to hold to account (问责), and as the ``basis`` of an accountability record.

Each unit's scope is the one rule of ``app.auth.scope`` for a user of that unit
(``unit_enterprises``); the figures are those of the hazard statistics (the same conditions,
``queries.conditions``, with the caller's scope and the same filters as the hazard list, voided
hazards left out unless asked for): ``found``, ``closed``, ``open``, ``overdue``,
``major_open``, ``major_overdue``, ``rectification_rate`` = closed / found and ``overdue_rate`` =
overdue / open (0 when nothing is open). All units in one statement: the hazards joined with a
``UNION ALL`` of (unit, enterprise) pairs, grouped by unit, so an enterprise supervised by a town
and two bureaus counts once under each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission
from app.auth.principal import Principal, UnitInfo
from app.auth.scope import accountable_units, unit_enterprises
from app.core import reads
from app.core.clock import local_today
from app.core.config import Settings
from app.models import Enterprise, Hazard, OrgUnit
from app.services.accountability import ladder
from app.services.hazards.queries import (
    OPEN_STATES,
    HazardFilters,
    conditions,
    count_where,
    overdue_condition,
)
from app.services.refs import unit_dict

NO_FILTERS = HazardFilters()


@dataclass(frozen=True)
class Figures:
    found: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0
    major_open: int = 0
    major_overdue: int = 0

    @property
    def rectification_rate(self) -> float:
        """closed / found, as ``GET /statistics/hazards`` gives it (0 when nothing was found)."""
        return round(self.closed / self.found, 4) if self.found else 0.0

    @property
    def overdue_rate(self) -> float:
        """overdue / open: the share of what is still open that is late (0 when nothing is open)."""
        return round(self.overdue / self.open, 4) if self.open else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "closed": self.closed,
            "open": self.open,
            "overdue": self.overdue,
            "major_open": self.major_open,
            "major_overdue": self.major_overdue,
            "rectification_rate": self.rectification_rate,
            "overdue_rate": self.overdue_rate,
        }


def _measures(today: date) -> list[Any]:
    is_open = Hazard.status.in_(OPEN_STATES)
    major = Hazard.level == "major"
    overdue = overdue_condition(today)
    return [
        func.count().label("found"),
        count_where(Hazard.status == "closed").label("closed"),
        count_where(is_open).label("open"),
        count_where(overdue).label("overdue"),
        count_where(and_(major, is_open)).label("major_open"),
        count_where(and_(major, overdue)).label("major_overdue"),
    ]


async def figures_by_scope(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    scopes: Sequence[tuple[str, ColumnElement[bool]]],
    today: date,
    filters: HazardFilters = NO_FILTERS,
) -> dict[str, Figures]:
    """The figures of each ``(key, condition over Enterprise)`` scope, within the caller's scope
    and ``filters``, in one statement; a scope without hazards is all zeros."""
    if not scopes:
        return {}
    pairs = union_all(
        *(
            select(literal(key, String()).label("scope_key"), Enterprise.id.label("ent_id")).where(
                condition
            )
            for key, condition in scopes
        )
    ).subquery("unit_scopes")
    stmt = (
        select(pairs.c.scope_key, *_measures(today))
        .select_from(Hazard)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .join(pairs, pairs.c.ent_id == Enterprise.id)
        .where(*conditions(p, filters, settings, today))
        .group_by(pairs.c.scope_key)
    )
    found = {
        row["scope_key"]: Figures(
            found=int(row["found"]),
            closed=int(row["closed"]),
            open=int(row["open"]),
            overdue=int(row["overdue"]),
            major_open=int(row["major_open"]),
            major_overdue=int(row["major_overdue"]),
        )
        for row in await reads.rows(session, stmt)
    }
    return {key: found.get(key, Figures()) for key, _ in scopes}


def flag_reasons(figures: Figures, settings: Settings) -> list[str]:
    """Why a unit is flagged (codes of the ``unit_flag_reasons`` catalogue), or none."""
    reasons = []
    if (
        figures.open >= settings.accountability_min_open
        and figures.overdue_rate > settings.accountability_overdue_rate_threshold
    ):
        reasons.append("overdue_rate")
    threshold = settings.accountability_major_overdue_threshold
    if threshold and figures.major_overdue >= threshold:
        reasons.append("major_overdue")
    return reasons


# ---- GET /api/v1/statistics/units ------------------------------------------------------------------

UNIT_COLUMNS = (
    OrgUnit.id,
    OrgUnit.kind,
    OrgUnit.name,
    OrgUnit.name_en,
    OrgUnit.region_code,
    OrgUnit.county_code,
    OrgUnit.sectors,
)


def unit_info(row: Any) -> UnitInfo:
    return UnitInfo(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        region_code=row["region_code"],
        county_code=row["county_code"],
        sectors=tuple(row["sectors"] or ()),
        name_en=row["name_en"],
    )


async def unit_overview(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    filters: HazardFilters,
    *,
    kinds: tuple[str, ...] | None,
    flagged: bool | None,
    english: bool,
) -> dict[str, Any]:
    """One row per town and bureau the caller sees (``accountable_units``: county staff every
    one of the county, a town or bureau itself), towns by region code then bureaus by name, each
    with its figures over its own scope, its flag, its latest accountability record and the
    rungs the caller may record for it now. Three statements: the units, the figures of all of
    them, their latest records (left out, with ``last_accountability`` null, for a caller
    without ``accountability:read``)."""
    today = local_today(settings.timezone)
    conds = [accountable_units(p)]
    if kinds:
        conds.append(OrgUnit.kind.in_(kinds))
    units = await reads.rows(
        session,
        select(*UNIT_COLUMNS)
        .where(*conds)
        .order_by(
            case((OrgUnit.kind == "town", 0), else_=1),
            OrgUnit.region_code,
            OrgUnit.name,
            OrgUnit.id,
        ),
    )
    infos = [unit_info(u) for u in units]
    figures = await figures_by_scope(
        session, p, settings, [(u.id, unit_enterprises(u)) for u in infos], today, filters
    )
    reads_records = p.can(Permission.accountability_read)
    latest = await ladder.latest_for_units(session, [u.id for u in infos]) if reads_records else {}
    rows = []
    for u in infos:
        f = figures[u.id]
        reasons = flag_reasons(f, settings)
        if flagged is not None and bool(reasons) != flagged:
            continue
        last = latest.get(u.id)
        rows.append(
            {
                "org_unit": unit_dict(u.id, u.name, u.name_en, english),
                "kind": u.kind,
                "region_code": u.region_code if u.kind == "town" else None,
                **f.as_dict(),
                "flagged": bool(reasons),
                "reasons": reasons,
                "last_accountability": {
                    "id": last["id"],
                    "rung": last["rung"],
                    "decided_at": last["decided_at"],
                }
                if last
                else None,
                "allowed_rungs": ladder.allowed_rungs(p, "org_unit", last, today.year)
                if reads_records
                else [],
            }
        )
    return {
        "as_of": today,
        "thresholds": {
            "overdue_rate": settings.accountability_overdue_rate_threshold,
            "min_open": settings.accountability_min_open,
            "major_overdue": settings.accountability_major_overdue_threshold,
        },
        "units": rows,
    }
