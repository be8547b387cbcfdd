from __future__ import annotations

from pydantic import Field

from app.schemas.common import ResponseModel
from app.schemas.org_units import SectorCode


class CatalogEntry(ResponseModel):
    code: str
    name_zh: str
    name_en: str


class SectorEntry(CatalogEntry):
    high_risk: bool


class TownEntry(CatalogEntry):
    """A town of the caller's county: ``code`` is its 9-digit region code (the value of the
    ``region_code`` filter); ``name_en`` falls back to the Chinese name when none is set."""

    id: str
    region_code: str


class BureauEntry(CatalogEntry):
    """A sectoral bureau of the caller's county: ``code`` is its id (the value of
    ``enforcement_department_id``); ``name_en`` falls back to the Chinese name."""

    id: str
    sectors: list[SectorCode] = Field(description="The sectors it supervises")  # type: ignore[valid-type]


class JudgmentStandardEntry(CatalogEntry):
    """A 重大事故隐患判定标准: the document that issued it and the sectors it is written for; its
    clauses at ``GET /api/v1/catalogs/judgment-standards/{standard_code}``."""

    document: str = Field(description="The issuing document (文号) or standard number")
    sectors: list[SectorCode] = Field(description="The sectors it is written for")  # type: ignore[valid-type]
    clause_count: int = Field(description="How many clauses the catalogue lists for it")


class JudgmentClauseEntry(ResponseModel):
    """A clause of a standard: the value of a major hazard's ``judgment.clause``."""

    code: str = Field(
        description="From the standard's numbering: 第四条第（三）项 is 4.3, item 四 of a list is 4, "
        "GB clause 5.5 is 5.5"
    )
    text_zh: str = Field(description="A short paraphrase, not the standard's wording")
    text_en: str
    sectors: list[SectorCode] = Field(description="The sectors it is written for")  # type: ignore[valid-type]


class JudgmentStandardOut(JudgmentStandardEntry):
    clauses: list[JudgmentClauseEntry]


class ProblemCodeEntry(ResponseModel):
    """A problem `code` the service can answer; its `type` URI is `/problems/{code}`."""

    code: str
    status: int
    title_zh: str
    title_en: str


class CatalogsOut(ResponseModel):
    sectors: list[SectorEntry]
    towns: list[TownEntry]
    bureaus: list[BureauEntry]
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
    hazard_event_actions: list[CatalogEntry]
    event_actor_kinds: list[CatalogEntry]
    reminder_kinds: list[CatalogEntry]
    notification_kinds: list[CatalogEntry]
    job_kinds: list[CatalogEntry]
    job_statuses: list[CatalogEntry]
    escalation_levels: list[CatalogEntry]
    accountability_rungs: list[CatalogEntry]
    accountability_target_types: list[CatalogEntry]
    unit_flag_reasons: list[CatalogEntry]
    attachment_phases: list[CatalogEntry]
    judgment_standards: list[JudgmentStandardEntry]
    public_hazard_statuses: list[CatalogEntry]
    inspection_kinds: list[CatalogEntry]
    inspection_statuses: list[CatalogEntry]
    inspection_actions: list[CatalogEntry]
    inspection_event_actions: list[CatalogEntry]
    inspection_results: list[CatalogEntry]
    decision_kinds: list[CatalogEntry]
    risk_levels: list[CatalogEntry]
    risk_point_kinds: list[CatalogEntry]
    hazard_factors: list[CatalogEntry] = Field(description="危险有害因素, GB/T 13861-2022 codes")
    accident_types: list[CatalogEntry] = Field(description="事故类型, GB 6441-1986")
    control_levels: list[CatalogEntry]
    measure_kinds: list[CatalogEntry]
    coordinate_systems: list[CatalogEntry]
    report_statuses: list[CatalogEntry]
    report_actions: list[CatalogEntry]
    report_route_reasons: list[CatalogEntry]
    problem_codes: list[ProblemCodeEntry]
