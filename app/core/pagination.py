"""Keyset pagination with opaque cursors; no OFFSET anywhere."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core import reads
from app.core.dates import parse_date, parse_datetime
from app.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Sort:
    key: str
    column: InstrumentedAttribute[Any]
    descending: bool


def sort_values(keys: Iterable[str]) -> list[str]:
    """Every accepted ``sort`` value of a list: each key, ascending and (``-key``) descending."""
    return [v for k in keys for v in (k, f"-{k}")]


def parse_sort(
    raw: str | None, allowed: dict[str, InstrumentedAttribute[Any]], default: str
) -> Sort:
    value = raw or default
    descending = value.startswith("-")
    key = value.removeprefix("-")
    if key not in allowed:
        choices = ", ".join(sorted(allowed))
        raise ValidationFailed.field(
            "sort",
            f"排序字段应为：{choices}（可加前缀 -）",
            f"sort must be one of: {choices} (optionally prefixed by -)",
        )
    return Sort(key=value, column=allowed[key], descending=descending)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode_value(column: InstrumentedAttribute[Any], raw: Any) -> Any:
    # A TypeDecorator (UTCDateTime) reports ``object``; the type it wraps knows better.
    col_type = getattr(column.type, "impl_instance", column.type)
    try:
        python_type = col_type.python_type
    except NotImplementedError:
        return raw
    if raw is None:
        return None
    # The same strict, bounded parsers as every request date: a forged cursor cannot smuggle in
    # 0001-01-01T00:00+14:00 (which overflows on the way to UTC) or a naive time.
    if python_type is datetime:
        return parse_datetime(raw)
    if python_type is date:
        return parse_date(raw)
    if python_type in (int, float, str) and not isinstance(raw, python_type):
        raise ValueError("cursor value type")
    return raw


def encode_cursor(sort: Sort, value: Any, row_id: str) -> str:
    payload = json.dumps([sort.key, _encode_value(value), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, raw, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if key != sort.key or not isinstance(row_id, str):
            raise ValueError("cursor for another sort")
        return _decode_value(sort.column, raw), row_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed.field(
            "cursor",
            "分页游标无效或与排序方式不符",
            "The cursor is invalid or belongs to another sort order",
        ) from exc


def _after(
    sort: Sort, id_column: InstrumentedAttribute[Any], value: Any, row_id: str
) -> list[ColumnElement[bool]]:
    """The rows after the cursor, as conditions to read in turn (usually one): each a range
    of the (col, id) index. A row-value comparison ``(col, id) > (value, id)`` is such a range;
    the equivalent ``col > v OR (col = v AND id > i)`` makes PostgreSQL walk the index from its
    start: 685 ms instead of 0.1 ms for a page 70 000 rows deep (bench/enterprises_list.py).

    A nullable column sorts NULL after every value (PostgreSQL's own order, so its index serves
    both directions). A comparison with NULL is unknown, so the NULL rows are a range of their
    own, read after (ascending) or before (descending) the values: an ``OR`` of the two would
    again walk the index from its start (15 ms instead of 0.05 ms at 100 000 rows)."""
    key = tuple_(sort.column, id_column)
    if not _nullable(sort.column):
        return [key < (value, row_id) if sort.descending else key > (value, row_id)]
    col = sort.column
    if value is None:
        if sort.descending:
            return [and_(col.is_(None), id_column < row_id), col.is_not(None)]
        return [and_(col.is_(None), id_column > row_id)]
    if sort.descending:
        return [key < (value, row_id)]
    return [key > (value, row_id), col.is_(None)]


def _nullable(column: InstrumentedAttribute[Any]) -> bool:
    return bool(getattr(getattr(column, "expression", column), "nullable", False))


def _order(sort: Sort, id_column: InstrumentedAttribute[Any]) -> tuple[Any, Any]:
    col = sort.column
    if _nullable(col):
        if sort.descending:
            return col.desc().nulls_first(), id_column.desc()
        return col.asc().nulls_last(), id_column.asc()
    return (col.desc(), id_column.desc()) if sort.descending else (col.asc(), id_column.asc())


@dataclass
class PageResult:
    rows: list[Any]
    next_cursor: str | None
    total: int | None


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    sort: Sort,
    id_column: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
    include_total: bool,
) -> PageResult:
    """``stmt`` selects columns and carries every filter; ordering and the window are added here."""
    total = None
    if include_total:
        count = select(func.count().label("n")).select_from(stmt.order_by(None).subquery())
        total = (await reads.rows(session, count))[0]["n"]
    order = _order(sort, id_column)
    if not cursor:
        rows = await reads.rows(session, stmt.order_by(*order).limit(limit + 1))
    else:
        value, row_id = decode_cursor(sort, cursor)
        rows = []
        for window in _after(sort, id_column, value, row_id):  # the next only if one is short
            rows += await reads.rows(
                session, stmt.where(window).order_by(*order).limit(limit + 1 - len(rows))
            )
            if len(rows) > limit:
                break
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, last[sort.column.key], last[id_column.key])
    return PageResult(rows=rows, next_cursor=next_cursor, total=total)
