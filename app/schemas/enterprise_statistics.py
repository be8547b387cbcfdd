"""The enterprise statistics (``GET /api/v1/statistics/enterprises``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from app.schemas.common import ResponseModel, group_by_values
from app.schemas.enterprises import EnterpriseStatus, Grade, RiskColor, Scale
from app.schemas.org_units import SectorCode

EnterpriseStatsGroup = Literal[
    "town", "sector", "risk_color", "standardization_grade", "scale", "status"
]
ENTERPRISE_STATS_GROUPS: tuple[str, ...] = EnterpriseStatsGroup.__args__  # type: ignore[attr-defined]

EnterpriseStatsGroupBy = Annotated[
    list[EnterpriseStatsGroup],
    BeforeValidator(group_by_values(ENTERPRISE_STATS_GROUPS)),
    Field(min_length=1, max_length=2),
]


class EnterpriseStatsRow(ResponseModel):
    key: dict[str, str] = Field(
        description="The group's values by dimension (`unknown` where the enterprise records "
        "none); empty for the totals"
    )
    labels: dict[str, str] = Field(
        description="Labels of those values: Chinese, or English under `Accept-Language: en` "
        "(a town without an English name keeps its Chinese one)"
    )
    town: str | None = Field(default=None, description="9-digit town code, when grouped by town")
    sector: SectorCode | None = None  # type: ignore[valid-type]
    risk_color: RiskColor | None = Field(
        default=None, description="When grouped by it; null also for `unknown`"
    )
    standardization_grade: Grade | None = Field(
        default=None, description="When grouped by it; null also for `unknown`"
    )
    scale: Scale | None = Field(
        default=None, description="When grouped by it; null also for `unknown`"
    )
    status: EnterpriseStatus | None = None
    enterprises: int = Field(description="Enterprises in the group (the enterprise list's total)")
    with_open_major_hazards: int = Field(
        description="Of those, enterprises with at least one open major hazard (重大事故隐患 "
        "registered, rectifying or awaiting acceptance)"
    )


class EnterpriseStats(ResponseModel):
    group_by: list[EnterpriseStatsGroup]
    groups: list[EnterpriseStatsRow]
    totals: EnterpriseStatsRow
