"""The joint-punishment blacklist (联合惩戒黑名单): entries put on by an inspection's decision,
taken off by credit repair (信用修复). One current entry per enterprise at most (a partial
unique index, migration 0017). The entries are shown on the enterprise (gathered into its row:
app/services/enterprises.py) and, the current ones, on the public list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import BlacklistEntry, Enterprise
from app.models.base import utcnow
from app.schemas.common import ListParams


async def list_enterprise(
    session: AsyncSession,
    *,
    enterprise_id: str,
    reason: str,
    inspection_id: str | None,
    unit_id: str | None,
    at: datetime,
) -> BlacklistEntry:
    """Put the enterprise on the blacklist, in the caller's transaction; an enterprise already
    on it keeps its current entry (the first decision stands until it is repaired)."""
    current = (
        await session.execute(
            select(BlacklistEntry).where(
                BlacklistEntry.enterprise_id == enterprise_id, BlacklistEntry.removed_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if current is not None:
        return current
    entry = BlacklistEntry(
        enterprise_id=enterprise_id,
        listed_at=at,
        reason=reason,
        decided_by_inspection_id=inspection_id,
        decided_by_unit_id=unit_id,
    )
    try:
        # One current entry per enterprise (a partial unique index): a decision listing it at
        # the same moment wins, and this one keeps that entry, as if it had come second.
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError:
        return (
            await session.execute(
                select(BlacklistEntry).where(
                    BlacklistEntry.enterprise_id == enterprise_id,
                    BlacklistEntry.removed_at.is_(None),
                )
            )
        ).scalar_one()
    return entry


def _entry_out(e: BlacklistEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "listed_at": e.listed_at,
        "reason": e.reason,
        "decided_by_inspection_id": e.decided_by_inspection_id,
        "decided_by_unit_id": e.decided_by_unit_id,
        "removed_at": e.removed_at,
        "removed_reason": e.removed_reason,
        "removed_by": e.removed_by,
    }


def _check_remover(p: Principal, entry: BlacklistEntry) -> None:
    """Credit repair is the county's (admins, the county office's managers and officers) or the
    deciding unit's; ``enterprises:update`` (the route's permission) leaves out the rest."""
    unit = p.unit
    if p.is_admin or (
        unit is not None and (unit.kind == "county" or unit.id == entry.decided_by_unit_id)
    ):
        return
    raise Forbidden(
        "仅县级或作出列入决定的单位可办理信用修复",
        "Only the county or the unit that decided it may take an enterprise off the blacklist",
    )


async def remove(
    session: AsyncSession, p: Principal, enterprise_id: str, entry_id: str, reason: str
) -> dict[str, Any]:
    """信用修复: takes the entry off (``removed_at``, reason, who), in the caller's scope (404
    otherwise, for the enterprise and the entry alike); 409 when it was already removed."""
    entry = (
        await session.execute(
            select(BlacklistEntry)
            .join(Enterprise, Enterprise.id == BlacklistEntry.enterprise_id)
            .where(
                BlacklistEntry.id == entry_id,
                BlacklistEntry.enterprise_id == enterprise_id,
                visible_enterprises(p),
            )
            .with_for_update(of=BlacklistEntry)
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("黑名单记录不存在", "Blacklist entry not found")
    _check_remover(p, entry)
    if entry.removed_at is not None:
        raise Conflict(
            "该黑名单记录已移出（信用修复已办理）",
            "This entry was already taken off the blacklist",
            code="blacklist_entry_removed",
        )
    entry.removed_at = utcnow()
    entry.removed_reason = reason
    entry.removed_by = p.audit_id
    await session.flush()
    return _entry_out(entry)


PUBLIC_SORTS = {"listed_at": BlacklistEntry.listed_at}
PUBLIC_DEFAULT_SORT = "-listed_at"


async def list_public(
    session: AsyncSession, params: ListParams, county_code: str | None
) -> PageResult:
    """The current entries, as the county publishes them (定期公布): name, credit code, county,
    reason and listing time; every county of the deployment unless ``county_code`` names one.
    The cursor's tie-breaker is the credit code (public, and one current entry per enterprise),
    never an internal id."""
    stmt = (
        select(
            Enterprise.name.label("enterprise_name"),
            Enterprise.credit_code,
            func.substr(Enterprise.region_code, 1, 6).label("county_code"),
            BlacklistEntry.reason,
            BlacklistEntry.listed_at,
        )
        .join(Enterprise, Enterprise.id == BlacklistEntry.enterprise_id)
        .where(BlacklistEntry.removed_at.is_(None))
    )
    if county_code:
        stmt = stmt.where(Enterprise.region_code.like(county_code + "%"))
    return await fetch_page(
        session,
        stmt,
        sort=parse_sort(params.sort, PUBLIC_SORTS, PUBLIC_DEFAULT_SORT),
        id_column=Enterprise.credit_code,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
