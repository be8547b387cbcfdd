"""Inspections: planning (the one way an inspection is created), reads, edits and the
transitions workflow (rules in ``workflow``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.deps import ensure
from app.auth.permissions import Permission, Role
from app.auth.principal import Principal
from app.auth.scope import visible_enterprises, visible_inspections
from app.core import json_agg
from app.core.clock import local_today
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import (
    Attachment,
    Checklist,
    Enterprise,
    Hazard,
    Inspection,
    InspectionAssignee,
    InspectionCounter,
    InspectionDecision,
    InspectionEvent,
    OrgUnit,
    User,
)
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.schemas.hazards import HazardCreate, Judgment
from app.schemas.inspections import (
    AddFindingAction,
    InspectionCreate,
    InspectionEventOut,
    InspectionUpdate,
    ItemResultIn,
    OutcomeIn,
)
from app.services import attachments as attachment_service
from app.services import blacklist, checklists, external_ids
from app.services.catalog_data import PENALTY_DECISIONS
from app.services.hazards import service as hazards
from app.services.hazards.workflow import OPEN as OPEN_HAZARD
from app.services.inspections import workflow
from app.services.inspections.queries import InspectionFilters, conditions
from app.services.inspections.workflow import Facts, is_enforcement
from app.services.lifecycle import event_fields, event_out
from app.services.notifications import notify
from app.services.numbering import next_number
from app.services.refs import unit_dict

SORTS = {
    "planned_for": Inspection.planned_for,
    "completed_at": Inspection.completed_at,
    "updated_at": Inspection.updated_at,
}
DEFAULT_SORT = "-planned_for"
INSPECTOR_ROLES = (Role.admin.value, Role.manager.value, Role.officer.value, Role.inspector.value)
Conducting = aliased(OrgUnit, name="conducting")
_Certified = aliased(User, name="certified_user")


# ---- shaping ---------------------------------------------------------------------------------


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _fen(yuan: Decimal | None) -> int | None:
    return None if yuan is None else int((yuan * 100).to_integral_value())


def _certified_count() -> Any:
    """How many listed inspectors hold an enforcement certificate: a correlated count, so a
    page's ``allowed_actions`` (the ``start`` guard) costs no statement of its own."""
    return (
        select(func.count())
        .select_from(InspectionAssignee)
        .join(_Certified, _Certified.id == InspectionAssignee.user_id)
        .where(
            InspectionAssignee.inspection_id == Inspection.id,
            InspectionAssignee.role == "inspector",
            _Certified.enforcement_cert_no.is_not(None),
        )
        .scalar_subquery()
        .label("certified")
    )


LIST_COLUMNS = (
    Inspection.id,
    Inspection.number,
    Inspection.kind,
    Inspection.enterprise_id,
    Enterprise.name.label("enterprise_name"),
    Enterprise.region_code,
    Enterprise.sector,
    Inspection.conducting_unit_id,
    Conducting.name.label("unit_name"),
    Conducting.name_en.label("unit_name_en"),
    Inspection.campaign,
    Inspection.planned_for,
    Inspection.started_at,
    Inspection.completed_at,
    Inspection.status,
    Inspection.inspectors,
    Inspection.experts,
    Inspection.signatures,
    Inspection.outcome,
    Inspection.findings_count,
    Inspection.major_findings_count,
    Inspection.exempt_findings_count,
    Inspection.created_at,
    Inspection.updated_at,
    # The ids other systems give it, gathered into the row (app/services/external_ids.py).
    external_ids.gathered("inspection", Inspection.id),
)


def _base(*columns: Any) -> Any:
    return (
        select(*columns, _certified_count())
        .select_from(Inspection)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .outerjoin(Conducting, Conducting.id == Inspection.conducting_unit_id)
    )


def facts_of(get: Any) -> Facts:
    return Facts(
        status=get("status"),
        kind=get("kind"),
        enterprise_id=get("enterprise_id"),
        conducting_unit_id=get("conducting_unit_id"),
        inspectors=tuple(get("inspectors") or ()),
        experts=tuple(get("experts") or ()),
        signed_by=tuple(s["user_id"] for s in get("signatures") or ()),
        certified=get("certified") or 0,
    )


def summary(row: Any, p: Principal, english: bool) -> dict[str, Any]:
    """A list item (``InspectionSummary``) from a row by column name, as a plain dict."""
    get = row.__getitem__
    facts = facts_of(get)
    outcome = get("outcome") or {}
    return {
        "id": get("id"),
        "number": get("number"),
        "kind": facts.kind,
        "enterprise": {"id": facts.enterprise_id, "name": get("enterprise_name")},
        "region_code": get("region_code"),
        "sector": get("sector"),
        "conducting_unit": unit_dict(
            facts.conducting_unit_id, get("unit_name"), get("unit_name_en"), english
        ),
        "campaign": get("campaign"),
        "planned_for": get("planned_for"),
        "started_at": get("started_at"),
        "completed_at": get("completed_at"),
        "status": facts.status,
        "findings_count": get("findings_count"),
        "major_findings_count": get("major_findings_count"),
        "exempt_findings_count": get("exempt_findings_count"),
        "decisions": [d["kind"] for d in outcome.get("decisions", ())],
        "allowed_actions": workflow.allowed_actions(p, facts),
        "created_at": get("created_at"),
        "updated_at": get("updated_at"),
        "external_ids": external_ids.out(get(external_ids.COLUMN)),
    }


def _decision_out(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": d["kind"],
        "deadline": d.get("deadline"),
        "from_date": d.get("from_date"),
        "to_date": d.get("to_date"),
        "entity_fine_yuan": _yuan(d.get("entity_fine_fen")),
        "person_fine_yuan": _yuan(d.get("person_fine_fen")),
        "person_name": d.get("person_name"),
        "hazard_ids": d.get("hazard_ids"),
        "note": d.get("note"),
    }


def _outcome_out(outcome: dict[str, Any] | None) -> dict[str, Any] | None:
    if not outcome:
        return None
    return {
        "decisions": [_decision_out(d) for d in outcome.get("decisions", ())],
        "note": outcome.get("note"),
    }


