"""Progress reports (进展报告) on a part of a task, one per period of the task's cycle.

- The assignee (its unit's staff or its enterprise's users, ``tasks:progress``) submits for its
  own part while the list is issued; at most one ``submitted`` report per part and period (a
  second is 409 ``report_already_submitted``; a partial unique index settles a race).
- The lead unit or the list's issuer (the ``reopen`` rule: ``service._oversees``) returns a
  submitted report with a reason (退回); the assignee's users are notified in the same
  transaction, and the assignee submits a new one for the period.
- A period is due on its last day (``once``: the task's deadline; none: never late) plus
  ``task_report_grace_days``, to the end of that day in ``settings.timezone``; ``late`` is
  judged at submission and kept.
- Scope: the task's (``visible_tasks``); the issuer, the county, the lead unit and the splitter
  see every part's reports (``sees_every_part``), an assignee only its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import sees_every_part, visible_tasks
from app.core import json_agg
from app.core.clock import local_date, local_today
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.i18n import unit_name
from app.models import Attachment, Enterprise, Task, TaskAssignee, TaskList, TaskReport
from app.models.base import utcnow
from app.schemas.tasks import TaskReportCreate
from app.services import attachments as attachment_service
from app.services import notifications
from app.services.attachments import visible_attachments
from app.services.tasks import service

_FORMS = {
    "monthly": (re.compile(r"^([0-9]{4})-([0-9]{2})$"), "2026-11"),
    "quarterly": (re.compile(r"^([0-9]{4})-Q([1-4])$"), "2026-Q4"),
    "annual": (re.compile(r"^([0-9]{4})$"), "2026"),
    "once": (re.compile(r"^once$"), "once"),
}
_CYCLE_ZH = {"monthly": "按月", "quarterly": "按季", "annual": "按年", "once": "一次性"}


def _not_found_report() -> NotFound:
    return NotFound("进展报告不存在", "Progress report not found")


def _bad_period(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed.field("period", zh, en, code="invalid_period")


# ---- periods ------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def period_bounds(cycle: str, period: str) -> tuple[date, date] | None:
    """The first and last day of ``period`` under ``cycle`` (``once``: None, it has no dates);
    422 ``invalid_period`` when it is not written the cycle's way."""
    pattern, example = _FORMS.get(cycle, _FORMS["once"])
    m = pattern.match(period)
    if m is None:
        raise _bad_period(
            f"该任务{_CYCLE_ZH.get(cycle, '')}报告，报告期应写作 {example}",
            f"The task is reported {cycle}: write the period as {example}",
        )
    if cycle == "once":
        return None
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise _bad_period("报告期年份应在 2000–2100 之间", "The period's year is 2000–2100")
    if cycle == "monthly":
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise _bad_period("月份应为 01–12", "The month is 01–12")
        return date(year, month, 1), _month_end(year, month)
    if cycle == "quarterly":
        q = int(m.group(2))
        return date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    return date(year, 1, 1), date(year, 12, 31)


def _period_of(cycle: str, day: date) -> str:
    if cycle == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if cycle == "quarterly":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def _next_day(cycle: str, period: str) -> date:
    bounds = period_bounds(cycle, period)
    assert bounds is not None
    return bounds[1] + timedelta(days=1)


def periods_between(cycle: str, first: date, last: date) -> Iterator[str]:
    """The periods of ``cycle`` from the one holding ``first`` to the one holding ``last``."""
    if cycle == "once":
        yield "once"
        return
    day = first
    while day <= last:
        period = _period_of(cycle, day)
        yield period
        day = _next_day(cycle, period)


def due_on(
    cycle: str, bounds: tuple[date, date] | None, deadline: date | None, grace: int
) -> date | None:
    """The last day a report for the period is on time (its end, or for ``once`` the task's
    deadline, plus the grace); None: never late."""
    end = deadline if cycle == "once" or bounds is None else bounds[1]
    return end + timedelta(days=grace) if end is not None else None


def current_reports(rows: Any) -> dict[tuple[str, str], Any]:
    """The period's report of each part, by ``(assignee_id, period)``, from its reports in the
    order submitted: the ``submitted`` one wins, else the last returned."""
    latest: dict[tuple[str, str], Any] = {}
    for r in rows:
        key = (r.assignee_id, r.period)
        if key not in latest or latest[key].status != "submitted":
            latest[key] = r
    return latest


def report_state(r: Any, due: date | None, today: date) -> str:
    """``submitted``, ``late``, ``returned``, ``missing`` (past due, none) or ``pending``."""
    if r is not None and r.status == "submitted":
        return "late" if r.late else "submitted"
    if r is not None:
        return "returned"
    return "missing" if due is not None and due < today else "pending"


