"""who an inspection lists, by user; an inspection's findings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Experts see only the inspections they are assigned to, and an inspector sees a visit it is
listed on even outside its own scope (交叉/异地执法): both read "the inspections of this user",
which a JSON array of user ids cannot answer through an index. `inspections.findings` keeps
each finding's checklist item and whether it was an already-known hazard linked (依法不予处罚).
No backfill: 0015's inspections
table is empty on every database (inspections are created from this release on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspection_assignees",
        sa.Column("inspection_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("inspection_id", "user_id"),
    )
    op.create_index(
        "ix_inspection_assignees_user_id", "inspection_assignees", ["user_id", "inspection_id"]
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("findings", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("findings")
    op.drop_index("ix_inspection_assignees_user_id", table_name="inspection_assignees")
    op.drop_table("inspection_assignees")
