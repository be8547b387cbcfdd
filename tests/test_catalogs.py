"""GET /api/v1/catalogs: every enumeration with its labels, so frontends hard-code none."""

from __future__ import annotations

import re

import pytest

CATALOGS = "/api/v1/catalogs"
ENUMERATIONS = (
    "sectors",
    "roles",
    "permissions",
    "org_unit_kinds",
    "enterprise_scales",
    "risk_colors",
    "standardization_grades",
    "enterprise_statuses",
    "job_kinds",
    "job_statuses",
)
# The sectors the county's action plans name (DOMAIN.md and the foundation issue).
NAMED_SECTORS = (
    "危险化学品",
    "非煤矿山",
    "烟花爆竹",
    "金属冶炼",
    "工贸",
    "建筑施工",
    "城镇燃气",
    "道路运输",
    "消防重点单位",
    "人员密集场所",
    "特种设备",
    "经营性自建房",
    "校园",
    "医疗",
    "文化旅游",
)
# 高危行业 in the work-safety law's sense: mines, hazardous chemicals, fireworks, metal smelting.
HIGH_RISK = ("危险化学品", "非煤矿山", "烟花爆竹", "金属冶炼")


@pytest.fixture
async def catalogs(client, world):  # type: ignore[no-untyped-def]
    r = await client.get(CATALOGS, headers=world.h("county_viewer"))
    assert r.status_code == 200
    return r.json()


async def test_every_enumeration_has_codes_and_both_labels(catalogs) -> None:  # type: ignore[no-untyped-def]
    for name in ENUMERATIONS:
        entries = catalogs[name]
        assert entries, name
        codes = [e["code"] for e in entries]
        assert len(codes) == len(set(codes)), name
        for e in entries:
            assert re.fullmatch(r"[a-z0-9_:]+", e["code"]), (name, e["code"])
            assert e["name_zh"].strip() and e["name_en"].strip(), (name, e)


async def test_sectors_cover_the_named_sectors_and_flag_high_risk(catalogs) -> None:  # type: ignore[no-untyped-def]
    sectors = catalogs["sectors"]
    labels = " ".join(s["name_zh"] for s in sectors)
    for name in NAMED_SECTORS:
        assert name in labels, name
    for s in sectors:
        assert isinstance(s["high_risk"], bool)
        if s["name_zh"] in HIGH_RISK:
            assert s["high_risk"], s
    assert not all(s["high_risk"] for s in sectors)


async def test_enumerations_hold_the_documented_codes(catalogs) -> None:  # type: ignore[no-untyped-def]
    codes = {name: {e["code"] for e in catalogs[name]} for name in ENUMERATIONS}
    assert codes["risk_colors"] == {"red", "orange", "yellow", "blue"}
    assert codes["enterprise_statuses"] == {"operating", "suspended", "closed"}
    assert codes["org_unit_kinds"] == {"county", "town", "bureau"}
    assert codes["roles"] == {
        "admin",
        "manager",
        "officer",
        "inspector",
        "viewer",
        "enterprise_manager",
        "enterprise_staff",
        "expert",
    }
    assert {"enterprises:read", "users:write", "clients:manage"} <= codes["permissions"]


async def test_towns_carry_their_region_codes(catalogs, world) -> None:  # type: ignore[no-untyped-def]
    towns = {t["id"]: t for t in catalogs["towns"]}
    assert set(towns) == {world["town_a"], world["town_b"]}
    a = towns[world["town_a"]]
    assert a["region_code"] == a["code"] == "341302001"
    assert a["name_zh"] == "埇桥街道"


async def test_catalogs_carry_both_languages_whatever_the_caller_prefers(client, world) -> None:  # type: ignore[no-untyped-def]
    zh = await client.get(CATALOGS, headers=world.h("ent_a1_staff"))
    en = await client.get(CATALOGS, headers=world.h("ent_a1_staff", **{"Accept-Language": "en"}))
    assert zh.json() == en.json()


# ---- every catalog code is accepted where the API takes that enumeration --------------------


async def test_every_sector_code_is_a_valid_enterprise_filter(client, world, catalogs) -> None:  # type: ignore[no-untyped-def]
    for s in catalogs["sectors"]:
        r = await client.get(
            "/api/v1/enterprises", params={"sector": s["code"]}, headers=world.h("admin")
        )
        assert r.status_code == 200, s["code"]


@pytest.mark.parametrize(
    ("catalog", "field"),
    [
        ("enterprise_scales", "scale"),
        ("risk_colors", "risk_color"),
        ("standardization_grades", "standardization_grade"),
        ("enterprise_statuses", "status"),
        ("sectors", "sector"),
    ],
)
async def test_every_catalog_code_is_writable_on_an_enterprise(  # type: ignore[no-untyped-def]
    client, world, catalogs, catalog, field
) -> None:
    url = f"/api/v1/enterprises/{world['ent_a1']}"
    for entry in catalogs[catalog]:
        r = await client.patch(url, json={field: entry["code"]}, headers=world.h("admin"))
        assert r.status_code == 200, (field, entry["code"], r.text)
        assert r.json()[field] == entry["code"]


async def test_every_role_code_is_a_valid_user_filter(client, world, catalogs) -> None:  # type: ignore[no-untyped-def]
    for role in catalogs["roles"]:
        r = await client.get(
            "/api/v1/users", params={"role": role["code"]}, headers=world.h("admin")
        )
        assert r.status_code == 200, role["code"]


async def test_every_org_unit_kind_is_a_valid_filter(client, world, catalogs) -> None:  # type: ignore[no-untyped-def]
    for kind in catalogs["org_unit_kinds"]:
        r = await client.get(
            "/api/v1/org-units", params={"kind": kind["code"]}, headers=world.h("admin")
        )
        assert r.status_code == 200 and r.json()["items"], kind["code"]


async def test_permissions_in_me_are_catalogued(client, world, catalogs) -> None:  # type: ignore[no-untyped-def]
    catalogued = {p["code"] for p in catalogs["permissions"]}
    me = (await client.get("/api/v1/me", headers=world.h("admin"))).json()
    assert set(me["permissions"]) <= catalogued


async def test_job_kinds_and_statuses_are_those_of_the_queue(catalogs) -> None:  # type: ignore[no-untyped-def]
    from app.schemas.jobs import JobKind, JobStatus
    from app.services.job_queue import REGISTRY

    kinds = {e["code"] for e in catalogs["job_kinds"]}
    assert kinds == set(JobKind.__args__)  # type: ignore[attr-defined]
    assert kinds <= set(REGISTRY)  # every catalogued kind has its handler (tests add their own)
    assert {e["code"] for e in catalogs["job_statuses"]} == set(JobStatus.__args__)  # type: ignore[attr-defined]
