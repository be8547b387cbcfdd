"""The daily notice of task parts past their deadline (任务逾期), run by the jobs mechanism with
the hazards' overdue run (app/services/jobs.py: ``daily``). ``overdue`` itself is never stored:
it is computed on every read; this only tells each overdue part's people once
(``notify(once=True)``), in the job's transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Task, TaskAssignee, TaskList
from app.services.notifications import notify


async def notify_overdue(session: AsyncSession, today: date) -> dict[str, int]:
    """Tells the users of every part not done by its deadline (issued lists only) that it is
    overdue, each person once per task; answers the parts found and notifications written."""
    rows = (
        await session.execute(
            select(
                Task.id,
                Task.code,
                Task.title,
                Task.deadline,
                TaskAssignee.unit_id,
                TaskAssignee.enterprise_id,
            )
            .join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .join(TaskList, TaskList.id == Task.task_list_id)
            .where(
                TaskList.status == "issued",
                TaskAssignee.status != "done",
                Task.deadline.is_not(None),
                Task.deadline < today,
            )
        )
    ).all()
    by_task: dict[str, dict[str, Any]] = defaultdict(lambda: {"units": [], "enterprises": []})
    for r in rows:
        entry = by_task[r.id]
        entry["data"] = {
            "code": r.code,
            "title": r.title,
            "deadline": r.deadline.isoformat(),
            "days_overdue": (today - r.deadline).days,
        }
        if r.unit_id:
            entry["units"].append(r.unit_id)
        if r.enterprise_id:
            entry["enterprises"].append(r.enterprise_id)
    written = 0
    for task_id, entry in by_task.items():
        written += await notify(
            session,
            "task_overdue",
            entry["data"],
            link=f"/api/v1/tasks/{task_id}",
            object_type="task",
            object_id=task_id,
            to_units=entry["units"],
            to_enterprises=entry["enterprises"],
            once=True,
        )
    return {"parts": len(rows), "notifications": written}
