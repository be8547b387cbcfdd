"""Public reports (群众举报, 12350): what anyone may send without signing in, and how government
handles it. Rules live in services/public_reports/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, EventMixin, IdMixin, TimestampMixin, UTCDateTime


class PublicReport(IdMixin, TimestampMixin, Base):
    """A report: ``received → assigned → investigating → substantiated | unsubstantiated →
    closed``. The reporter's name and phone are sealed together (``reporter_sealed``, under the
    key ``reporter_key_id``; app/core/sealing.py), never in clear. The tracking code is kept only
    as its SHA-256 (``tracking_hash``): a dump of the table does not let anyone follow a case."""

    __tablename__ = "public_reports"

    number: Mapped[str] = mapped_column(String(16))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    tracking_hash: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    # What the reporter gave, and the town the report was routed to by it (or by the enterprise).
    region_code: Mapped[str | None] = mapped_column(String(12))
    town_code: Mapped[str | None] = mapped_column(String(9), index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    sector: Mapped[str | None] = mapped_column(String(40))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_sealed: Mapped[str | None] = mapped_column(Text)
    reporter_key_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    hazard_id: Mapped[str | None] = mapped_column(ForeignKey("hazards.id"), index=True)
    reward_fen: Mapped[int | None] = mapped_column(BigInteger)
    public_outcome: Mapped[str | None] = mapped_column(Text)
    unsubstantiated_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    substantiated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("county_code", "number"),)


class PublicReportRoute(IdMixin, Base):
    """A unit a report is routed to, and why: ``region`` (the town of the region code given),
    ``enterprise_town`` (the matched enterprise's town), ``sector`` (a bureau of its sector),
    ``department`` (its daily-enforcement department), ``county`` (no town found), ``assigned``
    (by a transition). The units routed to, and the county, see the report."""

    __tablename__ = "public_report_routes"

    report_id: Mapped[str] = mapped_column(ForeignKey("public_reports.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("report_id", "unit_id"),)


class PublicReportEvent(IdMixin, EventMixin, Base):
    """One row per step of a report (received, assign, investigate …), written with it."""

    __tablename__ = "public_report_events"

    report_id: Mapped[str] = mapped_column(ForeignKey("public_reports.id"), index=True)


class ReporterView(IdMixin, Base):
    """Every time a person was shown a reporter's identity: who, from which unit, when, which
    report (written and committed before the identity is sent)."""

    __tablename__ = "reporter_views"

    report_id: Mapped[str] = mapped_column(ForeignKey("public_reports.id"), index=True)
    viewer_id: Mapped[str] = mapped_column(String(36), index=True)
    viewer_name: Mapped[str] = mapped_column(String(100))
    viewer_unit_id: Mapped[str | None] = mapped_column(String(36))
    request_id: Mapped[str | None] = mapped_column(String(64))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicReportCounter(Base):
    """Per county and year, the last report number handed out (``R2026-000123``)."""

    __tablename__ = "public_report_counters"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
