"""Reads on the driver: a Core ``select`` compiled once per shape, sent by asyncpg directly.

A read-only request (GET/HEAD, autocommit, ``app.core.db``) spends most of its time in
SQLAlchemy's per-execution machinery, not in the database: about 250 µs of CPU per statement
against 100 µs for asyncpg alone (issue 10). ``rows`` keeps SQLAlchemy for what it is good at
(building the statement, its cache key, compiling it once, the types' bind and result
processors) and hands the compiled text and its positional parameters to the asyncpg
connection the session already holds. The answer is the same rows, as ``Record`` mappings.

The driver is used only where it cannot change the meaning: PostgreSQL through asyncpg, on a
connection in autocommit (nothing of a transaction to bypass). Anywhere else (SQLite, a write
request's transaction) the same statement goes through ``session.execute``. Cursor events are
dispatched as SQLAlchemy would (the statement counter of the tests, `make bench`'s capture), and
a driver error is translated, the pool invalidated on a disconnect, by SQLAlchemy's own handler,
so a dead connection is the same ``DBAPIError`` (503, or the read's one retry) as anywhere else.

It relies on SQLAlchemy 2.1's compile-with-cache internals (``_compile_w_cache``), hence the
``sqlalchemy>=2.1,<2.2`` pin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.sqltypes import NumericCommon
from sqlalchemy.util import LRUCache, greenlet_spawn

# Compiled statements per (dialect, cache key); each carries its plan (below).
_COMPILED: LRUCache[Any, Any] = LRUCache(1000)
_PLAN = "_anjian_read_plan"


class Record(dict[str, Any]):
    """One row by column name, as a mapping (``row["id"]``) and as attributes (``row.id``).
    Attributes lose to the dict's own methods: a column named ``items``, ``keys``, ``values``,
    ``get`` … is read as ``row["items"]``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Plan:
    """What executing a compiled statement needs, derived once per compiled statement."""

    __slots__ = ("binds", "expanding", "keys", "order", "results", "sql")

    def __init__(self, compiled: Any, dialect: Any) -> None:
        self.sql: str = compiled.string
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.binds: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)
        self.expanding = bool(compiled.literal_execute_params or compiled.post_compile_params)
        columns = compiled._result_columns
        self.keys: tuple[str, ...] = tuple(c.keyname for c in columns)
        procs = (_result_processor(c.type, dialect) for c in columns)
        # Only the columns that need one: a page of 50 rows has 1,000 values and few of them.
        self.results: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, proc) for i, proc in enumerate(procs) if proc is not None
        )

    def shape(self, records: Sequence[Any]) -> list[Record]:
        keys, results = self.keys, self.results
        if not results:
            return [Record(zip(keys, r, strict=True)) for r in records]
        out = []
        for r in records:
            values = list(r)
            for i, proc in results:
                value = values[i]
                if value is not None:
                    values[i] = proc(value)
            out.append(Record(zip(keys, values, strict=True)))
        return out


def _result_processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The type's result processor on this dialect. asyncpg's numeric processors need the
    server's type of the column, which a plain fetch does not report: asyncpg already answers
    ``Decimal`` for ``numeric`` and ``float`` for ``double precision``, so a numeric column is
    only brought to the Python type its SQLAlchemy type promises."""
    if dialect.driver in getattr(type_, "passthrough_drivers", ()):
        return None  # the type says the driver already answers its values as it would
    impl = getattr(type_, "impl_instance", type_)
    if isinstance(impl, NumericCommon):
        if not impl.asdecimal:
            return float
        return lambda v: v if isinstance(v, Decimal) else Decimal(str(v))
    return type_._cached_result_processor(dialect, None)


Reader = AsyncSession | AsyncConnection


async def _connection(reader: Reader) -> AsyncConnection:
    return await reader.connection() if isinstance(reader, AsyncSession) else reader


def _plan_of(compiled: Any, dialect: Any) -> _Plan:
    plan: _Plan | None = compiled.__dict__.get(_PLAN)
    if plan is None:
        plan = _Plan(compiled, dialect)
        compiled.__dict__[_PLAN] = plan
    return plan


async def rows(
    reader: Reader, stmt: Select[Any], params: dict[str, Any] | None = None
) -> list[Record]:
    """Every row of ``stmt`` as ``Record`` mappings keyed by the selected columns' names;
    ``params`` are the values of its unvalued ``bindparam``s. ``reader`` is the request's
    session or a connection."""
    return await _read(reader, stmt, params, lambda dialect: _compile(stmt, dialect))


class Prepared:
    """A statement built once, its values left as unvalued ``bindparam``s, and compiled once
    per dialect: a call costs neither building the statement nor its cache key."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._compiled: dict[Any, tuple[Any, Any, Any]] = {}  # by dialect

    async def rows(self, reader: Reader, params: dict[str, Any]) -> list[Record]:
        return await _read(reader, self.stmt, params, self._compiled_for)

    def _compiled_for(self, dialect: Any) -> tuple[Any, Any, Any]:
        done = self._compiled.get(dialect)
        if done is None:
            done = self._compiled[dialect] = _compile(self.stmt, dialect)
        return done


