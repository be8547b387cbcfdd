from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import ResponseModel

# Every kind a handler is registered for (app/services/jobs.py; later imports, exports, webhook
# deliveries add theirs here with their handler).
JobKind = Literal["overdue", "housekeeping", "import", "export"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "dead"]
JobData = dict[str, str | int | float | bool | list[str] | None]


class JobOut(ResponseModel):
    id: str
    kind: JobKind
    status: JobStatus = Field(
        description="queued; running (leased to a worker); succeeded; failed (retried at "
        "`run_at`); dead (no attempt left)"
    )
    payload: JobData = Field(description="What the job is about, per kind")
    run_at: datetime = Field(description="When it is due (after a failure: its retry)")
    attempts: int = Field(description="Claims so far, including a running one")
    max_attempts: int
    last_error: str | None = Field(description="The last failure's error, for diagnosis")
    locked_by: str | None = Field(description="The worker running it (host:pid:id)")
    locked_until: datetime | None = Field(
        description="The running worker's lease; another takes the job after it"
    )
    dedupe_key: str | None = Field(
        description="Unique key of a scheduled job, e.g. `overdue:2026-12-02`"
    )
    created_at: datetime
    started_at: datetime | None = Field(description="When the last attempt was claimed")
    finished_at: datetime | None
    result: JobData | None = Field(description="What a succeeded job reported, per kind")


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
