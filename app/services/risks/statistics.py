"""``GET /api/v1/statistics/risks``: the risk points of the list's selection counted by level,
kind, sector and town, and the enterprises where a red point and an open major hazard meet
(the county's first list to look at)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.models import Enterprise, Hazard, OrgUnit
from app.services.hazards.workflow import OPEN
from app.services.risks import service
from app.services.risks.assessment import LEVELS


def _levels(counter: Counter[str]) -> dict[str, int]:
    return {level: counter.get(level, 0) for level in LEVELS}


async def risk_statistics(session: Any, p: Principal, filters: dict[str, Any]) -> dict[str, Any]:
    selection = service.filtered(p, **filters).subquery()
    town = func.substr(selection.c.region_code, 1, 9)
    rows = (
        await session.execute(
            select(
                selection.c.level,
                selection.c.kind,
                selection.c.sector,
                town.label("town"),
                func.count().label("n"),
            ).group_by(selection.c.level, selection.c.kind, selection.c.sector, town)
        )
    ).all()
    by: dict[str, defaultdict[str, Counter[str]]] = {
        d: defaultdict(Counter) for d in ("kind", "sector", "town")
    }
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r.level] += r.n
        by["kind"][r.kind][r.level] += r.n
        by["sector"][r.sector][r.level] += r.n
        by["town"][r.town][r.level] += r.n
    towns = dict(
        (
            await session.execute(
                select(OrgUnit.region_code, OrgUnit.name).where(
                    OrgUnit.kind == "town", OrgUnit.region_code.in_(list(by["town"]) or ["-"])
                )
            )
        )
        .tuples()
        .all()
    )

    def groups(dim: str) -> list[dict[str, Any]]:
        out = []
        for key in sorted(by[dim]):
            counts = by[dim][key]
            row: dict[str, Any] = {"key": key, "points": sum(counts.values()), **_levels(counts)}
            if dim == "town":
                row["name"] = towns.get(key)
            out.append(row)
        return out

    # Enterprises of the selection with a red point and an open major hazard at the same time.
    red = (
        select(selection.c.enterprise_id, func.count().label("red_points"))
        .where(selection.c.level == "red")
        .group_by(selection.c.enterprise_id)
        .subquery()
    )
    major = (
        select(Hazard.enterprise_id, func.count().label("major_open"))
        .where(Hazard.level == "major", Hazard.status.in_(OPEN))
        .group_by(Hazard.enterprise_id)
        .subquery()
    )
    both = (
        await session.execute(
            select(
                Enterprise.id,
                Enterprise.name,
                Enterprise.region_code,
                Enterprise.sector,
                red.c.red_points,
                major.c.major_open,
            )
            .join(red, red.c.enterprise_id == Enterprise.id)
            .join(major, major.c.enterprise_id == Enterprise.id)
            .order_by(major.c.major_open.desc(), red.c.red_points.desc(), Enterprise.name)
        )
    ).all()
    return {
        "totals": {"points": sum(totals.values()), **_levels(totals)},
        "by_kind": groups("kind"),
        "by_sector": groups("sector"),
        "by_town": groups("town"),
        "red_with_major_open_hazards": [
            {
                "enterprise": {"id": r.id, "name": r.name},
                "region_code": r.region_code,
                "sector": r.sector,
                "red_points": r.red_points,
                "major_open_hazards": r.major_open,
            }
            for r in both
        ],
    }
