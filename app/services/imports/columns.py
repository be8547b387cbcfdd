"""What each kind of import reads: its columns (the API's field name and the Chinese headers
offices write), and how a cell becomes a field's value (catalog values by code or Chinese
label, dates in the forms offices type, references by a name a person knows).

A header matches a column by its field name (any case) or one of its Chinese headers, after
removing spaces, a required mark (``*``, ``＊``) and a parenthesised note (``企业名称（必填）``);
Chinese and English headers may be mixed in one row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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
    kind: str = "text"  # text | catalog | date | number | ref
    catalog: str | None = None
    example: str = ""

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
CATALOG_VALUES: dict[str, dict[str, str]] = {
    name: _values(entries) for name, entries in CATALOGS.items()
}
CATALOG_VALUES["sectors"] = SECTOR_VALUES


def catalog_labels(name: str) -> list[str]:
    """The Chinese labels a template's drop-down offers."""
    if name == "sectors":
        return [s.name_zh for s in SECTORS]
    return [e.name_zh for e in CATALOGS[name]]


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
        values = CATALOG_VALUES[column.catalog or ""]
        key = text.replace(" ", "").replace("\u3000", "")
        code = values.get(key) or values.get(text.lower())
        if code is None:
            raise CellError(f"取值不在字典中：{text}|Not a value of {column.catalog}: {text}")
        return code
    return text


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

SPECS: dict[str, Spec] = {s.kind: s for s in (ENTERPRISES, HAZARDS)}
KINDS = tuple(SPECS)
