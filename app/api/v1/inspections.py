"""``/api/v1/inspections``: plan, list, read, edit and act on inspections (检查/执法)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.api.v1.exports import EXPORT_RESPONSES, FormatParam, LangParam, export_response, wanted
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ExternalIdFilter, ListParams, any_of, list_params_for
from app.schemas.dates import DateOrDateTime, StrictDate
from app.schemas.inspections import (
    DecisionKind,
    InspectionCreate,
    InspectionEventList,
    InspectionKind,
    InspectionOut,
    InspectionPage,
    InspectionStatus,
    InspectionUpdate,
    Transition,
)
from app.schemas.org_units import SectorCode
from app.services.inspections import service
from app.services.inspections.queries import InspectionFilters

router = APIRouter(tags=["inspections"], route_class=ApiRoute)
InspectionId = Annotated[str, Path(max_length=64)]


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


async def inspection_filters(
    kind: any_of(InspectionKind) = None,
    status: any_of(InspectionStatus) = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    conducting_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="Prefix, via the enterprise")
    ] = None,
    sector: any_of(SectorCode, "Via the enterprise") = None,
    planned_for_from: Annotated[StrictDate | None, Query()] = None,
    planned_for_to: Annotated[StrictDate | None, Query(description="Inclusive")] = None,
    completed_at_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    completed_at_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
    has_findings: Annotated[bool | None, Query()] = None,
    decision: any_of(DecisionKind, "Any of these decisions in the outcome") = None,
    campaign: Annotated[str | None, Query(max_length=200)] = None,
    draw_id: Annotated[str | None, Query(max_length=64)] = None,
    external_id: ExternalIdFilter = None,
) -> InspectionFilters:
    """The filters of the list, shared by the enforcement figures so their numbers agree."""
    return InspectionFilters(
        kind=_tuple(kind),
        status=_tuple(status),
        enterprise_id=enterprise_id,
        conducting_unit_id=conducting_unit_id,
        region_code=region_code,
        sector=_tuple(sector),
        planned_for_from=planned_for_from,
        planned_for_to=planned_for_to,
        completed_at_from=completed_at_from,
        completed_at_to=completed_at_to,
        has_findings=has_findings,
        decision=_tuple(decision),
        campaign=campaign,
        draw_id=draw_id,
        external_id=external_id,
    )


Filters = Annotated[InspectionFilters, Depends(inspection_filters)]


@router.get(
    "/inspections",
    operation_id="list_inspections",
    responses=EXPORT_RESPONSES,
    response_model=InspectionPage,
    summary="List inspections",
)
async def list_inspections(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    filters: Filters,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """Inspections (检查/执法) in the caller's scope, one page at a time (`limit`, `cursor`,
    `include_total`). Scope: government sees the inspections of the enterprises in its scope
    (as for hazards) and those it is listed on as an inspector; an expert only those it is
    assigned to; an enterprise user its own enterprise's once they have started, and its own
    self-inspections (an inspection not yet started — planned, unannounced or double-random —
    is never listed, counted or shown to the enterprise).

    Filters combine with AND; enumerations (`kind`, `status`, `sector`, `decision`) take several
    values. `region_code` is a prefix via the enterprise; `planned_for_from`/`_to` and
    `completed_at_from`/`_to` are inclusive; `has_findings`; `decision`: any of these decision
    kinds in the outcome; `external_id=<system>:<id>` the inspection another system knows by
    that id. `sort`: `planned_for`, `completed_at` or `updated_at`, `-` for descending; default
    `-planned_for`. Each item carries the caller's `allowed_actions` and `external_ids` (`{}`
    when none).

    Who: roles with `inspections:read`. Errors: 422 `validation_error`, `unknown_parameter`,
    `repeated_parameter`.
    """
    if (fmt := wanted(request, format)) != "json":
        return await export_response(
            request, session, "inspections", p, filters, params.sort, fmt, lang
        )
    settings = request.app.state.settings
    page = await service.list_inspections(session, p, settings, params, filters)
    en = wants_english(request)
    return page_response(InspectionPage, [service.summary(r, p, en) for r in page.rows], page)


@router.post(
    "/inspections",
    operation_id="create_inspection",
    response_model=InspectionOut,
    status_code=201,
    summary="Plan an inspection",
)
async def create_inspection(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_write),
    body: InspectionCreate,
) -> Response:
    """Plans an inspection (安排检查) of an enterprise in the caller's scope; it starts `planned`
    with the next number of the county's year (`J2026-000123`). Government plans every kind but
    `self_inspection`, conducted by its own unit (admins and county staff may name another unit
    of the county); an enterprise user records its own `self_inspection` (led by its people,
    default the caller). Inspectors are active government staff of the county, experts users of
    role `expert`; at least one inspector (experts never sign). A `follow_up` names the
    completed inspection it follows. Answers 201 with the inspection, its `ETag` and `Location`.

    Who: roles with `inspections:write`. Errors: 422 `unknown_enterprise` (missing or outside
    scope), `unknown_inspector`, `unknown_expert`, `inspectors_required`, `unknown_checklist`,
    `unknown_org_unit`, `invalid_follow_up`, `validation_error`; 403 `outside_scope` (another
    unit named by a town or bureau).
    """
    insp = await service.create(session, p, request.app.state.settings, body)
    out = await service.detail(session, p, request.app.state.settings, insp, wants_english(request))
    return json_response(
        out, status_code=201, version=insp.version, location=f"/api/v1/inspections/{insp.id}"
    )


@router.get(
    "/inspections/{inspection_id}",
    operation_id="get_inspection",
    response_model=InspectionOut,
    summary="Get an inspection",
)
async def get_inspection(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_read),
    inspection_id: InspectionId,
) -> Response:
    """One inspection with everything its record shows: people, checklist results, findings
    (hazards, with their numbers), outcome and fines, signatures, the signed record and its
    amendments, and `allowed_actions`. The `ETag` is its version, for `If-Match`.

    Who: roles with `inspections:read`. Errors: 404 `not_found` when it does not exist or lies
    outside the caller's scope (for an enterprise: also before it has started).
    """
    out, version = await service.read_detail(
        session, p, request.app.state.settings, inspection_id, wants_english(request)
    )
    return json_response(out, version=version)


@router.patch(
    "/inspections/{inspection_id}",
    operation_id="update_inspection",
    response_model=InspectionOut,
    summary="Change an inspection's plan",
)
async def update_inspection(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_write),
    inspection_id: InspectionId,
    body: InspectionUpdate,
) -> Response:
    """Changes the plan: while `planned` every field (`planned_for`, `inspectors`, `experts`,
    `checklist_id`, `campaign`); while `in_progress` the people and the campaign. A completed,
    signed or cancelled record changes only through its actions (`amend` after signing).

    Who: roles with `inspections:write`: the conducting unit's staff, county staff, admins, the
    listed inspectors; an enterprise its own self-inspections. Errors: 404 `not_found`, 403
    `forbidden`, 409 `inspection_locked`, `certified_inspectors_required` (an enforcement visit
    in progress keeps two certified inspectors), 412 `precondition_failed`, 422 `unknown_inspector`,
    `unknown_expert`, `unknown_checklist`, `inspectors_required`, `validation_error`.
    """
    insp = await service.get_visible(session, p, inspection_id)
    check_if_match(request, insp.version)
    insp = await service.edit(session, p, insp, body)
    out = await service.detail(session, p, request.app.state.settings, insp, wants_english(request))
    return json_response(out, version=insp.version)


@router.post(
    "/inspections/{inspection_id}/transitions",
    operation_id="transition_inspection",
    response_model=InspectionOut,
    summary="Take a lifecycle action on an inspection",
    description=examples.inspection_transitions_description(),
)
async def transition_inspection(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_read),
    inspection_id: InspectionId,
    body: Annotated[Transition, Body()],
) -> Response:
    """One action of the inspection lifecycle; the description comes from the workflow table."""
    insp = await service.get_visible(session, p, inspection_id)
    check_if_match(request, insp.version)
    insp = await service.transition(session, p, request.app.state.settings, insp, body)
    out = await service.detail(session, p, request.app.state.settings, insp, wants_english(request))
    return json_response(out, version=insp.version)


@router.get(
    "/inspections/{inspection_id}/events",
    operation_id="list_inspection_events",
    response_model=InspectionEventList,
    summary="List an inspection's history",
)
async def list_inspection_events(
    session: SessionDep, p: Requires(Permission.inspections_read), inspection_id: InspectionId
) -> Response:
    """The complete history of one inspection, oldest first and never paged: the plan, each
    change of it, every action with who acted, when, the status before and after, the note and
    the action's details.

    Who: roles with `inspections:read`. Errors: 404 `not_found` (missing or outside scope).
    """
    return json_response(
        InspectionEventList.model_construct(items=await service.events(session, p, inspection_id))
    )
