"""Accountability records (问责) and the unit figures the county reads to decide them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel
from app.schemas.hazards import AttachmentIds, AttachmentOut, Note, Reason

# The ladder, in order (the codes of the hazard's own escalation; catalogue
# `accountability_rungs`): 函告 → 通报 → 约谈 → 曝光.
AccountabilityRung = Literal["notice_letter", "circulated", "summoned", "exposed"]
TargetType = Literal["org_unit", "enterprise"]
OrgUnitKind = Literal["town", "bureau"]
FlagReason = Literal["overdue_rate", "major_overdue"]
Id = Annotated[str, Field(max_length=64)]
HazardIds = Annotated[list[Id], Field(max_length=100)]


def _one_target(schema: dict[str, Any]) -> None:
    """The rule of ``TargetIn._exactly_one`` in JSON Schema: one of the two ids, not both."""
    schema["oneOf"] = [{"required": ["org_unit_id"]}, {"required": ["enterprise_id"]}]


class TargetIn(RequestModel):
    """Whom the record is about: exactly one of a town or bureau (`org_unit_id`) and an
    enterprise (`enterprise_id`)."""

    model_config = ConfigDict(json_schema_extra=_one_target)

    org_unit_id: Id = Field(  # may be omitted, never null
        default=None, description="A town or bureau of the county (county staff only)"
    )
    enterprise_id: Id = Field(default=None, description="An enterprise in the caller's scope")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("org_unit_id", "enterprise_id") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                "Name exactly one target: org_unit_id (a town or bureau) or enterprise_id"
                "|请指定且只指定一个问责对象：org_unit_id（乡镇/街道或部门）或 enterprise_id（企业）"
            )
        return self


class BasisIn(RequestModel):
    """The figures are the server's (taken when the record is written); the decider may add a
    note."""

    note: Note | None = None


class AccountabilityCreate(RequestModel):
    target: TargetIn
    rung: AccountabilityRung = Field(
        description="The first record of a target in a calendar year is `notice_letter`; each "
        "next one repeats the last rung or takes the next (a skipped rung is 409)"
    )
    reason: Reason
    document_number: (
        Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] | None
    ) = Field(default=None, description="The official number of the letter or notice (文号)")
    basis: BasisIn | None = None
    hazard_ids: HazardIds = Field(
        default_factory=list,
        description="Hazards the record cites: in the caller's scope and the target's "
        "(the unit's scope, or the enterprise's own); they are not changed",
    )
    attachment_ids: AttachmentIds = Field(
        default_factory=list, description="The caller's own uploads (the letter, the notice)"
    )


class TargetOut(ResponseModel):
    type: TargetType
    id: str
    name: str


class Basis(ResponseModel):
    """The figures of the target's scope when the record was written (as
    `GET /api/v1/statistics/units` computes them), and the decider's note."""

    as_of: date = Field(description="The local day the figures were taken")
    found: int
    closed: int
    open: int
    overdue: int
    major_open: int
    major_overdue: int
    rectification_rate: float
    overdue_rate: float
    note: str | None


class CitedHazard(ResponseModel):
    id: str
    number: str
    title: str


class AccountabilitySummary(ResponseModel):
    id: str
    target: TargetOut
    rung: AccountabilityRung
    year: int = Field(description="The calendar year (local) whose ladder the record is on")
    sequence: int = Field(description="Its place on the target's ladder of that year, from 1")
    reason: str
    document_number: str | None
    basis: Basis
    hazard_ids: list[str]
    attachment_ids: list[str]
    decided_by: NamedRef
    decided_at: datetime
    created_at: datetime


class AccountabilityOut(AccountabilitySummary):
    hazards: list[CitedHazard] = Field(description="The hazards cited, with their number and title")
    attachments: list[AttachmentOut]


class AccountabilityPage(BaseModel):
    items: list[AccountabilitySummary]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


# ---- GET /api/v1/statistics/units ---------------------------------------------------------------


class LastAccountability(ResponseModel):
    id: str
    rung: AccountabilityRung
    decided_at: datetime


class UnitFigures(ResponseModel):
    org_unit: NamedRef
    kind: OrgUnitKind
    region_code: str | None = Field(description="A town's 9-digit code; null for a bureau")
    found: int
    closed: int
    open: int
    overdue: int
    major_open: int
    major_overdue: int
    rectification_rate: float = Field(description="closed / found (0 when none found)")
    overdue_rate: float = Field(description="overdue / open (0 when none open)")
    flagged: bool
    reasons: list[FlagReason] = Field(description="Why it is flagged; empty when it is not")
    last_accountability: LastAccountability | None = Field(
        description="The unit's latest accountability record, of any year"
    )
    allowed_rungs: list[AccountabilityRung] = Field(
        description="The rungs the caller may record for this unit now (this year's ladder); "
        "empty when the caller may not hold units to account"
    )


class UnitThresholds(ResponseModel):
    overdue_rate: float = Field(description="ANJIAN_ACCOUNTABILITY_OVERDUE_RATE_THRESHOLD")
    min_open: int = Field(description="ANJIAN_ACCOUNTABILITY_MIN_OPEN")
    major_overdue: int = Field(description="ANJIAN_ACCOUNTABILITY_MAJOR_OVERDUE_THRESHOLD (0: off)")


class UnitStats(ResponseModel):
    as_of: date
    thresholds: UnitThresholds
    units: list[UnitFigures]
