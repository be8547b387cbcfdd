"""Risk points: the enterprise's register (create, edit, re-assess), government's follow-up
marks, the history, and the enterprise colour derived from its highest risk."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import visible_risk_points
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, RiskPoint, RiskPointEvent
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.schemas.risks import AssessmentIn, RiskPointCreate, RiskPointEventOut, RiskPointUpdate
from app.services.lifecycle import event_fields, event_out
from app.services.risks import checklist as risk_checklist
from app.services.risks import workflow
from app.services.risks.assessment import LEVELS, AssessmentInputError, assess

SORTS = {"updated_at": RiskPoint.updated_at, "name": RiskPoint.name}
DEFAULT_SORT = "name"
# Highest first: the order in which the enterprise's colour is read from its points.
RANK = {level: n for n, level in enumerate(LEVELS)}


def _assessment(given: AssessmentIn) -> dict[str, Any]:
    """The stored assessment: method, normalised inputs, exact score (text), level, grade."""
    inputs = {str(k).lower(): v for k, v in given.inputs.items()}  # L, E, C as written too
    if len(inputs) != len(given.inputs):
        raise ValidationFailed.field(
            "assessment.inputs",
            "评价输入重复（不区分大小写）",
            "An input is given twice (names are case-insensitive)",
            code="invalid_assessment",
        )
    try:
        done = assess(given.method, inputs)
    except AssessmentInputError as exc:
        raise ValidationFailed.field(
            f"assessment.{exc.field}" if exc.field != "method" else "assessment.method",
            exc.zh,
            exc.en,
            code="invalid_assessment",
        ) from None
    return {
        "method": done.method,
        "inputs": {k: str(v) if isinstance(v, Decimal) else v for k, v in done.inputs.items()},
        "score": str(done.score),
        "level": done.level,
        "grade": done.grade_zh,
    }


def _facts(point: Any) -> workflow.Facts:
    return workflow.Facts(point.status, point.enterprise_id, bool(point.follow_up))


def out(point: Any, enterprise_name: str, p: Principal) -> dict[str, Any]:
    """``RiskPointOut`` from a row or the entity, as the plain dict that is serialised."""
    located = point.lat is not None and point.lng is not None
    return {
        "id": point.id,
        "enterprise_id": point.enterprise_id,
        "enterprise": {"id": point.enterprise_id, "name": enterprise_name},
        "name": point.name,
        "kind": point.kind,
        "location_text": point.location_text,
        "location": {
            "lat": point.lat,
            "lng": point.lng,
            "coordinate_system": point.coordinate_system or "wgs84",
        }
        if located
        else None,
        "hazard_factors": point.hazard_factors or [],
        "assessment": point.assessment,
        "level": point.level,
        "control_level": point.control_level,
        "responsible": {"person": point.responsible_person, "post": point.responsible_post}
        if point.responsible_person
        else None,
        "control_measures": point.control_measures or [],
        "emergency_measures": point.emergency_measures or [],
        "accident_types": point.accident_types or [],
        "reviewed_at": point.reviewed_at.date() if point.reviewed_at else None,
        "status": point.status,
        "follow_up": bool(point.follow_up),
        "follow_up_note": point.follow_up_note,
        "allowed_actions": workflow.MACHINE.allowed_actions(p, _facts(point)),
        "created_at": point.created_at,
        "updated_at": point.updated_at,
    }


_COLUMNS = (
    *RiskPoint.__table__.c,
    Enterprise.name.label("enterprise_name"),
    Enterprise.region_code.label("region_code"),
    Enterprise.sector.label("sector"),
)


def _select() -> Any:
    return select(*_COLUMNS).join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)


def filtered(
    p: Principal,
    *,
    enterprise_id: str | None = None,
    level: list[str] | None = None,
    kind: list[str] | None = None,
    region_code: str | None = None,
    sector: list[str] | None = None,
    follow_up: bool | None = None,
    status: list[str] | None = None,
) -> Any:
    """The risk points of the list for these filters, in scope (the map and the figures read
    the same rows)."""
    stmt = _select().where(visible_risk_points(p))
    if enterprise_id:
        stmt = stmt.where(RiskPoint.enterprise_id == enterprise_id)
    if level:
        stmt = stmt.where(RiskPoint.level.in_(level))
    if kind:
        stmt = stmt.where(RiskPoint.kind.in_(kind))
    if region_code:
        stmt = stmt.where(Enterprise.region_code.startswith(region_code))
    if sector:
        stmt = stmt.where(Enterprise.sector.in_(sector))
    if follow_up is not None:
        stmt = stmt.where(RiskPoint.follow_up.is_(follow_up))
    return stmt.where(RiskPoint.status.in_(status or ["active"]))


async def list_points(session: Any, p: Principal, params: ListParams, **filters: Any) -> PageResult:
    return await fetch_page(
        session,
        filtered(p, **filters),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=RiskPoint.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def read_detail(session: Any, p: Principal, point_id: str) -> tuple[dict[str, Any], int]:
    row = (
        await session.execute(_select().where(RiskPoint.id == point_id, visible_risk_points(p)))
    ).first()
    if row is None:
        raise NotFound("风险点不存在", "Risk point not found")
    return out(row, row.enterprise_name, p), row.version


async def get_visible(session: AsyncSession, p: Principal, point_id: str) -> RiskPoint:
    found = (
        await session.execute(
            select(RiskPoint)
            .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
            .where(RiskPoint.id == point_id, visible_risk_points(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("风险点不存在", "Risk point not found")
    return found


async def answer(session: AsyncSession, p: Principal, point: RiskPoint) -> dict[str, Any]:
    name = (
        await session.execute(select(Enterprise.name).where(Enterprise.id == point.enterprise_id))
    ).scalar_one()
    return out(point, name, p)


def _event(
    point: RiskPoint,
    p: Principal,
    action: str,
    from_status: str | None,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> RiskPointEvent:
    return RiskPointEvent(
        risk_point_id=point.id,
        **event_fields(
            p, action, from_status, point.status, at=utcnow(), note=note, details=details
        ),
    )


async def derive_enterprise_color(session: AsyncSession, enterprise_id: str) -> None:
    """An enterprise with active risk points takes the colour of its highest one (红橙黄蓝);
    without any, its colour stays as government set it."""
    rank = case({level: n for level, n in RANK.items()}, value=RiskPoint.level)
    highest = (
        await session.execute(
            select(func.min(rank)).where(
                RiskPoint.enterprise_id == enterprise_id, RiskPoint.status == "active"
            )
        )
    ).scalar_one()
    if highest is None:
        return
    ent = await session.get(Enterprise, enterprise_id)
    assert ent is not None
    color = LEVELS[highest]
    if ent.risk_color != color:
        ent.risk_color = color
        await session.flush()


def _apply(point: RiskPoint, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "location":
            point.lat, point.lng = (value["lat"], value["lng"]) if value else (None, None)
            point.coordinate_system = value.get("coordinate_system", "wgs84") if value else None
        elif key == "responsible":
            point.responsible_person = value["person"] if value else None
            point.responsible_post = value.get("post") if value else None
        elif key == "reviewed_at":
            point.reviewed_at = _noon(value)
        elif key == "assessment":
            point.assessment = value
            point.level = value["level"]
        else:
            setattr(point, key, value)


def _noon(day: date | None) -> datetime | None:
    """A review date as noon of that day in Asia/Shanghai (04:00 UTC), read back as the day."""
    return None if day is None else datetime.combine(day, time(4), tzinfo=UTC)


def _owner_or_403(p: Principal, enterprise_id: str) -> None:
    ensure(p, Permission.risks_write)
    if p.enterprise_id != enterprise_id:
        raise Forbidden(
            "风险点由企业自行辨识、评价和维护",
            "Risk points are maintained by the enterprise's own users",
        )


async def create(session: AsyncSession, p: Principal, body: RiskPointCreate) -> RiskPoint:
    enterprise_id = body.enterprise_id or p.enterprise_id
    if enterprise_id is None:
        raise ValidationFailed.field(
            "enterprise_id", "请指明企业", "enterprise_id is required", code="unknown_enterprise"
        )
    visible = (
        await session.execute(
            select(Enterprise.id).where(Enterprise.id == enterprise_id, visible_risk_points(p))
        )
    ).first()
    if visible is None:
        raise ValidationFailed.field(
            "enterprise_id", "企业不存在", "Unknown enterprise", code="unknown_enterprise"
        )
    _owner_or_403(p, enterprise_id)
    data = body.model_dump(exclude={"enterprise_id"})
    data["assessment"] = _assessment(body.assessment)
    point = RiskPoint(enterprise_id=enterprise_id, status="active", follow_up=False)
    _apply(point, data)
    session.add(point)
    await session.flush()
    session.add(_event(point, p, "create", None, details={"level": point.level}))
    await session.flush()
    await derive_enterprise_color(session, enterprise_id)
    await risk_checklist.sync(session, point)
    return point


async def update(
    session: AsyncSession, p: Principal, point: RiskPoint, body: RiskPointUpdate
) -> RiskPoint:
    _owner_or_403(p, point.enterprise_id)
    data = body.model_dump(exclude_unset=True)
    for key in ("name", "kind", "assessment", "control_level"):
        if key in data and data[key] is None:
            raise ValidationFailed.field(key, "不能为空", "may be omitted, never null")
    if not data:
        return point
    details: dict[str, Any] = {"fields": sorted(data)}
    action = "update"
    if body.assessment is not None:
        before = point.level
        data["assessment"] = _assessment(body.assessment)
        details.update(from_level=before, to_level=data["assessment"]["level"])
        action = "reassess"
    _apply(point, data)
    point.updated_at = utcnow()
    session.add(_event(point, p, action, point.status, details=details))
    await session.flush()
    await derive_enterprise_color(session, point.enterprise_id)
    if {"name", "control_measures"} & data.keys():
        await risk_checklist.sync(session, point)
    return point


async def transition(
    session: AsyncSession, p: Principal, point: RiskPoint, body: BaseModel
) -> RiskPoint:
    action: str = body.action  # type: ignore[attr-defined]
    reason: str | None = getattr(body, "reason", None)
    t = workflow.MACHINE.run(p, _facts(point), action)
    if action in ("flag", "retire") and not reason:
        raise ValidationFailed.field("reason", "须说明理由", "A reason is required")
    from_status = point.status
    if action == "flag":
        point.follow_up, point.follow_up_note = True, reason
    elif action == "unflag":
        point.follow_up, point.follow_up_note = False, None
    if t.to_state is not None:
        point.status = t.to_state
    point.updated_at = utcnow()
    note = reason or getattr(body, "note", None)
    session.add(_event(point, p, action, from_status, note=note))
    await session.flush()
    if action in ("retire", "reinstate"):
        await derive_enterprise_color(session, point.enterprise_id)
    return point


async def events(session: AsyncSession, p: Principal, point_id: str) -> list[Any]:
    rows = (
        (
            await session.execute(
                select(RiskPointEvent)
                .join(RiskPoint, RiskPoint.id == RiskPointEvent.risk_point_id)
                .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
                .where(RiskPointEvent.risk_point_id == point_id, visible_risk_points(p))
                .order_by(RiskPointEvent.created_at, RiskPointEvent.id)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound("风险点不存在", "Risk point not found")
    return [RiskPointEventOut.model_construct(**event_out(e)) for e in rows]
