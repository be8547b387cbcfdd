"""Maps (issue 13, 一图): the WGS-84 ↔ GCJ-02 conversion on known points, the GeoJSON shapes,
``bbox`` parsing, and ``GET /api/v1/maps/enterprises`` for every role of the world."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import pytest
import shapely.geometry

from app.core.errors import ValidationFailed
from app.schemas.maps import EnterpriseMap
from app.services import geo, maps
from tests.conftest import World
from tests.hazard_helpers import act, register

# Published pairs (WGS-84 lng, lat → GCJ-02 lng, lat): eviltransform's own tests
# (https://github.com/googollee/eviltransform, python/test.py: Shanghai, Shenzhen, Beijing).
KNOWN = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_wgs84_to_gcj02_on_published_points(wgs, gcj) -> None:  # type: ignore[no-untyped-def]
    lng, lat = geo.wgs84_to_gcj02(*wgs)
    assert abs(lng - gcj[0]) < 1e-9 and abs(lat - gcj[1]) < 1e-9
    back = geo.gcj02_to_wgs84(*gcj)
    assert abs(back[0] - wgs[0]) < 1e-6 and abs(back[1] - wgs[1]) < 1e-6


def test_tiananmen_and_suzhou() -> None:
    # Tiananmen: WGS-84 116.391275, 39.906217 is drawn by 高德 at about 116.397518, 39.907620.
    lng, lat = geo.wgs84_to_gcj02(116.391275, 39.906217)
    assert abs(lng - 116.397518) < 1e-5 and abs(lat - 39.907620) < 1e-5
    # 宿州 (埇桥): the offset there is about +0.0054° lng, -0.0015° lat (≈ 500 m, ≈ 170 m).
    lng, lat = geo.wgs84_to_gcj02(116.98, 33.64)
    assert 0.004 < lng - 116.98 < 0.007 and -0.003 < lat - 33.64 < 0
    assert geo.convert(116.98, 33.64, "wgs84", "gcj02") == (lng, lat)
    assert geo.convert(lng, lat, "gcj02", "wgs84") == geo.gcj02_to_wgs84(lng, lat)
    assert geo.convert(116.98, 33.64, "gcj02", "gcj02") == (116.98, 33.64)


def test_round_trip_across_china_and_the_largest_offset() -> None:
    largest = max(
        max(
            abs(a - b)
            for a, b in zip(geo.wgs84_to_gcj02(x / 4, y / 4), (x / 4, y / 4), strict=True)
        )
        for x in range(72 * 4, 138 * 4, 3)
        for y in range(4, 56 * 4, 3)
    )
    assert 0.009 < largest < maps.GCJ_MARGIN  # the bbox prefilter's margin holds every point
    worst = 0.0
    for lng in range(74, 136, 3):
        for lat in range(4, 54, 3):
            x, y = lng + 0.123456, lat + 0.654321
            back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(x, y))
            worst = max(worst, abs(back[0] - x), abs(back[1] - y))
    assert worst < 1e-8  # the brief asks < 1e-5°; the iteration gets far below


@pytest.mark.parametrize(
    "point", [(2.2945, 48.8584), (-74.0445, 40.6892), (151.2153, -33.8568), (139.0, 35.0)]
)
def test_outside_china_unchanged(point) -> None:  # type: ignore[no-untyped-def]
    # Paris, New York, Sydney, and east of the formula's box (139°E, Japan)
    assert geo.wgs84_to_gcj02(*point) == point
    assert geo.gcj02_to_wgs84(*point) == point


def test_features_and_collection() -> None:
    f = geo.point_feature("e1", 116.123456789, 33.987654321, {"name": "甲"}, "gcj02")
    assert f == {
        "type": "Feature",
        "id": "e1",
        "geometry": {"type": "Point", "coordinates": [116.123457, 33.987654]},
        "properties": {"name": "甲", "coordinate_system": "gcj02"},
    }
    fc = geo.feature_collection([f], "gcj02", truncated=True)
    assert fc["type"] == "FeatureCollection" and fc["features"] == [f]
    assert fc["coordinate_system"] == "gcj02" and fc["truncated"] is True
    assert "crs" not in fc  # RFC 7946 removed it
    assert shapely.geometry.shape(f["geometry"]).coords[0] == (116.123457, 33.987654)


def test_parse_bbox() -> None:
    assert geo.parse_bbox(None) is None
    box = geo.parse_bbox(" 116.9, 33.5,117.1 ,33.8")
    assert box is not None and box.as_list() == [116.9, 33.5, 117.1, 33.8]
    assert box.contains(117.0, 33.6) and not box.contains(117.2, 33.6)
    for bad in (
        "",
        "1,2,3",
        "1,2,3,4,5",
        "a,2,3,4",
        "nan,1,2,3",
        "1,inf,2,3",
        "-181,0,10,10",
        "0,-91,10,10",
        "0,0,10,91",
        "10,0,5,10",
        "0,10,10,10",
    ):
        with pytest.raises(ValidationFailed) as e:
            geo.parse_bbox(bad)
        assert e.value.errors[0]["field"] == "bbox"  # type: ignore[attr-defined]


# --- the endpoint -------------------------------------------------------------------------

LOCATIONS = {  # WGS-84, around 宿州 埇桥; ent_b2 stays without a location
    "ent_a1": (116.98, 33.64),
    "ent_a2": (116.99, 33.65),
    "ent_b1": (116.90, 33.70),
}
ACTORS = [
    "admin",
    "county_officer",
    "county_viewer",
    "town_a_manager",
    "town_a_officer",
    "town_a_inspector",
    "town_a_viewer",
    "town_b_officer",
    "bureau_e_manager",
    "bureau_e_officer",
    "bureau_c_officer",
    "ent_a1_manager",
    "ent_a1_staff",
    "ent_b1_manager",
    "machine",
]


async def located_world(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Locations on three enterprises (through the API), open hazards at ent_a1 (one major,
    one general) and ent_b1 (general), a voided major one at ent_a2 (not open)."""
    for name, (lng, lat) in LOCATIONS.items():
        url = f"/api/v1/enterprises/{world[name]}"
        etag = (await client.get(url, headers=world.h("admin"))).headers["etag"]
        body = {"location": {"lat": lat, "lng": lng}}
        r = await client.patch(url, json=body, headers={**world.h("admin"), "If-Match": etag})
        assert r.status_code == 200, r.text
    await register(client, world, "county_officer", "ent_a1", level="major")
    await register(client, world, "county_officer", "ent_a1")
    await register(client, world, "county_officer", "ent_b1")
    voided = await register(client, world, "county_officer", "ent_a2", level="major")
    r = await act(client, world, "county_officer", voided["id"], "void", reason="误登记")
    assert r.status_code == 200, r.text


