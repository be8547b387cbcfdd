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
HAZARD_LEVELS = (
    Entry("general", "一般事故隐患", "General hazard"),
    Entry("major", "重大事故隐患", "Major hazard"),
)
HAZARD_SOURCES = (
    Entry("self_inspection", "企业自查", "Enterprise self-inspection"),
    Entry("inspection", "督导检查发现", "Found by supervision or inspection"),
    Entry("public_report", "群众举报查实", "Substantiated public report"),
    Entry("assigned", "上级交办", "Assigned by a higher level"),
)
HAZARD_CATEGORIES = (
    Entry("unsafe_behavior", "人的不安全行为", "Unsafe behaviour of people"),
    Entry("unsafe_condition", "物的不安全状态", "Unsafe condition of things"),
    Entry("management_defect", "管理缺陷", "Management defect"),
    Entry("environment", "环境因素", "Environmental factor"),
)
HAZARD_STATUSES = (
    Entry("registered", "已登记", "Registered"),
    Entry("rectifying", "整改中", "Under rectification"),
    Entry("awaiting_acceptance", "待验收", "Awaiting acceptance"),
    Entry("closed", "已销号", "Closed"),
    Entry("voided", "已作废", "Voided"),
)
HAZARD_ACTIONS = (
    Entry("plan", "提交整改方案（五落实）", "Submit rectification plan"),
    Entry("fix_on_spot", "立查立改", "Fixed on the spot"),
    Entry("complete", "整改完成", "Rectification completed"),
    Entry("accept", "验收销号", "Accept and close"),
    Entry("reject", "验收不通过", "Reject acceptance"),
    Entry("void", "作废", "Void"),
    Entry("extend", "延期", "Extend deadline"),
    Entry("reclassify", "调整隐患等级", "Reclassify level"),
    Entry("supervise", "挂牌督办", "Put under listed supervision"),
    Entry("unsupervise", "摘牌", "Remove listed supervision"),
    Entry("escalate", "逐级问责（函告、通报、约谈、曝光）", "Escalate"),
)
# What a hazard's history records: every action above, plus three the server writes itself.
HAZARD_EVENT_ACTIONS = (
    *HAZARD_ACTIONS,
    Entry("register", "登记", "Registered"),
    Entry("mark_overdue", "逾期", "Marked overdue"),
    Entry("attach", "上传材料", "Evidence attached"),
)
EVENT_ACTOR_KINDS = (
    Entry("user", "用户", "User"),
    Entry("client", "接口客户端", "Machine client"),
    Entry("system", "系统", "System"),
)
REMINDER_KINDS = (
    Entry("deadline_warning", "到期预警", "Deadline warning"),
    Entry("overdue", "逾期提醒", "Overdue reminder"),
)
NOTIFICATION_KINDS = (
    Entry("hazard_deadline_warning", "隐患整改期限预警", "Hazard deadline warning"),
    Entry("hazard_overdue", "隐患逾期提醒", "Hazard overdue"),
    Entry("task_list_issued", "任务清单下达", "Task list issued"),
    Entry("task_assigned", "任务分解下达", "Task assigned (split)"),
    Entry("task_overdue", "任务逾期提醒", "Task overdue"),
    Entry("task_report_returned", "进展报告退回", "Progress report returned"),
    Entry("hazard_supervised", "重大隐患挂牌督办", "Hazard under listed supervision"),
    Entry("inspection_to_sign", "检查记录待签名", "Inspection record to sign"),
    Entry("webhook_disabled", "Webhook 订阅已停用", "Webhook subscription disabled"),
)
JOB_KINDS = (
    Entry(
        "overdue",
        "逾期标记、逾期提醒与到期预警（每日）",
        "Overdue marking, overdue reminders and deadline warnings (daily)",
    ),
    Entry("housekeeping", "数据清理", "Housekeeping"),
    Entry("import", "批量导入", "Bulk import"),
    Entry("export", "清单导出（后台）", "List export (background)"),
)
JOB_STATUSES = (
    Entry("queued", "排队中", "Queued"),
    Entry("running", "执行中", "Running"),
    Entry("succeeded", "已完成", "Succeeded"),
    Entry("failed", "失败待重试", "Failed, to be retried"),
    Entry("dead", "已放弃", "Dead (no attempts left)"),
)
ESCALATION_LEVELS = (
    Entry("none", "未问责", "None"),
    Entry("notice_letter", "函告", "Notice letter"),
    Entry("circulated", "通报", "Circulated notice"),
    Entry("summoned", "约谈", "Summons"),
    Entry("exposed", "曝光", "Public exposure"),
)
# The accountability ladder of a unit or an enterprise (问责, app/services/accountability.py):
# the codes of the hazard's own escalation ladder, in order, so both read the same.
ACCOUNTABILITY_RUNGS = (
    Entry("notice_letter", "函告", "Notice letter"),
    Entry("circulated", "通报", "Circulated notice"),
    Entry("summoned", "约谈", "Summons"),
    Entry("exposed", "曝光", "Public exposure"),
)
ACCOUNTABILITY_TARGET_TYPES = (
    Entry("org_unit", "乡镇/街道或行业部门", "Town or bureau"),
    Entry("enterprise", "企业", "Enterprise"),
)
# Why GET /api/v1/statistics/units flags a unit (app/services/unit_statistics.py).
UNIT_FLAG_REASONS = (
    Entry("overdue_rate", "逾期率超过阈值", "Overdue rate above the threshold"),
    Entry("major_overdue", "重大隐患逾期未整改", "Major hazards overdue"),
)
ATTACHMENT_PHASES = (
    Entry("discovery", "发现（整改前）", "Discovery (before)"),
    Entry("rectification", "整改（整改后）", "Rectification (after)"),
    Entry("acceptance", "验收", "Acceptance"),
)
JUDGMENT_STANDARDS = (
    Entry(
        "industry_trade",
        "工贸企业重大事故隐患判定标准（应急管理部令第10号）",
        "Industry and trade (MEM Order No. 10)",
    ),
    Entry(
        "chemicals",
        "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（安监总管三〔2017〕121号）",
        "Chemicals and hazardous chemicals (2017 No. 121)",
    ),
    Entry(
        "metal_nonmetal_mines", "金属非金属矿山重大事故隐患判定标准", "Metal and non-metal mines"
    ),
    Entry(
        "housing_municipal",
        "房屋市政工程生产安全重大事故隐患判定标准",
        "Housing and municipal works",
    ),
    Entry("fire", "重大火灾隐患判定规则（GB 35181-2017）", "Major fire hazards (GB 35181-2017)"),
    Entry(
        "fireworks",
        "烟花爆竹生产经营单位重大生产安全事故隐患判定标准",
        "Fireworks production and trade",
    ),
    Entry("gas", "城镇燃气经营安全重大隐患判定标准", "Urban gas operation"),
    Entry(
        "road_transport", "道路运输企业和城市客运企业安全生产重大事故隐患判定标准", "Road transport"
    ),
)
# What the public list of disclosed major hazards says of a status (向社会公布): no more detail
# than "being rectified" or "closed" (registered, rectifying and awaiting acceptance are all open).
PUBLIC_HAZARD_STATUSES = (
    Entry("rectifying", "整改中", "Being rectified"),
    Entry("closed", "已销号", "Closed"),
)
# Inspections and enforcement (issue 12; app/services/inspections/).
INSPECTION_KINDS = (
    Entry("routine", "日常检查", "Routine inspection"),
    Entry("key_period", "重点时段检查", "Key-period inspection"),
    Entry("natural_disaster", "自然灾害防范检查", "Natural-disaster inspection"),
    Entry("accident_prevention", "事故防范检查", "Accident-prevention inspection"),
    Entry("double_random", "双随机抽查", "Double-random inspection"),
    Entry("unannounced", "四不两直（明查暗访）", "Unannounced inspection"),
    Entry("special_campaign", "专项整治检查", "Special-campaign inspection"),
    Entry("follow_up", "回头检查", "Follow-up inspection"),
    Entry("cross_regional", "交叉/异地执法检查", "Cross-regional enforcement"),
    Entry("expert_guidance", "专家指导服务", "Expert guidance (advice, never a penalty)"),
    Entry("self_inspection", "企业自查", "Enterprise self-inspection"),
)
# Kinds that are not enforcement: no two certified inspectors needed, never a penalty.
NON_ENFORCEMENT_KINDS = frozenset({"self_inspection", "expert_guidance"})
INSPECTION_STATUSES = (
    Entry("planned", "计划", "Planned"),
    Entry("in_progress", "检查中", "In progress"),
    Entry("completed", "已完成（待签名）", "Completed (awaiting signatures)"),
    Entry("signed", "已签名", "Signed"),
    Entry("cancelled", "已取消", "Cancelled"),
)
INSPECTION_ACTIONS = (
    Entry("start", "开始检查", "Start"),
    Entry("record_results", "记录检查结果", "Record results"),
    Entry("add_finding", "登记发现的隐患", "Add a finding"),
    Entry("complete", "完成检查", "Complete"),
    Entry("sign", "签名", "Sign"),
    Entry("amend", "更正（签名后）", "Amend (after signing)"),
    Entry("cancel", "取消", "Cancel"),
)
INSPECTION_EVENT_ACTIONS = (
    Entry("plan", "安排检查", "Planned"),
    Entry("update", "修改检查安排", "Plan changed"),
    *INSPECTION_ACTIONS,
)
INSPECTION_RESULTS = (
    Entry("ok", "符合", "Compliant"),
    Entry("finding", "发现问题", "Finding"),
    Entry("not_applicable", "不适用", "Not applicable"),
)
DECISION_KINDS = (
    Entry("no_issue", "未发现问题", "No issue"),
    Entry("rectification_order", "责令限期整改", "Rectification order"),
    Entry("suspension", "责令停产停业整顿", "Suspension"),
    Entry("fine", "罚款", "Fine"),
    Entry("closure", "关闭取缔", "Closure"),
    Entry("referral", "移送司法机关", "Referral to the judiciary"),
    Entry("blacklist", "纳入联合惩戒黑名单", "Joint-punishment blacklist"),
)
# Decisions that are a penalty (行政处罚): a unit deciding none of them on enforcement visits
# with findings is a zero-penalty unit (零处罚) in the figures.
PENALTY_DECISIONS = frozenset({"suspension", "fine", "closure", "referral", "blacklist"})


