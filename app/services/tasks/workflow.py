"""The two tables of task lists (app/services/lifecycle.py is the machinery that reads them).

A list::

    draft ──issue──▶ issued ──close──▶ closed

An assignee's part of a task (each part moves on its own; ``overdue`` is computed from the
deadline, never a state)::

    not_started ──start──▶ in_progress ──complete──▶ done
         └──────────────complete──────────────────▶ done ──reopen (lead unit, issuer)──▶ in_progress

A part split into sub-tasks follows them (services/tasks/service.py: ``derive``): it is done
when every sub-task part is, and ``complete`` is 409 while one is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.services.lifecycle import Machine, Transition

PART_STATES = ("not_started", "in_progress", "done")


@dataclass(frozen=True, slots=True)
class ListFacts:
    status: str
    issuing_unit_id: str
    county_code: str
    task_count: int
    unassigned: int  # top-level tasks without an assignee


def issuer(p: Principal, f: ListFacts) -> bool:
    """The issuing unit's managers, and the county's admins (tasks:issue)."""
    if not (p.is_government and p.can(Permission.tasks_issue)):
        return False
    if p.is_admin:
        return p.unit.county_code == f.county_code
    return p.unit.id == f.issuing_unit_id


def _ready(p: Principal, f: ListFacts) -> str | None:
    if f.task_count == 0:
        return "清单中尚无任务|The list holds no task yet"
    if f.unassigned:
        return f"有 {f.unassigned} 项任务未指定责任单位|{f.unassigned} task(s) have no assignee"
    return None


LIST_MACHINE: Machine[ListFacts] = Machine(
    ("任务清单", "task list"),
    (
        Transition("issue", frozenset({"draft"}), "issued", issuer, _ready),
        Transition("close", frozenset({"issued"}), "closed", issuer),
    ),
)


@dataclass(frozen=True, slots=True)
class PartFacts:
    """One assignee's part, as the caller meets it."""

    status: str
    list_status: str
    mine: bool  # the caller acts for this part's unit or enterprise
    oversees: bool  # the caller's unit leads the task, issued its list or split it
    open_subtasks: int  # sub-task parts split from this part not yet done
    split: bool  # the part has sub-tasks (its progress follows them)


def _owner(p: Principal, f: PartFacts) -> bool:
    return f.mine and p.can(Permission.tasks_progress)


def _overseer(p: Principal, f: PartFacts) -> bool:
    return f.oversees and (p.can(Permission.tasks_progress) or p.can(Permission.tasks_issue))


def _issued(p: Principal, f: PartFacts) -> str | None:
    if f.list_status != "issued":
        return "任务清单未下达或已关闭|The list is not issued, or is closed"
    return None


def _startable(p: Principal, f: PartFacts) -> str | None:
    if f.split:
        return (
            "该任务已分解，进度由子任务决定|The part is split: its progress follows the sub-tasks"
        )
    return _issued(p, f)


def _completable(p: Principal, f: PartFacts) -> str | None:
    if f.open_subtasks:
        return f"尚有 {f.open_subtasks} 项子任务未完成|{f.open_subtasks} sub-task part(s) are still open"
    return _issued(p, f)


PART_MACHINE: Machine[PartFacts] = Machine(
    ("任务", "task"),
    (
        Transition("start", frozenset({"not_started"}), "in_progress", _owner, _startable),
        Transition(
            "complete", frozenset({"not_started", "in_progress"}), "done", _owner, _completable
        ),
        Transition("reopen", frozenset({"done"}), "in_progress", _overseer, _issued),
    ),
)
