"""Task lists and tasks (清单与调度): what clients send and what they get back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel
from app.schemas.dates import StrictDate
from app.schemas.hazards import ActorKind, Reason
from app.services.tasks.measures import MEASURE_CODES

TaskListKind = Literal["responsibility", "annual", "campaign", "dispatch"]
TaskListStatus = Literal["draft", "issued", "closed"]
TaskListAction = Literal["issue", "close"]
Cycle = Literal["once", "monthly", "quarterly", "annual"]
PartStatus = Literal["not_started", "in_progress", "done"]
Progress = Literal["not_started", "in_progress", "done", "overdue"]
TaskAction = Literal["start", "complete", "reopen"]
TaskEventAction = Literal[
    "create",
    "update",
    "revise",
    "delete",
    "issue",
    "close",
    "start",
    "complete",
    "reopen",
    "derive",
    "split",
    "report",
    "return",
]
ReportStatus = Literal["submitted", "returned"]
ReportAction = Literal["return"]
PeriodState = Literal["submitted", "late", "returned", "missing", "pending"]
Title = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]
IndicatorUnit = Literal["家", "项", "个", "次", "人次", "人", "元", "万元", "%"]
IndicatorSource = Literal[(*MEASURE_CODES, "manual")]  # type: ignore[valid-type]


class IndicatorIn(RequestModel):
    """One dispatch indicator (调度指标): `source` is one of the platform's computed measures
    (README, Dispatch indicators) or `manual` (reported by the assignee); a computed one takes
    the measure's unit."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name_zh: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
    name_en: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] | None = None
    unit: IndicatorUnit | None = None
    source: IndicatorSource  # type: ignore[valid-type]


class IndicatorOut(ResponseModel):
    code: str
    name_zh: str
    name_en: str | None
    unit: IndicatorUnit
    source: IndicatorSource  # type: ignore[valid-type]


Indicators = Annotated[list[IndicatorIn], Field(max_length=100)]
Id = Annotated[str, Field(max_length=64)]


class TaskListCreate(RequestModel):
    kind: TaskListKind
    title: Title
    year: Annotated[int, Field(ge=2000, le=2100)]
    basis: Annotated[str, Field(max_length=300)] | None = Field(
        default=None,
        description="The document it implements, e.g. 《安全生产治本攻坚三年行动方案(2024-2026年)》",
    )
    issuing_unit_id: Id | None = Field(
        default=None,
        description="The caller's own unit (the default); an admin may name a county or town "
        "unit of its county",
    )
    period_from: StrictDate | None = None
    period_to: StrictDate | None = None
    indicators: Indicators = Field(
        default_factory=list, description="A `dispatch` list's indicators (调度指标)"
    )

    @model_validator(mode="after")
    def _period(self) -> TaskListCreate:
        if self.period_from and self.period_to and self.period_to < self.period_from:
            raise ValueError("period_to is before period_from|截止日期早于起始日期")
        return self


class TaskListUpdate(RequestModel):
    """A draft's fields; once issued, the title and basis are corrected with a `reason`."""

    title: Title = None  # may be omitted, never null
    basis: Annotated[str, Field(max_length=300)] | None = None
    period_from: StrictDate | None = None
    period_to: StrictDate | None = None
    indicators: Indicators = None  # type: ignore[assignment]  # a draft dispatch list's
    reason: Reason | None = None


class TaskListTransition(RequestModel):
    action: TaskListAction
    note: Annotated[str, Field(max_length=2000)] | None = None


class AssigneeIn(RequestModel):
    """An org unit (`unit_id`) or an enterprise (`enterprise_id`), exactly one."""

    unit_id: Id | None = None
    enterprise_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> AssigneeIn:
        if (self.unit_id is None) == (self.enterprise_id is None):
            raise ValueError(
                "name exactly one of unit_id and enterprise_id|责任单位须且只须指定 unit_id 或 enterprise_id 之一"
            )
        return self


class TaskFields(RequestModel):
    description: Annotated[str, Field(max_length=5000)] | None = None
    basis: Annotated[str, Field(max_length=300)] | None = Field(
        default=None, description="The article it implements"
    )
    lead_unit_id: Id | None = Field(default=None, description="牵头单位")
    deadline: StrictDate | None = None


