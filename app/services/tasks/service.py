"""Task lists and tasks: drawing up, issuing, splitting, progress, revisions and history.

- A list is drawn up and issued by the managers of a county or town unit (or the county's
  admins); it assigns units and enterprises in that unit's scope (``assignable``).
- Each assignee moves its own part; an assignee unit may split its part into sub-tasks for
  units and enterprises in its own scope, and the part then follows them (``derive``).
- Scope is app/auth/scope.py (``visible_task_lists``, ``visible_tasks``, ``sees_every_part``);
  the tables are services/tasks/workflow.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, delete, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.permissions import Permission
from app.auth.principal import Principal, UnitInfo
from app.auth.scope import (
    assignable_units,
    county_wide,
    sees_every_part,
    unit_enterprises,
    visible_task_lists,
    visible_tasks,
)
from app.core import json_agg
from app.core.clock import local_today
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.i18n import unit_name
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Enterprise, OrgUnit, Task, TaskAssignee, TaskEvent, TaskList
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.schemas.tasks import (
    AssigneeIn,
    IndicatorIn,
    TaskCreate,
    TaskEventOut,
    TaskListCreate,
    TaskListUpdate,
    TaskTransition,
    TaskUpdate,
)
from app.services import notifications
from app.services.lifecycle import event_fields, event_out
from app.services.tasks import measures, workflow

LIST_SORTS = {
    "created_at": TaskList.created_at,
    "updated_at": TaskList.updated_at,
    "year": TaskList.year,
}
LIST_DEFAULT_SORT = "-created_at"
TASK_SORTS = {
    "code": Task.code,
    "deadline": Task.deadline,
    "created_at": Task.created_at,
    "updated_at": Task.updated_at,
}
TASK_DEFAULT_SORT = "code"
TEXT_FIELDS = ("code", "title", "description", "basis", "deadline", "cycle", "lead_unit_id")

_Lead = aliased(OrgUnit, name="lead_unit")
_Splitter = aliased(OrgUnit, name="split_unit")
_Issuer = aliased(OrgUnit, name="issuing_unit")
_PartUnit = aliased(OrgUnit, name="part_unit")
_Sub = aliased(Task, name="sub_task")
_SubPart = aliased(TaskAssignee, name="sub_part")


def _not_found_list() -> NotFound:
    return NotFound("任务清单不存在", "Task list not found")


def _not_found_task() -> NotFound:
    return NotFound("任务不存在", "Task not found")


# ---- reading -----------------------------------------------------------------------------------


def _list_columns() -> tuple[Any, ...]:
    return (
        *TaskList.__table__.c,
        _Issuer.name.label("issuing_unit_name"),
        _Issuer.name_en.label("issuing_unit_name_en"),
    )


def _list_select() -> Select[Any]:
    return select(*_list_columns()).join(_Issuer, _Issuer.id == TaskList.issuing_unit_id)


def _list_counts(list_id_col: Any) -> tuple[Any, Any]:
    """How many tasks a list holds, and how many top-level ones have no assignee (the guard
    of ``issue``), as correlated counts."""
    tasks = select(func.count(Task.id)).where(Task.task_list_id == list_id_col).scalar_subquery()
    unassigned = (
        select(func.count(Task.id))
        .where(
            Task.task_list_id == list_id_col,
            Task.parent_task_id.is_(None),
            ~select(TaskAssignee.id).where(TaskAssignee.task_id == Task.id).exists(),
        )
        .scalar_subquery()
    )
    return tasks.label("task_count"), unassigned.label("unassigned")


def _list_facts(row: Any) -> workflow.ListFacts:
    return workflow.ListFacts(
        row["status"],
        row["issuing_unit_id"],
        row["county_code"],
        int(row.get("task_count") or 0),
        int(row.get("unassigned") or 0),
    )


def list_out(row: Any, p: Principal, english: bool) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "title": row["title"],
        "year": row["year"],
        "basis": row["basis"],
        "issuing_unit": {
            "id": row["issuing_unit_id"],
            "name": unit_name(row["issuing_unit_name"], row["issuing_unit_name_en"], english),
        },
        "issuing_unit_id": row["issuing_unit_id"],
        "period_from": row["period_from"],
        "period_to": row["period_to"],
        "status": row["status"],
        "issued_at": row["issued_at"],
        "closed_at": row["closed_at"],
        "indicators": [
            {
                "code": i["code"],
                "name_zh": i["name_zh"],
                "name_en": i.get("name_en"),
                "unit": i["unit"],
                "source": i["source"],
            }
            for i in row["indicators"] or []
        ],
        "allowed_actions": workflow.LIST_MACHINE.allowed_actions(p, _list_facts(row)),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _parts_column() -> Any:
    """Every part of the task with its names and, for a unit's part, how many sub-tasks it was
    split into and how many of their parts are open: gathered into the task's row."""
    split = (
        select(func.count(_Sub.id))
        .where(_Sub.parent_task_id == Task.id, _Sub.split_by_unit_id == TaskAssignee.unit_id)
        .scalar_subquery()
    )
    open_parts = (
        select(func.count(_SubPart.id))
        .join(_Sub, _Sub.id == _SubPart.task_id)
        .where(
            _Sub.parent_task_id == Task.id,
            _Sub.split_by_unit_id == TaskAssignee.unit_id,
            _SubPart.status != "done",
        )
        .scalar_subquery()
    )
    return (
        select(
            json_agg.json_rows(
                ("id", TaskAssignee.id),
                ("unit_id", TaskAssignee.unit_id),
                ("unit_name", _PartUnit.name),
                ("unit_name_en", _PartUnit.name_en),
                ("enterprise_id", TaskAssignee.enterprise_id),
                ("enterprise_name", Enterprise.name),
                ("status", TaskAssignee.status),
                ("started_at", TaskAssignee.started_at),
                ("completed_at", TaskAssignee.completed_at),
                ("split", split),
                ("open_subtasks", open_parts),
            )
        )
        .select_from(TaskAssignee)
        .outerjoin(_PartUnit, _PartUnit.id == TaskAssignee.unit_id)
        .outerjoin(Enterprise, Enterprise.id == TaskAssignee.enterprise_id)
        .where(TaskAssignee.task_id == Task.id)
        .correlate(Task)
        .scalar_subquery()
        .label("parts_json")
    )


