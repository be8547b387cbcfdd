"""Double-random draws (双随机一公开): the pools a caller may draw from, the draw itself (the
published algorithm of ``algorithm``), the inspections it plans, and the reads that let anyone
check it.

The enterprise pool is the caller's scope (``visible_enterprises``) narrowed by the request's
filters, operating enterprises only; the inspector pool is the ids the request names, each an
active government user of the county who inspects and holds an enforcement certificate. Both
are stored in canonical order with what 回避 reads (the enterprises' region codes, the
inspectors' towns) as they were at the draw, so the draw can be recomputed later whatever
changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_draws, visible_enterprises
from app.core import reads
from app.core.clock import local_date, start_of_local_day
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Draw, Enterprise, Inspection, InspectionDecision, OrgUnit, User
from app.schemas.common import ListParams
from app.schemas.draws import DrawCreate
from app.services.draws import algorithm
from app.services.inspections import service as inspection_service
from app.services.refs import unit_dict

SORTS = {"created_at": Draw.created_at, "planned_for": Draw.planned_for}
DEFAULT_SORT = "-created_at"
# A draw never changes once made (its inspections do, and are read live): its ETag never does.
VERSION = 1
# Who may be drawn as an inspector: the roles an inspection takes as its inspectors (admins,
# managers, officers, inspectors: never an expert, a viewer or an enterprise's people).
INSPECTING_ROLES = inspection_service.INSPECTOR_ROLES
# An inspection of the draw that is over: the public view waits for every one.
DONE = ("completed", "signed", "cancelled")
# The enterprise's own self-inspections do not count as "inspected" for not_inspected_since.
SELF_INSPECTION = "self_inspection"


@dataclass(frozen=True)
class Selection:
    """A draw computed and checked, before anything is written."""

    result: algorithm.DrawResult
    conducting_unit: dict[str, Any]
    enterprises: dict[str, dict[str, Any]]  # id → {id, name, region_code}
    inspectors: dict[str, dict[str, Any]]  # id → {id, display_name, town_region_code}
    criteria: dict[str, Any]


# ---- the pools ----------------------------------------------------------------------------------


async def _conducting_unit(
    session: AsyncSession, p: Principal, unit_id: str | None
) -> dict[str, Any]:
    """The caller's unit by default; another unit of the county for admins and county staff
    (403 ``outside_scope`` for anyone else), 422 ``unknown_org_unit`` if not of the county."""
    home = p.unit
    if home is None or not p.is_government:  # the permission admits only government callers
        raise Forbidden("双随机抽取由政府单位进行", "Draws are made by government units")
    if unit_id is not None and unit_id != home.id and not (p.is_admin or home.kind == "county"):
        raise Forbidden(
            "乡镇/街道和行业部门只能以本单位名义抽取",
            "A town or bureau draws in its own name only",
            code="outside_scope",
        )
    rows = await reads.rows(
        session,
        select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en, OrgUnit.kind).where(
            OrgUnit.id == (unit_id or home.id), OrgUnit.county_code == home.county_code
        ),
    )
    if not rows:
        raise ValidationFailed.field(
            "conducting_unit_id",
            "单位不存在或不属于本县",
            "Unknown org unit: not a unit of your county",
            code="unknown_org_unit",
        )
    return dict(rows[0])


async def _inspector_pool(
    session: AsyncSession, p: Principal, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The named inspectors, each an active government user of the caller's county who
    inspects (422 ``unknown_inspector`` naming the others) and holds an enforcement certificate
    (422 ``inspector_not_certified`` naming those without)."""
    assert p.unit is not None
    unique = list(dict.fromkeys(ids))
    if len(unique) < 2:
        raise ValidationFailed.field(
            "inspector_ids",
            "检查人员库至少需要两名不同的人员",
            "The inspector pool needs at least two different people",
        )
    rows = await reads.rows(
        session,
        select(
            User.id,
            User.display_name,
            User.role,
            User.enforcement_cert_no,
            OrgUnit.kind.label("unit_kind"),
            OrgUnit.region_code.label("unit_region_code"),
        )
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(
            User.id.in_(unique),
            User.is_active.is_(True),
            User.enterprise_id.is_(None),
            User.role.in_(INSPECTING_ROLES),
            OrgUnit.county_code == p.unit.county_code,
        ),
    )
    found = {r["id"]: r for r in rows}
    unknown = [u for u in unique if u not in found]
    if unknown:
        listed = ", ".join(unknown)
        raise ValidationFailed.field(
            "inspector_ids",
            f"以下人员不存在、已停用、不属于本县政府单位或不承担检查：{listed}",
            f"Not an active government user of your county who inspects: {listed}",
            code="unknown_inspector",
        )
    uncertified = [u for u in unique if not (found[u]["enforcement_cert_no"] or "").strip()]
    if uncertified:
        listed = ", ".join(uncertified)
        raise ValidationFailed.field(
            "inspector_ids",
            f"以下人员没有执法证号，不能参加双随机执法检查：{listed}",
            f"No enforcement certificate recorded (enforcement_cert_no): {listed}",
            code="inspector_not_certified",
        )
    return {
        u: {
            "id": u,
            "display_name": found[u]["display_name"],
            "town_region_code": (
                found[u]["unit_region_code"] if found[u]["unit_kind"] == "town" else None
            ),
        }
        for u in unique
    }