async def _names(session: Any, user_ids: Iterable[str]) -> dict[str, str]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {r.id: r.display_name for r in rows}


def _instant(value: str | None) -> datetime | None:
    """An instant kept as ISO text inside a JSON column, as the API writes instants."""
    return None if value is None else datetime.fromisoformat(value)


def _user(names: dict[str, str], user_id: str | None) -> dict[str, str] | None:
    return None if user_id is None else {"id": user_id, "display_name": names.get(user_id, "")}


async def _shape_detail(
    session: Any, p: Principal, settings: Settings, row: Any, english: bool
) -> tuple[dict[str, Any], int]:
    """The detail from the row of the inspection (its listed people's names included) plus one
    statement for the findings (hazards); people outside the list cost one more."""
    out = summary(row, p, english)
    get = row.__getitem__
    results = get("results") or []
    signatures = get("signatures") or []
    amendments = get("amendments") or []
    people = [
        *get("inspectors"),
        *get("experts"),
        *(r.get("recorded_by") for r in results if r.get("recorded_by")),
        *(a["author_id"] for a in amendments),
    ]
    # The listed people's names came with the row; anyone else (a result recorded by another
    # of the enterprise's users, an amendment's author) is looked up, rarely.
    names = {x["id"]: x["name"] for x in json_agg.parse(get("people_json"))}
    missing = [u for u in people if u and u not in names]
    if missing:
        names.update(await _names(session, missing))
    findings_meta = {f["hazard_id"]: f for f in get("findings") or []}
    follows = get("follows_inspection_id")
    checks = get("rectification_checks") or []
    hazard_ids = [*findings_meta, *(c["hazard_id"] for c in checks)]
    hazard_rows = {}
    if hazard_ids:
        hazard_rows = {
            h.id: h
            for h in await session.execute(
                select(Hazard.id, Hazard.number, Hazard.title, Hazard.level, Hazard.status).where(
                    Hazard.id.in_(hazard_ids)
                )
            )
        }
    files: Sequence[Attachment] = ()
    if any(r.get("attachment_ids") for r in results):  # only results cite files
        files = (
            (
                await session.execute(
                    select(Attachment)
                    .where(Attachment.inspection_id == get("id"))
                    .order_by(Attachment.created_at, Attachment.id)
                )
            )
            .scalars()
            .all()
        )
    checklist_name = get("checklist_name")
    out.update(
        enterprise_id=get("enterprise_id"),
        conducting_unit_id=get("conducting_unit_id"),
        inspectors=[_user(names, u) for u in get("inspectors")],
        experts=[_user(names, u) for u in get("experts")],
        checklist_id=get("checklist_id"),
        checklist={"id": get("checklist_id"), "name": checklist_name or ""}
        if get("checklist_id")
        else None,
        results=[
            {
                "item_code": r["item_code"],
                "result": r["result"],
                "note": r.get("note"),
                "attachment_ids": r.get("attachment_ids") or [],
                "recorded_by": _user(names, r.get("recorded_by")),
                "recorded_at": _instant(r.get("recorded_at")),
            }
            for r in results
        ],
        findings=[
            {
                "id": h_id,
                "number": hazard_rows[h_id].number,
                "title": hazard_rows[h_id].title,
                "level": hazard_rows[h_id].level,
                "status": hazard_rows[h_id].status,
                "item_code": meta.get("item_code"),
                "exempt": bool(meta.get("exempt")),
            }
            for h_id, meta in findings_meta.items()
            if h_id in hazard_rows
        ],
        outcome=_outcome_out(get("outcome")),
        entity_fines_yuan=_yuan(get("entity_fine_fen") or 0),
        person_fines_yuan=_yuan(get("person_fine_fen") or 0),
        follows_inspection_id=follows,
        rectification_checks=[
            {
                "hazard_id": c["hazard_id"],
                "hazard_number": hazard_rows[c["hazard_id"]].number
                if c["hazard_id"] in hazard_rows
                else None,
                "rectified": c["rectified"],
                "note": c.get("note"),
            }
            for c in checks
        ],
        draw_id=get("draw_id"),
        attachments=[attachment_service.to_out(a, p, settings) for a in files],
        signatures=[
            {
                "user": {"id": s["user_id"], "display_name": s.get("name", "")},
                "enforcement_cert_no": s.get("enforcement_cert_no"),
                "signed_at": _instant(s["signed_at"]),
            }
            for s in signatures
        ],
        signed_at=get("signed_at"),
        signed_record=get("signed_snapshot"),
        amendments=[
            {
                "reason": a["reason"],
                "author": _user(names, a["author_id"]),
                "at": _instant(a["at"]),
                "changes": a.get("changes", {}),
            }
            for a in amendments
        ],
        cancel_reason=get("cancel_reason"),
        version=get("version"),
    )
    return out, get("version")


_DETAIL_COLUMNS = (
    *LIST_COLUMNS,
    Inspection.checklist_id,
    Inspection.results,
    Inspection.findings,
    Inspection.entity_fine_fen,
    Inspection.person_fine_fen,
    Inspection.follows_inspection_id,
    Inspection.rectification_checks,
    Inspection.draw_id,
    Inspection.signed_at,
    Inspection.signed_snapshot,
    Inspection.amendments,
    Inspection.cancel_reason,
    Inspection.version,
    Checklist.name.label("checklist_name"),
    # The listed inspectors' and experts' names, gathered into the row (app/core/json_agg.py).
    select(json_agg.json_rows(("id", User.id), ("name", User.display_name)))
    .select_from(InspectionAssignee)
    .join(User, User.id == InspectionAssignee.user_id)
    .where(InspectionAssignee.inspection_id == Inspection.id)
    .correlate(Inspection)
    .scalar_subquery()
    .label("people_json"),
)


def _detail_base() -> Any:
    return _base(*_DETAIL_COLUMNS).outerjoin(Checklist, Checklist.id == Inspection.checklist_id)


