"""List exports (issue 16): any list as CSV or XLSX, with the list's own filters, sort and scope.

The machinery only; each list's columns and how its pages are fetched are in
``app/services/export_lists.py``.

- Rows come from the list's own service function, page after page on its keyset cursor
  (``PAGE_ROWS`` at a time), each page rendered by the list's own item function: an export
  holds exactly the fields of the JSON list for this caller, nothing more. The request's
  ``limit``, ``cursor`` and ``include_total`` do not apply (an export is the whole list).
- Each page is read in a read session of its own, closed before the page is written out: no
  connection is held while a slow client takes the bytes (the pages are separate snapshots,
  as when a client pages through the JSON list itself). The route releases its own session
  first, so a request never holds two connections. An export job reads every page in the
  job's own session (``same_reader``).
- CSV is streamed as it is fetched: UTF-8 with a BOM (so Excel opens it), ``\\r\\n`` line
  ends. XLSX is written by xlsxwriter in ``constant_memory`` mode, page by page in a worker
  thread (the per-process ``spreadsheet_limiter`` bounds how many at once), to a temporary
  file that is then streamed and deleted. Memory stays constant whatever the row count.
- Values: dates ``YYYY-MM-DD``, date-times in the county's local time (Asia/Shanghai)
  ``YYYY-MM-DD HH:MM:SS`` (XLSX: date cells with that number format), money and numbers as
  numbers, enumerations as their Chinese label (``lang=en``: the code), booleans 是/否
  (``lang=en``: true/false), lists joined with ``、``, ids by system (``external_ids``) as
  ``system:id; system2:id2``.
- Formula injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a CR is
  prefixed with ``'`` in CSV; in XLSX every text is written with ``write_string`` (never a
  formula). Numbers are numbers, never neutralised.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import anyio
from pydantic import BaseModel

from app.core.clock import local_today, zone
from app.schemas.common import ListParams

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV, "xlsx": XLSX}
PAGE_ROWS = 1000
XLSX_MAX_ROWS = 1_048_576  # per sheet, header included; more rows go on a next sheet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

ColumnKind = Literal["text", "date", "datetime", "number", "money", "bool", "enum", "pairs"]
Format = Literal["json", "csv", "xlsx"]
Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Column:
    """One column: ``path`` in the JSON list item (dotted: ``enterprise.name``), its headers,
    its kind, and for an enumeration the Chinese label of each code."""

    path: str
    zh: str
    en: str
    kind: ColumnKind = "text"
    labels: Mapping[str, str] | None = None
    parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.path.split(".")))


@dataclass(frozen=True)
class ExportSpec:
    """A list's export: ``name`` (ASCII, the fallback file name and the job's list),
    ``title`` (the Chinese name: the file name and the sheet), its columns."""

    name: str
    title: str
    columns: tuple[Column, ...]


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    total: int | None = None


# A page of the list for this caller: (reader, ListParams) -> Page. Built by export_lists.
Fetch = Callable[[Any, ListParams], Awaitable[Page]]


@dataclass
class Source:
    """Where the pages come from: ``fetch`` with a reader opened by ``open_reader`` (a fresh
    read session per page, or the job's session), sorted by ``sort``; ``between`` is awaited
    before each page after the first (an export job's check that it was not cancelled: it
    raises to stop)."""

    fetch: Fetch
    sort: str | None
    open_reader: Callable[[], Any]
    between: Callable[[], Awaitable[None]] | None = None
    first: Page | None = field(default=None)


@asynccontextmanager
async def same_reader(session: Any) -> AsyncIterator[Any]:
    """``session`` as the reader of every page (it is not closed after each)."""
    yield session


def wanted_format(format: Format | None, accept: str) -> Format:
    """``format=`` wins; else ``Accept`` naming the CSV or XLSX type; else JSON."""
    if format is not None:
        return format
    accept = accept.lower()
    if XLSX in accept:
        return "xlsx"
    if CSV in accept:
        return "csv"
    return "json"


def _get(item: Any, parts: tuple[str, ...]) -> Any:
    value = item
    for part in parts:
        if value is None:
            return None
        if type(value) is dict:
            value = value.get(part)
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            value = getattr(value, part, None)
    return value


def _local(value: datetime, tz: str) -> datetime:
    """A date-time in the county's local time, without offset (what a sheet shows)."""
    return value.astimezone(_zone(tz)).replace(tzinfo=None, microsecond=0)


@functools.cache
def _zone(tz: str) -> Any:
    return zone(tz)


def _text(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("number") or value.get("id") or "")
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)
    return str(value)


