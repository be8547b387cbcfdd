"""The dispatch table as the workbook a county office circulates: a title row (the list and the
period), two header rows (the row's columns, then each indicator over its 报送 / 平台计算 / 差异
columns; a manual indicator has 报送 only), one row per assignee, the report state filled
(missing red, late orange, returned yellow), a totals row, frozen headers, A4 landscape.

Written from the same dict as the JSON answer (``dispatch.dispatch_table``); run in the bounded
spreadsheet thread pool."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import xlsxwriter

from app.core.clock import zone
from app.services.risks.lists_xlsx import XLSX

__all__ = ["XLSX", "content_disposition", "workbook"]

STATES = {
    "submitted": ("已报送", "Submitted", None),
    "late": ("逾期报送", "Late", "#FFC000"),
    "returned": ("已退回", "Returned", "#FFFF00"),
    "missing": ("未报送", "Missing", "#FF0000"),
    "pending": ("未到期", "Not yet due", None),
}
FIXED = (
    ("序号", "No.", 6),
    ("任务", "Task", 26),
    ("责任单位", "Assignee", 24),
    ("报送状态", "State", 11),
    ("报送时间", "Submitted at", 17),
)


def _value(text: str | None) -> Any:
    return None if text is None else float(Decimal(text))


def workbook(body: dict[str, Any], english: bool, tz: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    title = f"{body['task_list']['name']}  {body['period']}"
    book.set_properties({"title": title})
    border = {"border": 1, "valign": "vcenter"}
    f_title = book.add_format(
        {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
    )
    f_head = book.add_format(
        {**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9D9D9"}
    )
    f_cell = book.add_format({**border, "text_wrap": True})
    f_num = book.add_format({**border, "num_format": "0.######"})
    f_states = {
        k: book.add_format({**border, "align": "center", **({"bg_color": fill} if fill else {})})
        for k, (_, _, fill) in STATES.items()
    }
    sheet = book.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", body["period"])[:31])
    indicators = body["indicators"]
    spans = [3 if i["source"] != "manual" else 1 for i in indicators]
    last_col = len(FIXED) + sum(spans) - 1
    sheet.merge_range(0, 0, 0, max(last_col, 1), title, f_title)
    sheet.set_row(0, 28)
    for c, (zh, en, width) in enumerate(FIXED):
        sheet.merge_range(1, c, 2, c, en if english else zh, f_head)
        sheet.set_column(c, c, width)
    col = len(FIXED)
    sub = ("Submitted", "Computed", "Difference") if english else ("报送", "平台计算", "差异")
    for i, span in zip(indicators, spans, strict=True):
        name = (i.get("name_en") or i["name_zh"]) if english else i["name_zh"]
        head = f"{name}（{i['unit']}）"
        if span == 1:
            sheet.write_string(1, col, head, f_head)
        else:
            sheet.merge_range(1, col, 1, col + span - 1, head, f_head)
        for k in range(span):
            sheet.write_string(2, col + k, sub[k], f_head)
            sheet.set_column(col + k, col + k, 11)
        col += span
    row = 3
    for n, r in enumerate(body["rows"], start=1):
        who = r["unit"] or r["enterprise"] or {"name": ""}
        zh, en, _ = STATES[r["state"]]
        at = (
            r["submitted_at"].astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M")
            if r["submitted_at"]
            else ""
        )
        sheet.write_number(row, 0, n, f_cell)
        sheet.write_string(row, 1, r["task"]["name"], f_cell)
        sheet.write_string(row, 2, who["name"], f_cell)
        sheet.write_string(row, 3, en if english else zh, f_states[r["state"]])
        sheet.write_string(row, 4, at, f_cell)
        col = len(FIXED)
        for v, span in zip(r["values"], spans, strict=True):
            cells = (v["submitted"], v["computed"], v["difference"])[:span]
            for k, text in enumerate(cells):
                value = _value(text)
                if value is None:
                    sheet.write_blank(row, col + k, None, f_num)
                else:
                    sheet.write_number(row, col + k, value, f_num)
            col += span
        row += 1
    sheet.merge_range(row, 0, row, len(FIXED) - 1, "Total" if english else "合计", f_head)
    col = len(FIXED)
    for t, span in zip(body["totals"], spans, strict=True):
        value = _value(t["submitted"])
        if value is None:
            sheet.write_blank(row, col, None, f_num)
        else:
            sheet.write_number(row, col, value, f_num)
        for k in range(1, span):
            sheet.write_blank(row, col + k, None, f_num)
        col += span
    sheet.freeze_panes(3, 3)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, 2)
    sheet.set_footer("&CPage &P of &N" if english else "&C第 &P 页，共 &N 页")
    book.close()
    return out.getvalue()


def content_disposition(body: dict[str, Any]) -> str:
    name = re.sub(
        r'[\x00-\x1f\x7f/\\:*?"<>|]+', "_", f"{body['task_list']['name']}-{body['period']}"
    )
    ascii_name = f"dispatch-{body['period']}.xlsx"
    return (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name + '.xlsx', safe='')}"
    )