# ---- reading ----------------------------------------------------------------------------------


def _task_row_select() -> Select[Any]:
    return service._task_select().add_columns(
        TaskList.kind.label("list_kind"),
        TaskList.indicators.label("list_indicators"),
        TaskList.period_from.label("list_period_from"),
        TaskList.period_to.label("list_period_to"),
    )


async def _task_row(session: AsyncSession, p: Principal, task_id: str) -> Any:
    row = (
        await session.execute(_task_row_select().where(Task.id == task_id, visible_tasks(p)))
    ).first()
    if row is None:
        raise service._not_found_task()
    return row._mapping


def _parts(row: Any) -> list[dict[str, Any]]:
    return json_agg.parse(row["parts_json"], ("started_at", "completed_at"))


def _sees_every(p: Principal, row: Any) -> bool:
    return sees_every_part(p, row["issuing_unit_id"], row["county_code"], row["lead_unit_id"]) or (
        p.is_government and p.unit.id == row["split_by_unit_id"]
    )


def _shown_parts(p: Principal, row: Any) -> list[dict[str, Any]]:
    every = _sees_every(p, row)
    return [x for x in _parts(row) if every or service._mine(p, x)]


def _may_return(p: Principal, row: Any) -> bool:
    return (
        service._oversees(p, row)
        and (p.can(Permission.tasks_progress) or p.can(Permission.tasks_issue))
        and row["list_status"] == "issued"
    )


def _report_select() -> Select[Any]:
    return (
        select(
            *TaskReport.__table__.c,
            TaskAssignee.unit_id.label("unit_id"),
            TaskAssignee.enterprise_id.label("enterprise_id"),
            service._PartUnit.name.label("unit_name"),
            service._PartUnit.name_en.label("unit_name_en"),
            Enterprise.name.label("enterprise_name"),
        )
        .join(TaskAssignee, TaskAssignee.id == TaskReport.assignee_id)
        .outerjoin(service._PartUnit, service._PartUnit.id == TaskAssignee.unit_id)
        .outerjoin(Enterprise, Enterprise.id == TaskAssignee.enterprise_id)
    )


def _part_refs(x: Any, english: bool) -> dict[str, Any]:
    return {
        "unit": {"id": x["unit_id"], "name": unit_name(x["unit_name"], x["unit_name_en"], english)}
        if x["unit_id"]
        else None,
        "enterprise": {"id": x["enterprise_id"], "name": x["enterprise_name"]}
        if x["enterprise_id"]
        else None,
    }


def report_out(r: Any, may_return: bool, english: bool) -> dict[str, Any]:
    return {
        "id": r["id"],
        "task_id": r["task_id"],
        "assignee_id": r["assignee_id"],
        **_part_refs(r, english),
        "period": r["period"],
        "text": r["text"],
        "figures": dict(r["figures"] or {}),
        "attachment_ids": list(r["attachment_ids"] or []),
        "status": r["status"],
        "late": bool(r["late"]),
        "due_on": r["due_on"],
        "submitted_at": r["submitted_at"],
        "submitted_by": {"id": r["submitted_by"], "name": r["submitted_by_name"] or ""}
        if r["submitted_by"]
        else None,
        "returned_at": r["returned_at"],
        "returned_by": {"id": r["returned_by"], "name": r["returned_by_name"] or ""}
        if r["returned_by"]
        else None,
        "return_reason": r["return_reason"],
        "allowed_actions": ["return"] if may_return and r["status"] == "submitted" else [],
    }


async def list_reports(
    session: AsyncSession,
    p: Principal,
    task_id: str,
    english: bool,
    *,
    period: str | None = None,
    assignee_id: str | None = None,
) -> list[dict[str, Any]]:
    """The reports on the parts the caller sees, oldest first; two statements."""
    row = await _task_row(session, p, task_id)
    shown = [x["id"] for x in _shown_parts(p, row)]
    stmt = _report_select().where(TaskReport.task_id == task_id, TaskReport.assignee_id.in_(shown))
    if period:
        stmt = stmt.where(TaskReport.period == period)
    if assignee_id:
        stmt = stmt.where(TaskReport.assignee_id == assignee_id)
    rows = (await session.execute(stmt.order_by(TaskReport.submitted_at, TaskReport.id))).all()
    may = _may_return(p, row)
    return [report_out(r._mapping, may, english) for r in rows]


async def read_report(
    session: AsyncSession, p: Principal, task_id: str, report_id: str, english: bool
) -> dict[str, Any]:
    row = await _task_row(session, p, task_id)
    shown = [x["id"] for x in _shown_parts(p, row)]
    found = (
        await session.execute(
            _report_select().where(
                TaskReport.id == report_id,
                TaskReport.task_id == task_id,
                TaskReport.assignee_id.in_(shown),
            )
        )
    ).first()
    if found is None:
        raise _not_found_report()
    return report_out(found._mapping, _may_return(p, row), english)