def check_geojson(body: dict[str, Any], coordinate_system: str) -> None:
    """The documented schema (openapi.json's EnterpriseMap), what RFC 7946 lets us assert, and
    shapely reading every geometry."""
    EnterpriseMap.model_validate(body)
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert body["coordinate_system"] == coordinate_system
    assert isinstance(body["truncated"], bool)
    assert isinstance(body["features"], list)
    for f in body["features"]:
        assert f["type"] == "Feature"
        assert isinstance(f["id"], str | int)
        assert set(f) == {"type", "id", "geometry", "properties"}
        g = f["geometry"]
        assert g["type"] == "Point" and len(g["coordinates"]) == 2
        lng, lat = g["coordinates"]
        assert -180 <= lng <= 180 and -90 <= lat <= 90
        assert all(round(c, 6) == c for c in (lng, lat))
        point = shapely.geometry.shape(g)
        assert point.geom_type == "Point" and point.is_valid
        assert (point.x, point.y) == (lng, lat)  # [lng, lat]: x is the longitude
        assert f["properties"]["coordinate_system"] == coordinate_system
        assert f["properties"]["id"] == f["id"]


async def get_map(client, world: World, actor: str = "admin", **params: Any):  # type: ignore[no-untyped-def]
    return await client.get(f"/api/v1/maps/enterprises?{urlencode(params)}", headers=world.h(actor))


