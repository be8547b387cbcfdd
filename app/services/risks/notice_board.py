"""The risk notice board (风险告知牌, 一图一牌三清单) of one risk point: what is posted at the point —
its name and enterprise, level and colour, hazard factors, possible accidents, control and
emergency measures, who is responsible and whom to call. The PDF (notice_board_pdf.py) prints
exactly this content, so a frontend drawing the board from the JSON shows the same."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import visible_risk_points
from app.core.config import Settings
from app.core.errors import NotFound
from app.models import Enterprise, RiskPoint
from app.services.catalog_data import Entry
from app.services.risks.assessment import BLUE, LEVEL_LABELS, ORANGE, RED, YELLOW
from app.services.risks.catalog import (
    ACCIDENT_TYPES,
    CONTROL_LEVELS,
    HAZARD_FACTORS,
    MEASURE_KINDS,
)

# The four colours of 安全风险四色 as screens and printers take them (sRGB): pure red and
# yellow, a clear orange between them and a darker blue that white text reads on.
COLOR_HEX = {RED: "#FF0000", ORANGE: "#FF8000", YELLOW: "#FFFF00", BLUE: "#0070C0"}

# The national numbers every board carries, then the enterprise's and the duty number.
NATIONAL_PHONES = (
    ("fire", "火警", "Fire", "119"),
    ("ambulance", "急救", "Ambulance", "120"),
    ("police", "报警", "Police", "110"),
)

_HAZARD_FACTORS = {e.code: e for e in HAZARD_FACTORS}
_ACCIDENT_TYPES = {e.code: e for e in ACCIDENT_TYPES}
_CONTROL_LEVELS = {e.code: e for e in CONTROL_LEVELS}

_COLUMNS = (
    *RiskPoint.__table__.c,
    Enterprise.name.label("enterprise_name"),
    Enterprise.principal_name.label("principal_name"),
    Enterprise.principal_phone.label("principal_phone"),
)


def _label(entry: Entry, english: bool) -> str:
    return entry.name_en if english else entry.name_zh


def _measure_groups(measures: list[dict[str, Any]], english: bool) -> list[dict[str, Any]]:
    """The control measures by kind, kinds in the catalogue's order, measures as entered."""
    groups = []
    for kind in MEASURE_KINDS:
        items = [str(m["text"]) for m in measures if m.get("kind") == kind.code]
        if items:
            groups.append({"kind": kind.code, "name": _label(kind, english), "items": items})
    return groups


def _phones(row: Any, p: Principal, settings: Settings, english: bool) -> list[dict[str, Any]]:
    phones = [
        {"kind": kind, "name": en if english else zh, "number": number}
        for kind, zh, en, number in NATIONAL_PHONES
    ]
    # The enterprise keeps no switchboard number; its principal's (主要负责人) is its contact, shown
    # to whoever may read the enterprise itself (a machine client granted risks:read alone not).
    if row.principal_phone and p.can(Permission.enterprises_read):
        who = row.principal_name or ""
        name = f"Enterprise principal {who}" if english else f"企业主要负责人 {who}"
        phones.append({"kind": "enterprise", "name": name.strip(), "number": row.principal_phone})
    if settings.emergency_phone:
        name = "Emergency management duty" if english else "应急管理值班电话"
        phones.append({"kind": "duty", "name": name, "number": settings.emergency_phone})
    return phones


def board_out(row: Any, p: Principal, settings: Settings, english: bool) -> dict[str, Any]:
    """``RiskNoticeBoardOut`` from a row of ``_COLUMNS``, as the plain dict that is served."""
    level = row.level
    level_zh, level_en = LEVEL_LABELS[level]
    control = _CONTROL_LEVELS[row.control_level]
    return {
        "risk_point_id": row.id,
        "name": row.name,
        "kind": row.kind,
        "location_text": row.location_text,
        "enterprise": {"id": row.enterprise_id, "name": row.enterprise_name},
        "status": row.status,
        "level": level,
        "level_name": level_en if english else level_zh,
        "color_hex": COLOR_HEX[level],
        "control_level": row.control_level,
        "control_level_name": _label(control, english),
        "hazard_factors": [
            {"code": c, "name": _label(_HAZARD_FACTORS[c], english)}
            for c in row.hazard_factors or []
            if c in _HAZARD_FACTORS
        ],
        "accident_types": [
            {"code": c, "name": _label(_ACCIDENT_TYPES[c], english)}
            for c in row.accident_types or []
            if c in _ACCIDENT_TYPES
        ],
        "control_measures": _measure_groups(row.control_measures or [], english),
        "emergency_measures": list(row.emergency_measures or []),
        "responsible": {"person": row.responsible_person, "post": row.responsible_post}
        if row.responsible_person
        else None,
        "emergency_phones": _phones(row, p, settings, english),
        "reviewed_at": row.reviewed_at.date() if row.reviewed_at else None,
    }


async def read_board(
    session: AsyncSession, p: Principal, settings: Settings, point_id: str, *, english: bool
) -> tuple[dict[str, Any], int]:
    """The board and the point's version, in one statement with the scope in it: out of scope
    or missing is 404, exactly as ``GET /risk-points/{id}``."""
    row = (
        await session.execute(
            select(*_COLUMNS)
            .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
            .where(RiskPoint.id == point_id, visible_risk_points(p))
        )
    ).first()
    if row is None:
        raise NotFound("风险点不存在", "Risk point not found")
    return board_out(row, p, settings, english), row.version
