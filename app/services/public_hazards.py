"""The public list of disclosed major hazards (重大事故隐患向社会公布), for anyone, signed in or not.

Listed: major hazards under listed supervision (挂牌督办: a supervising unit is set) whose unit
disclosed them (``supervise`` with ``disclosed=true``), open, or closed within the last
``ANJIAN_PUBLIC_CLOSED_DAYS`` (90) days, marked closed; never voided ones, and nothing once the
listing is removed (``unsupervise``). Every county of the deployment is listed; ``county_code``
and ``region_code`` narrow it. Only the public fields are read (``app/schemas/public.py``): no
people, no attachments, no ids. One statement per page, newest listing first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from app.core import reads
from app.core.config import Settings
from app.core.i18n import unit_name
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, Hazard, OrgUnit
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.services.catalog_data import PUBLIC_HAZARD_STATUSES
from app.services.hazards.workflow import OPEN

SORTS = {"listed_at": Hazard.supervision_listed_at}
DEFAULT_SORT = "-listed_at"
_LABELS = {e.code: (e.name_zh, e.name_en) for e in PUBLIC_HAZARD_STATUSES}
Town = aliased(OrgUnit, name="town")
ListingUnit = aliased(OrgUnit, name="listing_unit")


@dataclass(frozen=True, slots=True)
class PublicFilters:
    county_code: str | None = None
    region_code: str | None = None  # a prefix of the enterprise's region code
    status: tuple[str, ...] | None = None  # of PUBLIC_HAZARD_STATUSES


# The tie-breaker of the public cursor: what the page shows anyway (county and number), never
# the internal id (a UUIDv7 would also tell when the hazard was registered).
PUBLIC_KEY = (Hazard.county_code + "/" + Hazard.number).label("public_key")
_NO_TEXT = {
    False: "重大事故隐患（挂牌督办，未发布公开说明）",
    True: "Major hazard under listed supervision (no public description published)",
}


def _statement(settings: Settings, f: PublicFilters, now: datetime) -> Any:
    town_code = func.substr(Enterprise.region_code, 1, 9)
    closed_since = now - timedelta(days=settings.public_closed_days)
    recent_closed = and_(Hazard.status == "closed", Hazard.closed_at >= closed_since)
    wanted = set(f.status or ("rectifying", "closed"))
    shown = [Hazard.status.in_(sorted(OPEN))] if "rectifying" in wanted else []
    shown += [recent_closed] if "closed" in wanted else []
    stmt = (
        select(
            PUBLIC_KEY,
            Hazard.number,
            Hazard.county_code,
            Enterprise.name.label("enterprise_name"),
            town_code.label("town_code"),
            Town.name.label("town_name"),
            Town.name_en.label("town_name_en"),
            Hazard.supervision_public_description,
            Hazard.deadline,
            ListingUnit.name.label("unit_name"),
            ListingUnit.name_en.label("unit_name_en"),
            Hazard.status,
            Hazard.supervision_listed_at,
            Hazard.closed_at,
        )
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .join(ListingUnit, ListingUnit.id == Hazard.supervision_org_unit_id)
        .outerjoin(Town, and_(Town.kind == "town", Town.region_code == town_code))
        .where(
            Hazard.level == "major",
            Hazard.supervision_listed_at.is_not(None),  # the index holds only listed hazards
            Hazard.supervision_org_unit_id.is_not(None),
            Hazard.supervision_disclosed.is_(True),
            or_(*shown),
        )
    )
    if f.county_code:
        stmt = stmt.where(Hazard.county_code == f.county_code)
    if f.region_code:
        stmt = stmt.where(Enterprise.region_code.startswith(f.region_code))
    return stmt


async def list_public(
    session: reads.Reader,
    settings: Settings,
    params: ListParams,
    filters: PublicFilters,
    english: bool,
) -> tuple[list[dict[str, Any]], PageResult]:
    """A page of the public list, shaped as the dicts of ``PublicMajorHazard``."""
    page = await fetch_page(
        session,  # type: ignore[arg-type]
        _statement(settings, filters, utcnow()),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=PUBLIC_KEY,  # type: ignore[arg-type]
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    items = []
    for r in page.rows:
        status = "closed" if r["status"] == "closed" else "rectifying"
        zh, en = _LABELS[status]
        items.append(
            {
                "number": r["number"],
                "county_code": r["county_code"],
                "enterprise_name": r["enterprise_name"],
                "town": {
                    "region_code": r["town_code"],
                    "name": unit_name(r["town_name"], r["town_name_en"], english)
                    if r["town_name"]
                    else None,
                },
                # Titles are internal wording (they may name people): never published.
                "description": r["supervision_public_description"] or _NO_TEXT[english],
                "deadline": r["deadline"],
                "supervising_unit": {"name": unit_name(r["unit_name"], r["unit_name_en"], english)},
                "status": status,
                "status_label": en if english else zh,
                "listed_at": r["supervision_listed_at"],
                "closed_at": r["closed_at"],
            }
        )
    return items, page