def cell(column: Column, item: Any, lang: Lang, tz: str) -> Any:
    """The value of one cell as Python: str, int/float/Decimal, date, datetime, or None."""
    value = _get(item, column.parts)
    if value is None or value == [] or value == ():
        return None
    kind = column.kind
    if kind == "text":
        return value if type(value) is str else _text(value)
    if kind in ("date", "datetime") and type(value) is str:  # an item serialised already
        value = _parse_instant(value)
    if kind == "datetime" and isinstance(value, datetime):
        return _local(value, tz)
    if kind == "date" and isinstance(value, date):
        return value if not isinstance(value, datetime) else _local(value, tz).date()
    if kind in ("number", "money") and isinstance(value, int | float | Decimal):
        return value
    if kind == "pairs" and isinstance(value, Mapping):
        return pairs_text(value)
    if kind == "bool":
        return ("true" if value else "false") if lang == "en" else ("是" if value else "否")
    if kind == "enum":
        if type(value) is str:
            return (
                value if lang == "en" or column.labels is None else column.labels.get(value, value)
            )
        codes = value if isinstance(value, list | tuple) else [value]
        if lang == "en" or column.labels is None:
            return "、".join(str(c) for c in codes)
        return "、".join(column.labels.get(str(c), str(c)) for c in codes)
    return _text(value)


def pairs_text(value: Mapping[str, Any]) -> str | None:
    """``{"city": "C-1", "prov": "P-9"}`` as ``city:C-1; prov:P-9`` (by key), None when empty."""
    if not value:
        return None
    return "; ".join(f"{k}:{v}" for k, v in sorted(value.items()))


def _parse_instant(text: str) -> Any:
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return text


def neutralised(text: str) -> str:
    """A text a spreadsheet would read as a formula, made plain text with a leading ``'``."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if kind is datetime:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind is date:
        return value.isoformat()
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    return neutralised(str(value))


def headers(spec: ExportSpec, lang: Lang) -> list[str]:
    return [c.en if lang == "en" else c.zh for c in spec.columns]


def rows_of(spec: ExportSpec, items: Sequence[Any], lang: Lang, tz: str) -> list[list[Any]]:
    return [[cell(c, item, lang, tz) for c in spec.columns] for item in items]


def file_name(spec: ExportSpec, fmt: str, tz: str) -> tuple[str, str]:
    """(the Chinese file name, its ASCII fallback): ``隐患清单_2026-12-03.xlsx``,
    ``hazards_2026-12-03.xlsx``."""
    day = local_today(tz).isoformat()
    return f"{spec.title}_{day}.{fmt}", f"{spec.name}_{day}.{fmt}"


def content_disposition(name: str, ascii_name: str) -> str:
    """``attachment`` with ``filename*`` (RFC 6266, RFC 5987 UTF-8) and an ASCII ``filename``."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---- pages -----------------------------------------------------------------------------------


def _params(sort: str | None, cursor: str | None, include_total: bool = False) -> ListParams:
    return ListParams(limit=PAGE_ROWS, cursor=cursor, include_total=include_total, sort=sort)


async def _fetch(source: Source, cursor: str | None, include_total: bool = False) -> Page:
    async with source.open_reader() as reader:
        return await source.fetch(reader, _params(source.sort, cursor, include_total))


async def first_page(source: Source) -> Page:
    """The first page with the total (whether the export is a job is decided on it); read
    before any byte is sent, so a failing read is a proper error answer."""
    source.first = await _fetch(source, None, include_total=True)
    return source.first


async def pages(source: Source) -> AsyncIterator[Page]:
    """Every page, the first one read by ``first_page`` if it was."""
    page = source.first if source.first is not None else await _fetch(source, None)
    while True:
        yield page
        if page.next_cursor is None or not page.items:
            return
        if source.between is not None:
            await source.between()
        page = await _fetch(source, page.next_cursor)


