from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires, ensure
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.org_units import (
    OrgUnitCreate,
    OrgUnitKind,
    OrgUnitOut,
    OrgUnitPage,
    OrgUnitUpdate,
)
from app.services import org_units as service

router = APIRouter(tags=["org-units"], route_class=ApiRoute)
UnitId = Annotated[str, Path(max_length=64)]


@router.get("/org-units", operation_id="list_org_units", response_model=OrgUnitPage)
async def list_org_units(
    session: SessionDep,
    p: Requires(Permission.org_units_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    kind: any_of(OrgUnitKind) = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    page, _ = await service.list_units(session, p, params, kind, q)
    return page_response(OrgUnitPage, [OrgUnitOut.model_validate(dict(r)) for r in page.rows], page)


@router.get("/org-units/{org_unit_id}", operation_id="get_org_unit", response_model=OrgUnitOut)
async def get_org_unit(
    session: SessionDep, p: Requires(Permission.org_units_read), org_unit_id: UnitId
) -> Response:
    unit = await service.get_visible(session, p, org_unit_id)
    return json_response(service.to_out(unit), version=unit.version)


@router.post(
    "/org-units", operation_id="create_org_unit", response_model=OrgUnitOut, status_code=201
)
async def create_org_unit(
    session: SessionDep, p: Requires(Permission.org_units_write), body: OrgUnitCreate
) -> Response:
    unit = await service.create_unit(session, p, body)
    return json_response(
        service.to_out(unit),
        status_code=201,
        version=unit.version,
        location=f"/api/v1/org-units/{unit.id}",
    )


@router.patch("/org-units/{org_unit_id}", operation_id="update_org_unit", response_model=OrgUnitOut)
async def update_org_unit(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.org_units_read),
    org_unit_id: UnitId,
    body: OrgUnitUpdate,
) -> Response:
    unit = await service.get_visible(session, p, org_unit_id)
    ensure(p, Permission.org_units_write)
    check_if_match(request, unit.version)
    unit = await service.update_unit(session, unit, body)
    return json_response(service.to_out(unit), version=unit.version)
