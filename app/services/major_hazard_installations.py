"""Major hazard installations (重大危险源) of an enterprise: read by whoever reads the
enterprise, written by government staff in scope (``enterprises:update``). Their scope is the
enterprise's (``visible_enterprises``): out of scope is 404 as a missing one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.errors import NotFound
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, MajorHazardInstallation
from app.schemas.common import ListParams
from app.schemas.major_hazard_installations import InstallationCreate, InstallationUpdate

M = MajorHazardInstallation
SORTS = {"name": M.name, "grade": M.grade, "created_at": M.created_at}
DEFAULT_SORT = "grade"
_COLUMNS = (M.id, M.enterprise_id, M.name, M.grade, M.substances, M.created_at, M.updated_at)


def out(row: Any) -> dict[str, Any]:
    get = row.__getitem__ if isinstance(row, dict) else lambda k: getattr(row, k)
    return {k.key: get(k.key) for k in _COLUMNS}


async def _enterprise_id(session: AsyncSession, p: Principal, enterprise_id: str) -> str:
    found = (
        await session.execute(
            select(Enterprise.id).where(Enterprise.id == enterprise_id, visible_enterprises(p))
        )
    ).first()
    if found is None:
        raise NotFound("企业不存在", "Enterprise not found")
    return enterprise_id


async def list_installations(
    session: AsyncSession, p: Principal, enterprise_id: str, params: ListParams
) -> PageResult:
    """One statement: the scope joined in (an enterprise out of scope lists nothing, and
    answers 404 only when its page is empty and it is not visible: checked then)."""
    stmt = (
        select(*_COLUMNS)
        .join(Enterprise, Enterprise.id == M.enterprise_id)
        .where(M.enterprise_id == enterprise_id, visible_enterprises(p))
    )
    page = await fetch_page(
        session,
        stmt,
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=M.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    if not page.rows and not params.cursor:
        await _enterprise_id(session, p, enterprise_id)  # 404 for a missing or hidden one
    return page


async def get_visible(
    session: AsyncSession, p: Principal, enterprise_id: str, installation_id: str
) -> MajorHazardInstallation:
    found = (
        await session.execute(
            select(M)
            .join(Enterprise, Enterprise.id == M.enterprise_id)
            .where(
                M.id == installation_id, M.enterprise_id == enterprise_id, visible_enterprises(p)
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("重大危险源不存在", "Major hazard installation not found")
    return found


async def create(
    session: AsyncSession, p: Principal, enterprise_id: str, body: InstallationCreate
) -> MajorHazardInstallation:
    await _enterprise_id(session, p, enterprise_id)
    installation = M(enterprise_id=enterprise_id, **body.model_dump())
    session.add(installation)
    await session.flush()
    return installation


async def update(
    session: AsyncSession, installation: MajorHazardInstallation, body: InstallationUpdate
) -> MajorHazardInstallation:
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(installation, key, value)
    await session.flush()
    return installation


async def delete(session: AsyncSession, installation: MajorHazardInstallation) -> None:
    await session.delete(installation)
    await session.flush()
