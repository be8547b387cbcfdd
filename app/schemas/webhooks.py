"""Webhook subscriptions and their delivery log (issue 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool

from app.schemas.changes import ChangeOp, ChangeType
from app.schemas.common import RequestModel, ResponseModel

WebhookTypes = Annotated[
    list[ChangeType],
    Field(min_length=1, max_length=5, description="The change types to deliver (no repeats)"),
]
Url = Annotated[
    str,
    Field(
        min_length=8,
        max_length=2000,
        description="Where deliveries are POSTed: `https://` (http only in development), no "
        "credentials, never a private, loopback or link-local address unless "
        "ANJIAN_WEBHOOK_ALLOWED_HOSTS names it",
        examples=["https://exchange.example.gov.cn/anjian/webhooks"],
    ),
]
Description = Annotated[str, Field(max_length=500)]
DisabledReason = Literal["failing", "owner_unavailable", "cursor_expired", "secret_unavailable"]
OwnerKind = Literal["user", "client"]


class WebhookCreate(RequestModel):
    url: Url
    types: WebhookTypes | None = Field(default=None, description="Default: every type you may read")
    description: Description = ""
    enabled: StrictBool = True


class WebhookUpdate(RequestModel):
    url: Url = None  # may be omitted, never null
    types: WebhookTypes = None  # may be omitted, never null
    description: Description = None  # may be omitted, never null
    enabled: StrictBool = Field(
        default=None,
        description="`true` re-enables a disabled subscription: it resumes from where it "
        "stopped (the change it could not deliver), its failure streak forgotten",
    )


class SecretRotation(RequestModel):
    overlap_seconds: Annotated[int, Field(ge=0, le=30 * 24 * 3600)] | None = Field(
        default=None,
        description="How long the previous secret also signs deliveries (default "
        "ANJIAN_WEBHOOK_SECRET_OVERLAP_SECONDS, 86400; 0: from now on only the new one)",
    )


class WebhookOwner(ResponseModel):
    kind: OwnerKind
    id: str
    name: str | None = Field(description="The client's or the user's name")


class WebhookOut(ResponseModel):
    id: str
    url: str
    types: list[ChangeType]
    description: str
    enabled: bool
    disabled_reason: DisabledReason | None = Field(
        description="Why it was disabled by the service: `failing` (no delivery succeeded for "
        "ANJIAN_WEBHOOK_DISABLE_AFTER_SECONDS), `owner_unavailable` (its owner was "
        "deactivated, lost a permission or changed credentials), `cursor_expired` (the changes "
        "it had not delivered were deleted by retention), `secret_unavailable`; null when "
        "enabled or disabled by a person"
    )
    disabled_at: datetime | None
    owner: WebhookOwner = Field(description="Deliveries are rendered with its scope")
    cursor: str = Field(description="The feed position delivered up to (the change feed's cursor)")
    attempts: int = Field(description="Failed attempts at the change after `cursor`")
    retry_at: datetime | None = Field(description="When the next attempt is due after a failure")
    failing_since: datetime | None
    last_success_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret also signs deliveries"
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`), **shown once**: verify `webhook-signature` "
        "with it (Standard Webhooks)"
    )


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None
    total: int | None = None


class DeliveryOut(ResponseModel):
    id: str
    message_id: str = Field(description="The `webhook-id` header: the same for every attempt")
    cursor: str = Field(description="The change's feed cursor")
    type: ChangeType
    object_id: str
    op: ChangeOp
    attempt: int = Field(description="1 for the first attempt at this change, 2 for its retry …")
    manual: bool = Field(description="A redelivery asked for by a person or client")
    outcome: Literal["succeeded", "failed"]
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer")
    latency_ms: int | None
    error: str | None = Field(description="Why it failed (timeout, refused address …)")
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
    total: int | None = None


class RedeliveryOut(ResponseModel):
    job_id: str = Field(
        description="The background job that sends it (`GET /api/v1/jobs` for admins)"
    )
    message_id: str
    status: Literal["queued"]
