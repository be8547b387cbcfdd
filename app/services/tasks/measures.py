"""The platform's computed measures for the dispatch (调度指标 with a ``source``): each is the
figure the statistics endpoints give for the assignee's own scope and the period, computed by
calling the same services as a caller holding exactly that scope (a unit: its scope, as a
machine client of the unit sees it; an enterprise: itself), so the two cannot disagree.

Periods are ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY`` (local days, both ends inclusive). Measures of
a stock (``hazards_overdue_open``, ``major_hazards_supervised``) are as at the time of reading.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission, Role
from app.auth.principal import Principal, UnitInfo
from app.core.config import Settings
from app.services.catalog_data import DECISION_KINDS
from app.services.hazards.queries import HazardFilters
from app.services.hazards.statistics import hazard_statistics
from app.services.inspection_statistics import enforcement_statistics
from app.services.inspections.queries import InspectionFilters

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    name_zh: str
    name_en: str
    unit: str


MEASURES: tuple[Measure, ...] = (
    Measure("hazards_found", "排查发现隐患", "Hazards found", "项"),
    Measure("major_hazards_found", "排查发现重大事故隐患", "Major hazards found", "项"),
    Measure("hazards_closed", "整改销号隐患", "Hazards rectified (closed)", "项"),
    Measure("rectification_rate", "隐患整改率", "Rectification rate", "%"),
    Measure("hazards_overdue_open", "逾期未整改隐患（当前）", "Open overdue hazards (now)", "项"),
    Measure(
        "major_hazards_supervised",
        "挂牌督办重大事故隐患（当前）",
        "Major hazards under listed supervision (now)",
        "项",
    ),
    Measure("stock_hazards_cleared", "存量隐患整改销号", "Stock hazards cleared", "项"),
    Measure("inspections_completed", "完成检查（执法）", "Inspections completed", "次"),
    Measure("enterprises_inspected", "检查企业", "Enterprises inspected", "家"),
    Measure("key_enterprise_coverage", "重点企业检查覆盖率", "Key-enterprise coverage", "%"),
    *(
        Measure(f"decisions_{e.code}", f"执法决定：{e.name_zh}", f"Decisions: {e.name_en}", "个")
        for e in DECISION_KINDS
    ),
    Measure("fines_entity", "单位罚款", "Fines on entities", "万元"),
    Measure("fines_person", "个人罚款", "Fines on persons", "万元"),
)
BY_CODE = {m.code: m for m in MEASURES}
MEASURE_CODES = tuple(BY_CODE)


def period_bounds(period: str) -> tuple[date, date] | None:
    """First and last day of ``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; None for anything else."""
    m = PERIOD.match(period)
    if m is None:
        return None
    year = int(m.group(1))
    if not 2000 <= year <= 2100:  # as the reports' periods
        return None
    if m.group(2):
        month = int(m.group(2))
        return date(year, month, 1), date(year, month, monthrange(year, month)[1])
    if m.group(3):
        q = int(m.group(3))
        first, last = 3 * q - 2, 3 * q
        return date(year, first, 1), date(year, last, monthrange(year, last)[1])
    return date(year, 1, 1), date(year, 12, 31)


def scope_of(unit: UnitInfo | None, enterprise_id: str | None) -> Principal:
    """A caller holding exactly the assignee's scope, for the statistics services."""
    if unit is not None:
        return Principal(
            kind="client",
            id=f"dispatch:{unit.id}",
            name=unit.name,
            role=None,
            permissions=frozenset({Permission.statistics_read}),
            unit=unit,
        )
    return Principal(
        kind="user",
        id=f"dispatch:{enterprise_id}",
        name="",
        role=Role.enterprise_manager,
        permissions=frozenset({Permission.statistics_read}),
        enterprise_id=enterprise_id,
    )


def _percent(ratio: float) -> Decimal:
    return (Decimal(str(ratio)) * 100).quantize(Decimal("0.01"))


def _wan(yuan: Decimal) -> Decimal:
    return (Decimal(yuan) / 10000).quantize(Decimal("0.000001")).normalize()


async def compute(
    session: AsyncSession,
    settings: Settings,
    p: Principal,
    start: date,
    end: date,
    codes: set[str] | None = None,
) -> dict[str, Decimal]:
    """Every measure (or those in ``codes``) for the scope of ``p`` over ``start``..``end``."""
    want = set(MEASURE_CODES) if codes is None else codes & set(MEASURE_CODES)
    out: dict[str, Decimal] = {}
    if want & {"hazards_found", "rectification_rate"}:
        found = (
            await hazard_statistics(
                session, p, settings, [], HazardFilters(found_at_from=start, found_at_to=end)
            )
        ).totals
        out["hazards_found"] = Decimal(found.found)
        out["rectification_rate"] = _percent(found.rectification_rate)
    if "major_hazards_found" in want:
        major = (
            await hazard_statistics(
                session,
                p,
                settings,
                [],
                HazardFilters(found_at_from=start, found_at_to=end, level=("major",)),
            )
        ).totals
        out["major_hazards_found"] = Decimal(major.found)
    if want & {"hazards_closed", "stock_hazards_cleared"}:
        closed = (
            await hazard_statistics(
                session, p, settings, [], HazardFilters(closed_at_from=start, closed_at_to=end)
            )
        ).totals
        out["hazards_closed"] = Decimal(closed.found)
        out["stock_hazards_cleared"] = Decimal(closed.stock_cleared)
    if want & {"hazards_overdue_open", "major_hazards_supervised"}:
        now = (await hazard_statistics(session, p, settings, [], HazardFilters())).totals
        out["hazards_overdue_open"] = Decimal(now.overdue)
        out["major_hazards_supervised"] = Decimal(now.major_supervised)
    inspection_codes = {
        "inspections_completed",
        "enterprises_inspected",
        "key_enterprise_coverage",
        "fines_entity",
        "fines_person",
        *(f"decisions_{e.code}" for e in DECISION_KINDS),
    }
    if want & inspection_codes:
        stats = (
            await enforcement_statistics(
                session,
                p,
                settings,
                [],
                InspectionFilters(completed_at_from=start, completed_at_to=end),
            )
        ).totals
        out["inspections_completed"] = Decimal(stats.inspections)
        out["enterprises_inspected"] = Decimal(stats.enterprises_covered)
        out["key_enterprise_coverage"] = _percent(stats.key_coverage_rate)
        out["fines_entity"] = _wan(stats.entity_fines_yuan)
        out["fines_person"] = _wan(stats.person_fines_yuan)
        decisions: Any = stats.decisions
        for e in DECISION_KINDS:
            out[f"decisions_{e.code}"] = Decimal(getattr(decisions, e.code))
    return {k: v for k, v in out.items() if k in want}
