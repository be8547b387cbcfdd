"""Export jobs (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import ResponseModel

ExportFormat = Literal["json", "csv", "xlsx"]
ExportLang = Literal["zh", "en"]
ExportList = Literal["enterprises", "hazards", "inspections", "tasks", "reports", "users"]
ExportStatus = Literal["queued", "succeeded", "failed"]


class ExportJobOut(ResponseModel):
    """An export too large to answer at once, built in the background (后台导出)."""

    id: str
    list: ExportList
    format: Literal["csv", "xlsx"]
    lang: ExportLang
    status: ExportStatus = Field(
        description="`queued` until the worker has built the file; `failed` when it could not "
        "(the caller was deactivated or its role changed, or the job ran out of attempts)"
    )
    rows: int | None = Field(description="Rows in the file, once built")
    file_name: str
    download_url: str | None = Field(
        description="`GET` it with the bearer token once `status` is `succeeded`; null before"
    )
    error: str | None
    created_at: datetime
    finished_at: datetime | None
