"""The one queue for scheduled and background work (app/services/job_queue.py runs it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime, utcnow


class Job(IdMixin, Base):
    """One unit of work: queued → running → succeeded, or back to queued with a later
    ``run_at`` after a failure, until ``max_attempts`` makes it ``dead``.

    ``locked_by``/``locked_until`` are the lease of the worker running it: a job still
    ``running`` after its lease is taken again by another worker (its first runner crashed).
    ``attempts`` grows with every claim and fences a runner that lost its lease: it may only
    finish the job while ``attempts`` is still the value it claimed. ``dedupe_key`` is unique,
    so a scheduled job (``overdue:2026-12-02``) is enqueued once however many schedulers tick.
    """

    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        # The worker's question: what is due (queued, run_at passed) or whose lease ran out.
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_run_at_id", "run_at", "id"),
    )
