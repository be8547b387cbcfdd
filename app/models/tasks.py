"""Task lists (清单) and their tasks, issued down the levels and reported back up (调度).
Rules live in services/tasks/."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, EventMixin, IdMixin, TimestampMixin, UTCDateTime


class TaskList(IdMixin, TimestampMixin, Base):
    """A list a unit issues: 责任清单, 年度任务清单, 专项行动 or 调度指标. ``draft`` is the
    issuer's alone; ``issued`` fixes the tasks' text (later changes are revisions); ``closed``
    ends reporting. ``indicators`` (dispatch lists): ``[{code, name_zh, name_en, unit,
    source}]``."""

    __tablename__ = "task_lists"

    county_code: Mapped[str] = mapped_column(String(6), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str | None] = mapped_column(String(300))
    issuing_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    indicators: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(48))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Task(IdMixin, TimestampMixin, Base):
    """A task of a list, or a sub-task an assignee split from its part (``parent_task_id``,
    ``split_by_unit_id``: the assignee unit that issued it). ``revisions``: the changes of its
    text after the list was issued, ``[{at, by, reason, changes: {field: {from, to}}}]``."""

    __tablename__ = "tasks"

    task_list_id: Mapped[str] = mapped_column(ForeignKey("task_lists.id"), index=True)
    parent_task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    split_by_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(String(300))
    lead_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    deadline: Mapped[date | None] = mapped_column(Date)
    cycle: Mapped[str] = mapped_column(String(16), default="once")
    revisions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_tasks_task_list_id_code", "task_list_id", "code"),)


class TaskAssignee(IdMixin, Base):
    """One assignee's part of a task (a unit or an enterprise) and its own progress:
    ``not_started → in_progress → done`` (``overdue`` is computed from the deadline, never
    stored). A part split into sub-tasks follows them (services/tasks/service.py)."""

    __tablename__ = "task_assignees"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("task_id", "unit_id", name="uq_task_assignees_task_id_unit_id"),
        UniqueConstraint(
            "task_id", "enterprise_id", name="uq_task_assignees_task_id_enterprise_id"
        ),
    )


class TaskEvent(IdMixin, EventMixin, Base):
    """One row per change of a list or a task (created, issued, revised, an assignee's start,
    complete, reopen …), written in the same transaction (app/services/lifecycle.py)."""

    __tablename__ = "task_events"

    task_list_id: Mapped[str] = mapped_column(ForeignKey("task_lists.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    assignee_id: Mapped[str | None] = mapped_column(String(36))


class TaskReport(IdMixin, Base):
    """An assignee's progress report (进展报告) on its part of a task for one ``period``
    (``2026-11``, ``2026-Q4``, ``2026`` or ``once``, by the task's cycle). ``figures``: indicator
    code → exact decimal text (``"12"``, ``"98.5"``), dispatch lists only. ``attachment_ids``:
    the submitter's own uploads it cites, kept as ids (the files are not bound to it).
    ``submitted`` until the lead unit or the issuer returns it (退回, ``returned``); then the
    assignee submits a new one for the period. At most one ``submitted`` report per part and
    period (a partial unique index): that is the period's current report. ``late`` is judged at
    submission against ``due_on`` (the period's end, or the task's deadline for ``once``, plus
    the grace) and kept."""

    __tablename__ = "task_reports"

    task_list_id: Mapped[str] = mapped_column(ForeignKey("task_lists.id"), index=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    assignee_id: Mapped[str] = mapped_column(ForeignKey("task_assignees.id"))
    period: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    attachment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str | None] = mapped_column(String(48))
    submitted_by_name: Mapped[str | None] = mapped_column(String(200))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by: Mapped[str | None] = mapped_column(String(48))
    returned_by_name: Mapped[str | None] = mapped_column(String(200))
    return_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_task_reports_assignee_id_period", "assignee_id", "period"),
        Index(
            "uq_task_reports_current",
            "assignee_id",
            "period",
            unique=True,
            sqlite_where=sql_text("status = 'submitted'"),
            postgresql_where=sql_text("status = 'submitted'"),
        ),
    )
