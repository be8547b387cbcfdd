"""refresh tokens; English names of org units

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

`refresh_tokens` starts empty: sessions signed in before this revision keep their access tokens
until they expire and then sign in once more. `org_units.name_en` is backfilled for the units of
the demo county by their Chinese names (a county's own units stay null, shown in Chinese, until
an administrator names them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.core.unit_names import DEMO_UNIT_NAMES_EN
from app.models.base import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("family_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("credential_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_family_id"), ["family_id"])
        batch_op.create_index(batch_op.f("ix_refresh_tokens_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_refresh_tokens_expires_at"), ["expires_at"])
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
    units = sa.table("org_units", sa.column("name", sa.String), sa.column("name_en", sa.String))
    for name, name_en in DEMO_UNIT_NAMES_EN.items():
        op.execute(
            units.update()
            .where(units.c.name == name, units.c.name_en.is_(None))
            .values(name_en=name_en)
        )


def downgrade() -> None:
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.drop_column("name_en")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))
    op.drop_table("refresh_tokens")
