"""The maps' GeoJSON (RFC 7946) answers, as openapi.json documents them (issue 13, 一图)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.enterprises import RiskColor
from app.schemas.org_units import SectorCode
from app.schemas.risks import RiskLevel, RiskPointKind
from app.services.geo import CoordinateSystem

Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: Annotated[
        tuple[Longitude, Latitude], Field(description="[longitude, latitude], 6 decimals")
    ]


class EnterpriseMapProperties(BaseModel):
    id: str
    name: str
    sector: SectorCode  # type: ignore[valid-type]
    region_code: str
    risk_color: RiskColor | None  # type: ignore[valid-type]
    open_hazards: Annotated[
        int, Field(ge=0, description="Hazards registered, rectifying or awaiting acceptance")
    ]
    major_open_hazards: Annotated[int, Field(ge=0, description="Of those, the major ones")]
    coordinate_system: CoordinateSystem


class EnterpriseFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: EnterpriseMapProperties


class EnterpriseMap(BaseModel):
    """A FeatureCollection with two foreign members (RFC 7946 §6.1): ``coordinate_system``
    (RFC 7946 has no ``crs``: ``wgs84``, or ``gcj02`` for 高德/腾讯 maps) and ``truncated``
    (true when ``limit`` cut the answer)."""

    type: Literal["FeatureCollection"]
    coordinate_system: CoordinateSystem
    truncated: bool
    features: list[EnterpriseFeature]


class RiskPointMapProperties(BaseModel):
    id: str
    name: str
    kind: RiskPointKind  # type: ignore[valid-type]
    level: RiskLevel  # type: ignore[valid-type]
    follow_up: bool
    enterprise_id: str
    enterprise_name: str
    open_hazards: Annotated[int, Field(ge=0, description="Open hazards naming this risk point")]
    major_open_hazards: Annotated[int, Field(ge=0, description="Of those, the major ones")]
    enterprise_major_open_hazards: Annotated[
        int, Field(ge=0, description="The enterprise's open major hazards (any risk point)")
    ]
    coordinate_system: CoordinateSystem


class RiskPointFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: RiskPointMapProperties


class RiskPointMap(BaseModel):
    """As ``EnterpriseMap``: foreign members ``coordinate_system`` and ``truncated``."""

    type: Literal["FeatureCollection"]
    coordinate_system: CoordinateSystem
    truncated: bool
    features: list[RiskPointFeature]
