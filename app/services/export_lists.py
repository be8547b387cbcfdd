"""The lists that export (issue 16): per list its columns (paths into the JSON list item) and how
a page is fetched, by the very service and item functions of the JSON list's route, so an
export has the list's filters, sort, scope and fields for the caller, and nothing else.

Filters are kept as the route built them; ``dump_filters``/``load_filters`` carry them through
an export job's payload (dates, date-times and tuples tagged so they come back as they were).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.auth.permissions import ROLE_LABELS, Permission
from app.auth.principal import Principal
from app.core.config import Settings
from app.schemas.common import ListParams
from app.services import enterprises, users
from app.services.catalog_data import CATALOGS, SECTORS
from app.services.exports import Column, ExportSpec, Fetch, Page
from app.services.hazards import service as hazards
from app.services.hazards.queries import HazardFilters
from app.services.inspections import service as inspections
from app.services.inspections.queries import InspectionFilters
from app.services.public_reports import service as reports
from app.services.public_reports.workflow import STATUS_LABELS as REPORT_STATUS_LABELS
from app.services.tasks import service as tasks


def _labels(catalog: str) -> dict[str, str]:
    return {e.code: e.name_zh for e in CATALOGS[catalog]}


SECTOR_LABELS = {s.code: s.name_zh for s in SECTORS}
CYCLE_LABELS = {"once": "一次性", "monthly": "每月", "quarterly": "每季度", "annual": "每年"}


def _enum(path: str, zh: str, labels: Mapping[str, str], en: str | None = None) -> Column:
    return Column(path, zh, en or path, "enum", labels)


def _c(path: str, zh: str, kind: Any = "text", en: str | None = None) -> Column:
    return Column(path, zh, en or path, kind)


ENTERPRISES = ExportSpec(
    "enterprises",
    "企业清单",
    (
        _c("name", "企业名称"),
        _c("credit_code", "统一社会信用代码"),
        _c("region_code", "行政区划代码"),
        _c("address", "地址"),
        _enum("sector", "所属行业", SECTOR_LABELS),
        _c("industry_code", "国民经济行业代码"),
        _c("enforcement_department.name", "日常执法部门", en="enforcement_department"),
        _c("enforcement_department.id", "日常执法部门编号", en="enforcement_department_id"),
        _enum("scale", "企业规模", _labels("enterprise_scales")),
        _enum("risk_color", "风险等级", _labels("risk_colors")),
        _enum("standardization_grade", "标准化等级", _labels("standardization_grades")),
        _c("principal.name", "主要负责人", en="principal"),
        _c("principal.phone", "主要负责人电话", en="principal_phone"),
        _c("actual_controller.name", "实际控制人", en="actual_controller"),
        _enum("status", "状态", _labels("enterprise_statuses")),
        _c("blacklisted", "是否在黑名单", "bool"),
        _c("external_ids", "外部编号", "pairs"),
        _c("created_at", "登记时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)

HAZARDS = ExportSpec(
    "hazards",
    "隐患清单",
    (
        _c("number", "隐患编号"),
        _c("title", "隐患描述", en="title"),
        _c("enterprise.name", "企业名称", en="enterprise"),
        _c("enterprise.id", "企业编号", en="enterprise_id"),
        _c("enforcement_department.name", "日常执法部门", en="enforcement_department"),
        _c("region_code", "行政区划代码"),
        _enum("sector", "所属行业", SECTOR_LABELS),
        _c("location", "隐患部位"),
        _enum("level", "隐患等级", _labels("hazard_levels")),
        _enum("source", "隐患来源", _labels("hazard_sources")),
        _enum("category", "隐患类别", _labels("hazard_categories")),
        _c("found_at", "发现时间", "datetime"),
        _c("deadline", "整改期限", "date"),
        _enum("status", "状态", _labels("hazard_statuses")),
        _c("is_overdue", "是否逾期", "bool"),
        _c("stock", "是否存量隐患", "bool"),
        _enum("escalation", "问责层级", _labels("escalation_levels")),
        _c("supervised", "是否挂牌督办", "bool"),
        _c("external_ids", "外部编号", "pairs"),
        _c("closed_at", "销号时间", "datetime"),
        _c("created_at", "登记时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)

INSPECTIONS = ExportSpec(
    "inspections",
    "检查清单",
    (
        _c("number", "检查编号"),
        _enum("kind", "检查类型", _labels("inspection_kinds")),
        _c("enterprise.name", "企业名称", en="enterprise"),
        _c("enterprise.id", "企业编号", en="enterprise_id"),
        _c("region_code", "行政区划代码"),
        _enum("sector", "所属行业", SECTOR_LABELS),
        _c("conducting_unit.name", "实施单位", en="conducting_unit"),
        _c("campaign", "专项行动"),
        _c("planned_for", "计划日期", "date"),
        _c("started_at", "开始时间", "datetime"),
        _c("completed_at", "完成时间", "datetime"),
        _enum("status", "状态", _labels("inspection_statuses")),
        _c("findings_count", "发现隐患数", "number"),
        _c("major_findings_count", "重大隐患数", "number"),
        _c("exempt_findings_count", "不予处罚隐患数", "number"),
        _enum("decisions", "处理决定", _labels("decision_kinds")),
        _c("external_ids", "外部编号", "pairs"),
        _c("created_at", "登记时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)

TASKS = ExportSpec(
    "tasks",
    "任务清单",
    (
        _c("code", "任务编号"),
        _c("title", "任务名称"),
        _c("task_list.name", "任务清单", en="task_list"),
        _c("lead_unit.name", "牵头单位", en="lead_unit"),
        _c("deadline", "完成期限", "date"),
        _enum("cycle", "周期", CYCLE_LABELS),
        _c("description", "任务内容"),
        _c("basis", "依据"),
        _c("split_by_unit.name", "分解单位", en="split_by_unit"),
        _c("parent_task_id", "上级任务编号"),
        _c("created_at", "创建时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)

REPORTS = ExportSpec(
    "reports",
    "举报清单",
    (
        _c("number", "举报编号"),
        _enum("status", "状态", {k: v[0] for k, v in REPORT_STATUS_LABELS.items()}),
        _c("description", "举报内容"),
        _c("location_text", "地点"),
        _c("region_code", "行政区划代码"),
        _c("enterprise_name", "被举报单位（举报所填）"),
        _c("credit_code", "统一社会信用代码（举报所填）"),
        _c("enterprise.name", "关联企业", en="enterprise"),
        _c("enterprise.id", "关联企业编号", en="enterprise_id"),
        _enum("sector", "所属行业", SECTOR_LABELS),
        _c("anonymous", "是否匿名", "bool"),
        _c("routed_to", "承办单位"),
        _c("hazard.number", "隐患编号", en="hazard"),
        _c("reward_yuan", "奖励金额（元）", "money"),
        _c("public_outcome", "公开答复"),
        _c("received_at", "受理时间", "datetime"),
        _c("closed_at", "办结时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)

USERS = ExportSpec(
    "users",
    "用户清单",
    (
        _c("username", "用户名"),
        _c("display_name", "姓名"),
        _c("phone", "电话"),
        _enum("role", "角色", {r.value: zh for r, (zh, _) in ROLE_LABELS.items()}),
        _c("org_unit.name", "所属单位", en="org_unit"),
        _c("enterprise.name", "所属企业", en="enterprise"),
        _c("enforcement_cert_no", "执法证号"),
        _c("is_active", "是否启用", "bool"),
        _c("created_at", "创建时间", "datetime"),
        _c("updated_at", "更新时间", "datetime"),
        _c("id", "编号"),
    ),
)


# ---- pages: the JSON list's own service and item functions ------------------------------------

MakeFetch = Callable[[Principal, Settings, Any, bool], Fetch]


def _enterprises(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page, _ = await enterprises.list_enterprises(reader, p, params, **filters)
        return Page([enterprises.row_out(r, en) for r in page.rows], page.next_cursor, page.total)

    return fetch


def _hazards(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page, _, today = await hazards.list_hazards(reader, p, settings, params, filters)
        items = hazards.summaries(page.rows, p, settings, today, en)
        return Page(items, page.next_cursor, page.total)

    return fetch


def _inspections(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page = await inspections.list_inspections(reader, p, settings, params, filters)
        items = [inspections.summary(r, p, en) for r in page.rows]
        return Page(items, page.next_cursor, page.total)

    return fetch


def _tasks(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page, today = await tasks.list_tasks(reader, p, settings, params, **filters)
        items = [tasks.task_out(r, p, today, en) for r in page.rows]
        return Page(items, page.next_cursor, page.total)

    return fetch


def _reports(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page = await reports.list_reports(reader, p, settings, params, **filters)
        return Page(reports.summaries(page.rows, p, en), page.next_cursor, page.total)

    return fetch


def _users(p: Principal, settings: Settings, filters: Any, en: bool) -> Fetch:
    async def fetch(reader: Any, params: ListParams) -> Page:
        page, _ = await users.list_users(reader, p, params, **filters)
        return Page([users.user_row_out(r, en) for r in page.rows], page.next_cursor, page.total)

    return fetch


@dataclass(frozen=True)
class ListExport:
    spec: ExportSpec
    make_fetch: MakeFetch
    permission: Permission
    filters_type: type | None = None  # a dataclass the route builds; None: keyword arguments


LISTS: dict[str, ListExport] = {
    "enterprises": ListExport(ENTERPRISES, _enterprises, Permission.enterprises_read),
    "hazards": ListExport(HAZARDS, _hazards, Permission.hazards_read, HazardFilters),
    "inspections": ListExport(
        INSPECTIONS, _inspections, Permission.inspections_read, InspectionFilters
    ),
    "tasks": ListExport(TASKS, _tasks, Permission.tasks_read),
    "reports": ListExport(REPORTS, _reports, Permission.reports_read),
    "users": ListExport(USERS, _users, Permission.users_read),
}


# ---- filters through a job's payload ---------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$tuple" in value:
            return tuple(_decode(v) for v in value["$tuple"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dump_filters(filters: Any) -> dict[str, Any]:
    """The route's filters as JSON (a dataclass's fields, or the keyword arguments)."""
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        filters = {f.name: getattr(filters, f.name) for f in dataclasses.fields(filters)}
    return {k: _encode(v) for k, v in filters.items()}


def load_filters(name: str, data: Mapping[str, Any]) -> Any:
    """The filters back, as the route built them."""
    values = {k: _decode(v) for k, v in data.items()}
    filters_type = LISTS[name].filters_type
    return filters_type(**values) if filters_type is not None else values
