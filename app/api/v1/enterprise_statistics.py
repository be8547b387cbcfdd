from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.enterprises import EnterpriseFilters
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.enterprise_statistics import (
    ENTERPRISE_STATS_GROUPS,
    EnterpriseStats,
    EnterpriseStatsGroupBy,
)
from app.services.enterprise_statistics import enterprise_statistics

router = APIRouter(tags=["statistics"], route_class=ApiRoute)


@router.get(
    "/statistics/enterprises",
    operation_id="enterprise_statistics",
    response_model=EnterpriseStats,
    summary="Enterprise statistics",
)
async def get_enterprise_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    filters: EnterpriseFilters,
    group_by: Annotated[
        EnterpriseStatsGroupBy | None,
        Query(
            description="One or two of " + ", ".join(ENTERPRISE_STATS_GROUPS) + " "
            "(comma-separated, or the parameter repeated)"
        ),
    ] = None,
) -> Response:
    """Enterprises (生产经营单位) in the caller's scope, counted: `enterprises` and
    `with_open_major_hazards` (those with at least one open major hazard). The same filters as
    `GET /api/v1/enterprises` (`q`, `region_code`, `sector`, `risk_color`, `status`,
    `enforcement_department_id`) select the same enterprises, so `enterprises` equals the
    list's `total` for the same filters. `group_by` (one or two of `town`, `sector`,
    `risk_color`, `standardization_grade`, `scale`, `status`; comma-separated or repeated) adds
    one row per group with its `key`, its labels (`Accept-Language: en` for English) and each
    dimension as a field; an optional field the record leaves empty groups under `unknown`
    (未填报). `totals` is always sent; each enterprise is in exactly one group.

    Who: government roles and machine clients with `statistics:read` (not enterprise users:
    403 `forbidden`). Errors: 422 `validation_error` (a bad grouping names the valid ones),
    `unknown_parameter`, `repeated_parameter`.
    """
    groups_wanted = list(dict.fromkeys(group_by)) if group_by else []
    groups, totals = await enterprise_statistics(
        session, p, groups_wanted, filters, wants_english(request)
    )
    return json_response(EnterpriseStats(group_by=groups_wanted, groups=groups, totals=totals))
