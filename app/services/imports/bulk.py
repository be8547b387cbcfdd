"""Enterprise rows a chunk at a time: the same rules as the row-by-row path, with the database
asked once per chunk instead of five to seven times per row.

A chunk's rows are read and checked first (``rows.enterprise_key``); then one statement finds
the enterprises their credit codes name (with whether each lies in the caller's scope) and one
the external ids they cite. New enterprises are checked by the pure forms of the enterprise
service's own rules (region, bureau, scope after the write) and inserted by one statement in a
savepoint; an existing enterprise a row changes goes through the service's update (its
rollups and change records), one row at a time, as do all the chunk's new rows again if the
insert meets a constraint (a credit code or an external id another writer took meanwhile):
that row then gets the row-by-row path's own error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import anyio
import asyncpg
from sqlalchemy import String, Table, any_, bindparam, case, insert, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.scope import enterprise_would_be_visible, visible_enterprises
from app.core.errors import AppError
from app.core.ids import new_id
from app.models import Change, Enterprise, ExternalId
from app.models.base import utcnow
from app.services import enterprises as enterprise_service
from app.services.changes import record as change_record
from app.services.imports import rows as row_rules
from app.services.imports.rows import EnterpriseKey, RowContext, RowError


@dataclass(slots=True)
class Row:
    """A row of the file read into fields: its number as the spreadsheet shows it."""

    row: int
    values: dict[str, Any]
    external: dict[str, str]
    # Enterprises, made by ``prepare`` while the chunk is read: the row read alone (or its
    # error), and the columns it would create (or the model's error): made for every row,
    # used for those whose credit code is new.
    read: EnterpriseKey | RowError | None = None
    columns: dict[str, Any] | RowError | None = None


Outcome = str | RowError


@dataclass(slots=True)
class _New:
    index: int
    key: EnterpriseKey
    external: dict[str, str]
    columns: dict[str, Any]


async def start(ctx: RowContext) -> None:
    """What ``prepare`` reads besides the rows, read once before the first chunk."""
    if ctx.counties is None:
        ctx.counties = await enterprise_service.served_counties(ctx.session)


def prepare(ctx: RowContext, rows: list[Row]) -> None:
    """What a chunk's rows are without the database, made while the chunk is read (in the
    reading thread, while the chunk before it is written: ``ctx`` is only read): each row
    read alone, and the enterprise it would create if its credit code is new, checked."""
    bureaus = set(ctx.departments.values())
    for r in rows:
        try:
            r.read = key = row_rules.read_enterprise(ctx, r.values)
        except RowError as exc:
            r.read = exc
            continue
        try:
            r.columns = _new_columns(ctx, key, bureaus)
        except RowError as exc:
            r.columns = exc


@dataclass(frozen=True, slots=True)
class Prepare:
    """A kind's work on its rows before the database: ``start`` once on the loop, ``rows`` on
    each chunk in the thread that reads it."""

    start: Callable[[RowContext], Awaitable[None]]
    rows: Callable[[RowContext, list[Row]], None]


PREPARE: dict[str, Prepare] = {"enterprises": Prepare(start, prepare)}


async def enterprise_chunk(ctx: RowContext, rows: list[Row]) -> list[Outcome]:
    """Each row's outcome (``created``, ``updated``, ``unchanged``) or its error, in order."""
    session, p = ctx.session, ctx.p
    out: list[Outcome | None] = [None] * len(rows)
    keys: dict[int, EnterpriseKey] = {}
    for i, r in enumerate(rows):
        try:
            if isinstance(r.read, RowError):
                raise r.read
            keys[i] = row_rules.enterprise_key(ctx, r.values, r.row, r.read)
        except RowError as exc:
            out[i] = exc
    if not keys:
        return [o for o in out if o is not None]
    codes = [k.code for k in keys.values()]
    in_scope = case((visible_enterprises(p), True), else_=False).label("in_scope")
    found = {
        r.credit_code: r
        for r in (
            await session.execute(
                select(*Enterprise.__table__.c, in_scope).where(_one_of(session, codes))
            )
        ).all()
    }
    pairs = {(s, e) for i in keys for s, e in rows[i].external.items()}
    named: dict[tuple[str, str], str] = {}
    if pairs:
        named = {
            (r.system, r.external_id): r.object_id
            for r in await session.execute(
                select(ExternalId.system, ExternalId.external_id, ExternalId.object_id).where(
                    ExternalId.object_type == "enterprise",
                    tuple_(ExternalId.system, ExternalId.external_id).in_(sorted(pairs)),
                )
            )
        }
    await start(ctx)
    fresh, later = await anyio.to_thread.run_sync(_plan, ctx, rows, keys, found, named, out)
    for i, key, existing_id, known in later:
        external = rows[i].external
        try:
            if key is not None:
                out[i] = await _one(ctx, key, existing_id, external, known)
            else:
                await row_rules.record_external(session, "enterprise", existing_id, external)
                out[i] = "updated"
        except RowError as exc:
            out[i] = exc
    if fresh:
        await _insert(ctx, fresh, rows, out)
    return [o for o in out if o is not None]  # every row has its outcome by now


def _one_of(session: AsyncSession, codes: list[str]) -> Any:
    """``credit_code IN (…)``; on PostgreSQL ``= ANY($1)``, one array parameter: the 2,000
    parameters of an IN would be rendered, sent and planned again for every chunk."""
    if session.get_bind().dialect.name == "postgresql":
        return Enterprise.credit_code == any_(bindparam("codes", codes, type_=ARRAY(String)))
    return Enterprise.credit_code.in_(codes)


_Later = tuple[int, EnterpriseKey | None, str, str | None]  # a row whose write needs the database


