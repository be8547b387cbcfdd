from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import RequestModel
from app.services.catalog_data import SECTOR_CODES

OrgUnitKind = Literal["county", "town", "bureau"]
SectorCode = Literal[tuple(sorted(SECTOR_CODES))]  # type: ignore[valid-type]


class OrgUnitCreate(RequestModel):
    kind: Literal["town", "bureau"]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    parent_id: str | None = Field(default=None, description="Defaults to the caller's county")
    region_code: Annotated[str | None, Field(pattern=r"^\d{9}$", description="Towns: 9 digits")] = (
        None
    )
    sectors: Annotated[list[SectorCode], Field(max_length=40)] = Field(default_factory=list)  # type: ignore[valid-type]


class OrgUnitUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] = None  # may be omitted, never null
    sectors: Annotated[list[SectorCode], Field(max_length=40)] | None = None  # type: ignore[valid-type]


class OrgUnitOut(BaseModel):
    id: str
    kind: OrgUnitKind
    name: str
    parent_id: str | None
    region_code: str | None
    sectors: list[str]
    created_at: datetime
    updated_at: datetime


class OrgUnitPage(BaseModel):
    items: list[OrgUnitOut]
    next_cursor: str | None
    total: int | None = None
