"""hazard rollup: maintained counts for the statistics

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Backfilled from the hazards in the same upgrade (the same INSERT … SELECT as
``anjian stats rebuild``, written out here so the migration does not change with the app).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = "('awaiting_acceptance', 'rectifying', 'registered')"


def upgrade() -> None:
    op.create_table(
        "hazard_rollup",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("town_code", sa.String(length=9), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("department_id", sa.String(length=36), nullable=False),
        sa.Column("found_month", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("escalation", sa.String(length=16), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "county_code",
            "town_code",
            "sector",
            "department_id",
            "found_month",
            "level",
            "source",
            "status",
            "escalation",
            "supervised",
            "deadline",
            name=op.f("pk_hazard_rollup"),
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(timezone('Asia/Shanghai', h.found_at), 'YYYY-MM')"
        supervised = "h.supervision_org_unit_id IS NOT NULL"
        not_open = "DATE '9999-12-31'"
    else:
        month = "strftime('%Y-%m', h.found_at, '+8 hours')"
        supervised = "CASE WHEN h.supervision_org_unit_id IS NULL THEN 0 ELSE 1 END"
        not_open = "'9999-12-31'"
    op.execute(
        f"""
        INSERT INTO hazard_rollup (county_code, town_code, sector, department_id, found_month,
            level, source, status, escalation, supervised, deadline, n)
        SELECT county_code, town_code, sector, department_id, found_month, level, source, status,
            escalation, supervised, deadline, count(*)
        FROM (
            SELECT substr(e.region_code, 1, 6) AS county_code,
                substr(e.region_code, 1, 9) AS town_code, e.sector AS sector,
                e.enforcement_department_id AS department_id, {month} AS found_month,
                h.level AS level, h.source AS source, h.status AS status,
                h.escalation AS escalation, {supervised} AS supervised,
                CASE WHEN h.status IN {OPEN} THEN h.deadline ELSE {not_open} END AS deadline
            FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id
        ) AS k
        GROUP BY county_code, town_code, sector, department_id, found_month, level, source,
            status, escalation, supervised, deadline
        """
    )


def downgrade() -> None:
    op.drop_table("hazard_rollup")
