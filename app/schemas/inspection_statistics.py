"""The enforcement figures (``GET /api/v1/statistics/enforcement``) and the self-inspection
compliance list (``GET /api/v1/statistics/self-inspection``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from app.schemas.common import NamedRef, ResponseModel, group_by_values
from app.schemas.inspections import InspectionKind
from app.schemas.org_units import SectorCode
from app.services.catalog_data import DECISION_KINDS

EnforcementGroup = Literal["conducting_unit", "town", "sector", "month", "kind"]
ENFORCEMENT_GROUPS: tuple[str, ...] = EnforcementGroup.__args__  # type: ignore[attr-defined]

EnforcementGroupBy = Annotated[
    list[EnforcementGroup],
    BeforeValidator(group_by_values(ENFORCEMENT_GROUPS)),
    Field(min_length=1, max_length=2),
]


class DecisionCounts(ResponseModel):
    """Inspections whose outcome holds each decision kind (every kind is sent, 0 when none); an
    inspection with a fine and a rectification order counts under both."""

    no_issue: int
    rectification_order: int
    suspension: int
    fine: int
    closure: int
    referral: int
    blacklist: int


assert tuple(DecisionCounts.model_fields) == tuple(e.code for e in DECISION_KINDS)


class EnforcementStatsRow(ResponseModel):
    key: dict[str, str] = Field(
        description="The group's values by dimension; empty for the totals. `none` is the "
        "conducting unit of self-inspections (the enterprise itself) and the month of "
        "inspections not completed"
    )
    labels: dict[str, str] = Field(
        description="Labels of those values: Chinese, or English under `Accept-Language: en` "
        "(a unit without an English name keeps its Chinese one; a month is itself)"
    )
    conducting_unit: str | None = Field(
        default=None, description="Id of the conducting unit, when grouped by it (`none`)"
    )
    town: str | None = Field(
        default=None, description="9-digit town code of the enterprise, when grouped by town"
    )
    sector: SectorCode | None = None  # type: ignore[valid-type]
    month: str | None = Field(
        default=None, description="YYYY-MM of completion, local time (`none`: not completed)"
    )
    kind: InspectionKind | None = None  # type: ignore[valid-type]
    inspections: int = Field(description="Inspections selected (the list's total)")
    enterprises_covered: int = Field(description="Distinct enterprises those inspections visited")
    key_enterprises: int = Field(
        description="Key enterprises (重点企业: a high-risk sector, or risk colour red or "
        "orange; not closed) in the caller's scope matching the enterprise filters "
        "(`enterprise_id`, `region_code`, `sector`), inspected or not: of the group's town "
        "and/or sector when the grouping has those dimensions, else of the whole selection"
    )
    key_enterprises_covered: int = Field(
        description="Of the key enterprises, those with at least one inspection of the group"
    )
    key_coverage_rate: float = Field(
        description="key_enterprises_covered / key_enterprises (重点企业检查覆盖率), 0 when none"
    )
    findings: int = Field(description="Findings (hazards recorded by the inspections)")
    major_findings: int = Field(description="Of them, major hazards (重大事故隐患)")
    exempt_findings: int = Field(
        description="Of them, hazards the enterprise had found itself and was rectifying on "
        "schedule (依法不予处罚)"
    )
    decisions: DecisionCounts
    entity_fines_yuan: Decimal = Field(
        description="Fines on the enterprise (单位罚款): exact, a decimal string with two places "
        "as the inspection's own `entity_fines_yuan`"
    )
    person_fines_yuan: Decimal = Field(
        description="Fines on the persons responsible (一案双罚), exact as above"
    )


class ZeroPenaltyUnit(ResponseModel):
    """A conducting unit that, within the selection, completed enforcement inspections with
    findings and decided no penalty on any of them (零处罚 / 只检查不处罚)."""

    unit: NamedRef
    inspections_with_findings: int = Field(
        description="Its completed or signed enforcement inspections with findings that are "
        "not all exempt (依法不予处罚)"
    )


class EnforcementStats(ResponseModel):
    group_by: list[EnforcementGroup]
    groups: list[EnforcementStatsRow]
    totals: EnforcementStatsRow = Field(
        description="The caller's scope and filters once (distinct enterprises counted once)"
    )
    implied_filters: dict[str, str] = Field(
        description="Filters the figures apply when the query does not name them, as query "
        'values: `{"status": "completed,signed"}` without `status`, and every kind but '
        "`self_inspection` without `kind`; the inspection list with these filters added "
        "gives the same counts"
    )
    zero_penalty: list[ZeroPenaltyUnit] = Field(
        description="Zero-penalty units of the selection, most inspections with findings first"
    )


# ---- self-inspection compliance ------------------------------------------------------------

Frequency = Literal["monthly", "quarterly"]
PERIOD_PATTERN = r"^\d{4}-(Q[1-4]|0[1-9]|1[0-2])$"


class SelfInspectionBehind(ResponseModel):
    enterprise: NamedRef
    region_code: str
    town: str = Field(description="9-digit town code")
    sector: SectorCode  # type: ignore[valid-type]
    required_frequency: Frequency = Field(
        description="monthly for high-risk sectors (高危行业每月), quarterly otherwise "
        "(主要负责人每季度至少一次)"
    )
    last_self_inspection_on: date | None = Field(
        description="Local date of its latest completed or signed self-inspection, at any time"
    )
    missing: list[str] = Field(
        description="The required sub-periods (YYYY-MM or YYYY-Qn) of the period, begun by "
        "today, without a completed or signed self-inspection"
    )


class SelfInspectionTotal(ResponseModel):
    key: str = Field(description="9-digit town code or sector code")
    label: str
    enterprises: int = Field(description="Operating enterprises in scope (and filters)")
    behind: int = Field(description="Of them, behind for the period")


class RequiredSubPeriods(ResponseModel):
    """The sub-periods of the period checked, by frequency: those begun by today (the current
    one included: an enterprise that has not yet done this month's or quarter's is listed)."""

    monthly: list[str] = Field(description="YYYY-MM: each month of the period")
    quarterly: list[str] = Field(description="YYYY-Qn: the quarter that is or holds the period")


class SelfInspectionCompliance(BaseModel):
    """One page of the enterprises behind, with the period's totals on every page."""

    items: list[SelfInspectionBehind]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
    period: str
    period_start: date
    period_end: date = Field(description="Last day of the period")
    required: RequiredSubPeriods
    enterprises: int
    behind: int
    by_town: list[SelfInspectionTotal]
    by_sector: list[SelfInspectionTotal]
