"""The joint-punishment blacklist (联合惩戒黑名单): entries put on by an inspection's decision,
taken off by credit repair (信用修复). One current entry per enterprise at most."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import BlacklistEntry


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
    session.add(entry)
    await session.flush()
    return entry
