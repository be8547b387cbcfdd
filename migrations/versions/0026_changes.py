"""The change feed (issue 17): ``changes``, one row per object a committed transaction changed,
and ``change_horizon``, how far retention has deleted.

Backfill: one ``upsert`` change for every enterprise, hazard, inspection, public report and
task that exists, in the scope it has now, so a client that reads the feed from its start (no cursor) sees every
object of its scope once before what changes next. The demo province client
(``demo_province``) is granted ``changes:read``, as a new demo county's client is.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    xid_default = sa.text("(pg_current_xact_id()::text::bigint)") if postgres else sa.text("0")
    op.create_table(
        "changes",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("xid", sa.BigInteger(), server_default=xid_default, nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("changed_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enterprise_id", sa.String(length=36), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("sector", sa.String(length=40), nullable=True),
        sa.Column("department_id", sa.String(length=36), nullable=True),
        sa.Column("prev_enterprise_id", sa.String(length=36), nullable=True),
        sa.Column("prev_region_code", sa.String(length=12), nullable=True),
        sa.Column("prev_sector", sa.String(length=40), nullable=True),
        sa.Column("prev_department_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("list_status", sa.String(length=16), nullable=True),
        sa.Column("issuing_unit_id", sa.String(length=36), nullable=True),
        sa.Column("lead_unit_id", sa.String(length=36), nullable=True),
        sa.Column("split_by_unit_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_order", ["xid", "seq"], unique=False)
        batch_op.create_index("ix_changes_changed_at", ["changed_at"], unique=False)
    op.create_table(
        "change_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_horizon")),
    )
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    now = datetime.now(UTC)
    changes = sa.table(
        "changes",
        sa.column("type", sa.String()),
        sa.column("object_id", sa.String()),
        sa.column("op", sa.String()),
        sa.column("changed_at", app.models.base.UTCDateTime()),
        sa.column("enterprise_id", sa.String()),
        sa.column("region_code", sa.String()),
        sa.column("sector", sa.String()),
        sa.column("department_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("started_at", app.models.base.UTCDateTime()),
        sa.column("county_code", sa.String()),
        sa.column("list_status", sa.String()),
        sa.column("issuing_unit_id", sa.String()),
        sa.column("lead_unit_id", sa.String()),
        sa.column("split_by_unit_id", sa.String()),
    )
    e = sa.table(
        "enterprises",
        sa.column("id"),
        sa.column("region_code"),
        sa.column("sector"),
        sa.column("enforcement_department_id"),
    )
    h = sa.table("hazards", sa.column("id"), sa.column("enterprise_id"), sa.column("created_at"))
    i = sa.table(
        "inspections",
        sa.column("id"),
        sa.column("enterprise_id"),
        sa.column("created_at"),
        sa.column("kind"),
        sa.column("started_at", app.models.base.UTCDateTime()),
    )
    names = [
        "type",
        "object_id",
        "op",
        "changed_at",
        "enterprise_id",
        "region_code",
        "sector",
        "department_id",
    ]
    stamp = sa.bindparam("now", now, type_=app.models.base.UTCDateTime())
    scope = (e.c.id, e.c.region_code, e.c.sector, e.c.enforcement_department_id)
    bind.execute(
        changes.insert().from_select(
            names,
            sa.select(
                sa.literal("enterprise"), e.c.id, sa.literal("upsert"), stamp, *scope
            ).order_by(e.c.id),
        )
    )
    bind.execute(
        changes.insert().from_select(
            names,
            sa.select(sa.literal("hazard"), h.c.id, sa.literal("upsert"), stamp, *scope)
            .join(e, e.c.id == h.c.enterprise_id)
            .order_by(h.c.created_at, h.c.id),
        )
    )
    bind.execute(
        changes.insert().from_select(
            [*names, "kind", "started_at"],
            sa.select(
                sa.literal("inspection"),
                i.c.id,
                sa.literal("upsert"),
                stamp,
                *scope,
                i.c.kind,
                i.c.started_at,
            )
            .join(e, e.c.id == i.c.enterprise_id)
            .order_by(i.c.created_at, i.c.id),
        )
    )
    r = sa.table("public_reports", sa.column("id"), sa.column("county_code"), sa.column("received_at"))
    bind.execute(
        changes.insert().from_select(
            ["type", "object_id", "op", "changed_at", "county_code"],
            sa.select(sa.literal("report"), r.c.id, sa.literal("upsert"), stamp, r.c.county_code)
            .order_by(r.c.received_at, r.c.id),
        )
    )
    t = sa.table(
        "tasks",
        sa.column("id"),
        sa.column("task_list_id"),
        sa.column("created_at"),
        sa.column("lead_unit_id"),
        sa.column("split_by_unit_id"),
    )
    tl = sa.table(
        "task_lists",
        sa.column("id"),
        sa.column("county_code"),
        sa.column("status"),
        sa.column("issuing_unit_id"),
    )
    bind.execute(
        changes.insert().from_select(
            [
                "type",
                "object_id",
                "op",
                "changed_at",
                "county_code",
                "list_status",
                "issuing_unit_id",
                "lead_unit_id",
                "split_by_unit_id",
            ],
            sa.select(
                sa.literal("task"),
                t.c.id,
                sa.literal("upsert"),
                stamp,
                tl.c.county_code,
                tl.c.status,
                tl.c.issuing_unit_id,
                t.c.lead_unit_id,
                t.c.split_by_unit_id,
            )
            .join(tl, tl.c.id == t.c.task_list_id)
            .order_by(t.c.created_at, t.c.id),
        )
    )
    clients = sa.table(
        "api_clients",
        sa.column("id", sa.String()),
        sa.column("client_id", sa.String()),
        sa.column("permissions", sa.JSON()),
    )
    demo = sa.select(clients.c.id, clients.c.permissions).where(
        clients.c.client_id == "demo_province"
    )
    for row in bind.execute(demo).all():
        granted = list(row.permissions or [])
        if "changes:read" not in granted:
            bind.execute(
                clients.update()
                .where(clients.c.id == row.id)
                .values(permissions=sorted([*granted, "changes:read"]))
            )


def downgrade() -> None:
    op.drop_table("change_horizon")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_changed_at")
        batch_op.drop_index("ix_changes_order")
    op.drop_table("changes")
