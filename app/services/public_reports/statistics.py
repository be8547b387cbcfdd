"""Public report figures (``GET /api/v1/statistics/reports``): received, substantiated, rewarded,
closed and the median days to close, in the caller's scope (the list's rule), by town, sector or
month. Never anything of reporters: the statement selects no identity column."""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_reports
from app.core.config import Settings
from app.core.i18n import unit_name
from app.models import OrgUnit, PublicReport
from app.services.catalog_data import SECTORS
from app.services.hazards.queries import period

_SECTOR_LABELS = {s.code: (s.name_zh, s.name_en) for s in SECTORS}


def _group(key: str, label: str | None, rows: list[Any]) -> dict[str, Any]:
    substantiated = [r for r in rows if r.hazard_id is not None]
    rewarded = [r for r in rows if r.reward_fen is not None]
    closed = [r for r in rows if r.closed_at is not None]
    days = [(r.closed_at - r.received_at).total_seconds() / 86400 for r in closed]
    return {
        "key": key,
        "label": label,
        "received": len(rows),
        "substantiated": len(substantiated),
        "rewarded": len(rewarded),
        "reward_yuan": sum(r.reward_fen for r in rewarded) / 100,
        "closed": len(closed),
        "median_days_to_close": round(stats.median(days), 1) if days else None,
    }


async def report_statistics(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    *,
    group_by: str,
    received_from: datetime | date | None,
    received_to: datetime | date | None,
    english: bool,
) -> dict[str, Any]:
    stmt = select(
        PublicReport.town_code,
        PublicReport.sector,
        PublicReport.received_at,
        PublicReport.closed_at,
        PublicReport.hazard_id,
        PublicReport.reward_fen,
    ).where(visible_reports(p))
    stmt = stmt.where(*period(PublicReport.received_at, received_from, received_to, settings))
    rows = (await session.execute(stmt)).all()
    tz = ZoneInfo(settings.timezone)
    groups: dict[str, list[Any]] = defaultdict(list)
    labels: dict[str, str | None] = {}
    if group_by == "town":
        towns = {
            u.region_code: unit_name(u.name, u.name_en, english)
            for u in (
                await session.execute(
                    select(OrgUnit.region_code, OrgUnit.name, OrgUnit.name_en).where(
                        OrgUnit.kind == "town"
                    )
                )
            ).all()
        }
        for r in rows:
            key = r.town_code if r.town_code in towns else "none"
            groups[key].append(r)
            labels[key] = towns.get(key)
    elif group_by == "sector":
        for r in rows:
            key = r.sector or "none"
            groups[key].append(r)
            pair = _SECTOR_LABELS.get(key)
            labels[key] = (pair[1] if english else pair[0]) if pair else None
    elif group_by == "month":
        for r in rows:
            key = r.received_at.astimezone(tz).strftime("%Y-%m")
            groups[key].append(r)
            labels[key] = key
    return {
        "group_by": group_by,
        "total": _group("total", None, list(rows)),
        "groups": [_group(k, labels.get(k), groups[k]) for k in sorted(groups)],
    }