class TaskCreate(TaskFields):
    task_list_id: Id | None = Field(
        default=None,
        description="Required for a task of a draft list; a sub-task takes its parent's",
    )
    parent_task_id: Id | None = Field(
        default=None,
        description="Split from the caller's own part of this task (分解): the sub-task's "
        "assignees are units or enterprises in the caller's unit's scope",
    )
    code: Annotated[str, Field(min_length=1, pattern=r"^[0-9A-Za-z.\-]+$", max_length=32)]
    title: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=300)]
    cycle: Cycle | None = Field(
        default=None, description="Default `once` (a sub-task: its parent's)"
    )
    assignees: Annotated[list[AssigneeIn], Field(max_length=500)] = Field(default_factory=list)


class TaskUpdate(TaskFields):
    """A task of a draft list changes freely; once issued its text is revised with a `reason`
    (a recorded revision); assignees change only while the list is a draft."""

    code: Annotated[str, Field(min_length=1, pattern=r"^[0-9A-Za-z.\-]+$", max_length=32)] = None
    title: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=300)] = None
    cycle: Cycle = None  # type: ignore[assignment]
    assignees: Annotated[list[AssigneeIn], Field(max_length=500)] = None  # type: ignore[assignment]
    reason: Reason | None = None


class TaskTransition(RequestModel):
    """`start` and `complete` act on the caller's own part; `reopen` names the `assignee`
    (the part's id, or `{unit_id}` / `{enterprise_id}`) and a `reason`."""

    action: TaskAction
    assignee: AssigneeIn | None = None
    assignee_id: Id | None = None
    reason: Reason | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class PartOut(ResponseModel):
    id: str
    unit: NamedRef | None
    enterprise: NamedRef | None
    status: PartStatus = Field(description="As moved by the assignee (or derived from sub-tasks)")
    progress: Progress = Field(
        description="`status`, or `overdue` when not done by the end of the deadline day "
        "(Asia/Shanghai)"
    )
    split: bool = Field(description="Split into sub-tasks: its progress follows them")
    started_at: datetime | None
    completed_at: datetime | None


class RevisionOut(ResponseModel):
    at: datetime
    by: NamedRef | None
    reason: str
    changes: dict[str, Any] = Field(description="Each changed field: `{from, to}`")


class TaskOut(ResponseModel):
    id: str
    task_list_id: str
    task_list: NamedRef = Field(description="`name` is the list's title")
    code: str
    title: str
    description: str | None
    basis: str | None
    lead_unit: NamedRef | None
    lead_unit_id: str | None
    deadline: date | None
    cycle: Cycle
    parent_task_id: str | None
    split_by_unit: NamedRef | None = Field(description="The assignee unit that split it")
    assignees: list[PartOut] = Field(
        description="Every part for the issuer, the county and the lead unit; the caller's "
        "own part only for an assignee"
    )
    revisions: list[RevisionOut]
    allowed_actions: list[TaskAction]
    created_at: datetime
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class TaskListOut(ResponseModel):
    id: str
    kind: TaskListKind
    title: str
    year: int
    basis: str | None
    issuing_unit: NamedRef
    issuing_unit_id: str
    period_from: date | None
    period_to: date | None
    status: TaskListStatus
    issued_at: datetime | None
    closed_at: datetime | None
    indicators: list[IndicatorOut] = Field(description="A `dispatch` list's; empty otherwise")
    allowed_actions: list[TaskListAction]
    created_at: datetime
    updated_at: datetime


class TaskListDetail(TaskListOut):
    tasks: list[TaskOut] = Field(description="The tasks the caller sees, by code")


