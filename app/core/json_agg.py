"""Children gathered into their parent's row (PostgREST's way, STYLE.md): a correlated
subquery answering a JSON array of objects, ``json_agg(json_build_object(...))`` on PostgreSQL
and ``json_group_array(json_object(...))`` on SQLite, read back as a list of dicts with
``parse``. A list page or a detail then stays one statement however many children it shows.

The column is sent as text on both databases (no driver codec involved). Time values arrive
as text too: ``parse`` turns the keys named in ``times`` into aware UTC datetimes. Order
inside the array is not guaranteed: sort in Python.

``json_pairs(key, value)`` gathers key/value rows into one JSON object instead
(``json_object_agg`` on PostgreSQL, ``json_group_object`` on SQLite), read back with
``parse_object``: ``{}`` when there is no row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, ColumnElement, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class json_rows(FunctionElement[str]):
    """``json_rows(("key", column), ...)``: the aggregate of one JSON object per row."""

    type = String()
    inherit_cache = True
    name = "json_rows"

    def __init__(self, *pairs: tuple[str, ColumnElement[Any]]) -> None:
        args: list[Any] = []
        for key, column in pairs:
            args.extend((literal_column(f"'{key}'"), column))
        super().__init__(*args)


def _pairs(element: json_rows, compiler: Any, wrap_json: bool, **kw: Any) -> str:
    parts = []
    for arg in element.clauses:
        text = compiler.process(arg, **kw)
        if wrap_json and isinstance(getattr(arg, "type", None), JSON):
            text = f"json({text})"  # SQLite keeps JSON as text: embed it as JSON, not a string
        parts.append(text)
    return ", ".join(parts)


@compiles(json_rows, "postgresql")
def _pg(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"CAST(json_agg(json_build_object({_pairs(element, compiler, False, **kw)})) AS TEXT)"


@compiles(json_rows)
def _sqlite(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_object({_pairs(element, compiler, True, **kw)}))"


class json_pairs(FunctionElement[str]):
    """``json_pairs(key, value)``: the aggregate of the rows as one JSON object."""

    type = String()
    inherit_cache = True
    name = "json_pairs"


@compiles(json_pairs, "postgresql")
def _pg_pairs(element: json_pairs, compiler: Any, **kw: Any) -> str:
    return f"CAST(json_object_agg({compiler.process(element.clauses, **kw)}) AS TEXT)"


@compiles(json_pairs)
def _sqlite_pairs(element: json_pairs, compiler: Any, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse(text: str | None, times: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The array as dicts (none: ``[]``), the ``times`` keys as aware UTC datetimes."""
    if not text:
        return []
    rows: list[dict[str, Any]] = orjson.loads(text)
    keys = tuple(times)
    for row in rows:
        for key in keys:
            row[key] = _time(row.get(key))
    return rows


def parse_object(text: str | None) -> dict[str, Any]:
    """The object of ``json_pairs`` (no row: ``{}``), its keys sorted."""
    if not text:
        return {}
    found: dict[str, Any] = orjson.loads(text)
    return dict(sorted(found.items()))
