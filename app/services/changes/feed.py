"""Reading the change feed (issue 17): ``GET /api/v1/changes`` and ``/changes/head``.

Order and completeness. A change row is written in the transaction of its change
(app/services/changes/record.py). On PostgreSQL transactions commit out of order, so a reader
that took rows by ``seq`` alone could pass a row whose transaction had not committed yet and
never see it. Each row carries its transaction's id (``xid``, ``pg_current_xact_id()``), and
the feed returns only rows of transactions older than ``pg_snapshot_xmin(pg_current_snapshot())``
— every one of those has ended, so the set of such rows never grows — in ``(xid, seq)`` order.
A transaction still running has an id at or above that horizon, and every later one a greater
id, so a row that becomes visible later always sorts after every row already returned: no
gaps, and no row twice. On SQLite writers are serialised (a writer holds the database's write
lock from its first write to its commit), so ``seq`` is commit order and ``xid`` is 0.

The cursor is ``<xid>-<seq>`` of the last row examined (opaque to clients). A read takes the
head (the greatest final row) first, then the page up to it: a page that is not full ends at
the head, so the rows of other callers' scopes are skipped once.

Scope. A row is the caller's when the type's own scope rule (``visible_enterprises``, or
``visible_inspections``), judged on the row's columns (``over_change``: the scope before or
after the change), admits it, and the caller may read its type. The object is then rendered as its detail endpoint renders it for this caller now:
visible, an ``upsert`` with that representation; not visible (it left the caller's scope, or
is gone), a ``delete`` with nothing else, so it tells nothing of where the object went.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.visitors import replacement_traverse

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import (
    visible_enterprises,
    visible_inspections,
    visible_reports,
    visible_tasks,
)
from app.core.config import Settings
from app.core.db import upsert_insert
from app.core.errors import Gone, ValidationFailed
from app.models import (
    Change,
    ChangeHorizon,
    Enterprise,
    Inspection,
    PublicReport,
    Task,
    TaskList,
)
from app.models.base import utcnow
from app.services import enterprises as enterprise_service
from app.services.changes.record import TYPES
from app.services.hazards import service as hazard_service
from app.services.inspections import service as inspection_service
from app.services.public_reports import service as report_service
from app.services.tasks import service as task_service

_CURSOR = re.compile(r"^(\d{1,19})-(\d{1,19})$")
# The columns of a change row that stand for those the scope rules read: the enterprise's (after
# the change, or before it), and an inspection's own facts.
_AFTER = {
    "id": Change.enterprise_id,
    "region_code": Change.region_code,
    "sector": Change.sector,
    "enforcement_department_id": Change.department_id,
}
_BEFORE = {
    "id": Change.prev_enterprise_id,
    "region_code": Change.prev_region_code,
    "sector": Change.prev_sector,
    "enforcement_department_id": Change.prev_department_id,
}
_INSPECTION = {"id": Change.object_id, "kind": Change.kind, "started_at": Change.started_at}
_REPORT = {"id": Change.object_id, "county_code": Change.county_code}
_TASK = {
    "id": Change.object_id,
    "lead_unit_id": Change.lead_unit_id,
    "split_by_unit_id": Change.split_by_unit_id,
}
_TASK_LIST = {
    "issuing_unit_id": Change.issuing_unit_id,
    "county_code": Change.county_code,
    "status": Change.list_status,
}
Position = tuple[int, int]
BIGINT_MAX = 2**63 - 1  # xid and seq are bigints


@dataclass
class Entry:
    cursor: str
    type: str
    id: str
    op: str
    changed_at: datetime
    data: dict[str, Any] | None


@dataclass(frozen=True)
class FeedType:
    """What the feed knows of one type: the permission to read it, its scope rule (over the
    model's columns, judged on the change row by ``over_change``) and the batched detail read
    that renders it (``read_details(session, p, settings, ids, english)``)."""

    permission: Permission
    rule: Callable[[Principal], Any]
    render: Callable[..., Awaitable[dict[str, dict[str, Any]]]]


async def _enterprise_details(
    session: AsyncSession, p: Principal, settings: Settings, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    return await enterprise_service.read_details(session, p, ids, english)


FEED_TYPES: dict[str, FeedType] = {
    "enterprise": FeedType(Permission.enterprises_read, visible_enterprises, _enterprise_details),
    "hazard": FeedType(Permission.hazards_read, visible_enterprises, hazard_service.read_details),
    "inspection": FeedType(
        Permission.inspections_read, visible_inspections, inspection_service.read_details
    ),
    "report": FeedType(Permission.reports_read, visible_reports, report_service.read_details),
    "task": FeedType(Permission.tasks_read, visible_tasks, task_service.read_details),
}
assert tuple(FEED_TYPES) == TYPES, "every type the change rows name, in their order"


def cursor_text(position: Position) -> str:
    return f"{position[0]}-{position[1]}"


def parse_cursor(value: str) -> Position:
    match = _CURSOR.match(value)
    if match is None or max(int(match[1]), int(match[2])) > BIGINT_MAX:
        raise ValidationFailed.field(
            "after",
            "变更游标无效（应为此前返回的 cursor 或 next_cursor）",
            "The cursor is invalid: pass a cursor or next_cursor the feed returned",
        )
    return int(match[1]), int(match[2])


def over_change(expr: Any, before: bool) -> Any:
    """A scope rule (over ``Enterprise``, and ``Inspection`` for inspections) with its columns
    replaced by the change row's: the same rule, judged on the scope the object had after the
    change (or before it). A column the row does not keep is a programming error."""
    enterprise = _BEFORE if before else _AFTER

    def swap(element: Any) -> Any:
        if not isinstance(element, ColumnClause):
            return None
        for table, columns in (
            (Enterprise.__table__, enterprise),
            (Inspection.__table__, _INSPECTION),
            (PublicReport.__table__, _REPORT),
            (Task.__table__, _TASK),
            (TaskList.__table__, _TASK_LIST),
        ):
            if element.table is table:
                if element.name not in columns:
                    raise LookupError(f"a change row keeps no {table.name}.{element.name}")
                return columns[element.name]
        return None

    return replacement_traverse(expr, {}, swap)


def _admits(p: Principal, type_: str) -> Any:
    """The rows of ``type_`` the caller is told of: its scope held before or after the change."""
    rule = FEED_TYPES[type_].rule(p)
    return and_(
        Change.type == type_, or_(over_change(rule, before=False), over_change(rule, before=True))
    )


def _order() -> Any:
    return tuple_(Change.xid, Change.seq)


def _final(session: AsyncSession) -> Select[Any]:
    """The rows no running transaction can add to: all of them on SQLite."""
    stmt = select(Change.xid, Change.seq)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.where(
            Change.xid < text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )
    return stmt


async def _horizon(session: AsyncSession) -> Position:
    row = (await session.execute(select(ChangeHorizon.xid, ChangeHorizon.seq))).first()
    return (int(row.xid), int(row.seq)) if row else (0, 0)


async def retention_horizon(session: AsyncSession) -> Position:
    """The last position deleted by retention: a cursor before it lost changes."""
    return await _horizon(session)


async def head(session: AsyncSession) -> Position:
    """The position of the newest final change (after a full load from the lists, follow the
    feed from here); the retention horizon when none is kept."""
    row = (
        await session.execute(
            _final(session).order_by(Change.xid.desc(), Change.seq.desc()).limit(1)
        )
    ).first()
    return (int(row.xid), int(row.seq)) if row else await _horizon(session)


def readable_types(p: Principal, types: Sequence[str] | None) -> list[str]:
    return [t for t in (types or TYPES) if p.can(FEED_TYPES[t].permission)]


async def _render(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    keys: set[tuple[str, str]],
    english: bool,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The objects as their detail endpoints give them to this caller now, those it may see:
    a statement or two per type for the whole page."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for type_ in TYPES:
        ids = sorted(i for t, i in keys if t == type_)
        if not ids:
            continue
        found = await FEED_TYPES[type_].render(session, p, settings, ids, english)
        out.update({(type_, i): data for i, data in found.items()})
    return out


async def current(
    session: AsyncSession, p: Principal, settings: Settings, type_: str, object_id: str
) -> dict[str, Any] | None:
    """One object as the feed renders it for this caller now; None when it may not see it."""
    found = await _render(session, p, settings, {(type_, object_id)}, english=False)
    return found.get((type_, object_id))


async def page(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    after: str | None,
    types: Sequence[str] | None,
    limit: int,
    english: bool,
) -> tuple[list[Entry], str]:
    """The caller's changes after ``after`` (the oldest retained without it), and the cursor to
    read on from."""
    horizon = await _horizon(session)
    start = parse_cursor(after) if after is not None else horizon
    if start < horizon:
        raise Gone(
            "该游标之后的部分变更已超过保留期限被删除，请先从各列表重新全量同步，再从"
            " /api/v1/changes/head 返回的游标继续",
            "Changes after this cursor were deleted by retention: resynchronise from the lists, "
            "then follow the feed from the cursor /api/v1/changes/head gives",
            code="cursor_expired",
        )
    end = await head(session)
    wanted = readable_types(p, types)
    if end <= start or not wanted:
        return [], cursor_text(max(start, end))
    rows = (
        await session.execute(
            select(Change.xid, Change.seq, Change.type, Change.object_id, Change.changed_at)
            .where(
                _order() > tuple_(*start),
                _order() <= tuple_(*end),
                or_(*(_admits(p, t) for t in wanted)),
            )
            .order_by(Change.xid, Change.seq)
            .limit(limit)
        )
    ).all()
    # A page renders each object once, as it is now (a later entry supersedes an earlier one).
    rendered = await _render(session, p, settings, {(r.type, r.object_id) for r in rows}, english)
    entries: list[Entry] = []
    for r in rows:
        data = rendered.get((r.type, r.object_id))
        entries.append(
            Entry(
                cursor=cursor_text((int(r.xid), int(r.seq))),
                type=r.type,
                id=r.object_id,
                op="upsert" if data is not None else "delete",
                changed_at=r.changed_at,
                data=data,
            )
        )
    last = entries[-1].cursor if len(rows) == limit else cursor_text(end)
    return entries, last


async def purge(session: AsyncSession, settings: Settings) -> int:
    """Retention: deletes the changes before the oldest one younger than
    ``changes_retention_days`` (a prefix in feed order, so a cursor is either before the
    horizon, 410, or sees every change after it) and moves the horizon there."""
    cutoff = utcnow() - timedelta(days=settings.changes_retention_days)
    first_kept = (
        await session.execute(
            select(Change.xid, Change.seq)
            .where(Change.changed_at >= cutoff)
            .order_by(Change.xid, Change.seq)
            .limit(1)
        )
    ).first()
    final = (
        await session.execute(
            _final(session)
            .where(Change.changed_at < cutoff)
            .order_by(Change.xid.desc(), Change.seq.desc())
            .limit(1)
        )
    ).first()
    if final is None:
        return 0
    last: Position = (int(final.xid), int(final.seq))
    if first_kept is not None:
        last = min(last, _before(session, (int(first_kept.xid), int(first_kept.seq))))
    if last <= await _horizon(session):
        return 0
    gone = await session.execute(delete(Change).where(_order() <= tuple_(*last)))
    stmt = upsert_insert(session, ChangeHorizon).values(id=1, xid=last[0], seq=last[1])
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["id"], set_={"xid": last[0], "seq": last[1]})
    )
    return int(gone.rowcount or 0)


def _before(session: AsyncSession, position: Position) -> Position:
    """The greatest position before ``position`` (seq is unique within a database)."""
    return (position[0], position[1] - 1)
