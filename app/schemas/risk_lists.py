"""The three lists of an enterprise's risk register (一图一牌三清单): what a client gets back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import NamedRef, ResponseModel
from app.schemas.risks import (
    AccidentType,
    ControlLevel,
    HazardFactor,
    MeasureKind,
    ResponsibleOut,
    RiskLevel,
    RiskPointKind,
)

RiskListKind = Literal["responsibility", "measures", "emergency"]
RiskListFormat = Literal["json", "xlsx"]


class HazardFactorLabel(ResponseModel):
    code: HazardFactor  # type: ignore[valid-type]
    label: str


class AccidentTypeLabel(ResponseModel):
    code: AccidentType  # type: ignore[valid-type]
    label: str


class RiskListRow(ResponseModel):
    """One measure of the point: a control measure (措施清单) with its catalogue kind, or an
    emergency measure (应急处置措施清单, kind ``emergency``)."""

    no: int = Field(description="1, 2, … within the point, in the stored order")
    kind: MeasureKind  # type: ignore[valid-type]
    kind_label: str
    text: str


class RiskListGroup(ResponseModel):
    """One active risk point with what the list prints beside its measures."""

    risk_point_id: str
    name: str
    kind: RiskPointKind  # type: ignore[valid-type]
    kind_label: str
    location_text: str | None
    level: RiskLevel
    level_label: str = Field(description="The catalogue's label, e.g. 重大风险")
    control_level: ControlLevel  # type: ignore[valid-type]
    control_level_label: str
    responsible: ResponsibleOut | None
    hazard_factors: list[HazardFactorLabel]
    accident_types: list[AccidentTypeLabel]
    reviewed_at: date | None
    rows: list[RiskListRow] = Field(
        description="measures: the control measures; emergency: the emergency measures; "
        "responsibility: none (the point is the row)"
    )


class RiskListOut(ResponseModel):
    enterprise: NamedRef
    list: RiskListKind
    title: str = Field(description="e.g. 风险管控措施清单")
    generated_at: datetime
    groups: list[RiskListGroup] = Field(
        description="Every active point, red first then by name; its measures in stored order"
    )
