"""``/api/v1/risk-points``: the enterprise's risk register (安全风险分级管控)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.checklists import ChecklistOut
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.org_units import SectorCode
from app.schemas.risks import (
    RiskLevel,
    RiskPointCreate,
    RiskPointEventList,
    RiskPointKind,
    RiskPointOut,
    RiskPointPage,
    RiskPointStatus,
    RiskPointTransition,
    RiskPointUpdate,
    RiskStats,
)
from app.services.risks import checklist as risk_checklist
from app.services.risks import service
from app.services.risks.statistics import risk_statistics

router = APIRouter(tags=["risks"], route_class=ApiRoute)
PointId = Annotated[str, Path(max_length=64)]


async def risk_point_filters(
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    level: any_of(RiskLevel) = None,
    kind: any_of(RiskPointKind) = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="Prefix, via the enterprise")
    ] = None,
    sector: any_of(SectorCode, "Via the enterprise") = None,
    follow_up: Annotated[bool | None, Query(description="Marked for follow-up")] = None,
    status: any_of(RiskPointStatus, "Default active") = None,
) -> dict[str, Any]:
    """The list's filters, shared by the risk-point map and the risk figures."""
    return {
        "enterprise_id": enterprise_id,
        "level": level,
        "kind": kind,
        "region_code": region_code,
        "sector": sector,
        "follow_up": follow_up,
        "status": status,
    }


RiskPointFilters = Annotated[dict[str, Any], Depends(risk_point_filters)]


