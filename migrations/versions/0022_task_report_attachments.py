"""a progress report's evidence: attachments may be bound to a task report

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Backfill: the files each existing report cites that are still unbound and were uploaded by its
submitter are bound to it (as a report submitted now binds them); files bound elsewhere stay
where they are. The demo county holds no report, so there it changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_ATTACHMENTS = sa.table(
    "attachments",
    sa.column("id", sa.String()),
    sa.column("hazard_id", sa.String()),
    sa.column("accountability_id", sa.String()),
    sa.column("inspection_id", sa.String()),
    sa.column("task_report_id", sa.String()),
    sa.column("uploaded_by", sa.String()),
)
_REPORTS = sa.table(
    "task_reports",
    sa.column("id", sa.String()),
    sa.column("attachment_ids", sa.JSON()),
    sa.column("submitted_by", sa.String()),
    sa.column("submitted_at", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_report_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachments_task_report_id"), ["task_report_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_task_report_id_task_reports"),
            "task_reports",
            ["task_report_id"],
            ["id"],
        )
    bind = op.get_bind()
    a = _ATTACHMENTS.c
    reports = bind.execute(
        sa.select(_REPORTS.c.id, _REPORTS.c.attachment_ids, _REPORTS.c.submitted_by).order_by(
            _REPORTS.c.submitted_at, _REPORTS.c.id
        )
    ).all()
    for report in reports:
        ids = report.attachment_ids or []
        if not ids:
            continue
        bind.execute(
            _ATTACHMENTS.update()
            .where(
                a.id.in_(list(ids)),
                a.hazard_id.is_(None),
                a.accountability_id.is_(None),
                a.inspection_id.is_(None),
                a.task_report_id.is_(None),
                a.uploaded_by == report.submitted_by,
            )
            .values(task_report_id=report.id)
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_attachments_task_report_id_task_reports"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_attachments_task_report_id"))
        batch_op.drop_column("task_report_id")
