"""Hazard registration, reads and the transitions workflow (rules in ``workflow``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, bindparam, literal, null, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import enterprise_scope, scope_condition, visible_enterprises
from app.core import reads
from app.core.clock import local_date, local_today
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, Sort, fetch_page, parse_sort
from app.models import Attachment, Enterprise, Hazard, HazardEvent, OrgUnit, RiskPoint, User
from app.models.base import utcnow
from app.schemas.common import ListParams, NamedRef, UserRef
from app.schemas.hazards import (
    EscalationStep,
    HazardCreate,
    HazardEventOut,
    Judgment,
    JudgmentOut,
    Plan,
    Supervision,
)
from app.services import attachments as attachment_service
from app.services import external_ids, judgment_standards, reminders
from app.services.hazards import rollup, workflow
from app.services.hazards.queries import (
    Department,
    HazardFilters,
    list_statement,
    stock_cutoff_instant,
)
from app.services.hazards.workflow import OPEN, Facts
from app.services.lifecycle import event_fields, event_out
from app.services.notifications import notify
from app.services.numbering import next_number
from app.services.refs import unit_dict, unit_ref

SORTS = {"found_at": Hazard.found_at, "deadline": Hazard.deadline, "updated_at": Hazard.updated_at}
DEFAULT_SORT = "-found_at"
DEFAULT_DEADLINE_DAYS = 30
GOVERNMENT_SOURCES = frozenset({"inspection", "assigned", "public_report"})
# The supervising unit and official of a listed hazard, joined for their names.
SupervisingUnit = aliased(OrgUnit, name="supervising_unit")
Supervisor = aliased(User, name="supervisor")


# ---- shaping ---------------------------------------------------------------------------------


def _facts(get: Any, today: date, settings: Settings) -> Facts:
    status = get("status")
    taken = get("enterprise_extensions") or 0
    return Facts(
        enterprise_id=get("enterprise_id"),
        status=status,
        level=get("level"),
        source=get("source"),
        is_overdue=status in OPEN and get("deadline") < today,
        supervised=get("supervision_org_unit_id") is not None,
        escalation=get("escalation"),
        enterprise_extensions_left=max(0, settings.enterprise_extensions_max - taken),
    )


def summary(
    row: Any, p: Principal, settings: Settings, today: date, english: bool = False
) -> dict[str, Any]:
    """A list item (``HazardSummary``) from a row by column name, as the plain dict that is
    serialised (``app.core.http``): no model, no validation pass, the row is typed already."""
    return summaries([row], p, settings, today, english)[0]


def summaries(
    rows: Sequence[Any], p: Principal, settings: Settings, today: date, english: bool = False
) -> list[dict[str, Any]]:
    """``summary`` of every row of a page, the stock cut-off worked out once for the page."""
    cutoff = stock_cutoff_instant(settings)
    out = []
    for row in rows:
        get = row.__getitem__
        facts = _facts(get, today, settings)
        found_at = get("found_at")
        out.append(
            {
                "id": get("id"),
                "number": get("number"),
                "enterprise": {"id": facts.enterprise_id, "name": get("enterprise_name")},
                "enforcement_department": unit_dict(
                    get("enforcement_department_id"),
                    get("department_name"),
                    get("department_name_en"),
                    english,
                ),
                "region_code": get("region_code"),
                "sector": get("sector"),
                "title": get("title"),
                "location": get("location"),
                "level": facts.level,
                "source": facts.source,
                "category": get("category"),
                "found_at": found_at,
                "deadline": get("deadline"),
                "status": facts.status,
                "is_overdue": facts.is_overdue,
                "stock": found_at < cutoff,
                "escalation": facts.escalation,
                "supervised": facts.supervised,
                "allowed_actions": workflow.allowed_actions(p, facts),
                "created_at": get("created_at"),
                "updated_at": get("updated_at"),
                "closed_at": get("closed_at"),
                "external_ids": external_ids.out(get(external_ids.COLUMN)),
            }
        )
    return out


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _plan(h: Hazard) -> Plan | None:
    values = {
        "responsible_person": h.plan_responsible_person,
        "measures": h.plan_measures,
        "funds_yuan": _yuan(h.plan_funds_fen),
        "deadline": h.plan_deadline,
        "contingency_plan": h.plan_contingency_plan,
        "interim_measures": h.plan_interim_measures,
        "equipment_out_of_service": h.plan_equipment_out_of_service,
    }
    return Plan.model_construct(**values) if any(v is not None for v in values.values()) else None


# The enterprise, its department and (when listed) the supervising unit and official: names
# readable by whoever may read the hazard, joined in the statement that reads it.
_NAME_COLUMNS = (
    Enterprise.name.label("enterprise_name"),
    Enterprise.region_code,
    Enterprise.sector,
    Enterprise.enforcement_department_id,
    Department.name.label("department_name"),
    Department.name_en.label("department_name_en"),
    SupervisingUnit.name.label("supervising_unit_name"),
    SupervisingUnit.name_en.label("supervising_unit_name_en"),
    Supervisor.display_name.label("supervisor_name"),
)


def _with_names(stmt: Any, supervision_unit: Any, supervisor: Any) -> Any:
    return (
        stmt.join(Department, Department.id == Enterprise.enforcement_department_id)
        .outerjoin(SupervisingUnit, SupervisingUnit.id == supervision_unit)
        .outerjoin(Supervisor, Supervisor.id == supervisor)
    )


def _files_and_steps(hazard_ids: list[str] | None = None) -> Any:
    """The attachments and escalation steps of one hazard (``hazard_id``, a parameter), or of
    the hazards ``hazard_ids`` (each row names its hazard)."""
    text, number, js = String(), Attachment.size.type, HazardEvent.payload.type
    hazard_id = bindparam("hazard_id", type_=String())
    file_of, step_of = (
        (Attachment.hazard_id == hazard_id, HazardEvent.hazard_id == hazard_id)
        if hazard_ids is None
        else (Attachment.hazard_id.in_(hazard_ids), HazardEvent.hazard_id.in_(hazard_ids))
    )
    files = select(
        literal("file").label("row_kind"),
        Attachment.id,
        Attachment.created_at,
        Attachment.hazard_id,
        Attachment.accountability_id,
        Attachment.inspection_id,
        Attachment.phase,
        Attachment.filename,
        Attachment.content_type,
        Attachment.size,
        Attachment.sha256,
        Attachment.thumbnail_key,
        type_coerce(null(), js).label("payload"),
        type_coerce(null(), text).label("actor_id"),
        type_coerce(null(), text).label("actor_name"),
        type_coerce(null(), text).label("note"),
    ).where(file_of)
    steps = select(
        literal("step"),
        HazardEvent.id,
        HazardEvent.created_at,
        HazardEvent.hazard_id,
        type_coerce(null(), text),
        type_coerce(null(), text),
        type_coerce(null(), text),
        type_coerce(null(), text),
        type_coerce(null(), text),
        type_coerce(null(), number),
        type_coerce(null(), text),
        type_coerce(null(), text),
        HazardEvent.payload,
        HazardEvent.actor_id,
        HazardEvent.actor_name,
        HazardEvent.note,
    ).where(step_of, HazardEvent.action == "escalate")
    both = union_all(files, steps).subquery()
    return select(both).order_by(both.c.created_at, both.c.id)


# Built once (a UNION of two selects is the costliest statement of a detail to build).
_FILES_AND_STEPS = reads.Prepared(_files_and_steps())


async def _attachments_and_steps(
    session: reads.Reader, hazard_id: str
) -> tuple[list[Any], list[Any]]:
    """The hazard's attachments and escalation steps in one statement (``UNION ALL``), oldest
    first: a detail costs two statements in all (issue 10)."""
    rows = await _FILES_AND_STEPS.rows(session, {"hazard_id": hazard_id})
    return [r for r in rows if r.row_kind == "file"], [r for r in rows if r.row_kind == "step"]


def _detail_select() -> Any:
    """The hazard with the names of its enterprise, department and supervision."""
    return _with_names(
        select(*Hazard.__table__.c, *_NAME_COLUMNS).join(
            Enterprise, Enterprise.id == Hazard.enterprise_id
        ),
        Hazard.supervision_org_unit_id,
        Hazard.supervision_supervisor_user_id,
    ).add_columns(external_ids.gathered("hazard", Hazard.id))


# Within a scope: built once per scope shape, as building a statement of 45 columns costs more
# than sending it.
_DETAIL = reads.PerShape(
    lambda shape: _detail_select().where(
        Hazard.id == bindparam("hazard_id", type_=String()), scope_condition(shape)
    )
)


async def read_detail(
    session: reads.Reader, p: Principal, settings: Settings, hazard_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """``GET /hazards/{id}``: the hazard with its names in one statement (scope included), its
    attachments and escalation steps in a second. Answers the representation and the version
    (for the ``ETag``)."""
    shape, values = enterprise_scope(p)
    found = await _DETAIL[shape].rows(session, {"hazard_id": hazard_id, **values})
    if not found:
        raise NotFound("隐患不存在", "Hazard not found")
    h = found[0]
    attachments, steps = await _attachments_and_steps(session, h.id)
    return _shape(p, settings, h, h, attachments, steps, english), h.version


async def read_details(
    session: AsyncSession, p: Principal, settings: Settings, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    """Many hazards as ``GET /hazards/{id}`` gives each to this caller (those it may see), in
    two statements (the change feed's pages)."""
    if not ids:
        return {}
    shape, values = enterprise_scope(p)
    stmt = _detail_select().where(Hazard.id.in_(ids), scope_condition(shape, values))
    found = (await session.execute(stmt)).all()
    if not found:
        return {}
    files: dict[str, list[Any]] = {h.id: [] for h in found}
    steps: dict[str, list[Any]] = {h.id: [] for h in found}
    for r in (await session.execute(_files_and_steps([h.id for h in found]))).all():
        (files if r.row_kind == "file" else steps)[r.hazard_id].append(r)
    return {h.id: _shape(p, settings, h, h, files[h.id], steps[h.id], english) for h in found}


async def detail(
    session: AsyncSession, p: Principal, settings: Settings, h: Hazard, english: bool = False
) -> dict[str, Any]:
    """The representation of a hazard already loaded (after a create or a transition)."""
    ent = (
        await session.execute(
            _with_names(
                select(*_NAME_COLUMNS, external_ids.gathered("hazard", literal(h.id))),
                h.supervision_org_unit_id,
                h.supervision_supervisor_user_id,
            ).where(Enterprise.id == h.enterprise_id)
        )
    ).one()
    attachments, steps = await _attachments_and_steps(session, h.id)
    return _shape(p, settings, h, ent, attachments, steps, english)


_SUMMARY_OF_HAZARD = (
    "id",
    "number",
    "enterprise_id",
    "title",
    "location",
    "level",
    "source",
    "category",
    "found_at",
    "deadline",
    "status",
    "escalation",
    "supervision_org_unit_id",
    "enterprise_extensions",
    "created_at",
    "updated_at",
    "closed_at",
)
_SUMMARY_OF_NAMES = (
    "enterprise_name",
    "region_code",
    "sector",
    "enforcement_department_id",
    "department_name",
    "department_name_en",
    external_ids.COLUMN,
)


def _shape(
    p: Principal,
    settings: Settings,
    h: Any,
    ent: Any,
    attachments: list[Any],
    steps: list[Any],
    english: bool,
) -> dict[str, Any]:
    """``HazardOut`` as a dict of the summary's items and the detail's; ``h`` is the hazard (a
    row or the entity), ``ent`` the names read with it."""
    today = local_today(settings.timezone)
    row = {c: getattr(h, c) for c in _SUMMARY_OF_HAZARD}
    row.update({c: getattr(ent, c) for c in _SUMMARY_OF_NAMES})
    out = summary(row, p, settings, today, english)
    out.update(
        enterprise_id=h.enterprise_id,
        inspection_id=h.inspection_id,
        risk_point_id=h.risk_point_id,
        public_report_id=h.public_report_id if p.can(Permission.reports_read) else None,
        description=h.description,
        found_by={"id": h.found_by_id, "name": h.found_by_name or ""} if h.found_by_id else None,
        judgment=JudgmentOut.model_construct(
            standard=h.judgment_standard, clause=h.judgment_clause, text=h.judgment_text
        )
        if h.judgment_standard
        else None,
        plan=_plan(h),
        supervision=Supervision.model_construct(
            org_unit_id=h.supervision_org_unit_id,
            org_unit=unit_ref(
                h.supervision_org_unit_id,
                ent.supervising_unit_name,
                ent.supervising_unit_name_en,
                english,
            ),
            supervisor_user_id=h.supervision_supervisor_user_id,
            supervisor=UserRef.model_construct(
                id=h.supervision_supervisor_user_id, display_name=ent.supervisor_name or ""
            ),
            listed_at=h.supervision_listed_at,
            disclosed=bool(h.supervision_disclosed),
            public_description=h.supervision_public_description,
        )
        if h.supervision_org_unit_id
        else None,
        escalation_history=[
            EscalationStep.model_construct(
                level=(e.payload or {}).get("level"),
                at=e.created_at,
                actor=NamedRef.model_construct(id=e.actor_id, name=e.actor_name or "")
                if e.actor_id
                else None,
                note=e.note,
            )
            for e in steps
        ],
        attachments=[attachment_service.to_out(a, p, settings) for a in attachments],
    )
    return out


# ---- reads -------------------------------------------------------------------------------------


async def get_visible(session: AsyncSession, p: Principal, hazard_id: str) -> Hazard:
    hazard = (
        await session.execute(
            select(Hazard)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(Hazard.id == hazard_id, visible_enterprises(p))
        )
    ).scalar_one_or_none()
    if hazard is None:
        raise NotFound("隐患不存在", "Hazard not found")
    return hazard


async def list_hazards(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    params: ListParams,
    filters: HazardFilters,
) -> tuple[PageResult, Sort, date]:
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    today = local_today(settings.timezone)
    page = await fetch_page(
        session,
        list_statement(p, filters, settings, today),
        sort=sort,
        id_column=Hazard.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, sort, today


async def events(session: AsyncSession, p: Principal, hazard_id: str) -> list[HazardEventOut]:
    """The whole history in one statement, scope included. Every hazard has at least its
    registration event; only when none is found does a second statement tell an empty
    history from a hazard outside the caller's scope (404)."""
    rows = (
        (
            await session.execute(
                select(HazardEvent)
                .join(Hazard, Hazard.id == HazardEvent.hazard_id)
                .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
                .where(HazardEvent.hazard_id == hazard_id, visible_enterprises(p))
                .order_by(HazardEvent.created_at, HazardEvent.id)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        await get_visible(session, p, hazard_id)  # 404 unless it exists in scope
    return [
        HazardEventOut.model_construct(**event_out(e), attachment_ids=e.attachment_ids or [])
        for e in rows
    ]


# ---- writes ------------------------------------------------------------------------------------


def _event(
    h: Hazard,
    p: Principal | None,
    action: str,
    from_status: str | None,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    attachment_ids: list[str] | None = None,
) -> HazardEvent:
    return HazardEvent(
        hazard_id=h.id,
        **event_fields(
            p,
            action,
            from_status,
            h.status,
            at=utcnow(),
            note=note,
            details=details,
            attachment_ids=attachment_ids,
        ),
    )


def _check_judgment(
    level: str, judgment: Judgment | None, sector: str, details: dict[str, Any]
) -> Judgment | None:
    """The judgment a write may store: required for a major hazard and refused for a general one;
    its clause one of its standard's (``app/services/judgment_standards.py``), given as the code
    or the Chinese citation and stored as the code. A clause written for other sectors than the
    enterprise's is accepted (a 工贸 plant's chemicals store is judged by the chemicals standard)
    and marked in the event's ``details`` (``judgment_outside_sector``) for review. Only writes
    that set a judgment call this: an old row citing an unknown clause stays as it is."""
    if level == "major" and judgment is None:
        raise ValidationFailed.field(
            "judgment",
            "重大事故隐患须注明所依据的判定标准及条款",
            "A major hazard must cite the judgment standard and clause it meets",
            code="judgment_required",
        )
    if judgment is None:
        return None
    if level == "general":
        raise ValidationFailed.field(
            "judgment", "一般隐患不填写重大隐患判定依据", "Only a major hazard carries a judgment"
        )
    code = judgment_standards.normalise_clause(judgment.clause)
    found = judgment_standards.clause(judgment.standard, code)
    if found is None:
        elsewhere = [s for s in judgment_standards.standards_with(code) if s != judgment.standard]
        hint_zh = f"；该条款属于：{'、'.join(elsewhere)}" if elsewhere else ""
        hint_en = f"; it is a clause of: {', '.join(elsewhere)}" if elsewhere else ""
        raise ValidationFailed.field(
            "judgment.clause",
            f"“{judgment.clause}”不是判定标准 {judgment.standard} 的条款{hint_zh}"
            f"（条款见 GET /api/v1/catalogs/judgment-standards/{judgment.standard}）",
            f"'{judgment.clause}' is not a clause of the standard {judgment.standard}{hint_en} "
            f"(its clauses: GET /api/v1/catalogs/judgment-standards/{judgment.standard})",
            code="unknown_judgment_clause",
        )
    if sector not in found.sectors:
        details["judgment_outside_sector"] = True
    return judgment.model_copy(update={"clause": found.code})


def _registration_dates(
    p: Principal, settings: Settings, body: HazardCreate
) -> tuple[datetime, date]:
    """``found_at`` and the deadline, bounded so that overdue marking cannot be defeated.

    Never found in the future (5 minutes of clock skew). Enterprise users register what they
    find now: at most ``enterprise_found_at_max_age_days`` ago (stock from earlier years is
    registered by government), with a deadline at most 180 (general) / 365 (major) days after
    discovery. Government may go beyond that bound with a ``deadline_reason``."""
    now = utcnow()
    found_at = body.found_at or now
    if found_at > now + timedelta(minutes=5):
        raise ValidationFailed.field(
            "found_at", "发现时间不能晚于当前时间", "found_at may not be in the future"
        )
    enterprise = p.enterprise_id is not None
    max_age = settings.enterprise_found_at_max_age_days
    if enterprise and found_at < now - timedelta(days=max_age):
        raise ValidationFailed.field(
            "found_at",
            f"企业登记的隐患发现时间不能早于 {max_age} 天前；以往发现的隐患由政府部门登记",
            f"Enterprise users register hazards found in the last {max_age} days; "
            "earlier findings are registered by government",
            code="found_at_too_early",
        )
    found_day = local_date(found_at, settings.timezone)
    max_days = (
        settings.enterprise_deadline_max_days_major
        if body.level == "major"
        else settings.enterprise_deadline_max_days_general
    )
    latest = found_day + timedelta(days=max_days)
    deadline = body.deadline or min(found_day + timedelta(days=DEFAULT_DEADLINE_DAYS), latest)
    if deadline < found_day:
        raise ValidationFailed.field(
            "deadline", "整改期限不能早于发现日期", "deadline may not precede found_at"
        )
    if enterprise and body.deadline_reason is not None:
        raise ValidationFailed.field(
            "deadline_reason",
            "企业用户不能设置超出上限的整改期限",
            "Enterprise users cannot set a deadline beyond the bound",
            code="field_not_writable",
        )
    if deadline > latest:
        if enterprise:
            raise ValidationFailed.field(
                "deadline",
                f"整改期限最迟为发现后 {max_days} 天（{latest.isoformat()}）",
                f"The deadline may be at most {max_days} days after discovery "
                f"({latest.isoformat()})",
                code="deadline_too_late",
            )
        if not body.deadline_reason:
            raise ValidationFailed.field(
                "deadline_reason",
                f"整改期限超过发现后 {max_days} 天，须说明理由",
                f"A deadline more than {max_days} days after discovery needs a deadline_reason",
                code="deadline_reason_required",
            )
    return found_at, deadline


async def create_hazard(
    session: AsyncSession, p: Principal, settings: Settings, body: HazardCreate
) -> Hazard:
    ent = (
        await session.execute(
            select(Enterprise).where(Enterprise.id == body.enterprise_id, visible_enterprises(p))
        )
    ).scalar_one_or_none()
    if ent is None:
        raise ValidationFailed.field(
            "enterprise_id", "企业不存在", "Unknown enterprise", code="unknown_enterprise"
        )
    source = body.source or ("self_inspection" if p.enterprise_id is not None else "inspection")
    if p.enterprise_id is not None:
        if source != "self_inspection":
            raise ValidationFailed.field(
                "source",
                "企业登记的隐患来源只能是企业自查",
                "Enterprise users register self_inspection hazards only",
            )
    elif source not in GOVERNMENT_SOURCES:
        raise ValidationFailed.field(
            "source",
            "政府部门登记的隐患来源应为督导检查、上级交办或举报查实",
            "Government users register inspection, assigned or public_report hazards",
        )
    return await register(session, p, settings, ent, body, source)


async def register(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    ent: Enterprise,
    body: HazardCreate,
    source: str,
    *,
    inspection_id: str | None = None,
) -> Hazard:
    """The one way a hazard is written, for an enterprise the caller may register for (checked
    by the caller: ``create_hazard``, or an inspection's ``add_finding``): number, judgment,
    dates, rollup, attachments and the ``register`` event."""
    details: dict[str, Any] = {}
    if inspection_id is not None:
        details["inspection_id"] = inspection_id
    judgment = _check_judgment(body.level, body.judgment, ent.sector, details)
    found_at, deadline = _registration_dates(p, settings, body)
    risk_point_id = getattr(body, "risk_point_id", None)
    if risk_point_id is not None:
        named = (
            await session.execute(
                select(RiskPoint.id).where(
                    RiskPoint.id == risk_point_id,
                    RiskPoint.enterprise_id == ent.id,
                    RiskPoint.status == "active",
                )
            )
        ).first()
        if named is None:
            raise ValidationFailed.field(
                "risk_point_id",
                "该企业没有此风险点",
                "No such active risk point of this enterprise",
                code="unknown_risk_point",
            )
    county_code = ent.region_code[:6]
    hazard = Hazard(
        number=await next_number(session, county_code, local_today(settings.timezone).year),
        county_code=county_code,
        enterprise_id=ent.id,
        title=body.title,
        description=body.description,
        location=body.location,
        level=body.level,
        source=source,
        category=body.category,
        found_at=found_at,
        found_by_id=p.id,
        found_by_name=p.display_name or p.name,
        deadline=deadline,
        status="registered",
        escalation="none",
        judgment_standard=judgment.standard if judgment else None,
        judgment_clause=judgment.clause if judgment else None,
        judgment_text=judgment.text if judgment else None,
        inspection_id=inspection_id,
        risk_point_id=risk_point_id,
    )
    session.add(hazard)
    await session.flush()
    await rollup.apply(
        session, [(None, rollup.key_of(hazard, await rollup.enterprise_dims(session, ent.id)))]
    )
    await attachment_service.bind(session, p, hazard.id, body.attachment_ids, "discovery")
    if body.deadline_reason:
        details["deadline_reason"] = body.deadline_reason
    session.add(
        _event(hazard, p, "register", None, details=details, attachment_ids=body.attachment_ids)
    )
    await session.flush()
    return hazard


PHASE_BY_STATUS = {
    "registered": "discovery",
    "rectifying": "rectification",
    "awaiting_acceptance": "acceptance",
}


async def evidence_target(
    session: AsyncSession, p: Principal, settings: Settings, hazard_id: str, phase: str | None
) -> tuple[Hazard, str]:
    """Where an upload sent with ``hazard_id`` goes: an open hazard in scope that the caller may
    act on, and the phase. Acceptance evidence comes only from whoever may accept the hazard
    (the ``accept`` rule of the workflow table); without a phase, the step the hazard is at,
    as far as the caller takes part in it (awaiting acceptance: acceptance for those who may
    accept, rectification for the others)."""
    hazard = (
        await session.execute(
            select(Hazard)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(Hazard.id == hazard_id, visible_enterprises(p))
        )
    ).scalar_one_or_none()
    if hazard is None:
        raise ValidationFailed.field(
            "hazard_id", "隐患不存在", "Unknown hazard", code="unknown_hazard"
        )
    ensure(p, Permission.hazards_transition)
    if hazard.status not in OPEN:
        raise Conflict(
            "隐患已办结，不能再上传材料",
            "The hazard is closed or voided",
            code="invalid_transition",
        )
    today = local_today(settings.timezone)
    facts = _facts(lambda name: getattr(hazard, name), today, settings)
    may_accept = workflow.TRANSITIONS["accept"].who(p, facts)
    if phase is None:
        phase = PHASE_BY_STATUS[hazard.status]
        if phase == "acceptance" and not may_accept:
            phase = "rectification"
    elif phase == "acceptance" and not may_accept:
        raise Forbidden(
            "只有有权验收该隐患的单位或人员可以上传验收材料",
            "Only whoever may accept this hazard may upload acceptance evidence",
            code="acceptance_evidence_forbidden",
        )
    return hazard, phase


async def record_attachment(
    session: AsyncSession, p: Principal, target: tuple[Hazard, str], attachment_id: str
) -> None:
    """The ``attach`` event of an upload bound at once (sent with ``hazard_id``), in the same
    transaction. Files cited by a registration or a transition are named by that event's
    ``attachment_ids``. The hazard's version (ETag) stays: evidence is added, nothing the
    caller read is overwritten."""
    hazard, phase = target
    session.add(
        _event(
            hazard,
            p,
            "attach",
            hazard.status,
            details={"attachment_id": attachment_id, "phase": phase},
            attachment_ids=[attachment_id],
        )
    )
    await session.flush()


async def _require_evidence(session: AsyncSession, hazard: Hazard, what: str) -> None:
    has = (
        await session.execute(
            select(Attachment.id)
            .where(Attachment.hazard_id == hazard.id, Attachment.phase == "rectification")
            .limit(1)
        )
    ).first()
    if not has:
        raise ValidationFailed.field(
            "attachment_ids",
            f"{what}须上传至少一份整改后照片或材料",
            "At least one rectification attachment (after-photo or document) is required",
            code="evidence_required",
        )


def _apply_plan(hazard: Hazard, plan: Plan) -> dict[str, Any]:
    required = ["responsible_person", "measures", "deadline"]
    if hazard.level == "major":
        required = [
            "responsible_person",
            "measures",
            "funds_yuan",
            "deadline",
            "contingency_plan",
            "interim_measures",
            "equipment_out_of_service",
        ]
    missing = [name for name in required if getattr(plan, name) is None]
    if missing:
        raise ValidationFailed(
            "整改方案缺少必填项（重大隐患须五落实齐全并有临时管控措施）",
            "The plan is missing required items (a major hazard needs all five plus interim measures)",
            code="plan_incomplete",
            errors=[
                {"field": f"plan.{m}", "message_zh": "必填", "message_en": "Required"}
                for m in missing
            ],
        )
    assert plan.deadline is not None
    if plan.deadline > hazard.deadline:
        raise ValidationFailed.field(
            "plan.deadline",
            "方案期限晚于整改期限，请先申请延期",
            "The plan deadline is after the hazard deadline; extend first",
        )
    hazard.plan_responsible_person = plan.responsible_person
    hazard.plan_measures = plan.measures
    hazard.plan_funds_fen = int(plan.funds_yuan * 100) if plan.funds_yuan is not None else None
    hazard.plan_deadline = plan.deadline
    hazard.plan_contingency_plan = plan.contingency_plan
    hazard.plan_interim_measures = plan.interim_measures
    hazard.plan_equipment_out_of_service = plan.equipment_out_of_service
    return {"plan_deadline": plan.deadline.isoformat()}


async def transition(
    session: AsyncSession, p: Principal, settings: Settings, hazard: Hazard, body: BaseModel
) -> Hazard:
    action: str = body.action  # type: ignore[attr-defined]
    today = local_today(settings.timezone)
    facts = _facts(lambda name: getattr(hazard, name), today, settings)
    ensure(p, Permission.hazards_transition)
    t = workflow.MACHINE.run(p, facts, action)

    from_status = hazard.status
    dims = await rollup.enterprise_dims(session, hazard.enterprise_id)
    counted_as = rollup.key_of(hazard, dims)
    note: str | None = getattr(body, "note", None)
    details: dict[str, Any] = {}
    bound: list[str] = list(dict.fromkeys(getattr(body, "attachment_ids", []) or []))
    now = utcnow()

    if action == "plan":
        details = _apply_plan(hazard, body.plan)  # type: ignore[attr-defined]
    elif action in ("fix_on_spot", "complete"):
        await attachment_service.bind(session, p, hazard.id, bound, "rectification")
        await _require_evidence(
            session, hazard, "立查立改" if action == "fix_on_spot" else "整改完成"
        )
    elif action == "accept":
        await attachment_service.bind(session, p, hazard.id, bound, "acceptance")
    elif action == "extend":
        new_deadline: date = body.deadline  # type: ignore[attr-defined]
        if new_deadline <= hazard.deadline:
            raise ValidationFailed.field(
                "deadline", "延期后的期限应晚于原期限", "The new deadline must be later"
            )
        details = {
            "from_deadline": hazard.deadline.isoformat(),
            "to_deadline": new_deadline.isoformat(),
        }
        # Government extends as often and as far as it decides (the body's reason is mandatory);
        # the enterprise's own extension is bounded and counted (the guard refuses the next one).
        if p.enterprise_id is not None:
            max_days = settings.enterprise_extension_max_days
            latest = hazard.deadline + timedelta(days=max_days)
            if new_deadline > latest:
                raise ValidationFailed.field(
                    "deadline",
                    f"企业自行延期最多 {max_days} 天（至 {latest.isoformat()}），更长须由政府部门延期",
                    f"An enterprise may extend by at most {max_days} days (to {latest.isoformat()}); "
                    "government in scope may extend further",
                    code="extension_too_long",
                )
            hazard.enterprise_extensions = (hazard.enterprise_extensions or 0) + 1
            details["enterprise_extension"] = hazard.enterprise_extensions
        hazard.deadline = new_deadline
        hazard.overdue_marked_on = None
    elif action == "reclassify":
        level: str = body.level  # type: ignore[attr-defined]
        if level == hazard.level:
            raise ValidationFailed.field(
                "level", "新等级与当前等级相同", "The hazard already has this level"
            )
        details = {"from_level": hazard.level, "to_level": level}
        judgment = _check_judgment(level, body.judgment, dims.sector, details)  # type: ignore[attr-defined]
        hazard.judgment_standard = judgment.standard if judgment else None
        hazard.judgment_clause = judgment.clause if judgment else None
        hazard.judgment_text = judgment.text if judgment else None
        hazard.level = level
    elif action == "supervise":
        supervisor_id = body.supervisor_user_id or (p.id if p.kind == "user" else None)  # type: ignore[attr-defined]
        supervisor = await session.get(User, supervisor_id) if supervisor_id else None
        assert p.unit is not None
        if supervisor is None or not supervisor.is_active or supervisor.org_unit_id != p.unit.id:
            raise ValidationFailed.field(
                "supervisor_user_id",
                "督办责任人应为本单位在岗人员",
                "The supervisor must be an active user of your unit",
            )
        hazard.supervision_org_unit_id = p.unit.id
        hazard.supervision_supervisor_user_id = supervisor.id
        hazard.supervision_listed_at = now
        hazard.supervision_disclosed = body.disclosed  # type: ignore[attr-defined]
        hazard.supervision_public_description = body.public_description  # type: ignore[attr-defined]
        details = {"supervisor_user_id": supervisor.id, "disclosed": bool(body.disclosed)}  # type: ignore[attr-defined]
    elif action == "unsupervise":
        details = {"org_unit_id": hazard.supervision_org_unit_id}
        hazard.supervision_org_unit_id = None
        hazard.supervision_supervisor_user_id = None
        hazard.supervision_listed_at = None
        hazard.supervision_disclosed = None
        hazard.supervision_public_description = None
    elif action == "escalate":
        hazard.escalation = workflow.next_escalation(hazard.escalation)
        details = {"level": hazard.escalation}

    reason: str | None = getattr(body, "reason", None)
    if reason:  # the reason is the event's note; a note sent beside it is kept in the details
        if note:
            details["note"] = note
        note = reason
    if t.to_state is not None:
        hazard.status = t.to_state
        if t.to_state == "closed":
            hazard.closed_at = now
    hazard.updated_at = now
    session.add(
        _event(hazard, p, action, from_status, note=note, details=details, attachment_ids=bound)
    )
    await session.flush()
    await rollup.apply(session, [(counted_as, rollup.key_of(hazard, dims))])
    if action == "supervise":
        await _notify_supervised(session, p, hazard)
    return hazard


async def _notify_supervised(session: AsyncSession, p: Principal, hazard: Hazard) -> None:
    """挂牌督办 reaches those who answer for the hazard, by the reminders' rule (the enterprise,
    its town, its enforcement department), except the unit that listed it: it took the decision
    (its named supervisor, when someone else, is told). Same transaction as the listing."""
    assert p.unit is not None
    row = (await session.execute(reminders.due(Hazard.id == hazard.id))).one()
    supervisor = hazard.supervision_supervisor_user_id
    await notify(
        session,
        "hazard_supervised",
        {
            "hazard_id": hazard.id,
            "number": hazard.number,
            "title": hazard.title,
            "unit": p.unit.name,
            "unit_en": p.unit.name_en,
            "deadline": hazard.deadline.isoformat() if hazard.deadline else None,
        },
        link=f"/api/v1/hazards/{hazard.id}",
        object_type="hazard",
        object_id=hazard.id,
        to_units=[u for u in reminders.recipient_units(row) if u != p.unit.id],
        to_enterprises=[hazard.enterprise_id],
        to_users=[supervisor] if supervisor and supervisor != p.id else [],
    )
