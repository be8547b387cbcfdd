"""The maps' reads (issue 13, 一图): enterprises as GeoJSON points in the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.models.enterprises import Enterprise
from app.models.hazards import Hazard
from app.models.risks import RiskPoint
from app.services import geo
from app.services.enterprises import filtered
from app.services.hazards.workflow import OPEN
from app.services.risks import service as risk_service
from app.services.risks.assessment import LEVELS

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
    return await _collect(
        session,
        stmt,
        ((Enterprise.name, "name"), (Enterprise.id, "id")),
        (Enterprise.lng, Enterprise.lat),
        _PROPERTIES,
        coords=coords,
        bbox=bbox,
        limit=limit,
    )


async def _collect(
    session: AsyncSession,
    stmt: Any,
    order: tuple[tuple[Any, str], tuple[Any, str]],
    position: tuple[Any, Any],
    properties: tuple[str, ...],
    *,
    coords: geo.CoordinateSystem,
    bbox: geo.BBox | None,
    limit: int,
) -> dict[str, Any]:
    """The features of ``stmt`` (ordered by ``order``, located by ``position``, each row with
    ``id`` and ``coordinate_system``), converted to ``coords``, inside ``bbox``, at most
    ``limit``: one statement, unless a box grown for the other system dropped rows."""
    lng_col, lat_col = position
    if bbox is not None:
        box = _stored_box(bbox, coords)
        stmt = stmt.where(
            lng_col.between(box.min_lng, box.max_lng), lat_col.between(box.min_lat, box.max_lat)
        )
    features: list[dict[str, Any]] = []
    after: tuple[Any, Any] | None = None
    (first, first_key), (second, second_key) = order
    while True:
        wanted = limit + 1 - len(features)
        page = stmt if after is None else stmt.where(tuple_(first, second) > after)
        rows = (await session.execute(page.limit(wanted))).mappings().all()
        for row in rows:
            stored = row["coordinate_system"] or STORED
            lng, lat = geo.convert(row["lng"], row["lat"], stored, coords)
            if bbox is not None and not bbox.contains(lng, lat):
                continue  # in the grown box only
            props = {key: row[key] for key in properties}
            features.append(geo.point_feature(row["id"], lng, lat, props, coords))
        if len(features) > limit or len(rows) < wanted:
            break
        after = (rows[-1][first_key], rows[-1][second_key])
    truncated = len(features) > limit
    return geo.feature_collection(features[:limit], coords, truncated=truncated)


_POINT_PROPERTIES = (
    "id",
    "name",
    "kind",
    "level",
    "follow_up",
    "enterprise_id",
    "enterprise_name",
    "open_hazards",
    "major_open_hazards",
    "enterprise_major_open_hazards",
)


def _point_open_count(major: bool) -> Any:
    stmt = select(func.count()).where(Hazard.risk_point_id == RiskPoint.id, Hazard.status.in_(OPEN))
    if major:
        stmt = stmt.where(Hazard.level == "major")
    return stmt.correlate(RiskPoint).scalar_subquery()


async def risk_point_map(
    session: AsyncSession,
    p: Principal,
    *,
    coords: geo.CoordinateSystem,
    bbox: geo.BBox | None,
    limit: int,
    filters: dict[str, Any],
) -> dict[str, Any]:
    """The active risk points in scope with a location (the risk-point list's filters), by
    level (red first) then name: each with the open hazards naming it and its enterprise's
    open major hazards, so a map shows where red risks and open major hazards coincide."""
    rank = case({level: n for n, level in enumerate(LEVELS)}, value=RiskPoint.level)
    stmt = (
        risk_service.filtered(p, **filters)
        .with_only_columns(
            RiskPoint.id,
            RiskPoint.name,
            RiskPoint.kind,
            RiskPoint.level,
            RiskPoint.follow_up,
            RiskPoint.enterprise_id,
            Enterprise.name.label("enterprise_name"),
            RiskPoint.lng,
            RiskPoint.lat,
            RiskPoint.coordinate_system,
            rank.label("level_rank"),
            _point_open_count(False).label("open_hazards"),
            _point_open_count(True).label("major_open_hazards"),
            _open_count(True).label("enterprise_major_open_hazards"),
            maintain_column_froms=True,
        )
        .where(RiskPoint.lat.is_not(None), RiskPoint.lng.is_not(None))
        .order_by(rank, RiskPoint.id)
    )
    return await _collect(
        session,
        stmt,
        ((rank, "level_rank"), (RiskPoint.id, "id")),
        (RiskPoint.lng, RiskPoint.lat),
        _POINT_PROPERTIES,
        coords=coords,
        bbox=bbox,
        limit=limit,
    )
