"""Public reports (群众举报, 12350): what a citizen sends and sees, and what government handles.
The reporter's identity appears in one place only: ``ReporterOut`` of the detail with
``?include=reporter`` (app/services/public_reports/service.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel
from app.schemas.dates import StrictDate
from app.schemas.enterprises import EnterpriseCreate
from app.schemas.hazards import (
    HazardCategory,
    HazardLevel,
    Judgment,
    LongText,
    Reason,
    Text200,
    Yuan,
)
from app.schemas.org_units import SectorCode

ReportStatus = Literal[
    "received", "assigned", "investigating", "substantiated", "unsubstantiated", "closed"
]
ReportAction = Literal["assign", "investigate", "substantiate", "unsubstantiate", "reward", "close"]
ReportEventAction = Literal[
    "receive", "assign", "investigate", "substantiate", "unsubstantiate", "reward", "close"
]
RouteReason = Literal["region", "enterprise_town", "sector", "department", "county", "assigned"]
Id = Annotated[str, Field(max_length=64)]
Description = Annotated[str, Field(min_length=10, max_length=2000, pattern=NON_BLANK)]
Outcome = Annotated[str, Field(min_length=1, max_length=2000, pattern=NON_BLANK)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,18}[0-9]$")]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")]
CreditCode = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    Field(pattern=r"^[0-9A-Z]{18}$"),
]


class GeoPoint(RequestModel):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lng: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class ReporterIn(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=50, pattern=NON_BLANK)]
    phone: Phone


class PublicReportCreate(RequestModel):
    """A report from anyone (no sign-in). `anonymous` defaults to true without `reporter` and
    to false with it; `anonymous: true` with a `reporter` is 422 (the identity is never taken
    silently), `anonymous: false` without one too."""

    description: Description = Field(description="What is wrong, where and since when (10–2000)")
    location_text: Annotated[str, Field(max_length=300)] | None = None
    location: GeoPoint | None = None
    region_code: RegionCode | None = Field(
        default=None,
        description="The county (6 digits), town (9) or village (12) code where it is; routes "
        "the report to the town",
    )
    enterprise_name: (
        Annotated[str, Field(min_length=1, max_length=200, pattern=NON_BLANK)] | None
    ) = None
    credit_code: CreditCode | None = Field(
        default=None, description="The operator's unified social credit code, if known"
    )
    anonymous: bool | None = None
    reporter: ReporterIn | None = Field(
        default=None, description="Kept confidential (保密): sealed at rest, never shown publicly"
    )

    @model_validator(mode="after")
    def _identity(self) -> PublicReportCreate:
        if self.anonymous and self.reporter is not None:
            raise ValueError("An anonymous report carries no reporter|匿名举报不应填写举报人信息")
        if self.anonymous is False and self.reporter is None:
            raise ValueError(
                "A named report needs reporter {name, phone}|实名举报须填写举报人姓名和电话"
            )
        return self


class PublicReportReceipt(ResponseModel):
    """All a submission answers: the code to follow the case with (keep it; it is shown once)."""

    tracking_code: str = Field(
        description="16 characters of Crockford base32 in four groups (80 random bits), e.g. "
        "`7K3M-9QXD-2RTV-HW4P`; read back case-insensitively, with or without the hyphens"
    )


class PublicReportStatusOut(ResponseModel):
    """What anyone holding the tracking code sees: status, dates, the public outcome."""

    status: ReportStatus
    status_label: str = Field(description="The status in Chinese, or English under en")
    received_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    public_outcome: str | None = Field(description="The outcome text published when closed")


class Location(ResponseModel):
    lat: float
    lng: float


class RouteOut(ResponseModel):
    unit: NamedRef
    reason: RouteReason
    routed_at: datetime


class ReporterOut(ResponseModel):
    """The reporter's identity (保密): only with `?include=reporter`, for `reports:view_reporter`."""

    name: str
    phone: str


class HazardRef(ResponseModel):
    id: str
    number: str


