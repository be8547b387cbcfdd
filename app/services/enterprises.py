"""Enterprises (生产经营单位): registration, updates and the scoped list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.principal_cache import record_change
from app.auth.scope import (
    enterprise_scope,
    enterprise_would_be_visible,
    scope_condition,
    visible_enterprises,
)
from app.core import json_agg, reads
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, Sort, fetch_page, parse_sort
from app.models import BlacklistEntry, Enterprise, MajorHazardInstallation, OrgUnit, RiskPoint
from app.schemas.common import ListParams
from app.schemas.enterprises import (
    CONTACT_FIELDS,
    EnterpriseCreate,
    EnterpriseUpdate,
)
from app.services import external_ids
from app.services.hazards import rollup
from app.services.refs import remember, unit_dict, unit_names

# The enforcement department, joined for its name (an alias: never correlated with a subquery).
Department = aliased(OrgUnit, name="department")
COLUMNS = (
    Enterprise.id,
    Enterprise.name,
    Enterprise.credit_code,
    Enterprise.region_code,
    Enterprise.address,
    Enterprise.lat,
    Enterprise.lng,
    Enterprise.coordinate_system,
    Enterprise.sector,
    Enterprise.industry_code,
    Enterprise.enforcement_department_id,
    Department.name.label("department_name"),
    Department.name_en.label("department_name_en"),
    Enterprise.scale,
    Enterprise.risk_color,
    Enterprise.standardization_grade,
    Enterprise.principal_name,
    Enterprise.principal_phone,
    Enterprise.actual_controller_name,
    Enterprise.actual_controller_phone,
    Enterprise.status,
    Enterprise.created_at,
    Enterprise.updated_at,
)
SORTS = {
    "name": Enterprise.name,
    "credit_code": Enterprise.credit_code,
    "created_at": Enterprise.created_at,
    "updated_at": Enterprise.updated_at,
}
DEFAULT_SORT = "name"


# The blacklist entries (current and past) and the major hazard installations, gathered into
# the enterprise's row (app/core/json_agg.py): a list page and a detail stay one statement.
BLACKLIST_TIMES = ("listed_at", "removed_at")
_BLACKLIST = (
    select(
        json_agg.json_rows(
            ("id", BlacklistEntry.id),
            ("listed_at", BlacklistEntry.listed_at),
            ("reason", BlacklistEntry.reason),
            ("decided_by_inspection_id", BlacklistEntry.decided_by_inspection_id),
            ("decided_by_unit_id", BlacklistEntry.decided_by_unit_id),
            ("removed_at", BlacklistEntry.removed_at),
            ("removed_reason", BlacklistEntry.removed_reason),
            ("removed_by", BlacklistEntry.removed_by),
        )
    )
    .where(BlacklistEntry.enterprise_id == Enterprise.id)
    .correlate(Enterprise)
    .scalar_subquery()
    .label("blacklist_json")
)
_INSTALLATIONS = (
    select(
        json_agg.json_rows(
            ("id", MajorHazardInstallation.id),
            ("name", MajorHazardInstallation.name),
            ("grade", MajorHazardInstallation.grade),
            ("substances", MajorHazardInstallation.substances),
        )
    )
    .where(MajorHazardInstallation.enterprise_id == Enterprise.id)
    .correlate(Enterprise)
    .scalar_subquery()
    .label("installations_json")
)
# The ids other systems give it (app/services/external_ids.py), in the same row.
_EXTERNAL_IDS = external_ids.gathered("enterprise", Enterprise.id)


def blacklist_out(text: str | None) -> list[dict[str, Any]]:
    """The entries of ``blacklist_json``, newest first."""
    entries = json_agg.parse(text, BLACKLIST_TIMES)
    entries.sort(key=lambda e: (e["listed_at"], e["id"]), reverse=True)
    return entries


def installations_out(text: str | None) -> list[dict[str, Any]]:
    """The installations of ``installations_json``, by grade (一级 first) then name."""
    found = json_agg.parse(text)
    found.sort(key=lambda i: (i["grade"], i["name"], i["id"]))
    return found


def _contact(name: str | None, phone: str | None) -> dict[str, Any] | None:
    return {"name": name, "phone": phone} if name else None


def row_out(row: Any, english: bool) -> dict[str, Any]:
    """A list row (``COLUMNS``, the department's names, the blacklist and the external ids in
    the same statement)."""
    return _out(row.__getitem__, english)


def detail_out(row: Any, english: bool) -> dict[str, Any]:
    """A detail row: the list row and the major hazard installations."""
    out = _out(row.__getitem__, english)
    out["major_hazard_installations"] = installations_out(row["installations_json"])
    return out


_CHILDREN = select(_BLACKLIST, _INSTALLATIONS, _EXTERNAL_IDS).where(
    Enterprise.id == bindparam("enterprise_id", type_=String())
)


async def to_out(session: AsyncSession, ent: Enterprise, english: bool) -> dict[str, Any]:
    """An entity (after a write). Its department's names were read with it (``get_visible``)
    or when it was checked (``_check_department``, on create and on a change); its blacklist,
    installations and external ids are one statement."""
    name, name_en = await unit_names(session, ent.enforcement_department_id)
    extra: dict[str, Any] = {"department_name": name, "department_name_en": name_en}
    extra.update((await reads.rows(session, _CHILDREN, {"enterprise_id": ent.id}))[0])
    out = _out(lambda k: extra[k] if k in extra else getattr(ent, k), english)
    out["major_hazard_installations"] = installations_out(extra["installations_json"])
    return out


def _out(get: Any, english: bool) -> dict[str, Any]:
    """``EnterpriseOut`` as the plain dict that is serialised (``app.core.http``)."""
    lat, lng = get("lat"), get("lng")
    blacklist = blacklist_out(get("blacklist_json"))
    return {
        "id": get("id"),
        "name": get("name"),
        "credit_code": get("credit_code"),
        "region_code": get("region_code"),
        "address": get("address"),
        "location": {
            "lat": lat,
            "lng": lng,
            "coordinate_system": get("coordinate_system") or "wgs84",
        }
        if lat is not None and lng is not None
        else None,
        "sector": get("sector"),
        "industry_code": get("industry_code"),
        "enforcement_department_id": get("enforcement_department_id"),
        "enforcement_department": unit_dict(
            get("enforcement_department_id"),
            get("department_name"),
            get("department_name_en"),
            english,
        ),
        "scale": get("scale"),
        "risk_color": get("risk_color"),
        "standardization_grade": get("standardization_grade"),
        "principal": _contact(get("principal_name"), get("principal_phone")),
        "actual_controller": _contact(
            get("actual_controller_name"), get("actual_controller_phone")
        ),
        "status": get("status"),
        "blacklisted": any(e["removed_at"] is None for e in blacklist),
        "blacklist": blacklist,
        "external_ids": external_ids.out(get(external_ids.COLUMN)),
        "created_at": get("created_at"),
        "updated_at": get("updated_at"),
    }


# Every list and detail selects these columns from this join (built once, app/core/reads.py).
_BASE = (
    select(*COLUMNS, Enterprise.version, _BLACKLIST, _EXTERNAL_IDS)
    .select_from(Enterprise)
    .join(Department, Department.id == Enterprise.enforcement_department_id)
)


_DETAIL = reads.PerShape(
    lambda shape: _BASE.add_columns(_INSTALLATIONS).where(
        Enterprise.id == bindparam("enterprise_id", type_=String()), scope_condition(shape)
    )
)


async def read_details(
    session: AsyncSession, p: Principal, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    """Many enterprises as ``GET /enterprises/{id}`` gives each to this caller (those it may
    see), in one statement (the change feed's pages)."""
    if not ids:
        return {}
    shape, values = enterprise_scope(p)
    stmt = _BASE.add_columns(_INSTALLATIONS).where(
        Enterprise.id.in_(ids), scope_condition(shape, values)
    )
    rows = (await session.execute(stmt)).mappings().all()
    return {r["id"]: detail_out(r, english) for r in rows}


async def read_detail(
    session: reads.Reader, p: Principal, enterprise_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """``GET /enterprises/{id}``: one statement, the scope in it; the answer and the version."""
    shape, values = enterprise_scope(p)
    found = await _DETAIL[shape].rows(session, {"enterprise_id": enterprise_id, **values})
    if not found:
        raise NotFound("企业不存在", "Enterprise not found")
    return detail_out(found[0], english), found[0]["version"]


def filtered(
    p: Principal,
    *,
    q: str | None = None,
    region_code: str | None = None,
    sector: Sequence[str] | None = None,
    risk_color: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    enforcement_department_id: str | None = None,
    blacklisted: bool | None = None,
    external_id: str | None = None,
) -> Select[Any]:
    stmt = _BASE.where(visible_enterprises(p))
    if blacklisted is not None:
        current = (
            select(BlacklistEntry.id)
            .where(
                BlacklistEntry.enterprise_id == Enterprise.id, BlacklistEntry.removed_at.is_(None)
            )
            .exists()
        )
        stmt = stmt.where(current if blacklisted else ~current)
    if external_id:
        stmt = stmt.where(external_ids.named("enterprise", Enterprise.id, external_id))
    if q:
        stmt = stmt.where(
            Enterprise.name.icontains(q, autoescape=True) | (Enterprise.credit_code == q.upper())
        )
    if region_code:
        stmt = stmt.where(Enterprise.region_code.startswith(region_code))
    if sector:
        stmt = stmt.where(Enterprise.sector.in_(sector))
    if risk_color:
        stmt = stmt.where(Enterprise.risk_color.in_(risk_color))
    if status:
        stmt = stmt.where(Enterprise.status.in_(status))
    if enforcement_department_id:
        stmt = stmt.where(Enterprise.enforcement_department_id == enforcement_department_id)
    return stmt


async def list_enterprises(
    session: AsyncSession, p: Principal, params: ListParams, **filters: Any
) -> tuple[PageResult, Sort]:
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    page = await fetch_page(
        session,
        filtered(p, **filters),
        sort=sort,
        id_column=Enterprise.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, sort


async def get_visible(session: AsyncSession, p: Principal, enterprise_id: str) -> Enterprise:
    """The enterprise, with its department's names in the same statement (for the reference)."""
    row = (
        await session.execute(
            select(Enterprise, Department.name, Department.name_en)
            .join(Department, Department.id == Enterprise.enforcement_department_id)
            .where(Enterprise.id == enterprise_id, visible_enterprises(p))
        )
    ).first()
    if row is None:
        raise NotFound("企业不存在", "Enterprise not found")
    remember(session, row[0].enforcement_department_id, row[1], row[2])
    return row[0]


async def _check_region(session: AsyncSession, p: Principal, region_code: str) -> None:
    """The region must lie inside a county this deployment serves (and the caller's own)."""
    if not region_allowed(await served_counties(session), p, region_code):
        raise ValidationFailed.field(
            "region_code",
            "区划代码不在本县（区）范围内",
            "region_code lies outside the county",
            code="region_outside_county",
        )


async def served_counties(session: AsyncSession) -> list[str]:
    """The county codes this deployment serves."""
    found = await session.execute(select(OrgUnit.county_code).where(OrgUnit.kind == "county"))
    return [c for c in found.scalars() if c]


def region_allowed(counties: list[str], p: Principal, region_code: str) -> bool:
    """A region inside a served county and the caller's own (the rule of ``_check_region``)."""
    return any(region_code.startswith(c) for c in counties) and (
        p.county_code is None or region_code.startswith(p.county_code)
    )


async def has_risk_points(session: AsyncSession, enterprise_id: str) -> bool:
    found = await session.execute(
        select(RiskPoint.id)
        .where(RiskPoint.enterprise_id == enterprise_id, RiskPoint.status == "active")
        .limit(1)
    )
    return found.first() is not None


async def _check_department(session: AsyncSession, p: Principal, department_id: str) -> None:
    unit = await session.get(OrgUnit, department_id)
    if unit is None or unit.kind != "bureau" or unit.county_code != p.county_code:
        raise ValidationFailed.field(
            "enforcement_department_id",
            "日常执法监管部门应为本县（区）的行业部门",
            "enforcement_department_id must be a bureau of the county",
        )
    remember(session, unit.id, unit.name, unit.name_en)  # the answer names it


def column_values(data: dict[str, Any]) -> dict[str, Any]:
    """The table's columns for a body's fields (a location is three columns, a contact two)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "location":
            out["lat"], out["lng"] = (value["lat"], value["lng"]) if value else (None, None)
            out["coordinate_system"] = value.get("coordinate_system", "wgs84") if value else None
        elif key in ("principal", "actual_controller"):
            out[f"{key}_name"] = value["name"] if value else None
            out[f"{key}_phone"] = value.get("phone") if value else None
        else:
            out[key] = value
    return out


def _apply(ent: Enterprise, data: dict[str, Any]) -> None:
    for key, value in column_values(data).items():
        setattr(ent, key, value)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "该统一社会信用代码已登记",
            "An enterprise with this credit code already exists",
            code="duplicate_credit_code",
        ) from exc


def _check_scope_after(
    p: Principal, region_code: str, sector: str, department_id: str | None
) -> None:
    if not enterprise_would_be_visible(
        p, region_code=region_code, sector=sector, enforcement_department_id=department_id
    ):
        raise Forbidden(
            "企业不在本单位管辖范围内",
            "The enterprise would lie outside your jurisdiction",
            code="outside_scope",
        )


async def create_enterprise(
    session: AsyncSession, p: Principal, body: EnterpriseCreate
) -> Enterprise:
    await _check_region(session, p, body.region_code)
    await _check_department(session, p, body.enforcement_department_id)
    _check_scope_after(p, body.region_code, body.sector, body.enforcement_department_id)
    exists = (
        await session.execute(
            select(Enterprise.id).where(Enterprise.credit_code == body.credit_code)
        )
    ).first()
    if exists:
        raise Conflict(
            "该统一社会信用代码已登记",
            "An enterprise with this credit code already exists",
            code="duplicate_credit_code",
        )
    ent = Enterprise()
    _apply(ent, body.model_dump())
    session.add(ent)
    await _flush_unique(session)
    return ent


async def update_enterprise(
    session: AsyncSession, p: Principal, ent: Enterprise, body: EnterpriseUpdate
) -> Enterprise:
    data = body.model_dump(exclude_unset=True)
    if p.enterprise_id is not None or not p.can(Permission.enterprises_update):
        ensure(p, Permission.enterprises_update_contact)
        other = sorted(set(data) - CONTACT_FIELDS)
        if other:
            raise ValidationFailed(
                "企业用户只能修改联系人信息",
                "Enterprise users may change contact fields only",
                code="field_not_writable",
                errors=[
                    {
                        "field": f,
                        "message_zh": "无权修改此字段",
                        "message_en": "Not writable by you",
                    }
                    for f in other
                ],
            )
    if "risk_color" in data and await has_risk_points(session, ent.id):
        raise ValidationFailed.field(
            "risk_color",
            "企业已辨识风险点，风险等级取其最高风险点的等级，不能直接修改",
            "The enterprise has risk points: its colour is that of its highest one",
            code="risk_color_derived",
        )
    if "region_code" in data:
        await _check_region(session, p, data["region_code"])
    if "enforcement_department_id" in data:
        await _check_department(session, p, data["enforcement_department_id"])
    if {"region_code", "sector", "enforcement_department_id"} & set(
        data
    ) and p.enterprise_id is None:
        _check_scope_after(
            p,
            data.get("region_code", ent.region_code),
            data.get("sector", ent.sector),
            data.get("enforcement_department_id", ent.enforcement_department_id),
        )
    if "credit_code" in data and data["credit_code"] != ent.credit_code:
        taken = (
            await session.execute(
                select(Enterprise.id).where(Enterprise.credit_code == data["credit_code"])
            )
        ).first()
        if taken:
            raise Conflict(
                "该统一社会信用代码已登记",
                "An enterprise with this credit code already exists",
                code="duplicate_credit_code",
            )
    counted_under = rollup.dims_of(ent)
    _apply(ent, data)
    await _flush_unique(session)
    await rollup.move_enterprise(session, ent.id, counted_under, rollup.dims_of(ent))
    if {"name", "region_code"} & set(data):
        await record_change(session, ent.id)  # its users' cached callers carry both
    return ent