def _first_day(row: Any, settings: Settings) -> date:
    if row["list_period_from"] is not None:
        return row["list_period_from"]
    return local_date(row["created_at"], settings.timezone)


async def reporting(
    session: AsyncSession, p: Principal, settings: Settings, task_id: str, english: bool
) -> dict[str, Any]:
    """For each part the caller sees, every period begun so far (from the list's
    ``period_from``, or the task's creation, to today, up to the list's ``period_to`` or the
    task's deadline) and its state; two statements."""
    row = await _task_row(session, p, task_id)
    today = local_today(settings.timezone)
    grace = settings.task_report_grace_days
    cycle = row["cycle"]
    last = min(d for d in (today, row["list_period_to"], row["deadline"]) if d is not None)
    first = _first_day(row, settings)
    if cycle == "once":
        periods = ["once"]
    else:
        periods = list(periods_between(cycle, first, last)) if first <= today else []
        if not periods and first <= today:  # a deadline before the start: the first period
            periods = [_period_of(cycle, first)]
    shown = _shown_parts(p, row)
    reports = (
        await session.execute(
            select(
                TaskReport.id,
                TaskReport.assignee_id,
                TaskReport.period,
                TaskReport.status,
                TaskReport.late,
            )
            .where(
                TaskReport.task_id == task_id,
                TaskReport.assignee_id.in_([x["id"] for x in shown]),
            )
            .order_by(TaskReport.submitted_at, TaskReport.id)
        )
    ).all()
    latest = current_reports(reports)
    dues = {
        period: due_on(cycle, period_bounds(cycle, period), row["deadline"], grace)
        for period in periods
    }
    shown.sort(
        key=lambda x: (
            x["enterprise_id"] is not None,
            x["unit_name"] or x["enterprise_name"] or "",
            x["id"],
        )
    )
    parts = []
    for x in shown:
        out = []
        for period in periods:
            r = latest.get((x["id"], period))
            due = dues[period]
            state = report_state(r, due, today)
            out.append(
                {
                    "period": period,
                    "due_on": due,
                    "state": state,
                    "report_id": r.id if r is not None else None,
                }
            )
        parts.append({"assignee_id": x["id"], **_part_refs(x, english), "periods": out})
    return {
        "task_id": task_id,
        "cycle": cycle,
        "grace_days": grace,
        "today": today,
        "parts": parts,
    }


# ---- writing ----------------------------------------------------------------------------------


def _figures(row: Any, figures: dict[str, Decimal]) -> dict[str, str]:
    if row["list_kind"] != "dispatch":
        if figures:
            raise ValidationFailed.field(
                "figures",
                "只有调度指标清单的报告填报指标数值",
                "Only a dispatch list's reports carry figures",
            )
        return {}
    codes = {str(i.get("code")) for i in (row["list_indicators"] or []) if isinstance(i, dict)}
    unknown = sorted(k for k in figures if k not in codes)
    if unknown:
        raise ValidationFailed.field(
            "figures",
            f"清单未设此调度指标：{', '.join(unknown)}",
            f"The list defines no indicator {', '.join(unknown)}",
            code="unknown_indicator",
        )
    return {k: _decimal_text(v) for k, v in figures.items()}


def _decimal_text(value: Decimal) -> str:
    """Plain decimal text, without exponent or trailing zeros: ``1E+2`` → ``"100"``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


async def _check_attachments(session: AsyncSession, p: Principal, ids: list[str]) -> list[str]:
    """The caller's own uploads, or files it sees; anything else is 422."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    found = set(
        (
            await session.execute(
                select(Attachment.id).where(
                    Attachment.id.in_(unique),
                    or_(Attachment.uploaded_by == p.audit_id, visible_attachments(p)),
                )
            )
        )
        .scalars()
        .all()
    )
    missing = [a for a in unique if a not in found]
    if missing:
        raise ValidationFailed.field(
            "attachment_ids",
            f"附件不存在或无权引用：{', '.join(missing)}",
            f"Attachments unknown or not yours to cite: {', '.join(missing)}",
            code="invalid_attachment",
        )
    return unique


def _already() -> Conflict:
    return Conflict(
        "本单位该报告期的进展报告已报送（被退回后方可重新报送）",
        "Your report for this period is already submitted (a new one follows a return)",
        code="report_already_submitted",
    )


def _closed() -> Conflict:
    return Conflict(
        "任务清单未下达或已关闭", "The list is not issued, or is closed", code="invalid_transition"
    )


