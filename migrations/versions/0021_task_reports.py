"""progress reports (进展报告) on the parts of tasks

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Backfill: none needed. The table is new and nothing existing refers to it; existing rows
(task lists, tasks, their parts) are only referred to by the new one. The partial unique index
keeps at most one submitted report per part and period.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_reports',
    sa.Column('task_list_id', sa.String(length=36), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('attachment_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('submitted_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=48), nullable=True),
    sa.Column('submitted_by_name', sa.String(length=200), nullable=True),
    sa.Column('returned_at', app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('returned_by', sa.String(length=48), nullable=True),
    sa.Column('returned_by_name', sa.String(length=200), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['task_assignees.id'], name=op.f('fk_task_reports_assignee_id_task_assignees')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_reports_task_id_tasks')),
    sa.ForeignKeyConstraint(['task_list_id'], ['task_lists.id'], name=op.f('fk_task_reports_task_list_id_task_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_reports'))
    )
    with op.batch_alter_table('task_reports', schema=None) as batch_op:
        batch_op.create_index('ix_task_reports_assignee_id_period', ['assignee_id', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_reports_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_reports_task_list_id'), ['task_list_id'], unique=False)
        batch_op.create_index('uq_task_reports_current', ['assignee_id', 'period'], unique=True, sqlite_where=sa.text("status = 'submitted'"), postgresql_where=sa.text("status = 'submitted'"))



def downgrade() -> None:
    with op.batch_alter_table('task_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_task_reports_current', sqlite_where=sa.text("status = 'submitted'"), postgresql_where=sa.text("status = 'submitted'"))
        batch_op.drop_index(batch_op.f('ix_task_reports_task_list_id'))
        batch_op.drop_index(batch_op.f('ix_task_reports_task_id'))
        batch_op.drop_index('ix_task_reports_assignee_id_period')

    op.drop_table('task_reports')
