from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.hazards import Filters
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.accountability import OrgUnitKind, UnitStats
from app.schemas.common import any_of
from app.services.unit_statistics import unit_overview

router = APIRouter(tags=["statistics"], route_class=ApiRoute)


@router.get(
    "/statistics/units",
    operation_id="unit_statistics",
    response_model=UnitStats,
    summary="Unit figures for accountability",
)
async def get_unit_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    filters: Filters,
    kind: any_of(OrgUnitKind, "Towns, bureaus or both") = None,
    flagged: Annotated[
        bool | None, Query(description="Only the units flagged (true) or not flagged (false)")
    ] = None,
) -> Response:
    """For each town and bureau the caller sees (county staff and admins: every one of the
    county; a town or a bureau: itself), its hazard figures over its own scope (a town: the
    enterprises under its region code; a bureau: its sectors and the enterprises naming it as
    enforcement department): `found`, `closed`, `open`, `overdue`, `major_open`,
    `major_overdue`, `rectification_rate` (closed / found) and `overdue_rate` (overdue / open,
    0 when none is open); `flagged` with its `reasons` when it passes the thresholds
    (`overdue_rate` above `ANJIAN_ACCOUNTABILITY_OVERDUE_RATE_THRESHOLD` with at least
    `ANJIAN_ACCOUNTABILITY_MIN_OPEN` open hazards; at least
    `ANJIAN_ACCOUNTABILITY_MAJOR_OVERDUE_THRESHOLD` major hazards overdue); its latest
    accountability record; and the rungs the caller may record for it now. The figures equal
    the hazard list of a user of that unit; the same filters as `GET /api/v1/hazards` narrow
    them (voided hazards are left out unless `status` names them). Towns come first by region
    code, then bureaus by name.

    Who: government roles and machine clients with `statistics:read` (`last_accountability`
    is null without `accountability:read`). Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    out = await unit_overview(
        session,
        p,
        request.app.state.settings,
        filters,
        kinds=tuple(kind) if kind else None,
        flagged=flagged,
        english=wants_english(request),
    )
    return json_response(out)
