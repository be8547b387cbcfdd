from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel
from app.services.catalog_data import SECTOR_CODES

OrgUnitKind = Literal["county", "town", "bureau"]
SectorCode = Literal[tuple(sorted(SECTOR_CODES))]  # type: ignore[valid-type]
NameEn = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=NON_BLANK,
        description="English name, shown under `Accept-Language: en` (else the Chinese name)",
    ),
]


class OrgUnitCreate(RequestModel):
    kind: Literal["town", "bureau"]
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
    name_en: NameEn | None = None
    parent_id: str | None = Field(default=None, description="Defaults to the caller's county")
    region_code: Annotated[str | None, Field(pattern=r"^\d{9}$", description="Towns: 9 digits")] = (
        None
    )
    sectors: Annotated[list[SectorCode], Field(max_length=40)] = Field(default_factory=list)  # type: ignore[valid-type]


class OrgUnitUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] = (
        None  # may be omitted, never null
    )
    name_en: NameEn | None = Field(default=None, description="null clears it")
    sectors: Annotated[list[SectorCode], Field(max_length=40)] | None = None  # type: ignore[valid-type]


class OrgUnitOut(ResponseModel):
    id: str
    kind: OrgUnitKind
    name: str = Field(description="The Chinese name")
    name_en: str | None = Field(description="The English name, when set")
    parent_id: str | None
    parent: NamedRef | None = Field(description="The county a town or bureau belongs to")
    region_code: str | None
    sectors: list[SectorCode]  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime


class OrgUnitPage(BaseModel):
    items: list[OrgUnitOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
