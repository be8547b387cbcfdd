from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class ReminderOut(BaseModel):
    id: str
    hazard_id: str
    enterprise_id: str
    org_unit_id: str | None
    kind: str
    on_date: date
    message: str
    created_at: datetime


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    next_cursor: str | None
    total: int | None = None
