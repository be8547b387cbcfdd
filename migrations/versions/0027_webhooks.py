"""Webhooks (issue 17): ``webhook_subscriptions`` (each with its own cursor on the change feed)
and ``webhook_deliveries`` (the log of every attempt).

Backfill: no subscription exists before this revision, so there are no rows to carry over. The
demo province client (``demo_province``) is granted ``webhooks:manage``, as a new demo
county's client is.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

T = app.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("owner_kind", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("types", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=40), nullable=True),
        sa.Column("disabled_at", T(timezone=True), nullable=True),
        sa.Column("secret_key_id", sa.String(length=16), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("previous_secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("previous_secret_sealed", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", T(timezone=True), nullable=True),
        sa.Column("cursor_xid", sa.BigInteger(), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", T(timezone=True), nullable=True),
        sa.Column("failing_since", T(timezone=True), nullable=True),
        sa.Column("dispatch_job_id", sa.String(length=36), nullable=True),
        sa.Column("last_success_at", T(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", T(timezone=True), nullable=False),
        sa.Column("updated_at", T(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_subscriptions_owner_id"), ["owner_id"], unique=False
        )
    op.create_table(
        "webhook_deliveries",
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("cursor", sa.String(length=41), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", T(timezone=True), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", T(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_subscription",
            ["subscription_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_webhook_deliveries_created_at", ["created_at"], unique=False)

    bind = op.get_bind()
    clients = sa.table(
        "api_clients",
        sa.column("id", sa.String()),
        sa.column("client_id", sa.String()),
        sa.column("permissions", sa.JSON()),
    )
    demo = sa.select(clients.c.id, clients.c.permissions).where(
        clients.c.client_id == "demo_province"
    )
    for row in bind.execute(demo).all():
        granted = list(row.permissions or [])
        if "webhooks:manage" not in granted:
            bind.execute(
                clients.update()
                .where(clients.c.id == row.id)
                .values(permissions=sorted([*granted, "webhooks:manage"]))
            )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_created_at")
        batch_op.drop_index("ix_webhook_deliveries_subscription")
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscriptions_owner_id"))
    op.drop_table("webhook_subscriptions")
