"""Webhook subscriptions and their delivery log (issue 17; app/services/webhooks/ runs them).

A subscription follows the change feed from its own cursor (``cursor_xid``/``cursor_seq``):
the change rows are the outbox, written in the transaction of each change, so a delivery exists
for every committed change and for nothing else. The delivery worker sends the subscription's
next change, and moves the cursor past it only once the receiver answered 2xx (or the change
is not the owner's to see). ``retry_at`` holds it back after a failure; ``failing_since`` is
the first failure of the current streak (24 h of it disables the subscription).
``dispatch_job_id`` names the subscription's delivery job while one exists (queued, running or
waiting for its retry): it is set by a conditional update, so there is one job, and one attempt,
at a time per subscription, whatever the number of instances.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_subscriptions"

    # Whose scope and permissions the deliveries are rendered with: a machine client or a user
    # (an administrator), resolved at each delivery as it is then (deactivated, or without
    # webhooks:manage or changes:read, the subscription is disabled).
    owner_kind: Mapped[str] = mapped_column(String(8))
    owner_id: Mapped[str] = mapped_column(String(36), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    url: Mapped[str] = mapped_column(String(2000))
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(40))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The signing secret, sealed at rest (app/core/sealing.py), and the one it replaced while
    # its overlap window lasts: deliveries carry a signature by each.
    secret_key_id: Mapped[str] = mapped_column(String(16))
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_key_id: Mapped[str | None] = mapped_column(String(16))
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cursor_xid: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="of the change at the cursor")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatch_job_id: Mapped[str | None] = mapped_column(String(36))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class WebhookDelivery(IdMixin, Base):
    """One attempt to deliver one change to one subscription: the log the owner reads."""

    __tablename__ = "webhook_deliveries"

    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    message_id: Mapped[str] = mapped_column(String(80), doc="the webhook-id header")
    cursor: Mapped[str] = mapped_column(String(41))
    type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempt: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(12), doc="succeeded | failed")
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at", "id"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )
