"""the investigation checklist of each risk point: checklists name the risk point they were
generated from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Backfill: every risk point with control measures gets its checklist (code ``RP-<point id>``, one
item per measure), the next version after any of that code already there (a downgrade leaves the
versions inspections cite: they are tied to their point again and retired). The generation is a
frozen copy of app/services/risks/checklist.py's ``items_for`` as it was at this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base
from app.core.ids import new_id
from app.models.base import utcnow

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_KIND_ZH = {
    "engineering": "工程技术",
    "management": "管理",
    "training": "培训教育",
    "ppe": "个体防护",
    "emergency": "应急处置",
}
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
    sa.column("risk_point_id", sa.String()),
    sa.column("created_by", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", app.models.base.UTCDateTime(timezone=True)),
    sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)),
)
_POINTS = sa.table(
    "risk_points",
    sa.column("id", sa.String()),
    sa.column("enterprise_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("control_measures", sa.JSON()),
)
_ENTERPRISES = sa.table(
    "enterprises",
    sa.column("id", sa.String()),
    sa.column("region_code", sa.String()),
    sa.column("sector", sa.String()),
)


def _items(name: str, measures: list[dict]) -> list[dict]:
    out = []
    for n, m in enumerate(measures, start=1):
        kind = _KIND_ZH.get(m["kind"], m["kind"])
        out.append(
            {
                "code": f"M{n}",
                "text": f"{kind}措施是否落实：{m['text']}",
                "basis": f"{name}风险管控措施（{kind}）：{m['text']}",
                "sector": None,
                "major_if_failed": False,
                "judgment_standard": None,
                "judgment_clause": None,
            }
        )
    return out


def upgrade() -> None:
    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_point_id", sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_checklists_risk_point_id"), ["risk_point_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_checklists_risk_point_id_risk_points"),
            "risk_points",
            ["risk_point_id"],
            ["id"],
        )
    bind = op.get_bind()
    c = _CHECKLISTS.c
    points = bind.execute(
        sa.select(
            _POINTS.c.id,
            _POINTS.c.name,
            _POINTS.c.control_measures,
            _ENTERPRISES.c.region_code,
            _ENTERPRISES.c.sector,
        ).join(_ENTERPRISES, _ENTERPRISES.c.id == _POINTS.c.enterprise_id)
    ).all()
    latest = dict(
        bind.execute(
            sa.select(c.code, sa.func.max(c.version_no))
            .where(c.code.like("RP-%"))
            .group_by(c.code)
        ).all()
    )
    now = utcnow()
    rows = []
    for point in points:
        code = f"RP-{point.id}"
        if code in latest:  # versions a downgrade left: tied to their point again, retired
            bind.execute(
                _CHECKLISTS.update()
                .where(c.code == code)
                .values(risk_point_id=point.id, is_current=False)
            )
        if not point.control_measures:
            continue
        rows.append(
            {
                "id": new_id(),
                "code": code,
                "version_no": latest.get(code, 0) + 1,
                "name": f"{point.name}风险管控措施检查表",
                "name_en": f"Control measures of risk point {point.name}",
                "sector": point.sector,
                "county_code": point.region_code[:6],
                "items": _items(point.name, point.control_measures),
                "locked": False,
                "is_current": True,
                "risk_point_id": point.id,
                "created_by": None,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), 500):
        op.bulk_insert(_CHECKLISTS, rows[start : start + 500])


def downgrade() -> None:
    # Generated versions no inspection cites go; a cited one stays as a county checklist.
    inspections = sa.table("inspections", sa.column("checklist_id", sa.String()))
    used = sa.select(inspections.c.checklist_id).where(inspections.c.checklist_id.is_not(None))
    op.execute(
        _CHECKLISTS.delete().where(
            _CHECKLISTS.c.risk_point_id.is_not(None), _CHECKLISTS.c.id.not_in(used)
        )
    )
    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_checklists_risk_point_id_risk_points"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_checklists_risk_point_id"))
        batch_op.drop_column("risk_point_id")
