from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.core.errors import UNION_DISCRIMINATORS, UNION_TAGS
from app.schemas.common import (
    NON_BLANK,
    ExternalIds,
    NamedRef,
    RequestModel,
    ResponseModel,
    UserRef,
    group_by_values,
)
from app.schemas.dates import StrictDate, StrictDateTime
from app.schemas.org_units import SectorCode
from app.services.attachment_content import ALLOWED_TYPES

HazardLevel = Literal["general", "major"]
HazardSource = Literal["self_inspection", "inspection", "public_report", "assigned"]
HazardCategory = Literal["unsafe_behavior", "unsafe_condition", "management_defect", "environment"]
HazardStatus = Literal["registered", "rectifying", "awaiting_acceptance", "closed", "voided"]
Escalation = Literal["none", "notice_letter", "circulated", "summoned", "exposed"]
AttachmentPhase = Literal["discovery", "rectification", "acceptance"]
# What an upload may be, judged by its content (app/services/attachment_content.py).
AttachmentContentType = Literal[tuple(ALLOWED_TYPES)]  # type: ignore[valid-type]
JudgmentStandard = Literal[
    "industry_trade",
    "chemicals",
    "metal_nonmetal_mines",
    "housing_municipal",
    "fire",
    "fireworks",
    "gas",
    "road_transport",
]
HazardAction = Literal[
    "plan",
    "fix_on_spot",
    "complete",
    "accept",
    "reject",
    "void",
    "extend",
    "reclassify",
    "supervise",
    "unsupervise",
    "escalate",
]
# What a history event records: every transition action, plus the registration, the overdue
# job's mark and `attach` (evidence uploaded straight onto the hazard, outside any action).
HazardEventAction = Literal[HazardAction, "register", "mark_overdue", "attach"]
Text200 = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]
LongText = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=4000)]
Reason = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=2000)]
Note = Annotated[str, Field(max_length=2000)]
AttachmentIds = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=20)]
_YUAN_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def _yuan_text(value: Any) -> Any:
    """A sum given as text is plain decimal digits (``"52000.50"``), as the schema says: no
    exponent, sign, spaces or separators that ``Decimal`` would otherwise take."""
    if isinstance(value, str) and not _YUAN_TEXT.match(value):
        raise ValueError(
            "A sum in yuan: digits with at most two decimals, e.g. 52000.50"
            "|金额（元）：数字，最多两位小数，例如 52000.50"
        )
    return value


# Money is exact: stored in fen, shown in yuan with two decimals.
Yuan = Annotated[
    Decimal,
    BeforeValidator(_yuan_text),
    Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2),
    PlainSerializer(lambda v: float(v), return_type=float, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 999999999999.99,
                    "description": "At most two decimals",
                },
                {"type": "string", "pattern": _YUAN_TEXT.pattern},
            ]
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]


class Judgment(BaseModel):
    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    standard: JudgmentStandard
    clause: Annotated[
        str,
        Field(
            min_length=1,
            pattern=NON_BLANK,
            max_length=100,
            description="A clause code of the standard (GET /api/v1/catalogs/judgment-standards/"
            "{standard_code}), e.g. 4.3; the citation 第四条第（三）项 is accepted and stored as "
            "4.3. Another standard's clause or an unknown one: 422 unknown_judgment_clause",
        ),
    ]
    text: Annotated[str, Field(max_length=2000)] | None = None


