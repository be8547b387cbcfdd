"""The month's dispatch table (调度表) of a dispatch list: one row per assignee part the caller
sees, one column group per indicator with the value submitted in the period's current report,
the platform's computed value (computed indicators) and the difference, and the report's
state (submitted, late, returned, missing, pending). The workbook (``dispatch_xlsx``) is
written from the same dict, so the two never differ."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import sees_every_part, visible_task_lists, visible_tasks
from app.core import json_agg
from app.core.clock import local_today
from app.core.config import Settings
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models import Task, TaskList, TaskReport
from app.models.base import utcnow
from app.services.tasks import measures, reports, service

# The period form each cycle reports in (a dispatch table is read for one period).
_FORM = {"monthly": "month", "quarterly": "quarter", "annual": "year"}


def _form(period: str) -> str:
    return "quarter" if "-Q" in period else ("month" if "-" in period else "year")


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


async def dispatch_table(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    list_id: str,
    period: str,
    english: bool,
) -> dict[str, Any]:
    tl = (
        await session.execute(select(TaskList).where(TaskList.id == list_id, visible_task_lists(p)))
    ).scalar_one_or_none()
    if tl is None:
        raise NotFound("任务清单不存在", "Task list not found")
    if tl.kind != "dispatch":
        raise Conflict(
            "只有调度指标清单有调度表",
            "Only a dispatch list has a dispatch table",
            code="not_a_dispatch_list",
        )
    bounds = measures.period_bounds(period)
    if bounds is None:
        raise ValidationFailed.field(
            "period",
            "期间格式为 2026-11、2026-Q4 或 2026",
            "A period is 2026-11, 2026-Q4 or 2026",
            code="invalid_period",
        )
    today = local_today(settings.timezone)
    grace = settings.task_report_grace_days
    indicators = tl.indicators or []
    computed_codes = {i["source"] for i in indicators if i["source"] != "manual"}
    tasks = (
        await session.execute(
            service._task_select()
            .where(Task.task_list_id == list_id, Task.parent_task_id.is_(None), visible_tasks(p))
            .order_by(Task.code, Task.id)
        )
    ).all()
    rows: list[dict[str, Any]] = []
    parts_of: list[tuple[Any, dict[str, Any]]] = []
    for t in tasks:
        m = t._mapping
        if _FORM.get(m["cycle"]) != _form(period):
            continue  # a task reported in another cycle has no report for this period
        every = sees_every_part(p, m["issuing_unit_id"], m["county_code"], m["lead_unit_id"])
        for x in json_agg.parse(m["parts_json"], ("started_at", "completed_at")):
            if every or service._mine(p, x):
                parts_of.append((m, x))
    latest: dict[str, Any] = {}
    if parts_of:
        found = (
            await session.execute(
                select(TaskReport)
                .where(
                    TaskReport.assignee_id.in_([x["id"] for _, x in parts_of]),
                    TaskReport.period == period,
                )
                .order_by(TaskReport.submitted_at, TaskReport.id)
            )
        ).scalars()
        latest = {part: r for (part, _), r in reports.current_reports(found).items()}
    parts_of.sort(
        key=lambda mx: (
            mx[0]["code"],
            mx[1]["enterprise_id"] is not None,
            mx[1]["unit_name"] or mx[1]["enterprise_name"] or "",
        )
    )
    totals: dict[str, Decimal] = {}
    for m, x in parts_of:
        r = latest.get(x["id"])
        due = reports.due_on(m["cycle"], bounds, m["deadline"], grace)
        state = reports.report_state(r, due, today)
        submitted = (r.figures or {}) if r is not None and r.status == "submitted" else {}
        computed: dict[str, Decimal] = {}
        if computed_codes:
            unit = await service._unit_info(session, x["unit_id"]) if x["unit_id"] else None
            scope = measures.scope_of(unit, x["enterprise_id"])
            computed = await measures.compute(
                session, settings, scope, *bounds, codes=computed_codes
            )
        values = []
        for i in indicators:
            given = Decimal(submitted[i["code"]]) if i["code"] in submitted else None
            calc = computed.get(i["source"]) if i["source"] != "manual" else None
            if given is not None and i["unit"] != "%":
                totals[i["code"]] = totals.get(i["code"], Decimal(0)) + given
            values.append(
                {
                    "code": i["code"],
                    "submitted": _number(given),
                    "computed": _number(calc),
                    "difference": _number(given - calc)
                    if given is not None and calc is not None
                    else None,
                }
            )
        rows.append(
            {
                "task": {"id": m["id"], "name": f"{m['code']} {m['title']}"},
                "assignee_id": x["id"],
                **reports._part_refs(x, english),
                "state": state,
                "due_on": due,
                "report_id": r.id if r is not None else None,
                "submitted_at": r.submitted_at
                if r is not None and r.status == "submitted"
                else None,
                "values": values,
            }
        )
    return {
        "task_list": {"id": tl.id, "name": tl.title},
        "period": period,
        "period_from": bounds[0],
        "period_to": bounds[1],
        "generated_at": utcnow(),
        "indicators": [
            {
                "code": i["code"],
                "name_zh": i["name_zh"],
                "name_en": i.get("name_en"),
                "unit": i["unit"],
                "source": i["source"],
            }
            for i in indicators
        ],
        "rows": rows,
        "totals": [
            {
                "code": i["code"],
                "submitted": _number(totals.get(i["code"])) if i["unit"] != "%" else None,
            }
            for i in indicators
        ],
    }
