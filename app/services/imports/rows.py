"""One row of an import applied through the domain's own write path (the same rules, scope and
checks as the API), answering what it did: ``created``, ``updated`` or ``unchanged``.

- Enterprises: natural key the credit code (upsert). Only the columns the file holds are
  compared and written; an empty cell changes nothing. A credit code whose check character
  fails is an error, or with ``credit_code_check=warn`` a warning (old pilot codes).
- Hazards: natural key an external id (``external_ids.<system>`` column); a row without one
  registers a new hazard with a new number; an existing one gets its descriptive fields
  (title, description, location) only: an import never moves a lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.config import Settings
from app.core.credit_code import is_valid_credit_code, make_credit_code
from app.models import Enterprise, ExternalId, Hazard, OrgUnit
from app.models.base import utcnow
from app.schemas.enterprises import EnterpriseCreate, EnterpriseUpdate
from app.schemas.hazards import HazardCreate
from app.services import enterprises as enterprise_service
from app.services import external_ids
from app.services.hazards import service as hazard_service
from app.services.imports import fast_create

_PLACEHOLDER_CODE = make_credit_code("91341302MA0000000")


class RowError(Exception):
    """What is wrong with a row: the field (mapped back to its column), code and message."""

    def __init__(self, field: str | None, *, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.field, self.code, self.zh, self.en = field, code, zh, en


@dataclass(slots=True)
class RowContext:
    session: AsyncSession
    p: Principal
    settings: Settings
    credit_code_check: str = "error"
    departments: dict[str, str] = field(default_factory=dict)  # id or name -> bureau id
    seen: set[str] = field(default_factory=set)  # natural keys met in this file
    warnings: list[dict[str, Any]] = field(default_factory=list)
    counties: list[str] | None = None  # the served counties, read at the first new enterprise


async def load_departments(session: AsyncSession, p: Principal) -> dict[str, str]:
    """The county's bureaus by id, Chinese name and English name (a reference by a name)."""
    county = p.unit.county_code if p.unit else None
    rows = (
        await session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en).where(
                OrgUnit.kind == "bureau", OrgUnit.county_code == county
            )
        )
    ).all()
    out: dict[str, str] = {}
    for r in rows:
        out[r.id] = r.id
        out[r.name] = r.id
        if r.name_en:
            out[r.name_en.lower()] = r.id
    return out


def _validation(exc: ValidationError) -> RowError:
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first.get("loc", ()))
    zh_en = str(first.get("msg", ""))
    if "|" in zh_en:
        en, _, zh = zh_en.removeprefix("Value error, ").partition("|")
    else:
        en = zh = zh_en
    return RowError(loc or None, code="validation_error", zh=zh or en, en=en)


def app_error(exc: Any, aliases: dict[str, str] | None = None) -> RowError:
    """A domain error as a row's; ``aliases`` name the column of an API field
    (``org_unit_id`` -> ``org_unit``)."""
    fields = [e.get("field") for e in (getattr(exc, "errors", None) or [])]
    field = fields[0] if fields else None
    if field is not None and aliases:
        field = aliases.get(str(field).split(".")[0], field)
    return RowError(
        field,
        code=exc.code,
        zh=exc.detail_zh or exc.title_zh,
        en=exc.detail_en or exc.title_en,
    )


# ---- enterprises --------------------------------------------------------------------------

_PLAIN = (
    "name",
    "region_code",
    "sector",
    "status",
    "address",
    "industry_code",
    "scale",
    "risk_color",
    "standardization_grade",
)


def enterprise_body(ctx: RowContext, v: dict[str, Any]) -> dict[str, Any]:
    """A row's fields as the API's enterprise body (the bureau by its id): no database, nothing
    of ``ctx`` written, so a chunk's bodies may be made in a thread."""
    body = {k: v[k] for k in (*_PLAIN, "credit_code") if v.get(k) is not None}
    if body.get("credit_code"):
        body["credit_code"] = str(body["credit_code"]).upper()
    ref = v.get("enforcement_department")
    if ref is not None:
        dept = ctx.departments.get(str(ref)) or ctx.departments.get(str(ref).lower())
        if dept is None:
            raise RowError(
                "enforcement_department",
                code="unknown_org_unit",
                zh=f"本县没有名为“{ref}”的行业部门",
                en=f"No bureau of the county is named {ref}",
            )
        body["enforcement_department_id"] = dept
    for who in ("principal", "actual_controller"):
        if v.get(f"{who}_name") is not None:
            body[who] = {"name": v[f"{who}_name"], "phone": v.get(f"{who}_phone")}
    if v.get("lat") is not None and v.get("lng") is not None:
        body["location"] = {"lat": v["lat"], "lng": v["lng"]}
    return body


