"""The 重大事故隐患判定标准 as data: each standard with its clauses, so a major hazard cites a real
clause (``judgment.clause`` is one of its standard's codes) and the statistics can say which
clauses recur.

Clause codes are ASCII, from the standard's own numbering:

- a 部令 or 标准 written in articles and items: ``第四条第（三）项`` is ``4.3``; an article
  without items is its number (``第十四条`` is ``14``);
- a list of numbered items (安监总管三〔2017〕121号, items 一 … 二十): the item's number
  (``四`` is ``4``);
- a national standard numbered by clauses (GB 35181): the clause number as printed (``5.5``,
  ``6.3.3``).

The Chinese citation forms (``第四条第（三）项``, ``第5.5条``, ``二十``) are accepted on input and
stored as the code (``normalise_clause``). Texts are short paraphrases in our own words, in
Chinese and English, not the wording of the standard: read the standard itself before a
decision. The lists hold the main clauses of each standard, not every one (docs/decisions.md,
"Issue 11"). ``sectors`` are the platform's sector codes (``app/services/catalog_data.py``) a
clause is written for; a clause may still be cited for an enterprise of another sector (a
chemicals store inside a 工贸 plant), which the registration's event records.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from app.services.catalog_data import JUDGMENT_STANDARDS, SECTORS


class Clause(NamedTuple):
    code: str
    text_zh: str
    text_en: str
    sectors: tuple[str, ...]


class Standard(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    document: str
    sectors: tuple[str, ...]
    clauses: tuple[Clause, ...]


_IT = ("industry_trade", "metallurgy", "commerce")  # 工贸: 冶金 … 商贸 (10号令 第二条)
_METAL = ("metallurgy", "industry_trade")
_TRADE = ("industry_trade",)
_CHEM = ("hazardous_chemicals",)
_MINE = ("non_coal_mining",)
_BUILD = ("construction",)
_FIRE = tuple(s.code for s in SECTORS)  # 重大火灾隐患: any unit
_FW = ("fireworks",)
_GAS = ("urban_gas",)
_ROAD = ("road_transport",)


def _c(code: str, zh: str, en: str, sectors: tuple[str, ...]) -> Clause:
    return Clause(code, zh, en, sectors)


# One clause a line: code, Chinese, English, sectors.
# fmt: off
INDUSTRY_TRADE = (
    # 第三条 管理类（所有工贸企业）
    _c("3.1", "未统一协调管理承包、承租单位安全生产或未定期检查", "Contractors and tenants not coordinated, managed or inspected", _IT),
    _c("3.2", "特种作业人员未经培训取得资格即上岗", "Special-operation workers without the required qualification", _IT),
    _c("3.3", "金属冶炼企业主要负责人、安全管理人员未经考核合格", "Metal-smelting managers not certified", _METAL),
    # 第四条 冶金
    _c("4.1", "人员聚集场所或钢铁水罐修理工位设在熔融金属吊运跨地坪区域", "Occupied rooms or ladle repair bays under molten-metal crane bays", _METAL),
    _c("4.2", "冶炼、铸造区域事故坑、渣坑及熔融金属影响区域有积水", "Standing water in pits or areas reached by molten metal", _METAL),
    _c("4.3", "未设置事故钢水罐、漏钢坑、溢流槽等应急设施", "No emergency ladle, breakout pit or overflow trough", _METAL),
    _c("4.4", "炼钢炉水冷元件无出水温度、流量差监测报警或未联锁", "Steelmaking furnace water-cooled parts without monitoring or interlocks", _METAL),
    _c("4.5", "高炉炉顶压力超设计或未与放散阀联锁", "Blast-furnace top pressure above design or not interlocked with bleeders", _METAL),
    _c("4.6", "煤气区域人员聚集场所及泄漏部位未设一氧化碳监测报警", "No fixed CO detection in gas areas and their occupied rooms", _METAL),
    _c("4.7", "煤气设施及进车间煤气管道未设隔断装置", "Gas installations and plant gas mains without isolation devices", _METAL),
    _c("4.8", "正压煤气管线水封式排水器有效水封高度不足", "Water seals of positive-pressure gas lines too shallow", _METAL),
    _c("4.9", "煤气柜选址、防爆设备或防雷设施不符合要求", "Gas holder badly sited or without explosion-proof and lightning protection", _METAL),
    # 第五条 有色
    _c("5.1", "人员聚集场所设在熔融有色金属吊运影响范围内", "Occupied rooms within reach of molten non-ferrous metal handling", _METAL),
    _c("5.2", "冶炼、铸造区域及熔体影响范围内存在积水", "Standing water where molten non-ferrous metal may spill", _METAL),
    _c("5.3", "熔融金属铸造流程未设紧急排放和应急储存设施", "Casting without emergency discharge and storage of molten metal", _METAL),
    _c("5.4", "水冷炉窑、铸造机等未设应急冷却水源", "Water-cooled furnaces and casters without emergency cooling water", _METAL),
    _c("5.5", "冶炼炉窑水冷元件未设温度、流量监测报警", "Furnace water-cooled parts without temperature and flow alarms", _METAL),
    _c("5.6", "铝深井铸造冷却水未设监测报警或未与切断装置联锁", "Aluminium deep-well casting cooling water not monitored or interlocked", _METAL),
    # 第六条 建材
    _c("6.1", "煤磨收尘器、煤粉仓无温度和一氧化碳监测或气体灭火装置", "Coal-mill dust collector or bin without temperature, CO and gas extinguishing", _TRADE),
    _c("6.2", "筒型储库人工清库未落实防坠落、防坍塌措施", "Manual silo clearing without fall and collapse precautions", _TRADE),
    _c("6.3", "电石渣原料储库无可燃气体监测或未与事故通风联锁", "Carbide-slag silo without gas detection interlocked with ventilation", _TRADE),
    _c("6.4", "进入储库、窑、磨机等前未隔离设备、物料和有害气体", "Entering silos, kilns or mills without isolating equipment and gases", _TRADE),
    _c("6.5", "预混燃烧燃气窑炉总管无压力监测或未与切断联锁", "Premix gas kiln main without pressure alarm interlocked with shut-off", _TRADE),
    _c("6.6", "制氢站、配气间等未设固定式可燃气体监测报警", "Hydrogen and gas-mixing rooms without fixed gas detection", _TRADE),
    _c("6.7", "电熔制品电炉水冷设备失效", "Cooling of electric-fusion furnaces out of order", _TRADE),
    _c("6.8", "玻璃窑炉、锡槽水冷风冷保护系统无监测报警", "Glass furnace or tin bath cooling protection without alarms", _TRADE),
    # 第七条 机械
    _c("7.1", "人员聚集场所设在熔融金属吊运跨地坪区域", "Occupied rooms under molten-metal crane bays", _TRADE),
    _c("7.2", "铸造熔炼炉、保温炉未设紧急排放和应急储存设施", "Foundry furnaces without emergency discharge and storage", _TRADE),
    _c("7.3", "熔炼炉炉坑、浇注坑等区域存在积水", "Standing water in foundry furnace and pouring pits", _TRADE),
    _c("7.4", "熔炼炉、压铸机冷却水无监测报警或未联锁", "Foundry furnace or die-casting cooling water without alarms or interlocks", _TRADE),
    _c("7.5", "燃气烧嘴未设熄火保护快速切断阀", "Gas burners without flame-failure shut-off valves", _TRADE),
    _c("7.6", "用可燃溶剂清洗时未防止可燃气体积聚", "Cleaning with flammable solvents without preventing vapour build-up", _TRADE),
    _c("7.7", "调漆间、喷漆室无可燃气体监测报警或通风", "Paint mixing or spray rooms without gas detection or ventilation", _TRADE),
    # 第八条 轻工
    _c("8.1", "食品烘制、油炸设备未设防过热自动切断", "Baking and frying equipment without overheat cut-off", _TRADE),
    _c("8.2", "白酒勾兑、灌装场所和酒库无乙醇浓度监测或未联锁通风", "Liquor blending, bottling or storage without ethanol detection and ventilation", _TRADE),
    _c("8.3", "造纸企业用蒸汽或明火直接加热液氯钢瓶", "Paper mills heating chlorine cylinders with steam or flame", _TRADE),
    _c("8.4", "日用玻璃、陶瓷燃气窑炉总管无压力监测或未联锁", "Glass or ceramics gas kiln main without pressure alarm interlock", _TRADE),
    _c("8.5", "日用玻璃窑炉冷却保护系统无监测报警", "Glass furnace cooling protection without alarms", _TRADE),
    _c("8.6", "调漆间、喷漆室无可燃气体监测报警或通风", "Paint mixing or spray rooms without gas detection or ventilation", _TRADE),
    _c("8.7", "锂离子电池仓库未隔离故障电池", "Faulty lithium-ion batteries not isolated in storage", _TRADE),
    # 第九条 纺织
    _c("9.1", "热定型工艺汽化室、燃气罐、热媒炉未与人员场所隔开", "Heat-setting vaporisers, gas tanks or heaters not separated from workrooms", _TRADE),
    _c("9.2", "保险粉等危险品与禁忌物混存或未防水防潮", "Sodium hydrosulfite and similar stored with incompatibles or damp", _TRADE),
    # 第十条 烟草
    _c("10.1", "熏蒸作业无磷化氢检测、防毒面具或未清场", "Fumigation without phosphine detection, masks or clearing the area", _TRADE),
    _c("10.2", "液态二氧化碳膨胀烟丝场所无浓度监测或未联锁通风", "CO2 tobacco expansion without detection interlocked with ventilation", _TRADE),
    # 第十一条 存在粉尘爆炸危险
    _c("11.1", "粉尘爆炸危险场所在非框架多层建筑内或内设人员聚集场所", "Dust-explosion area in a non-frame multi-storey building or with occupied rooms", _IT),
    _c("11.2", "不同类别粉尘或不同分区共用、互联除尘系统", "Different dusts or fire compartments sharing dust extraction", _IT),
    _c("11.3", "干式除尘系统无泄爆、惰化、抑爆等任何控爆措施", "Dry dust collection without venting, inerting or suppression", _IT),
    _c("11.4", "金属粉尘正压吹送且无火花探测消除等措施", "Metal dust blown under positive pressure without spark detection", _IT),
    _c("11.5", "采用重力沉降室或干式巷道式构筑物除尘", "Settling chambers or dry tunnel ducts used for dust collection", _IT),
    _c("11.6", "金属、木质粉尘干式除尘未设锁气卸灰装置", "Metal or wood dust collectors without airlock discharge", _IT),
    _c("11.7", "20区电气设备不防爆", "Non-explosion-proof electrical equipment in zone 20", _IT),
    _c("11.8", "粉碎研磨前无除杂装置或砂光风管无火花探测", "No tramp-metal removal before grinding, or sander ducts without spark detection", _IT),
    _c("11.9", "遇湿自燃金属粉尘场所未防氢气积聚或防水防潮", "Water-reactive metal dust without hydrogen venting or damp protection", _IT),
    _c("11.10", "未落实粉尘清理制度，积尘严重", "Dust cleaning not done; heavy dust deposits", _IT),
    # 第十二条 使用液氨制冷
    _c("12.1", "人员较多的加工场所空调采用氨直接蒸发制冷", "Direct ammonia evaporation cooling in crowded processing rooms", _IT),
    _c("12.2", "速冻装置未单独设间或间内超过9人", "Quick-freezers not in a separate room, or more than 9 workers in it", _IT),
    # 第十三条 有中毒风险的有限空间作业
    _c("13.1", "未辨识有限空间、建台账并设警示标志", "Confined spaces not identified, listed and signposted", _IT),
    _c("13.2", "有限空间作业未审批、未先通风再检测或无监护", "Confined-space entry without permit, ventilation and testing, or attendant", _IT),
    # 第十四条
    _c("14", "直接关系生产安全的监控、报警、防护设施失效", "Safety-critical monitoring, alarm or protection devices out of order", _IT),
)

CHEMICALS = (
    _c("1", "主要负责人、安全管理人员未经考核合格", "Managers and safety staff not certified", _CHEM),
    _c("2", "特种作业人员未持证上岗", "Special-operation workers without certificates", _CHEM),
    _c("3", "两重点一重大装置设施外部安全防护距离不足", "External safety distance of key installations insufficient", _CHEM),
    _c("4", "重点监管危险工艺未实现自动化控制或紧急停车", "Key hazardous processes without automatic control or emergency shutdown", _CHEM),
    _c("5", "一二级重大危险源罐区无紧急切断或安全仪表系统", "Tier 1-2 major hazard tank farms without emergency shut-off or SIS", _CHEM),
    _c("6", "全压力式液化烃储罐未设注水措施", "Pressurised LPG-type tanks without water injection", _CHEM),
    _c("7", "液化烃、液氨、液氯等充装未用万向管道充装系统", "Liquefied toxic or flammable gas loaded without articulated loading arms", _CHEM),
    _c("8", "剧毒气体及硫化氢管道穿越厂外公共区域", "Highly toxic gas or H2S pipelines crossing public areas", _CHEM),
    _c("9", "架空电力线路穿越生产区不符合标准", "Overhead power lines crossing the production area against the standard", _CHEM),
    _c("10", "在役装置未经正规设计且未做安全设计诊断", "Plant in service without proper design or design safety review", _CHEM),
    _c("11", "使用淘汰落后工艺、设备", "Use of phased-out processes or equipment", _CHEM),
    _c("12", "泄漏场所无检测报警或爆炸区域电气不防爆", "No gas detection at leak points or non-Ex equipment in hazardous areas", _CHEM),
    _c("13", "控制室、机柜间面向危险装置一侧不满足防火防爆", "Control room facing hazardous units not fire and blast resistant", _CHEM),
    _c("14", "装置无双重电源或控制系统无不间断电源", "No dual power supply, or control systems without UPS", _CHEM),
    _c("15", "安全阀、爆破片等安全附件未正常投用", "Relief valves or bursting discs not in service", _CHEM),
    _c("16", "未建立全员安全生产责任制或隐患排查治理制度", "No safety responsibility system or hazard-clearing system", _CHEM),
    _c("17", "未制定操作规程和工艺控制指标", "No operating procedures or process limits", _CHEM),
    _c("18", "动火、受限空间等特殊作业制度缺失或未执行", "Hot work and confined-space rules missing or not followed", _CHEM),
    _c("19", "新工艺未经试验论证、未做试生产方案或反应风险评估", "New processes without trials, trial-run plan or reaction risk assessment", _CHEM),
    _c("20", "危化品未分区分类储存、超量超品种或禁配物混存", "Chemicals stored unsegregated, over quantity or with incompatibles", _CHEM),
)

MINES = (
    # 第三条 地下矿山
    _c("3.1", "地下矿山安全出口数量、间距或畅通不符合要求", "Underground mine exits insufficient, too close or blocked", _MINE),
    _c("3.2", "使用国家明令禁止的设备、材料或工艺", "Use of banned equipment, materials or methods", _MINE),
    _c("3.3", "相邻矿山井巷相互贯通或擅自贯通", "Workings connected with a neighbouring mine", _MINE),
    _c("3.4", "现状图纸缺失或与实际不符", "Current mine plans missing or wrong", _MINE),
    _c("3.5", "露天转地下开采未采取防洪、隔离等措施", "Open-pit to underground transition without flood and isolation measures", _MINE),
    _c("3.6", "地表水、降水危及井下而未按设计防治水", "Surface water threatens workings without the designed control", _MINE),
    _c("3.7", "井下主要排水系统能力或设施不符合要求", "Main underground drainage insufficient", _MINE),
    _c("3.8", "井口标高低于历史最高洪水位1米以上且无防护", "Shaft collar below flood level plus one metre without protection", _MINE),
    _c("3.9", "水文地质复杂矿井未落实探放水等措施", "Complex hydrogeology without probe drilling and drainage", _MINE),
    _c("3.10", "受地表水倒灌威胁时强降雨期间未停产撤人", "No evacuation during heavy rain where inrush threatens", _MINE),
    _c("3.11", "有自然发火危险的矿山未采取防灭火措施", "Spontaneous-combustion risk without fire prevention", _MINE),
    _c("3.12", "相邻开采相互影响时未留保安矿柱", "No safety pillars where neighbouring workings interact", _MINE),
    _c("3.13", "通风系统不完善或主通风机不能正常运行", "Ventilation system incomplete or main fan not running", _MINE),
    _c("3.14", "提升系统安全保护装置缺失或失效", "Hoisting safety devices missing or out of order", _MINE),
    _c("3.15", "一级负荷未采用双重电源供电", "Critical loads without dual power supply", _MINE),
    # 第四条 露天矿山
    _c("4.1", "地下转露天开采未探明或处理采空区", "Open-pit mining over unexplored or untreated voids", _MINE),
    _c("4.2", "使用国家明令禁止的设备、材料或工艺", "Use of banned equipment, materials or methods", _MINE),
    _c("4.3", "未自上而下分台阶或分层开采", "Not mined top-down in benches", _MINE),
    _c("4.4", "工作帮坡角或台阶高度超过设计", "Working slope angle or bench height beyond design", _MINE),
    _c("4.5", "开采或破坏设计保留的矿柱、挂帮矿体", "Mining or damaging pillars left by design", _MINE),
    _c("4.6", "高陡边坡未按设计勘察、监测", "High steep slopes not investigated or monitored", _MINE),
    _c("4.7", "边坡出现滑移迹象未处理", "Slope movement signs left untreated", _MINE),
    _c("4.8", "排土场选址、堆置或防洪不符合设计", "Waste dump siting, stacking or flood control against design", _MINE),
    # 第五条 尾矿库
    _c("5.1", "库区或坝上有危及尾矿库安全的开采、爆破等活动", "Mining, digging or blasting endangering the tailings dam", _MINE),
    _c("5.2", "坝体贯穿性裂缝、管涌流土或深层滑动迹象", "Through cracks, piping or deep sliding in the dam", _MINE),
    _c("5.3", "坝外坡比陡于设计", "Downstream slope steeper than design", _MINE),
    _c("5.4", "超设计坝高或超设计库容储存尾矿", "Dam above design height or storage above design capacity", _MINE),
    _c("5.5", "堆积坝上升速率大于设计", "Raising faster than design", _MINE),
    _c("5.6", "浸润线埋深小于控制值", "Phreatic line shallower than the control depth", _MINE),
    _c("5.7", "汛前未做调洪演算或不满足要求", "No flood routing before the flood season, or it fails", _MINE),
    _c("5.8", "排洪构筑物堵塞、坍塌或能力不足", "Spillway structures blocked, collapsed or insufficient", _MINE),
    _c("5.9", "安全超高或干滩长度不足", "Freeboard or beach length below the minimum", _MINE),
    _c("5.10", "设计以外的尾矿、废料或废水进库", "Tailings, waste or water from outside the design deposited", _MINE),
)

HOUSING_MUNICIPAL = (
    # 第四条 施工安全管理
    _c("4.1", "施工企业无安全生产许可证施工", "Contractor working without a safety permit", _BUILD),
    _c("4.2", "主要负责人、项目负责人、专职安全员无考核合格证", "Managers, project leads or safety officers not certified", _BUILD),
    _c("4.3", "特种作业人员无操作资格证上岗", "Special-operation workers without certificates", _BUILD),
    _c("4.4", "危大工程无专项方案或超规模方案未经专家论证", "No method statement for dangerous works, or no expert review", _BUILD),
    # 第五条 基坑工程
    _c("5.1", "对毗邻建筑、管线未采取专项防护", "Neighbouring buildings and utilities unprotected", _BUILD),
    _c("5.2", "基坑土方超挖且未采取措施", "Excavation deeper than allowed without measures", _BUILD),
    _c("5.3", "深基坑未进行第三方监测", "Deep excavation without third-party monitoring", _BUILD),
    _c("5.4", "出现基坑坍塌预兆未及时处理", "Warning signs of excavation collapse not acted on", _BUILD),
    # 第六条 模板工程
    _c("6.1", "模板支架地基承载力和变形不满足设计", "Formwork support foundation below design", _BUILD),
    _c("6.2", "模板支架施工荷载超过设计", "Formwork loaded beyond design", _BUILD),
    _c("6.3", "混凝土强度未达要求即拆模或爬升", "Formwork struck or climbed before concrete strength", _BUILD),
    # 第七条 脚手架工程
    _c("7.1", "脚手架地基承载力和变形不满足设计", "Scaffold foundation below design", _BUILD),
    _c("7.2", "未设连墙件或连墙件整层缺失", "Scaffold ties missing over a whole level", _BUILD),
    _c("7.3", "附着式升降脚手架未经验收即使用", "Climbing scaffold used before acceptance", _BUILD),
    _c("7.4", "附着式升降脚手架防倾防坠或同步装置失效", "Climbing scaffold anti-tilt, anti-fall or sync devices failed", _BUILD),
    _c("7.5", "附着式升降脚手架悬臂高度超限", "Climbing scaffold cantilever above the limit", _BUILD),
    # 第八条 起重机械及吊装工程
    _c("8.1", "起重机械未经验收或未办理使用登记即使用", "Cranes or hoists used before acceptance or registration", _BUILD),
    _c("8.2", "塔吊起升高度、附着间距、悬高或垂直度超限", "Tower crane height, tie spacing or verticality out of limits", _BUILD),
    _c("8.3", "施工升降机附着间距、悬高或垂直度超限", "Construction hoist tie spacing or verticality out of limits", _BUILD),
    _c("8.4", "安拆、顶升、附着前未检查结构件和连接件", "Structure and connections not checked before erecting or climbing", _BUILD),
    _c("8.5", "起重机械安全装置不全、失效或被拆除", "Crane safety devices missing, failed or removed", _BUILD),
    _c("8.6", "升降机防坠安全器超期或标准节螺栓缺失", "Hoist safety gear out of date or mast bolts missing", _BUILD),
    _c("8.7", "起重机械地基承载力和变形不满足设计", "Crane foundation below design", _BUILD),
    # 第九条 高处作业
    _c("9.1", "钢结构安装支撑地基不满足或无防倾覆装置", "Steel erection supports unsound or without anti-overturning", _BUILD),
    _c("9.2", "单榀钢桁架安装未采取防失稳措施", "Single steel truss erected without stability measures", _BUILD),
    _c("9.3", "悬挑操作平台未可靠连接在主体结构上", "Cantilever platform not anchored to the main structure", _BUILD),
    _c("10", "特殊作业环境照明未使用安全电压", "No safety extra-low voltage lighting in special environments", _BUILD),
    _c("11", "有限空间作业未审批、培训、先通风后检测或无监护", "Confined-space work without permit, training, testing or attendant", _BUILD),
    _c("12", "拆除作业顺序不符合规范和方案", "Demolition out of the prescribed sequence", _BUILD),
    # 第十三条 暗挖工程
    _c("13.1", "暗挖作业面带水施工或降水失效继续施工", "Tunnelling under water ingress or failed dewatering", _BUILD),
    _c("13.2", "出现涌水涌沙、坍塌或支护变形未及时处理", "Inrush, local collapse or support deformation not acted on", _BUILD),
    _c("14", "使用危害大的施工工艺、设备和材料", "Use of highly dangerous methods, equipment or materials", _BUILD),
    _c("15", "其他严重违法违规且可能导致群死群伤的情形", "Other serious violations that may cause mass casualties", _BUILD),
)

# GB 35181-2017 重大火灾隐患判定方法: 5 直接判定要素, 6 综合判定要素.
FIRE = (
    _c("5.1", "易燃易爆危险品工厂、仓库未设在城市边缘或独立安全地带", "Flammable goods plant or store not on the edge of town or isolated", _FIRE),
    _c("5.2", "易燃易爆场所与人员密集、居住场所同楼或间距不足", "Flammable goods premises in one building with, or too near, crowded or residential use", _FIRE),
    _c("5.3", "城区加油加气站储量超过一级站规定", "Urban filling station storage beyond the grade-1 limit", _FIRE),
    _c("5.4", "甲乙类厂房、仓库设在地下或半地下", "Class A/B production or storage below ground", _FIRE),
    _c("5.5", "人员密集场所安全出口数量不足或宽度低于规定80%", "Crowded premises with too few exits or under 80% of required width", _FIRE),
    _c("5.6", "旅馆、娱乐场所、商店等未设自动喷水或火灾报警系统", "Hotels, entertainment venues or shops without sprinklers or fire alarms", _FIRE),
    _c("5.7", "易燃液体、可燃气体储罐区未设固定灭火、冷却或报警设施", "Flammable liquid or gas tank farms without fixed fire protection or alarms", _FIRE),
    _c("5.8", "人员密集场所违规使用、储存或销售易燃易爆危险品", "Flammable goods used, stored or sold in crowded premises", _FIRE),
    _c("5.9", "托幼儿童用房、老年人场所所在楼层不符合规定", "Childcare or elderly rooms on floors not allowed", _FIRE),
    _c("5.10", "人员密集场所居住用房用不燃级别不足的彩钢夹芯板搭建", "Sleeping quarters of crowded premises built of combustible sandwich panels", _FIRE),
    _c("6.1.1", "未设消防车道或消防车道被堵塞占用", "Fire access roads missing or blocked", _FIRE),
    _c("6.1.2", "防火间距被占用或小于规定值80%", "Fire separation distances built over or below 80%", _FIRE),
    _c("6.1.3", "厂房、库房、商场内设员工宿舍或住宅内违规生产经营", "Staff dormitories in factories, stores or shops, or workshops in homes", _FIRE),
    _c("6.2.1", "防火分区被改变致面积超过规定50%", "Fire compartments altered to over 150% of the allowed area", _FIRE),
    _c("6.2.2", "防火门、防火卷帘等损坏超过半数", "More than half of fire doors or shutters of a compartment broken", _FIRE),
    _c("6.3.3", "安全出口数量或宽度不符合规定或被封堵", "Exits too few, too narrow or locked", _FIRE),
    _c("6.3.6", "疏散指示标志、应急照明缺失或损坏率超限", "Exit signs or emergency lighting missing or largely broken", _FIRE),
    _c("6.3.9", "疏散走道、楼梯、安全出口设置栅栏或卷帘门", "Bars or roller shutters on escape routes or exits", _FIRE),
    _c("6.3.10", "人员密集场所外窗被封堵或遮挡", "Windows of crowded premises sealed or covered", _FIRE),
    _c("6.4.2", "室外消防给水未设或不能正常使用", "Outdoor fire water supply missing or not working", _FIRE),
    _c("6.4.3", "室内消火栓系统未设或不能正常使用", "Indoor hydrant system missing or not working", _FIRE),
    _c("6.4.6", "自动喷水或其他固定灭火设施不能正常使用", "Sprinklers or fixed extinguishing systems not working", _FIRE),
    _c("6.5.1", "防烟排烟设施未设或不能正常运行", "Smoke control missing or not working", _FIRE),
    _c("6.6.2", "消防用电设备未采用专用供电回路", "Fire equipment without dedicated power circuits", _FIRE),
    _c("6.7.2", "火灾自动报警系统不能正常运行", "Fire alarm system not working", _FIRE),
    _c("6.8.2", "消防控制室值班人员未持证上岗", "Fire control room staff without certificates", _FIRE),
    _c("6.9.2", "易燃易爆或粉尘爆炸场所未设防爆电气、泄压设施或失效", "Explosive atmospheres without Ex equipment or venting", _FIRE),
    _c("6.9.3", "在可燃构件上敷设电气线路或使用不合格电气设备", "Wiring on combustible parts or substandard electrical equipment", _FIRE),
    _c("6.9.4", "人员密集场所违规使用易燃可燃材料装修", "Combustible finishes in crowded premises", _FIRE),
)

FIREWORKS = (
    _c("1", "主要负责人、安全管理人员未经考核合格", "Managers and safety staff not certified", _FW),
    _c("2", "特种作业人员无证上岗或带药检维修设备", "Workers without certificates, or repairs with explosives present", _FW),
    _c("3", "职工自带工器具、设备进厂涉药作业", "Workers bringing own tools or machines to explosive work", _FW),
    _c("4", "工（库）房作业人数超过核定人数", "More workers in a workshop or store than approved", _FW),
    _c("5", "工（库）房滞留、存储药量超过核定药量", "More explosive composition held than approved", _FW),
    _c("6", "工（库）房内外部安全距离不足或防护屏障不合要求", "Safety distances short or protective barriers missing", _FW),
    _c("7", "防静电、防火、防雷设施缺失或失效", "Anti-static, fire or lightning protection missing or failed", _FW),
    _c("8", "擅自改变工（库）房用途或私搭乱建", "Workshop or store used otherwise than designed, or illegal structures", _FW),
    _c("9", "工厂围墙缺失或分区设置不符合标准", "Perimeter wall missing or zoning against the standard", _FW),
    _c("10", "氧化剂、还原剂同库储存、违规预混或同房粉碎称量", "Oxidisers and fuels stored, premixed or ground together", _FW),
    _c("11", "涉药机械设备未经安全论证或擅自改变用途", "Machines handling explosives unproven or altered", _FW),
    _c("12", "中转库、总库存储能力与设计产能不匹配", "Intermediate and main store capacity unmatched to output", _FW),
    _c("13", "未建立全员安全生产责任制或隐患排查治理制度", "No safety responsibility system or hazard-clearing system", _FW),
    _c("14", "出租、出借、转让、冒用或伪造许可证", "Licence lent, transferred, misused or forged", _FW),
    _c("15", "产品种类、危险等级超许可范围或使用违禁药物", "Products beyond the licence or banned compositions", _FW),
    _c("16", "分包转包生产线、工房、库房", "Production lines, workshops or stores subcontracted", _FW),
    _c("17", "一证多厂或多股东各自独立生产经营", "One licence for several plants or partners working separately", _FW),
    _c("18", "许可证过期、停产整顿或恶劣天气期间生产经营", "Working with an expired licence, while suspended or in severe weather", _FW),
    _c("19", "仓库存放其他爆炸物或经营违禁超标产品", "Other explosives in the store, or banned products sold", _FW),
    _c("20", "零售点与居住场所同楼或在零售场所使用明火", "Retail point in a residential building, or open flame at it", _FW),
)

GAS = (
    # 第三条 燃气经营者
    _c("3.1", "未取得燃气经营许可证从事经营", "Gas business without a licence", _GAS),
    _c("3.2", "主要负责人、安全管理及运维抢修人员未经考核合格", "Managers, safety, operating or repair staff not certified", _GAS),
    _c("3.3", "未建立或未落实安全风险管控和隐患排查治理制度", "No risk control and hazard-clearing system in force", _GAS),
    # 第四条 厂站
    _c("4.1", "厂站与周边建（构）筑物防火间距不足", "Stations too close to neighbouring buildings", _GAS),
    _c("4.2", "厂站内可燃气体泄漏报警装置缺失或失效", "Gas leak detection at stations missing or failed", _GAS),
    _c("4.3", "储罐、工艺设施安全附件或紧急切断装置缺失失效", "Tank or process safety fittings or emergency shut-off missing or failed", _GAS),
    _c("4.4", "厂站防雷、防静电设施缺失或失效", "Station lightning or anti-static protection missing or failed", _GAS),
    _c("4.5", "厂站消防设施不满足要求或不能正常使用", "Station fire protection insufficient or not working", _GAS),
    # 第五条 管道设施
    _c("5.1", "燃气管道设施被违章占压", "Gas mains built over", _GAS),
    _c("5.2", "管道与建（构）筑物或其他管线间距不足", "Mains too close to buildings or other utilities", _GAS),
    _c("5.3", "管道设施腐蚀、泄漏或超期服役未处置", "Corroded, leaking or time-expired mains left in service", _GAS),
    _c("5.4", "调压设施、阀门安全装置缺失或失效", "Regulators or valves without working safety devices", _GAS),
    # 第六条 瓶装液化石油气
    _c("6.1", "充装或供应超期未检、报废或非法气瓶", "Filling or supplying overdue, scrapped or illegal cylinders", _GAS),
    _c("6.2", "向无证单位或个人供应瓶装液化石油气", "Supplying cylinders to unlicensed sellers", _GAS),
    _c("6.3", "瓶装供应站超量储存或与其他场所间距不足", "Cylinder depots overstocked or too close to others", _GAS),
    # 第七条 用户
    _c("7.1", "未按规定对用户安全检查或发现隐患未处理", "Customer safety checks not done or findings not acted on", _GAS),
    _c("7.2", "商业用户未安装可燃气体报警和紧急切断装置", "Commercial users without gas detection and shut-off", _GAS),
    _c("7.3", "用户使用国家明令淘汰或不合格的燃气具、连接管", "Users with banned or substandard appliances or hoses", _GAS),
)

ROAD = (
    _c("3.1", "企业无经营许可或车辆无有效道路运输证经营", "Operating without a licence or vehicle permits", _ROAD),
    _c("3.2", "驾驶员无相应从业资格", "Drivers without the required qualification", _ROAD),
    _c("3.3", "动态监控系统未安装、未运行或未处理违规信息", "Vehicle tracking missing, off, or alerts not handled", _ROAD),
    _c("3.4", "营运车辆安全技术状况不合格或超期未检", "Vehicles unfit or overdue for inspection", _ROAD),
    _c("3.5", "客车超员或夜间违规运行", "Buses overloaded or running at night against rules", _ROAD),
    _c("3.6", "危险货物运输车辆、罐体或人员不符合要求", "Dangerous-goods vehicles, tanks or crews not compliant", _ROAD),
    _c("3.7", "货车超限超载或非法改装", "Trucks overloaded or illegally modified", _ROAD),
    _c("3.8", "驾驶员疲劳驾驶或连续驾驶超时", "Drivers fatigued or beyond driving-time limits", _ROAD),
)
# fmt: on

_DOCUMENTS = {
    "industry_trade": ("应急管理部令第10号（2023）", _IT, INDUSTRY_TRADE),
    "chemicals": ("安监总管三〔2017〕121号", _CHEM, CHEMICALS),
    "metal_nonmetal_mines": ("矿安〔2022〕88号", _MINE, MINES),
    "housing_municipal": ("建质规〔2022〕2号（2022版）", _BUILD, HOUSING_MUNICIPAL),
    "fire": ("GB 35181-2017", _FIRE, FIRE),
    "fireworks": ("安监总管三〔2017〕121号", _FW, FIREWORKS),
    "gas": ("建城规〔2023〕4号", _GAS, GAS),
    "road_transport": ("交办运〔2023〕52号", _ROAD, ROAD),
}

STANDARDS: dict[str, Standard] = {
    e.code: Standard(e.code, e.name_zh, e.name_en, *_DOCUMENTS[e.code]) for e in JUDGMENT_STANDARDS
}
_BY_CODE: dict[str, dict[str, Clause]] = {
    s.code: {c.code: c for c in s.clauses} for s in STANDARDS.values()
}


def clause(standard: str | None, code: str | None) -> Clause | None:
    """The clause ``code`` of ``standard``; None when either is unknown (old rows, another
    standard's code). For labels, e.g. statistics grouped by clause."""
    if standard is None or code is None:
        return None
    return _BY_CODE.get(standard, {}).get(code)


def standards_with(code: str) -> list[str]:
    """The standards that have a clause ``code`` (to tell a caller where the code belongs)."""
    return [s for s, clauses in _BY_CODE.items() if code in clauses]


_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS.update({"六": 6, "七": 7, "八": 8, "九": 9})


def _number(text: str) -> int | None:
    """Arabic digits, or a Chinese numeral below 100 (``十``, ``二十``, ``三十五``)."""
    if text.isdigit():
        return int(text)
    tens, _, units = text.partition("十")
    if "十" not in text:
        return _DIGITS.get(text) if len(text) == 1 else None
    high = _DIGITS.get(tens, -1) if tens else 1
    low = _DIGITS.get(units, -1) if units else 0
    return None if high < 0 or low < 0 else high * 10 + low


_N = r"[0-9零〇一二两三四五六七八九十]+"
_ARTICLE = re.compile(rf"^第?({_N})条(?:第?[（(]?({_N})[)）]?项)?$")
_ITEM = re.compile(rf"^[（(]?({_N})[)）]?[、.．]?$")
_DOTTED = re.compile(r"^第?(\d+(?:\.\d+)*)条?$")


def normalise_clause(text: str) -> str:
    """The code of a citation: ``第四条第（三）项`` → ``4.3``, ``第十四条`` → ``14``,
    ``第5.5条`` → ``5.5``, ``二十`` → ``20``; a code already (``4.3``) or anything else unchanged
    (then unknown to every standard)."""
    s = re.sub(r"\s+", "", text).replace("．", ".")
    if m := _DOTTED.match(s):
        return m[1]
    if m := _ARTICLE.match(s):
        article, item = _number(m[1]), _number(m[2]) if m[2] else None
        if article is not None and (m[2] is None or item is not None):
            return f"{article}.{item}" if item is not None else str(article)
    if m := _ITEM.match(s):
        n = _number(m[1])
        if n is not None:
            return str(n)
    return text