def _pool_conditions(p: Principal, body: DrawCreate, settings: Settings) -> list[Any]:
    out: list[ColumnElement[bool]] = [visible_enterprises(p), Enterprise.status == "operating"]
    if body.sector:
        out.append(Enterprise.sector.in_(body.sector))
    if body.region_code:
        out.append(Enterprise.region_code.like(body.region_code + "%"))
    if body.risk_color:
        out.append(Enterprise.risk_color.in_(body.risk_color))
    if body.not_inspected_since is not None:
        since = start_of_local_day(body.not_inspected_since, settings.timezone)
        inspected = exists(
            select(Inspection.id).where(
                Inspection.enterprise_id == Enterprise.id,
                Inspection.kind != SELF_INSPECTION,
                Inspection.completed_at >= since,
            )
        )
        out.append(~inspected)
    return out


async def _enterprise_pool(
    session: AsyncSession, p: Principal, body: DrawCreate, settings: Settings
) -> dict[str, dict[str, Any]]:
    rows = await reads.rows(
        session,
        select(Enterprise.id, Enterprise.name, Enterprise.region_code)
        .where(*_pool_conditions(p, body, settings))
        .order_by(Enterprise.id),
    )
    return {r["id"]: dict(r) for r in rows}


def _criteria(body: DrawCreate) -> dict[str, Any]:
    return {
        "status": "operating",
        "sector": list(body.sector) if body.sector else None,
        "region_code": body.region_code,
        "risk_color": list(body.risk_color) if body.risk_color else None,
        "not_inspected_since": (
            body.not_inspected_since.isoformat() if body.not_inspected_since else None
        ),
        "sample_size": body.sample_size,
        "sample_rate": str(body.sample_rate) if body.sample_rate is not None else None,
        "checklist_id": body.checklist_id,
        "campaign": body.campaign,
    }