# ---- CSV -------------------------------------------------------------------------------------


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([csv_text(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def csv_stream(
    spec: ExportSpec, source: Source, lang: Lang, tz: str, counter: list[int] | None = None
) -> AsyncIterator[bytes]:
    """The CSV, page by page: the BOM and the headers, then each page's rows."""
    yield "\ufeff".encode() + _csv_chunk([headers(spec, lang)])
    async for page in pages(source):
        if counter is not None:
            counter[0] += len(page.items)
        yield _csv_chunk(rows_of(spec, page.items, lang, tz))


# ---- XLSX ------------------------------------------------------------------------------------


class XlsxWriter:
    """A workbook in ``constant_memory`` mode: rows are written in order and flushed to disk;
    text always by ``write_string`` (never a formula or a link)."""

    def __init__(self, path: str, spec: ExportSpec, lang: Lang) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": os.path.dirname(path),
            },
        )
        self.spec = spec
        self.headers = headers(spec, lang)
        self.date = self.book.add_format({"num_format": DATE_FORMAT})
        self.datetime = self.book.add_format({"num_format": DATETIME_FORMAT})
        self.money = self.book.add_format({"num_format": "0.00"})
        self.bold = self.book.add_format({"bold": True})
        self.sheets = 0
        self.row = XLSX_MAX_ROWS
        self.rows = 0

    def _new_sheet(self) -> None:
        self.sheets += 1
        title = self.spec.title if self.sheets == 1 else f"{self.spec.title}({self.sheets})"
        self.sheet = self.book.add_worksheet(title[:31])
        for col, (name, column) in enumerate(zip(self.headers, self.spec.columns, strict=True)):
            self.sheet.write_string(0, col, name, self.bold)
            width = 20 if column.kind == "datetime" else 12 if column.kind == "date" else 16
            self.sheet.set_column(col, col, width)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for values in rows:
            if self.row >= XLSX_MAX_ROWS:
                self._new_sheet()
            for col, (value, column) in enumerate(zip(values, self.spec.columns, strict=True)):
                self._cell(col, value, column)
            self.row += 1
            self.rows += 1

    def _cell(self, col: int, value: Any, column: Column) -> None:
        sheet, row = self.sheet, self.row
        if value is None:
            return
        if isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.datetime)
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            fmt = self.money if column.kind == "money" else None
            sheet.write_number(row, col, float(value), fmt)
        else:
            sheet.write_string(row, col, str(value))

    def close(self) -> None:
        if self.sheets == 0:
            self._new_sheet()
        self.book.close()


async def build_xlsx(
    spec: ExportSpec,
    source: Source,
    lang: Lang,
    tz: str,
    limiter: anyio.CapacityLimiter | None,
) -> tuple[str, int]:
    """The workbook in a temporary file (its path and row count); the caller deletes it.
    Each page is fetched (async, its own reader) and then written by a worker thread; the
    ``limiter`` is held for the whole build, so a process builds at most that many at once."""
    fd, path = tempfile.mkstemp(prefix="anjian-export-", suffix=".xlsx")
    os.close(fd)
    try:
        async with limiter if limiter is not None else _nothing():
            writer = await anyio.to_thread.run_sync(XlsxWriter, path, spec, lang)
            async for page in pages(source):
                rows = rows_of(spec, page.items, lang, tz)
                await anyio.to_thread.run_sync(writer.write_rows, rows)
            await anyio.to_thread.run_sync(writer.close)
    except BaseException:
        os.unlink(path)
        raise
    return path, writer.rows


class _nothing:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


async def build_csv_file(spec: ExportSpec, source: Source, lang: Lang, tz: str) -> tuple[str, int]:
    """The CSV in a temporary file (for an export job); its path and row count."""
    fd, path = tempfile.mkstemp(prefix="anjian-export-", suffix=".csv")
    counter = [0]
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in csv_stream(spec, source, lang, tz, counter):
                await anyio.to_thread.run_sync(fh.write, chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, counter[0]
