from __future__ import annotations

from pydantic import BaseModel


class CatalogEntry(BaseModel):
    code: str
    name_zh: str
    name_en: str


class SectorEntry(CatalogEntry):
    high_risk: bool


class TownEntry(CatalogEntry):
    id: str
    region_code: str


class ProblemCodeEntry(BaseModel):
    """A problem `code` the service can answer; its `type` URI is `/problems/{code}`."""

    code: str
    status: int
    title_zh: str
    title_en: str


class CatalogsOut(BaseModel):
    sectors: list[SectorEntry]
    towns: list[TownEntry]
    roles: list[CatalogEntry]
    permissions: list[CatalogEntry]
    org_unit_kinds: list[CatalogEntry]
    enterprise_scales: list[CatalogEntry]
    risk_colors: list[CatalogEntry]
    standardization_grades: list[CatalogEntry]
    enterprise_statuses: list[CatalogEntry]
    hazard_levels: list[CatalogEntry]
    hazard_sources: list[CatalogEntry]
    hazard_categories: list[CatalogEntry]
    hazard_statuses: list[CatalogEntry]
    hazard_actions: list[CatalogEntry]
    escalation_levels: list[CatalogEntry]
    attachment_phases: list[CatalogEntry]
    judgment_standards: list[CatalogEntry]
    problem_codes: list[ProblemCodeEntry]
