"""Catalogues of the risk register: hazard factors, accident types and the small enumerations.

* ``HAZARD_FACTORS``: 危险和有害因素 after GB/T 13861-2022 生产过程危险和有害因素分类与代码
  (replaces GB/T 13861-2009): the four top categories (1 digit), their second level
  (2 digits) and the third level (4 digits) of 物理性 (21) and 化学性 (22). The standard's
  code is the catalogue code; ``HAZARD_FACTOR_PARENT`` gives each code's parent (the code
  without its last level). Third levels of the other categories are not listed yet.
* ``ACCIDENT_TYPES``: the 20 accident types of GB 6441-1986 企业职工伤亡事故分类 (§ 5, 附录 A),
  in the standard's order, with stable snake_case codes.
* ``RISK_LEVELS``, ``CONTROL_LEVELS``, ``MEASURE_KINDS``, ``RISK_POINT_KINDS``,
  ``COORDINATE_SYSTEMS``.
"""

from __future__ import annotations

from app.services.catalog_data import Entry
from app.services.risks.assessment import BLUE, LEVEL_LABELS, ORANGE, RED, YELLOW

HAZARD_FACTORS: tuple[Entry, ...] = (
    Entry("1", "人的因素", "Human factors"),
    Entry("11", "心理、生理性危险和有害因素", "Psychological and physiological factors"),
    Entry("12", "行为性危险和有害因素", "Behavioural factors"),
    Entry("2", "物的因素", "Material factors"),
    Entry("21", "物理性危险和有害因素", "Physical factors"),
    Entry(
        "2101", "设备、设施、工具、附件缺陷", "Defects of equipment, facilities, tools, fittings"
    ),
    Entry("2102", "防护缺陷", "Defective protection"),
    Entry("2103", "电危害", "Electrical hazards"),
    Entry("2104", "噪声", "Noise"),
    Entry("2105", "振动危害", "Vibration"),
    Entry("2106", "电离辐射", "Ionising radiation"),
    Entry("2107", "非电离辐射", "Non-ionising radiation"),
    Entry("2108", "运动物危害", "Moving objects"),
    Entry("2109", "明火", "Open flame"),
    Entry("2110", "高温物质", "Hot substances"),
    Entry("2111", "低温物质", "Cold substances"),
    Entry("2112", "信号缺陷", "Defective signals"),
    Entry("2113", "标志标识缺陷", "Defective signs and markings"),
    Entry("2114", "有害光照", "Harmful lighting"),
    Entry("2115", "信息系统缺陷", "Information system defects"),
    Entry("2199", "其他物理性危险和有害因素", "Other physical factors"),
    Entry("22", "化学性危险和有害因素", "Chemical factors"),
    Entry("2201", "理化危险", "Physical and chemical hazards"),
    Entry("2202", "健康危险", "Health hazards"),
    Entry("23", "生物性危险和有害因素", "Biological factors"),
    Entry("3", "环境因素", "Environmental factors"),
    Entry("31", "室内作业场所环境不良", "Poor indoor workplace environment"),
    Entry("32", "室外作业场地环境不良", "Poor outdoor work site environment"),
    Entry("33", "地下（含水下）作业环境不良", "Poor underground (incl. underwater) environment"),
    Entry("39", "其他作业环境不良", "Other poor work environment"),
    Entry("4", "管理因素", "Management factors"),
    Entry(
        "41",
        "职业安全卫生管理机构设置和人员配备不健全",
        "Inadequate OSH organisation and staffing",
    ),
    Entry(
        "42", "职业安全卫生责任制不完善或未落实", "OSH responsibilities incomplete or not applied"
    ),
    Entry("43", "职业安全卫生管理制度不完善或未落实", "OSH rules incomplete or not applied"),
    Entry("44", "职业安全卫生投入不足", "Insufficient OSH investment"),
    Entry("45", "应急管理缺陷", "Emergency management defects"),
    Entry("49", "其他管理因素缺陷", "Other management defects"),
)
HAZARD_FACTOR_CODES = frozenset(e.code for e in HAZARD_FACTORS)


