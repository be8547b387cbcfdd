"""Double-random draws (双随机一公开): what a county sends to draw, and what anyone may check."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel, UserRef
from app.schemas.dates import StrictDate
from app.schemas.enterprises import RiskColor
from app.schemas.hazards import Text200
from app.schemas.org_units import SectorCode
from app.services.catalog_data import DECISION_KINDS, INSPECTION_STATUSES

InspectionStatus = Literal[tuple(e.code for e in INSPECTION_STATUSES)]  # type: ignore[valid-type]
DecisionKind = Literal[tuple(e.code for e in DECISION_KINDS)]  # type: ignore[valid-type]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Seed = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=NON_BLANK,
        description="The draw's key, announced by the county before the draw (for example "
        "the number of a public lottery on a stated day, or a phrase published in advance), so "
        "that nobody can choose it after seeing the pools. Used exactly as stored (after "
        "trimming leading and trailing spaces) as the HMAC-SHA256 key, in UTF-8",
    ),
]
SampleRate = Annotated[
    Decimal,
    Field(
        gt=0,
        le=1,
        max_digits=7,
        decimal_places=6,
        description="The share of the enterprise pool to pick, 0 < rate ≤ 1 (at most six "
        "decimals): round(N × rate) half up, and at least one",
    ),
]


def _one_sample(schema: dict[str, Any]) -> None:
    """The rule of ``DrawCreate._one_sample`` in JSON Schema."""
    schema["oneOf"] = [{"required": ["sample_size"]}, {"required": ["sample_rate"]}]


class DrawCreate(RequestModel):
    """A draw's inputs. The enterprise pool is the operating enterprises of the caller's scope
    matching every filter given; the inspector pool is `inspector_ids`."""

    model_config = ConfigDict(json_schema_extra=_one_sample)

    name: Text200 = Field(description="The campaign's name, e.g. 2026年第四季度工贸企业双随机抽查")
    conducting_unit_id: Id | None = Field(
        default=None,
        description="The unit that conducts the inspections; defaults to the caller's unit. "
        "Admins and county staff may name any unit of their county",
    )
    sector: Annotated[list[SectorCode], Field(max_length=50)] | None = Field(  # type: ignore[valid-type]
        default=None, description="Enterprise pool: any of these sectors"
    )
    region_code: (
        Annotated[str, Field(pattern=r"^\d{1,12}$", description="A prefix of the region code")]
        | None
    ) = Field(default=None, description="Enterprise pool: region code prefix (a town, a village)")
    risk_color: Annotated[list[RiskColor], Field(max_length=4)] | None = Field(
        default=None, description="Enterprise pool: any of these risk colours"
    )
    not_inspected_since: StrictDate | None = Field(
        default=None,
        description="Enterprise pool: only enterprises with no inspection completed on or "
        "after this local day (their own self-inspections do not count)",
    )
    inspector_ids: Annotated[list[Id], Field(min_length=2, max_length=500)] = Field(
        description="The inspector pool: active government users of the county who inspect "
        "(admins, managers, officers, inspectors), each holding an enforcement_cert_no"
    )
    sample_size: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        default=None,
        description="How many enterprises to pick (the whole pool when it is smaller); "
        "exactly one of sample_size and sample_rate",
    )
    sample_rate: SampleRate | None = None
    seed: Seed
    planned_for: StrictDate = Field(description="The day the inspections are planned for")
    checklist_id: Id | None = Field(default=None, description="The checklist every inspection uses")
    campaign: Text200 | None = Field(
        default=None, description="A label every inspection of the draw carries"
    )

    @model_validator(mode="after")
    def _one_sample(self) -> Self:
        if (self.sample_size is None) == (self.sample_rate is None):
            raise ValueError(
                "Give exactly one of sample_size and sample_rate"
                "|请且只能指定 sample_size（抽取数量）或 sample_rate（抽取比例）之一"
            )
        return self


class Algorithm(ResponseModel):
    name: str = Field(description="hmac-sha256-rank (documented in the README)")
    version: int


class DrawCriteria(ResponseModel):
    """The filters of the enterprise pool and the sample, as the draw was asked."""

    status: Literal["operating"]
    sector: list[SectorCode] | None  # type: ignore[valid-type]
    region_code: str | None
    risk_color: list[RiskColor] | None
    not_inspected_since: date | None
    sample_size: int | None
    sample_rate: str | None = Field(description='Exact decimal text, e.g. "0.2"')


class PoolEnterprise(ResponseModel):
    id: str
    region_code: str = Field(description="As it was at the draw (for 回避)")


class PoolInspector(ResponseModel):
    id: str
    display_name: str
    town_region_code: str | None = Field(
        description="The region code of the inspector's town at the draw (回避); null for the "
        "county office or a bureau"
    )


class PickInspection(ResponseModel):
    id: str
    number: str
    status: InspectionStatus


class DrawPick(ResponseModel):
    rank: int = Field(description="1 for the enterprise ranked first")
    enterprise: NamedRef
    inspectors: list[UserRef]
    inspection: PickInspection


class DrawnBy(ResponseModel):
    kind: Literal["user", "client"]
    id: str
    name: str


class DrawSummary(ResponseModel):
    id: str
    name: str
    conducting_unit: NamedRef
    planned_for: date
    seed: str
    algorithm: Algorithm
    enterprise_pool_size: int
    inspector_pool_size: int
    sample: int = Field(description="How many enterprises were picked")
    drawn_by: DrawnBy
    created_at: datetime


class DrawOut(DrawSummary):
    """Everything needed to recompute the draw: the pools in canonical order with what 回避
    reads, the seed, the algorithm and the sample, and the picks in rank order."""

    criteria: DrawCriteria
    checklist_id: str | None
    campaign: str | None
    enterprise_pool: list[PoolEnterprise] = Field(description="Sorted by id (canonical order)")
    inspector_pool: list[PoolInspector] = Field(description="Sorted by id (canonical order)")
    picks: list[DrawPick]


class DrawPage(BaseModel):
    items: list[DrawSummary]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class PublicDrawResult(ResponseModel):
    status: InspectionStatus
    findings_count: int
    decisions: list[DecisionKind] = Field(description="The kinds of the outcome's decisions")


class PublicDrawPick(ResponseModel):
    enterprise_name: str
    inspectors: list[str] = Field(description="The inspectors' display names")
    result: PublicDrawResult


class PublicDraw(ResponseModel):
    name: str
    drawn_on: date = Field(description="The local day the draw was made")
    planned_for: date
    seed: str
    algorithm: Algorithm
    picks: list[PublicDrawPick]
