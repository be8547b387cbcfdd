from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.dates import DateOrDateTime, StrictDate
from app.schemas.hazards import (
    Escalation,
    HazardCategory,
    HazardCreate,
    HazardEventList,
    HazardLevel,
    HazardOut,
    HazardPage,
    HazardSource,
    HazardStats,
    HazardStatus,
    StatsGroupBy,
    Transition,
)
from app.schemas.org_units import SectorCode
from app.services.hazards import service
from app.services.hazards.queries import HazardFilters
from app.services.hazards.statistics import GROUPS, hazard_statistics

router = APIRouter(tags=["hazards"], route_class=ApiRoute)
HazardId = Annotated[str, Path(max_length=64)]


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


def hazard_filters(
    status: any_of(HazardStatus, "Voided hazards appear only when status names voided") = None,
    level: any_of(HazardLevel) = None,
    source: any_of(HazardSource) = None,
    category: any_of(HazardCategory) = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="Prefix, via the enterprise")
    ] = None,
    sector: any_of(SectorCode, "Via the enterprise") = None,
    escalation: any_of(Escalation) = None,
    overdue: Annotated[bool | None, Query()] = None,
    stock: Annotated[bool | None, Query(description="Found before the stock cut-off date")] = None,
    supervised: Annotated[
        bool | None, Query(description="Under listed supervision (挂牌督办)")
    ] = None,
    found_at_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    found_at_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
    deadline_from: Annotated[StrictDate | None, Query()] = None,
    deadline_to: Annotated[StrictDate | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Title, number, location or enterprise name")
    ] = None,
) -> HazardFilters:
    return HazardFilters(
        status=_tuple(status),
        level=_tuple(level),
        source=_tuple(source),
        category=_tuple(category),
        enterprise_id=enterprise_id,
        region_code=region_code,
        sector=_tuple(sector),
        escalation=_tuple(escalation),
        overdue=overdue,
        stock=stock,
        supervised=supervised,
        found_at_from=found_at_from,
        found_at_to=found_at_to,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        q=q,
    )


Filters = Annotated[HazardFilters, Depends(hazard_filters)]


@router.get("/hazards", operation_id="list_hazards", response_model=HazardPage)
async def list_hazards(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    filters: Filters,
) -> Response:
    """Sort on `found_at`, `deadline` or `updated_at` (prefix `-` for descending); default `-found_at`."""
    settings = request.app.state.settings
    page, _, today = await service.list_hazards(session, p, settings, params, filters)
    return page_response(
        HazardPage, [service.summary(r, p, settings, today) for r in page.rows], page
    )


@router.post("/hazards", operation_id="create_hazard", response_model=HazardOut, status_code=201)
async def create_hazard(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_create),
    body: HazardCreate,
) -> Response:
    settings = request.app.state.settings
    hazard = await service.create_hazard(session, p, settings, body)
    out = await service.detail(session, p, settings, hazard)
    return json_response(
        out, status_code=201, version=hazard.version, location=f"/api/v1/hazards/{hazard.id}"
    )


@router.get("/hazards/{hazard_id}", operation_id="get_hazard", response_model=HazardOut)
async def get_hazard(
    request: Request, session: SessionDep, p: Requires(Permission.hazards_read), hazard_id: HazardId
) -> Response:
    hazard = await service.get_visible(session, p, hazard_id)
    out = await service.detail(session, p, request.app.state.settings, hazard)
    return json_response(out, version=hazard.version)


@router.post(
    "/hazards/{hazard_id}/transitions", operation_id="transition_hazard", response_model=HazardOut
)
async def transition_hazard(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    hazard_id: HazardId,
    body: Annotated[Transition, Body()],
) -> Response:
    """Lifecycle actions; `allowed_actions` on the hazard lists those the caller may take now.

    403: not yours to take; 409: not possible in the hazard's current state; 412: stale `If-Match`.
    """
    settings = request.app.state.settings
    hazard = await service.get_visible(session, p, hazard_id)
    check_if_match(request, hazard.version)
    hazard = await service.transition(session, p, settings, hazard, body)
    out = await service.detail(session, p, settings, hazard)
    return json_response(out, version=hazard.version)


@router.get(
    "/hazards/{hazard_id}/events", operation_id="list_hazard_events", response_model=HazardEventList
)
async def list_hazard_events(
    session: SessionDep, p: Requires(Permission.hazards_read), hazard_id: HazardId
) -> Response:
    """The complete history, oldest first."""
    hazard = await service.get_visible(session, p, hazard_id)
    return json_response(
        HazardEventList.model_construct(items=await service.events(session, hazard))
    )


@router.get(
    "/statistics/hazards",
    operation_id="hazard_statistics",
    response_model=HazardStats,
    tags=["statistics"],
)
async def get_hazard_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    filters: Filters,
    group_by: Annotated[
        StatsGroupBy | None,
        Query(
            description="One or two of town, sector, level, source, month "
            "(comma-separated, or the parameter repeated)",
        ),
    ] = None,
) -> Response:
    groups_wanted = list(dict.fromkeys(group_by)) if group_by else []
    assert all(g in GROUPS for g in groups_wanted)
    groups, totals = await hazard_statistics(
        session, p, request.app.state.settings, groups_wanted, filters
    )
    return json_response(HazardStats(group_by=groups_wanted, groups=groups, totals=totals))
