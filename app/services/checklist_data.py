"""The starter checklists (检查表) every county gets (``county_code`` null, read-only), inserted by
migration 0017 and kept as data here.

Items are short paraphrases in our own words, not the standards' wording; each cites the
clause it comes from (``basis``). An item whose failure is a major hazard (``major_if_failed``)
names the judgment standard and clause code of ``app/services/judgment_standards.py`` (a test
checks each against that catalogue), so a finding of it proposes ``level=major`` with that
judgment. Other items cite the regulation they apply without a clause number where we did not
verify one: read the regulation itself before a decision.

- 工贸 (粉尘防爆, 有限空间): 工贸企业重大事故隐患判定标准（应急管理部令第10号，2023）第十一条、
  第十三条、第十四条; 工贸企业粉尘防爆安全规定（应急管理部令第6号）; 工贸企业有限空间作业安全规定
  （应急管理部令第13号）.
- 城镇燃气 (餐饮场所): 城镇燃气经营安全重大隐患判定标准（建城规〔2023〕4号）, cited by the
  catalogue's clause codes (7.x, its user-side items: the catalogue's numbering wants a check
  against the published text, docs/decisions.md); 城镇燃气管理条例第二十八条 (what users must
  not do).
- 经营性自建房 / 人员密集场所 (消防): 重大火灾隐患判定规则（GB 35181-2017）; 消防法第十六条（单位
  职责）、第二十八条（不得占用、堵塞、封闭疏散通道、安全出口）.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from app.core.ids import new_id

IT_ORDER = "工贸企业重大事故隐患判定标准（应急管理部令第10号）"
DUST_RULES = "工贸企业粉尘防爆安全规定（应急管理部令第6号）"
CONFINED_RULES = "工贸企业有限空间作业安全规定（应急管理部令第13号）"
GAS_STANDARD = "城镇燃气经营安全重大隐患判定标准（建城规〔2023〕4号）"
GAS_REGULATION = "城镇燃气管理条例"
FIRE_RULES = "重大火灾隐患判定规则（GB 35181-2017）"
FIRE_LAW = "中华人民共和国消防法"


def _major(
    code: str, text: str, basis: str, sector: str, standard: str, clause: str
) -> dict[str, Any]:
    return {
        "code": code,
        "text": text,
        "basis": basis,
        "sector": sector,
        "major_if_failed": True,
        "judgment_standard": standard,
        "judgment_clause": clause,
    }


def _general(code: str, text: str, basis: str, sector: str) -> dict[str, Any]:
    return {
        "code": code,
        "text": text,
        "basis": basis,
        "sector": sector,
        "major_if_failed": False,
        "judgment_standard": None,
        "judgment_clause": None,
    }


_IT = "industry_trade"
_GAS = "urban_gas"
_HOUSE = "self_built_housing"
_CROWD = "fire_key_units"

# fmt: off
DUST_EXPLOSION = [
    _major("D01", "粉尘爆炸危险场所不在非框架结构多层建筑内，场所内及其上方无休息室、会议室等人员聚集场所", f"{IT_ORDER} 第十一条第（一）项", _IT, "industry_trade", "11.1"),
    _major("D02", "不同类别的可燃性粉尘、不同防火分区的除尘系统各自独立，不互联互通", f"{IT_ORDER} 第十一条第（二）项", _IT, "industry_trade", "11.2"),
    _major("D03", "干式除尘系统采取了泄爆、隔爆、惰化、抑爆等至少一种控爆措施", f"{IT_ORDER} 第十一条第（三）项", _IT, "industry_trade", "11.3"),
    _major("D04", "铝镁等金属粉尘不采用正压吹送，或已设火花探测消除等防范点燃源措施", f"{IT_ORDER} 第十一条第（四）项", _IT, "industry_trade", "11.4"),
    _major("D05", "未采用重力沉降室或干式巷道式构筑物作为除尘风道", f"{IT_ORDER} 第十一条第（五）项", _IT, "industry_trade", "11.5"),
    _major("D06", "铝镁等金属粉尘、木质粉尘的干式除尘系统设有锁气卸灰装置", f"{IT_ORDER} 第十一条第（六）项", _IT, "industry_trade", "11.6"),
    _major("D07", "粉尘爆炸危险场所 20 区内电气设备均为防爆型", f"{IT_ORDER} 第十一条第（七）项", _IT, "industry_trade", "11.7"),
    _major("D08", "粉碎、研磨、造粒前设除杂（除铁、除石）装置；木制品砂光风管设火花探测消除", f"{IT_ORDER} 第十一条第（八）项", _IT, "industry_trade", "11.8"),
    _major("D09", "遇湿自燃金属粉尘场所有防止氢气积聚措施，收集、堆放、储存时防水防潮", f"{IT_ORDER} 第十一条第（九）项", _IT, "industry_trade", "11.9"),
    _major("D10", "落实粉尘清理制度，作业现场无积尘", f"{IT_ORDER} 第十一条第（十）项", _IT, "industry_trade", "11.10"),
    _major("D11", "除尘系统的温度、压差等监测报警及联锁装置完好有效", f"{IT_ORDER} 第十四条", _IT, "industry_trade", "14"),
    _general("D12", "建立粉尘爆炸危险场所清单，设置安全警示标志", DUST_RULES, _IT),
    _general("D13", "制定粉尘清扫制度并留有清扫记录，明确清扫周期和责任人", DUST_RULES, _IT),
    _general("D14", "除尘系统定期检修维护并有记录，停机时先停主机后停除尘", DUST_RULES, _IT),
    _general("D15", "从事粉尘爆炸危险作业的人员经专项安全培训", DUST_RULES, _IT),
]

CONFINED_SPACE = [
    _major("C01", "辨识有限空间并建立管理台账，在入口设置明显的安全警示标志", f"{IT_ORDER} 第十三条第（一）项", _IT, "industry_trade", "13.1"),
    _major("C02", "有限空间作业经审批，先通风、再检测、后作业，并安排专人监护", f"{IT_ORDER} 第十三条第（二）项", _IT, "industry_trade", "13.2"),
    _major("C03", "气体检测报警仪、通风设备等防护设施完好有效", f"{IT_ORDER} 第十四条", _IT, "industry_trade", "14"),
    _general("C04", "作业前对作业人员、监护人员进行安全交底", CONFINED_RULES, _IT),
    _general("C05", "作业现场配备呼吸防护用品、安全带、救援三脚架等应急装备", CONFINED_RULES, _IT),
    _general("C06", "有限空间作业现场处置方案每年至少演练一次", CONFINED_RULES, _IT),
    _general("C07", "发包有限空间作业的，与承包单位签订安全管理协议并检查其作业", CONFINED_RULES, _IT),
    _general("C08", "作业中持续或定时检测氧气和有毒有害气体浓度并记录", CONFINED_RULES, _IT),
]

RESTAURANT_GAS = [
    _major("G01", "使用燃气的餐饮场所安装可燃气体泄漏报警装置且工作正常", f"{GAS_STANDARD} 7.2（商业用户报警和切断装置）", _GAS, "gas", "7.2"),
    _major("G02", "报警装置与紧急切断阀联动，切断阀完好，能及时切断气源", f"{GAS_STANDARD} 7.2（商业用户报警和切断装置）", _GAS, "gas", "7.2"),
    _major("G03", "燃气具有熄火保护，未使用国家明令淘汰或不合格的燃气具", f"{GAS_STANDARD} 7.3（淘汰、不合格燃气具和连接管）", _GAS, "gas", "7.3"),
    _major("G04", "连接软管为合格产品，未老化、龟裂，长度不超过 2 米，未穿墙、穿门窗", f"{GAS_STANDARD} 7.3（淘汰、不合格燃气具和连接管）", _GAS, "gas", "7.3"),
    _general("G05", "瓶装液化石油气来自有经营许可的供应站，气瓶未超期、未报废（供应方的重大隐患见判定标准 6.1、6.2）", GAS_REGULATION, _GAS),
    _general("G06", "燃气使用场所通风良好，不在地下室、半地下室或密闭房间使用瓶装液化石油气", f"{GAS_REGULATION} 第二十八条", _GAS),
    _general("G07", "未擅自安装、改装、拆除户内燃气设施，未将燃气管道作为负重支架或接地线", f"{GAS_REGULATION} 第二十八条", _GAS),
    _general("G08", "气瓶直立存放、远离热源，用气场所不存放备用满瓶，不倒灌、不加热气瓶", f"{GAS_REGULATION} 第二十八条", _GAS),
    _general("G09", "接受燃气企业入户安全检查，发现的问题已整改", f"{GAS_STANDARD} 7.1（用户安全检查）", _GAS),
    _general("G10", "后厨人员会关阀、会报警、会使用灭火器和灭火毯", f"{FIRE_LAW} 第十六条", _GAS),
]


def _fire(sector: str) -> list[dict[str, Any]]:
    return [
        _major("F01", "安全出口数量和宽度满足要求，未被锁闭、封堵", f"{FIRE_RULES} 第6.3.3条", sector, "fire", "6.3.3"),
        _major("F02", "人员密集场所安全出口数量不少于规定、宽度不低于规定的 80%", f"{FIRE_RULES} 第5.5条", sector, "fire", "5.5"),
        _major("F03", "疏散走道、楼梯间、安全出口未设置栅栏、卷帘门等影响疏散的障碍", f"{FIRE_RULES} 第6.3.9条", sector, "fire", "6.3.9"),
        _major("F04", "外窗未被防盗网、广告牌等封堵遮挡，能用于逃生和灭火救援", f"{FIRE_RULES} 第6.3.10条", sector, "fire", "6.3.10"),
        _major("F05", "疏散指示标志、应急照明设置齐全且完好", f"{FIRE_RULES} 第6.3.6条", sector, "fire", "6.3.6"),
        _major("F06", "生产、储存、经营场所与居住场所未违规设置在同一建筑内（“三合一”）", f"{FIRE_RULES} 第6.1.3条", sector, "fire", "6.1.3"),
        _major("F07", "住人房间未采用燃烧性能低于 A 级的彩钢夹芯板搭建", f"{FIRE_RULES} 第5.10条", sector, "fire", "5.10"),
        _major("F08", "未违规使用、储存、销售易燃易爆危险品", f"{FIRE_RULES} 第5.8条", sector, "fire", "5.8"),
        _major("F09", "室内装修未违规采用易燃、可燃材料", f"{FIRE_RULES} 第6.9.4条", sector, "fire", "6.9.4"),
        _major("F10", "电气线路未敷设在可燃构件上，未使用不合格电气产品", f"{FIRE_RULES} 第6.9.3条", sector, "fire", "6.9.3"),
        _major("F11", "按规定设置的火灾自动报警系统能正常运行", f"{FIRE_RULES} 第6.7.2条", sector, "fire", "6.7.2"),
        _major("F12", "消防车通道畅通，未被占用、堵塞", f"{FIRE_RULES} 第6.1.1条", sector, "fire", "6.1.1"),
        _general("F13", "按规定配置灭火器并定期检查，消火栓未被埋压、圈占、遮挡", f"{FIRE_LAW} 第二十八条", sector),
        _general("F14", "电动自行车不在楼道、疏散通道、安全出口停放或充电", f"{FIRE_LAW} 第二十八条", sector),
        _general("F15", "落实防火巡查检查，员工会报警、会扑救初起火灾、会组织疏散", f"{FIRE_LAW} 第十六条", sector),
    ]


STARTER_CHECKLISTS: list[dict[str, Any]] = [
    {
        "code": "starter-it-dust-explosion",
        "name": "工贸企业粉尘防爆安全检查表",
        "name_en": "Industry and trade: dust explosion prevention",
        "sector": _IT,
        "items": DUST_EXPLOSION,
    },
    {
        "code": "starter-it-confined-space",
        "name": "工贸企业有限空间作业安全检查表",
        "name_en": "Industry and trade: confined-space work",
        "sector": _IT,
        "items": CONFINED_SPACE,
    },
    {
        "code": "starter-gas-restaurant",
        "name": "餐饮场所燃气安全检查表",
        "name_en": "Urban gas: restaurants and canteens",
        "sector": _GAS,
        "items": RESTAURANT_GAS,
    },
    {
        "code": "starter-fire-self-built-housing",
        "name": "经营性自建房消防安全检查表",
        "name_en": "Self-built housing used for business: fire safety",
        "sector": _HOUSE,
        "items": _fire(_HOUSE),
    },
    {
        "code": "starter-fire-crowded-places",
        "name": "人员密集场所消防安全检查表",
        "name_en": "Crowded places: fire safety",
        "sector": _CROWD,
        "items": _fire(_CROWD),
    },
]
# fmt: on

STARTER_CODES = frozenset(c["code"] for c in STARTER_CHECKLISTS)


def starter_rows(now: datetime, skip: Collection[str] = ()) -> list[dict[str, Any]]:
    """The starter checklists as rows of ``checklists`` (version 1, unlocked, current), those
    whose code is in ``skip`` (already there) left out: migration 0017 and the tests insert
    them with this, so inserting twice adds nothing."""
    return [
        {
            "id": new_id(),
            "code": c["code"],
            "version_no": 1,
            "name": c["name"],
            "name_en": c["name_en"],
            "sector": c["sector"],
            "county_code": None,
            "items": c["items"],
            "locked": False,
            "is_current": True,
            "created_by": None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for c in STARTER_CHECKLISTS
        if c["code"] not in skip
    ]
