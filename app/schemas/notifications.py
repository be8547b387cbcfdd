from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from app.schemas.common import ResponseModel

# Every kind ``notify`` is called with (app/services/notifications.py; each has its template in
# app/services/messages.py). Later issues add theirs (task lists, reports, inspections).
NotificationKind = Literal[
    "hazard_deadline_warning",
    "hazard_overdue",
    "task_list_issued",
    "task_assigned",
    "task_overdue",
    "task_report_returned",
    "hazard_supervised",
    "inspection_to_sign",
    "webhook_disabled",
]
# What a notification's link points at.
NotificationObjectType = Literal[
    "hazard", "task_list", "task", "task_report", "inspection", "webhook"
]
# `enum` spelled out for generators that read it.
_ObjectType = Annotated[
    NotificationObjectType,
    WithJsonSchema({"type": "string", "enum": list(NotificationObjectType.__args__)}),  # type: ignore[attr-defined]
]


class NotificationOut(ResponseModel):
    id: str
    kind: NotificationKind = Field(
        description="`hazard_deadline_warning` (预警, days before the deadline), "
        "`hazard_overdue` (逾期), `task_list_issued` (清单下达, to each assignee), "
        "`task_assigned` (a sub-task split down to its assignees), `task_overdue` (a part past "
        "its deadline, once per task, by the daily run), `task_report_returned` (退回, to the "
        "assignee's users), `hazard_supervised` (挂牌督办, to the enterprise, its town and its "
        "enforcement department), `inspection_to_sign` (a completed inspection record, to each "
        "listed inspector still to sign it), `webhook_disabled` (a webhook subscription the "
        "service disabled, to its owner or, for a client's, the county's administrators); the "
        "catalogue's "
        "`notification_kinds` label them"
    )
    title: str = Field(description="Chinese, or English under `Accept-Language: en`")
    body: str = Field(description="Chinese, or English under `Accept-Language: en`")
    link: str | None = Field(
        description="The API path of the object it is about, e.g. `/api/v1/hazards/{id}`"
    )
    object_type: _ObjectType | None = Field(
        description="The kind of object `link` and `object_id` point at"
    )
    object_id: str | None
    read_at: datetime | None = Field(description="When the user first read it; null: unread")
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


class NotificationsRead(ResponseModel):
    marked_read: int = Field(description="How many unread notifications this call marked read")
