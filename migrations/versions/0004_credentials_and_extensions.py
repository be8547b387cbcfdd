"""credential versions, client secret rotation, sign-in throttle counters, enterprise extensions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Existing rows are backfilled: every user and client starts at credential version 1 (tokens
issued before this revision carry no `cv` and are refused, so everyone signs in once more);
`hazards.enterprise_extensions` counts the `extend` events already taken by enterprise users.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("pending_earlier", sa.Integer(), nullable=False),
        sa.Column("pending_since", UTCDateTime(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttles_window_start"), ["window_start"], unique=False
        )
    # The per-username failure rows are superseded by the counters; they only ever held the
    # last 15 minutes, so a sign-in throttle starts afresh on upgrade.
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_username_at")
    op.drop_table("login_failures")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credential_version", sa.Integer(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credential_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("previous_secret_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enterprise_extensions", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        """
        UPDATE hazards SET enterprise_extensions = (
            SELECT count(*) FROM hazard_events e
            WHERE e.hazard_id = hazards.id AND e.action = 'extend'
              AND e.actor_id IN (SELECT u.id FROM users u WHERE u.enterprise_id IS NOT NULL)
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_window_start"))
    op.drop_table("login_throttles")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_username_at", ["username", "at"], unique=False)
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_column("enterprise_extensions")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret_hash")
        batch_op.drop_column("credential_version")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("credential_version")