async def select_draw(
    session: AsyncSession, p: Principal, settings: Settings, body: DrawCreate
) -> Selection:
    """Reads both pools and runs the algorithm; writes nothing. 422 ``draw_pool_empty`` when
    no enterprise matches, ``draw_unpaired`` when a picked enterprise cannot be given two
    inspectors outside its town (naming them), and the pool checks above."""
    unit = await _conducting_unit(session, p, body.conducting_unit_id)
    inspectors = await _inspector_pool(session, p, body.inspector_ids)
    enterprises = await _enterprise_pool(session, p, body, settings)
    if not enterprises:
        raise ValidationFailed(
            "没有符合条件的企业：抽取范围为本单位管辖范围内正常经营、符合筛选条件的企业",
            "No enterprise matches: the pool is the operating enterprises of your scope that "
            "match every filter",
            code="draw_pool_empty",
        )
    result = algorithm.draw(
        body.seed,
        [algorithm.PoolEnterprise(e["id"], e["region_code"]) for e in enterprises.values()],
        [
            algorithm.PoolInspector(u["id"], u["town_region_code"], True)
            for u in inspectors.values()
        ],
        sample_size=body.sample_size,
        sample_rate=body.sample_rate,
    )
    if result.unpaired:
        names = "、".join(f"{enterprises[e]['name']}（{e}）" for e in result.unpaired)
        names_en = ", ".join(f"{enterprises[e]['name']} ({e})" for e in result.unpaired)
        raise ValidationFailed(
            f"以下企业抽中后无法配齐两名回避属地的持证检查人员，请扩大检查人员库：{names}",
            "No two certified inspectors from outside the enterprise's own town (回避) for: "
            f"{names_en}; widen the inspector pool",
            code="draw_unpaired",
            errors=[
                {
                    "field": "inspector_ids",
                    "message_zh": f"无法配齐检查人员：{enterprises[e]['name']}",
                    "message_en": f"No pair of inspectors for {e}",
                }
                for e in result.unpaired
            ],
        )
    return Selection(result, unit, enterprises, inspectors, _criteria(body))


# ---- the draw ----------------------------------------------------------------------------------


async def create(
    session: AsyncSession, p: Principal, settings: Settings, body: DrawCreate, english: bool
) -> dict[str, Any]:
    """Draws (``select_draw``), stores the draw and plans one ``double_random`` inspection per
    pick through the inspection service's ``plan`` (its number, people and ``plan`` event), all
    in the request's transaction: a refusal anywhere writes nothing. Answers the detail."""
    chosen = await select_draw(session, p, settings, body)
    result = chosen.result
    assert p.unit is not None
    criteria = {
        **chosen.criteria,
        "drawn_by": {"kind": p.kind, "id": p.id, "name": p.display_name or p.name},
        # What 回避 read, as it was at the draw: the draw stays checkable whatever changes.
        "enterprise_region_codes": {
            e: chosen.enterprises[e]["region_code"] for e in result.enterprise_pool
        },
        "inspector_town_codes": {
            u: chosen.inspectors[u]["town_region_code"] for u in result.inspector_pool
        },
    }
    draw = Draw(
        county_code=p.unit.county_code,
        conducting_unit_id=chosen.conducting_unit["id"],
        name=body.name,
        seed=body.seed,
        algorithm=result.algorithm,
        algorithm_version=result.version,
        criteria=criteria,
        enterprise_pool=list(result.enterprise_pool),
        inspector_pool=list(result.inspector_pool),
        picks=[],
        planned_for=body.planned_for,
        created_by=p.audit_id,
    )
    session.add(draw)
    await session.flush()
    picked = [pick.enterprise_id for pick in result.picks]
    objects = {
        e.id: e
        for e in (await session.execute(select(Enterprise).where(Enterprise.id.in_(picked))))
        .scalars()
        .all()
    }
    picks: list[dict[str, Any]] = []
    planned: dict[str, dict[str, Any]] = {}
    for pick in result.picks:
        inspection = await inspection_service.plan(
            session,
            p,
            settings,
            kind="double_random",
            enterprise=objects[pick.enterprise_id],
            conducting_unit_id=draw.conducting_unit_id,
            planned_for=body.planned_for,
            inspectors=list(pick.inspector_ids),
            checklist_id=body.checklist_id,
            campaign=body.campaign,
            draw_id=draw.id,
        )
        picks.append(
            {
                "enterprise_id": pick.enterprise_id,
                "inspector_ids": list(pick.inspector_ids),
                "inspection_id": inspection.id,
            }
        )
        planned[inspection.id] = {
            "number": inspection.number,
            "status": inspection.status,
            "enterprise_name": chosen.enterprises[pick.enterprise_id]["name"],
        }
    draw.picks = picks
    await session.flush()
    row = {
        **{c.key: getattr(draw, c.key) for c in Draw.__table__.c},
        "unit_name": chosen.conducting_unit["name"],
        "unit_name_en": chosen.conducting_unit["name_en"],
    }
    names = {u: i["display_name"] for u, i in chosen.inspectors.items()}
    return detail(row, planned, names, english)


