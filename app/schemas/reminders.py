from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import NamedRef, ResponseModel

# What the daily job reminds of (app/services/reminders.py writes them).
ReminderKind = Literal["deadline_warning", "overdue"]
RecipientKind = Literal["enterprise", "org_unit"]


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
    recipient_kind: RecipientKind = Field(
        description="Who was reminded: the enterprise itself, or the org unit in `org_unit`"
    )
    org_unit_id: str | None
    org_unit: NamedRef | None = Field(
        description="The unit reminded (the town, the enforcement department, the supervising "
        "unit); null for the enterprise's own reminder"
    )
    kind: ReminderKind = Field(
        description="`deadline_warning` (预警, before the deadline) or `overdue` (逾期)"
    )
    on_date: date = Field(description="The local day it was written for")
    deadline: date = Field(
        description="The deadline it was about (a later extension moves the "
        "hazard's deadline, not this)"
    )
    days_before: int | None = Field(
        description="`deadline_warning`: days left before the deadline (0: on the day); "
        "null for `overdue`"
    )
    message: str = Field(description="Chinese, or English under `Accept-Language: en`")
    created_at: datetime


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