def _plan(
    ctx: RowContext,
    rows: list[Row],
    keys: dict[int, EnterpriseKey],
    found: dict[str, Any],
    named: dict[tuple[str, str], str],
    out: list[Any],
) -> tuple[list[_New], list[_Later]]:
    """What each read row does, decided on what the chunk's statements found, without the
    database (in a thread, off the loop): the new enterprises' columns (made by ``prepare``)
    and the rows' errors and ``unchanged`` into ``out``; the existing enterprises a row changes
    (with its key) or gives external ids (key None) answered, in row order, for the loop."""
    bureaus = set(ctx.departments.values())
    fresh: list[_New] = []
    later: list[_Later] = []
    now = utcnow()
    for i, key in keys.items():
        r = rows[i]
        try:
            known_ids = (
                {named[(s, e)] for s, e in r.external.items() if (s, e) in named}
                if r.external
                else set()
            )
            if len(known_ids) > 1:
                raise RowError(
                    None,
                    code="external_id_conflict",
                    zh="各外部编号指向不同的记录",
                    en="The external ids name different records",
                )
            known = known_ids.pop() if known_ids else None
            existing = found.get(key.code)
            if existing is None:
                row_rules.external_conflict(known, None)
                columns = r.columns if r.columns is not None else _new_columns(ctx, key, bureaus)
                if isinstance(columns, RowError):
                    raise columns
                columns.update(version=1, created_at=now, updated_at=now)
                fresh.append(_New(i, key, r.external, columns))
                out[i] = "created"
                continue
            if not existing.in_scope:
                raise row_rules.outside_enterprise()
            row_rules.external_conflict(known, existing.id)
            if row_rules.enterprise_changes(key, existing):
                later.append((i, key, existing.id, known))
            elif known is None and r.external:
                later.append((i, None, existing.id, None))
            else:
                out[i] = "unchanged"
        except RowError as exc:
            out[i] = exc
    return fresh, later


def _new_columns(ctx: RowContext, key: EnterpriseKey, bureaus: set[str]) -> dict[str, Any]:
    """The columns of the enterprise a row would create, with its id, checked by the rules
    ``create_enterprise`` applies, in its order (an external id naming another record comes
    first: checked by the caller)."""
    columns = row_rules.new_columns(ctx, key)
    region_code, sector = columns["region_code"], columns["sector"]
    department = columns["enforcement_department_id"]
    if not enterprise_service.region_allowed(ctx.counties or [], ctx.p, region_code):
        raise RowError(
            "region_code",
            code="region_outside_county",
            zh="区划代码不在本县（区）范围内",
            en="region_code lies outside the county",
        )
    if department not in bureaus:
        raise RowError(
            "enforcement_department_id",
            code="validation_error",
            zh="日常执法监管部门应为本县（区）的行业部门",
            en="enforcement_department_id must be a bureau of the county",
        )
    if not enterprise_would_be_visible(
        ctx.p, region_code=region_code, sector=sector, enforcement_department_id=department
    ):
        raise RowError(
            None,
            code="outside_scope",
            zh="企业不在本单位管辖范围内",
            en="The enterprise would lie outside your jurisdiction",
        )
    columns["id"] = new_id()
    return columns


async def _insert(ctx: RowContext, fresh: list[_New], rows: list[Row], out: list[Any]) -> None:
    session = ctx.session
    externals = [
        {
            "id": new_id(),
            "object_type": "enterprise",
            "system": s,
            "external_id": e,
            "object_id": n.columns["id"],
            "created_at": n.columns["created_at"],
        }
        for n in fresh
        for s, e in n.external.items()
    ]
    try:
        async with session.begin_nested():
            created = [n.columns for n in fresh]
            await _write(session, Enterprise.__table__, created)
            if externals:
                await _write(session, ExternalId.__table__, externals)
            # Written by Core, unseen by the session's events: their change rows (the feed)
            # written here, in the same savepoint, from the columns just written.
            await _write_records(
                session,
                Change.__table__,
                change_record.CREATED_COLUMNS,
                change_record.created_enterprises(created),
            )
        return
    except (IntegrityError, asyncpg.IntegrityConstraintViolationError):
        pass  # another writer took a code or an id: each row again, with its own error
    for n in fresh:
        try:
            async with session.begin_nested():
                out[n.index] = await row_rules.write_enterprise_key(
                    ctx, n.key, rows[n.index].external
                )
        except RowError as exc:
            out[n.index] = exc
        except AppError as exc:
            out[n.index] = row_rules.app_error(exc)


async def _write(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows into a table in the session's transaction: by COPY on PostgreSQL (the fastest way
    in; the same constraints apply), by one multi-row insert elsewhere. Each row names every
    column (no default is filled in here)."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(table), rows)
        return
    names = tuple(c.name for c in table.columns)
    record = itemgetter(*names)
    await _write_records(session, table, names, [record(r) for r in rows])


async def _write_records(
    session: AsyncSession, table: Table, names: tuple[str, ...], records: list[tuple[Any, ...]]
) -> None:
    """Records of the named columns into a table in the session's transaction, as ``_write``
    (the columns not named take their defaults)."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(table), [dict(zip(names, r, strict=True)) for r in records])
        return
    raw = (await connection.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table.name, columns=list(names), records=records)


async def _one(
    ctx: RowContext, key: EnterpriseKey, ent_id: str, external: dict[str, str], known: str | None
) -> str:
    """An existing enterprise the row changes: through the service's update, in a savepoint."""
    existing = await ctx.session.get(Enterprise, ent_id)
    try:
        async with ctx.session.begin_nested():
            return await row_rules.write_enterprise(ctx, key, existing, external, known)
    except AppError as exc:
        raise row_rules.app_error(exc) from None
