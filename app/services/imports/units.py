"""A row of an org-units import (组织单位), through the org-unit service (``POST /org-units``,
``PATCH /org-units/{id}``): towns/streets (乡镇/街道) and sectoral bureaus (行业主管部门) under
the county, as the API allows (the county itself exists; there is no unit below a town).

- Natural key: a town's ``region_code`` (its 9 digits, unique); a unit without one (a bureau)
  by its name within the county. A known unit is compared on the columns the file holds
  (name, English name, sectors) and changed by ``update_unit``; its kind never changes.
- ``parent``: the county by name or id (the default); any other parent is the API's 422.
- Who: ``org_units:write`` (admins). A region code of another county is ``outside_scope``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.scope import visible_org_units
from app.core.errors import AppError
from app.models import OrgUnit
from app.schemas.org_units import OrgUnitCreate, OrgUnitUpdate
from app.services import org_units as unit_service
from app.services.imports.rows import (
    RowContext,
    RowError,
    _validation,
    app_error,
    unit_by_ref,
)

_FIELDS = {"parent_id": "parent"}


async def unit_row(ctx: RowContext, v: dict[str, Any], row: int, external: dict[str, str]) -> str:
    ensure(ctx.p, Permission.org_units_write)
    assert ctx.p.unit is not None
    county = ctx.p.unit.county_code
    code, name = v.get("region_code"), v.get("name")
    key = f"region\x1f{code}" if code else f"name\x1f{v.get('kind')}\x1f{name}"
    if key in ctx.seen:
        raise RowError(
            "region_code" if code else "name",
            code="duplicate_in_file",
            zh="同一文件中该单位已出现过",
            en="The unit appears on an earlier row of this file",
        )
    ctx.seen.add(key)
    if code and not str(code).startswith(county):
        raise RowError(
            "region_code",
            code="outside_scope",
            zh=f"区划代码不在本县（{county}）内",
            en=f"The region code lies outside the county {county}",
        )
    if code:
        found = (
            await ctx.session.execute(select(OrgUnit).where(OrgUnit.region_code == code))
        ).scalar_one_or_none()
    else:
        found = (
            await ctx.session.execute(
                select(OrgUnit).where(
                    OrgUnit.name == name,
                    OrgUnit.kind == v.get("kind"),
                    OrgUnit.county_code == county,
                )
            )
        ).scalar_one_or_none()
    try:
        if found is None:
            return await _create(ctx, v)
        return await _update(ctx, v, found)
    except ValidationError as exc:
        error = _validation(exc)
        error.field = _FIELDS.get(error.field or "", error.field)
        raise error from None
    except AppError as exc:
        raise app_error(exc, _FIELDS) from None


async def _create(ctx: RowContext, v: dict[str, Any]) -> str:
    body = {
        "kind": v.get("kind"),
        "name": v.get("name"),
        "name_en": v.get("name_en"),
        "region_code": v.get("region_code"),
        "sectors": v.get("sectors") or [],
    }
    if v.get("parent"):
        body["parent_id"] = (
            await unit_by_ref(ctx, v["parent"], "parent", visible_org_units(ctx.p))
        ).id
    await unit_service.create_unit(ctx.session, ctx.p, OrgUnitCreate.model_validate(body))
    return "created"


async def _update(ctx: RowContext, v: dict[str, Any], unit: OrgUnit) -> str:
    if unit.county_code != (ctx.p.unit.county_code if ctx.p.unit else None):
        raise RowError(
            "region_code",
            code="outside_scope",
            zh="该单位不属于本县",
            en="The unit belongs to another county",
        )
    if v.get("kind") and v["kind"] != unit.kind:
        raise RowError(
            "kind",
            code="field_not_writable",
            zh="已有单位的类型不能通过导入修改",
            en="An existing unit's kind cannot be changed by an import",
        )
    if (
        v.get("parent")
        and (await unit_by_ref(ctx, v["parent"], "parent", visible_org_units(ctx.p))).id
        != unit.parent_id
    ):
        raise RowError(
            "parent",
            code="field_not_writable",
            zh="已有单位的上级单位不能修改",
            en="An existing unit's parent cannot be changed",
        )
    changes: dict[str, Any] = {
        k: v[k] for k in ("name", "name_en") if v.get(k) is not None and getattr(unit, k) != v[k]
    }
    if v.get("sectors") and set(v["sectors"]) != set(unit.sectors or ()):
        changes["sectors"] = v["sectors"]
    if not changes:
        return "unchanged"
    await unit_service.update_unit(ctx.session, unit, OrgUnitUpdate.model_validate(changes))
    return "updated"
