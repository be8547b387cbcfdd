"""public disclosure: a hazard's public description, the index of the public list, rate limits

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

``hazards.supervision_public_description`` is what the public list of disclosed major hazards
shows (``GET /api/v1/public/major-hazards``); existing rows keep it empty, which the list reads
as "show the title", so the backfill is NULL for every row: nothing was ever written for the
public before, and a title copied now would go stale if the text is later set. The index
``(supervision_listed_at, id)`` serves that list, newest listing first. ``rate_limits`` starts
empty (counters of the current minute).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key", name=op.f("pk_rate_limits")),
    )
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_limits_window_end"), ["window_end"])
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supervision_public_description", sa.Text(), nullable=True))
        batch_op.create_index(
            "ix_hazards_supervision_listed_at_id", ["supervision_listed_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_index("ix_hazards_supervision_listed_at_id")
        batch_op.drop_column("supervision_public_description")
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limits_window_end"))
    op.drop_table("rate_limits")
