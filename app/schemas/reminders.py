from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import NamedRef, ResponseModel

# What the jobs remind of (app/services/jobs.py writes them): so far only overdue hazards.
ReminderKind = Literal["overdue"]


class HazardRef(ResponseModel):
    """A reference to a hazard with what a reminder screen shows."""

    id: str
    number: str
    title: str


class ReminderOut(ResponseModel):
    id: str
    hazard_id: str
    hazard: HazardRef
    enterprise_id: str
    enterprise: NamedRef
    org_unit_id: str | None
    org_unit: NamedRef | None = Field(
        description="The enforcement department reminded; null for the enterprise's own reminder"
    )
    # One value so far: pydantic would say `const` alone; `enum` too, for generators that read it.
    kind: ReminderKind = Field(json_schema_extra={"enum": list(ReminderKind.__args__)})  # type: ignore[attr-defined]
    on_date: date
    message: str = Field(description="Chinese, or English under `Accept-Language: en`")
    created_at: datetime


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