class JudgmentOut(Judgment):
    """A judgment as sent: ``text`` is always there (``null`` when none was given)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


PersonName = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]


class Plan(BaseModel):
    """五落实: responsibility, measures, funds, deadline, contingency plan (+ interim measures for
    major). Every item may be omitted in a request (which items are needed depends on the level,
    checked by the ``plan`` action); in an answer every item is sent, ``null`` when empty."""

    model_config = {
        "extra": "forbid",
        "str_strip_whitespace": True,
        "json_schema_serialization_defaults_required": True,
    }

    responsible_person: PersonName | None = None
    measures: LongText | None = None
    funds_yuan: Yuan | None = None
    deadline: StrictDate | None = None
    contingency_plan: LongText | None = None
    interim_measures: LongText | None = None
    equipment_out_of_service: StrictBool | None = None


PLAN_ITEMS: tuple[str, ...] = tuple(Plan.model_fields)


class Supervision(ResponseModel):
    """挂牌督办: the listing unit and the official tracking it, with their names (readable by
    whoever may read the hazard)."""

    org_unit_id: str
    org_unit: NamedRef
    supervisor_user_id: str
    supervisor: UserRef
    listed_at: datetime
    disclosed: bool
    public_description: str | None = Field(
        description="What the public list (GET /api/v1/public/major-hazards) shows of a disclosed "
        "hazard; null: its title"
    )


class EscalationStep(ResponseModel):
    level: Escalation
    at: datetime
    actor: NamedRef | None
    note: str | None


class AttachmentOut(ResponseModel):
    id: str
    hazard_id: str | None
    accountability_id: str | None = Field(
        description="The accountability record it is bound to (its letter or notice), if any"
    )
    inspection_id: str | None = Field(
        description="The inspection it is bound to (a checklist result's photo), if any"
    )
    phase: AttachmentPhase | None
    filename: str
    content_type: AttachmentContentType  # type: ignore[valid-type]
    size: int
    sha256: str
    has_thumbnail: bool
    created_at: datetime
    download_url: str = Field(
        description="The file, for an `<img src>` or a link: works without a bearer header, for "
        "this file only, until it expires (ANJIAN_ATTACHMENT_URL_LIFETIME_SECONDS, 10 minutes) "
        "or its caller is deactivated; then 403 `link_expired`/`invalid_link`"
    )
    thumbnail_url: str | None = Field(
        description="The same for the JPEG thumbnail; null without one"
    )


class HazardCreate(RequestModel):
    enterprise_id: Annotated[str, Field(max_length=64)]
    title: Text200
    description: LongText | None = None
    location: Annotated[str, Field(max_length=300)] | None = None
    level: HazardLevel
    source: HazardSource | None = Field(
        default=None,
        description="Defaults to self_inspection for enterprise users and inspection for government",
    )
    category: HazardCategory
    found_at: StrictDateTime | None = Field(
        default=None,
        description="Defaults to now; never in the future; for enterprise users at most "
        "ANJIAN_ENTERPRISE_FOUND_AT_MAX_AGE_DAYS (30) days ago",
    )
    deadline: StrictDate | None = Field(
        default=None,
        description="Rectification deadline; defaults to 30 days. At most 180 (general) or 365 "
        "(major) days after discovery; government may set a later one with deadline_reason",
    )
    deadline_reason: Reason | None = Field(
        default=None,
        description="Why the deadline lies beyond the bound (government only); kept in the "
        "register event",
    )
    judgment: Judgment | None = Field(default=None, description="Required for a major hazard")
    attachment_ids: AttachmentIds = Field(default_factory=list, description="Discovery photos")
    risk_point_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description="The enterprise's risk point whose control measure failed (风险点), if known",
    )


class HazardSummary(ResponseModel):
    id: str
    number: str
    enterprise: NamedRef
    enforcement_department: NamedRef = Field(
        description="The enterprise's daily-enforcement bureau (日常执法监管部门)"
    )
    region_code: str
    sector: SectorCode = Field(description="The enterprise's sector")  # type: ignore[valid-type]
    title: str
    location: str | None
    level: HazardLevel
    source: HazardSource
    category: HazardCategory
    found_at: datetime
    deadline: date
    status: HazardStatus
    is_overdue: bool
    stock: bool
    escalation: Escalation
    supervised: bool
    allowed_actions: list[HazardAction]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    external_ids: ExternalIds


class HazardOut(HazardSummary):
    enterprise_id: str
    description: str | None
    found_by: NamedRef | None
    judgment: JudgmentOut | None
    plan: Plan | None
    supervision: Supervision | None
    escalation_history: list[EscalationStep]
    attachments: list[AttachmentOut]
    risk_point_id: str | None = Field(
        description="The risk point whose control measure failed (GET /api/v1/risk-points/{id})"
    )
    inspection_id: str | None = Field(
        description="The inspection that found it (a finding), or that linked it as already "
        "known to the enterprise (GET /api/v1/inspections/{inspection_id})"
    )
    public_report_id: str | None = Field(
        description="The public report whose substantiation registered it (GET "
        "/api/v1/reports/{report_id}): shown only to callers holding `reports:read`, null for "
        "everyone else (an enterprise sees `source=public_report` and nothing of the report)"
    )


class HazardPage(BaseModel):
    items: list[HazardSummary]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


# Who wrote an event: a person, a machine client, or the server's own jobs (overdue marking).
ActorKind = Literal["user", "client", "system"]


class HazardEventOut(ResponseModel):
    id: str
    action: HazardEventAction
    from_status: HazardStatus | None
    to_status: HazardStatus
    actor: NamedRef | None
    actor_kind: ActorKind
    note: str | None
    details: dict[str, str | int | float | bool | list[str] | None]
    attachment_ids: list[str]
    created_at: datetime


class HazardEventList(ResponseModel):
    """The complete history, oldest first; never paged (`next_cursor` is always null)."""

    items: list[HazardEventOut]
    next_cursor: None = None


# ---- transitions: one body per action, discriminated by "action" --------------------------------


class _Action(RequestModel):
    note: Note | None = None


def _one_plan_form(schema: dict[str, Any]) -> None:
    """The rule of ``PlanAction._one_form`` in JSON Schema, so a request valid by the schema is
    one the server accepts: ``plan`` given, or one or more items beside ``action``, not both."""
    schema["oneOf"] = [
        {"required": ["plan"]},
        {"anyOf": [{"required": [item]} for item in PLAN_ITEMS]},
    ]


class PlanAction(_Action):
    """The 五落实 plan, in one of two forms (exactly one): inside ``plan``, or its items beside
    ``action`` (flat). Both, or neither, is a 422 on ``plan``. Which items are required depends on
    the level (checked when the plan is applied: 422 ``plan_incomplete``)."""

    model_config = ConfigDict(json_schema_extra=_one_plan_form)

    action: Literal["plan"]
    plan: Plan = Field(  # may be omitted, never null
        default=None, description="The plan's items; or send them beside `action` instead"
    )
    responsible_person: PersonName | None = Field(default=None, description="Flat form")
    measures: LongText | None = Field(default=None, description="Flat form")
    funds_yuan: Yuan | None = Field(default=None, description="Flat form")
    deadline: StrictDate | None = Field(default=None, description="Flat form")
    contingency_plan: LongText | None = Field(default=None, description="Flat form")
    interim_measures: LongText | None = Field(default=None, description="Flat form")
    equipment_out_of_service: StrictBool | None = Field(default=None, description="Flat form")

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        flat = [k for k in PLAN_ITEMS if k in self.model_fields_set]
        nested = "plan" in self.model_fields_set
        if nested and flat:
            raise ValueError(
                f"Send the plan either in `plan` or as items beside `action`, not both "
                f"(got `plan` and {', '.join(flat)})"
                f"|整改方案请在 plan 中填写，或与 action 并列填写各项，不能同时使用两种方式"
                f"（收到 plan 及 {', '.join(flat)}）"
            )
        if not nested and not flat:
            raise ValueError(
                "A plan is required: `plan`, or its items beside `action` "
                f"({', '.join(PLAN_ITEMS)})"
                "|缺少整改方案：请填写 plan，或与 action 并列填写各项"
                f"（{', '.join(PLAN_ITEMS)}）"
            )
        if flat:
            self.plan = Plan.model_construct(
                _fields_set=set(flat), **{k: getattr(self, k) for k in PLAN_ITEMS}
            )
        return self


class FixOnSpotAction(_Action):
    action: Literal["fix_on_spot"]
    attachment_ids: AttachmentIds = Field(
        default_factory=list, description="After-photos (rectification)"
    )


class CompleteAction(_Action):
    action: Literal["complete"]
    attachment_ids: AttachmentIds = Field(
        default_factory=list, description="Rectification evidence"
    )


class AcceptAction(_Action):
    action: Literal["accept"]
    attachment_ids: AttachmentIds = Field(default_factory=list, description="Acceptance records")


class RejectAction(_Action):
    action: Literal["reject"]
    reason: Reason


class VoidAction(_Action):
    action: Literal["void"]
    reason: Reason


class ExtendAction(_Action):
    action: Literal["extend"]
    deadline: StrictDate = Field(
        description="Enterprise users: at most ANJIAN_ENTERPRISE_EXTENSION_MAX_DAYS (30) days "
        "beyond the current deadline, ANJIAN_ENTERPRISE_EXTENSIONS_MAX (1) times per hazard"
    )
    reason: Reason


class ReclassifyAction(_Action):
    action: Literal["reclassify"]
    level: HazardLevel
    judgment: Judgment | None = None
    reason: Reason | None = None


class SuperviseAction(_Action):
    action: Literal["supervise"]
    supervisor_user_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="The official tracking it (专人跟踪督办); defaults to the caller"
    )
    disclosed: StrictBool = False
    public_description: LongText | None = Field(
        default=None,
        description="With disclosed=true only: the text the public list shows (no names of "
        "people, no internal details); without it the public list shows the title",
    )

    @field_validator("public_description")
    @classmethod
    def _public_text_only_when_disclosed(cls, value: str | None, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("disclosed") is not True:
            raise ValueError(
                "public_description is for a disclosed hazard: send disclosed=true with it"
                "|public_description 仅用于向社会公布的隐患，请同时设置 disclosed=true"
            )
        return value


class UnsuperviseAction(_Action):
    action: Literal["unsupervise"]


class EscalateAction(_Action):
    action: Literal["escalate"]
    note: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=2000)]


UNION_TAGS.update(HazardAction.__args__)  # type: ignore[attr-defined]
UNION_DISCRIMINATORS["action"] = list(HazardAction.__args__)  # type: ignore[attr-defined]

Transition = Annotated[
    PlanAction
    | FixOnSpotAction
    | CompleteAction
    | AcceptAction
    | RejectAction
    | VoidAction
    | ExtendAction
    | ReclassifyAction
    | SuperviseAction
    | UnsuperviseAction
    | EscalateAction,
    Field(discriminator="action"),
]


# The level of the risk point a hazard names (its current one), or ``none``: the grouping
# ``risk_level`` and the list's filter of that name (app/services/hazards/queries.py).
HazardRiskLevel = Literal["red", "orange", "yellow", "blue", "none"]

StatsGroup = Literal[
    "town",
    "sector",
    "level",
    "source",
    "month",
    "enforcement_department",
    "bureau",
    "stock_year",
    "judgment_clause",
    "risk_level",
]
_STATS_GROUPS: tuple[str, ...] = StatsGroup.__args__  # type: ignore[attr-defined]


StatsGroupBy = Annotated[
    list[StatsGroup],
    BeforeValidator(group_by_values(_STATS_GROUPS)),
    Field(min_length=1, max_length=2),
]


class HazardStatsRow(ResponseModel):
    key: dict[str, str] = Field(description="The group's values by dimension; empty for the totals")
    labels: dict[str, str] = Field(
        description="Labels of those values: Chinese, or English under `Accept-Language: en` "
        "(a town or bureau without an English name keeps its Chinese one; a department or "
        "bureau is its unit's name; a judgment clause its standard's name and the clause; a "
        "month or year is itself)"
    )
    town: str | None = Field(default=None, description="9-digit town code, when grouped by town")
    sector: SectorCode | None = None  # type: ignore[valid-type]
    level: HazardLevel | None = None
    source: HazardSource | None = None
    month: str | None = Field(default=None, description="YYYY-MM of discovery, local time")
    enforcement_department: str | None = Field(
        default=None,
        description="Id of the enterprises' designated enforcement department (a bureau)",
    )
    bureau: str | None = Field(
        default=None,
        description="Id of a bureau; the group covers its whole scope (its sectors and the "
        "enterprises naming it), so groups overlap",
    )
    stock_year: str | None = Field(
        default=None, description="YYYY of discovery (local time) of stock hazards"
    )
    judgment_clause: str | None = Field(
        default=None,
        description="`<standard>:<clause>` of the judgment a major hazard cites "
        "(`none` when it cites none)",
    )
    risk_level: HazardRiskLevel | None = Field(
        default=None,
        description="Level its risk point has now (`none`: the hazard names no risk point)",
    )
    found: int
    closed: int
    open: int
    overdue: int
    rectification_rate: float
    major_open: int
    major_supervised: int
    stock_open: int
    stock_cleared: int
    median_days_to_close: float | None


class HazardStats(ResponseModel):
    group_by: list[StatsGroup]
    groups: list[HazardStatsRow]
    totals: HazardStatsRow = Field(
        description="The caller's scope and filters once: each hazard counted once, also when "
        "the groups overlap"
    )
    groups_overlap: bool = Field(
        description="True when grouped by `bureau`: an enterprise counts under every bureau "
        "that supervises it (by its sector and as its designated department), so the groups "
        "may add up to more than `totals`"
    )
    implied_filters: dict[str, str] = Field(
        description="Filters the grouping implies, as query values: `stock_year` counts stock "
        'hazards only (`{"stock": "true"}`), `judgment_clause` major hazards only '
        '(`{"level": "major"}`); empty otherwise'
    )
