"""sliding sign-in throttle: each counter keeps the failures of the previous aligned window too

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

``login_throttles.failures_previous`` starts at 0 on every existing row: the previous window's
failures were never kept, so an upgrade forgets them once (as a fixed window forgot them at
every boundary). Downgrading drops the column; the fixed window counts ``failures`` alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failures_previous", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_column("failures_previous")
