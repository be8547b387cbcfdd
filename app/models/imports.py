"""Bulk imports (批量导入) and the ids other systems give our records. Rules live in
services/imports/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime


class ImportJob(IdMixin, Base):
    """One uploaded file and what importing it did: ``queued → running → succeeded | failed |
    cancelled``. The work runs on the jobs mechanism (``job_id``) in one transaction, and this
    row's outcome is written in that same transaction, so ``succeeded`` means the rows are in.
    ``errors``: ``[{row, column, value, code, message_zh, message_en}]`` (at most
    ``ERRORS_KEPT``; ``failed`` counts them all)."""

    __tablename__ = "imports"

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(16), default="all_or_nothing")
    credit_code_check: Mapped[str] = mapped_column(String(8), default="error")
    external_system: Mapped[str | None] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    created_by_kind: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[str] = mapped_column(String(36), index=True)
    created_by_cv: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(36))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    file_error: Mapped[dict[str, object] | None] = mapped_column(JSON)
    encoding: Mapped[str | None] = mapped_column(String(16))
    header_row: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExternalId(IdMixin, Base):
    """An id another system gives one of our records (``external_ids: {"system": "id"}``):
    unique per system and kind of record, so an import or an upsert by external id finds the
    record again instead of writing a duplicate."""

    __tablename__ = "external_ids"

    object_type: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("object_type", "system", "external_id"),
        UniqueConstraint("object_type", "object_id", "system", name="uq_external_ids_object"),
    )