def _report_catalogs() -> dict[str, tuple[Entry, ...]]:
    """Public reports' statuses (the same labels the public tracking page shows), actions and
    routing reasons (issue 15)."""
    from app.services.public_reports.workflow import STATUS_LABELS

    return {
        "report_statuses": tuple(Entry(c, zh, en) for c, (zh, en) in STATUS_LABELS.items()),
        "report_actions": (
            Entry("assign", "交办", "Assign"),
            Entry("investigate", "调查核实", "Investigate"),
            Entry("substantiate", "查实（登记隐患）", "Substantiate (registers the hazard)"),
            Entry("unsubstantiate", "查否", "Unsubstantiate"),
            Entry("reward", "举报奖励", "Reward"),
            Entry("close", "办结", "Close"),
        ),
        "report_route_reasons": (
            Entry("region", "按举报地点（镇街）", "By the region given (town)"),
            Entry("enterprise_town", "按被举报企业属地", "By the enterprise's town"),
            Entry("sector", "按行业主管部门", "By the enterprise's sector"),
            Entry("department", "按日常执法部门", "By the daily-enforcement department"),
            Entry("county", "县安委办（未能确定镇街）", "The county office (no town found)"),
            Entry("assigned", "交办", "Assigned"),
        ),
    }


def _risk_catalogs() -> dict[str, tuple[Entry, ...]]:
    """The risk register's catalogues (app/services/risks/catalog.py: GB/T 13861, GB 6441 …)."""
    from app.services.risks import catalog

    return {
        "risk_levels": catalog.RISK_LEVELS,
        "risk_point_kinds": catalog.RISK_POINT_KINDS,
        "hazard_factors": catalog.HAZARD_FACTORS,
        "accident_types": catalog.ACCIDENT_TYPES,
        "control_levels": catalog.CONTROL_LEVELS,
        "measure_kinds": catalog.MEASURE_KINDS,
        "coordinate_systems": catalog.COORDINATE_SYSTEMS,
    }


