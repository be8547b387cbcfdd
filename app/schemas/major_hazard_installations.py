"""Major hazard installations (重大危险源, GB 18218) of an enterprise."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import NON_BLANK, RequestModel, ResponseModel
from app.schemas.enterprises import InstallationGrade

InstallationName = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]
Substance = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
Substances = Annotated[
    list[Substance],
    Field(max_length=50, description="The hazardous substances held (e.g. 液氯, 液氨)"),
]


class InstallationCreate(RequestModel):
    name: InstallationName
    grade: InstallationGrade
    substances: Substances = []


class InstallationUpdate(RequestModel):
    name: InstallationName = None  # may be omitted, never null
    grade: InstallationGrade = None  # may be omitted, never null
    substances: Substances = None  # may be omitted, never null


class InstallationOut(ResponseModel):
    id: str
    enterprise_id: str
    name: str
    grade: InstallationGrade
    substances: list[str]
    created_at: datetime
    updated_at: datetime


class InstallationPage(BaseModel):
    items: list[InstallationOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
