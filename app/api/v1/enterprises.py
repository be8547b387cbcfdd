from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.enterprises import (
    EnterpriseCreate,
    EnterpriseOut,
    EnterprisePage,
    EnterpriseStatus,
    EnterpriseUpdate,
    RiskColor,
)
from app.schemas.org_units import SectorCode
from app.services import enterprises as service

router = APIRouter(tags=["enterprises"], route_class=ApiRoute)
EnterpriseId = Annotated[str, Path(max_length=64)]


@router.get("/enterprises", operation_id="list_enterprises", response_model=EnterprisePage)
async def list_enterprises(
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    q: Annotated[str | None, Query(max_length=100, description="Name or credit code")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{1,12}$", description="Prefix")] = None,
    sector: any_of(SectorCode) = None,
    risk_color: any_of(RiskColor) = None,
    status: any_of(EnterpriseStatus) = None,
    enforcement_department_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    page, _ = await service.list_enterprises(
        session,
        p,
        params,
        q=q,
        region_code=region_code,
        sector=sector,
        risk_color=risk_color,
        status=status,
        enforcement_department_id=enforcement_department_id,
    )
    return page_response(EnterprisePage, [service.to_out(r) for r in page.rows], page)


@router.get(
    "/enterprises/{enterprise_id}", operation_id="get_enterprise", response_model=EnterpriseOut
)
async def get_enterprise(
    session: SessionDep, p: Requires(Permission.enterprises_read), enterprise_id: EnterpriseId
) -> Response:
    ent = await service.get_visible(session, p, enterprise_id)
    return json_response(service.to_out(ent), version=ent.version)


@router.post(
    "/enterprises", operation_id="create_enterprise", response_model=EnterpriseOut, status_code=201
)
async def create_enterprise(
    session: SessionDep, p: Requires(Permission.enterprises_create), body: EnterpriseCreate
) -> Response:
    ent = await service.create_enterprise(session, p, body)
    return json_response(
        service.to_out(ent),
        status_code=201,
        version=ent.version,
        location=f"/api/v1/enterprises/{ent.id}",
    )


@router.patch(
    "/enterprises/{enterprise_id}", operation_id="update_enterprise", response_model=EnterpriseOut
)
async def update_enterprise(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    enterprise_id: EnterpriseId,
    body: EnterpriseUpdate,
) -> Response:
    """Government staff with ``enterprises:update``; the enterprise's own users for contact fields."""
    ent = await service.get_visible(session, p, enterprise_id)
    check_if_match(request, ent.version)
    ent = await service.update_enterprise(session, p, ent, body)
    return json_response(service.to_out(ent), version=ent.version)
