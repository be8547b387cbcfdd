"""The risk register (安全风险分级管控): an enterprise's risk points, their assessments, measures and
history. Rules live in services/risks/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, EventMixin, IdMixin, TimestampMixin, UTCDateTime


class RiskPoint(IdMixin, TimestampMixin, Base):
    """A 风险点 (a place, a piece of equipment or an operation) of an enterprise.

    ``assessment``: ``{method, inputs, score, level}`` as computed (services/risks/assessment);
    ``level`` is its level, never set on its own. ``control_measures``: ``[{kind, text}]`` (the
    措施清单); ``emergency_measures``: lines of the 应急处置措施清单; ``hazard_factors`` and
    ``accident_types``: catalogue codes (GB/T 13861, GB 6441)."""

    __tablename__ = "risk_points"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    location_text: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    coordinate_system: Mapped[str | None] = mapped_column(String(8))
    hazard_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    assessment: Mapped[dict[str, object]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(8))
    control_level: Mapped[str] = mapped_column(String(16))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    responsible_post: Mapped[str | None] = mapped_column(String(100))
    control_measures: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    emergency_measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    accident_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    # 跟踪督促: government in scope marked it for follow-up (who and why in the events).
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_risk_points_enterprise_id_level", "enterprise_id", "level"),
        Index("ix_risk_points_updated_at_id", "updated_at", "id"),
    )


class RiskPointEvent(IdMixin, EventMixin, Base):
    """One row per change of a risk point (created, edited, reassessed, flagged …), written in
    the same transaction (app/services/lifecycle.py: event_fields)."""

    __tablename__ = "risk_point_events"

    risk_point_id: Mapped[str] = mapped_column(ForeignKey("risk_points.id"), index=True)
