"""accountability records (问责) and attachments bound to them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

A new table, empty at first: no record exists before this revision, so there is nothing to
backfill. ``attachments.accountability_id`` is added nullable; every existing attachment keeps
``NULL`` there (bound to its hazard, or still unbound), which is what it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accountability_records",
        sa.Column("target_org_unit_id", sa.String(length=36), nullable=True),
        sa.Column("target_enterprise_id", sa.String(length=36), nullable=True),
        sa.Column("rung", sa.String(length=16), nullable=False),
        sa.Column("ladder_year", sa.Integer(), nullable=False),
        sa.Column("ladder_seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("hazards", sa.JSON(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by_kind", sa.String(length=8), nullable=False),
        sa.Column("decided_by_id", sa.String(length=36), nullable=False),
        sa.Column("decided_by_name", sa.String(length=100), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "(target_org_unit_id IS NULL) <> (target_enterprise_id IS NULL)",
            name=op.f("ck_accountability_records_exactly_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["target_enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_accountability_records_target_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["target_org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_accountability_records_target_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accountability_records")),
        sa.UniqueConstraint(
            "target_enterprise_id",
            "ladder_year",
            "ladder_seq",
            name="uq_accountability_records_enterprise_ladder",
        ),
        sa.UniqueConstraint(
            "target_org_unit_id",
            "ladder_year",
            "ladder_seq",
            name="uq_accountability_records_org_unit_ladder",
        ),
    )
    with op.batch_alter_table("accountability_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accountability_records_decided_at_id", ["decided_at", "id"], unique=False
        )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accountability_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_attachments_accountability_id"), ["accountability_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_accountability_id_accountability_records"),
            "accountability_records",
            ["accountability_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_attachments_accountability_id_accountability_records"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_attachments_accountability_id"))
        batch_op.drop_column("accountability_id")
    with op.batch_alter_table("accountability_records", schema=None) as batch_op:
        batch_op.drop_index("ix_accountability_records_decided_at_id")
    op.drop_table("accountability_records")
