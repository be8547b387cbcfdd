from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.schemas.common import ListParams, list_params_for
from app.schemas.major_hazard_installations import (
    InstallationCreate,
    InstallationOut,
    InstallationPage,
    InstallationUpdate,
)
from app.services import major_hazard_installations as service

router = APIRouter(tags=["enterprises"], route_class=ApiRoute)
EnterpriseId = Annotated[str, Path(max_length=64)]
InstallationId = Annotated[str, Path(max_length=64)]
_BASE = "/enterprises/{enterprise_id}/major-hazard-installations"


def _location(enterprise_id: str, installation_id: str) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/major-hazard-installations/{installation_id}"


@router.get(
    _BASE,
    operation_id="list_major_hazard_installations",
    response_model=InstallationPage,
    summary="List an enterprise's major hazard installations",
)
async def list_major_hazard_installations(
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    enterprise_id: EnterpriseId,
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
) -> Response:
    """The enterprise's major hazard installations (重大危险源, GB 18218): name, grade (1–4:
    一级 … 四级) and substances, one page at a time (`limit` ≤ 500, `cursor`,
    `include_total`). `sort`: `grade` (default: 一级 first), `name`, `created_at`, `-` for
    descending. The enterprise's detail shows them too (`major_hazard_installations`).

    Who: whoever reads the enterprise (`enterprises:read`, in scope). Errors: 404 `not_found`
    (the enterprise does not exist or lies outside the caller's scope); 422
    `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_installations(session, p, enterprise_id, params)
    return page_response(InstallationPage, [service.out(r) for r in page.rows], page)


@router.get(
    _BASE + "/{installation_id}",
    operation_id="get_major_hazard_installation",
    response_model=InstallationOut,
    summary="Get a major hazard installation",
)
async def get_major_hazard_installation(
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    enterprise_id: EnterpriseId,
    installation_id: InstallationId,
) -> Response:
    """One major hazard installation; the `ETag` is its version, for `If-Match` on a PATCH.

    Who: whoever reads the enterprise (`enterprises:read`, in scope). Errors: 404 `not_found`
    (missing, of another enterprise, or outside the caller's scope).
    """
    found = await service.get_visible(session, p, enterprise_id, installation_id)
    return json_response(service.out(found), version=found.version)


@router.post(
    _BASE,
    operation_id="create_major_hazard_installation",
    response_model=InstallationOut,
    status_code=201,
    summary="Record a major hazard installation",
)
async def create_major_hazard_installation(
    session: SessionDep,
    p: Requires(Permission.enterprises_update),
    enterprise_id: EnterpriseId,
    body: Annotated[InstallationCreate, Body(openapi_examples=examples.INSTALLATION_CREATE)],
) -> Response:
    """Records a major hazard installation (重大危险源) of the enterprise: `name`, `grade` (1–4)
    and `substances` (a list of names). Answers 201 with `Location`.

    Who: government staff with `enterprises:update` (officers, managers, admins) whose scope
    holds the enterprise. Errors: 404 `not_found` (missing or outside scope); 422
    `validation_error`.
    """
    found = await service.create(session, p, enterprise_id, body)
    return json_response(
        service.out(found),
        status_code=201,
        version=found.version,
        location=_location(enterprise_id, found.id),
    )


@router.patch(
    _BASE + "/{installation_id}",
    operation_id="update_major_hazard_installation",
    response_model=InstallationOut,
    summary="Update a major hazard installation",
)
async def update_major_hazard_installation(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_update),
    enterprise_id: EnterpriseId,
    installation_id: InstallationId,
    body: Annotated[InstallationUpdate, Body(openapi_examples=examples.INSTALLATION_UPDATE)],
) -> Response:
    """Changes the fields sent (`name`, `grade`, `substances`: the list replaced as a whole).
    Send `If-Match` with the `ETag` you read (412 `precondition_failed` if it changed since).

    Who: government staff with `enterprises:update` whose scope holds the enterprise.
    Errors: 404 `not_found`; 409 `conflict` (changed at the same moment); 412
    `precondition_failed`; 422 `validation_error`.
    """
    found = await service.get_visible(session, p, enterprise_id, installation_id)
    check_if_match(request, found.version)
    found = await service.update(session, found, body)
    return json_response(service.out(found), version=found.version)


@router.delete(
    _BASE + "/{installation_id}",
    operation_id="delete_major_hazard_installation",
    status_code=204,
    summary="Delete a major hazard installation",
)
async def delete_major_hazard_installation(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_update),
    enterprise_id: EnterpriseId,
    installation_id: InstallationId,
) -> Response:
    """Deletes the installation (recorded in error, or dismantled: 核销). `If-Match` is honoured
    when sent (412 `precondition_failed`). Answers 204.

    Who: government staff with `enterprises:update` whose scope holds the enterprise.
    Errors: 404 `not_found`; 412 `precondition_failed`.
    """
    found = await service.get_visible(session, p, enterprise_id, installation_id)
    check_if_match(request, found.version)
    await service.delete(session, found)
    return Response(status_code=204)
