"""What each kind of import reads: its columns (the API's field name and the Chinese headers
offices write), and how a cell becomes a field's value (catalog values by code or Chinese
label, dates in the forms offices type, references by a name a person knows).

A header matches a column by its field name (any case) or one of its Chinese headers, after
removing spaces, a required mark (``*``, ``＊``) and a parenthesised note (``企业名称（必填）``);
Chinese and English headers may be mixed in one row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.auth.permissions import ROLE_LABELS
from app.services.catalog_data import CATALOGS, SECTORS, Entry
from app.services.imports.reader import parse_date

_NOTE = re.compile(r"[（(][^）)]*[）)]")
_MARKS = str.maketrans("", "", " \u3000\t*＊")


def normalise(header: str) -> str:
    return _NOTE.sub("", header).translate(_MARKS).lower()


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    headers: tuple[str, ...]  # the first is the template's
    required: bool = False
    kind: str = "text"  # text | catalog | catalog_list | date | number | ref
    catalog: str | None = None
    example: str = ""
    note: str = ""  # the template's comment on the header

    @property
    def header(self) -> str:
        return self.headers[0]


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str
    name_zh: str
    columns: tuple[Column, ...]
    by_header: dict[str, Column] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for c in self.columns:
            self.by_header[c.field.lower()] = c
            for h in c.headers:
                self.by_header[normalise(h)] = c

    def column_of(self, header: str) -> Column | None:
        return self.by_header.get(normalise(header)) or self.by_header.get(header.strip().lower())

    def is_header(self, text: str) -> bool:
        return self.column_of(text) is not None or _is_external(text)


def _is_external(header: str) -> bool:
    """``external_ids.<system>`` (or ``外部编号.<system>``): another system's id of the row."""
    return external_system_of(header) is not None


def external_system_of(header: str) -> str | None:
    text = header.strip()
    for prefix in ("external_ids.", "外部编号.", "外部编号:", "外部编号："):
        if text.lower().startswith(prefix):
            system = text[len(prefix) :].strip()
            if re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", system):
                return system
    return None


def _aliases(label: str) -> set[str]:
    """A label as offices write it: whole, without its note (红色), the note alone (重大风险),
    and without 事故 (一般隐患)."""
    names = {label, _NOTE.sub("", label)}
    names |= {m.strip("（）()") for m in _NOTE.findall(label)}
    names |= {n.replace("事故", "") for n in list(names)}
    return {n for n in names if n}