class TaskListPage(BaseModel):
    items: list[TaskListOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class TaskEventOut(ResponseModel):
    id: str
    task_id: str | None
    assignee_id: str | None
    action: TaskEventAction
    from_status: str | None
    to_status: str
    actor: NamedRef | None
    actor_kind: ActorKind
    note: str | None
    details: dict[str, Any]
    created_at: datetime


class TaskEventList(ResponseModel):
    items: list[TaskEventOut]
    next_cursor: None = None


class DraftFigure(ResponseModel):
    code: str
    name_zh: str
    name_en: str | None
    unit: IndicatorUnit
    source: IndicatorSource  # type: ignore[valid-type]
    value: Decimal | None = Field(
        description="Computed for the assignee's own scope and the period (exact, as a decimal "
        "string); null for a `manual` indicator, to be filled in"
    )


class ReportDraft(ResponseModel):
    task_id: str
    assignee: PartOut
    period: str
    period_from: date
    period_to: date
    figures: list[DraftFigure]


# ---- progress reports (进展报告) ----

Period = Annotated[
    str,
    Field(
        min_length=4,
        max_length=7,
        pattern=r"^([0-9]{4}(-[0-9]{2}|-Q[0-9])?|once)$",
        description="By the task's cycle: monthly `2026-11`, quarterly `2026-Q4`, annual "
        "`2026`, one-off `once`",
        examples=["2026-11"],
    ),
]
IndicatorCode = Annotated[str, Field(min_length=1, max_length=32)]
Figure = Annotated[
    Decimal,
    Field(
        ge=0,
        allow_inf_nan=False,
        max_digits=20,
        decimal_places=6,
        description="A finite number ≥ 0 (a JSON number or a decimal string), kept exactly",
    ),
]


class TaskReportCreate(RequestModel):
    """The caller's own part's report for `period`."""

    period: Period
    text: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=10000)]
    figures: Annotated[dict[IndicatorCode, Figure], Field(max_length=200)] = Field(
        default_factory=dict,
        description="Dispatch lists only: indicator code → value (the list's indicators)",
    )
    attachment_ids: Annotated[list[Id], Field(max_length=20)] = Field(
        default_factory=list, description="The caller's own uploads (`POST /api/v1/attachments`)"
    )


class TaskReportReturn(RequestModel):
    reason: Reason


class TaskReportOut(ResponseModel):
    id: str
    task_id: str
    assignee_id: str = Field(description="The part's id (`assignees[].id` of the task)")
    unit: NamedRef | None
    enterprise: NamedRef | None
    period: str
    text: str
    figures: dict[str, str] = Field(
        description='Indicator code → the value as exact decimal text (`"12"`, `"98.5"`)'
    )
    attachment_ids: list[str]
    status: ReportStatus = Field(
        description="`submitted` is the period's current report (at most one per part and "
        "period); `returned` (退回) was sent back"
    )
    late: bool = Field(description="Submitted after `due_on` (judged at submission)")
    due_on: date | None = Field(
        description="The period's last day (a one-off task: its deadline) plus the grace; "
        "null: never late"
    )
    submitted_at: datetime
    submitted_by: NamedRef | None
    returned_at: datetime | None
    returned_by: NamedRef | None
    return_reason: str | None
    allowed_actions: list[ReportAction]


class TaskReportList(ResponseModel):
    items: list[TaskReportOut]
    next_cursor: None = None


class PeriodOut(ResponseModel):
    period: str
    due_on: date | None
    state: PeriodState = Field(
        description="`submitted` (on time), `late` (submitted after `due_on`), `returned` "
        "(the last report was returned and none is submitted since), `missing` (nothing "
        "submitted and `due_on` has passed), `pending` (not yet due)"
    )
    report_id: str | None = Field(description="The current report, or the last returned one")


class PartReportingOut(ResponseModel):
    assignee_id: str
    unit: NamedRef | None
    enterprise: NamedRef | None
    periods: list[PeriodOut]


class TaskReportingOut(ResponseModel):
    task_id: str
    cycle: Cycle
    grace_days: int
    today: date
    parts: list[PartReportingOut] = Field(
        description="Every part for the issuer, the county and the lead unit; an assignee's own"
    )


ReportState = Literal["submitted", "late", "returned", "missing", "pending"]


class DispatchValue(ResponseModel):
    code: str
    submitted: Decimal | None = Field(description="In the period's current report; null: none")
    computed: Decimal | None = Field(description="The platform's figure (computed indicators)")
    difference: Decimal | None = Field(description="submitted − computed, when both exist")


class DispatchRow(ResponseModel):
    task: NamedRef = Field(description="`name` is the task's code and title")
    assignee_id: str
    unit: NamedRef | None
    enterprise: NamedRef | None
    state: ReportState = Field(
        description="The period's report: `submitted`, `late` (after its due day), `returned` "
        "(退回, none since), `missing` (past due, none), `pending` (not yet due)"
    )
    due_on: date | None
    report_id: str | None
    submitted_at: datetime | None
    values: list[DispatchValue] = Field(description="One per indicator, in the list's order")


class DispatchTotal(ResponseModel):
    code: str
    submitted: Decimal | None = Field(description="Sum of the rows' submitted values (not for %)")


class DispatchTable(ResponseModel):
    task_list: NamedRef
    period: str
    period_from: date
    period_to: date
    generated_at: datetime
    indicators: list[IndicatorOut]
    rows: list[DispatchRow]
    totals: list[DispatchTotal]
