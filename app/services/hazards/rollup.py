"""The hazard rollup: counts kept in the same transaction as every hazard change.

The one place that writes ``hazard_rollup``. Every write path computes the key of a hazard
before and after its change (``key_of``) and calls ``apply``; a change that moves nothing (a
plan, an attachment, the overdue job's mark) costs no statement. ``rebuild`` recomputes the
whole table from the hazards (``anjian stats rebuild``, migration 0007's backfill).

The grain (measured on 1M bench hazards: 145k rows at month grain, 506k at day grain, 232k with
the category too): county, town (the enterprise's region code, first 9 digits), sector and
enforcement department of the enterprise; month of discovery in local time; level, source,
status, escalation, supervised; and for open hazards the deadline day (``NOT_OPEN`` for the
others), so ``overdue`` is a range sum for any "today".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, case, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import local_date
from app.core.config import Settings
from app.core.db import upsert_insert
from app.models import Enterprise, Hazard, HazardRollup
from app.services.hazards.workflow import OPEN

# The deadline of a hazard that is not open: never before any "today", so never overdue.
NOT_OPEN = date(9999, 12, 31)
# Statistics months are local (Asia/Shanghai, as the direct query's SQLite path assumes too).
ZONE = Settings.model_fields["timezone"].default


class EnterpriseDims(NamedTuple):
    region_code: str
    sector: str
    department_id: str


class Key(NamedTuple):
    county_code: str
    town_code: str
    sector: str
    department_id: str
    found_month: str
    level: str
    source: str
    status: str
    escalation: str
    supervised: bool
    deadline: date


KEY_COLUMNS = Key._fields


def month_of(found_at: datetime) -> str:
    return local_date(found_at, ZONE).strftime("%Y-%m")


def dims_of(ent: Any) -> EnterpriseDims:
    return EnterpriseDims(ent.region_code, ent.sector, ent.enforcement_department_id)


def key_of(h: Any, ent: EnterpriseDims) -> Key:
    """``h``: a Hazard, or any row with its columns."""
    return Key(
        county_code=ent.region_code[:6],
        town_code=ent.region_code[:9],
        sector=ent.sector,
        department_id=ent.department_id,
        found_month=month_of(h.found_at),
        level=h.level,
        source=h.source,
        status=h.status,
        escalation=h.escalation or "none",
        supervised=h.supervision_org_unit_id is not None,
        deadline=h.deadline if h.status in OPEN else NOT_OPEN,
    )


async def enterprise_dims(session: AsyncSession, enterprise_id: str) -> EnterpriseDims:
    """The enterprise's keys, read with a share lock (PostgreSQL) so that a concurrent move of the
    enterprise waits for this transaction, or this one sees the moved enterprise."""
    stmt = select(
        Enterprise.region_code, Enterprise.sector, Enterprise.enforcement_department_id
    ).where(Enterprise.id == enterprise_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    row = (await session.execute(stmt)).one()
    return EnterpriseDims(*row)


async def apply(session: AsyncSession, changes: Iterable[tuple[Key | None, Key | None]]) -> None:
    """Moves one count from each ``before`` key to its ``after`` key (``None``: created or gone)."""
    delta: Counter[Key] = Counter()
    for before, after in changes:
        if before == after:
            continue
        if before is not None:
            delta[before] -= 1
        if after is not None:
            delta[after] += 1
    await _add(session, delta)


async def _add(session: AsyncSession, delta: Counter[Key]) -> None:
    rows = [{**k._asdict(), "n": n} for k, n in sorted(delta.items()) if n]
    if not rows:
        return
    # Sorted keys: concurrent writers lock rollup rows in the same order (no deadlock).
    table = HazardRollup.__table__
    for start in range(0, len(rows), 500):
        stmt = upsert_insert(session, table).values(rows[start : start + 500])
        stmt = stmt.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS), set_={"n": table.c.n + stmt.excluded.n}
        )
        await session.execute(stmt)


_HAZARD_COLUMNS = (
    Hazard.found_at,
    Hazard.level,
    Hazard.source,
    Hazard.status,
    Hazard.escalation,
    Hazard.supervision_org_unit_id,
    Hazard.deadline,
)


async def move_enterprise(
    session: AsyncSession, enterprise_id: str, before: EnterpriseDims, after: EnterpriseDims
) -> None:
    """An enterprise's region, sector or department changed: its hazards move with it. Called
    after the enterprise's UPDATE is flushed (its row lock orders this against hazard writes)."""
    if before == after:
        return
    stmt = select(*_HAZARD_COLUMNS).where(Hazard.enterprise_id == enterprise_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Hazard)
    rows = (await session.execute(stmt)).all()
    await apply(session, ((key_of(r, before), key_of(r, after)) for r in rows))


def month_expr(dialect: str) -> Any:
    """The local month of discovery in SQL, as ``month_of`` computes it."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(ZONE, Hazard.found_at), "YYYY-MM")
    return func.strftime("%Y-%m", Hazard.found_at, "+8 hours")


async def rebuild(session: AsyncSession) -> int:
    """Recomputes the whole rollup from the hazards in one INSERT … SELECT; answers its rows."""
    dialect = session.bind.dialect.name
    is_open = Hazard.status.in_(sorted(OPEN))
    keys = [
        func.substr(Enterprise.region_code, 1, 6),
        func.substr(Enterprise.region_code, 1, 9),
        Enterprise.sector,
        Enterprise.enforcement_department_id,
        month_expr(dialect),
        Hazard.level,
        Hazard.source,
        Hazard.status,
        Hazard.escalation,
        Hazard.supervision_org_unit_id.is_not(None),
        case((is_open, Hazard.deadline), else_=literal(NOT_OPEN, Date)),
    ]
    # Grouped over a subquery's columns: PostgreSQL would not match bound parameters of the
    # same expression repeated in GROUP BY.
    rows = (
        select(*(k.label(c) for k, c in zip(keys, KEY_COLUMNS, strict=True)))
        .select_from(Hazard)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .subquery()
    )
    source = select(*rows.c, func.count()).group_by(*rows.c)
    await session.execute(delete(HazardRollup))
    await session.execute(HazardRollup.__table__.insert().from_select([*KEY_COLUMNS, "n"], source))
    return await rollup_rows(session)


async def rollup_rows(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(HazardRollup))).scalar_one())