def _current(ent: Enterprise) -> dict[str, Any]:
    out = {k: getattr(ent, k) for k in _PLAIN}
    out["enforcement_department_id"] = ent.enforcement_department_id
    for who in ("principal", "actual_controller"):
        name = getattr(ent, f"{who}_name")
        out[who] = {"name": name, "phone": getattr(ent, f"{who}_phone")} if name else None
    out["location"] = (
        {"lat": ent.lat, "lng": ent.lng} if ent.lat is not None and ent.lng is not None else None
    )
    return out


async def enterprise_row(
    ctx: RowContext, v: dict[str, Any], row: int, external: dict[str, str]
) -> str:
    """One row through the domain's write path (the kind's row function)."""
    return await write_enterprise_key(ctx, enterprise_key(ctx, v, row), external)


async def write_enterprise_key(
    ctx: RowContext, key: EnterpriseKey, external: dict[str, str]
) -> str:
    """A row read as an enterprise, looked up by its credit code (in the caller's scope) and its
    external ids, and written through the enterprise service (what a chunk falls back to, row
    by row)."""
    existing = (
        await ctx.session.execute(select(Enterprise).where(Enterprise.credit_code == key.code))
    ).scalar_one_or_none()
    if existing is not None and not await in_scope(ctx, existing.id):
        raise outside_enterprise()
    known = await find_external(ctx.session, "enterprise", external)
    return await write_enterprise(ctx, key, existing, external, known)


@dataclass(slots=True)
class EnterpriseKey:
    """A row read as an enterprise: its body (API fields), credit code and whether the code is
    accepted with a warning only."""

    body: dict[str, Any]
    code: str
    lax: bool


def read_enterprise(ctx: RowContext, v: dict[str, Any]) -> EnterpriseKey:
    """The checks of a row alone, with no database and nothing of ``ctx`` written (so a
    chunk's rows may be read in a thread): its body, its credit code, and whether a failing
    check character is accepted with a warning."""
    body = enterprise_body(ctx, v)
    code = body.get("credit_code")
    if code is None:
        raise RowError(
            "credit_code", code="validation_error", zh="缺少统一社会信用代码", en="No credit code"
        )
    lax = ctx.credit_code_check == "warn" and len(code) == 18 and not is_valid_credit_code(code)
    return EnterpriseKey(body, code, lax)


def enterprise_key(
    ctx: RowContext, v: dict[str, Any], row: int, read: EnterpriseKey | None = None
) -> EnterpriseKey:
    """The checks a row needs no database for: ``read_enterprise`` (``read`` when made
    already), then a duplicate in the file (an error on the later row) and the warning of a
    code accepted with a failing check character. Rows in file order: it remembers the codes."""
    key = read_enterprise(ctx, v) if read is None else read
    if key.code in ctx.seen:
        raise RowError(
            "credit_code",
            code="duplicate_in_file",
            zh="同一文件中该统一社会信用代码已出现过",
            en="The credit code appears on an earlier row of this file",
        )
    ctx.seen.add(key.code)
    if key.lax:
        ctx.warnings.append(
            {
                "row": row,
                "field": "credit_code",
                "code": "credit_code_check_failed",
                "message_zh": "统一社会信用代码校验位不正确（按要求仅警告）",
                "message_en": "The credit code's check character fails (accepted as a warning)",
            }
        )
    return key


