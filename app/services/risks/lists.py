"""The three lists of an enterprise's risk register (一图一牌三清单): 风险管控责任清单 (who controls
each point), 风险管控措施清单 (its control measures) and 应急处置措施清单 (its emergency
measures). They are views of the active risk points, never stored apart, so they always equal
the register (``GET /api/v1/risk-points?enterprise_id=…``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from app.auth.principal import Principal
from app.auth.scope import visible_risk_points
from app.core import reads
from app.core.errors import NotFound
from app.models import Enterprise, RiskPoint
from app.models.base import utcnow
from app.services.catalog_data import Entry
from app.services.risks.catalog import (
    ACCIDENT_TYPES,
    CONTROL_LEVELS,
    HAZARD_FACTORS,
    MEASURE_KINDS,
    RISK_LEVELS,
    RISK_POINT_KINDS,
)
from app.services.risks.service import RANK

TITLES: dict[str, tuple[str, str]] = {
    "responsibility": ("风险管控责任清单", "Risk control responsibility list"),
    "measures": ("风险管控措施清单", "Risk control measures list"),
    "emergency": ("应急处置措施清单", "Emergency response measures list"),
}


def _labels(entries: tuple[Entry, ...]) -> dict[str, tuple[str, str]]:
    return {e.code: (e.name_zh, e.name_en) for e in entries}


LABELS = {
    "level": _labels(RISK_LEVELS),
    "kind": _labels(RISK_POINT_KINDS),
    "control_level": _labels(CONTROL_LEVELS),
    "measure": _labels(MEASURE_KINDS),
    "hazard_factor": _labels(HAZARD_FACTORS),
    "accident_type": _labels(ACCIDENT_TYPES),
}


def label(catalogue: str, code: str, english: bool) -> str:
    """A code's label in the caller's language; a code the catalogue lost keeps itself."""
    pair = LABELS[catalogue].get(code)
    return (pair[1] if english else pair[0]) if pair else code


def _statement(enterprise_id: str, p: Principal) -> Any:
    """One statement: the enterprise in scope (none: 404) with its active points, outer-joined so
    an enterprise without points still answers its name."""
    return (
        select(
            Enterprise.id.label("enterprise_id"),
            Enterprise.name.label("enterprise_name"),
            RiskPoint.id,
            RiskPoint.name,
            RiskPoint.kind,
            RiskPoint.location_text,
            RiskPoint.level,
            RiskPoint.control_level,
            RiskPoint.responsible_person,
            RiskPoint.responsible_post,
            RiskPoint.hazard_factors,
            RiskPoint.accident_types,
            RiskPoint.control_measures,
            RiskPoint.emergency_measures,
            RiskPoint.reviewed_at,
        )
        .select_from(Enterprise)
        .outerjoin(
            RiskPoint,
            and_(RiskPoint.enterprise_id == Enterprise.id, RiskPoint.status == "active"),
        )
        .where(Enterprise.id == enterprise_id, visible_risk_points(p))
    )


def _rows(point: Any, kind: str, english: bool) -> list[dict[str, Any]]:
    if kind == "measures":
        measures = [(m["kind"], m["text"]) for m in point.control_measures or []]
    elif kind == "emergency":
        measures = [("emergency", text) for text in point.emergency_measures or []]
    else:
        return []
    return [
        {"no": n, "kind": k, "kind_label": label("measure", k, english), "text": text}
        for n, (k, text) in enumerate(measures, start=1)
    ]


def _group(point: Any, kind: str, english: bool) -> dict[str, Any]:
    return {
        "risk_point_id": point.id,
        "name": point.name,
        "kind": point.kind,
        "kind_label": label("kind", point.kind, english),
        "location_text": point.location_text,
        "level": point.level,
        "level_label": label("level", point.level, english),
        "control_level": point.control_level,
        "control_level_label": label("control_level", point.control_level, english),
        "responsible": {"person": point.responsible_person, "post": point.responsible_post}
        if point.responsible_person
        else None,
        "hazard_factors": [
            {"code": c, "label": label("hazard_factor", c, english)}
            for c in point.hazard_factors or []
        ],
        "accident_types": [
            {"code": c, "label": label("accident_type", c, english)}
            for c in point.accident_types or []
        ],
        "reviewed_at": point.reviewed_at.date() if point.reviewed_at else None,
        "rows": _rows(point, kind, english),
    }


async def risk_list(
    session: reads.Reader, p: Principal, enterprise_id: str, kind: str, english: bool
) -> dict[str, Any]:
    """``RiskListOut`` as the plain dict that is serialised (and that the workbook is written
    from). Points red first, then by name (code-point order, the same on both databases)."""
    found = await reads.rows(session, _statement(enterprise_id, p))
    if not found:
        raise NotFound("企业不存在", "Enterprise not found")
    points = sorted(
        (r for r in found if r.id is not None), key=lambda r: (RANK[r.level], r.name, r.id)
    )
    zh, en = TITLES[kind]
    return {
        "enterprise": {"id": found[0].enterprise_id, "name": found[0].enterprise_name},
        "list": kind,
        "title": en if english else zh,
        "generated_at": utcnow(),
        "groups": [_group(r, kind, english) for r in points],
    }
