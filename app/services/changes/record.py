"""The one mechanism that writes change rows (issue 17): SQLAlchemy session events, so every
write path that goes through the ORM is covered without being told, plus ``created_enterprises``
for the one that writes with Core statements (the bulk import's COPY), which writes the rows it
makes together with its enterprises.

- ``after_flush`` notes, for each flushed object of a tracked model, the object it belongs to
  (an enterprise's blacklist entry, installations and external ids belong to the enterprise; a
  hazard's events, attachments and external ids to the hazard; an inspection's events,
  decisions, people and attachments to the inspection) and, when an enterprise's
  scope columns changed, the scope it had before. A deleted enterprise or hazard is noted
  with the scope it had.
- ``before_commit`` flushes what is still pending, then writes one row per noted object in the
  committing transaction: one ``INSERT … SELECT`` per type (the scope read from the committed
  rows themselves), and for an enterprise that moved, a row for it and for each of its hazards
  and inspections with the scope before and after (they follow their enterprise). Nothing is written by a
  transaction that rolls back, and a commit writes its changes or nothing.
- ``after_commit`` wakes this process's long-polling feed readers.

A transaction notes each object once, however many flushes it makes; the row records the
object's scope at commit. The representation is rendered when the feed is read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import String, event, insert, inspect, literal, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Attachment,
    BlacklistEntry,
    Change,
    Enterprise,
    ExternalId,
    Hazard,
    HazardEvent,
    Inspection,
    InspectionAssignee,
    InspectionDecision,
    InspectionEvent,
    MajorHazardInstallation,
    PublicReport,
    PublicReportEvent,
    PublicReportRoute,
    Task,
    TaskAssignee,
    TaskEvent,
    TaskList,
    TaskReport,
)
from app.models.base import utcnow

TYPES = ("enterprise", "hazard", "inspection", "report", "task")
# The types whose scope follows their enterprise's: a move of the enterprise moves them.
FOLLOWERS = ("hazard", "inspection")
SCOPE_ATTRS = ("region_code", "sector", "enforcement_department_id")
CHUNK = 500  # ids per statement (SQLite binds at most 32,766 parameters)
_PENDING = "changes.pending"  # (type, id) -> the enterprise's scope before the change, or None
_GONE = "changes.gone"  # (type, id) -> the scope of a deleted object
_WROTE = "changes.wrote"

Scope = tuple[str | None, str | None, str | None, str | None]  # enterprise, region, sector, dept

# The object each tracked model's rows belong to (type, id); None when it belongs to none.
OWNER: dict[type, Callable[[Any], tuple[str, str] | None]] = {
    Enterprise: lambda o: ("enterprise", o.id),
    BlacklistEntry: lambda o: ("enterprise", o.enterprise_id),
    MajorHazardInstallation: lambda o: ("enterprise", o.enterprise_id),
    Hazard: lambda o: ("hazard", o.id),
    HazardEvent: lambda o: ("hazard", o.hazard_id),
    Attachment: lambda o: (
        ("hazard", o.hazard_id)
        if o.hazard_id
        else ("inspection", o.inspection_id)
        if o.inspection_id
        else ("report", o.public_report_id)
        if o.public_report_id
        else None
    ),
    PublicReport: lambda o: ("report", o.id),
    PublicReportRoute: lambda o: ("report", o.report_id),
    Task: lambda o: ("task", o.id),
    TaskAssignee: lambda o: ("task", o.task_id),
    TaskReport: lambda o: ("task", o.task_id),
    TaskEvent: lambda o: ("task", o.task_id) if o.task_id else None,
    # A list's issue, close or rename changes every task of it (the status, the title).
    TaskList: lambda o: ("task_list", o.id),
    PublicReportEvent: lambda o: ("report", o.report_id),
    Inspection: lambda o: ("inspection", o.id),
    InspectionEvent: lambda o: ("inspection", o.inspection_id),
    InspectionDecision: lambda o: ("inspection", o.inspection_id),
    InspectionAssignee: lambda o: ("inspection", o.inspection_id),
    ExternalId: lambda o: (o.object_type, o.object_id) if o.object_type in TYPES else None,
}

_waiters: set[asyncio.Event] = set()


# The columns of a new enterprise's change row (the others are null; seq and xid by default).
CREATED_COLUMNS = (
    "type",
    "object_id",
    "op",
    "changed_at",
    "enterprise_id",
    "region_code",
    "sector",
    "department_id",
)


def created_enterprises(enterprises: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The change rows (``CREATED_COLUMNS``) of enterprises a Core statement just inserted (no
    ORM object for the events to see), from the columns written: the caller writes them in the
    same transaction (savepoint) as the enterprises, so they commit or roll back together.

    Made from the values rather than noted and read back by ``_write``'s ``INSERT … SELECT …
    IN`` (which ``before_commit`` runs at every savepoint's release too, so on the loop at the
    next chunk): for 100,000 rows that read-back took 3.9 s of a 12.8 s job, growing with the
    table from 0.04 to 0.15 s a chunk. The row holds the scope at creation; a later write of the
    same transaction through the ORM notes the enterprise again, so the feed still ends on its
    scope at commit."""
    return [
        (
            "enterprise",
            e["id"],
            "upsert",
            e["created_at"],
            e["id"],
            e["region_code"],
            e["sector"],
            e["enforcement_department_id"],
        )
        for e in enterprises
    ]


