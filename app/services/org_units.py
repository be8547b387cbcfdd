"""Org units: the county, its towns/streets and its sectoral bureaus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.principal_cache import record_change
from app.auth.scope import visible_org_units
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import PageResult, Sort, fetch_page, parse_sort
from app.models import OrgUnit
from app.schemas.common import ListParams
from app.schemas.org_units import OrgUnitCreate, OrgUnitOut, OrgUnitUpdate
from app.services.refs import remember, unit_names, unit_ref

Parent = aliased(OrgUnit, name="parent_unit")
OUT_COLUMNS = (
    OrgUnit.id,
    OrgUnit.kind,
    OrgUnit.name,
    OrgUnit.name_en,
    OrgUnit.parent_id,
    Parent.name.label("parent_name"),
    Parent.name_en.label("parent_name_en"),
    OrgUnit.region_code,
    OrgUnit.sectors,
    OrgUnit.created_at,
    OrgUnit.updated_at,
)
SORTS = {"name": OrgUnit.name, "created_at": OrgUnit.created_at}
DEFAULT_SORT = "name"


def _out(get: Any, english: bool) -> OrgUnitOut:
    parent_id = get("parent_id")
    return OrgUnitOut.model_construct(
        id=get("id"),
        kind=get("kind"),
        name=get("name"),
        name_en=get("name_en"),
        parent_id=parent_id,
        parent=unit_ref(parent_id, get("parent_name"), get("parent_name_en"), english),
        region_code=get("region_code"),
        sectors=list(get("sectors") or []),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
    )


def row_out(row: Any, english: bool) -> OrgUnitOut:
    """A list row (``OUT_COLUMNS``, the parent's names joined in the same statement)."""
    return _out(row.__getitem__, english)


async def to_out(session: AsyncSession, unit: OrgUnit, english: bool) -> OrgUnitOut:
    """An entity; its parent's names were read with it (``get_visible``, ``create_unit``)."""
    name, name_en = await unit_names(session, unit.parent_id) if unit.parent_id else ("", None)
    names = {"parent_name": name, "parent_name_en": name_en}
    return _out(lambda k: names[k] if k in names else getattr(unit, k), english)


async def get_visible(session: AsyncSession, p: Principal, unit_id: str) -> OrgUnit:
    """The unit, with its parent's names in the same statement (for ``parent``)."""
    row = (
        await session.execute(
            select(OrgUnit, Parent.name, Parent.name_en)
            .outerjoin(Parent, Parent.id == OrgUnit.parent_id)
            .where(OrgUnit.id == unit_id, visible_org_units(p))
        )
    ).first()
    if row is None:
        raise NotFound("组织单位不存在", "Org unit not found")
    remember(session, row[0].parent_id, row[1], row[2])
    return row[0]


async def list_units(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    kind: Sequence[str] | None,
    q: str | None,
) -> tuple[PageResult, Sort]:
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    stmt = (
        select(*OUT_COLUMNS)
        .outerjoin(Parent, Parent.id == OrgUnit.parent_id)
        .where(visible_org_units(p))
    )
    if kind:
        stmt = stmt.where(OrgUnit.kind.in_(kind))
    if q:
        stmt = stmt.where(OrgUnit.name.icontains(q, autoescape=True))
    page = await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=OrgUnit.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, sort


async def create_unit(session: AsyncSession, p: Principal, body: OrgUnitCreate) -> OrgUnit:
    assert p.unit is not None
    parent_id = body.parent_id
    if parent_id is None:
        county = (
            await session.execute(
                select(OrgUnit).where(
                    OrgUnit.kind == "county", OrgUnit.county_code == p.unit.county_code
                )
            )
        ).scalar_one()
        parent_id = county.id
    parent = (
        await session.execute(select(OrgUnit).where(OrgUnit.id == parent_id, visible_org_units(p)))
    ).scalar_one_or_none()
    if parent is None or parent.kind != "county":
        raise ValidationFailed.field(
            "parent_id", "上级单位应为本县（区）", "parent_id must be the county"
        )
    remember(session, parent.id, parent.name, parent.name_en)  # the answer names it
    if body.kind == "town":
        if not body.region_code or not body.region_code.startswith(parent.county_code):
            raise ValidationFailed.field(
                "region_code",
                f"乡镇/街道的区划代码应为以 {parent.county_code} 开头的 9 位数字",
                f"A town's region_code must be 9 digits starting with {parent.county_code}",
            )
        if body.sectors:
            raise ValidationFailed.field(
                "sectors", "乡镇/街道不设行业领域", "Towns have no sectors"
            )
    elif body.region_code is not None:
        raise ValidationFailed.field(
            "region_code", "行业部门没有区划代码", "Bureaus have no region_code"
        )
    unit = OrgUnit(
        kind=body.kind,
        name=body.name,
        name_en=body.name_en,
        parent_id=parent.id,
        region_code=body.region_code,
        county_code=parent.county_code,
        sectors=list(dict.fromkeys(body.sectors)),
    )
    session.add(unit)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "区划代码已被其他单位使用", "region_code is already taken", code="duplicate_region_code"
        ) from exc
    return unit


async def update_unit(session: AsyncSession, unit: OrgUnit, body: OrgUnitUpdate) -> OrgUnit:
    data = body.model_dump(exclude_unset=True)
    if "name" in data:
        unit.name = data["name"]
    if "name_en" in data:
        unit.name_en = data["name_en"]
    if "sectors" in data:
        if unit.kind != "bureau" and data["sectors"]:
            raise ValidationFailed.field(
                "sectors", "只有行业部门可设行业领域", "Only bureaus have sectors"
            )
        unit.sectors = list(dict.fromkeys(data["sectors"] or []))
    await session.flush()
    await record_change(session, unit.id)  # its staff's cached callers carry its sectors
    return unit