def new_columns(ctx: RowContext, key: EnterpriseKey) -> dict[str, Any]:
    """The table columns of the enterprise a row creates, its body validated as the API
    validates it: by ``fast_create`` when certainly valid, else by the model (whose error the
    row gets)."""
    columns = None if key.lax else fast_create.columns(key.body)
    if columns is None:
        columns = enterprise_service.column_values(new_enterprise(ctx, key).model_dump())
    return columns


def new_enterprise(ctx: RowContext, key: EnterpriseKey) -> EnterpriseCreate:
    """The create body of a row, validated as the API validates it."""
    try:
        model = EnterpriseCreate.model_validate(
            {**key.body, "credit_code": _PLACEHOLDER_CODE} if key.lax else key.body
        )
    except ValidationError as exc:
        raise _validation(exc) from None
    if key.lax:
        model.credit_code = key.code
    return model


def enterprise_changes(key: EnterpriseKey, existing: Any) -> dict[str, Any]:
    """The fields a row changes on an existing enterprise (a row or an ORM object)."""
    now = _current(existing)
    return {
        k: value
        for k, value in key.body.items()
        if k != "credit_code" and now.get(k) != value and not _same(now.get(k), value)
    }


def external_conflict(known: str | None, ent_id: str | None) -> None:
    if known is not None and known != ent_id:
        raise RowError(
            None,
            code="external_id_conflict",
            zh="该外部编号已属于另一家企业",
            en="The external id belongs to another enterprise",
        )


def outside_enterprise() -> RowError:
    return RowError(
        "credit_code",
        code="outside_scope",
        zh="该企业不在本单位管辖范围内",
        en="The enterprise lies outside your jurisdiction",
    )


async def in_scope(ctx: RowContext, enterprise_id: str) -> bool:
    """Whether the caller's scope holds the enterprise."""
    found = await ctx.session.execute(
        select(Enterprise.id).where(Enterprise.id == enterprise_id, visible_enterprises(ctx.p))
    )
    return found.first() is not None


async def write_enterprise(
    ctx: RowContext,
    key: EnterpriseKey,
    existing: Enterprise | None,
    external: dict[str, str],
    known: str | None,
) -> str:
    """Create or update through the enterprise service (its checks and side effects), and
    record the row's external ids. ``existing`` is in the caller's scope."""
    if existing is None:
        external_conflict(known, None)
        created = await enterprise_service.create_enterprise(
            ctx.session, ctx.p, new_enterprise(ctx, key)
        )
        outcome, ent_id = "created", created.id
    else:
        external_conflict(known, existing.id)
        ent_id = existing.id
        changes = enterprise_changes(key, existing)
        outcome = "updated" if changes else "unchanged"
        if changes:
            try:
                update = EnterpriseUpdate.model_validate(changes)
            except ValidationError as exc:
                raise _validation(exc) from None
            await enterprise_service.update_enterprise(ctx.session, ctx.p, existing, update)
    if known is None and external:
        await record_external(ctx.session, "enterprise", ent_id, external)
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_same(a.get(k), b.get(k)) for k in set(a) | set(b))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


async def unit_by_ref(ctx: RowContext, ref: Any, field: str, where: Any) -> OrgUnit:
    """The one org unit a cell names by name or id among the units ``where`` admits (the
    caller's visible units, or the county's), or the row's ``unknown_org_unit`` error."""
    text = str(ref).strip()
    found = (
        (
            await ctx.session.execute(
                select(OrgUnit).where(or_(OrgUnit.id == text, OrgUnit.name == text), where).limit(2)
            )
        )
        .scalars()
        .all()
    )
    if len(found) != 1:
        raise RowError(
            field,
            code="unknown_org_unit",
            zh=f"本县没有唯一的单位“{text}”（按名称或编号）",
            en=f"No single unit {text} in the county (by name or id)",
        )
    return found[0]


# ---- hazards ------------------------------------------------------------------------------

_HAZARD_TEXT = ("title", "description", "location")