@router.get(
    "/risk-points",
    operation_id="list_risk_points",
    response_model=RiskPointPage,
    summary="List risk points",
)
async def list_risk_points(
    session: SessionDep,
    p: Requires(Permission.risks_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    filters: RiskPointFilters,
) -> Response:
    """Risk points (风险点) of the enterprises in the caller's scope (an enterprise user: its
    own), one page at a time. Filters: `enterprise_id`, `level` (red/orange/yellow/blue),
    `kind`, `region_code` (prefix), `sector`, `follow_up`, `status` (default `active`). `sort`:
    `name` (default) or `updated_at`.

    Who: every role with `risks:read` (government, enterprise users; not experts). Errors: 422
    `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_points(session, p, params, **filters)
    items = [service.out(r, r.enterprise_name, p) for r in page.rows]
    return page_response(RiskPointPage, items, page)


@router.post(
    "/risk-points",
    operation_id="create_risk_point",
    response_model=RiskPointOut,
    status_code=201,
    summary="Register a risk point",
)
async def create_risk_point(
    session: SessionDep, p: Requires(Permission.risks_write), body: RiskPointCreate
) -> Response:
    """Registers a risk point of the caller's own enterprise (风险辨识): name, kind, location
    (with its coordinate system), hazard factors (GB/T 13861), the `assessment` (`method` lec,
    ls or matrix with its `inputs`), control level, the responsible person, control and emergency
    measures, accident types (GB 6441). The `level` is computed from the assessment by the
    method's thresholds; sending `level` is 422. The enterprise's `risk_color` follows its
    highest active point. Answers 201 with the point, `ETag` and `Location`.

    Who: enterprise users (`risks:write`). Government reads and follows up but does not write
    an enterprise's register (403). Errors: 422 `unknown_enterprise`, `invalid_assessment`,
    `validation_error`; 403 `forbidden`.
    """
    point = await service.create(session, p, body)
    return json_response(
        await service.answer(session, p, point),
        status_code=201,
        version=point.version,
        location=f"/api/v1/risk-points/{point.id}",
    )


@router.get(
    "/risk-points/{risk_point_id}",
    operation_id="get_risk_point",
    response_model=RiskPointOut,
    summary="Get a risk point",
)
async def get_risk_point(
    session: SessionDep, p: Requires(Permission.risks_read), risk_point_id: PointId
) -> Response:
    """One risk point with its assessment, measures and `allowed_actions`; the `ETag` is its
    version. Who: `risks:read` in scope. Errors: 404 `not_found` (missing or outside scope)."""
    body, version = await service.read_detail(session, p, risk_point_id)
    return json_response(body, version=version)


@router.patch(
    "/risk-points/{risk_point_id}",
    operation_id="update_risk_point",
    response_model=RiskPointOut,
    summary="Change or re-assess a risk point",
)
async def update_risk_point(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.risks_write),
    risk_point_id: PointId,
    body: RiskPointUpdate,
) -> Response:
    """Changes any field; a new `assessment` is a re-assessment (复评): the level is computed
    again and the event records it from and to. Every change is an event. `level` is never
    sent (422). Who: the enterprise's own users. Errors: 404, 403 `forbidden`, 412, 422
    `invalid_assessment`, `validation_error`."""
    point = await service.get_visible(session, p, risk_point_id)
    check_if_match(request, point.version)
    point = await service.update(session, p, point, body)
    return json_response(await service.answer(session, p, point), version=point.version)


@router.post(
    "/risk-points/{risk_point_id}/transitions",
    operation_id="transition_risk_point",
    response_model=RiskPointOut,
    summary="Follow up, retire or reinstate a risk point",
)
async def transition_risk_point(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.risks_read),
    risk_point_id: PointId,
    body: RiskPointTransition,
) -> Response:
    """`flag` (government in scope with `risks:follow_up`: 跟踪督促, with a `reason`), `unflag`
    (the same), `retire` (the enterprise: the point no longer exists, with a `reason`),
    `reinstate` (the enterprise). `allowed_actions` lists what this caller may take now.
    Errors: 404, 403 `action_forbidden`, 409 `invalid_transition`, 412, 422."""
    point = await service.get_visible(session, p, risk_point_id)
    check_if_match(request, point.version)
    point = await service.transition(session, p, point, body)
    return json_response(await service.answer(session, p, point), version=point.version)


@router.get(
    "/risk-points/{risk_point_id}/events",
    operation_id="list_risk_point_events",
    response_model=RiskPointEventList,
    summary="List a risk point's history",
)
async def list_risk_point_events(
    session: SessionDep, p: Requires(Permission.risks_read), risk_point_id: PointId
) -> Response:
    """Every change of the point, oldest first (created, edited, re-assessed with the levels
    from and to, flagged …). Errors: 404 `not_found`."""
    return json_response(
        RiskPointEventList.model_construct(items=await service.events(session, p, risk_point_id))
    )


@router.get(
    "/risk-points/{risk_point_id}/checklist",
    operation_id="get_risk_point_checklist",
    response_model=ChecklistOut,
    responses={409: {"description": "No control measure: `risk_point_without_measures`"}},
    summary="Get the investigation checklist of a risk point",
)
async def get_risk_point_checklist(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.risks_read),
    risk_point_id: PointId,
) -> Response:
    """The investigation checklist generated from the point's control measures (从风险到排查):
    one item per measure (`M1`, `M2` … in the register's order), the measure as its `basis`.
    It is a checklist version of its own (`code` `RP-<risk_point_id>`, `risk_point_id` set):
    plan a self-inspection with its `id` as `checklist_id`. A change of the point's name or
    measures writes the next version (`version_no` + 1) and retires this one, so an inspection
    keeps the version it used; the older versions: `GET /api/v1/checklists?risk_point_id=…
    &current=false`. Read-only through `/api/v1/checklists` (409 `checklist_read_only`).

    Who: `risks:read` in the point's scope. Errors: 404 `not_found`; 409
    `risk_point_without_measures` (no control measure to check)."""
    body, version = await risk_checklist.read(session, p, risk_point_id, wants_english(request))
    return json_response(body, version=version)


@router.get(
    "/statistics/risks",
    operation_id="risk_statistics",
    response_model=RiskStats,
    tags=["statistics"],
    summary="Risk figures",
)
async def get_risk_statistics(
    session: SessionDep, p: Requires(Permission.statistics_read), filters: RiskPointFilters
) -> Response:
    """The risk points of the caller's scope selected by the list's filters, counted by level
    (`totals`), and by kind, sector and town with a count per level; and the enterprises where
    a red point and an open major hazard meet (`red_with_major_open_hazards`, most major
    hazards first: the county's first list to look at). The totals equal the list's
    `include_total` for the same filters.

    Who: roles with `statistics:read` (government and machine clients; not enterprise users).
    Errors: 422 `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    return json_response(RiskStats.model_validate(await risk_statistics(session, p, filters)))