# ---- reads ----------------------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    Draw.id,
    Draw.name,
    Draw.conducting_unit_id,
    OrgUnit.name.label("unit_name"),
    OrgUnit.name_en.label("unit_name_en"),
    Draw.planned_for,
    Draw.seed,
    Draw.algorithm,
    Draw.algorithm_version,
    func.json_array_length(Draw.enterprise_pool).label("enterprise_pool_size"),
    func.json_array_length(Draw.inspector_pool).label("inspector_pool_size"),
    func.json_array_length(Draw.picks).label("sample"),
    Draw.criteria,
    Draw.created_at,
)
_LIST = select(*_SUMMARY_COLUMNS).join(OrgUnit, OrgUnit.id == Draw.conducting_unit_id)
_DETAIL = select(
    *Draw.__table__.c, OrgUnit.name.label("unit_name"), OrgUnit.name_en.label("unit_name_en")
).join(OrgUnit, OrgUnit.id == Draw.conducting_unit_id)


def summary(row: Any, english: bool) -> dict[str, Any]:
    """A list item (``DrawSummary``) from a row of ``_SUMMARY_COLUMNS`` (or the same names)."""
    criteria = row["criteria"] or {}
    return {
        "id": row["id"],
        "name": row["name"],
        "conducting_unit": unit_dict(
            row["conducting_unit_id"], row["unit_name"], row["unit_name_en"], english
        ),
        "planned_for": row["planned_for"],
        "seed": row["seed"],
        "algorithm": {"name": row["algorithm"], "version": row["algorithm_version"]},
        "enterprise_pool_size": row["enterprise_pool_size"],
        "inspector_pool_size": row["inspector_pool_size"],
        "sample": row["sample"],
        "drawn_by": criteria.get("drawn_by"),
        "created_at": row["created_at"],
    }


