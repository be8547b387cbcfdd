"""Inspection rows written straight into the database, with the columns the inspection service
writes (number, county, kind, enterprise, conducting unit, plan, status and times, the
denormalised finding counts and fines, decision rows, assignees), for the figures' tests and
the bench."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from app.core.ids import new_id
from app.models import Inspection, InspectionAssignee, InspectionDecision

_numbers = count(1)
_STARTED = ("in_progress", "completed", "signed")
_DONE = ("completed", "signed")


def inspection(
    enterprise_id: str,
    *,
    unit: str | None,
    kind: str = "routine",
    status: str = "signed",
    completed_at: datetime | str | None = None,
    planned_for: date | None = None,
    findings: int = 0,
    major: int = 0,
    exempt: int = 0,
    entity_fine_fen: int = 0,
    person_fine_fen: int = 0,
    decisions: tuple[str, ...] = (),
    inspectors: tuple[str, ...] = (),
    campaign: str | None = None,
    county_code: str = "341302",
) -> tuple[Inspection, list[Any]]:
    """One inspection and its child rows (decisions, assignees), not yet added. A finished one
    (completed, signed) is completed on ``completed_at`` (default: now); ``decisions`` carry
    the fines (the fine decision holds both sums, as 一案双罚 does)."""
    if isinstance(completed_at, str):
        completed_at = datetime.fromisoformat(completed_at)
    done = status in _DONE
    if done and completed_at is None:
        completed_at = datetime.now(UTC) - timedelta(minutes=5)
    if not done:
        completed_at = None
    started = (completed_at or datetime.now(UTC)) - timedelta(hours=2)
    n = next(_numbers)
    row = Inspection(
        id=new_id(),
        number=f"J2026-{n:06d}",
        county_code=county_code,
        kind=kind,
        enterprise_id=enterprise_id,
        conducting_unit_id=unit,
        campaign=campaign,
        planned_for=planned_for or (started.date() if status != "planned" else date.today()),
        started_at=started if status in _STARTED else None,
        completed_at=completed_at,
        signed_at=completed_at if status == "signed" else None,
        status=status,
        inspectors=list(inspectors),
        findings_count=findings,
        major_findings_count=major,
        exempt_findings_count=exempt,
        entity_fine_fen=entity_fine_fen,
        person_fine_fen=person_fine_fen,
    )
    children: list[Any] = []
    outcome = []
    for d in decisions:
        fine = d == "fine"
        values = {
            "kind": d,
            "entity_fine_fen": entity_fine_fen if fine else None,
            "person_fine_fen": person_fine_fen if fine and person_fine_fen else None,
            "person_name": "张某" if fine and person_fine_fen else None,
        }
        outcome.append(values)
        children.append(InspectionDecision(inspection_id=row.id, **values))
    # the outcome as the service stores it (the record's JSON; the rows are for the figures)
    row.outcome = {"decisions": outcome, "note": None} if decisions else None
    for user_id in inspectors:
        children.append(InspectionAssignee(inspection_id=row.id, user_id=user_id, role="inspector"))
    return row, children


async def add_inspections(app: Any, specs: list[dict[str, Any]]) -> list[str]:
    """Writes ``inspection(**spec)`` for each spec in one transaction; answers their ids."""
    ids = []
    async with app.state.sessionmaker() as s:
        rows, children = [], []
        for spec in specs:
            row, kids = inspection(**spec)
            rows.append(row)
            children += kids
            ids.append(row.id)
        s.add_all(rows)
        await s.flush()
        s.add_all(children)
        await s.commit()
    return ids