def _task_select() -> Select[Any]:
    return (
        select(
            *Task.__table__.c,
            TaskList.status.label("list_status"),
            TaskList.title.label("list_title"),
            TaskList.issuing_unit_id.label("issuing_unit_id"),
            TaskList.county_code.label("county_code"),
            _Lead.name.label("lead_name"),
            _Lead.name_en.label("lead_name_en"),
            _Splitter.name.label("split_name"),
            _Splitter.name_en.label("split_name_en"),
            _parts_column(),
        )
        .join(TaskList, TaskList.id == Task.task_list_id)
        .outerjoin(_Lead, _Lead.id == Task.lead_unit_id)
        .outerjoin(_Splitter, _Splitter.id == Task.split_by_unit_id)
    )


def _mine(p: Principal, part: dict[str, Any]) -> bool:
    if p.enterprise_id is not None:
        return part["enterprise_id"] == p.enterprise_id
    return p.is_government and part["unit_id"] == p.unit.id


def _oversees(p: Principal, row: Any) -> bool:
    """The lead unit (a sub-task's is its splitter), the list's issuer, the county's admins."""
    if not p.is_government:
        return False
    if p.is_admin and p.unit.county_code == row["county_code"]:
        return True
    return p.unit.id in (row["lead_unit_id"], row["issuing_unit_id"], row["split_by_unit_id"])


def _progress(status: str, deadline: date | None, today: date) -> str:
    if status != "done" and deadline is not None and deadline < today:
        return "overdue"
    return status


def _facts(p: Principal, row: Any, part: dict[str, Any]) -> workflow.PartFacts:
    return workflow.PartFacts(
        part["status"],
        row["list_status"],
        _mine(p, part),
        _oversees(p, row),
        int(part.get("open_subtasks") or 0),
        bool(part.get("split")),
    )


