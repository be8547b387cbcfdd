"""Risk points (安全风险分级管控): what clients send and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel
from app.schemas.enterprises import Location, LocationOut
from app.schemas.hazards import ActorKind, Reason
from app.schemas.org_units import SectorCode
from app.services.risks.catalog import (
    ACCIDENT_TYPES,
    CONTROL_LEVELS,
    HAZARD_FACTORS,
    MEASURE_KINDS,
    RISK_LEVELS,
    RISK_POINT_KINDS,
)

RiskLevel = Literal[tuple(e.code for e in RISK_LEVELS)]  # type: ignore[valid-type]
RiskPointKind = Literal[tuple(e.code for e in RISK_POINT_KINDS)]  # type: ignore[valid-type]
ControlLevel = Literal[tuple(e.code for e in CONTROL_LEVELS)]  # type: ignore[valid-type]
MeasureKind = Literal[tuple(e.code for e in MEASURE_KINDS)]  # type: ignore[valid-type]
HazardFactor = Literal[tuple(e.code for e in HAZARD_FACTORS)]  # type: ignore[valid-type]
AccidentType = Literal[tuple(e.code for e in ACCIDENT_TYPES)]  # type: ignore[valid-type]
RiskPointStatus = Literal["active", "retired"]
RiskPointAction = Literal["flag", "unflag", "retire", "reinstate"]
RiskPointEventAction = Literal["create", "update", "reassess", RiskPointAction]
Method = Literal["lec", "ls", "matrix"]
Line = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=500)]
Name = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]


class AssessmentIn(BaseModel):
    """``method`` and its ``inputs``: LEC ``{l, e, c}``, LS ``{l, s}``, risk matrix
    ``{likelihood, severity}`` (names case-insensitive; the published values only: README,
    Risk assessment)."""

    model_config = {"extra": "forbid"}

    method: Method
    inputs: dict[str, Any] = Field(max_length=5)


class AssessmentOut(ResponseModel):
    method: Method
    inputs: dict[str, Any]
    score: str = Field(description="Exact, as text (LEC may be fractional: 0.05)")
    level: RiskLevel
    grade: str = Field(description="The method's own grade, e.g. 极其危险")


class Measure(BaseModel):
    model_config = {"extra": "forbid"}

    kind: MeasureKind
    text: Line


class MeasureOut(ResponseModel):
    kind: MeasureKind
    text: str


class Responsible(BaseModel):
    model_config = {"extra": "forbid"}

    person: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
    post: Annotated[str, Field(max_length=100)] | None = None


class ResponsibleOut(ResponseModel):
    person: str
    post: str | None


def _no_level(data: Any) -> Any:
    if isinstance(data, dict) and "level" in data:
        raise ValueError(
            "level is computed from the assessment: send assessment, never level"
            "|风险等级由风险评价结果计算得出，请提交 assessment，不能直接填写 level"
        )
    return data


class RiskPointFields(RequestModel):
    location_text: Annotated[str, Field(max_length=300)] | None = None
    location: Location | None = None
    hazard_factors: Annotated[list[HazardFactor], Field(max_length=30)] = Field(  # type: ignore[valid-type]
        default_factory=list, description="危险有害因素 (GB/T 13861 codes)"
    )
    control_level: ControlLevel = "company"  # type: ignore[valid-type]
    responsible: Responsible | None = None
    control_measures: Annotated[list[Measure], Field(max_length=50)] = Field(default_factory=list)
    emergency_measures: Annotated[list[Line], Field(max_length=30)] = Field(default_factory=list)
    accident_types: Annotated[list[AccidentType], Field(max_length=20)] = Field(  # type: ignore[valid-type]
        default_factory=list, description="可能导致的事故类型 (GB 6441)"
    )
    reviewed_at: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _level_is_computed(cls, data: Any) -> Any:
        return _no_level(data)


class RiskPointCreate(RiskPointFields):
    enterprise_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="Enterprise users: their own (the default)"
    )
    name: Name
    kind: RiskPointKind  # type: ignore[valid-type]
    assessment: AssessmentIn


class RiskPointUpdate(RiskPointFields):
    """Any field; a new ``assessment`` is a re-assessment (the level follows from it)."""

    name: Name = None  # may be omitted, never null
    kind: RiskPointKind = None  # type: ignore[valid-type]  # may be omitted, never null
    assessment: AssessmentIn = None  # may be omitted, never null
    control_level: ControlLevel = None  # type: ignore[valid-type]  # may be omitted, never null


class RiskPointOut(ResponseModel):
    id: str
    enterprise_id: str
    enterprise: NamedRef
    name: str
    kind: RiskPointKind  # type: ignore[valid-type]
    location_text: str | None
    location: LocationOut | None
    hazard_factors: list[HazardFactor]  # type: ignore[valid-type]
    assessment: AssessmentOut
    level: RiskLevel
    control_level: ControlLevel  # type: ignore[valid-type]
    responsible: ResponsibleOut | None
    control_measures: list[MeasureOut]
    emergency_measures: list[str]
    accident_types: list[AccidentType]  # type: ignore[valid-type]
    reviewed_at: date | None
    status: RiskPointStatus
    follow_up: bool = Field(description="Marked by government in scope for follow-up (跟踪督促)")
    follow_up_note: str | None
    allowed_actions: list[RiskPointAction]
    created_at: datetime
    updated_at: datetime


class RiskPointPage(BaseModel):
    items: list[RiskPointOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class RiskPointTransition(RequestModel):
    """``flag`` (government: mark for follow-up, with a reason), ``unflag``, ``retire`` (the
    enterprise: the point no longer exists, with a reason), ``reinstate``."""

    action: RiskPointAction
    reason: Reason | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class RiskPointEventOut(ResponseModel):
    id: str
    action: RiskPointEventAction
    from_status: RiskPointStatus | None
    to_status: RiskPointStatus
    actor: NamedRef | None
    actor_kind: ActorKind
    note: str | None
    details: dict[str, Any]
    created_at: datetime


class RiskPointEventList(ResponseModel):
    items: list[RiskPointEventOut]
    next_cursor: None = None


class RiskLevelCounts(ResponseModel):
    points: int
    red: int
    orange: int
    yellow: int
    blue: int


class RiskGroup(RiskLevelCounts):
    key: str = Field(description="The kind, the sector code, or the town's 9-digit region code")
    name: str | None = Field(default=None, description="by_town: the town's name")


class RedAndMajor(ResponseModel):
    enterprise: NamedRef
    region_code: str
    sector: SectorCode  # type: ignore[valid-type]
    red_points: int
    major_open_hazards: int


class RiskStats(ResponseModel):
    totals: RiskLevelCounts
    by_kind: list[RiskGroup]
    by_sector: list[RiskGroup]
    by_town: list[RiskGroup]
    red_with_major_open_hazards: list[RedAndMajor] = Field(
        description="Enterprises with a red point and an open major hazard at the same time"
    )


# issue 13, 一图一牌三清单: the risk notice board (风险告知牌) of one point
NoticeBoardFormat = Literal["json", "pdf"]
EmergencyPhoneKind = Literal["fire", "ambulance", "police", "enterprise", "duty"]


class HazardFactorOut(ResponseModel):
    code: HazardFactor  # type: ignore[valid-type]
    name: str = Field(description="The GB/T 13861 label (English under Accept-Language: en)")


class AccidentTypeOut(ResponseModel):
    code: AccidentType  # type: ignore[valid-type]
    name: str = Field(description="The GB 6441 label (English under Accept-Language: en)")


class MeasureGroupOut(ResponseModel):
    kind: MeasureKind
    name: str = Field(description="The kind's label, e.g. 工程技术")
    items: list[str]


class EmergencyPhoneOut(ResponseModel):
    kind: EmergencyPhoneKind
    name: str = Field(description="What the number is, e.g. 火警")
    number: str


class RiskNoticeBoardOut(ResponseModel):
    """What the 风险告知牌 of a point shows, in its order; the PDF prints the same."""

    risk_point_id: str
    name: str
    kind: RiskPointKind  # type: ignore[valid-type]
    location_text: str | None
    enterprise: NamedRef
    status: RiskPointStatus
    level: RiskLevel
    level_name: str = Field(description="重大风险 / 较大风险 / 一般风险 / 低风险")
    color_hex: str = Field(description="The level's colour as #RRGGBB (红橙黄蓝)")
    control_level: ControlLevel  # type: ignore[valid-type]
    control_level_name: str
    hazard_factors: list[HazardFactorOut]
    accident_types: list[AccidentTypeOut]
    control_measures: list[MeasureGroupOut] = Field(
        description="By kind, in the catalogue's order; kinds without a measure are left out"
    )
    emergency_measures: list[str]
    responsible: ResponsibleOut | None
    emergency_phones: list[EmergencyPhoneOut]
    reviewed_at: date | None
