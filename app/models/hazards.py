from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, EventMixin, IdMixin, TimestampMixin, UTCDateTime


class Hazard(IdMixin, TimestampMixin, Base):
    """A 事故隐患 from discovery to sign-off (销号). Lifecycle rules live in services/hazards/workflow."""

    __tablename__ = "hazards"

    number: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str] = mapped_column(String(6))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    found_by_id: Mapped[str | None] = mapped_column(String(36))
    found_by_name: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24))

    judgment_standard: Mapped[str | None] = mapped_column(String(40))
    judgment_clause: Mapped[str | None] = mapped_column(String(100))
    judgment_text: Mapped[str | None] = mapped_column(Text)

    plan_responsible_person: Mapped[str | None] = mapped_column(String(100))
    plan_measures: Mapped[str | None] = mapped_column(Text)
    plan_funds_fen: Mapped[int | None] = mapped_column(BigInteger)
    plan_deadline: Mapped[date | None] = mapped_column(Date)
    plan_contingency_plan: Mapped[str | None] = mapped_column(Text)
    plan_interim_measures: Mapped[str | None] = mapped_column(Text)
    plan_equipment_out_of_service: Mapped[bool | None] = mapped_column(Boolean)

    supervision_org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    supervision_supervisor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    supervision_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    supervision_disclosed: Mapped[bool | None] = mapped_column(Boolean)
    # What the public list shows of a disclosed hazard (向社会公布); none: its title.
    supervision_public_description: Mapped[str | None] = mapped_column(Text)

    escalation: Mapped[str] = mapped_column(String(16), default="none")
    overdue_marked_on: Mapped[date | None] = mapped_column(Date)
    # Extensions the enterprise took itself (bounded in number and length; government's are not).
    enterprise_extensions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The inspection that found it (a finding) or that it was linked to as already known to
    # the enterprise (依法不予处罚); none for hazards found otherwise.
    # The risk point whose control measure failed (安全风险分级管控 → 隐患排查治理).
    risk_point_id: Mapped[str | None] = mapped_column(ForeignKey("risk_points.id"), index=True)
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    # The public report whose substantiation registered it (群众举报查实; source public_report).
    # No foreign key: the report names the hazard by one (public_reports.hazard_id), and a
    # cycle of keys between the two tables would order neither's deletes or copies.
    public_report_id: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("county_code", "number", name="uq_hazards_county_code_number"),
        Index("ix_hazards_status_deadline", "status", "deadline"),
        Index("ix_hazards_found_at_id", "found_at", "id"),
        Index("ix_hazards_deadline_id", "deadline", "id"),
        Index("ix_hazards_updated_at_id", "updated_at", "id"),
        Index("ix_hazards_enterprise_id_status", "enterprise_id", "status"),
        Index("ix_hazards_level_found_at_id", "level", "found_at", "id"),
        # "Closed in the period" (closed_at_from/_to) of the list and the statistics.
        Index("ix_hazards_closed_at", "closed_at"),
        # The public list of disclosed major hazards, newest listing first (only listed hazards
        # have a listing time: the list reads the few non-null entries).
        Index("ix_hazards_supervision_listed_at_id", "supervision_listed_at", "id"),
    )


class HazardCounter(Base):
    """Per county and year, the last number handed out; numbers are never reused."""

    __tablename__ = "hazard_counters"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class HazardEvent(IdMixin, EventMixin, Base):
    """One row per action, written in the same transaction as the change."""

    __tablename__ = "hazard_events"

    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), index=True)


class Attachment(IdMixin, Base):
    """An uploaded file. Until bound to a hazard or an accountability record only its uploader
    may see or use it."""

    __tablename__ = "attachments"

    hazard_id: Mapped[str | None] = mapped_column(ForeignKey("hazards.id"), index=True)
    phase: Mapped[str | None] = mapped_column(String(16))
    # Or bound to an accountability record (the letter, the notice): never to both.
    accountability_id: Mapped[str | None] = mapped_column(
        ForeignKey("accountability_records.id"), index=True
    )
    # Or to an inspection (photos of its checklist results).
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    # Or to a task's progress report (its evidence): read as the report is.
    task_report_id: Mapped[str | None] = mapped_column(ForeignKey("task_reports.id"), index=True)
    # Or to a public report (the reporter's photos): read by whoever handles the report.
    public_report_id: Mapped[str | None] = mapped_column(
        ForeignKey("public_reports.id"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(48), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reminder(IdMixin, Base):
    """A notice about a hazard to one recipient: the enterprise (``org_unit_id`` null) or a unit
    responsible for it (its town, its enforcement department, the unit supervising it).

    ``kind`` is ``deadline_warning`` (预警, before the deadline) or ``overdue`` (逾期). One row
    per hazard, kind, deadline, day and recipient (``recipient_id``: the org unit's id, or the
    enterprise's for its own notice): the unique key that a rerun or a second process meets, so
    each is written once. For a warning the day and the deadline fix the offset (7, 3, 1, 0 days
    before). ``message`` is the Chinese text as written; ``data`` what the template of its kind
    needs to write it again in English (app/services/messages.py)."""

    __tablename__ = "reminders"

    hazard_id: Mapped[str] = mapped_column(ForeignKey("hazards.id"), index=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    recipient_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))
    on_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "hazard_id",
            "kind",
            "deadline",
            "on_date",
            "recipient_id",
            name="uq_reminders_hazard_kind_deadline_day_recipient",
        ),
        Index("ix_reminders_created_at_id", "created_at", "id"),
    )


class HazardRollup(Base):
    """Maintained counts of hazards for the statistics (services/hazards/rollup.py writes it).

    One row per combination of what the caller's scope and the served filters need; ``deadline``
    is the deadline day for open hazards (``NOT_OPEN`` otherwise), so ``overdue`` is a range sum
    at query time and is never stored. Every column is part of the key, so an upsert adds to one
    row atomically.
    """

    __tablename__ = "hazard_rollup"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    town_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    sector: Mapped[str] = mapped_column(String(40), primary_key=True)
    department_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    found_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    source: Mapped[str] = mapped_column(String(24), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    escalation: Mapped[str] = mapped_column(String(16), primary_key=True)
    supervised: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    deadline: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