def _scope_of(ent: Any) -> Scope:
    return (ent.id, ent.region_code, ent.sector, ent.enforcement_department_id)


def _previous_scope(ent: Enterprise) -> Scope | None:
    """The enterprise's scope before this flush, when a scope column changed in it."""
    state = inspect(ent)
    before: list[Any] = []
    moved = False
    for name in SCOPE_ATTRS:
        history = state.attrs[name].history
        if history.deleted:
            moved = True
            before.append(history.deleted[0])
        else:
            before.append(getattr(ent, name))
    return (ent.id, *before) if moved else None  # type: ignore[return-value]


@event.listens_for(Session, "after_flush")
def _noted(session: Session, flush_context: Any) -> None:
    pending: dict[tuple[str, str], Scope | None] = session.info.setdefault(_PENDING, {})
    for obj in session.new:
        owner = OWNER.get(type(obj))
        key = owner(obj) if owner else None
        if key is not None:
            pending.setdefault(key, None)
    for obj in session.dirty:
        owner = OWNER.get(type(obj))
        if owner is None or not session.is_modified(obj, include_collections=False):
            continue
        key = owner(obj)
        if key is None:
            continue
        moved = _previous_scope(obj) if type(obj) is Enterprise else None
        if moved is not None and pending.get(key) is None:
            pending[key] = moved  # the earliest scope of the transaction
        else:
            pending.setdefault(key, None)
    for obj in session.deleted:
        owner = OWNER.get(type(obj))
        key = owner(obj) if owner else None
        if key is None:
            continue
        if type(obj) is Enterprise:
            session.info.setdefault(_GONE, {})[key] = _scope_of(obj)
        elif type(obj) in (Hazard, Inspection):  # the enterprise's scope is read at commit
            session.info.setdefault(_GONE, {})[key] = (obj.enterprise_id, None, None, None)
        elif type(obj) is Task:  # a draft's task deleted: its list is read at commit
            gone_task = (obj.task_list_id, obj.lead_unit_id, obj.split_by_unit_id, None)
            session.info.setdefault(_GONE, {})[key] = gone_task
        else:
            pending.setdefault(key, None)


_COLUMNS = tuple(
    c.name for c in Change.__table__.columns if c.name not in ("seq", "xid")
)  # type, object_id, op, changed_at, the scope after and before, the types' own facts


def _row(type_: str, object_id: Any, now: Any, op: str = "upsert", **values: Any) -> Any:
    """A SELECT of change rows in ``_COLUMNS`` order: ``values`` by column name, null for the
    others (each type keeps what its scope rule reads)."""
    given = {"type": literal(type_), "object_id": object_id, "op": literal(op)}
    given["changed_at"] = literal(now, Change.changed_at.type)
    given.update(values)
    table = Change.__table__.columns
    return select(*(given.get(c, literal(None, table[c].type)) for c in _COLUMNS))


def _enterprise_scope(prev: Scope | None) -> dict[str, Any]:
    """The enterprise's scope now (selected with the row), and before a move (literals)."""
    out: dict[str, Any] = {
        "enterprise_id": Enterprise.id,
        "region_code": Enterprise.region_code,
        "sector": Enterprise.sector,
        "department_id": Enterprise.enforcement_department_id,
    }
    if prev is not None:
        names = ("prev_enterprise_id", "prev_region_code", "prev_sector", "prev_department_id")
        out.update({n: literal(v, String()) for n, v in zip(names, prev, strict=True)})
    return out


def _enterprises(now: Any, prev: Scope | None = None) -> Any:
    return _row("enterprise", Enterprise.id, now, **_enterprise_scope(prev)).select_from(Enterprise)


def _hazards(now: Any, prev: Scope | None = None) -> Any:
    return (
        _row("hazard", Hazard.id, now, **_enterprise_scope(prev))
        .select_from(Hazard)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
    )


def _inspections(now: Any, prev: Scope | None = None) -> Any:
    facts = {"kind": Inspection.kind, "started_at": Inspection.started_at}
    return (
        _row("inspection", Inspection.id, now, **_enterprise_scope(prev), **facts)
        .select_from(Inspection)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
    )


def _reports(now: Any, prev: Scope | None = None) -> Any:
    """A public report's rule reads its county and its routes (read as they are)."""
    return _row("report", PublicReport.id, now, county_code=PublicReport.county_code).select_from(
        PublicReport
    )


