"""Checklists (检查表): named, versioned lists of check items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import NON_BLANK, RequestModel, ResponseModel
from app.schemas.hazards import JudgmentStandard
from app.schemas.org_units import SectorCode

ItemCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The item's code, unique within the checklist (results cite it)",
    ),
]
ChecklistCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="The checklist's code, the same for all its versions (lower case, digits, "
        "`.`, `_`, `-`)",
    ),
]
Name = Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)]


class ChecklistItem(RequestModel):
    """One check item. `major_if_failed`: a finding of it is a major hazard (重大事故隐患), so it
    names the judgment standard and clause (GET /api/v1/catalogs/judgment-standards/{code});
    the citation 第十一条第（三）项 is accepted and stored as the code 11.3."""

    code: ItemCode
    text: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=500)]
    basis: Annotated[
        str,
        Field(
            min_length=1,
            pattern=NON_BLANK,
            max_length=300,
            description="The standard and clause the item comes from, as cited (依据)",
        ),
    ]
    sector: SectorCode | None = None  # type: ignore[valid-type]
    major_if_failed: bool = False
    judgment_standard: JudgmentStandard | None = None
    judgment_clause: (
        Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] | None
    ) = None


class ChecklistItemOut(ResponseModel):
    code: str
    text: str
    basis: str
    sector: SectorCode | None  # type: ignore[valid-type]
    major_if_failed: bool
    judgment_standard: JudgmentStandard | None
    judgment_clause: str | None = Field(description="The clause code, e.g. 11.3")


Items = Annotated[list[ChecklistItem], Field(min_length=1, max_length=300)]


class ChecklistCreate(RequestModel):
    code: ChecklistCode
    name: Name
    name_en: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)] | None = None
    sector: SectorCode | None = None  # type: ignore[valid-type]
    items: Items


class ChecklistUpdate(RequestModel):
    name: Name = None  # may be omitted, never null
    name_en: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=200)] | None = None
    items: Items = None  # may be omitted, never null


class ChecklistFields(ResponseModel):
    id: str
    code: str
    version_no: int = Field(description="1 for the first version, then 2, 3 … (same code)")
    name: str = Field(description="English under `Accept-Language: en` when it has one")
    name_zh: str
    name_en: str | None
    sector: SectorCode | None  # type: ignore[valid-type]
    county_code: str | None = Field(description="Null for a starter checklist (every county)")
    starter: bool = Field(description="Shipped with the platform: read-only for everyone")
    risk_point_id: str | None = Field(
        description="Generated from this risk point's control measures (read-only; "
        "GET /api/v1/risk-points/{risk_point_id}/checklist)"
    )
    locked: bool = Field(
        description="Used by a signed inspection: it never changes, a PATCH makes the next version"
    )
    is_current: bool = Field(description="The newest version of its code")
    item_count: int
    created_at: datetime
    updated_at: datetime


class ChecklistSummary(ChecklistFields):
    """A checklist in the list (its items: GET /api/v1/checklists/{checklist_id})."""


class ChecklistOut(ChecklistFields):
    items: list[ChecklistItemOut]


class ChecklistPage(BaseModel):
    items: list[ChecklistSummary]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
