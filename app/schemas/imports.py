"""Bulk imports (批量导入): the job a client follows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import ResponseModel

ImportKind = Literal["enterprises", "hazards", "users", "org_units", "inspections"]
ImportStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ImportMode = Literal["all_or_nothing", "valid_rows"]
CreditCodeCheck = Literal["error", "warn"]


class ImportRows(ResponseModel):
    total: int = Field(description="Data rows of the file (empty rows are not counted)")
    processed: int
    created: int
    updated: int
    unchanged: int
    failed: int


class ImportRowError(ResponseModel):
    row: int = Field(description="The row number as the spreadsheet shows it")
    column: str | None = Field(description="The column's header as written in the file")
    value: str | None
    code: str
    message_zh: str
    message_en: str


class ImportFileProblem(ResponseModel):
    code: str
    message_zh: str
    message_en: str


class ImportOut(ResponseModel):
    id: str
    kind: ImportKind
    status: ImportStatus
    dry_run: bool
    mode: ImportMode
    credit_code_check: CreditCodeCheck
    filename: str
    size: int
    applied: bool = Field(
        description="Whether the rows were written (false for a dry run, a "
        "failed all-or-nothing run and a cancelled one)"
    )
    rows: ImportRows
    progress: float | None = Field(description="processed / total while running")
    warnings: int
    errors: list[ImportRowError] = Field(description="Per row (at most 5000 kept)")
    file_error: ImportFileProblem | None = Field(
        description="Why the file as a whole could not be imported (encoding, header, size)"
    )
    header_row: int | None
    encoding: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    errors_url: str | None = Field(description="The failed rows as a workbook to fix and re-upload")


class ImportList(ResponseModel):
    items: list[ImportOut]
