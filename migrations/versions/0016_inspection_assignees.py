"""who an inspection lists, by user; an inspection's findings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Experts see only the inspections they are assigned to, and an inspector sees a visit it is
listed on even outside its own scope (交叉/异地执法): both read "the inspections of this user",
which a JSON array of user ids cannot answer through an index. `attachments.inspection_id` binds the photos of checklist results. `inspections.findings` keeps
each finding's checklist item and whether it was an already-known hazard linked (依法不予处罚).
Backfill: an inspection written at
0015 (none in practice: the API that writes them arrives with this release, but a database
taken down to 0015 and up again has them) gets its assignees from its `inspectors`/`experts`
and its findings from the hazards pointing at it (not exempt: that fact was not kept at 0015).
"""

from __future__ import annotations

import json

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
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_assignees_inspection_id_inspections"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inspection_assignees_user_id_users")
        ),
        sa.PrimaryKeyConstraint("inspection_id", "user_id", name=op.f("pk_inspection_assignees")),
    )
    op.create_index(
        "ix_inspection_assignees_user_id", "inspection_assignees", ["user_id", "inspection_id"]
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("findings", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inspection_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachments_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_inspection_id_inspections"), "inspections", ["inspection_id"], ["id"]
        )


    _backfill()


def _json(value: object) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or []]


def _backfill() -> None:
    conn = op.get_bind()
    assignees = sa.table(
        "inspection_assignees",
        sa.column("inspection_id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("role", sa.String),
    )
    rows = conn.execute(sa.text("SELECT id, inspectors, experts FROM inspections")).all()
    for inspection_id, inspectors, experts in rows:
        listed = _json(inspectors)
        people = [{"inspection_id": inspection_id, "user_id": u, "role": "inspector"} for u in listed]
        people += [
            {"inspection_id": inspection_id, "user_id": u, "role": "expert"}
            for u in _json(experts)
            if u not in listed
        ]
        if people:
            conn.execute(sa.insert(assignees), people)
        findings = conn.execute(
            sa.text(
                "SELECT id FROM hazards WHERE inspection_id = :id ORDER BY created_at, id"
            ),
            {"id": inspection_id},
        ).scalars()
        found = [{"hazard_id": h, "item_code": None, "exempt": False} for h in findings]
        if found:
            inspections = sa.table(
                "inspections", sa.column("id", sa.String), sa.column("findings", sa.JSON)
            )
            conn.execute(
                sa.update(inspections)
                .where(inspections.c.id == inspection_id)
                .values(findings=found)
            )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachments_inspection_id_inspections"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachments_inspection_id"))
        batch_op.drop_column("inspection_id")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_column("findings")
    op.drop_index("ix_inspection_assignees_user_id", table_name="inspection_assignees")
    op.drop_table("inspection_assignees")
