"""The enumerations of the platform with their Chinese and English labels.

Codes are stable lower-case English; frontends take labels from ``GET /api/v1/catalogs``.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    code: str
    name_zh: str
    name_en: str


class Sector(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    high_risk: bool


SECTORS: tuple[Sector, ...] = (
    Sector("hazardous_chemicals", "危险化学品", "Hazardous chemicals", True),
    Sector("non_coal_mining", "非煤矿山", "Non-coal mining", True),
    Sector("fireworks", "烟花爆竹", "Fireworks and firecrackers", True),
    Sector("metallurgy", "金属冶炼", "Metal smelting", True),
    Sector("industry_trade", "工贸", "Industry and trade", False),
    Sector("construction", "建筑施工", "Construction", True),
    Sector("urban_gas", "城镇燃气", "Urban gas", True),
    Sector("road_transport", "道路运输", "Road transport", True),
    Sector(
        "fire_key_units",
        "消防重点单位/人员密集场所",
        "Fire-safety key units and crowded places",
        False,
    ),
    Sector("special_equipment", "特种设备", "Special equipment", False),
    Sector("self_built_housing", "经营性自建房", "Self-built housing used for business", False),
    Sector("campus", "校园", "Schools and campuses", False),
    Sector("medical", "医疗", "Medical institutions", False),
    Sector("culture_tourism", "文化旅游", "Culture and tourism", False),
    Sector("water_transport", "水上交通", "Waterway transport", False),
    Sector("agriculture", "农业机械", "Agricultural machinery", False),
    Sector("water_conservancy", "水利", "Water conservancy", False),
    Sector("commerce", "商贸", "Commerce and retail", False),
)
SECTOR_CODES = frozenset(s.code for s in SECTORS)

ORG_UNIT_KINDS = (
    Entry("county", "县级（安委办）", "County"),
    Entry("town", "乡镇/街道", "Town or street"),
    Entry("bureau", "行业主管部门", "Sectoral bureau"),
)
ENTERPRISE_SCALES = (
    Entry("large", "大型", "Large"),
    Entry("medium", "中型", "Medium"),
    Entry("small", "小型", "Small"),
    Entry("micro", "微型", "Micro"),
)
RISK_COLORS = (
    Entry("red", "红色（重大风险）", "Red (major risk)"),
    Entry("orange", "橙色（较大风险）", "Orange (high risk)"),
    Entry("yellow", "黄色（一般风险）", "Yellow (moderate risk)"),
    Entry("blue", "蓝色（低风险）", "Blue (low risk)"),
)
STANDARDIZATION_GRADES = (
    Entry("level_1", "安全生产标准化一级", "Standardisation grade 1"),
    Entry("level_2", "安全生产标准化二级", "Standardisation grade 2"),
    Entry("level_3", "安全生产标准化三级", "Standardisation grade 3"),
    Entry("none", "未达标", "Not graded"),
)
ENTERPRISE_STATUSES = (
    Entry("operating", "正常生产经营", "Operating"),
    Entry("suspended", "停产停业", "Suspended"),
    Entry("closed", "关闭", "Closed"),
)
CATALOGS: dict[str, tuple[Entry, ...]] = {
    "org_unit_kinds": ORG_UNIT_KINDS,
    "enterprise_scales": ENTERPRISE_SCALES,
    "risk_colors": RISK_COLORS,
    "standardization_grades": STANDARDIZATION_GRADES,
    "enterprise_statuses": ENTERPRISE_STATUSES,
}


def codes(name: str) -> frozenset[str]:
    return frozenset(e.code for e in CATALOGS[name])