async def _enterprise_of(ctx: RowContext, ref: Any) -> Enterprise:
    text = str(ref).strip()
    rows = (
        (
            await ctx.session.execute(
                select(Enterprise)
                .where(
                    or_(
                        Enterprise.credit_code == text.upper(),
                        Enterprise.name == text,
                        Enterprise.id == text,
                    ),
                    visible_enterprises(ctx.p),
                )
                .limit(2)
            )
        )
        .scalars()
        .all()
    )
    if len(rows) != 1:
        raise RowError(
            "enterprise",
            code="unknown_enterprise",
            zh=f"管辖范围内没有唯一的企业“{text}”（按统一社会信用代码或名称）",
            en=f"No single enterprise {text} in your jurisdiction (by credit code or name)",
        )
    return rows[0]


async def hazard_row(ctx: RowContext, v: dict[str, Any], row: int, external: dict[str, str]) -> str:
    for system, value in external.items():
        key = f"{system}\x1f{value}"
        if key in ctx.seen:
            raise RowError(
                f"external_ids.{system}",
                code="duplicate_in_file",
                zh="同一文件中该外部编号已出现过",
                en="The external id appears on an earlier row of this file",
            )
        ctx.seen.add(key)
    known = await find_external(ctx.session, "hazard", external)
    if known is not None:
        hazard = (
            await ctx.session.execute(
                select(Hazard)
                .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
                .where(Hazard.id == known, visible_enterprises(ctx.p))
            )
        ).scalar_one_or_none()
        if hazard is None:
            raise RowError(
                None,
                code="outside_scope",
                zh="该隐患不在本单位管辖范围内",
                en="The hazard is outside your jurisdiction",
            )
        changes = {
            k: v[k] for k in _HAZARD_TEXT if v.get(k) is not None and getattr(hazard, k) != v[k]
        }
        if not changes:
            return "unchanged"
        for k, value in changes.items():
            setattr(hazard, k, value)
        await ctx.session.flush()
        return "updated"
    ent = await _enterprise_of(ctx, v["enterprise"]) if v.get("enterprise") else None
    if ent is None:
        raise RowError("enterprise", code="validation_error", zh="缺少所属企业", en="No enterprise")
    body: dict[str, Any] = {
        k: v[k]
        for k in (*_HAZARD_TEXT, "level", "category", "source", "deadline", "deadline_reason")
        if v.get(k) is not None
    }
    if v.get("found_at") is not None:
        body["found_at"] = f"{v['found_at'].isoformat()}T09:00:00+08:00"
    body["enterprise_id"] = ent.id
    try:
        model = HazardCreate.model_validate(body)
    except ValidationError as exc:
        raise _validation(exc) from None
    hazard = await hazard_service.create_hazard(ctx.session, ctx.p, ctx.settings, model)
    await record_external(ctx.session, "hazard", hazard.id, external)
    return "created"


# ---- external ids -------------------------------------------------------------------------


async def find_external(
    session: AsyncSession, object_type: str, external: dict[str, str]
) -> str | None:
    """The record one of the external ids names (they must agree), or None."""
    ids = await external_ids.objects_named(session, object_type, external)
    if len(ids) > 1:
        raise RowError(
            None,
            code="external_id_conflict",
            zh="各外部编号指向不同的记录",
            en="The external ids name different records",
        )
    return ids.pop() if ids else None


async def record_external(
    session: AsyncSession, object_type: str, object_id: str, external: dict[str, str]
) -> None:
    """Records the row's ids of the object; an object has one id per system, so a different
    id for a system it already has one of is an error on the row (never a constraint failure
    that would end the job)."""
    if not external:
        return
    held = dict(
        (
            await session.execute(
                select(ExternalId.system, ExternalId.external_id).where(
                    ExternalId.object_type == object_type, ExternalId.object_id == object_id
                )
            )
        ).all()
    )
    for system, value in external.items():
        if held.get(system, value) != value:
            raise RowError(
                f"external_ids.{system}",
                code="external_id_conflict",
                zh=f"该记录在系统 {system} 中已有另一外部编号 {held[system]}",
                en=f"The record already has another id in {system}: {held[system]}",
            )
    external = {s: e for s, e in external.items() if s not in held}
    for system, value in external.items():
        session.add(
            ExternalId(
                object_type=object_type,
                system=system,
                external_id=value,
                object_id=object_id,
                created_at=utcnow(),
            )
        )
    if external:
        await session.flush()
