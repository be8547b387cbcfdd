"""Handling public reports (``/api/v1/reports``): lists and details in scope, the lifecycle, the
hazard a substantiated report registers, and the reporter's identity (保密).

The identity is read in one place only, ``reporter_of``, after the view is logged: the row is
never selected by a list, a detail without ``include=reporter``, the linked hazard, the figures
or an export. The log row commits (GETs run in autocommit) before the identity is shaped into an
answer, so there is no view without its record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import county_wide_in, visible_reports
from app.core import json_agg
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from app.core.i18n import unit_name
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.core.sealing import InvalidTag, KeyUnavailable, Sealed, reporter_keyring
from app.models import (
    Attachment,
    Enterprise,
    Hazard,
    OrgUnit,
    PublicReport,
    PublicReportEvent,
    PublicReportRoute,
    ReporterView,
)
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.schemas.hazards import HazardCreate
from app.schemas.public_reports import ReportTransition
from app.services import enterprises
from app.services.attachment_links import expiry, url
from app.services.hazards import service as hazard_service
from app.services.hazards.queries import period
from app.services.lifecycle import event_fields
from app.services.public_reports.workflow import ACTION_FIELDS, MACHINE, ReportFacts

log = logging.getLogger("anjian.reports")

SORTS = {
    "received_at": PublicReport.received_at,
    "updated_at": PublicReport.updated_at,
    "closed_at": PublicReport.closed_at,
}
DEFAULT_SORT = "-received_at"


def _not_found() -> NotFound:
    return NotFound("举报不存在", "Report not found")


def _routes_json() -> Any:
    return (
        select(
            json_agg.json_rows(
                ("unit_id", PublicReportRoute.unit_id),
                ("name", OrgUnit.name),
                ("name_en", OrgUnit.name_en),
                ("reason", PublicReportRoute.reason),
                ("created_at", PublicReportRoute.created_at),
            )
        )
        .select_from(PublicReportRoute)
        .join(OrgUnit, OrgUnit.id == PublicReportRoute.unit_id)
        .where(PublicReportRoute.report_id == PublicReport.id)
        .correlate(PublicReport)
        .scalar_subquery()
        .label("routes_json")
    )


def _routed_to_caller(p: Principal) -> Any:
    if not p.is_government:
        return literal(False).label("routed_mine")
    return (
        exists(
            select(PublicReportRoute.id).where(
                PublicReportRoute.report_id == PublicReport.id,
                PublicReportRoute.unit_id == p.unit.id,
            )
        )
        .correlate(PublicReport)
        .label("routed_mine")
    )


# Every column a summary shows; never the sealed identity.
_COLUMNS = (
    PublicReport.id,
    PublicReport.number,
    PublicReport.county_code,
    PublicReport.status,
    PublicReport.description,
    PublicReport.location_text,
    PublicReport.lat,
    PublicReport.lng,
    PublicReport.region_code,
    PublicReport.enterprise_name,
    PublicReport.credit_code,
    PublicReport.enterprise_id,
    PublicReport.sector,
    PublicReport.anonymous,
    PublicReport.hazard_id,
    PublicReport.reward_fen,
    PublicReport.public_outcome,
    PublicReport.unsubstantiated_reason,
    PublicReport.received_at,
    PublicReport.closed_at,
    PublicReport.updated_at,
    PublicReport.version,
    Enterprise.name.label("matched_name"),
    Hazard.number.label("hazard_number"),
)


def _select(p: Principal) -> Select[Any]:
    return (
        select(*_COLUMNS, _routes_json(), _routed_to_caller(p))
        .outerjoin(Enterprise, Enterprise.id == PublicReport.enterprise_id)
        .outerjoin(Hazard, Hazard.id == PublicReport.hazard_id)
        .where(visible_reports(p))
    )


def facts(row: Any) -> ReportFacts:
    return ReportFacts(
        status=row.status,
        county_code=row.county_code,
        routed=bool(row.routed_mine),
        substantiated=row.hazard_id is not None,
        rewarded=row.reward_fen is not None,
    )


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else fen / 100


def summary_out(row: Any, p: Principal, english: bool) -> dict[str, Any]:
    routes = sorted(
        json_agg.parse(row.routes_json, ("created_at",)),
        key=lambda r: (r["created_at"], r["unit_id"]),
    )
    return {
        "id": row.id,
        "number": row.number,
        "county_code": row.county_code,
        "status": row.status,
        "description": row.description,
        "location_text": row.location_text,
        "location": {"lat": row.lat, "lng": row.lng} if row.lat is not None else None,
        "region_code": row.region_code,
        "enterprise_name": row.enterprise_name,
        "credit_code": row.credit_code,
        "enterprise_id": row.enterprise_id,
        "enterprise": {"id": row.enterprise_id, "name": row.matched_name}
        if row.enterprise_id
        else None,
        "sector": row.sector,
        "anonymous": row.anonymous,
        "routed_to": [
            {"id": r["unit_id"], "name": unit_name(r["name"], r["name_en"], english)}
            for r in routes
        ],
        "hazard_id": row.hazard_id,
        "hazard": {"id": row.hazard_id, "number": row.hazard_number} if row.hazard_id else None,
        "reward_yuan": _yuan(row.reward_fen),
        "public_outcome": row.public_outcome,
        "received_at": row.received_at,
        "closed_at": row.closed_at,
        "updated_at": row.updated_at,
        "allowed_actions": MACHINE.allowed_actions(p, facts(row)),
        "_routes": routes,
    }


async def list_reports(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    params: ListParams,
    *,
    status: Sequence[str] | None = None,
    region_code: str | None = None,
    sector: Sequence[str] | None = None,
    enterprise_id: str | None = None,
    routed_to: str | None = None,
    received_from: Any = None,
    received_to: Any = None,
    q: str | None = None,
) -> PageResult:
    stmt = _select(p)
    if status:
        stmt = stmt.where(PublicReport.status.in_(status))
    if region_code:
        stmt = stmt.where(PublicReport.region_code.like(region_code + "%"))
    if sector:
        stmt = stmt.where(PublicReport.sector.in_(sector))
    if enterprise_id:
        stmt = stmt.where(PublicReport.enterprise_id == enterprise_id)
    if routed_to:
        stmt = stmt.where(
            PublicReport.id.in_(
                select(PublicReportRoute.report_id).where(PublicReportRoute.unit_id == routed_to)
            )
        )
    stmt = stmt.where(*period(PublicReport.received_at, received_from, received_to, settings))
    if q:
        stmt = stmt.where(PublicReport.description.icontains(q, autoescape=True))
    return await fetch_page(
        session,
        stmt,
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=PublicReport.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


def _events_json() -> Any:
    e = PublicReportEvent
    return (
        select(
            json_agg.json_rows(
                ("id", e.id),
                ("action", e.action),
                ("from_status", e.from_status),
                ("to_status", e.to_status),
                ("actor_kind", e.actor_kind),
                ("actor_id", e.actor_id),
                ("actor_name", e.actor_name),
                ("note", e.note),
                ("payload", e.payload),
                ("created_at", e.created_at),
            )
        )
        .where(e.report_id == PublicReport.id)
        .correlate(PublicReport)
        .scalar_subquery()
        .label("events_json")
    )


def _photos_json() -> Any:
    a = Attachment
    return (
        select(
            json_agg.json_rows(
                ("id", a.id),
                ("content_type", a.content_type),
                ("size", a.size),
                ("thumbnail_key", a.thumbnail_key),
                ("created_at", a.created_at),
            )
        )
        .where(a.public_report_id == PublicReport.id)
        .correlate(PublicReport)
        .scalar_subquery()
        .label("photos_json")
    )


async def read_detail(
    session: AsyncSession, p: Principal, settings: Settings, report_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """The report with its routes, photos and history: one statement."""
    row = (
        await session.execute(
            _select(p)
            .add_columns(_events_json(), _photos_json())
            .where(PublicReport.id == report_id)
        )
    ).first()
    if row is None:
        raise _not_found()
    return _detail_out(row, p, settings, english), row.version


async def read_details(
    session: AsyncSession, p: Principal, settings: Settings, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    """Many reports as ``GET /reports/{id}`` gives each to this caller (those it may see), in
    one statement (the change feed's pages); never the reporter's identity."""
    if not ids:
        return {}
    rows = (
        await session.execute(
            _select(p).add_columns(_events_json(), _photos_json()).where(PublicReport.id.in_(ids))
        )
    ).all()
    return {row.id: _detail_out(row, p, settings, english) for row in rows}


def _detail_out(row: Any, p: Principal, settings: Settings, english: bool) -> dict[str, Any]:
    out = summary_out(row, p, english)
    routes = out.pop("_routes")
    out["routes"] = [
        {
            "unit": {"id": r["unit_id"], "name": unit_name(r["name"], r["name_en"], english)},
            "reason": r["reason"],
            "routed_at": r["created_at"],
        }
        for r in routes
    ]
    out["unsubstantiated_reason"] = row.unsubstantiated_reason
    expires = expiry(settings)
    photos = sorted(json_agg.parse(row.photos_json, ("created_at",)), key=lambda a: a["created_at"])
    out["photos"] = [
        {
            "id": a["id"],
            "content_type": a["content_type"],
            "size": a["size"],
            "download_url": url(settings, a["id"], "content", p.audit_id, expires),
            "thumbnail_url": url(settings, a["id"], "thumbnail", p.audit_id, expires)
            if a["thumbnail_key"]
            else None,
        }
        for a in photos
    ]
    events = sorted(
        json_agg.parse(row.events_json, ("created_at",)), key=lambda e: (e["created_at"], e["id"])
    )
    out["events"] = [_event_out(e) for e in events]
    out["reporter"] = None
    return out


def _event_out(e: dict[str, Any]) -> dict[str, Any]:
    payload = e["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    return {
        "id": e["id"],
        "action": e["action"],
        "from_status": e["from_status"],
        "to_status": e["to_status"],
        "actor": {"id": e["actor_id"], "name": e["actor_name"] or ""} if e["actor_id"] else None,
        "actor_kind": e["actor_kind"],
        "note": e["note"],
        "details": payload or {},
        "created_at": e["created_at"],
    }


def summaries(rows: Sequence[Any], p: Principal, english: bool) -> list[dict[str, Any]]:
    items = [summary_out(r, p, english) for r in rows]
    for item in items:
        item.pop("_routes")
    return items


# ---- the reporter's identity (保密) ----


def may_view_reporter(p: Principal, county_code: str, routed: bool) -> bool:
    """A person holding ``reports:view_reporter``: a manager of the county office, or of a unit
    the report is routed to."""
    if p.kind != "user" or not p.is_government or not p.can(Permission.reports_view_reporter):
        return False
    if p.unit.county_code != county_code:
        return False
    return p.unit.kind == "county" or routed


async def reporter_of(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    report: dict[str, Any],
    request_id: str | None,
) -> dict[str, str] | None:
    """The reporter's name and phone for a caller allowed to see them (403 otherwise), after
    the view is written. An anonymous report has none (nothing is logged: nothing is shown)."""
    routed = any(r["unit"]["id"] == p.unit.id for r in report["routes"]) if p.unit else False
    if not may_view_reporter(p, report["county_code"], routed):
        raise Forbidden(
            "无权查看举报人身份信息",
            "You may not see the reporter's identity",
            code="reporter_confidential",
        )
    if report["anonymous"]:
        return None
    session.add(
        ReporterView(
            report_id=report["id"],
            viewer_id=p.id,
            viewer_name=p.display_name or p.name,
            viewer_unit_id=p.unit.id,
            request_id=request_id,
            viewed_at=utcnow(),
        )
    )
    await session.flush()  # autocommit: the record is committed before anything is shown
    row = (
        await session.execute(
            select(PublicReport.reporter_sealed, PublicReport.reporter_key_id).where(
                PublicReport.id == report["id"]
            )
        )
    ).one()
    if row.reporter_sealed is None:
        return None
    try:
        plain = reporter_keyring(settings).open(
            Sealed(row.reporter_key_id, row.reporter_sealed), report["id"]
        )
    except (KeyUnavailable, InvalidTag):
        # Configuration, not the caller: the secret that sealed it is not configured (or the
        # value was altered). Logged by report and key id only, never anything of the value.
        log.error(
            "a reporter identity does not open",
            extra={"report_id": report["id"], "key_id": row.reporter_key_id},
        )
        raise ServiceUnavailable(
            "举报人身份暂时无法读取：封存它的密钥未配置（ANJIAN_PREVIOUS_SECRET_KEYS）",
            "The reporter's identity cannot be opened: the secret that sealed it is not "
            "configured (ANJIAN_PREVIOUS_SECRET_KEYS)",
            code="reporter_unavailable",
            headers={"Retry-After": "300"},
        ) from None
    identity = json.loads(plain)
    return {"name": identity["name"], "phone": identity["phone"]}


def may_audit(p: Principal, county_code: str) -> bool:
    """The county's managers and admins read who saw reporters' identities."""
    return p.kind == "user" and p.can(Permission.reports_audit) and county_wide_in(p, county_code)


async def access_log(session: AsyncSession, p: Principal, report_id: str) -> list[dict[str, Any]]:
    """Every view of the report's reporter, oldest first (the report must be in scope)."""
    report = (
        await session.execute(
            select(PublicReport.county_code).where(PublicReport.id == report_id, visible_reports(p))
        )
    ).first()
    if report is None:
        raise _not_found()
    if not may_audit(p, report.county_code):
        raise Forbidden(
            "仅县级负责人和管理员可查看举报人身份查阅记录",
            "Only the county's managers and administrators read this log",
        )
    Viewer = OrgUnit
    rows = (
        await session.execute(
            select(
                ReporterView, Viewer.name.label("unit_name"), Viewer.name_en.label("unit_name_en")
            )
            .outerjoin(Viewer, Viewer.id == ReporterView.viewer_unit_id)
            .where(ReporterView.report_id == report_id)
            .order_by(ReporterView.viewed_at, ReporterView.id)
        )
    ).all()
    return [
        {
            "id": v.id,
            "report_id": v.report_id,
            "viewer": {"id": v.viewer_id, "name": v.viewer_name},
            "viewer_unit": {"id": v.viewer_unit_id, "name": name} if v.viewer_unit_id else None,
            "viewed_at": v.viewed_at,
            "request_id": v.request_id,
        }
        for v, name, _en in rows
    ]


# ---- transitions ----


async def get_for_update(session: AsyncSession, p: Principal, report_id: str) -> PublicReport:
    report = (
        await session.execute(
            select(PublicReport).where(PublicReport.id == report_id, visible_reports(p))
        )
    ).scalar_one_or_none()
    if report is None:
        raise _not_found()
    return report


async def _facts_of(session: AsyncSession, p: Principal, report: PublicReport) -> ReportFacts:
    routed = bool(
        (
            await session.execute(
                select(_routed_to_caller(p))
                .select_from(PublicReport)
                .where(PublicReport.id == report.id)
            )
        ).scalar()
    )
    return ReportFacts(
        status=report.status,
        county_code=report.county_code,
        routed=routed,
        substantiated=report.hazard_id is not None,
        rewarded=report.reward_fen is not None,
    )


def _check_fields(body: ReportTransition) -> None:
    allowed = ACTION_FIELDS[body.action] | {"action", "note"}
    for name in body.model_fields_set - allowed:
        if getattr(body, name) is not None:
            raise ValidationFailed.field(
                name,
                f"操作 {body.action} 不接受字段 {name}",
                f"The action {body.action} takes no {name}",
                code="field_not_allowed",
            )


def _required(name: str, value: Any, action: str) -> None:
    if value is None:
        raise ValidationFailed.field(
            name, f"操作 {action} 须填写 {name}", f"The action {action} needs {name}"
        )


async def transition(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    report: PublicReport,
    body: ReportTransition,
) -> None:
    _check_fields(body)
    t = MACHINE.run(p, await _facts_of(session, p, report), body.action)
    now = utcnow()
    before = report.status
    details: dict[str, Any] = {}
    if body.action == "assign":
        _required("unit_ids", body.unit_ids, "assign")
        details["unit_ids"] = await _assign(session, report, body.unit_ids or [], now)
    elif body.action == "substantiate":
        hazard = await _substantiate(session, p, settings, report, body)
        details["hazard_id"] = hazard.id
        details["hazard_number"] = hazard.number
        report.hazard_id = hazard.id
        report.enterprise_id = hazard.enterprise_id
        report.substantiated_at = now
    elif body.action == "unsubstantiate":
        _required("reason", body.reason, "unsubstantiate")
        report.unsubstantiated_reason = body.reason
        details["reason"] = body.reason
    elif body.action == "reward":
        _required("reward_yuan", body.reward_yuan, "reward")
        assert body.reward_yuan is not None
        if body.reward_yuan <= 0:
            raise ValidationFailed.field(
                "reward_yuan", "奖励金额须大于 0", "The reward must be more than 0"
            )
        report.reward_fen = int(body.reward_yuan * 100)
        details["reward_yuan"] = _yuan(report.reward_fen)
    elif body.action == "close":
        _required("public_outcome", body.public_outcome, "close")
        report.public_outcome = body.public_outcome
        report.closed_at = now
    if t.to_state is not None:
        report.status = t.to_state
    report.updated_at = now
    session.add(
        PublicReportEvent(
            report_id=report.id,
            **event_fields(
                p, body.action, before, report.status, at=now, note=body.note, details=details
            ),
        )
    )
    await session.flush()


async def _assign(
    session: AsyncSession, report: PublicReport, unit_ids: list[str], now: Any
) -> list[str]:
    """Routes the report to towns and bureaus of its county (adds them; routes stay)."""
    ids = list(dict.fromkeys(unit_ids))
    found = {
        u.id
        for u in (
            await session.execute(
                select(OrgUnit.id).where(
                    OrgUnit.id.in_(ids),
                    OrgUnit.county_code == report.county_code,
                    OrgUnit.kind.in_(("town", "bureau")),
                )
            )
        ).all()
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed.field(
            "unit_ids",
            "交办单位须为本县的镇街或部门",
            "Assign to towns and bureaus of the report's county",
            code="unknown_org_unit",
        )
    routed = {
        r.unit_id
        for r in (
            await session.execute(
                select(PublicReportRoute.unit_id).where(PublicReportRoute.report_id == report.id)
            )
        ).all()
    }
    for unit_id in ids:
        if unit_id not in routed:
            session.add(
                PublicReportRoute(
                    report_id=report.id, unit_id=unit_id, reason="assigned", created_at=now
                )
            )
    return ids


def _first_sentence(text: str) -> str:
    """A hazard's title from a report: its first sentence, at most 200 characters."""
    for mark in "。！？!?\n；;":
        head, found, _ = text.partition(mark)
        if found and head.strip():
            text = head
    return text.strip()[:200] or "群众举报查实的隐患"


async def _substantiate(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    report: PublicReport,
    body: ReportTransition,
) -> Hazard:
    """Registers the hazard (source ``public_report``) for an enterprise in the caller's scope:
    ``enterprise_id``, a new enterprise (``enterprise``: an unregistered operator, registered
    first, which needs ``enterprises:create``), or the matched one."""
    if body.enterprise_id is not None and body.enterprise is not None:
        raise ValidationFailed.field(
            "enterprise",
            "enterprise_id 与 enterprise 只能填写其一",
            "Give enterprise_id or enterprise, not both",
        )
    if body.enterprise is not None:
        if not p.can(Permission.enterprises_create):
            raise Forbidden("无权登记企业", "You may not register enterprises")
        if body.enterprise.region_code[:6] != report.county_code:
            raise ValidationFailed.field(
                "enterprise.region_code",
                "企业须在举报所属县",
                "The enterprise must be in the report's county",
                code="unknown_region",
            )
        ent = await enterprises.create_enterprise(session, p, body.enterprise)
    else:
        enterprise_id = body.enterprise_id or report.enterprise_id
        if enterprise_id is None:
            raise ValidationFailed.field(
                "enterprise_id",
                "须指明被举报企业（enterprise_id），或登记未注册的经营主体（enterprise）",
                "Name the enterprise (enterprise_id) or register the operator (enterprise)",
            )
        try:
            ent = await enterprises.get_visible(session, p, enterprise_id)
        except NotFound:
            ent = None
        if ent is None or ent.region_code[:6] != report.county_code:
            raise ValidationFailed.field(
                "enterprise_id",
                "企业须在举报所属县",
                "The enterprise must be in the report's county",
                code="unknown_enterprise",
            )
    fields = (
        body.hazard.model_dump(exclude_unset=True)
        if body.hazard is not None
        else {
            "title": _first_sentence(report.description),
            "description": report.description,
            "location": report.location_text,
            "level": "general",
            "category": "unsafe_condition",
        }
    )
    hazard_body = HazardCreate.model_validate(
        {**fields, "enterprise_id": ent.id, "source": "public_report"}
    )
    hazard = await hazard_service.register(session, p, settings, ent, hazard_body, "public_report")
    hazard.public_report_id = report.id
    await session.flush()
    return hazard
