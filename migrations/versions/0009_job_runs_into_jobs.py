"""job_runs into jobs: the former scheduler's runs become finished jobs, and job_runs goes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Each row of ``job_runs`` (one claimed run of a periodic job: ``job``, ``slot``, when it started
and finished, its result) is kept as a job of the same kind, so an admin still sees it in
``GET /api/v1/jobs``: ``succeeded`` when it finished, ``dead`` when it never did (its worker
stopped mid-run), one attempt, its slot in the payload, and a ``dedupe_key`` of
``legacy:<job>:<slot>`` (the scheduler's keys are ``overdue:<day>`` and
``housekeeping:<slot>``, so nothing it enqueues can meet one). Downgrading moves them back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.ids import new_id
from app.models.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LEGACY = "legacy:"
UNFINISHED = "did not finish (a run of the scheduler before the jobs table)"

_runs = sa.table(
    "job_runs",
    sa.column("job", sa.String),
    sa.column("slot", sa.String),
    sa.column("started_at", UTCDateTime()),
    sa.column("finished_at", UTCDateTime()),
    sa.column("result", sa.JSON),
)
_jobs = sa.table(
    "jobs",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("run_at", UTCDateTime()),
    sa.column("attempts", sa.Integer),
    sa.column("max_attempts", sa.Integer),
    sa.column("last_error", sa.Text),
    sa.column("dedupe_key", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("started_at", UTCDateTime()),
    sa.column("finished_at", UTCDateTime()),
    sa.column("result", sa.JSON),
)


def upgrade() -> None:
    bind = op.get_bind()
    runs = bind.execute(sa.select(_runs)).all()
    rows = [
        {
            "id": new_id(),
            "kind": r.job,
            "payload": {"slot": r.slot},
            "status": "succeeded" if r.finished_at is not None else "dead",
            "run_at": r.started_at,
            "attempts": 1,
            "max_attempts": 1,
            "last_error": None if r.finished_at is not None else UNFINISHED,
            "dedupe_key": f"{LEGACY}{r.job}:{r.slot}",
            "created_at": r.started_at,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "result": r.result if r.finished_at is not None else None,
        }
        for r in runs
    ]
    if rows:
        op.bulk_insert(_jobs, rows)
    op.drop_table("job_runs")


def downgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_job_runs")),
    )
    bind = op.get_bind()
    legacy = bind.execute(sa.select(_jobs).where(_jobs.c.dedupe_key.like(LEGACY + "%"))).all()
    if legacy:
        op.bulk_insert(
            _runs,
            [
                {
                    "job": j.kind,
                    "slot": (j.payload or {}).get("slot", j.dedupe_key.split(":", 2)[2]),
                    "started_at": j.started_at,
                    "finished_at": j.finished_at,
                    "result": j.result or {},
                }
                for j in legacy
            ],
        )
        bind.execute(sa.delete(_jobs).where(_jobs.c.dedupe_key.like(LEGACY + "%")))