async def test_map_for_every_role_is_the_list_with_a_location(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await located_world(client, world)
    located = {world[name] for name in LOCATIONS}
    for actor in ACTORS:
        listed = await client.get("/api/v1/enterprises?limit=500", headers=world.h(actor))
        assert listed.status_code == 200, (actor, listed.text)
        visible = {e["id"] for e in listed.json()["items"]}
        r = await get_map(client, world, actor)
        assert r.status_code == 200, (actor, r.text)
        assert r.headers["content-type"] == "application/geo+json"
        body = r.json()
        check_geojson(body, "wgs84")
        assert {f["id"] for f in body["features"]} == visible & located, actor
        assert body["truncated"] is False
    # spot checks of the scope itself
    ids = {f["id"] for f in (await get_map(client, world, "town_a_viewer")).json()["features"]}
    assert ids == {world["ent_a1"], world["ent_a2"]}
    ids = {f["id"] for f in (await get_map(client, world, "ent_b1_manager")).json()["features"]}
    assert ids == {world["ent_b1"]}
    ids = {f["id"] for f in (await get_map(client, world, "bureau_c_officer")).json()["features"]}
    assert ids == {world["ent_a2"]}  # ent_b2 is theirs but has no location

    # the properties and the legend counts
    by_id = {f["id"]: f for f in (await get_map(client, world)).json()["features"]}
    a1 = by_id[world["ent_a1"]]
    assert a1["geometry"]["coordinates"] == [116.98, 33.64]
    assert a1["properties"] == {
        "id": world["ent_a1"],
        "name": "埇桥机械制造有限公司",
        "sector": "industry_trade",
        "region_code": "341302001001",
        "risk_color": "yellow",
        "open_hazards": 2,
        "major_open_hazards": 1,
        "coordinate_system": "wgs84",
    }
    counts = {
        k: (f["properties"]["open_hazards"], f["properties"]["major_open_hazards"])
        for k, f in by_id.items()
    }
    assert counts[world["ent_a2"]] == (0, 0)  # the voided one is not open
    assert counts[world["ent_b1"]] == (1, 0)
    # by name, as the list
    names = [f["properties"]["name"] for f in by_id.values()]
    assert names == sorted(names)


async def test_map_filters_bbox_coords_and_limit(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await located_world(client, world)

    async def ids(**params: Any) -> list[str]:
        r = await get_map(client, world, "county_officer", **params)
        assert r.status_code == 200, r.text
        return [f["id"] for f in r.json()["features"]]

    a1, a2, b1 = world["ent_a1"], world["ent_a2"], world["ent_b1"]
    # the list's filters
    assert await ids(risk_color="red,yellow") == sorted([a1, b1], key=[a1, a2, b1].index)
    assert set(await ids(region_code="341302001")) == {a1, a2}
    assert await ids(sector="hazardous_chemicals") == [b1]
    assert await ids(q="城建") == [a2]

    # bbox in WGS-84: ent_a1 and ent_a2, not ent_b1
    assert set(await ids(bbox="116.95,33.60,117.00,33.66")) == {a1, a2}
    # a box just around ent_a1's GCJ-02 position: found with coords=gcj02, not with wgs84
    glng, glat = geo.wgs84_to_gcj02(116.98, 33.64)
    tight = f"{glng - 0.001},{glat - 0.001},{glng + 0.001},{glat + 0.001}"
    assert await ids(bbox=tight, coords="gcj02") == [a1]
    assert await ids(bbox=tight) == []
    # ent_a2 is in the grown prefilter box but not in the asked one: dropped, and not counted
    # against the limit
    r = (await get_map(client, world, limit=1, coords="gcj02", bbox=tight)).json()
    assert [f["id"] for f in r["features"]] == [a1] and r["truncated"] is False
    # and the other way round: ent_a1 (first by name) in the grown box only, ent_a2 inside
    g2lng, g2lat = geo.wgs84_to_gcj02(116.99, 33.65)
    box = f"{g2lng - 0.006},{g2lat - 0.001},{g2lng + 0.001},{g2lat + 0.001}"
    r = (await get_map(client, world, limit=1, coords="gcj02", bbox=box)).json()
    assert [f["id"] for f in r["features"]] == [a2] and r["truncated"] is False
    assert await ids(bbox="116.979,33.639,116.981,33.641", coords="gcj02") == []
    assert await ids(bbox="116.979,33.639,116.981,33.641") == [a1]

    # coords=gcj02: the same enterprise, moved by the formula's offset
    wgs = (await get_map(client, world)).json()
    gcj_r = await get_map(client, world, coords="gcj02")
    assert gcj_r.headers["content-type"] == "application/geo+json"
    gcj = gcj_r.json()
    check_geojson(gcj, "gcj02")
    for w, g in zip(wgs["features"], gcj["features"], strict=True):
        assert w["id"] == g["id"]
        expected = geo.wgs84_to_gcj02(*w["geometry"]["coordinates"])
        got = g["geometry"]["coordinates"]
        assert math.isclose(got[0], expected[0], abs_tol=1e-6)
        assert math.isclose(got[1], expected[1], abs_tol=1e-6)
        assert got != w["geometry"]["coordinates"]
        back = geo.gcj02_to_wgs84(*got)
        assert abs(back[0] - w["geometry"]["coordinates"][0]) < 1e-5
        assert abs(back[1] - w["geometry"]["coordinates"][1]) < 1e-5

    # limit and truncated
    r = (await get_map(client, world, limit=2)).json()
    assert len(r["features"]) == 2 and r["truncated"] is True
    r = (await get_map(client, world, limit=3)).json()
    assert len(r["features"]) == 3 and r["truncated"] is False
    r = (await get_map(client, world, limit=1, coords="gcj02", bbox="116,33,118,34")).json()
    assert len(r["features"]) == 1 and r["truncated"] is True


BAD_QUERIES = [
    ("bbox=1,2,3", "validation_error"),
    ("bbox=117,33,116,34", "validation_error"),
    ("bbox=0,0,200,10", "validation_error"),
    ("bbox=x,0,1,1", "validation_error"),
    ("coords=bd09", "validation_error"),
    ("limit=0", "validation_error"),
    ("limit=5001", "validation_error"),
    ("risk_color=purple", "validation_error"),
    ("colour=red", "unknown_parameter"),
    ("coords=wgs84&coords=gcj02", "repeated_parameter"),
]


async def test_map_bad_queries_are_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for query, code in BAD_QUERIES:
        r = await client.get(f"/api/v1/maps/enterprises?{query}", headers=world.h("county_officer"))
        assert r.status_code == 422, (query, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == code, query
    r = await client.get("/api/v1/maps/enterprises?bbox=1,2,3", headers=world.h("admin"))
    assert r.json()["errors"][0]["field"] == "bbox"


async def test_map_needs_a_caller(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/maps/enterprises")
    assert r.status_code == 401


def test_openapi_declares_geojson(app) -> None:  # type: ignore[no-untyped-def]
    op = app.openapi()["paths"]["/api/v1/maps/enterprises"]["get"]
    content = op["responses"]["200"]["content"]
    assert list(content) == ["application/geo+json"]
    assert content["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/EnterpriseMap"
    }


async def test_a_location_given_in_gcj02_is_served_in_either_system(client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Stored as given (高德 picks give GCJ-02) and converted to the system asked for."""
    gcj = geo.wgs84_to_gcj02(116.978, 33.641)
    r = await client.patch(
        f"/api/v1/enterprises/{world['ent_a1']}",
        json={"location": {"lng": gcj[0], "lat": gcj[1], "coordinate_system": "gcj02"}},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["location"]["coordinate_system"] == "gcj02"
    for coords, expected in (("wgs84", (116.978, 33.641)), ("gcj02", gcj)):
        body = (
            await client.get(f"/api/v1/maps/enterprises?coords={coords}", headers=world.h("admin"))
        ).json()
        (feature,) = [f for f in body["features"] if f["id"] == world["ent_a1"]]
        lng, lat = feature["geometry"]["coordinates"]
        assert abs(lng - expected[0]) < 1e-5 and abs(lat - expected[1]) < 1e-5, coords
        assert body["coordinate_system"] == coords
