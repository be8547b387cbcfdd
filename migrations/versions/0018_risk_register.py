"""the risk register: risk points and their history; the coordinate system of locations; the
risk point a hazard names

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Backfill: every enterprise location recorded so far was given in WGS-84 (the API named no other
system), so enterprises with a location get `coordinate_system = 'wgs84'`; those without keep
null. No hazard named a risk point before (the column starts null); no risk point existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_points",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location_text", sa.String(length=300), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("coordinate_system", sa.String(length=8), nullable=True),
        sa.Column("hazard_factors", sa.JSON(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("control_level", sa.String(length=16), nullable=False),
        sa.Column("responsible_person", sa.String(length=100), nullable=True),
        sa.Column("responsible_post", sa.String(length=100), nullable=True),
        sa.Column("control_measures", sa.JSON(), nullable=False),
        sa.Column("emergency_measures", sa.JSON(), nullable=False),
        sa.Column("accident_types", sa.JSON(), nullable=False),
        sa.Column("reviewed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("follow_up", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("follow_up_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_risk_points_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_points")),
    )
    op.create_index(op.f("ix_risk_points_enterprise_id"), "risk_points", ["enterprise_id"])
    op.create_index("ix_risk_points_enterprise_id_level", "risk_points", ["enterprise_id", "level"])
    op.create_index("ix_risk_points_updated_at_id", "risk_points", ["updated_at", "id"])
    op.create_table(
        "risk_point_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("risk_point_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor_kind", sa.String(length=8), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_point_id"],
            ["risk_points.id"],
            name=op.f("fk_risk_point_events_risk_point_id_risk_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_point_events")),
    )
    op.create_index(
        op.f("ix_risk_point_events_risk_point_id"), "risk_point_events", ["risk_point_id"]
    )
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coordinate_system", sa.String(length=8), nullable=True))
    op.execute(
        "UPDATE enterprises SET coordinate_system = 'wgs84' "
        "WHERE lat IS NOT NULL AND lng IS NOT NULL"
    )
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_point_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_hazards_risk_point_id"), ["risk_point_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_hazards_risk_point_id_risk_points"),
            "risk_points",
            ["risk_point_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_hazards_risk_point_id_risk_points"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_hazards_risk_point_id"))
        batch_op.drop_column("risk_point_id")
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_column("coordinate_system")
    op.drop_index(op.f("ix_risk_point_events_risk_point_id"), table_name="risk_point_events")
    op.drop_table("risk_point_events")
    op.drop_index("ix_risk_points_updated_at_id", table_name="risk_points")
    op.drop_index("ix_risk_points_enterprise_id_level", table_name="risk_points")
    op.drop_index(op.f("ix_risk_points_enterprise_id"), table_name="risk_points")
    op.drop_table("risk_points")