async def list_draws(session: AsyncSession, p: Principal, params: ListParams) -> PageResult:
    """One statement a page: the draws the caller sees (``visible_draws``)."""
    return await fetch_page(
        session,
        _LIST.where(visible_draws(p)),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=Draw.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


def _not_found() -> NotFound:
    return NotFound("抽取记录不存在", "Draw not found")


async def _pick_inspections(session: AsyncSession, draw_id: str) -> dict[str, Any]:
    rows = await reads.rows(
        session,
        select(
            Inspection.id,
            Inspection.number,
            Inspection.status,
            Inspection.findings_count,
            Enterprise.name.label("enterprise_name"),
        )
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(Inspection.draw_id == draw_id),
    )
    return {r["id"]: r for r in rows}


async def _names(session: AsyncSession, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = await reads.rows(
        session, select(User.id, User.display_name).where(User.id.in_(sorted(set(user_ids))))
    )
    return {r["id"]: r["display_name"] for r in rows}


def detail(
    row: Any, inspections: dict[str, Any], names: dict[str, str], english: bool
) -> dict[str, Any]:
    """The representation of one draw (``DrawOut``)."""
    criteria = dict(row["criteria"] or {})
    regions = criteria.get("enterprise_region_codes") or {}
    towns = criteria.get("inspector_town_codes") or {}
    out = summary(
        {
            **row,
            "enterprise_pool_size": len(row["enterprise_pool"]),
            "inspector_pool_size": len(row["inspector_pool"]),
            "sample": len(row["picks"]),
        },
        english,
    )
    out["criteria"] = {
        k: criteria.get(k)
        for k in (
            "status",
            "sector",
            "region_code",
            "risk_color",
            "not_inspected_since",
            "sample_size",
            "sample_rate",
        )
    }
    out["checklist_id"] = criteria.get("checklist_id")
    out["campaign"] = criteria.get("campaign")
    out["enterprise_pool"] = [
        {"id": e, "region_code": regions.get(e, "")} for e in row["enterprise_pool"]
    ]
    out["inspector_pool"] = [
        {"id": u, "display_name": names.get(u, ""), "town_region_code": towns.get(u)}
        for u in row["inspector_pool"]
    ]
    picks = []
    for rank, pick in enumerate(row["picks"], start=1):
        # Planned in the draw's own transaction and never deleted: always there.
        inspection = inspections[pick["inspection_id"]]
        picks.append(
            {
                "rank": rank,
                "enterprise": {"id": pick["enterprise_id"], "name": inspection["enterprise_name"]},
                "inspectors": [
                    {"id": u, "display_name": names.get(u, "")} for u in pick["inspector_ids"]
                ],
                "inspection": {
                    "id": pick["inspection_id"],
                    "number": inspection["number"],
                    "status": inspection["status"],
                },
            }
        )
    out["picks"] = picks
    return out


async def read_detail(
    session: AsyncSession, p: Principal, draw_id: str, english: bool
) -> dict[str, Any]:
    """Three statements: the draw in scope (404 outside it as for a missing id), its
    inspections with their enterprises' names, the names of the inspector pool."""
    found = await reads.rows(session, _DETAIL.where(Draw.id == draw_id, visible_draws(p)))
    if not found:
        raise _not_found()
    row = found[0]
    inspections = await _pick_inspections(session, draw_id)
    names = await _names(session, list(row["inspector_pool"]))
    return detail(row, inspections, names, english)


async def read_public(session: AsyncSession, settings: Settings, draw_id: str) -> dict[str, Any]:
    """The published draw (公开): 404 until every inspection it planned is completed, signed
    or cancelled; then the name, day, seed, algorithm, and per pick the enterprise's name, the
    inspectors' names and the result. No ids of people, no pools."""
    found = await reads.rows(
        session,
        select(
            Draw.id,
            Draw.name,
            Draw.seed,
            Draw.algorithm,
            Draw.algorithm_version,
            Draw.planned_for,
            Draw.picks,
            Draw.created_at,
        ).where(Draw.id == draw_id),
    )
    if not found:
        raise _not_found()
    row = found[0]
    inspections = await _pick_inspections(session, draw_id)
    picks = list(row["picks"] or ())
    if any(
        pick["inspection_id"] not in inspections
        or inspections[pick["inspection_id"]]["status"] not in DONE
        for pick in picks
    ):
        raise _not_found()  # not yet published: indistinguishable from a draw that is not there
    decisions: dict[str, list[str]] = {}
    if inspections:
        for d in await reads.rows(
            session,
            select(InspectionDecision.inspection_id, InspectionDecision.kind)
            .where(InspectionDecision.inspection_id.in_(sorted(inspections)))
            .order_by(InspectionDecision.inspection_id, InspectionDecision.id),
        ):
            decisions.setdefault(d["inspection_id"], []).append(d["kind"])
    names = await _names(session, [u for pick in picks for u in pick["inspector_ids"]])
    return {
        "name": row["name"],
        "drawn_on": local_date(row["created_at"], settings.timezone),
        "planned_for": row["planned_for"],
        "seed": row["seed"],
        "algorithm": {"name": row["algorithm"], "version": row["algorithm_version"]},
        "picks": [
            {
                "enterprise_name": inspections[pick["inspection_id"]]["enterprise_name"],
                "inspectors": [names.get(u, "") for u in pick["inspector_ids"]],
                "result": {
                    "status": inspections[pick["inspection_id"]]["status"],
                    "findings_count": inspections[pick["inspection_id"]]["findings_count"],
                    "decisions": list(dict.fromkeys(decisions.get(pick["inspection_id"], []))),
                },
            }
            for pick in picks
        ],
    }
