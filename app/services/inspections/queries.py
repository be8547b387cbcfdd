"""The inspection filters, shared by the list and the enforcement figures, so their numbers agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, not_, select

from app.auth.principal import Principal
from app.auth.scope import visible_inspections
from app.core.config import Settings
from app.models import Enterprise, Inspection, InspectionDecision
from app.services import external_ids
from app.services.hazards.queries import period


@dataclass(frozen=True)
class InspectionFilters:
    """Enumeration filters hold every value asked for (any of them matches, SQL ``IN``)."""

    kind: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    enterprise_id: str | None = None
    conducting_unit_id: str | None = None
    region_code: str | None = None
    sector: tuple[str, ...] | None = None
    planned_for_from: date | None = None
    planned_for_to: date | None = None
    completed_at_from: datetime | date | None = None
    completed_at_to: datetime | date | None = None
    has_findings: bool | None = None
    # Any of these decision kinds in the outcome (责令整改, 罚款 …).
    decision: tuple[str, ...] | None = None
    campaign: str | None = None
    draw_id: str | None = None
    # ``<system>:<id>``: the inspection another system knows by this id.
    external_id: str | None = None


def conditions(p: Principal, f: InspectionFilters, settings: Settings) -> list[ColumnElement[bool]]:
    """WHERE clauses over ``Inspection`` joined with ``Enterprise``; scope always comes first."""
    out: list[ColumnElement[bool]] = [visible_inspections(p)]
    if f.kind:
        out.append(Inspection.kind.in_(f.kind))
    if f.status:
        out.append(Inspection.status.in_(f.status))
    if f.enterprise_id:
        out.append(Inspection.enterprise_id == f.enterprise_id)
    if f.conducting_unit_id:
        out.append(Inspection.conducting_unit_id == f.conducting_unit_id)
    if f.region_code:
        out.append(Enterprise.region_code.startswith(f.region_code))
    if f.sector:
        out.append(Enterprise.sector.in_(f.sector))
    if f.planned_for_from is not None:
        out.append(Inspection.planned_for >= f.planned_for_from)
    if f.planned_for_to is not None:
        out.append(Inspection.planned_for <= f.planned_for_to)
    out += period(Inspection.completed_at, f.completed_at_from, f.completed_at_to, settings)
    if f.has_findings is not None:
        has = Inspection.findings_count > 0
        out.append(has if f.has_findings else not_(has))
    if f.decision:
        out.append(
            exists(
                select(InspectionDecision.id).where(
                    InspectionDecision.inspection_id == Inspection.id,
                    InspectionDecision.kind.in_(f.decision),
                )
            )
        )
    if f.campaign:
        out.append(Inspection.campaign == f.campaign)
    if f.draw_id:
        out.append(Inspection.draw_id == f.draw_id)
    if f.external_id:
        out.append(external_ids.named("inspection", Inspection.id, f.external_id))
    return out
