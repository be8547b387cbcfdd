"""the starter checklists; at most one current blacklist entry per enterprise; a version
counter on major hazard installations (for ETag / If-Match)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

The starter checklists (app/services/checklist_data.py: county_code null, version 1, unlocked)
are inserted unless a checklist of the same code is already there, so a database that has them
is left as it is. No existing enterprise has two current blacklist entries (the table is new in
0015 and ``blacklist.list_enterprise`` keeps one), so the unique index builds on any database.
Existing installations start at version 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.models.base import utcnow
from app.services.checklist_data import STARTER_CODES, starter_rows

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_CHECKLISTS = sa.table(
    "checklists",
    sa.column("id", sa.String()),
    sa.column("code", sa.String()),
    sa.column("version_no", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("name_en", sa.String()),
    sa.column("sector", sa.String()),
    sa.column("county_code", sa.String()),
    sa.column("items", sa.JSON()),
    sa.column("locked", sa.Boolean()),
    sa.column("is_current", sa.Boolean()),
    sa.column("created_by", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
    sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "uq_blacklist_entries_current_enterprise_id",
            ["enterprise_id"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
    with op.batch_alter_table("major_hazard_installations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="1", nullable=False)
        )
    bind = op.get_bind()
    present = set(
        bind.execute(
            sa.select(_CHECKLISTS.c.code).where(_CHECKLISTS.c.code.in_(sorted(STARTER_CODES)))
        ).scalars()
    )
    rows = starter_rows(utcnow(), skip=present)
    if rows:
        op.bulk_insert(_CHECKLISTS, rows)


def downgrade() -> None:
    # Starter versions no inspection refers to go; a used one stays (the inspection cites it).
    inspections = sa.table("inspections", sa.column("checklist_id", sa.String()))
    used = sa.select(inspections.c.checklist_id).where(inspections.c.checklist_id.is_not(None))
    op.execute(
        _CHECKLISTS.delete().where(
            _CHECKLISTS.c.county_code.is_(None),
            _CHECKLISTS.c.code.in_(sorted(STARTER_CODES)),
            _CHECKLISTS.c.id.not_in(used),
        )
    )
    with op.batch_alter_table("major_hazard_installations", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("blacklist_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_blacklist_entries_current_enterprise_id")