# ---- reads -------------------------------------------------------------------------------------


async def read_detail(
    session: Any, p: Principal, settings: Settings, inspection_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """``GET /inspections/{id}``: the inspection with its names in one statement (scope
    included), then the findings."""
    row = (
        await session.execute(
            _detail_base().where(Inspection.id == inspection_id, visible_inspections(p))
        )
    ).first()
    if row is None:
        raise NotFound("检查记录不存在", "Inspection not found")
    return await _shape_detail(session, p, settings, row._mapping, english)


async def read_details(
    session: Any, p: Principal, settings: Settings, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    """Many inspections as ``GET /inspections/{id}`` gives each to this caller (those it may
    see): one statement, then each one's findings (the change feed's pages)."""
    if not ids:
        return {}
    rows = (
        await session.execute(_detail_base().where(Inspection.id.in_(ids), visible_inspections(p)))
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out[row.id], _ = await _shape_detail(session, p, settings, row._mapping, english)
    return out


async def detail(
    session: AsyncSession, p: Principal, settings: Settings, inspection: Inspection, english: bool
) -> dict[str, Any]:
    """The representation after a write: read back as a caller would (the caller still sees
    the inspection it just wrote, whatever the action)."""
    row = (await session.execute(_detail_base().where(Inspection.id == inspection.id))).first()
    assert row is not None
    out, _ = await _shape_detail(session, p, settings, row._mapping, english)
    return out


async def get_visible(session: AsyncSession, p: Principal, inspection_id: str) -> Inspection:
    found = (
        await session.execute(
            select(Inspection)
            .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
            .where(Inspection.id == inspection_id, visible_inspections(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("检查记录不存在", "Inspection not found")
    return found


async def list_inspections(
    session: Any,
    p: Principal,
    settings: Settings,
    params: ListParams,
    filters: InspectionFilters,
) -> PageResult:
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    return await fetch_page(
        session,
        _base(*LIST_COLUMNS).where(*conditions(p, filters, settings)),
        sort=sort,
        id_column=Inspection.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def events(session: AsyncSession, p: Principal, inspection_id: str) -> list[Any]:
    """The whole history in one statement, scope included (every inspection has its ``plan``
    event; an empty answer means the inspection is not visible: 404)."""
    rows = (
        (
            await session.execute(
                select(InspectionEvent)
                .join(Inspection, Inspection.id == InspectionEvent.inspection_id)
                .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
                .where(InspectionEvent.inspection_id == inspection_id, visible_inspections(p))
                .order_by(InspectionEvent.created_at, InspectionEvent.id)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound("检查记录不存在", "Inspection not found")
    return [InspectionEventOut.model_construct(**event_out(e)) for e in rows]


# ---- planning ------------------------------------------------------------------------------------


def _event(
    insp: Inspection,
    p: Principal | None,
    action: str,
    from_status: str | None,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> InspectionEvent:
    return InspectionEvent(
        inspection_id=insp.id,
        **event_fields(
            p, action, from_status, insp.status, at=utcnow(), note=note, details=details
        ),
    )


async def _check_people(
    session: AsyncSession,
    county_code: str,
    user_ids: Sequence[str],
    *,
    field: str,
    expert: bool = False,
    enterprise_id: str | None = None,
) -> list[str]:
    """The listed people, each once, in the order given: active users of the county of the
    right kind (government staff; role expert; or the enterprise's own people)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    stmt = select(User.id).where(User.id.in_(ids), User.is_active.is_(True))
    if enterprise_id is not None:
        stmt = stmt.where(User.enterprise_id == enterprise_id)
    else:
        stmt = stmt.join(OrgUnit, OrgUnit.id == User.org_unit_id).where(
            OrgUnit.county_code == county_code,
            User.role == Role.expert.value if expert else User.role.in_(INSPECTOR_ROLES),
        )
    found = set((await session.execute(stmt)).scalars())
    missing = [i for i in ids if i not in found]
    if missing:
        what_zh = "外聘专家" if expert else ("本企业人员" if enterprise_id else "本县政府工作人员")
        what_en = (
            "active experts of the county"
            if expert
            else ("the enterprise's active users" if enterprise_id else "active government staff")
        )
        zh = f"以下人员不是{what_zh}：{', '.join(missing)}"
        en = f"Not {what_en} of the county: {', '.join(missing)}"
        if expert:
            raise ValidationFailed.field(field, zh, en, code="unknown_expert")
        raise ValidationFailed.field(field, zh, en, code="unknown_inspector")
    return ids


async def _conducting_unit(
    session: AsyncSession, p: Principal, county_code: str, unit_id: str | None
) -> str:
    """The caller's own unit by default; admins and county staff may name another of the county."""
    assert p.unit is not None
    if unit_id is None or unit_id == p.unit.id:
        return p.unit.id
    if not (p.is_admin or p.unit.kind == "county"):
        raise Forbidden(
            "只能以本单位名义安排检查",
            "You may plan inspections for your own unit only",
            code="outside_scope",
        )
    found = (
        await session.execute(
            select(OrgUnit.id).where(OrgUnit.id == unit_id, OrgUnit.county_code == county_code)
        )
    ).first()
    if found is None:
        raise ValidationFailed.field(
            "conducting_unit_id", "实施单位不存在", "Unknown org unit", code="unknown_org_unit"
        )
    return unit_id


async def _assign(session: AsyncSession, insp: Inspection) -> None:
    """``inspection_assignees`` in step with the inspection's lists (scope reads it)."""
    await session.execute(
        delete(InspectionAssignee).where(InspectionAssignee.inspection_id == insp.id)
    )
    rows = [
        *({"inspection_id": insp.id, "user_id": u, "role": "inspector"} for u in insp.inspectors),
        *(
            {"inspection_id": insp.id, "user_id": u, "role": "expert"}
            for u in insp.experts
            if u not in insp.inspectors
        ),
    ]
    if rows:
        session.add_all(InspectionAssignee(**r) for r in rows)
    await session.flush()


async def plan(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    *,
    kind: str,
    enterprise: Enterprise,
    conducting_unit_id: str | None,
    planned_for: date,
    inspectors: Sequence[str],
    experts: Sequence[str] = (),
    checklist_id: str | None = None,
    campaign: str | None = None,
    follows_inspection_id: str | None = None,
    draw_id: str | None = None,
) -> Inspection:
    """The one way an inspection is created (``POST /inspections`` and the draws): number,
    people, the ``plan`` event. The enterprise and the conducting unit are the caller's to
    check (``create``; a draw picks from the caller's scope)."""
    county_code = enterprise.region_code[:6]
    if kind == "self_inspection":
        inspectors = await _check_people(
            session, county_code, inspectors, field="inspectors", enterprise_id=enterprise.id
        )
        if experts:
            raise ValidationFailed.field(
                "experts", "企业自查不安排外聘专家", "A self-inspection lists no experts"
            )
    else:
        inspectors = await _check_people(session, county_code, inspectors, field="inspectors")
        experts = await _check_people(session, county_code, experts, field="experts", expert=True)
    if not inspectors:
        raise ValidationFailed.field(
            "inspectors",
            "至少指定一名检查人员（专家不签名，须有政府工作人员负责）",
            "At least one inspector is required (experts never sign)",
            code="inspectors_required",
        )
    if checklist_id is not None:
        await checklists.get_for_use(session, p, checklist_id)
    insp = Inspection(
        number=await next_number(
            session,
            county_code,
            local_today(settings.timezone).year,
            counter=InspectionCounter,
            prefix="J",
        ),
        county_code=county_code,
        kind=kind,
        enterprise_id=enterprise.id,
        conducting_unit_id=conducting_unit_id,
        campaign=campaign,
        planned_for=planned_for,
        status="planned",
        inspectors=list(inspectors),
        experts=list(experts),
        checklist_id=checklist_id,
        results=[],
        findings=[],
        signatures=[],
        amendments=[],
        rectification_checks=[],
        follows_inspection_id=follows_inspection_id,
        draw_id=draw_id,
        created_by=p.audit_id,
    )
    session.add(insp)
    await session.flush()
    await _assign(session, insp)
    session.add(_event(insp, p, "plan", None, details={"kind": kind}))
    await session.flush()
    return insp


async def create(
    session: AsyncSession, p: Principal, settings: Settings, body: InspectionCreate
) -> Inspection:
    """``POST /inspections``: government plans any kind but a self-inspection, for an
    enterprise in its scope; an enterprise records its own self-inspection."""
    ent = (
        await session.execute(
            select(Enterprise).where(Enterprise.id == body.enterprise_id, visible_enterprises(p))
        )
    ).scalar_one_or_none()
    if ent is None:
        raise ValidationFailed.field(
            "enterprise_id", "企业不存在", "Unknown enterprise", code="unknown_enterprise"
        )
    if p.enterprise_id is not None:
        if body.kind != "self_inspection":
            raise ValidationFailed.field(
                "kind", "企业只能登记企业自查", "Enterprise users record self_inspection only"
            )
        if body.conducting_unit_id is not None:
            raise ValidationFailed.field(
                "conducting_unit_id",
                "企业自查由企业自行实施，不填写实施单位",
                "A self-inspection has no conducting unit",
            )
        unit_id = None
        people = body.inspectors or ([p.id] if p.kind == "user" else [])
    else:
        if body.kind == "self_inspection":
            raise ValidationFailed.field(
                "kind",
                "企业自查由企业自行登记",
                "A self_inspection is recorded by the enterprise itself",
            )
        unit_id = await _conducting_unit(session, p, ent.region_code[:6], body.conducting_unit_id)
        people = body.inspectors
    follows = None
    if body.kind == "follow_up":
        if body.follows_inspection_id is None:
            raise ValidationFailed.field(
                "follows_inspection_id",
                "回头检查须指明所复查的检查",
                "A follow_up names the inspection it follows",
                code="invalid_follow_up",
            )
        earlier = (
            await session.execute(
                select(Inspection.id, Inspection.enterprise_id, Inspection.status)
                .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
                .where(Inspection.id == body.follows_inspection_id, visible_inspections(p))
            )
        ).first()
        if (
            earlier is None
            or earlier.enterprise_id != ent.id
            or earlier.status not in ("completed", "signed")
        ):
            raise ValidationFailed.field(
                "follows_inspection_id",
                "所复查的检查须为同一企业已完成的检查",
                "It must be a completed inspection of the same enterprise",
                code="invalid_follow_up",
            )
        follows = earlier.id
    elif body.follows_inspection_id is not None:
        raise ValidationFailed.field(
            "follows_inspection_id",
            "只有回头检查填写所复查的检查",
            "Only a follow_up names the inspection it follows",
            code="invalid_follow_up",
        )
    return await plan(
        session,
        p,
        settings,
        kind=body.kind,
        enterprise=ent,
        conducting_unit_id=unit_id,
        planned_for=body.planned_for,
        inspectors=people,
        experts=body.experts,
        checklist_id=body.checklist_id,
        campaign=body.campaign,
        follows_inspection_id=follows,
    )


def _may_edit(p: Principal, insp: Inspection) -> bool:
    if insp.kind == "self_inspection":
        return p.enterprise_id == insp.enterprise_id
    if not p.is_government or p.unit is None:
        return False
    return (
        p.is_admin
        or p.unit.kind == "county"
        or p.unit.id == insp.conducting_unit_id
        or (p.kind == "user" and p.id in insp.inspectors)
    )


async def edit(
    session: AsyncSession, p: Principal, insp: Inspection, body: InspectionUpdate
) -> Inspection:
    """PATCH: the plan while planned; the people and the campaign while in progress."""
    ensure(p, Permission.inspections_write)
    if not _may_edit(p, insp):
        raise Forbidden("无权修改该检查记录", "You may not change this inspection")
    data = body.model_dump(exclude_unset=True)
    if insp.status not in ("planned", "in_progress"):
        raise Conflict(
            "检查已完成、签名或取消，只能通过更正（amend）修改",
            "A completed, signed or cancelled inspection changes only through its actions",
            code="inspection_locked",
        )
    if insp.status == "in_progress":
        fixed = [k for k in ("planned_for", "checklist_id") if k in data]
        if fixed:
            raise Conflict(
                f"检查已开始，不能修改：{', '.join(fixed)}",
                f"The inspection has started; these cannot change: {', '.join(fixed)}",
                code="inspection_locked",
            )
    if not data:  # nothing asked: no event, no new version
        return insp
    changes: dict[str, Any] = {}
    if "planned_for" in data:
        changes["planned_for"] = data["planned_for"].isoformat()
        insp.planned_for = data["planned_for"]
    if "checklist_id" in data:
        if data["checklist_id"] is not None:
            await checklists.get_for_use(session, p, data["checklist_id"])
        insp.checklist_id = data["checklist_id"]
        changes["checklist_id"] = data["checklist_id"]
    if "campaign" in data:
        insp.campaign = data["campaign"]
        changes["campaign"] = data["campaign"]
    people_changed = False
    if "inspectors" in data:
        if insp.kind == "self_inspection":
            insp.inspectors = await _check_people(
                session,
                insp.county_code,
                data["inspectors"],
                field="inspectors",
                enterprise_id=insp.enterprise_id,
            )
        else:
            insp.inspectors = await _check_people(
                session, insp.county_code, data["inspectors"], field="inspectors"
            )
        if not insp.inspectors:
            raise ValidationFailed.field(
                "inspectors",
                "至少指定一名检查人员",
                "At least one inspector is required",
                code="inspectors_required",
            )
        changes["inspectors"] = insp.inspectors
        people_changed = True
    if "experts" in data:
        if insp.kind == "self_inspection" and data["experts"]:
            raise ValidationFailed.field(
                "experts", "企业自查不安排外聘专家", "A self-inspection lists no experts"
            )
        insp.experts = await _check_people(
            session, insp.county_code, data["experts"], field="experts", expert=True
        )
        changes["experts"] = insp.experts
        people_changed = True
    if people_changed and insp.status == "in_progress":
        # 行政执法两人以上 holds for the whole visit, not only at its start.
        reason = workflow.enough_certified(p, await _facts(session, insp))
        if reason:
            zh, _, en = reason.partition("|")
            raise Conflict(zh, en, code="certified_inspectors_required")
    insp.updated_at = utcnow()
    await session.flush()
    if people_changed:
        await _assign(session, insp)
    session.add(_event(insp, p, "update", insp.status, details=changes))
    await session.flush()
    return insp


# ---- transitions ---------------------------------------------------------------------------------


async def _facts(session: AsyncSession, insp: Inspection) -> Facts:
    certified = (
        await session.execute(
            select(func.count())
            .select_from(User)
            .where(
                User.id.in_(insp.inspectors or ["-"]),
                User.enforcement_cert_no.is_not(None),
            )
        )
    ).scalar_one()
    return Facts(
        status=insp.status,
        kind=insp.kind,
        enterprise_id=insp.enterprise_id,
        conducting_unit_id=insp.conducting_unit_id,
        inspectors=tuple(insp.inspectors),
        experts=tuple(insp.experts),
        signed_by=tuple(s["user_id"] for s in insp.signatures),
        certified=certified,
    )


async def _checklist_items(session: AsyncSession, insp: Inspection) -> dict[str, dict[str, Any]]:
    if insp.checklist_id is None:
        return {}
    items = (
        await session.execute(select(Checklist.items).where(Checklist.id == insp.checklist_id))
    ).scalar_one()
    return {str(i["code"]): i for i in items or ()}


def _merge_results(
    p: Principal,
    insp: Inspection,
    items: dict[str, dict[str, Any]],
    given: Sequence[ItemResultIn],
    at: datetime,
) -> list[dict[str, Any]]:
    """The inspection's results with ``given`` applied: an item already recorded is replaced;
    with a checklist, only its items may be recorded."""
    if items:
        unknown = [r.item_code for r in given if r.item_code not in items]
        if unknown:
            raise ValidationFailed.field(
                "results",
                f"检查表中没有以下检查项：{', '.join(unknown)}",
                f"Not items of the inspection's checklist: {', '.join(unknown)}",
                code="unknown_checklist_item",
            )
    merged = {str(r["item_code"]): r for r in insp.results}
    for r in given:
        merged[r.item_code] = {
            "item_code": r.item_code,
            "result": r.result,
            "note": r.note,
            "attachment_ids": list(dict.fromkeys(r.attachment_ids)),
            "recorded_by": p.id if p.kind == "user" else None,
            "recorded_at": at.isoformat(),
        }
    return list(merged.values())


async def _bind_result_files(
    session: AsyncSession, p: Principal, insp: Inspection, given: Sequence[ItemResultIn]
) -> None:
    cited = [a for r in given for a in r.attachment_ids]
    await attachment_service.bind_to_inspection(session, p, insp.id, cited)


# The fields each decision kind carries besides its kind and note.
_DECISION_FIELDS = {
    "rectification_order": ("deadline",),
    "suspension": ("from_date", "to_date"),
    "fine": ("person_name", "hazard_ids"),
}


def _outcome(insp: Inspection, given: OutcomeIn | None) -> dict[str, Any] | None:
    """The outcome a ``complete`` or ``amend`` may store, checked against the record (fen
    inside, as stored): one decision of a kind; ``no_issue`` alone and only without findings;
    no penalty on a visit that is not enforcement; a fine needs an amount and cites findings
    not all exempt (依法不予处罚)."""
    if given is None:
        if insp.findings_count == 0:
            return {"decisions": [{"kind": "no_issue"}], "note": None}
        if is_enforcement(insp.kind):
            raise ValidationFailed.field(
                "outcome",
                "执法检查发现隐患的，须作出处理决定",
                "An enforcement inspection with findings needs its decisions (outcome)",
                code="outcome_required",
            )
        return None
    kinds = [d.kind for d in given.decisions]
    if len(set(kinds)) != len(kinds):
        raise ValidationFailed.field(
            "outcome.decisions",
            "同一种处理决定只能出现一次",
            "Each decision kind may appear once",
            code="invalid_outcome",
        )
    if "no_issue" in kinds and (len(kinds) > 1 or insp.findings_count > 0):
        raise ValidationFailed.field(
            "outcome.decisions",
            "“未发现问题”不能与其他决定并用，也不能用于发现隐患的检查",
            "no_issue stands alone, and not on an inspection with findings",
            code="invalid_outcome",
        )
    penalties = [k for k in kinds if k in PENALTY_DECISIONS]
    if penalties and not is_enforcement(insp.kind):
        raise ValidationFailed.field(
            "outcome.decisions",
            "企业自查和专家指导服务不作出处罚决定",
            f"A {insp.kind} inspection decides no penalty ({', '.join(penalties)})",
            code="penalty_not_allowed",
        )
    findings = {str(f["hazard_id"]): f for f in insp.findings}
    out = []
    for i, d in enumerate(given.decisions):
        where = f"outcome.decisions[{i}]"
        # A field of another kind is refused, never silently dropped (amounts: below).
        stray = [
            k
            for k in ("deadline", "from_date", "to_date", "person_name", "hazard_ids")
            if getattr(d, k) is not None and k not in _DECISION_FIELDS.get(d.kind, ())
        ]
        if stray:
            raise ValidationFailed.field(
                f"{where}.{stray[0]}",
                f"该处理决定不填写：{', '.join(stray)}",
                f"A {d.kind} decision takes no {', '.join(stray)}",
                code="invalid_outcome",
            )
        row: dict[str, Any] = {"kind": d.kind, "note": d.note}
        if d.kind == "rectification_order":
            if d.deadline is None:
                raise ValidationFailed.field(
                    f"{where}.deadline",
                    "责令限期整改须写明期限",
                    "A rectification order needs a deadline",
                )
            row["deadline"] = d.deadline.isoformat()
        if d.kind == "suspension":
            if d.from_date is None or d.to_date is None or d.to_date < d.from_date:
                raise ValidationFailed.field(
                    f"{where}.from_date",
                    "停产停业整顿须写明起止日期",
                    "A suspension needs from_date and to_date (not before it)",
                )
            row["from_date"], row["to_date"] = d.from_date.isoformat(), d.to_date.isoformat()
        if d.kind == "fine":
            if not d.entity_fine_yuan and not d.person_fine_yuan:
                raise ValidationFailed.field(
                    f"{where}.entity_fine_yuan",
                    "罚款须写明对单位和/或对个人的罚款金额",
                    "A fine needs entity_fine_yuan and/or person_fine_yuan",
                )
            if d.person_fine_yuan and not d.person_name:
                raise ValidationFailed.field(
                    f"{where}.person_name",
                    "对个人罚款须写明被处罚人姓名",
                    "A fine on a person names the person",
                )
            cited = list(dict.fromkeys(d.hazard_ids)) if d.hazard_ids is not None else None
            if cited is not None:
                unknown = [h for h in cited if h not in findings]
                if unknown:
                    raise ValidationFailed.field(
                        f"{where}.hazard_ids",
                        f"以下隐患不是本次检查的发现：{', '.join(unknown)}",
                        f"Not findings of this inspection: {', '.join(unknown)}",
                        code="invalid_outcome",
                    )
            basis = [findings[h] for h in cited] if cited is not None else list(findings.values())
            if basis and all(f.get("exempt") for f in basis):
                raise ValidationFailed.field(
                    f"{where}.hazard_ids",
                    "所依据的隐患均为企业已自行发现、报告并按期整改中的隐患，依法不予处罚",
                    "Every finding the fine cites is one the enterprise had found, reported and "
                    "was rectifying on schedule: no penalty by law (依法不予处罚)",
                    code="exempt_findings_only",
                )
            row.update(
                entity_fine_fen=_fen(d.entity_fine_yuan),
                person_fine_fen=_fen(d.person_fine_yuan),
                person_name=d.person_name,
                hazard_ids=cited,
            )
        elif d.entity_fine_yuan is not None or d.person_fine_yuan is not None:
            raise ValidationFailed.field(
                f"{where}.entity_fine_yuan",
                "只有罚款决定填写罚款金额",
                "Only a fine carries amounts",
                code="invalid_outcome",
            )
        out.append(row)
    return {"decisions": out, "note": given.note}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def decision_rows(
    inspection_id: str, decisions: Iterable[dict[str, Any]]
) -> list[InspectionDecision]:
    """The rows the figures count, from the outcome's decisions as stored (fen, ISO dates)."""
    return [
        InspectionDecision(
            id=new_id(),
            inspection_id=inspection_id,
            kind=d["kind"],
            entity_fine_fen=d.get("entity_fine_fen"),
            person_fine_fen=d.get("person_fine_fen"),
            person_name=d.get("person_name"),
            deadline=_day(d.get("deadline")),
            from_date=_day(d.get("from_date")),
            to_date=_day(d.get("to_date")),
            note=d.get("note"),
        )
        for d in decisions
    ]


async def _apply_outcome(
    session: AsyncSession, p: Principal, insp: Inspection, outcome: dict[str, Any] | None
) -> None:
    """The outcome on the record, its decisions as rows for the figures, the fines summed."""
    insp.outcome = outcome
    await session.execute(
        delete(InspectionDecision).where(InspectionDecision.inspection_id == insp.id)
    )
    decisions = (outcome or {}).get("decisions", [])
    session.add_all(decision_rows(insp.id, decisions))
    insp.entity_fine_fen = sum(d.get("entity_fine_fen") or 0 for d in decisions)
    insp.person_fine_fen = sum(d.get("person_fine_fen") or 0 for d in decisions)


async def _blacklist_if_decided(session: AsyncSession, insp: Inspection) -> None:
    """A signed record's blacklist decision takes effect (联合惩戒): the enterprise is listed."""
    for d in (insp.outcome or {}).get("decisions", []):
        if d["kind"] == "blacklist":
            await blacklist.list_enterprise(
                session,
                enterprise_id=insp.enterprise_id,
                reason=d.get("note") or f"检查 {insp.number} 作出纳入联合惩戒黑名单的决定",
                inspection_id=insp.id,
                unit_id=insp.conducting_unit_id,
                at=utcnow(),
            )


def _snapshot(insp: Inspection) -> dict[str, Any]:
    """The record as signed: what the signatures vouch for, kept unchanged."""
    return {
        "number": insp.number,
        "kind": insp.kind,
        "enterprise_id": insp.enterprise_id,
        "conducting_unit_id": insp.conducting_unit_id,
        "campaign": insp.campaign,
        "planned_for": insp.planned_for.isoformat(),
        "started_at": insp.started_at.isoformat() if insp.started_at else None,
        "completed_at": insp.completed_at.isoformat() if insp.completed_at else None,
        "inspectors": list(insp.inspectors),
        "experts": list(insp.experts),
        "checklist_id": insp.checklist_id,
        "results": list(insp.results),
        "findings": list(insp.findings),
        "rectification_checks": list(insp.rectification_checks),
        "outcome": json.loads(json.dumps(_outcome_out(insp.outcome), default=str)),
        "signatures": list(insp.signatures),
    }


async def _add_finding(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    insp: Inspection,
    body: AddFindingAction,
    items: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    if body.item_code is not None and items and body.item_code not in items:
        raise ValidationFailed.field(
            "item_code",
            f"检查表中没有检查项 {body.item_code}",
            f"Not an item of the inspection's checklist: {body.item_code}",
            code="unknown_checklist_item",
        )
    ent = await session.get(Enterprise, insp.enterprise_id)
    assert ent is not None
    if body.existing_hazard_id is not None:
        hazard = (
            await session.execute(
                select(Hazard)
                .where(Hazard.id == body.existing_hazard_id, Hazard.enterprise_id == ent.id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        today = local_today(settings.timezone)
        if hazard is None:
            raise ValidationFailed.field(
                "existing_hazard_id",
                "该企业没有此隐患",
                "No such hazard of this enterprise",
                code="unknown_hazard",
            )
        if (
            hazard.source != "self_inspection"
            or hazard.status not in OPEN_HAZARD
            or hazard.deadline < today
            # 已查出、已报告: registered before the inspectors arrived, not while they watch.
            or (insp.started_at is not None and hazard.created_at >= insp.started_at)
        ):
            raise ValidationFailed.field(
                "existing_hazard_id",
                "只有企业在检查开始前自行发现并报告、尚在整改期限内的未销号隐患可以关联（依法不予处罚）",
                "Only an open hazard the enterprise found and reported itself before the "
                "inspection began, and is rectifying on schedule, can be linked",
                code="hazard_not_exempt",
            )
        if await _linked_elsewhere(session, hazard):
            raise Conflict(
                "该隐患已关联其他检查",
                "The hazard is already linked to an inspection",
                code="hazard_already_linked",
            )
        # A hazard the enterprise found in its own recorded self-inspection keeps pointing at it
        # (where it was found); this inspection lists it among its findings all the same.
        if hazard.inspection_id is None:
            hazard.inspection_id = insp.id
        exempt = True
    else:
        level = body.level
        judgment = body.judgment
        item = items.get(body.item_code or "")
        if item and item.get("major_if_failed") and level is None:
            level = "major"  # the item's judgment standard is proposed (重大隐患判定)
        if level == "major" and judgment is None and item and item.get("judgment_standard"):
            judgment = Judgment(
                standard=item["judgment_standard"],
                clause=str(item["judgment_clause"]),
                text=str(item.get("text") or "")[:500] or None,
            )
        source = "self_inspection" if insp.kind == "self_inspection" else "inspection"
        hazard = await hazards.register(
            session,
            p,
            settings,
            ent,
            HazardCreate.model_construct(
                enterprise_id=ent.id,
                title=body.title,
                description=body.description,
                location=body.location,
                level=level or "general",
                source=source,
                category=body.category,
                found_at=None,
                deadline=body.deadline,
                deadline_reason=body.deadline_reason,
                judgment=judgment,
                attachment_ids=body.attachment_ids,
            ),
            source,
            inspection_id=insp.id,
        )
        exempt = False
    insp.findings = [
        *insp.findings,
        {"hazard_id": hazard.id, "item_code": body.item_code, "exempt": exempt},
    ]
    insp.findings_count += 1
    insp.major_findings_count += hazard.level == "major"
    insp.exempt_findings_count += exempt
    return {"hazard_id": hazard.id, "hazard_number": hazard.number, "exempt": exempt}


async def _linked_elsewhere(session: AsyncSession, hazard: Hazard) -> bool:
    """Whether a government inspection already counts the hazard among its findings: the one
    it points at, unless that is the enterprise's own self-inspection, or another that linked it
    while it points at that self-inspection."""
    if hazard.inspection_id is None:
        return False
    rows = (
        await session.execute(
            select(Inspection.id, Inspection.kind, Inspection.findings).where(
                Inspection.enterprise_id == hazard.enterprise_id,
                Inspection.findings_count > 0,
            )
        )
    ).all()
    for row in rows:
        listed = any(f.get("hazard_id") == hazard.id for f in row.findings or ())
        if row.kind != "self_inspection" and (listed or row.id == hazard.inspection_id):
            return True
    return False


async def _rectification_checks(
    session: AsyncSession, insp: Inspection, given: Sequence[Any]
) -> list[dict[str, Any]]:
    if not given:
        return list(insp.rectification_checks)
    if insp.follows_inspection_id is None:
        raise ValidationFailed.field(
            "rectification_checks",
            "只有回头检查填写整改复查情况",
            "Only a follow_up reports on earlier findings",
            code="invalid_follow_up",
        )
    earlier = (
        await session.execute(
            select(Inspection.findings).where(Inspection.id == insp.follows_inspection_id)
        )
    ).scalar_one()
    known = {f["hazard_id"] for f in earlier or ()}
    unknown = [c.hazard_id for c in given if c.hazard_id not in known]
    if unknown:
        raise ValidationFailed.field(
            "rectification_checks",
            f"以下隐患不是被复查检查的发现：{', '.join(unknown)}",
            f"Not findings of the inspection followed up: {', '.join(unknown)}",
            code="invalid_follow_up",
        )
    merged = {c["hazard_id"]: c for c in insp.rectification_checks}
    for c in given:
        merged[c.hazard_id] = {"hazard_id": c.hazard_id, "rectified": c.rectified, "note": c.note}
    return list(merged.values())


async def transition(
    session: AsyncSession, p: Principal, settings: Settings, insp: Inspection, body: BaseModel
) -> Inspection:
    action: str = body.action  # type: ignore[attr-defined]
    ensure(p, Permission.inspections_transition)
    t = workflow.MACHINE.run(p, await _facts(session, insp), action)
    from_status = insp.status
    now = utcnow()
    note: str | None = getattr(body, "note", None)
    details: dict[str, Any] = {}
    items = await _checklist_items(session, insp)

    if action == "start":
        insp.started_at = now
    elif action == "record_results":
        await _bind_result_files(session, p, insp, body.results)  # type: ignore[attr-defined]
        insp.results = _merge_results(p, insp, items, body.results, now)  # type: ignore[attr-defined]
        insp.rectification_checks = await _rectification_checks(
            session,
            insp,
            body.rectification_checks,  # type: ignore[attr-defined]
        )
        details = {
            "items": [r.item_code for r in body.results],  # type: ignore[attr-defined]
            "rectification_checks": len(body.rectification_checks),  # type: ignore[attr-defined]
        }
    elif action == "add_finding":
        details = await _add_finding(session, p, settings, insp, body, items)  # type: ignore[arg-type]
    elif action == "complete":
        missing = [code for code in items if code not in {r["item_code"] for r in insp.results}]
        if missing:
            raise Conflict(
                f"以下检查项尚无结果：{', '.join(missing)}",
                f"These checklist items have no result yet: {', '.join(missing)}",
                code="results_incomplete",
            )
        await _apply_outcome(session, p, insp, _outcome(insp, body.outcome))  # type: ignore[attr-defined]
        insp.completed_at = now
        details = {"decisions": [d["kind"] for d in (insp.outcome or {}).get("decisions", [])]}
    elif action == "sign":
        user = await session.get(User, p.id)
        assert user is not None
        insp.signatures = [
            *insp.signatures,
            {
                "user_id": p.id,
                "name": user.display_name,
                "enforcement_cert_no": user.enforcement_cert_no,
                "signed_at": now.isoformat(),
            },
        ]
        signed = {s["user_id"] for s in insp.signatures}
        details = {"signed": len(signed), "of": len(insp.inspectors)}
        if set(insp.inspectors) <= signed:
            insp.status = "signed"
            insp.signed_at = now
            insp.signed_snapshot = _snapshot(insp)
            if insp.checklist_id is not None:  # a checklist a signed record used never changes
                await checklists.lock(session, insp.checklist_id)
            await _blacklist_if_decided(session, insp)
    elif action == "amend":
        changes: dict[str, Any] = {}
        if body.outcome is not None:  # type: ignore[attr-defined]
            before = insp.outcome
            await _apply_outcome(session, p, insp, _outcome(insp, body.outcome))  # type: ignore[attr-defined]
            changes["outcome"] = {"from": before, "to": insp.outcome}
        if body.results is not None:  # type: ignore[attr-defined]
            await _bind_result_files(session, p, insp, body.results)  # type: ignore[attr-defined]
            before_results = list(insp.results)
            insp.results = _merge_results(p, insp, items, body.results, now)  # type: ignore[attr-defined]
            changes["results"] = {"from": before_results, "to": insp.results}
        if body.campaign is not None:  # type: ignore[attr-defined]
            changes["campaign"] = {"from": insp.campaign, "to": body.campaign}  # type: ignore[attr-defined]
            insp.campaign = body.campaign  # type: ignore[attr-defined]
        user_name = p.display_name or p.name
        insp.amendments = [
            *insp.amendments,
            {
                "reason": body.reason,  # type: ignore[attr-defined]
                "author_id": p.id,
                "author_name": user_name,
                "at": now.isoformat(),
                "changes": changes,
            },
        ]
        await _blacklist_if_decided(session, insp)
        details = {"fields": sorted(changes)}
        note = body.reason  # type: ignore[attr-defined]
    elif action == "cancel":
        insp.cancel_reason = body.reason  # type: ignore[attr-defined]
        note = body.reason  # type: ignore[attr-defined]

    if t.to_state is not None:
        insp.status = t.to_state
    insp.updated_at = now
    session.add(_event(insp, p, action, from_status, note=note, details=details))
    await session.flush()
    if action == "complete":
        await _notify_to_sign(session, p, insp)
    return insp


async def _notify_to_sign(session: AsyncSession, p: Principal, insp: Inspection) -> None:
    """谁检查、谁签名: the completed record waits for its listed inspectors' signatures; each who
    has not signed is told once, here (``complete`` happens once per inspection), in the same
    transaction. The one completing it is not told of what they just did. A self-inspection's
    inspectors are the enterprise's own people, told the same way."""
    signed = {s["user_id"] for s in insp.signatures}
    to_sign = [u for u in insp.inspectors if u not in signed and u != p.id]
    if not to_sign:
        return
    enterprise = (
        await session.execute(select(Enterprise.name).where(Enterprise.id == insp.enterprise_id))
    ).scalar_one()
    await notify(
        session,
        "inspection_to_sign",
        {"inspection_id": insp.id, "number": insp.number, "enterprise": enterprise},
        link=f"/api/v1/inspections/{insp.id}",
        object_type="inspection",
        object_id=insp.id,
        to_users=to_sign,
    )
