"""The maps' reads (issue 13, 一图): enterprises as GeoJSON points in the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.models.enterprises import Enterprise
from app.models.hazards import Hazard
from app.services import geo
from app.services.enterprises import filtered
from app.services.hazards.workflow import OPEN

# Locations are stored as given, with their system (``coordinate_system``; before 0018 WGS-84).
STORED: geo.CoordinateSystem = "wgs84"
# The GCJ-02 offset is at most 0.0104° anywhere (tests/test_maps.py measures it): a stored point
# whose GCJ-02 position is in a box lies in the same box grown by this.
GCJ_MARGIN = 0.011


_PROPERTIES = (
    "id",
    "name",
    "sector",
    "region_code",
    "risk_color",
    "open_hazards",
    "major_open_hazards",
)


def _open_count(major: bool) -> Any:
    stmt = select(func.count()).where(
        Hazard.enterprise_id == Enterprise.id, Hazard.status.in_(OPEN)
    )
    if major:
        stmt = stmt.where(Hazard.level == "major")
    return stmt.correlate(Enterprise).scalar_subquery()


def _stored_box(box: geo.BBox, coords: geo.CoordinateSystem) -> geo.BBox:
    """The box to select stored points by: each may be in either system, so a box grown by the
    largest offset holds every point whose converted position is in the asked one (the exact
    test is then on the converted point)."""
    return box.widened(GCJ_MARGIN)


async def enterprise_map(
    session: AsyncSession,
    p: Principal,
    *,
    coords: geo.CoordinateSystem,
    bbox: geo.BBox | None,
    limit: int,
    filters: dict[str, Any],
) -> dict[str, Any]:
    """The list's rows (scope and filters from ``filtered``) with a location, inside the box,
    by name, with their open and major open hazards counted alongside, in one statement (a
    GCJ-02 box may take another)."""
    stmt = (
        filtered(p, **filters)
        .with_only_columns(
            Enterprise.id,
            Enterprise.name,
            Enterprise.sector,
            Enterprise.region_code,
            Enterprise.risk_color,
            Enterprise.lng,
            Enterprise.lat,
            Enterprise.coordinate_system,
            _open_count(False).label("open_hazards"),
            _open_count(True).label("major_open_hazards"),
            maintain_column_froms=True,
        )
        .where(Enterprise.lat.is_not(None), Enterprise.lng.is_not(None))
        .order_by(Enterprise.name, Enterprise.id)
    )
    if bbox is not None:
        box = _stored_box(bbox, coords)
        stmt = stmt.where(
            Enterprise.lng.between(box.min_lng, box.max_lng),
            Enterprise.lat.between(box.min_lat, box.max_lat),
        )
    features: list[dict[str, Any]] = []
    after: tuple[str, str] | None = None
    while True:
        # One statement, unless a box in another system made it drop rows of its grown box:
        # then the next rows by (name, id) until ``limit + 1`` are in.
        wanted = limit + 1 - len(features)
        page = stmt if after is None else stmt.where(tuple_(Enterprise.name, Enterprise.id) > after)
        rows = (await session.execute(page.limit(wanted))).mappings().all()
        for row in rows:
            stored = row["coordinate_system"] or STORED
            lng, lat = geo.convert(row["lng"], row["lat"], stored, coords)
            if bbox is not None and not bbox.contains(lng, lat):
                continue  # in the grown box only
            props = {key: row[key] for key in _PROPERTIES}
            features.append(geo.point_feature(row["id"], lng, lat, props, coords))
        if len(features) > limit or len(rows) < wanted:
            break
        after = (rows[-1]["name"], rows[-1]["id"])
    truncated = len(features) > limit
    return geo.feature_collection(features[:limit], coords, truncated=truncated)
