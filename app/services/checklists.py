"""Checklists (检查表): named lists of check items, versioned by ``code`` + ``version_no``.

- Starter checklists (``county_code`` null, app/services/checklist_data.py) are read by every
  county and changed by no one (409 ``checklist_read_only``).
- A county's checklists are read by its government and enterprise users (scope:
  ``app.auth.scope.visible_checklists``) and written by admins and by managers of the county
  office or of a bureau (a town manager: 403).
- A risk point's checklist (``risk_point_id``, app/services/risks/checklist.py) follows the
  point's control measures and is read-only here (409 ``checklist_read_only``).
- A version used by a signed inspection is ``locked`` (``lock``, called by the inspection
  service): a PATCH of it writes the next version (same code, ``version_no`` + 1) and marks the
  old one not current. Only the current version may be edited (409 ``checklist_not_current``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.auth.principal import Principal
from app.auth.scope import visible_checklists
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Checklist
from app.schemas.checklists import ChecklistCreate, ChecklistItem, ChecklistUpdate
from app.schemas.common import ListParams
from app.services import judgment_standards

SORTS = {
    "code": Checklist.code,
    "name": Checklist.name,
    "created_at": Checklist.created_at,
    "updated_at": Checklist.updated_at,
}
DEFAULT_SORT = "code"


def _items_out(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": i["code"],
            "text": i["text"],
            "basis": i["basis"],
            "sector": i.get("sector"),
            "major_if_failed": bool(i.get("major_if_failed")),
            "judgment_standard": i.get("judgment_standard"),
            "judgment_clause": i.get("judgment_clause"),
        }
        for i in items
    ]


def _fields(get: Any, english: bool) -> dict[str, Any]:
    name_en = get("name_en")
    items = get("items") or []
    return {
        "id": get("id"),
        "code": get("code"),
        "version_no": get("version_no"),
        "name": name_en if english and name_en else get("name"),
        "name_zh": get("name"),
        "name_en": name_en,
        "sector": get("sector"),
        "county_code": get("county_code"),
        "starter": get("county_code") is None,
        "risk_point_id": get("risk_point_id"),
        "locked": bool(get("locked")),
        "is_current": bool(get("is_current")),
        "item_count": len(items),
        "created_at": get("created_at"),
        "updated_at": get("updated_at"),
    }


def summary(row: Any, english: bool) -> dict[str, Any]:
    """A list row (``ChecklistSummary``)."""
    return _fields(row.__getitem__, english)


def to_out(c: Checklist, english: bool) -> dict[str, Any]:
    """``ChecklistOut`` of an entity."""
    return {**_fields(lambda k: getattr(c, k), english), "items": _items_out(c.items)}


_COLUMNS = (
    Checklist.id,
    Checklist.code,
    Checklist.version_no,
    Checklist.name,
    Checklist.name_en,
    Checklist.sector,
    Checklist.county_code,
    Checklist.items,
    Checklist.locked,
    Checklist.is_current,
    Checklist.risk_point_id,
    Checklist.created_at,
    Checklist.updated_at,
)


def filtered(
    p: Principal,
    *,
    sector: list[str] | None = None,
    code: str | None = None,
    current: bool = True,
    risk_point_id: str | None = None,
) -> Select[Any]:
    """The county's library; the checklists generated from risk points only when asked for by
    ``risk_point_id`` or ``code`` (one per point: they would bury the library)."""
    stmt = select(*_COLUMNS).where(visible_checklists(p))
    if sector:
        stmt = stmt.where(Checklist.sector.in_(sector))
    if code:
        stmt = stmt.where(Checklist.code == code)
    if risk_point_id:
        stmt = stmt.where(Checklist.risk_point_id == risk_point_id)
    elif not code:
        stmt = stmt.where(Checklist.risk_point_id.is_(None))
    if current:
        stmt = stmt.where(Checklist.is_current.is_(True))
    return stmt


async def list_checklists(
    session: AsyncSession, p: Principal, params: ListParams, **filters: Any
) -> PageResult:
    return await fetch_page(
        session,
        filtered(p, **filters),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=Checklist.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def get_visible(session: AsyncSession, p: Principal, checklist_id: str) -> Checklist:
    """The version ``checklist_id`` if the caller sees it; 404 otherwise (missing or another
    county's: the same answer)."""
    found = (
        await session.execute(
            select(Checklist).where(Checklist.id == checklist_id, visible_checklists(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("检查表不存在", "Checklist not found")
    return found


async def get_for_use(session: AsyncSession, p: Principal, checklist_id: str) -> Checklist:
    """The checklist an inspection is to follow (any version the caller sees, the starter ones
    included); 422 ``unknown_checklist`` when there is none such (the id is a field of the
    caller's request, not the resource of the URL)."""
    found = (
        await session.execute(
            select(Checklist).where(Checklist.id == checklist_id, visible_checklists(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise ValidationFailed.field(
            "checklist_id",
            "检查表不存在或不可用",
            "No such checklist (or not one you may use)",
            code="unknown_checklist",
        )
    return found


async def lock(session: AsyncSession, checklist_id: str) -> None:
    """Marks the version as used by a signed inspection: from now on it never changes (a PATCH
    writes the next version). Called by the inspection service in its own transaction; locking
    a locked version changes nothing."""
    await session.execute(
        update(Checklist)
        .where(Checklist.id == checklist_id, Checklist.locked.is_(False))
        .values(locked=True)
        .execution_options(synchronize_session="fetch")
    )


def _check_writer(p: Principal) -> None:
    """Admins, and managers of the county office or of a bureau (检查表由县级、行业部门编制)."""
    unit = p.unit
    if p.role is Role.admin:
        return
    if p.role is Role.manager and unit is not None and unit.kind in ("county", "bureau"):
        return
    raise Forbidden(
        "仅系统管理员及县级、行业部门负责人可编制检查表",
        "Only administrators and managers of the county office or a bureau write checklists",
    )


def _check_items(items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """The items as stored: codes unique, a major item's judgment a real clause (stored as its
    code, as hazards store it), a general item without one."""
    seen: set[str] = set()
    out = []
    for n, item in enumerate(items):
        where = f"items[{n}]"
        if item.code in seen:
            raise ValidationFailed.field(
                f"{where}.code",
                f"检查项编号“{item.code}”重复",
                f"Item code '{item.code}' is used twice",
                code="duplicate_item_code",
            )
        seen.add(item.code)
        clause = None
        if item.major_if_failed:
            if item.judgment_standard is None or item.judgment_clause is None:
                raise ValidationFailed.field(
                    f"{where}.judgment_clause",
                    "不合格即为重大事故隐患的检查项须注明判定标准及条款",
                    "An item marked major_if_failed names its judgment standard and clause",
                    code="judgment_required",
                )
            code = judgment_standards.normalise_clause(item.judgment_clause)
            found = judgment_standards.clause(item.judgment_standard, code)
            if found is None:
                std = item.judgment_standard
                raise ValidationFailed.field(
                    f"{where}.judgment_clause",
                    f"“{item.judgment_clause}”不是判定标准 {std} 的条款"
                    f"（条款见 GET /api/v1/catalogs/judgment-standards/{std}）",
                    f"'{item.judgment_clause}' is not a clause of the standard {std} "
                    f"(its clauses: GET /api/v1/catalogs/judgment-standards/{std})",
                    code="unknown_judgment_clause",
                )
            clause = found.code
        elif item.judgment_standard is not None or item.judgment_clause is not None:
            raise ValidationFailed.field(
                f"{where}.judgment_standard",
                "一般检查项不填写重大隐患判定依据（或将 major_if_failed 设为 true）",
                "Only an item marked major_if_failed carries a judgment",
            )
        out.append(
            {
                **item.model_dump(),
                "judgment_standard": item.judgment_standard if clause else None,
                "judgment_clause": clause,
            }
        )
    return out


def _duplicate_code() -> Conflict:
    return Conflict(
        "该检查表编号已被使用",
        "A checklist with this code already exists",
        code="duplicate_checklist_code",
    )


async def create(session: AsyncSession, p: Principal, body: ChecklistCreate) -> Checklist:
    _check_writer(p)
    items = _check_items(body.items)
    taken = (
        await session.execute(select(Checklist.id).where(Checklist.code == body.code).limit(1))
    ).first()
    if taken:
        raise _duplicate_code()
    checklist = Checklist(
        code=body.code,
        version_no=1,
        name=body.name,
        name_en=body.name_en,
        sector=body.sector,
        county_code=p.county_code,
        items=items,
        locked=False,
        is_current=True,
        created_by=p.audit_id,
    )
    session.add(checklist)
    await _flush(session)
    return checklist


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # the same code (or next version) written at the same moment
        raise _duplicate_code() from exc


async def update_checklist(
    session: AsyncSession, p: Principal, checklist: Checklist, body: ChecklistUpdate
) -> tuple[Checklist, bool]:
    """The edited version and whether it is a new one (the old was locked)."""
    ensure_editable(p, checklist)
    data = body.model_dump(exclude_unset=True)
    if "items" in data:
        data["items"] = _check_items(body.items)
    if not checklist.locked:
        for key, value in data.items():
            setattr(checklist, key, value)
        await _flush(session)
        return checklist, False
    checklist.is_current = False
    successor = Checklist(
        code=checklist.code,
        version_no=checklist.version_no + 1,
        name=data.get("name", checklist.name),
        name_en=data.get("name_en", checklist.name_en),
        sector=checklist.sector,
        county_code=checklist.county_code,
        items=data.get("items", checklist.items),
        locked=False,
        is_current=True,
        created_by=p.audit_id,
    )
    session.add(successor)
    await _flush(session)
    return successor, True


def ensure_editable(p: Principal, checklist: Checklist) -> None:
    _check_writer(p)
    if checklist.county_code is None:
        raise Conflict(
            "平台预置检查表为只读，可按其内容新建本县检查表",
            "Starter checklists are read-only; create a checklist of your own from it",
            code="checklist_read_only",
        )
    if checklist.risk_point_id is not None:
        raise Conflict(
            "该检查表由风险点的管控措施生成，请修改风险点的管控措施",
            "This checklist is generated from a risk point's control measures; change the point",
            code="checklist_read_only",
        )
    if not checklist.is_current:
        raise Conflict(
            "只能修改检查表的当前版本",
            "Only the current version of a checklist may be edited",
            code="checklist_not_current",
        )
