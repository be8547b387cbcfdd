"""an index for hazards closed in a period

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

`closed_at_from`/`closed_at_to` on the hazard list and the statistics ("rectified in the
period" of the dispatch figures) select by `closed_at`; the statistics answer those from the
hazards (the rollup keeps no closed date). Existing rows need no backfill: the index covers
them as it is built.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.create_index("ix_hazards_closed_at", ["closed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_index("ix_hazards_closed_at")