def _compile(stmt: Select[Any], dialect: Any) -> tuple[Any, Any, Any]:
    """The compiled statement (from the cache by its key), its extracted and collected values."""
    compiled, extracted, collected, _ = stmt._compile_w_cache(
        dialect, compiled_cache=_COMPILED, column_keys=[], for_executemany=False
    )
    return compiled, extracted, collected


async def _read(
    reader: Reader,
    stmt: Select[Any],
    params: dict[str, Any] | None,
    compiled_for: Callable[[Any], tuple[Any, Any, Any]],
) -> list[Record]:
    conn = await _connection(reader)
    adapted = (await conn.get_raw_connection()).dbapi_connection
    if not _on_driver(conn, adapted):
        result = await reader.execute(stmt, params)
        return [Record(m) for m in result.mappings()]
    return await _fetch(conn, adapted, *compiled_for(conn.dialect), params)


class PerShape:
    """One ``Prepared`` per shape of a statement (e.g. the caller's scope rule), built the
    first time a shape is met; shapes are few (``app.auth.scope.enterprise_scope``)."""

    def __init__(self, build: Callable[[Any], Select[Any]]) -> None:
        self._build = build
        self._prepared: dict[Any, Prepared] = {}

    def __getitem__(self, shape: Any) -> Prepared:
        prepared = self._prepared.get(shape)
        if prepared is None:
            prepared = self._prepared[shape] = Prepared(self._build(shape))
        return prepared


def _on_driver(conn: AsyncConnection, adapted: Any) -> bool:
    return conn.dialect.driver == "asyncpg" and bool(getattr(adapted, "autocommit", False))


async def _fetch(
    conn: AsyncConnection,
    adapted: Any,
    compiled: Any,
    extracted: Any,
    collected: Any,
    params: dict[str, Any] | None,
) -> list[Record]:
    plan = _plan_of(compiled, conn.dialect)
    values = compiled.construct_params(
        params, extracted_parameters=extracted, escape_names=False, _collected_params=collected
    )
    sql, order, binds = plan.sql, plan.order, plan.binds
    if plan.expanding:  # IN lists: the text and positions depend on the values' count
        state = compiled._process_parameters_for_postcompile(values)
        sql, order, values = state.statement, state.positiontup, state.parameters
        binds = {**binds, **state.processors}
    args = tuple(binds[k](values[k]) if k in binds else values[k] for k in order)
    sync = conn.sync_connection
    events = sync._has_events or sync.engine._has_events
    if events:
        sync.dispatch.before_cursor_execute(sync, None, sql, args, None, False)
    try:
        records = await adapted.driver_connection.fetch(sql, *args)
    except Exception as exc:
        await greenlet_spawn(_raise_translated, sync, adapted, exc, sql, args)
        raise  # not reached: the handler always raises
    except BaseException as exc:  # cancelled mid-statement: as SQLAlchemy, never reuse it
        await _invalidate(sync, exc)
        raise
    if events:
        sync.dispatch.after_cursor_execute(sync, None, sql, args, None, False)
    return plan.shape(records)


def _raise_translated(sync: Any, adapted: Any, exc: Exception, sql: str, args: Any) -> None:
    """The driver's error as SQLAlchemy raises it (``DBAPIError``, pool invalidated on a
    disconnect), by the adapter's translation and the connection's own handler. An error that
    is not the driver's (a socket reset, say) is raised as it is, as SQLAlchemy's own execution
    raises it, after the connection it broke is dropped."""
    try:
        adapted._handle_exception(exc)
    except Exception as translated:
        if not isinstance(translated, sync.dialect.loaded_dbapi.Error):
            sync.invalidate(translated)
            raise translated from None
        sync._handle_dbapi_exception(translated, sql, args, None, None)
    raise exc


async def _invalidate(sync: Any, exc: BaseException) -> None:
    try:
        await greenlet_spawn(sync.invalidate, exc)
    except Exception:  # the original exception is what matters
        pass