def task_out(row: Any, p: Principal, today: date, english: bool) -> dict[str, Any]:
    parts = json_agg.parse(row["parts_json"], ("started_at", "completed_at"))
    parts.sort(
        key=lambda x: (
            x["enterprise_id"] is not None,
            x["unit_name"] or x["enterprise_name"] or "",
            x["id"],
        )
    )
    every = sees_every_part(p, row["issuing_unit_id"], row["county_code"], row["lead_unit_id"]) or (
        p.is_government and p.unit.id == row["split_by_unit_id"]
    )
    shown = [x for x in parts if every or _mine(p, x)]
    allowed: list[str] = []
    for part in parts:
        facts = _facts(p, row, part)
        for action in workflow.PART_MACHINE.allowed_actions(p, facts):
            if action not in allowed and (action == "reopen" or facts.mine):
                allowed.append(action)
    order = list(workflow.PART_MACHINE)
    allowed.sort(key=order.index)
    return {
        "id": row["id"],
        "task_list_id": row["task_list_id"],
        "task_list": {"id": row["task_list_id"], "name": row["list_title"]},
        "code": row["code"],
        "title": row["title"],
        "description": row["description"],
        "basis": row["basis"],
        "lead_unit": {
            "id": row["lead_unit_id"],
            "name": unit_name(row["lead_name"], row["lead_name_en"], english),
        }
        if row["lead_unit_id"]
        else None,
        "lead_unit_id": row["lead_unit_id"],
        "deadline": row["deadline"],
        "cycle": row["cycle"],
        "parent_task_id": row["parent_task_id"],
        "split_by_unit": {
            "id": row["split_by_unit_id"],
            "name": unit_name(row["split_name"], row["split_name_en"], english),
        }
        if row["split_by_unit_id"]
        else None,
        "assignees": [
            {
                "id": x["id"],
                "unit": {
                    "id": x["unit_id"],
                    "name": unit_name(x["unit_name"], x["unit_name_en"], english),
                }
                if x["unit_id"]
                else None,
                "enterprise": {"id": x["enterprise_id"], "name": x["enterprise_name"]}
                if x["enterprise_id"]
                else None,
                "status": x["status"],
                "progress": _progress(x["status"], row["deadline"], today),
                "split": bool(x.get("split")),
                "started_at": x["started_at"],
                "completed_at": x["completed_at"],
            }
            for x in shown
        ],
        "revisions": row["revisions"] or [],
        "allowed_actions": allowed,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _part_seen(p: Principal) -> Any:
    """Parts (a condition over ``TaskAssignee`` inside a task's row) the caller may filter on:
    every part where it sees every part, else its own."""
    own: list[Any] = []
    if p.enterprise_id is not None:
        own.append(TaskAssignee.enterprise_id == p.enterprise_id)
    if p.is_government:
        unit = p.unit.id
        own += [
            TaskAssignee.unit_id == unit,
            TaskList.issuing_unit_id == unit,
            Task.lead_unit_id == unit,
            Task.split_by_unit_id == unit,
        ]
        if county_wide(p):
            own.append(TaskList.county_code == p.unit.county_code)
    return or_(*own) if own else TaskAssignee.id.is_(None)


def task_filters(
    p: Principal,
    today: date,
    *,
    task_list_id: str | None = None,
    parent_task_id: str | None = None,
    lead_unit_id: str | None = None,
    assignee_unit_id: str | None = None,
    assignee_enterprise_id: str | None = None,
    progress: Sequence[str] | None = None,
    overdue: bool | None = None,
    deadline_from: date | None = None,
    deadline_to: date | None = None,
    q: str | None = None,
) -> list[Any]:
    conds: list[Any] = [visible_tasks(p)]
    if task_list_id:
        conds.append(Task.task_list_id == task_list_id)
    if parent_task_id:
        conds.append(Task.parent_task_id == parent_task_id)
    if lead_unit_id:
        conds.append(Task.lead_unit_id == lead_unit_id)
    if deadline_from:
        conds.append(Task.deadline >= deadline_from)
    if deadline_to:
        conds.append(Task.deadline <= deadline_to)
    if q:
        conds.append(
            or_(Task.title.icontains(q, autoescape=True), Task.code.icontains(q, autoescape=True))
        )
    late = and_(Task.deadline.is_not(None), Task.deadline < today)

    def part_exists(*where: Any) -> Any:
        return (
            select(TaskAssignee.id)
            .where(TaskAssignee.task_id == Task.id, _part_seen(p), *where)
            .exists()
        )

    if assignee_unit_id:
        conds.append(part_exists(TaskAssignee.unit_id == assignee_unit_id))
    if assignee_enterprise_id:
        conds.append(part_exists(TaskAssignee.enterprise_id == assignee_enterprise_id))
    if progress:
        options = []
        for value in progress:
            if value == "overdue":
                options.append(and_(TaskAssignee.status != "done", late))
            elif value == "done":
                options.append(TaskAssignee.status == "done")
            else:
                options.append(and_(TaskAssignee.status == value, not_(late)))
        conds.append(part_exists(or_(*options)))
    if overdue is not None:
        cond = part_exists(TaskAssignee.status != "done", late)
        conds.append(cond if overdue else not_(cond))
    return conds


async def list_tasks(
    session: AsyncSession, p: Principal, settings: Settings, params: ListParams, **filters: Any
) -> tuple[PageResult, date]:
    today = local_today(settings.timezone)
    page = await fetch_page(
        session,
        _task_select().where(*task_filters(p, today, **filters)),
        sort=parse_sort(params.sort, TASK_SORTS, TASK_DEFAULT_SORT),
        id_column=Task.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, today


async def read_task(
    session: AsyncSession, p: Principal, settings: Settings, task_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    row = (
        await session.execute(_task_select().where(Task.id == task_id, visible_tasks(p)))
    ).first()
    if row is None:
        raise _not_found_task()
    today = local_today(settings.timezone)
    return task_out(row._mapping, p, today, english), row.version


async def read_details(
    session: AsyncSession, p: Principal, settings: Settings, ids: list[str], english: bool
) -> dict[str, dict[str, Any]]:
    """Many tasks as ``GET /tasks/{id}`` gives each to this caller (those it may see), in one
    statement (the change feed's pages)."""
    if not ids:
        return {}
    rows = (await session.execute(_task_select().where(Task.id.in_(ids), visible_tasks(p)))).all()
    today = local_today(settings.timezone)
    return {row.id: task_out(row._mapping, p, today, english) for row in rows}


async def list_lists(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    kind: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    year: int | None = None,
    issuing_unit_id: str | None = None,
    q: str | None = None,
) -> PageResult:
    stmt = _list_select().add_columns(*_list_counts(TaskList.id)).where(visible_task_lists(p))
    if kind:
        stmt = stmt.where(TaskList.kind.in_(kind))
    if status:
        stmt = stmt.where(TaskList.status.in_(status))
    if year is not None:
        stmt = stmt.where(TaskList.year == year)
    if issuing_unit_id:
        stmt = stmt.where(TaskList.issuing_unit_id == issuing_unit_id)
    if q:
        stmt = stmt.where(TaskList.title.icontains(q, autoescape=True))
    return await fetch_page(
        session,
        stmt,
        sort=parse_sort(params.sort, LIST_SORTS, LIST_DEFAULT_SORT),
        id_column=TaskList.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def read_list(
    session: AsyncSession, p: Principal, settings: Settings, list_id: str, english: bool
) -> tuple[dict[str, Any], int]:
    """The list and the tasks the caller sees, in two statements."""
    row = (
        await session.execute(
            _list_select()
            .add_columns(*_list_counts(TaskList.id))
            .where(TaskList.id == list_id, visible_task_lists(p))
        )
    ).first()
    if row is None:
        raise _not_found_list()
    today = local_today(settings.timezone)
    tasks = (
        await session.execute(
            _task_select()
            .where(Task.task_list_id == list_id, visible_tasks(p))
            .order_by(Task.code, Task.id)
        )
    ).all()
    body = list_out(row._mapping, p, english)
    body["tasks"] = [task_out(t._mapping, p, today, english) for t in tasks]
    return body, row.version


# ---- writing: lists ---------------------------------------------------------------------------


def _event(
    p: Principal | None,
    list_id: str,
    action: str,
    from_status: str | None,
    to_status: str,
    *,
    task_id: str | None = None,
    assignee_id: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> TaskEvent:
    return TaskEvent(
        task_list_id=list_id,
        task_id=task_id,
        assignee_id=assignee_id,
        **event_fields(p, action, from_status, to_status, at=utcnow(), note=note, details=details),
    )


async def _unit_info(session: AsyncSession, unit_id: str) -> UnitInfo | None:
    u = await session.get(OrgUnit, unit_id)
    return None if u is None else UnitInfo.of(u)


async def create_list(session: AsyncSession, p: Principal, body: TaskListCreate) -> TaskList:
    if not p.is_government:
        raise Forbidden(
            "任务清单由县级或乡镇（街道）单位编制", "Task lists are issued by county or town units"
        )
    unit_id = body.issuing_unit_id or p.unit.id
    unit = await _unit_info(session, unit_id)
    if unit is None or unit.county_code != p.unit.county_code:
        raise ValidationFailed.field(
            "issuing_unit_id", "单位不存在", "Unknown org unit", code="unknown_org_unit"
        )
    if unit.kind not in ("county", "town") and unit.id == p.unit.id:
        raise Forbidden(
            "任务清单由县级或乡镇（街道）单位编制、下达",
            "Task lists are issued by the county office or a town",
        )
    if unit.kind not in ("county", "town"):
        raise ValidationFailed.field(
            "issuing_unit_id",
            "任务清单由县级或乡镇（街道）单位下达",
            "Task lists are issued by the county office or a town",
        )
    facts = workflow.ListFacts("draft", unit.id, unit.county_code, 0, 0)
    if not workflow.issuer(p, facts):
        raise Forbidden(
            "仅本单位负责人（或系统管理员）可编制、下达任务清单",
            "Only the unit's managers (or administrators) draw up and issue its task lists",
        )
    tl = TaskList(
        county_code=unit.county_code,
        kind=body.kind,
        title=body.title,
        year=body.year,
        basis=body.basis,
        issuing_unit_id=unit.id,
        period_from=body.period_from,
        period_to=body.period_to,
        status="draft",
        indicators=_indicators(body.kind, body.indicators),
        created_by=p.audit_id,
    )
    session.add(tl)
    await session.flush()
    session.add(_event(p, tl.id, "create", None, "draft"))
    await session.flush()
    return tl


async def get_list(session: AsyncSession, p: Principal, list_id: str) -> TaskList:
    found = (
        await session.execute(select(TaskList).where(TaskList.id == list_id, visible_task_lists(p)))
    ).scalar_one_or_none()
    if found is None:
        raise _not_found_list()
    return found


async def _counts(session: AsyncSession, list_id: str) -> tuple[int, int]:
    tasks, unassigned = _list_counts(list_id)
    row = (await session.execute(select(tasks, unassigned))).one()
    return int(row[0]), int(row[1])


def _require_issuer(p: Principal, tl: TaskList) -> None:
    if not workflow.issuer(
        p, workflow.ListFacts(tl.status, tl.issuing_unit_id, tl.county_code, 0, 0)
    ):
        raise Forbidden(
            "仅下达单位负责人可修改任务清单", "Only the issuing unit's managers change the list"
        )


async def update_list(
    session: AsyncSession, p: Principal, tl: TaskList, body: TaskListUpdate
) -> TaskList:
    _require_issuer(p, tl)
    data = body.model_dump(exclude_unset=True, exclude={"reason"})
    if "title" in data and data["title"] is None:
        raise ValidationFailed.field("title", "不能为空", "may be omitted, never null")
    if "indicators" in data:
        if tl.status != "draft":
            raise Conflict(
                "任务清单已下达，调度指标不能再变更",
                "The list is issued: its indicators are fixed",
                code="task_list_not_draft",
            )
        data["indicators"] = _indicators(tl.kind, body.indicators)
    if tl.status == "closed":
        raise Conflict("任务清单已关闭", "The task list is closed", code="invalid_transition")
    if tl.status != "draft" and not body.reason:
        raise ValidationFailed.field(
            "reason", "已下达的清单修改须说明理由", "A change of an issued list needs a reason"
        )
    start = data.get("period_from", tl.period_from)
    end = data.get("period_to", tl.period_to)
    if start and end and end < start:
        raise ValidationFailed.field(
            "period_to", "截止日期早于起始日期", "period_to is before period_from"
        )
    changes = {
        k: {"from": _plain(getattr(tl, k)), "to": _plain(v)}
        for k, v in data.items()
        if getattr(tl, k) != v
    }
    if not changes:
        return tl
    for key, value in data.items():
        setattr(tl, key, value)
    tl.updated_at = utcnow()
    action = "update" if tl.status == "draft" else "revise"
    session.add(
        _event(
            p, tl.id, action, tl.status, tl.status, note=body.reason, details={"changes": changes}
        )
    )
    await session.flush()
    return tl


def _indicators(kind: str, given: list[IndicatorIn] | None) -> list[dict[str, Any]]:
    """A dispatch list's indicators as stored: codes unique, a computed one in its measure's
    unit, a manual one with a unit; other kinds define none."""
    given = given or []
    if given and kind != "dispatch":
        raise ValidationFailed.field(
            "indicators", "只有调度指标清单定义指标", "Only a dispatch list defines indicators"
        )
    seen: set[str] = set()
    out = []
    for n, i in enumerate(given):
        if i.code in seen:
            raise ValidationFailed.field(
                f"indicators[{n}].code",
                f"指标编号“{i.code}”重复",
                f"Indicator code {i.code} is used twice",
            )
        seen.add(i.code)
        unit = i.unit
        if i.source != "manual":
            own = measures.BY_CODE[i.source].unit
            if unit is not None and unit != own:
                raise ValidationFailed.field(
                    f"indicators[{n}].unit",
                    f"计算指标的单位为“{own}”",
                    f"A computed indicator is in its measure's unit ({own})",
                )
            unit = own
        elif unit is None:
            raise ValidationFailed.field(
                f"indicators[{n}].unit",
                "手工填报指标须注明单位",
                "A manual indicator names its unit",
            )
        out.append(
            {
                "code": i.code,
                "name_zh": i.name_zh,
                "name_en": i.name_en,
                "unit": unit,
                "source": i.source,
            }
        )
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def transition_list(
    session: AsyncSession, p: Principal, tl: TaskList, action: str, note: str | None
) -> TaskList:
    count, unassigned = await _counts(session, tl.id)
    facts = workflow.ListFacts(tl.status, tl.issuing_unit_id, tl.county_code, count, unassigned)
    t = workflow.LIST_MACHINE.run(p, facts, action)
    before = tl.status
    assert t.to_state is not None
    tl.status = t.to_state
    now = utcnow()
    if action == "issue":
        tl.issued_at = now
    else:
        tl.closed_at = now
    tl.updated_at = now
    session.add(_event(p, tl.id, action, before, tl.status, note=note))
    await session.flush()
    if action == "issue":
        units, enterprises = await _assignees_of(
            session, select(Task.id).where(Task.task_list_id == tl.id)
        )
        await notifications.notify(
            session,
            "task_list_issued",
            {"title": tl.title, "unit": await _unit_name(session, tl.issuing_unit_id)},
            link=f"/api/v1/task-lists/{tl.id}",
            object_type="task_list",
            object_id=tl.id,
            to_units=units,
            to_enterprises=enterprises,
        )
    return tl


async def _unit_name(session: AsyncSession, unit_id: str) -> str:
    return (await session.execute(select(OrgUnit.name).where(OrgUnit.id == unit_id))).scalar_one()


async def _assignees_of(session: AsyncSession, task_ids: Any) -> tuple[list[str], list[str]]:
    rows = (
        await session.execute(
            select(TaskAssignee.unit_id, TaskAssignee.enterprise_id).where(
                TaskAssignee.task_id.in_(task_ids)
            )
        )
    ).all()
    return [r.unit_id for r in rows if r.unit_id], [
        r.enterprise_id for r in rows if r.enterprise_id
    ]


# ---- writing: tasks ---------------------------------------------------------------------------


async def _check_assignees(
    session: AsyncSession, unit: UnitInfo, assignees: Iterable[AssigneeIn]
) -> list[AssigneeIn]:
    """The assignees as given, each inside ``unit``'s scope (units of the county below or beside
    the county office; enterprises the unit supervises) and none twice; 422 otherwise."""
    given = list(assignees)
    units = [a.unit_id for a in given if a.unit_id]
    ents = [a.enterprise_id for a in given if a.enterprise_id]
    if len(set(units)) != len(units) or len(set(ents)) != len(ents):
        raise ValidationFailed.field(
            "assignees", "责任单位重复", "An assignee is named twice", code="duplicate_assignee"
        )
    checks = (
        (
            "unit_id",
            units,
            select(OrgUnit.id).where(OrgUnit.id.in_(units), assignable_units(unit)),
            "该单位不在本单位可下达的范围内",
            "Not a unit this unit may assign tasks to",
        ),
        (
            "enterprise_id",
            ents,
            select(Enterprise.id).where(Enterprise.id.in_(ents), unit_enterprises(unit)),
            "该企业不在本单位管辖范围内",
            "Not an enterprise in this unit's scope",
        ),
    )
    for attr, ids, within, zh, en in checks:
        if not ids:
            continue
        found = set((await session.execute(within)).scalars())
        for n, a in enumerate(given):
            if getattr(a, attr) and getattr(a, attr) not in found:
                raise ValidationFailed.field(
                    f"assignees[{n}].{attr}", zh, en, code="assignee_out_of_scope"
                )
    return given


async def _check_lead(session: AsyncSession, unit: UnitInfo, lead_unit_id: str | None) -> None:
    """The lead unit (牵头单位): the issuing unit itself or a unit it may assign."""
    if lead_unit_id is None or lead_unit_id == unit.id:
        return
    ok = (
        await session.execute(
            select(OrgUnit.id).where(OrgUnit.id == lead_unit_id, assignable_units(unit))
        )
    ).first()
    if ok is None:
        raise ValidationFailed.field(
            "lead_unit_id",
            "牵头单位须为下达单位或其可下达的单位",
            "The lead unit is the issuing unit or a unit it may assign",
            code="unknown_org_unit",
        )


async def create_task(
    session: AsyncSession, p: Principal, settings: Settings, body: TaskCreate
) -> Task:
    if body.parent_task_id:
        return await _split(session, p, settings, body)
    if not body.task_list_id:
        raise ValidationFailed.field("task_list_id", "请指明任务清单", "task_list_id is required")
    tl = (
        await session.execute(
            select(TaskList).where(TaskList.id == body.task_list_id, visible_task_lists(p))
        )
    ).scalar_one_or_none()
    if tl is None:
        raise ValidationFailed.field(
            "task_list_id", "任务清单不存在", "Unknown task list", code="unknown_task_list"
        )
    _require_issuer(p, tl)
    if tl.status != "draft":
        raise Conflict(
            "任务清单已下达，不能再增加任务（可由责任单位分解子任务）",
            "The list is issued: tasks are added while it is a draft (assignees split theirs)",
            code="task_list_not_draft",
        )
    unit = await _unit_info(session, tl.issuing_unit_id)
    assert unit is not None
    await _check_lead(session, unit, body.lead_unit_id)
    assignees = await _check_assignees(session, unit, body.assignees)
    task = await _insert_task(session, p, tl.id, body, assignees, cycle=body.cycle or "once")
    session.add(
        _event(p, tl.id, "create", None, "draft", task_id=task.id, details={"code": task.code})
    )
    await session.flush()
    return task


async def _insert_task(
    session: AsyncSession,
    p: Principal,
    list_id: str,
    body: TaskCreate,
    assignees: list[AssigneeIn],
    *,
    cycle: str,
    parent: Task | None = None,
    split_by: str | None = None,
) -> Task:
    task = Task(
        task_list_id=list_id,
        parent_task_id=parent.id if parent else None,
        split_by_unit_id=split_by,
        code=body.code,
        title=body.title,
        description=body.description,
        basis=body.basis,
        lead_unit_id=split_by if split_by else body.lead_unit_id,
        deadline=body.deadline if body.deadline else (parent.deadline if parent else None),
        cycle=cycle,
        revisions=[],
    )
    session.add(task)
    await session.flush()
    session.add_all(
        TaskAssignee(
            task_id=task.id, unit_id=a.unit_id, enterprise_id=a.enterprise_id, status="not_started"
        )
        for a in assignees
    )
    await session.flush()
    return task


async def _split(session: AsyncSession, p: Principal, settings: Settings, body: TaskCreate) -> Task:
    """分解: a sub-task of the caller's own part of the parent, for units and enterprises in
    the caller's unit's scope; issued at once (its list is), its assignees notified."""
    parent = (
        await session.execute(
            select(Task)
            .join(TaskList, TaskList.id == Task.task_list_id)
            .where(Task.id == body.parent_task_id, visible_tasks(p))
        )
    ).scalar_one_or_none()
    if parent is None:
        raise ValidationFailed.field(
            "parent_task_id", "任务不存在", "Unknown task", code="unknown_task"
        )
    if body.task_list_id and body.task_list_id != parent.task_list_id:
        raise ValidationFailed.field(
            "task_list_id", "子任务属于上级任务所在清单", "A sub-task is in its parent's list"
        )
    if not (p.is_government and p.can(Permission.tasks_progress)):
        raise Forbidden("只有责任单位可分解本单位的任务", "Only an assignee unit splits its part")
    part = (
        await session.execute(
            select(TaskAssignee).where(
                TaskAssignee.task_id == parent.id, TaskAssignee.unit_id == p.unit.id
            )
        )
    ).scalar_one_or_none()
    if part is None:
        raise Forbidden("只有责任单位可分解本单位的任务", "Only an assignee unit splits its part")
    tl = await session.get(TaskList, parent.task_list_id)
    assert tl is not None
    if tl.status != "issued":
        raise Conflict(
            "任务清单未下达或已关闭",
            "The list is not issued, or is closed",
            code="invalid_transition",
        )
    if part.status == "done":
        raise Conflict(
            "本单位的任务已完成，不能再分解",
            "Your part is done: reopen it first",
            code="invalid_transition",
        )
    if not body.assignees:
        raise ValidationFailed.field(
            "assignees", "请指定子任务的责任单位", "A sub-task names its assignees"
        )
    if body.deadline and parent.deadline and body.deadline > parent.deadline:
        raise ValidationFailed.field(
            "deadline",
            "子任务期限不能晚于上级任务期限",
            "A sub-task is due no later than its parent",
        )
    if body.lead_unit_id and body.lead_unit_id != p.unit.id:
        raise ValidationFailed.field(
            "lead_unit_id", "子任务由分解单位牵头", "A sub-task is led by the unit that split it"
        )
    assignees = await _check_assignees(session, p.unit, body.assignees)
    task = await _insert_task(
        session,
        p,
        tl.id,
        body,
        assignees,
        cycle=body.cycle or parent.cycle,
        parent=parent,
        split_by=p.unit.id,
    )
    session.add(
        _event(
            p,
            tl.id,
            "split",
            part.status,
            part.status,
            task_id=parent.id,
            assignee_id=part.id,
            details={"sub_task_id": task.id},
        )
    )
    session.add(
        _event(p, tl.id, "create", None, "issued", task_id=task.id, details={"code": task.code})
    )
    await session.flush()
    await derive(session, p, parent.id, p.unit.id)
    await notifications.notify(
        session,
        "task_assigned",
        {"title": task.title, "code": task.code, "unit": p.unit.name},
        link=f"/api/v1/tasks/{task.id}",
        object_type="task",
        object_id=task.id,
        to_units=[a.unit_id for a in assignees if a.unit_id],
        to_enterprises=[a.enterprise_id for a in assignees if a.enterprise_id],
    )
    return task


async def derive(session: AsyncSession, p: Principal | None, task_id: str, unit_id: str) -> None:
    """The part of ``unit_id`` in ``task_id`` follows the sub-tasks it split: done when every
    sub-task part is done, in progress when one has begun; then the same one level up."""
    part = (
        await session.execute(
            select(TaskAssignee).where(
                TaskAssignee.task_id == task_id, TaskAssignee.unit_id == unit_id
            )
        )
    ).scalar_one_or_none()
    if part is None:
        return
    states = (
        (
            await session.execute(
                select(TaskAssignee.status)
                .join(Task, Task.id == TaskAssignee.task_id)
                .where(Task.parent_task_id == task_id, Task.split_by_unit_id == unit_id)
            )
        )
        .scalars()
        .all()
    )
    if not states:
        return
    if all(s == "done" for s in states):
        target = "done"
    elif any(s != "not_started" for s in states):
        target = "in_progress"
    else:
        target = part.status if part.status != "done" else "in_progress"
    if target == part.status:
        return
    before = part.status
    now = utcnow()
    part.status = target
    if target != "not_started" and part.started_at is None:
        part.started_at = now
    part.completed_at = now if target == "done" else None
    task = await session.get(Task, task_id)
    assert task is not None
    task.updated_at = now
    session.add(
        _event(p, task.task_list_id, "derive", before, target, task_id=task_id, assignee_id=part.id)
    )
    await session.flush()
    if task.parent_task_id and task.split_by_unit_id:
        await derive(session, p, task.parent_task_id, task.split_by_unit_id)


async def get_task(session: AsyncSession, p: Principal, task_id: str) -> Task:
    found = (
        await session.execute(
            select(Task)
            .join(TaskList, TaskList.id == Task.task_list_id)
            .where(Task.id == task_id, visible_tasks(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise _not_found_task()
    return found


async def update_task(session: AsyncSession, p: Principal, task: Task, body: TaskUpdate) -> Task:
    tl = await session.get(TaskList, task.task_list_id)
    assert tl is not None
    if task.split_by_unit_id:
        if not (p.is_government and p.unit.id == task.split_by_unit_id):
            raise Forbidden(
                "子任务由分解单位修改", "A sub-task is changed by the unit that split it"
            )
        unit = p.unit
    else:
        _require_issuer(p, tl)
        unit = await _unit_info(session, tl.issuing_unit_id)
        assert unit is not None
    data = body.model_dump(exclude_unset=True, exclude={"reason"})
    for key in ("code", "title", "cycle", "assignees"):
        if key in data and data[key] is None:
            raise ValidationFailed.field(key, "不能为空", "may be omitted, never null")
    if tl.status == "closed":
        raise Conflict("任务清单已关闭", "The task list is closed", code="invalid_transition")
    issued = tl.status == "issued"
    if "assignees" in data:
        if issued and not task.split_by_unit_id:
            raise Conflict(
                "任务清单已下达，责任单位不能再变更",
                "The list is issued: its tasks' assignees are fixed",
                code="task_list_not_draft",
            )
        if issued:
            raise Conflict(
                "子任务已下达，责任单位不能再变更",
                "The sub-task is issued: its assignees are fixed",
                code="task_list_not_draft",
            )
    if "lead_unit_id" in data:
        if task.split_by_unit_id and data["lead_unit_id"] != task.split_by_unit_id:
            raise ValidationFailed.field(
                "lead_unit_id",
                "子任务由分解单位牵头",
                "A sub-task is led by the unit that split it",
            )
        await _check_lead(session, unit, data["lead_unit_id"])
    if "deadline" in data and task.parent_task_id and data["deadline"]:
        parent = await session.get(Task, task.parent_task_id)
        if parent is not None and parent.deadline and data["deadline"] > parent.deadline:
            raise ValidationFailed.field(
                "deadline",
                "子任务期限不能晚于上级任务期限",
                "A sub-task is due no later than its parent",
            )
    changes = {
        k: {"from": _plain(getattr(task, k)), "to": _plain(v)}
        for k, v in data.items()
        if k != "assignees" and getattr(task, k) != v
    }
    replaced = None
    if "assignees" in data:
        replaced = await _check_assignees(session, unit, body.assignees or [])
    if not changes and replaced is None:
        return task
    revising = issued or bool(task.split_by_unit_id and tl.status == "issued")
    if revising and changes and not body.reason:
        raise ValidationFailed.field(
            "reason",
            "已下达任务的修改须说明理由（记为修订）",
            "A change of an issued task needs a reason (a revision)",
        )
    for key in changes:
        setattr(task, key, data[key])
    now = utcnow()
    if revising and changes:
        task.revisions = [
            *(task.revisions or []),
            {
                "at": now.isoformat(),
                "by": {"id": p.id, "name": p.display_name or p.name},
                "reason": body.reason,
                "changes": changes,
            },
        ]
    if replaced is not None:
        await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == task.id))
        session.add_all(
            TaskAssignee(
                task_id=task.id,
                unit_id=a.unit_id,
                enterprise_id=a.enterprise_id,
                status="not_started",
            )
            for a in replaced
        )
        changes["assignees"] = {"to": [a.model_dump(exclude_none=True) for a in replaced]}
    task.updated_at = now
    session.add(
        _event(
            p,
            tl.id,
            "revise" if revising else "update",
            tl.status,
            tl.status,
            task_id=task.id,
            note=body.reason,
            details={"changes": changes},
        )
    )
    await session.flush()
    return task


async def delete_task(session: AsyncSession, p: Principal, task: Task) -> None:
    tl = await session.get(TaskList, task.task_list_id)
    assert tl is not None
    _require_issuer(p, tl)
    if tl.status != "draft":
        raise Conflict(
            "任务清单已下达，任务不能删除",
            "The list is issued: its tasks stay (revise them)",
            code="task_list_not_draft",
        )
    await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == task.id))
    await session.execute(
        TaskEvent.__table__.update().where(TaskEvent.task_id == task.id).values(task_id=None)
    )
    session.add(
        _event(
            p, tl.id, "delete", "draft", "draft", details={"task_id": task.id, "code": task.code}
        )
    )
    await session.delete(task)
    await session.flush()


async def transition_task(
    session: AsyncSession, p: Principal, settings: Settings, task: Task, body: TaskTransition
) -> Task:
    row = (await session.execute(_task_select().where(Task.id == task.id))).first()
    assert row is not None
    row = row._mapping
    parts = json_agg.parse(row["parts_json"], ("started_at", "completed_at"))
    if body.action == "reopen":
        if not body.reason:
            raise ValidationFailed.field("reason", "须说明理由", "A reason is required")
        target = _named_part(parts, body)
    else:
        target = next((x for x in parts if _mine(p, x)), None)
        if target is None:
            raise Forbidden(
                "本单位不是该任务的责任单位",
                "Your unit or enterprise is not an assignee of this task",
                code="action_forbidden",
            )
    t = workflow.PART_MACHINE.run(p, _facts(p, row, target), body.action)
    part = await session.get(TaskAssignee, target["id"])
    assert part is not None and t.to_state is not None
    before = part.status
    now = utcnow()
    part.status = t.to_state
    if t.to_state == "in_progress" and part.started_at is None:
        part.started_at = now
    part.completed_at = now if t.to_state == "done" else None
    task.updated_at = now
    session.add(
        _event(
            p,
            task.task_list_id,
            body.action,
            before,
            part.status,
            task_id=task.id,
            assignee_id=part.id,
            note=body.reason or body.note,
        )
    )
    await session.flush()
    if task.parent_task_id and task.split_by_unit_id:
        await derive(session, p, task.parent_task_id, task.split_by_unit_id)
    return task


def _named_part(parts: list[dict[str, Any]], body: TaskTransition) -> dict[str, Any]:
    want = body.assignee
    for x in parts:
        if body.assignee_id and x["id"] == body.assignee_id:
            return x
        if want and (
            (want.unit_id and x["unit_id"] == want.unit_id)
            or (want.enterprise_id and x["enterprise_id"] == want.enterprise_id)
        ):
            return x
    raise ValidationFailed.field(
        "assignee",
        "请指明要退回重办的责任单位",
        "Name the assignee whose part is reopened",
        code="unknown_assignee",
    )


async def events(
    session: AsyncSession, p: Principal, *, task_id: str | None = None, list_id: str | None = None
) -> list[TaskEventOut]:
    """The history of a task (its own events), or of a list (the list's own and, for those who
    see it whole, nothing of tasks they do not see: the list's events only)."""
    if task_id is not None:
        await get_task(session, p, task_id)
        stmt = select(TaskEvent).where(TaskEvent.task_id == task_id)
    else:
        assert list_id is not None
        await get_list(session, p, list_id)
        stmt = select(TaskEvent).where(
            TaskEvent.task_list_id == list_id, TaskEvent.task_id.is_(None)
        )
    rows = (
        (await session.execute(stmt.order_by(TaskEvent.created_at, TaskEvent.id))).scalars().all()
    )
    return [
        TaskEventOut.model_construct(**event_out(e), task_id=e.task_id, assignee_id=e.assignee_id)
        for e in rows
    ]


# ---- the monthly report's draft (调度: the computed figures filled in) -------------------------


async def report_draft(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    task_id: str,
    period: str,
    assignee_id: str | None,
    english: bool,
) -> dict[str, Any]:
    """The report an assignee opens for ``period``: every indicator of the list, the computed
    ones with their value for the assignee's own scope and the period, the manual ones empty.
    The caller's own part; the lead unit and the issuer may name ``assignee_id``."""
    row = (
        await session.execute(_task_select().where(Task.id == task_id, visible_tasks(p)))
    ).first()
    if row is None:
        raise _not_found_task()
    m = row._mapping
    today = local_today(settings.timezone)
    shaped = task_out(m, p, today, english)
    parts = json_agg.parse(m["parts_json"], ("started_at", "completed_at"))
    # An assignee opens its own part; the issuer, the county and the lead unit any (a part the
    # caller may not see is answered as one that does not exist).
    seen = {x["id"] for x in shaped["assignees"]}
    if assignee_id is not None:
        part = next((x for x in parts if x["id"] == assignee_id and x["id"] in seen), None)
    else:
        part = next((x for x in parts if _mine(p, x)), None)
    if part is None:
        raise ValidationFailed.field(
            "assignee_id",
            "请指明本任务的责任单位（本单位的任务可省略）",
            "Name an assignee of this task (your own part by default)",
            code="unknown_assignee",
        )
    bounds = measures.period_bounds(period)
    if bounds is None:
        raise ValidationFailed.field(
            "period", "期间格式为 2026-11、2026-Q4 或 2026", "A period is 2026-11, 2026-Q4 or 2026"
        )
    tl = await session.get(TaskList, m["task_list_id"])
    assert tl is not None
    indicators = tl.indicators or []
    computed_codes = {i["source"] for i in indicators if i["source"] != "manual"}
    values: dict[str, Any] = {}
    if computed_codes:
        unit = await _unit_info(session, part["unit_id"]) if part["unit_id"] else None
        scope = measures.scope_of(unit, part["enterprise_id"])
        values = await measures.compute(session, settings, scope, *bounds, codes=computed_codes)
    shown = (
        next(x for x in shaped["assignees"] if x["id"] == part["id"])
        if any(x["id"] == part["id"] for x in shaped["assignees"])
        else None
    )
    assert shown is not None
    return {
        "task_id": task_id,
        "assignee": shown,
        "period": period,
        "period_from": bounds[0],
        "period_to": bounds[1],
        "figures": [
            {
                "code": i["code"],
                "name_zh": i["name_zh"],
                "name_en": i.get("name_en"),
                "unit": i["unit"],
                "source": i["source"],
                "value": values.get(i["source"]) if i["source"] != "manual" else None,
            }
            for i in indicators
        ],
    }
