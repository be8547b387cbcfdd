"""The three lists as the workbook an enterprise prints and files: a title row with the
enterprise and the list, headers, one row per measure with the point's columns merged over
its rows, the level cell filled with the level's colour, frozen headers, A4 landscape fitted
to the page width with the title and headers repeated on every page.

Written from the same dict as the JSON answer (``lists.risk_list``), so the two never differ.
CPU work: the router runs ``workbook`` in the bounded spreadsheet thread pool."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import xlsxwriter

from app.core.clock import zone

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The fill of the level cell (RGB) and its font: the four colours of 安全风险分级管控.
LEVEL_FILLS: dict[str, tuple[str, str]] = {
    "red": ("#FF0000", "#FFFFFF"),
    "orange": ("#FFA500", "#000000"),
    "yellow": ("#FFFF00", "#000000"),
    "blue": ("#0070C0", "#FFFFFF"),
}
LEVEL_COLOURS: dict[str, tuple[str, str]] = {
    "red": ("红", "red"),
    "orange": ("橙", "orange"),
    "yellow": ("黄", "yellow"),
    "blue": ("蓝", "blue"),
}

Group = dict[str, Any]
Row = dict[str, Any] | None  # None: a point without measures still takes one row


@dataclass(frozen=True, slots=True)
class Column:
    zh: str
    en: str
    width: float
    value: Callable[[Group, Row, bool], Any]
    per_point: bool = True  # merged over the point's rows
    level: bool = False  # filled with the level's colour


def level_text(group: Group, english: bool) -> str:
    zh, en = LEVEL_COLOURS[group["level"]]
    return f"{group['level_label']} ({en})" if english else f"{group['level_label']}（{zh}）"


def responsible_text(group: Group, english: bool) -> str:
    who = group["responsible"]
    if who is None:
        return ""
    if not who["post"]:
        return who["person"]
    return f"{who['person']} ({who['post']})" if english else f"{who['person']}（{who['post']}）"


def _joined(items: list[dict[str, str]], english: bool) -> str:
    return ("; " if english else "；").join(i["label"] for i in items)


def _person(g: Group, _: Row, __: bool) -> str:
    return g["responsible"]["person"] if g["responsible"] else ""


def _post(g: Group, _: Row, __: bool) -> str:
    return (g["responsible"] or {}).get("post") or ""


NAME = Column("风险点名称", "Risk point", 26, lambda g, _, __: g["name"])
LEVEL = Column("风险等级", "Risk level", 14, lambda g, _, en: level_text(g, en), level=True)
CONTROL = Column("管控层级", "Control level", 10, lambda g, _, __: g["control_level_label"])
ACCIDENTS = Column(
    "可能导致的事故类型",
    "Possible accidents",
    20,
    lambda g, _, en: _joined(g["accident_types"], en),
)
RESPONSIBLE = Column("责任人", "Responsible", 16, lambda g, _, en: responsible_text(g, en))

COLUMNS: dict[str, tuple[Column, ...]] = {
    "responsibility": (
        NAME,
        Column("类型", "Kind", 12, lambda g, _, __: g["kind_label"]),
        Column("所在位置", "Location", 22, lambda g, _, __: g["location_text"] or ""),
        LEVEL,
        CONTROL,
        Column("责任人", "Responsible person", 12, _person),
        Column("岗位/职务", "Post", 14, _post),
        Column("评审日期", "Reviewed", 12, lambda g, _, __: g["reviewed_at"]),
    ),
    "measures": (
        NAME,
        LEVEL,
        Column(
            "危险有害因素",
            "Hazard factors",
            22,
            lambda g, _, en: _joined(g["hazard_factors"], en),
        ),
        ACCIDENTS,
        CONTROL,
        RESPONSIBLE,
        Column(
            "措施类别",
            "Measure kind",
            12,
            lambda _, r, __: r["kind_label"] if r else "",
            per_point=False,
        ),
        Column("管控措施", "Control measure", 44, lambda _, r, __: r["text"] if r else "", False),
    ),
    "emergency": (
        NAME,
        LEVEL,
        ACCIDENTS,
        RESPONSIBLE,
        Column(
            "应急处置措施", "Emergency measure", 56, lambda _, r, __: r["text"] if r else "", False
        ),
    ),
}
NUMBER = Column("序号", "No.", 6, lambda g, _, __: None)  # the point's number, 1, 2, …
TITLE_ROW, NOTE_ROW, HEADER_ROW = 0, 1, 2
FIRST_DATA_ROW = 3


def columns(kind: str) -> tuple[Column, ...]:
    return (NUMBER, *COLUMNS[kind])


def headers(kind: str, english: bool) -> list[str]:
    return [c.en if english else c.zh for c in columns(kind)]


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"border": 1, "valign": "vcenter", "text_wrap": True, "font_size": 10}
        self.title = book.add_format({"bold": True, "font_size": 16, "align": "center"})
        self.title.set_align("vcenter")
        self.note = book.add_format({"font_size": 9, "align": "right", "valign": "vcenter"})
        self.header = book.add_format(
            {**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"}
        )
        self.cell = book.add_format(base)
        self.center = book.add_format({**base, "align": "center"})
        self.date = book.add_format({**base, "align": "center", "num_format": "yyyy-mm-dd"})
        self.levels = {
            level: book.add_format(
                {**base, "align": "center", "bold": True, "bg_color": fill, "font_color": font}
            )
            for level, (fill, font) in LEVEL_FILLS.items()
        }


def _put(sheet: Any, rows: tuple[int, int], col: int, value: Any, fmt: Any) -> None:
    """One cell, or a merged range over the point's rows. Text is always written as text (the
    workbook also turns off formulas and links from strings: no spreadsheet injection)."""
    first, last = rows
    if last > first:
        sheet.merge_range(first, col, last, col, None, fmt)
    if value is None:
        sheet.write_blank(first, col, None, fmt)
    elif isinstance(value, int):
        sheet.write_number(first, col, value, fmt)
    elif isinstance(value, date):
        sheet.write_datetime(first, col, datetime.combine(value, datetime.min.time()), fmt)
    else:
        sheet.write_string(first, col, str(value), fmt)


def workbook(body: dict[str, Any], english: bool, tz: str) -> bytes:
    """The ``.xlsx`` of one list (``RiskListOut`` as a dict)."""
    kind = body["list"]
    cols = columns(kind)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties({"title": f"{body['enterprise']['name']} {body['title']}"})
    f = _Formats(book)
    sheet = book.add_worksheet(_sheet_name(body["title"]))
    last_col = len(cols) - 1

    sheet.merge_range(
        TITLE_ROW, 0, TITLE_ROW, last_col, f"{body['enterprise']['name']}  {body['title']}", f.title
    )
    sheet.set_row(TITLE_ROW, 30)
    at = body["generated_at"].astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M")
    points = len(body["groups"])
    note = (
        f"Generated {at} ({tz}) · {points} risk point(s)"
        if english
        else f"生成时间：{at}（{tz}）　风险点 {points} 个"
    )
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, last_col, note, f.note)
    for c, (col, text) in enumerate(zip(cols, headers(kind, english), strict=True)):
        sheet.write_string(HEADER_ROW, c, text, f.header)
        sheet.set_column(c, c, col.width)

    row = FIRST_DATA_ROW
    one_row_per_point = all(c.per_point for c in cols)  # the responsibility list
    for number, group in enumerate(body["groups"], start=1):
        measures: list[Row] = [None] if one_row_per_point else (list(group["rows"]) or [None])
        span = (row, row + len(measures) - 1)
        for c, col in enumerate(cols):
            if col is NUMBER:
                _put(sheet, span, c, number, f.center)
            elif col.per_point:
                value = col.value(group, None, english)
                fmt = (
                    f.levels[group["level"]]
                    if col.level
                    else (f.date if isinstance(value, date) else f.cell)
                )
                _put(sheet, span, c, value, fmt)
            else:
                for i, measure in enumerate(measures):
                    _put(sheet, (row + i, row + i), c, col.value(group, measure, english), f.cell)
        row = span[1] + 1

    sheet.freeze_panes(FIRST_DATA_ROW, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # the width of one page, as many pages down as it takes
    sheet.repeat_rows(TITLE_ROW, HEADER_ROW)
    sheet.center_horizontally()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer("&CPage &P of &N" if english else "&C第 &P 页，共 &N 页")
    sheet.print_area(TITLE_ROW, 0, max(row - 1, HEADER_ROW), last_col)
    book.close()
    return out.getvalue()


_NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_NOT_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _sheet_name(title: str) -> str:
    return _NOT_IN_SHEET_NAME.sub(" ", title)[:31]


def content_disposition(body: dict[str, Any], tz: str) -> str:
    """``attachment`` with the Chinese name in ``filename*`` (RFC 6266, RFC 5987 UTF-8
    percent-encoding) and an ASCII ``filename`` for clients that know only that."""
    day = body["generated_at"].astimezone(zone(tz)).date().isoformat()
    name = _NOT_IN_FILENAME.sub("_", f"{body['enterprise']['name']}-{body['title']}-{day}")
    ascii_name = f"risk-list-{body['list']}-{day}.xlsx"
    return (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name + '.xlsx', safe='')}"
    )