def _values(entries: tuple[Entry, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in entries:
        for alias in _aliases(e.name_zh):
            out.setdefault(alias, e.code)
        out[e.code.lower()] = e.code
        out[e.name_en.lower()] = e.code
    return out


SECTOR_VALUES = {
    **{s.code.lower(): s.code for s in SECTORS},
    **{s.name_zh: s.code for s in SECTORS},
    **{s.name_en.lower(): s.code for s in SECTORS},
}
# Value lists of imports that are not a catalog of their own: the roles (app/auth/permissions.py)
# and the kinds of unit an import creates (the county exists already).
_IMPORT_LISTS: dict[str, tuple[Entry, ...]] = {
    "roles": tuple(Entry(r.value, zh, en) for r, (zh, en) in ROLE_LABELS.items()),
    "unit_kinds": tuple(e for e in CATALOGS["org_unit_kinds"] if e.code != "county"),
}
CATALOG_VALUES: dict[str, dict[str, str]] = {
    name: _values(entries) for name, entries in {**CATALOGS, **_IMPORT_LISTS}.items()
}
CATALOG_VALUES["sectors"] = SECTOR_VALUES
CATALOG_VALUES["unit_kinds"].update(
    {"乡镇": "town", "街道": "town", "镇": "town", "行业部门": "bureau", "部门": "bureau"}
)


def catalog_labels(name: str) -> list[str]:
    """The Chinese labels a template's drop-down offers."""
    if name == "sectors":
        return [s.name_zh for s in SECTORS]
    return [e.name_zh for e in {**CATALOGS, **_IMPORT_LISTS}[name]]


_LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_list(text: str) -> list[str]:
    """A cell holding several values: ``张三、李四``, ``a,b`` (、 , ， ; ； or spaces)."""
    return [x for x in _LIST_SEPARATORS.split(text) if x]


def text_of(value: object) -> str | None:
    """A cell as text: numbers read from a spreadsheet as digits (a credit code or a region code
    typed in a number cell comes back as 341302001001.0)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


class CellError(ValueError):
    """A cell that cannot be the column's value: ``"中文|English"``."""


def convert(column: Column, value: object) -> Any:
    """The field's value of a cell (None for an empty cell)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind == "date":
        try:
            return parse_date(value)
        except ValueError as exc:
            raise CellError(str(exc)) from None
    if column.kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip().replace(",", ""))
        except ValueError:
            raise CellError(f"应为数字：{value}|Not a number: {value}") from None
    text = text_of(value)
    if column.kind == "catalog" and text is not None:
        return _code(column, text)
    if column.kind == "catalog_list" and text is not None:
        return list(dict.fromkeys(_code(column, x) for x in split_list(text)))
    return text


def converter(column: Column) -> Callable[[object], Any]:
    """``convert`` for one column, its kind decided once: the same value or ``CellError`` for
    every cell, with the cells files mostly hold (text, and numbers in number columns) taken
    the short way (a job converts every cell of up to 200,000 rows)."""
    if column.kind in ("text", "ref"):  # a reference is read as its text

        def text(value: object) -> Any:
            if value.__class__ is str:
                return value.strip() or None  # type: ignore[attr-defined]
            return convert(column, value)

        return text
    if column.kind == "catalog":

        def catalog(value: object) -> Any:
            if value.__class__ is str:
                stripped = value.strip()  # type: ignore[attr-defined]
                return _code(column, stripped) if stripped else None
            return convert(column, value)

        return catalog
    if column.kind == "number":

        def number(value: object) -> Any:
            if value.__class__ is float:
                return value
            return convert(column, value)

        return number
    return lambda value: convert(column, value)


def _code(column: Column, text: str) -> str:
    values = CATALOG_VALUES[column.catalog or ""]
    key = text.replace(" ", "").replace("\u3000", "")
    code = values.get(key) or values.get(text.lower())
    if code is None:
        raise CellError(f"取值不在字典中：{text}|Not a value of {column.catalog}: {text}")
    return code


def _c(field: str, *headers: str, **kw: Any) -> Column:
    return Column(field, headers or (field,), **kw)


ENTERPRISES = Spec(
    "enterprises",
    "企业",
    (
        _c(
            "name",
            "企业名称",
            "单位名称",
            "企业（单位）名称",
            required=True,
            example="埇桥示例机械有限公司",
        ),
        _c(
            "credit_code",
            "统一社会信用代码",
            "信用代码",
            "社会信用代码",
            required=True,
            example="91341302MA2N000010",
        ),
        _c(
            "region_code",
            "行政区划代码",
            "所在地区代码",
            "区划代码",
            "所属区划",
            required=True,
            example="341302001001",
        ),
        _c(
            "sector",
            "所属行业",
            "行业领域",
            "行业",
            required=True,
            kind="catalog",
            catalog="sectors",
            example="工贸",
        ),
        _c(
            "enforcement_department",
            "日常执法部门",
            "日常执法监管部门",
            "执法部门",
            "监管部门",
            required=True,
            kind="ref",
            example="区应急管理局",
        ),
        _c(
            "status",
            "经营状态",
            "状态",
            kind="catalog",
            catalog="enterprise_statuses",
            example="正常生产经营",
        ),
        _c("address", "地址", "经营地址", "注册地址", example="埇桥区示例路1号"),
        _c("industry_code", "国民经济行业代码", "行业代码"),
        _c("scale", "企业规模", "规模", kind="catalog", catalog="enterprise_scales"),
        _c("risk_color", "风险等级", "风险颜色", kind="catalog", catalog="risk_colors"),
        _c(
            "standardization_grade",
            "安全生产标准化等级",
            "标准化等级",
            kind="catalog",
            catalog="standardization_grades",
        ),
        _c("principal_name", "主要负责人", "负责人", example="张三"),
        _c("principal_phone", "主要负责人电话", "负责人电话", "联系电话", example="13800000000"),
        _c("actual_controller_name", "实际控制人"),
        _c("actual_controller_phone", "实际控制人电话"),
        _c("lat", "纬度", kind="number"),
        _c("lng", "经度", kind="number"),
    ),
)

HAZARDS = Spec(
    "hazards",
    "隐患",
    (
        _c(
            "enterprise",
            "企业名称",
            "统一社会信用代码",
            "所属企业",
            "企业",
            required=True,
            kind="ref",
            example="埇桥示例机械有限公司",
        ),
        _c(
            "title",
            "隐患描述",
            "隐患名称",
            "隐患内容",
            "问题描述",
            required=True,
            example="车间安全通道堵塞",
        ),
        _c("description", "详细说明", "隐患详情", "备注"),
        _c("location", "隐患部位", "隐患位置", "部位"),
        _c(
            "level",
            "隐患等级",
            "隐患级别",
            "等级",
            required=True,
            kind="catalog",
            catalog="hazard_levels",
            example="一般事故隐患",
        ),
        _c(
            "category",
            "隐患类别",
            "隐患类型",
            "类别",
            required=True,
            kind="catalog",
            catalog="hazard_categories",
            example="物的不安全状态",
        ),
        _c(
            "source",
            "隐患来源",
            "来源",
            kind="catalog",
            catalog="hazard_sources",
            example="督导检查发现",
        ),
        _c("found_at", "发现日期", "排查日期", "检查日期", kind="date", example="2026-11-03"),
        _c("deadline", "整改期限", "整改时限", "整改完成期限", kind="date", example="2026-12-03"),
        _c("deadline_reason", "延长期限理由", "期限说明"),
    ),
)

USERS = Spec(
    "users",
    "用户",
    (
        _c("username", "用户名", "登录名", "账号", required=True, example="zhangsan"),
        _c("display_name", "姓名", "显示名称", required=True, example="张三"),
        _c(
            "role",
            "角色",
            "用户角色",
            required=True,
            kind="catalog",
            catalog="roles",
            example="业务人员",
        ),
        _c(
            "org_unit",
            "所属单位",
            "单位",
            "工作单位",
            kind="ref",
            example="区应急管理局",
            note="政府人员：所属单位名称（或编号）",
        ),
        _c(
            "enterprise",
            "所属企业",
            "企业",
            kind="ref",
            note="企业人员：统一社会信用代码或企业名称",
        ),
        _c("phone", "手机号码", "联系电话", "电话", example="13800000000"),
        _c("enforcement_cert_no", "执法证号", "执法证编号"),
        _c(
            "password",
            "初始密码",
            "密码",
            note="新用户的初始密码（至少10位，不能是常见密码）；已有用户不修改密码",
        ),
    ),
)

ORG_UNITS = Spec(
    "org_units",
    "组织单位",
    (
        _c(
            "kind",
            "单位类型",
            "类型",
            required=True,
            kind="catalog",
            catalog="unit_kinds",
            example="乡镇/街道",
        ),
        _c("name", "单位名称", "名称", required=True, example="示例镇"),
        _c(
            "region_code",
            "区划代码",
            "行政区划代码",
            example="341302109",
            note="乡镇/街道：9位区划代码",
        ),
        _c(
            "sectors",
            "行业领域",
            "监管行业",
            kind="catalog_list",
            catalog="sectors",
            note="行业部门：所监管的行业，多个用“、”分隔",
        ),
        _c("name_en", "英文名称"),
        _c("parent", "上级单位", note="默认本县（区）"),
    ),
)

INSPECTIONS = Spec(
    "inspections",
    "检查记录",
    (
        _c(
            "enterprise",
            "被检查企业",
            "企业名称",
            "统一社会信用代码",
            "所属企业",
            "企业",
            required=True,
            kind="ref",
            example="埇桥示例机械有限公司",
        ),
        _c(
            "kind",
            "检查类型",
            "检查方式",
            "检查类别",
            required=True,
            kind="catalog",
            catalog="inspection_kinds",
            example="专家指导服务",
        ),
        _c("planned_for", "检查日期", "实施日期", required=True, kind="date", example="2026-11-03"),
        _c("completed_on", "完成日期", "结束日期", kind="date", note="默认检查日期"),
        _c(
            "inspectors",
            "检查人员",
            "执法人员",
            required=True,
            example="张三、李四",
            note="用户名或姓名，多人用“、”分隔；导入人须在其中",
        ),
        _c("conducting_unit", "实施单位", "检查单位", "执法单位", kind="ref", note="默认本单位"),
        _c("campaign", "专项行动", "专项行动名称"),
        _c(
            "decision",
            "处理决定",
            "处理结果",
            kind="catalog",
            catalog="decision_kinds",
            example="未发现问题",
        ),
        _c("deadline", "整改期限", "限期整改期限", kind="date", note="责令限期整改：期限"),
        _c(
            "fine_yuan",
            "罚款金额",
            "罚款金额（元）",
            kind="number",
            note="罚款：对单位罚款金额（元）",
        ),
        _c("summary", "检查结果", "检查情况", "检查结论", "结果摘要", example="现场检查未发现问题"),
    ),
)

SPECS: dict[str, Spec] = {s.kind: s for s in (ENTERPRISES, HAZARDS, USERS, ORG_UNITS, INSPECTIONS)}
KINDS = tuple(SPECS)