CATALOGS: dict[str, tuple[Entry, ...]] = {
    "org_unit_kinds": ORG_UNIT_KINDS,
    "enterprise_scales": ENTERPRISE_SCALES,
    "risk_colors": RISK_COLORS,
    "standardization_grades": STANDARDIZATION_GRADES,
    "enterprise_statuses": ENTERPRISE_STATUSES,
    "hazard_levels": HAZARD_LEVELS,
    "hazard_sources": HAZARD_SOURCES,
    "hazard_categories": HAZARD_CATEGORIES,
    "hazard_statuses": HAZARD_STATUSES,
    "hazard_actions": HAZARD_ACTIONS,
    "hazard_event_actions": HAZARD_EVENT_ACTIONS,
    "event_actor_kinds": EVENT_ACTOR_KINDS,
    "reminder_kinds": REMINDER_KINDS,
    "notification_kinds": NOTIFICATION_KINDS,
    "job_kinds": JOB_KINDS,
    "job_statuses": JOB_STATUSES,
    "escalation_levels": ESCALATION_LEVELS,
    "accountability_rungs": ACCOUNTABILITY_RUNGS,
    "accountability_target_types": ACCOUNTABILITY_TARGET_TYPES,
    "unit_flag_reasons": UNIT_FLAG_REASONS,
    "attachment_phases": ATTACHMENT_PHASES,
    "judgment_standards": JUDGMENT_STANDARDS,
    "public_hazard_statuses": PUBLIC_HAZARD_STATUSES,
    "inspection_kinds": INSPECTION_KINDS,
    "inspection_statuses": INSPECTION_STATUSES,
    "inspection_actions": INSPECTION_ACTIONS,
    "inspection_event_actions": INSPECTION_EVENT_ACTIONS,
    "inspection_results": INSPECTION_RESULTS,
    "decision_kinds": DECISION_KINDS,
    **_risk_catalogs(),
    **_report_catalogs(),
}


def codes(name: str) -> frozenset[str]:
    return frozenset(e.code for e in CATALOGS[name])
