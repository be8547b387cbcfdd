"""Export jobs (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import ResponseModel

ExportFormat = Literal["json", "csv", "xlsx"]
ExportLang = Literal["zh", "en"]
ExportList = Literal["enterprises", "hazards", "inspections", "tasks", "reports", "users"]
ExportStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]


class ExportJobOut(ResponseModel):
    """An export too large to answer at once, built in the background (后台导出)."""

    id: str
    list: ExportList
    format: Literal["csv", "xlsx"]
    lang: ExportLang
    status: ExportStatus = Field(
        description="`queued` until a worker takes it, `running` while it builds the file, "
        "`succeeded` once built; `failed` when it could not be (the caller was deactivated or "
        "its role changed, or the job ran out of attempts); `cancelled` (`POST …/cancel`); "
        "`expired` once the file was deleted after `ANJIAN_EXPORT_RETENTION_HOURS` (72)"
    )
    rows: int | None = Field(description="Rows in the file, once built")
    file_name: str
    download_url: str | None = Field(
        description="`GET` it with the bearer token once `status` is `succeeded`; null before"
    )
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = Field(
        description="When the built file will be deleted (`succeeded` only); download it before"
    )
