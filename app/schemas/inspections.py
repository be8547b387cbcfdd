"""Inspections (检查/执法): what clients send and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from app.core.errors import UNION_TAGS
from app.schemas.common import (
    NON_BLANK,
    ExternalIds,
    NamedRef,
    RequestModel,
    ResponseModel,
    UserRef,
)
from app.schemas.dates import StrictDate
from app.schemas.hazards import (
    ActorKind,
    AttachmentIds,
    AttachmentOut,
    HazardCategory,
    HazardLevel,
    HazardStatus,
    Judgment,
    LongText,
    Note,
    PersonName,
    Reason,
    Text200,
    Yuan,
)
from app.schemas.org_units import SectorCode
from app.services.catalog_data import (
    DECISION_KINDS,
    INSPECTION_ACTIONS,
    INSPECTION_EVENT_ACTIONS,
    INSPECTION_KINDS,
    INSPECTION_RESULTS,
    INSPECTION_STATUSES,
)

InspectionKind = Literal[tuple(e.code for e in INSPECTION_KINDS)]  # type: ignore[valid-type]
InspectionStatus = Literal[tuple(e.code for e in INSPECTION_STATUSES)]  # type: ignore[valid-type]
InspectionAction = Literal[tuple(e.code for e in INSPECTION_ACTIONS)]  # type: ignore[valid-type]
InspectionEventAction = Literal[tuple(e.code for e in INSPECTION_EVENT_ACTIONS)]  # type: ignore[valid-type]
ItemResult = Literal[tuple(e.code for e in INSPECTION_RESULTS)]  # type: ignore[valid-type]
DecisionKind = Literal[tuple(e.code for e in DECISION_KINDS)]  # type: ignore[valid-type]
Id = Annotated[str, Field(min_length=1, max_length=64)]
UserIds = Annotated[list[Id], Field(max_length=20)]
ItemCode = Annotated[str, Field(min_length=1, max_length=64, pattern=NON_BLANK)]
Campaign = Annotated[str, Field(min_length=1, max_length=200, pattern=NON_BLANK)]


class InspectionCreate(RequestModel):
    kind: InspectionKind
    enterprise_id: Id
    conducting_unit_id: Id | None = Field(
        default=None,
        description="The unit that conducts it; defaults to the caller's unit. Admins and county "
        "staff may name any unit of the county. Null for a self_inspection (the enterprise "
        "conducts it)",
    )
    planned_for: StrictDate
    inspectors: UserIds = Field(
        default_factory=list,
        description="User ids of the inspectors (government staff of the county; for a "
        "self_inspection the enterprise's own people, default the caller). Enforcement kinds "
        "need two holding an enforcement_cert_no before `start`",
    )
    experts: UserIds = Field(default_factory=list, description="User ids of role expert")
    checklist_id: Id | None = None
    campaign: Campaign | None = Field(default=None, description="A free label (专项行动名称)")
    follows_inspection_id: Id | None = Field(
        default=None,
        description="Required for kind follow_up (回头检查): the completed inspection it follows",
    )


class InspectionUpdate(RequestModel):
    """While planned: every field; in progress: the people and the campaign. A completed or
    signed record changes only through its actions (409 ``inspection_locked``)."""

    planned_for: StrictDate = None  # may be omitted, never null
    inspectors: UserIds = None  # may be omitted, never null
    experts: UserIds = None  # may be omitted, never null
    checklist_id: Id | None = None
    campaign: Campaign | None = None


class ItemResultIn(RequestModel):
    item_code: ItemCode
    result: ItemResult
    note: Note | None = None
    attachment_ids: AttachmentIds = Field(
        default_factory=list,
        description="Photos or documents: the caller's own unbound uploads, or files already "
        "bound to this inspection",
    )


class ItemResultOut(ResponseModel):
    item_code: str
    result: ItemResult
    note: str | None
    attachment_ids: list[str]
    recorded_by: UserRef | None
    recorded_at: datetime | None


class RectificationCheckIn(RequestModel):
    hazard_id: Id
    rectified: bool
    note: Note | None = None


class RectificationCheckOut(ResponseModel):
    hazard_id: str
    hazard_number: str | None
    rectified: bool
    note: str | None


class DecisionIn(RequestModel):
    """One decision of the outcome. ``rectification_order`` needs a ``deadline``;
    ``suspension`` its ``from_date``/``to_date``; ``fine`` an ``entity_fine_yuan`` and/or a
    ``person_fine_yuan`` with ``person_name`` (一案双罚 is both)."""

    kind: DecisionKind
    deadline: StrictDate | None = None
    from_date: StrictDate | None = None
    to_date: StrictDate | None = None
    entity_fine_yuan: Yuan | None = None
    person_fine_yuan: Yuan | None = None
    person_name: PersonName | None = None
    hazard_ids: Annotated[list[Id], Field(max_length=200)] | None = Field(
        default=None,
        description="fine: the findings it cites (default: every finding of the inspection)",
    )
    note: Note | None = None


class DecisionOut(ResponseModel):
    kind: DecisionKind
    deadline: date | None
    from_date: date | None
    to_date: date | None
    entity_fine_yuan: Decimal | None
    person_fine_yuan: Decimal | None
    person_name: str | None
    hazard_ids: list[str] | None
    note: str | None


class OutcomeIn(RequestModel):
    decisions: Annotated[list[DecisionIn], Field(min_length=1, max_length=10)]
    note: Note | None = None


class OutcomeOut(ResponseModel):
    decisions: list[DecisionOut]
    note: str | None


class Finding(ResponseModel):
    """A hazard found by (or linked to) this inspection: a hazard of the hazards resource."""

    id: str
    number: str
    title: str
    level: HazardLevel
    status: HazardStatus
    item_code: str | None
    exempt: bool = Field(
        description="依法不予处罚: a hazard the enterprise had found and was rectifying on "
        "schedule, linked rather than created"
    )


class Signature(ResponseModel):
    user: UserRef
    enforcement_cert_no: str | None
    signed_at: datetime


class Amendment(ResponseModel):
    reason: str
    author: UserRef
    at: datetime
    changes: dict[str, Any] = Field(description="Each changed field: {from, to}")


class InspectionSummary(ResponseModel):
    id: str
    number: str
    kind: InspectionKind
    enterprise: NamedRef
    region_code: str
    sector: SectorCode = Field(description="The enterprise's sector")  # type: ignore[valid-type]
    conducting_unit: NamedRef | None
    campaign: str | None
    planned_for: date
    started_at: datetime | None
    completed_at: datetime | None
    status: InspectionStatus
    findings_count: int
    major_findings_count: int
    exempt_findings_count: int
    decisions: list[DecisionKind] = Field(description="The kinds of the outcome's decisions")
    allowed_actions: list[InspectionAction]
    created_at: datetime
    updated_at: datetime
    external_ids: ExternalIds


class InspectionOut(InspectionSummary):
    enterprise_id: str
    conducting_unit_id: str | None
    inspectors: list[UserRef]
    experts: list[UserRef]
    checklist_id: str | None
    checklist: NamedRef | None
    results: list[ItemResultOut]
    findings: list[Finding]
    outcome: OutcomeOut | None
    entity_fines_yuan: Decimal
    person_fines_yuan: Decimal
    follows_inspection_id: str | None
    rectification_checks: list[RectificationCheckOut]
    draw_id: str | None
    attachments: list[AttachmentOut] = Field(
        description="The files its results cite, with short-lived signed download links"
    )
    signatures: list[Signature]
    signed_at: datetime | None
    signed_record: dict[str, Any] | None = Field(
        description="The record as signed, unchanged by later amendments"
    )
    amendments: list[Amendment]
    cancel_reason: str | None
    version: int


class InspectionPage(BaseModel):
    items: list[InspectionSummary]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class InspectionEventOut(ResponseModel):
    id: str
    action: InspectionEventAction
    from_status: InspectionStatus | None
    to_status: InspectionStatus
    actor: NamedRef | None
    actor_kind: ActorKind
    note: str | None
    details: dict[str, Any]
    created_at: datetime


class InspectionEventList(ResponseModel):
    """The complete history, oldest first; never paged (`next_cursor` is always null)."""

    items: list[InspectionEventOut]
    next_cursor: None = None


# ---- transitions: one body per action, discriminated by "action" --------------------------------


class _Action(RequestModel):
    note: Note | None = None


class StartAction(_Action):
    action: Literal["start"]


class RecordResultsAction(_Action):
    """Results by checklist item: an item already recorded is replaced. A follow-up
    inspection also reports whether each earlier finding is rectified."""

    action: Literal["record_results"]
    results: Annotated[list[ItemResultIn], Field(max_length=500)] = Field(default_factory=list)
    rectification_checks: Annotated[list[RectificationCheckIn], Field(max_length=500)] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _something(self) -> RecordResultsAction:
        if not self.results and not self.rectification_checks:
            raise ValueError(
                "Send results and/or rectification_checks|请填写检查结果或整改复查情况"
            )
        return self


class AddFindingAction(_Action):
    """A new hazard (``title``, ``category`` … as ``POST /api/v1/hazards``) or, with
    ``existing_hazard_id``, the enterprise's own open hazard that it is rectifying on schedule
    (linked, counted as an exempt finding: 依法不予处罚)."""

    action: Literal["add_finding"]
    item_code: ItemCode | None = Field(
        default=None,
        description="The checklist item it fails; an item marked major_if_failed proposes "
        "level major with the item's judgment clause",
    )
    existing_hazard_id: Id | None = None
    title: Text200 | None = None
    description: LongText | None = None
    location: Annotated[str, Field(max_length=300)] | None = None
    level: HazardLevel | None = None
    category: HazardCategory | None = None
    deadline: StrictDate | None = None
    deadline_reason: Reason | None = Field(
        default=None, description="Why the deadline lies beyond the bound (as for hazards)"
    )
    judgment: Judgment | None = None
    attachment_ids: AttachmentIds = Field(default_factory=list, description="Discovery photos")

    @model_validator(mode="after")
    def _one_form(self) -> AddFindingAction:
        new = [
            k
            for k in ("title", "description", "location", "level", "category", "deadline")
            if getattr(self, k) is not None
        ]
        if self.existing_hazard_id and (new or self.judgment or self.attachment_ids):
            raise ValueError(
                "existing_hazard_id links a hazard as it is: send no hazard fields with it"
                "|关联已有隐患时不能同时填写新隐患的内容"
            )
        if not self.existing_hazard_id and (self.title is None or self.category is None):
            raise ValueError(
                "A new finding needs title and category (or existing_hazard_id)"
                "|新发现的隐患须填写 title 和 category（或填写 existing_hazard_id）"
            )
        return self


class CompleteAction(_Action):
    action: Literal["complete"]
    outcome: OutcomeIn | None = Field(
        default=None,
        description="The decisions (处理决定); without it: no_issue when nothing was found, "
        "otherwise 422 outcome_required for an enforcement inspection",
    )


class SignAction(_Action):
    action: Literal["sign"]


class AmendAction(_Action):
    """A correction after signing: the changed fields are recorded with the reason, the author
    and the time; the signed record stays as it was."""

    action: Literal["amend"]
    reason: Reason
    outcome: OutcomeIn | None = None
    results: Annotated[list[ItemResultIn], Field(max_length=500)] | None = None
    campaign: Campaign | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> AmendAction:
        if self.outcome is None and self.results is None and self.campaign is None:
            raise ValueError(
                "An amendment changes outcome, results or campaign|更正须修改处理决定、检查结果或专项行动名称"
            )
        return self


class CancelAction(_Action):
    action: Literal["cancel"]
    reason: Reason


ACTION_NAMES = tuple(e.code for e in INSPECTION_ACTIONS)
UNION_TAGS.update(ACTION_NAMES)


def _action_of(value: Any) -> str | None:
    if isinstance(value, dict):
        tag = value.get("action")
        return tag if isinstance(tag, str) and tag in ACTION_NAMES else None
    return getattr(value, "action", None)


Transition = Annotated[
    Annotated[StartAction, Tag("start")]
    | Annotated[RecordResultsAction, Tag("record_results")]
    | Annotated[AddFindingAction, Tag("add_finding")]
    | Annotated[CompleteAction, Tag("complete")]
    | Annotated[SignAction, Tag("sign")]
    | Annotated[AmendAction, Tag("amend")]
    | Annotated[CancelAction, Tag("cancel")],
    Discriminator(
        _action_of,
        # Answered with this union's own actions (app/core/errors.py), not another union's.
        custom_error_type="action_invalid",
        custom_error_message="Unknown or missing action",
        custom_error_context={
            "discriminator": "'action'",
            "expected_tags": ", ".join(f"'{a}'" for a in ACTION_NAMES),
        },
    ),
]