async def submit(
    session: AsyncSession, p: Principal, settings: Settings, task_id: str, body: TaskReportCreate
) -> str:
    row = await _task_row(session, p, task_id)
    part = next((x for x in _parts(row) if service._mine(p, x)), None)
    if part is None or not p.can(Permission.tasks_progress):
        raise Forbidden(
            "只有该任务的责任单位可报送进展报告",
            "Only an assignee reports on its own part of the task",
            code="action_forbidden",
        )
    if row["list_status"] != "issued":
        raise _closed()
    cycle = row["cycle"]
    bounds = period_bounds(cycle, body.period)
    today = local_today(settings.timezone)
    if bounds is not None:
        if bounds[0] > today:
            raise _bad_period("报告期尚未开始", "The period has not begun yet")
        if row["list_period_to"] and bounds[0] > row["list_period_to"]:
            raise _bad_period("报告期在清单期限之后", "The period is after the list's period")
        if row["list_period_from"] and bounds[1] < row["list_period_from"]:
            raise _bad_period("报告期在清单期限之前", "The period is before the list's period")
    figures = _figures(row, body.figures)
    attachment_ids = await _check_attachments(session, p, body.attachment_ids)
    current = (
        await session.execute(
            select(TaskReport.id).where(
                TaskReport.assignee_id == part["id"],
                TaskReport.period == body.period,
                TaskReport.status == "submitted",
            )
        )
    ).first()
    if current is not None:
        raise _already()
    now = utcnow()
    due = due_on(cycle, bounds, row["deadline"], settings.task_report_grace_days)
    late = due is not None and local_date(now, settings.timezone) > due
    report = TaskReport(
        task_list_id=row["task_list_id"],
        task_id=task_id,
        assignee_id=part["id"],
        period=body.period,
        text=body.text,
        figures=figures,
        attachment_ids=attachment_ids,
        status="submitted",
        late=late,
        due_on=due,
        submitted_at=now,
        submitted_by=p.audit_id,
        submitted_by_name=p.display_name or p.name,
    )
    session.add(report)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same part and period submitted at the same moment
        raise _already() from exc
    await attachment_service.bind_to_task_report(session, p, report.id, attachment_ids)
    session.add(
        service._event(
            p,
            row["task_list_id"],
            "report",
            None,
            "submitted",
            task_id=task_id,
            assignee_id=part["id"],
            details={"report_id": report.id, "period": body.period, "late": late},
        )
    )
    await session.flush()
    return report.id


async def return_report(
    session: AsyncSession, p: Principal, task_id: str, report_id: str, reason: str
) -> None:
    """退回: the lead unit or the issuer sends a submitted report back; the assignee's users
    are told (``task_report_returned``) in the same transaction."""
    row = await _task_row(session, p, task_id)
    shown = {x["id"]: x for x in _shown_parts(p, row)}
    report = await session.get(TaskReport, report_id)
    if report is None or report.task_id != task_id or report.assignee_id not in shown:
        raise _not_found_report()
    if not (
        service._oversees(p, row)
        and (p.can(Permission.tasks_progress) or p.can(Permission.tasks_issue))
    ):
        raise Forbidden(
            "只有牵头单位或清单下达单位可退回进展报告",
            "Only the lead unit or the list's issuer returns a report",
            code="action_forbidden",
        )
    if row["list_status"] != "issued":
        raise _closed()
    now = utcnow()
    done = await session.execute(
        update(TaskReport)
        .where(TaskReport.id == report_id, TaskReport.status == "submitted")
        .values(
            status="returned",
            returned_at=now,
            returned_by=p.audit_id,
            returned_by_name=p.display_name or p.name,
            return_reason=reason,
        )
        .execution_options(synchronize_session="fetch")
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "该进展报告已退回", "The report is already returned", code="invalid_transition"
        )
    part = shown[report.assignee_id]
    session.add(
        service._event(
            p,
            row["task_list_id"],
            "return",
            "submitted",
            "returned",
            task_id=task_id,
            assignee_id=part["id"],
            note=reason,
            details={"report_id": report_id, "period": report.period},
        )
    )
    await session.flush()
    await notifications.notify(
        session,
        "task_report_returned",
        {
            "title": row["title"],
            "code": row["code"],
            "period": report.period,
            "reason": reason,
            "unit": p.unit.name,
        },
        link=f"/api/v1/tasks/{task_id}/reports/{report_id}",
        object_type="task_report",
        object_id=report_id,
        to_units=[part["unit_id"]] if part["unit_id"] else [],
        to_enterprises=[part["enterprise_id"]] if part["enterprise_id"] else [],
    )
