"""The workbooks of imports: the template of each kind (Chinese headers, a hidden sheet of
catalog values wired as drop-down lists, one example row) and the failed rows of an import with
an error column, ready to fix and upload again. Written with xlsxwriter; cells as text (a value
is never a formula)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from app.services.imports.columns import SPECS, catalog_labels, text_of
from app.services.imports.reader import read_table

_MAX_LIST_ROWS = 2000


def template(kind: str, departments: list[str]) -> bytes:
    """The template of ``kind``; ``departments`` the caller's bureaus (a drop-down too)."""
    spec = SPECS[kind]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(f"{spec.name_zh}导入")
    values = book.add_worksheet("字典")
    head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1})
    text = book.add_format({"num_format": "@"})
    lists: dict[str, int] = {}
    for i, column in enumerate(spec.columns):
        label = column.header + ("*" if column.required else "")
        sheet.write_string(0, i, label, required if column.required else head)
        sheet.set_column(i, i, max(12, len(column.header) * 2 + 4), text)
        if column.example:
            sheet.write_string(1, i, column.example)
        options: list[str] | None = None
        if column.kind == "catalog" and column.catalog:
            options = catalog_labels(column.catalog)
        elif column.field == "enforcement_department" and departments:
            options = departments
        if options:
            col = lists.setdefault(column.field, len(lists))
            values.write_string(0, col, column.header)
            for r, option in enumerate(options[:_MAX_LIST_ROWS], start=1):
                values.write_string(r, col, option)
            letter = xl_col_to_name(col)
            source = f"=字典!${letter}$2:${letter}${len(options[:_MAX_LIST_ROWS]) + 1}"
            sheet.data_validation(
                1,
                i,
                200_000,
                i,
                {
                    "validate": "list",
                    "source": source,
                    "error_title": "取值不在字典中",
                    "error_message": f"请从下拉列表中选择{column.header}",
                },
            )
        notes = [column.note] if column.note else []
        if column.kind == "date":
            notes.append("日期：2026-11-03、2026/11/3 或 2026年11月3日")
        if notes:
            sheet.write_comment(0, i, "\n".join(notes))
    values.hide()
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def errors_workbook(kind: str, filename: str, data: bytes, errors: list[dict[str, Any]]) -> bytes:
    """The failed rows as the file had them, headers first, with the errors in a last column
    (Chinese, then English); the row number they had is in the first column."""
    spec = SPECS[kind]
    table = read_table(data, filename, spec.is_header)
    by_row: dict[int, list[str]] = defaultdict(list)
    for e in errors:
        where = f"【{e['column']}】" if e.get("column") else ""
        by_row[int(e["row"])].append(f"{where}{e['message_zh']}（{e['message_en']}）")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("错误行")
    head = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    wrong = book.add_format({"font_color": "#C00000", "text_wrap": True})
    headers = [h or "" for h in table.headers]
    # A password is never echoed back (a users import's initial passwords): its cells stay empty.
    secret = {
        i for i, h in enumerate(headers) if (c := spec.column_of(h)) and c.field == "password"
    }
    for i, h in enumerate(headers):
        sheet.write_string(0, i, h, head)
    sheet.write_string(0, len(headers), "错误（Errors）", head)
    sheet.write_string(0, len(headers) + 1, "原行号（Row）", head)
    r = 1
    for row_no, cells in table.rows:
        if row_no not in by_row:
            continue
        for i in range(len(headers)):
            value = text_of(cells[i] if i < len(cells) else None)
            if value is not None and i not in secret:
                sheet.write_string(r, i, value)
        sheet.write_string(r, len(headers), "；".join(by_row[row_no]), wrong)
        sheet.write_number(r, len(headers) + 1, row_no)
        r += 1
    sheet.set_column(len(headers), len(headers), 60)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