class ReportEventOut(ResponseModel):
    id: str
    action: ReportEventAction
    from_status: ReportStatus | None
    to_status: ReportStatus
    actor: NamedRef | None
    actor_kind: Literal["user", "client", "system", "public"] = Field(
        description="`public`: the report's intake (nothing of the reporter is kept here)"
    )
    note: str | None
    details: dict[str, object]
    created_at: datetime


class PhotoOut(ResponseModel):
    id: str
    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: int
    download_url: str
    thumbnail_url: str | None


class ReportSummary(ResponseModel):
    id: str
    number: str
    county_code: str
    status: ReportStatus
    description: str
    location_text: str | None
    location: Location | None
    region_code: str | None
    enterprise_name: str | None = Field(description="As the reporter gave it")
    credit_code: str | None = Field(description="As the reporter gave it")
    enterprise_id: str | None = Field(description="The registered enterprise it concerns")
    enterprise: NamedRef | None = Field(description="The same enterprise with its name")
    sector: SectorCode | None = Field(  # type: ignore[valid-type]
        description="The matched enterprise's sector"
    )
    anonymous: bool
    routed_to: list[NamedRef]
    hazard_id: str | None = Field(description="The hazard registered when substantiated")
    hazard: HazardRef | None = Field(description="The same hazard with its number")
    reward_yuan: float | None = Field(description="The reward paid (元, two decimals)")
    public_outcome: str | None
    received_at: datetime
    closed_at: datetime | None
    updated_at: datetime
    allowed_actions: list[ReportAction]


class ReportDetail(ReportSummary):
    routes: list[RouteOut]
    unsubstantiated_reason: str | None
    photos: list[PhotoOut]
    events: list[ReportEventOut]
    reporter: ReporterOut | None = Field(
        description="Only with `?include=reporter` for `reports:view_reporter` on a named "
        "report (each such view is logged); null otherwise"
    )


class ReportPage(BaseModel):
    items: list[ReportSummary]
    next_cursor: str | None
    total: int | None = None


class ReporterViewOut(ResponseModel):
    id: str
    report_id: str
    viewer: NamedRef
    viewer_unit: NamedRef | None
    viewed_at: datetime
    request_id: str | None


class ReporterViewList(ResponseModel):
    items: list[ReporterViewOut]


class HazardFromReport(RequestModel):
    """The hazard a substantiated report registers (source `public_report`)."""

    title: Text200
    description: LongText | None = None
    location: Annotated[str, Field(max_length=300)] | None = None
    level: HazardLevel
    category: HazardCategory
    deadline: StrictDate | None = Field(
        default=None, description="Rectification deadline; the same rules as registering"
    )
    deadline_reason: Reason | None = None
    judgment: Judgment | None = None


class ReportTransition(RequestModel):
    """`assign` (`unit_ids`), `investigate`, `substantiate` (`hazard`, by default a general
    unsafe-condition hazard titled by the report's first sentence; and `enterprise_id` or an
    unregistered operator as `enterprise`, by default the matched enterprise), `unsubstantiate`
    (`reason`), `reward` (`reward_yuan`), `close` (`public_outcome`). A field of another action
    is 422."""

    action: ReportAction
    note: Annotated[str, Field(max_length=2000)] | None = None
    unit_ids: Annotated[list[Id], Field(min_length=1, max_length=20)] | None = None
    enterprise_id: Id | None = None
    enterprise: EnterpriseCreate | None = None
    hazard: HazardFromReport | None = None
    reason: Reason | None = None
    reward_yuan: Yuan | None = None
    public_outcome: Outcome | None = None


class ReportGroup(ResponseModel):
    key: str
    label: str | None
    received: int
    substantiated: int
    rewarded: int
    reward_yuan: float
    closed: int
    median_days_to_close: float | None


class ReportStatistics(ResponseModel):
    group_by: Literal["town", "sector", "month", "none"]
    total: ReportGroup
    groups: list[ReportGroup]
