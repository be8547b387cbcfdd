"""Export jobs (issue 16): a list export too large to answer at once, built by the jobs worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow


class ExportJob(IdMixin, Base):
    """The list (``list_name``), its filters and sort as the route read them, the format and
    header language, and who asked: the principal's kind, id and credential version, so the
    job re-runs the list as that caller (a caller whose role changed or who was deactivated
    since gets no file). ``file_key`` names the built file in storage once ``succeeded``."""

    __tablename__ = "export_jobs"

    list_name: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(4))
    english: Mapped[bool] = mapped_column(Boolean, default=False)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sort: Mapped[str | None] = mapped_column(String(40))
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[str] = mapped_column(String(64))
    principal_cv: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(200))
    ascii_file_name: Mapped[str] = mapped_column(String(200))
    file_key: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(36), doc="Its job on the queue")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_export_jobs_principal", "principal_kind", "principal_id"),)
