"""principal changes: the feed that ends cached callers on every worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Starts empty: no worker holds a cached caller across the upgrade (caches live in memory).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principal_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principal_changes")),
    )
    with op.batch_alter_table("principal_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_principal_changes_changed_at"), ["changed_at"])


def downgrade() -> None:
    with op.batch_alter_table("principal_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_principal_changes_changed_at"))
    op.drop_table("principal_changes")
