"""The change feed (issue 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas.common import ResponseModel

ChangeType = Literal["enterprise", "hazard", "inspection", "report", "task"]
ChangeOp = Literal["upsert", "delete"]


class ChangeOut(ResponseModel):
    cursor: str = Field(description="This change's position: `after=` it to read on from here")
    type: ChangeType
    id: str
    op: ChangeOp = Field(
        description="`upsert`: `data` is the object now, as its detail endpoint gives it to you; "
        "`delete`: it is gone, or no longer in your scope (drop it; `data` is null)"
    )
    changed_at: datetime
    data: dict[str, Any] | None = Field(
        description="The current representation (`GET /api/v1/enterprises/{id}`, "
        "`/hazards/{id}`, `/inspections/{id}`, `/reports/{id}` or `/tasks/{id}`, never a reporter's identity) for "
        "an `upsert`; null for a `delete`"
    )


class ChangePage(ResponseModel):
    items: list[ChangeOut]
    next_cursor: str = Field(
        description="Always present: pass it as `after` next time (the same cursor when nothing "
        "is new)"
    )


class ChangeHead(ResponseModel):
    cursor: str = Field(
        description="The newest committed change now: after a full load from the lists, read the "
        "feed with `after=` this"
    )