def _tasks(now: Any, prev: Scope | None = None) -> Any:
    """A task's rule reads its list (issuer, county, status), its lead and splitting units and
    its assignees (read as they are)."""
    return (
        _row(
            "task",
            Task.id,
            now,
            county_code=TaskList.county_code,
            list_status=TaskList.status,
            issuing_unit_id=TaskList.issuing_unit_id,
            lead_unit_id=Task.lead_unit_id,
            split_by_unit_id=Task.split_by_unit_id,
        )
        .select_from(Task)
        .join(TaskList, TaskList.id == Task.task_list_id)
    )


# Per type: the rows' SELECT, the model, and its enterprise column (None: it is one, or its
# scope does not follow an enterprise).
_OF: dict[str, tuple[Callable[..., Any], Any, Any]] = {
    "enterprise": (_enterprises, Enterprise, None),
    "hazard": (_hazards, Hazard, Hazard.enterprise_id),
    "inspection": (_inspections, Inspection, Inspection.enterprise_id),
    "report": (_reports, PublicReport, None),
    "task": (_tasks, Task, None),
}


def _write(session: Session) -> None:
    pending: dict[tuple[str, str], Scope | None] = session.info.pop(_PENDING, {})
    gone: dict[tuple[str, str], Scope] = session.info.pop(_GONE, {})
    if not pending and not gone:
        return
    conn = session.connection()
    now = utcnow()
    target = insert(Change.__table__)
    moved = {key[1]: prev for key, prev in pending.items() if key[0] == "enterprise" and prev}
    for ent_id, prev in moved.items():  # one statement: it, and what moved with it
        parts = [_enterprises(now, prev).where(Enterprise.id == ent_id)]
        for follower in FOLLOWERS:
            rows_of, _, enterprise_of = _OF[follower]
            parts.append(rows_of(now, prev).where(enterprise_of == ent_id))
        conn.execute(target.from_select(_COLUMNS, union_all(*parts)))
    lists = [key[1] for key in pending if key[0] == "task_list"]
    for start in range(0, len(lists), CHUNK):  # every task of a changed list
        chunk = lists[start : start + CHUNK]
        tasks = [k[1] for k in pending if k[0] == "task"]
        rows = _tasks(now).where(Task.task_list_id.in_(chunk))
        if tasks:  # those noted themselves are written below
            rows = rows.where(Task.id.not_in(tasks))
        conn.execute(target.from_select(_COLUMNS, rows))
    for type_, (rows_of, model, enterprise_of) in _OF.items():
        ids = [
            key[1] for key in pending if key[0] == type_ and key not in gone and key[1] not in moved
        ]
        for start in range(0, len(ids), CHUNK):
            rows = rows_of(now).where(model.id.in_(ids[start : start + CHUNK]))
            if enterprise_of is not None and moved:  # written already with their enterprise
                rows = rows.where(enterprise_of.not_in(list(moved)))
            conn.execute(target.from_select(_COLUMNS, rows))
    for (type_, object_id), scope in gone.items():
        if type_ == "task":
            list_id, lead, split, _ = scope
            rows = _row(
                "task",
                literal(object_id),
                now,
                "delete",
                county_code=TaskList.county_code,
                list_status=TaskList.status,
                issuing_unit_id=TaskList.issuing_unit_id,
                lead_unit_id=literal(lead, String()),
                split_by_unit_id=literal(split, String()),
            ).where(TaskList.id == list_id)
            conn.execute(target.from_select(_COLUMNS, rows))
        elif type_ in FOLLOWERS:
            rows = _row(type_, literal(object_id), now, "delete", **_enterprise_scope(None)).where(
                Enterprise.id == scope[0]
            )
            conn.execute(target.from_select(_COLUMNS, rows))
        else:
            names = ("enterprise_id", "region_code", "sector", "department_id")
            values = {"type": type_, "object_id": object_id, "op": "delete", "changed_at": now}
            conn.execute(target.values({**values, **dict(zip(names, scope, strict=True))}))
    session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_PENDING) or session.info.get(_GONE) or session.dirty or session.new:
        session.flush()  # what is still pending is noted by its flush
        _write(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        for waiter in list(_waiters):
            with contextlib.suppress(RuntimeError):  # its loop is gone
                waiter.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    """Only a rollback of the whole transaction forgets what it noted (a savepoint's does not:
    what was noted before it still commits, and a row noted inside it that is gone is simply
    not found by the ``INSERT … SELECT``)."""
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
        session.info.pop(_GONE, None)
        session.info.pop(_WROTE, None)


async def wait_for_change(seconds: float) -> None:
    """Returns when a transaction of this process committed changes, or after ``seconds``."""
    waiter = asyncio.Event()
    _waiters.add(waiter)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), seconds)
    finally:
        _waiters.discard(waiter)
