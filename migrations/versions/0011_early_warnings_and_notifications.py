"""early warnings and the notifications inbox: reminders per recipient, notifications

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

``reminders`` becomes one row per recipient: ``recipient_id`` (the org unit's id, or the
enterprise's for its own notice), the ``deadline`` it was about and the template ``data`` that
renders it in English; unique per hazard, kind, deadline, day and recipient. Before, one overdue
row stood for both the enterprise and its enforcement department (``org_unit_id``): it stays as
the department's row and gains a sibling for the enterprise (``org_unit_id`` null), with the
same text and time. Its ``data`` is read back from the stored Chinese text (number, title,
deadline), or from the hazard where the text does not parse. ``notifications`` starts empty:
reminders written before this revision reached nobody's inbox, and are not sent now.

Downgrading keeps what the former shape can hold: overdue reminders, one per hazard and day (the
department's row, else the enterprise's, else the first).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.core.ids import new_id
from app.models.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000
OLD_UNIQUE = "uq_reminders_hazard_kind_date"
NEW_UNIQUE = "uq_reminders_hazard_kind_deadline_day_recipient"
# The overdue text the service wrote (app/services/messages.py): the title may hold anything, so
# the greedy match takes everything up to the last "》已逾期".
_OVERDUE_ZH = re.compile(
    r"^隐患 (?P<number>\S+)《(?P<title>.*)》已逾期 \d+ 天（整改期限 (?P<deadline>\d{4}-\d{2}-\d{2})）",
    re.S,
)

_reminders = sa.table(
    "reminders",
    sa.column("id", sa.String),
    sa.column("hazard_id", sa.String),
    sa.column("enterprise_id", sa.String),
    sa.column("org_unit_id", sa.String),
    sa.column("recipient_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("on_date", sa.Date),
    sa.column("deadline", sa.Date),
    sa.column("message", sa.Text),
    sa.column("data", sa.JSON),
    sa.column("created_at", UTCDateTime()),
)
_hazards = sa.table(
    "hazards",
    sa.column("id", sa.String),
    sa.column("number", sa.String),
    sa.column("title", sa.String),
    sa.column("deadline", sa.Date),
)
_enterprises = sa.table(
    "enterprises", sa.column("id", sa.String), sa.column("enforcement_department_id", sa.String)
)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _data(row: Any) -> tuple[date, dict[str, Any]]:
    """The deadline and template data of a reminder written before this revision."""
    number, title, deadline = row.number, row.title, _as_date(row.hazard_deadline)
    found = _OVERDUE_ZH.match(row.message or "")
    if found:
        number, title = found["number"], found["title"]
        try:
            deadline = date.fromisoformat(found["deadline"])
        except ValueError:
            pass
    on_date = _as_date(row.on_date)
    return deadline, {
        "hazard_id": row.hazard_id,
        "number": number,
        "title": title,
        "deadline": deadline.isoformat(),
        "days_overdue": (on_date - deadline).days,
    }


def _backfill() -> None:
    bind = op.get_bind()
    source = (
        sa.select(
            _reminders.c.id,
            _reminders.c.hazard_id,
            _reminders.c.enterprise_id,
            _reminders.c.org_unit_id,
            _reminders.c.kind,
            _reminders.c.on_date,
            _reminders.c.message,
            _reminders.c.created_at,
            _hazards.c.number,
            _hazards.c.title,
            _hazards.c.deadline.label("hazard_deadline"),
        )
        .join(_hazards, _hazards.c.id == _reminders.c.hazard_id)
        .where(_reminders.c.recipient_id.is_(None))
        .order_by(_reminders.c.id)
    )
    update = (
        _reminders.update()
        .where(_reminders.c.id == sa.bindparam("row_id"))
        .values(
            recipient_id=sa.bindparam("r_recipient_id"),
            deadline=sa.bindparam("r_deadline"),
            data=sa.bindparam("r_data", type_=sa.JSON),
        )
    )
    after = ""
    while True:
        rows = bind.execute(source.where(_reminders.c.id > after).limit(BATCH)).all()
        if not rows:
            return
        after = rows[-1].id
        updates, siblings = [], []
        for r in rows:
            deadline, data = _data(r)
            updates.append(
                {
                    "row_id": r.id,
                    "r_recipient_id": r.org_unit_id or r.enterprise_id,
                    "r_deadline": deadline,
                    "r_data": data,
                }
            )
            if r.org_unit_id is not None:  # the enterprise was reminded by the same row
                siblings.append(
                    {
                        "id": new_id(),
                        "hazard_id": r.hazard_id,
                        "enterprise_id": r.enterprise_id,
                        "org_unit_id": None,
                        "recipient_id": r.enterprise_id,
                        "kind": r.kind,
                        "on_date": r.on_date,
                        "deadline": deadline,
                        "message": r.message,
                        "data": data,
                        "created_at": r.created_at,
                    }
                )
        bind.execute(update, updates)
        if siblings:
            bind.execute(_reminders.insert(), siblings)


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
        # the enterprise's sibling rows share the hazard, kind and day of the former key
        batch_op.drop_constraint(OLD_UNIQUE, type_="unique")
    _backfill()
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.alter_column("recipient_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column("deadline", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("data", existing_type=sa.JSON(), nullable=False)
        batch_op.create_unique_constraint(
            NEW_UNIQUE, ["hazard_id", "kind", "deadline", "on_date", "recipient_id"]
        )
        batch_op.create_index("ix_reminders_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("object_type", sa.String(length=24), nullable=True),
        sa.Column("object_id", sa.String(length=36), nullable=True),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_user_id_created_at_id", ["user_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_unread",
            ["user_id"],
            unique=False,
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_unread")
        batch_op.drop_index("ix_notifications_user_id_created_at_id")
    op.drop_table("notifications")

    r = _reminders
    op.execute(r.delete().where(r.c.kind != "overdue"))
    # One row per hazard and day again: the department's, else the enterprise's, else the first.
    department = (
        sa.select(_enterprises.c.enforcement_department_id)
        .where(_enterprises.c.id == r.c.enterprise_id)
        .scalar_subquery()
    )
    rank = sa.case(
        (r.c.org_unit_id == department, 0), (r.c.org_unit_id.is_(None), 1), else_=2
    )
    ranked = sa.select(
        r.c.id,
        sa.func.row_number()
        .over(partition_by=(r.c.hazard_id, r.c.kind, r.c.on_date), order_by=(rank, r.c.id))
        .label("n"),
    ).subquery()
    op.execute(
        r.delete().where(r.c.id.in_(sa.select(ranked.c.id).where(ranked.c.n > 1)))
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_created_at_id")
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(OLD_UNIQUE, ["hazard_id", "kind", "on_date"])
        batch_op.drop_column("data")
        batch_op.drop_column("deadline")
        batch_op.drop_column("recipient_id")
