"""The maps (一图, issue 13): GeoJSON FeatureCollections for web maps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.enterprises import EnterpriseFilters
from app.api.v1.risk_points import RiskPointFilters
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import GeoJSONResponse, geo_response
from app.schemas.maps import EnterpriseMap, RiskPointMap
from app.services import geo
from app.services.maps import enterprise_map, risk_point_map

router = APIRouter(tags=["maps"], route_class=ApiRoute)

Coords = Annotated[
    geo.CoordinateSystem,
    Query(description="`wgs84` (GPS, 天地图, Leaflet/OpenLayers on OSM) or `gcj02` (高德, 腾讯)"),
]
BBoxParam = Annotated[
    str | None,
    Query(
        max_length=100,
        description="`minLng,minLat,maxLng,maxLat` in the `coords` system (degrees)",
        examples=["116.90,33.55,117.10,33.75"],
    ),
]
MapLimit = Annotated[int, Query(ge=1, le=5000, description="At most this many features")]


@router.get(
    "/maps/enterprises",
    operation_id="map_enterprises",
    response_model=EnterpriseMap,
    response_class=GeoJSONResponse,
    summary="Map of enterprises (GeoJSON)",
)
async def map_enterprises(
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    filters: EnterpriseFilters,
    coords: Coords = "wgs84",
    bbox: BBoxParam = None,
    limit: MapLimit = 1000,
) -> Response:
    """The enterprises in the caller's scope that have a location, as an RFC 7946
    FeatureCollection (`application/geo+json`) of Points, by name. The scope and the filters are
    the enterprise list's (`q`, `region_code`, `sector`, `risk_color`, `status`,
    `enforcement_department_id`, `blacklisted`).

    Coordinates: `[lng, lat]`, 6 decimals. Locations are stored as given with their system;
    `coords` converts them (`gcj02` for 高德/腾讯 maps; points outside China are unchanged). RFC 7946 has no `crs`
    member, so the collection's foreign member `coordinate_system` and each feature's
    `properties.coordinate_system` say which one it is. `bbox` is in the same system.
    `limit` (default 1000, at most 5000) caps the features; `truncated: true` says it did.

    Each feature's properties: `id`, `name`, `sector`, `region_code`, `risk_color`, and for a
    legend `open_hazards` (registered, rectifying or awaiting acceptance) and
    `major_open_hazards` (of those, the major ones).

    Who: every role with `enterprises:read`, in its scope. Errors: 422 `validation_error`
    (a malformed `bbox`, a bad `coords` or `limit`), `unknown_parameter`, `repeated_parameter`.
    """
    box = geo.parse_bbox(bbox)
    body = await enterprise_map(session, p, coords=coords, bbox=box, limit=limit, filters=filters)
    return geo_response(body)


@router.get(
    "/maps/risk-points",
    operation_id="map_risk_points",
    response_model=RiskPointMap,
    response_class=GeoJSONResponse,
    summary="Map of risk points (GeoJSON)",
)
async def map_risk_points(
    session: SessionDep,
    p: Requires(Permission.risks_read),
    filters: RiskPointFilters,
    coords: Coords = "wgs84",
    bbox: BBoxParam = None,
    limit: MapLimit = 1000,
) -> Response:
    """The risk points in the caller's scope that have a location (the risk-point list's
    filters: `enterprise_id`, `level`, `kind`, `region_code`, `sector`, `follow_up`, `status`),
    red first, as an RFC 7946 FeatureCollection of Points (一图): `coords`, `bbox` and `limit`
    as for the enterprise map. Each feature's properties: `id`, `name`, `kind`, `level` (the
    colour), `follow_up`, the enterprise, `open_hazards` and `major_open_hazards` naming this
    point, and `enterprise_major_open_hazards` — where a red point and an open major hazard
    coincide.

    Who: roles with `risks:read`, in scope. Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    box = geo.parse_bbox(bbox)
    body = await risk_point_map(session, p, coords=coords, bbox=box, limit=limit, filters=filters)
    return geo_response(body)
