"""inspections and enforcement: checklists, draws, inspections, their events and decisions,
the blacklist and major hazard installations; users' enforcement certificates; hazards' link
to the inspection that found them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

All new tables start empty. The two new columns of existing tables need no backfill: no
user has a certificate recorded yet (`enforcement_cert_no` null; an inspector is entered with
one from now on) and no existing hazard came from a recorded inspection (`inspection_id` null;
their `source` still says how each was found).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklists",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=48), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklists")),
        sa.UniqueConstraint("code", "version_no", name="uq_checklists_code_version_no"),
    )
    op.create_table(
        "inspection_counters",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "year", name=op.f("pk_inspection_counters")),
    )
    op.create_table(
        "draws",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("conducting_unit_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seed", sa.String(length=200), nullable=False),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column("algorithm_version", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("enterprise_pool", sa.JSON(), nullable=False),
        sa.Column("inspector_pool", sa.JSON(), nullable=False),
        sa.Column("picks", sa.JSON(), nullable=False),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=48), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conducting_unit_id"],
            ["org_units.id"],
            name=op.f("fk_draws_conducting_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draws")),
    )
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_draws_conducting_unit_id"), ["conducting_unit_id"], unique=False
        )

    op.create_table(
        "inspections",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), nullable=False),
        sa.Column("conducting_unit_id", sa.String(length=36), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("inspectors", sa.JSON(), nullable=False),
        sa.Column("experts", sa.JSON(), nullable=False),
        sa.Column("checklist_id", sa.String(length=36), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("signed_snapshot", sa.JSON(), nullable=True),
        sa.Column("amendments", sa.JSON(), nullable=False),
        sa.Column("follows_inspection_id", sa.String(length=36), nullable=True),
        sa.Column("rectification_checks", sa.JSON(), nullable=False),
        sa.Column("draw_id", sa.String(length=36), nullable=True),
        sa.Column("findings_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("major_findings_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("exempt_findings_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("entity_fine_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("person_fine_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=48), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"], ["checklists.id"], name=op.f("fk_inspections_checklist_id_checklists")
        ),
        sa.ForeignKeyConstraint(
            ["conducting_unit_id"],
            ["org_units.id"],
            name=op.f("fk_inspections_conducting_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["draws.id"], name=op.f("fk_inspections_draw_id_draws")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_inspections_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["follows_inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspections_follows_inspection_id_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("county_code", "number", name="uq_inspections_county_code_number"),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspections_completed_at_id", ["completed_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspections_conducting_unit_id"), ["conducting_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_draw_id"), ["draw_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_inspections_enterprise_id_status", ["enterprise_id", "status"], unique=False
        )
        batch_op.create_index("ix_inspections_kind_status", ["kind", "status"], unique=False)
        batch_op.create_index("ix_inspections_planned_for_id", ["planned_for", "id"], unique=False)
        batch_op.create_index("ix_inspections_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "major_hazard_installations",
        sa.Column("enterprise_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("substances", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_major_hazard_installations_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_major_hazard_installations")),
    )
    with op.batch_alter_table("major_hazard_installations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_major_hazard_installations_enterprise_id"),
            ["enterprise_id"],
            unique=False,
        )

    op.create_table(
        "blacklist_entries",
        sa.Column("enterprise_id", sa.String(length=36), nullable=False),
        sa.Column("listed_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_inspection_id", sa.String(length=36), nullable=True),
        sa.Column("decided_by_unit_id", sa.String(length=36), nullable=True),
        sa.Column("removed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        sa.Column("removed_by", sa.String(length=48), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_inspection_id"],
            ["inspections.id"],
            name=op.f("fk_blacklist_entries_decided_by_inspection_id_inspections"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_unit_id"],
            ["org_units.id"],
            name=op.f("fk_blacklist_entries_decided_by_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_blacklist_entries_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entries")),
    )
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_blacklist_entries_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            "ix_blacklist_entries_removed_at_listed_at", ["removed_at", "listed_at"], unique=False
        )

    op.create_table(
        "inspection_decisions",
        sa.Column("inspection_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("entity_fine_fen", sa.BigInteger(), nullable=True),
        sa.Column("person_fine_fen", sa.BigInteger(), nullable=True),
        sa.Column("person_name", sa.String(length=100), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_decisions_inspection_id_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_decisions")),
    )
    with op.batch_alter_table("inspection_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_decisions_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index("ix_inspection_decisions_kind", ["kind"], unique=False)

    op.create_table(
        "inspection_events",
        sa.Column("inspection_id", sa.String(length=36), nullable=False),
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
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_events_inspection_id_inspections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_events")),
    )
    with op.batch_alter_table("inspection_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_events_inspection_id"), ["inspection_id"], unique=False
        )

    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspection_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_hazards_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_hazards_inspection_id_inspections"),
            "inspections",
            ["inspection_id"],
            ["id"],
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enforcement_cert_no", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("enforcement_cert_no")

    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_hazards_inspection_id_inspections"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_hazards_inspection_id"))
        batch_op.drop_column("inspection_id")

    with op.batch_alter_table("inspection_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_events_inspection_id"))

    op.drop_table("inspection_events")
    with op.batch_alter_table("inspection_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_decisions_kind")
        batch_op.drop_index(batch_op.f("ix_inspection_decisions_inspection_id"))

    op.drop_table("inspection_decisions")
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_blacklist_entries_removed_at_listed_at")
        batch_op.drop_index(batch_op.f("ix_blacklist_entries_enterprise_id"))

    op.drop_table("blacklist_entries")
    with op.batch_alter_table("major_hazard_installations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_major_hazard_installations_enterprise_id"))

    op.drop_table("major_hazard_installations")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_updated_at_id")
        batch_op.drop_index("ix_inspections_planned_for_id")
        batch_op.drop_index("ix_inspections_kind_status")
        batch_op.drop_index("ix_inspections_enterprise_id_status")
        batch_op.drop_index(batch_op.f("ix_inspections_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_inspections_draw_id"))
        batch_op.drop_index(batch_op.f("ix_inspections_conducting_unit_id"))
        batch_op.drop_index("ix_inspections_completed_at_id")

    op.drop_table("inspections")
    with op.batch_alter_table("draws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draws_conducting_unit_id"))

    op.drop_table("draws")
    op.drop_table("inspection_counters")
    op.drop_table("checklists")
