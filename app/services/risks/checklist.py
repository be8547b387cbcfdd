"""The investigation checklist of a risk point (从风险到排查): one item per control measure,
the measure as its basis.

Each point's checklist is a checklist of its own (code ``RP-<point id>``, ``risk_point_id``
set), written by ``sync`` whenever the point's name or measures change: a change writes the
next version and retires the current one, so an inspection that used a version keeps it
unchanged (the checklists' immutability rule). Generated versions are never edited through
``/api/v1/checklists`` (409 ``checklist_read_only``); they are read in the point's scope
(``app.auth.scope.visible_checklists``). Migration 0019 wrote the first versions of the
points that existed, with a frozen copy of ``items_for``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_risk_points
from app.core.errors import Conflict, NotFound
from app.models import Checklist, Enterprise, RiskPoint
from app.services import checklists
from app.services.risks.catalog import MEASURE_KINDS

CODE_PREFIX = "RP-"
_KIND_ZH = {e.code: e.name_zh for e in MEASURE_KINDS}


def code_for(point_id: str) -> str:
    return f"{CODE_PREFIX}{point_id}"


def name_for(point_name: str) -> tuple[str, str]:
    return f"{point_name}风险管控措施检查表", f"Control measures of risk point {point_name}"


def items_for(point_name: str, measures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per control measure, in the register's order: ``M1``, ``M2`` …; the question
    asks whether the measure is in place, the basis is the measure as the register states it."""
    return [
        {
            "code": f"M{n}",
            "text": f"{_KIND_ZH.get(m['kind'], m['kind'])}措施是否落实：{m['text']}",
            "basis": f"{point_name}风险管控措施（{_KIND_ZH.get(m['kind'], m['kind'])}）：{m['text']}",
            "sector": None,
            "major_if_failed": False,
            "judgment_standard": None,
            "judgment_clause": None,
        }
        for n, m in enumerate(measures, start=1)
    ]


async def sync(session: AsyncSession, point: RiskPoint) -> None:
    """Keeps the point's checklist in step with its measures, in the caller's transaction: the
    next version when the items or the name changed, none while it has no measure (the last
    version is then retired)."""
    current = (
        await session.execute(
            select(Checklist).where(
                Checklist.risk_point_id == point.id, Checklist.is_current.is_(True)
            )
        )
    ).scalar_one_or_none()
    items = items_for(point.name, point.control_measures or [])
    name = name_for(point.name)[0]
    if current is not None and current.items == items and current.name == name:
        return
    if current is None and not items:
        return
    latest = (
        await session.execute(
            select(Checklist.version_no)
            .where(Checklist.code == code_for(point.id))
            .order_by(Checklist.version_no.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if current is not None:
        current.is_current = False
        await session.flush()
    if not items:
        return
    ent = (
        await session.execute(
            select(Enterprise.region_code, Enterprise.sector).where(
                Enterprise.id == point.enterprise_id
            )
        )
    ).one()
    session.add(version_of(point, ent.region_code, ent.sector, (latest or 0) + 1))
    await session.flush()


def version_of(point: RiskPoint, region_code: str, sector: str, version_no: int) -> Checklist:
    """A new current version of the point's checklist (the demo writes its first ones so)."""
    name, name_en = name_for(point.name)
    return Checklist(
        code=code_for(point.id),
        version_no=version_no,
        name=name,
        name_en=name_en,
        sector=sector,
        county_code=region_code[:6],
        items=items_for(point.name, point.control_measures or []),
        locked=False,
        is_current=True,
        risk_point_id=point.id,
    )


async def read(
    session: AsyncSession, p: Principal, point_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """The point's current checklist (``ChecklistOut``) in one statement; 404 when the point is
    not the caller's to see, 409 ``risk_point_without_measures`` when it has no measure."""
    found = (
        await session.execute(
            select(Checklist)
            .join(RiskPoint, RiskPoint.id == Checklist.risk_point_id)
            .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
            .where(
                Checklist.risk_point_id == point_id,
                Checklist.is_current.is_(True),
                visible_risk_points(p),
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return checklists.to_out(found, english), found.version
    seen = (
        await session.execute(
            select(RiskPoint.id)
            .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
            .where(RiskPoint.id == point_id, visible_risk_points(p))
        )
    ).first()
    if seen is None:
        raise NotFound("风险点不存在", "Risk point not found")
    raise Conflict(
        "该风险点尚无管控措施，无法生成排查清单",
        "The risk point has no control measure to make a checklist from",
        code="risk_point_without_measures",
    )