def hazard_factor_parent(code: str) -> str | None:
    """The parent code in GB/T 13861's 1/2/4-digit structure (None for a top category)."""
    if len(code) == 1:
        return None
    return code[:1] if len(code) == 2 else code[:2]


HAZARD_FACTOR_PARENT: dict[str, str | None] = {
    e.code: hazard_factor_parent(e.code) for e in HAZARD_FACTORS
}

ACCIDENT_TYPES: tuple[Entry, ...] = (
    Entry("object_strike", "物体打击", "Struck by object"),
    Entry("vehicle_injury", "车辆伤害", "Vehicle injury"),
    Entry("machinery_injury", "机械伤害", "Machinery injury"),
    Entry("lifting_injury", "起重伤害", "Lifting injury"),
    Entry("electric_shock", "触电", "Electric shock"),
    Entry("drowning", "淹溺", "Drowning"),
    Entry("burn_scald", "灼烫", "Burn or scald"),
    Entry("fire", "火灾", "Fire"),
    Entry("fall_from_height", "高处坠落", "Fall from height"),
    Entry("collapse", "坍塌", "Collapse"),
    Entry("roof_fall", "冒顶片帮", "Roof fall and rib spalling"),
    Entry("water_inrush", "透水", "Water inrush"),
    Entry("blasting", "放炮", "Blasting injury"),
    Entry("explosive_explosion", "火药爆炸", "Explosive explosion"),
    Entry("gas_explosion", "瓦斯爆炸", "Firedamp (gas) explosion"),
    Entry("boiler_explosion", "锅炉爆炸", "Boiler explosion"),
    Entry("vessel_explosion", "容器爆炸", "Pressure vessel explosion"),
    Entry("other_explosion", "其他爆炸", "Other explosion"),
    Entry("poisoning_asphyxiation", "中毒和窒息", "Poisoning and asphyxiation"),
    Entry("other_injury", "其他伤害", "Other injury"),
)
ACCIDENT_TYPE_CODES = frozenset(e.code for e in ACCIDENT_TYPES)

CONTROL_LEVELS: tuple[Entry, ...] = (
    Entry("company", "公司级", "Company"),
    Entry("workshop", "车间级", "Workshop"),
    Entry("team", "班组级", "Team"),
    Entry("post", "岗位级", "Post"),
)
CONTROL_LEVEL_CODES = frozenset(e.code for e in CONTROL_LEVELS)

MEASURE_KINDS: tuple[Entry, ...] = (
    Entry("engineering", "工程技术", "Engineering"),
    Entry("management", "管理", "Management"),
    Entry("training", "培训教育", "Training and education"),
    Entry("ppe", "个体防护", "Personal protective equipment"),
    Entry("emergency", "应急处置", "Emergency response"),
)
MEASURE_KIND_CODES = frozenset(e.code for e in MEASURE_KINDS)

RISK_POINT_KINDS: tuple[Entry, ...] = (
    Entry("place", "场所/区域", "Place or area"),
    Entry("equipment", "设备设施", "Equipment or facility"),
    Entry("operation", "作业活动", "Operation"),
)
RISK_POINT_KIND_CODES = frozenset(e.code for e in RISK_POINT_KINDS)

COORDINATE_SYSTEMS: tuple[Entry, ...] = (
    Entry("wgs84", "WGS-84（GPS）", "WGS-84 (GPS, RFC 7946)"),
    Entry("gcj02", "GCJ-02（国测局坐标，国内网络地图）", "GCJ-02 (Chinese web maps)"),
)
COORDINATE_SYSTEM_CODES = frozenset(e.code for e in COORDINATE_SYSTEMS)

# The four levels of 安全风险分级管控, highest first (the colour is the code).
RISK_LEVELS: tuple[Entry, ...] = tuple(
    Entry(level, *LEVEL_LABELS[level]) for level in (RED, ORANGE, YELLOW, BLUE)
)
RISK_LEVEL_CODES = frozenset(e.code for e in RISK_LEVELS)
