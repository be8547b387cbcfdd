"""indexes for region prefix matches and major-hazard lists

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

The region-code index is rebuilt with varchar_pattern_ops on PostgreSQL so `LIKE '341302%'`
uses it under any collation (bench/hazards.py found the default C.UTF-8 collation could not).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprises_region_code")
        batch_op.create_index(
            "ix_enterprises_region_code",
            ["region_code"],
            unique=False,
            postgresql_ops={"region_code": "varchar_pattern_ops"},
        )
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hazards_level_found_at_id", ["level", "found_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_index("ix_hazards_level_found_at_id")
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprises_region_code")
        batch_op.create_index("ix_enterprises_region_code", ["region_code"], unique=False)
