"""The enforcement figures (over the inspection list's filters) and the self-inspection
compliance list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.inspections import Filters
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.inspection_statistics import (
    ENFORCEMENT_GROUPS,
    PERIOD_PATTERN,
    EnforcementGroupBy,
    EnforcementStats,
    SelfInspectionCompliance,
)
from app.schemas.org_units import SectorCode
from app.services.inspection_statistics import (
    SELF_DEFAULT_SORT,
    SELF_SORTS,
    enforcement_statistics,
    self_inspection_compliance,
)

router = APIRouter(tags=["statistics"], route_class=ApiRoute)


@router.get(
    "/statistics/enforcement",
    operation_id="enforcement_statistics",
    response_model=EnforcementStats,
    summary="Enforcement figures",
)
async def get_enforcement_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    filters: Filters,
    group_by: Annotated[
        EnforcementGroupBy | None,
        Query(
            description="One or two of " + ", ".join(ENFORCEMENT_GROUPS) + " (comma-separated, "
            "or the parameter repeated)"
        ),
    ] = None,
) -> Response:
    """Enforcement figures (执法统计) over the inspections the caller sees, selected by the same
    filters as `GET /api/v1/inspections`, so each figure equals what that list gives:
    `inspections` (its `total`), `enterprises_covered` (distinct enterprises), `findings`,
    `major_findings`, `exempt_findings` (依法不予处罚), `decisions` (per decision kind, the
    inspections whose outcome holds it: the list's `decision=` total), `entity_fines_yuan` and
    `person_fines_yuan` (exact sums, yuan with two decimals). Without `status` the figures count
    finished records (`completed`, `signed`), without `kind` every kind but `self_inspection`:
    both are listed in `implied_filters`.

    Key enterprises (重点企业检查全覆盖): `key_enterprises` are the enterprises of the caller's
    scope in a high-risk sector or rated red or orange (not closed) that match the enterprise
    filters (`enterprise_id`, `region_code`, `sector`), inspected or not — per town or sector
    when the grouping has those dimensions, else of the whole selection; `key_enterprises_covered`
    those with an inspection in the group, and `key_coverage_rate` the ratio.

    `group_by`: `conducting_unit` (`none` for self-inspections), `town` and `sector` (of the
    enterprise), `month` (of completion, local time; `none` when not completed) and `kind`, one
    or two. `zero_penalty` (零处罚/只检查不处罚) lists the conducting units whose completed or signed
    enforcement inspections (every kind but `self_inspection` and `expert_guidance`) of the
    selection with findings — not all of them exempt — decided no penalty (suspension, fine,
    closure, referral, blacklist) on any of them.

    Who: government roles and machine clients with `statistics:read` (not enterprise users or
    experts: 403 `forbidden`). Errors: 422 `validation_error` (a bad grouping names the valid
    ones), `unknown_parameter`, `repeated_parameter`.
    """
    groups = list(dict.fromkeys(group_by)) if group_by else []
    out = await enforcement_statistics(
        session, p, request.app.state.settings, groups, filters, wants_english(request)
    )
    return json_response(out)


@router.get(
    "/statistics/self-inspection",
    operation_id="self_inspection_compliance",
    response_model=SelfInspectionCompliance,
    summary="Enterprises behind with their self-inspections",
)
async def get_self_inspection_compliance(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    params: Annotated[ListParams, Depends(list_params_for(SELF_SORTS, SELF_DEFAULT_SORT))],
    period: Annotated[
        str,
        Query(
            pattern=PERIOD_PATTERN,
            description="A quarter (`2026-Q4`) or a month (`2026-11`)",
            examples=["2026-Q4"],
        ),
    ],
    region_code: Annotated[str | None, Query(pattern=r"^\d{1,12}$", description="Prefix")] = None,
    sector: any_of(SectorCode) = None,
) -> Response:
    """The operating enterprises of the caller's scope that are behind with their
    self-inspections (企业自查) for `period`, one page at a time (`limit`, `cursor`,
    `include_total`; `sort` `region_code` or `name`), and on every page the period's totals
    (`enterprises`, `behind`, `by_town`, `by_sector`).

    The required frequency (主要负责人每季度至少一次，高危行业每月): monthly for an enterprise of a
    high-risk sector, quarterly for the others. The sub-periods checked are, for a monthly one,
    each month of the period, and for a quarterly one the quarter that is the period or holds
    the month — only those begun by today (local time), the current one included, listed in
    `required`. An enterprise is behind when one of its sub-periods has no self-inspection
    (kind `self_inspection`) completed or signed with `completed_at` within it; `missing` names
    them, `last_self_inspection_on` is the local date of its latest one at any time. A period
    not yet begun has no sub-period and nobody is behind.

    Who: government roles and machine clients with `statistics:read` (not enterprise users or
    experts: 403 `forbidden`). Errors: 422 `validation_error` (a period neither `YYYY-Qn` nor
    `YYYY-MM`, a bad cursor), `unknown_parameter`, `repeated_parameter`.
    """
    out = await self_inspection_compliance(
        session,
        p,
        request.app.state.settings,
        params,
        period,
        region_code=region_code,
        sectors=tuple(sector) if sector else None,
        english=wants_english(request),
    )
    body = out.model_dump(mode="json")
    if out.total is None:
        body.pop("total")
    return json_response(body)
