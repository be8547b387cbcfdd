"""The geo layer of the maps (issue 13, 一图): WGS-84 ↔ GCJ-02, GeoJSON and ``bbox``.

Coordinates. Locations are stored as WGS-84 (GPS). Chinese web maps (高德, 腾讯) draw in GCJ-02
(国测局坐标, "Mars coordinates"), 天地图 in CGCS2000 (within centimetres of WGS-84), so a map asks
``coords=gcj02`` for 高德 and ``wgs84`` otherwise. GCJ-02 is the published ``transform``
(a = 6378245.0, ee = 0.00669342162296594323, the rough out-of-China rectangle) as in
eviltransform (https://github.com/googollee/eviltransform, MIT) and coordtransform
(https://github.com/wandergis/coordtransform). The PyPI packages carrying it (``eviltransform``
0.1.1, 2018; ``coord-convert`` 0.2.1, 2019) are unmaintained and the formula is twenty lines, so
it lives here, tested on known points (tests/test_maps.py). GCJ-02 → WGS-84 has no closed form:
it is solved by fixed-point iteration to better than 1e-9 degrees. Points outside China are
unchanged both ways.

GeoJSON (RFC 7946). Positions are ``[lng, lat]``, rounded to 6 decimals (about 0.1 m). RFC 7946
dropped the ``crs`` member (§4: WGS-84 only); a GCJ-02 answer is therefore outside the RFC's
datum, and says so: the collection carries the foreign member ``coordinate_system``
(``"wgs84"`` or ``"gcj02"``, §6.1) and each feature the same in its properties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.core.errors import ValidationFailed

CoordinateSystem = Literal["wgs84", "gcj02"]
COORDINATE_SYSTEMS: tuple[CoordinateSystem, ...] = ("wgs84", "gcj02")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the published formula uses it
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lng: float, lat: float) -> bool:
    """The formula's own rough rectangle (not a border): outside it GCJ-02 equals WGS-84."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _delta(lng: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 offset (degrees) at a WGS-84 point."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lng, d_lat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    d_lng, d_lat = _delta(lng, lat)
    return lng + d_lng, lat + d_lat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """The inverse by fixed-point iteration: guess w, move it by the error of f(w) against the
    target. The offset changes slowly (its derivative is ~1e-3), so each step gains about three
    digits; a handful reach 1e-9 degrees."""
    if out_of_china(lng, lat):
        return lng, lat
    w_lng, w_lat = lng, lat
    for _ in range(30):
        g_lng, g_lat = wgs84_to_gcj02(w_lng, w_lat)
        e_lng, e_lat = g_lng - lng, g_lat - lat
        w_lng, w_lat = w_lng - e_lng, w_lat - e_lat
        if abs(e_lng) < 1e-10 and abs(e_lat) < 1e-10:
            break
    return w_lng, w_lat


def convert(
    lng: float, lat: float, from_crs: CoordinateSystem, to_crs: CoordinateSystem
) -> tuple[float, float]:
    if from_crs == to_crs:
        return lng, lat
    if from_crs == "wgs84" and to_crs == "gcj02":
        return wgs84_to_gcj02(lng, lat)
    if from_crs == "gcj02" and to_crs == "wgs84":
        return gcj02_to_wgs84(lng, lat)
    raise ValueError(f"unknown coordinate systems {from_crs!r} → {to_crs!r}")


@dataclass(frozen=True, slots=True)
class BBox:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    def as_list(self) -> list[float]:
        return [self.min_lng, self.min_lat, self.max_lng, self.max_lat]

    def contains(self, lng: float, lat: float) -> bool:
        return self.min_lng <= lng <= self.max_lng and self.min_lat <= lat <= self.max_lat

    def widened(self, degrees: float) -> BBox:
        """The box grown by ``degrees`` each side (clamped): a prefilter in another datum."""
        return BBox(
            max(-180.0, self.min_lng - degrees),
            max(-90.0, self.min_lat - degrees),
            min(180.0, self.max_lng + degrees),
            min(90.0, self.max_lat + degrees),
        )


def _bbox_error(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed.field("bbox", zh, en)


def parse_bbox(value: str | None) -> BBox | None:
    """``minLng,minLat,maxLng,maxLat`` (RFC 7946 §5 order, degrees): four finite numbers,
    longitudes in [-180, 180], latitudes in [-90, 90], min < max (a box across the antimeridian
    is not accepted). Anything else is a 422 ``validation_error`` on the field ``bbox``."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise _bbox_error(
            "bbox 须为 4 个以逗号分隔的数：最小经度,最小纬度,最大经度,最大纬度",
            "bbox must be four comma-separated numbers: minLng,minLat,maxLng,maxLat",
        )
    try:
        numbers = [float(part.strip()) for part in parts]
    except ValueError:
        raise _bbox_error("bbox 含有非数字的值", "bbox has a value that is not a number") from None
    if not all(math.isfinite(n) for n in numbers):
        raise _bbox_error("bbox 的值须为有限数", "bbox values must be finite numbers")
    min_lng, min_lat, max_lng, max_lat = numbers
    if not (-180 <= min_lng <= 180 and -180 <= max_lng <= 180):
        raise _bbox_error(
            "bbox 的经度须在 -180 到 180 之间", "bbox longitudes must be in [-180, 180]"
        )
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise _bbox_error("bbox 的纬度须在 -90 到 90 之间", "bbox latitudes must be in [-90, 90]")
    if not (min_lng < max_lng and min_lat < max_lat):
        raise _bbox_error(
            "bbox 的最小值须小于最大值", "bbox minimum values must be less than the maximum values"
        )
    return BBox(min_lng, min_lat, max_lng, max_lat)


def point_feature(
    feature_id: str,
    lng: float,
    lat: float,
    properties: Mapping[str, Any],
    coordinate_system: CoordinateSystem,
) -> dict[str, Any]:
    """One RFC 7946 Point Feature, ``[lng, lat]`` rounded to 6 decimals."""
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
        "properties": {**properties, "coordinate_system": coordinate_system},
    }


def feature_collection(
    features: Iterable[dict[str, Any]],
    coordinate_system: CoordinateSystem,
    *,
    truncated: bool = False,
) -> dict[str, Any]:
    """A FeatureCollection with the foreign members ``coordinate_system`` and ``truncated``
    (true when the feature limit cut the answer). No ``bbox`` member: RFC 7946 §5 makes it the
    extent of the features, not the box asked for."""
    out: dict[str, Any] = {"type": "FeatureCollection"}
    out["coordinate_system"] = coordinate_system
    out["truncated"] = truncated
    out["features"] = list(features)
    return out
