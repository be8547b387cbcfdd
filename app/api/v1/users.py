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
from app.schemas.users import (
    ClientCreate,
    ClientOut,
    ClientPage,
    ClientSecretRotation,
    ClientUpdate,
    ClientWithSecret,
    RoleCode,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from app.services import users as service

router = APIRouter(tags=["users"], route_class=ApiRoute)
UserId = Annotated[str, Path(max_length=64)]
ClientId = Annotated[str, Path(max_length=64)]


@router.get("/users", operation_id="list_users", response_model=UserPage)
async def list_users(
    session: SessionDep,
    p: Requires(Permission.users_read),
    params: Annotated[
        ListParams, Depends(list_params_for(service.USER_SORTS, service.USER_DEFAULT_SORT))
    ],
    role: any_of(RoleCode) = None,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    page, _ = await service.list_users(
        session, p, params, role=role, org_unit_id=org_unit_id, enterprise_id=enterprise_id, q=q
    )
    return page_response(UserPage, [UserOut.model_validate(dict(r)) for r in page.rows], page)


@router.get("/users/{user_id}", operation_id="get_user", response_model=UserOut)
async def get_user(
    session: SessionDep, p: Requires(Permission.users_read), user_id: UserId
) -> Response:
    user = await service.get_visible_user(session, p, user_id)
    return json_response(UserOut.model_validate(user, from_attributes=True), version=user.version)


@router.post("/users", operation_id="create_user", response_model=UserOut, status_code=201)
async def create_user(
    request: Request, session: SessionDep, p: Requires(Permission.users_write), body: UserCreate
) -> Response:
    user = await service.create_user(session, p, body, settings=request.app.state.settings)
    return json_response(
        UserOut.model_validate(user, from_attributes=True),
        status_code=201,
        version=user.version,
        location=f"/api/v1/users/{user.id}",
    )


@router.patch("/users/{user_id}", operation_id="update_user", response_model=UserOut)
async def update_user(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.users_read),
    user_id: UserId,
    body: UserUpdate,
) -> Response:
    user = await service.get_visible_user(session, p, user_id)
    ensure(p, Permission.users_write)
    check_if_match(request, user.version)
    user = await service.update_user(session, p, user, body, settings=request.app.state.settings)
    return json_response(UserOut.model_validate(user, from_attributes=True), version=user.version)


@router.get("/clients", operation_id="list_clients", response_model=ClientPage, tags=["clients"])
async def list_clients(
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    params: Annotated[
        ListParams, Depends(list_params_for(service.CLIENT_SORTS, service.CLIENT_DEFAULT_SORT))
    ],
) -> Response:
    page, _ = await service.list_clients(session, p, params)
    return page_response(ClientPage, [ClientOut.model_validate(dict(r)) for r in page.rows], page)


@router.get(
    "/clients/{client_id}", operation_id="get_client", response_model=ClientOut, tags=["clients"]
)
async def get_client(
    session: SessionDep, p: Requires(Permission.clients_manage), client_id: ClientId
) -> Response:
    client = await service.get_client(session, p, client_id)
    return json_response(
        ClientOut.model_validate(client, from_attributes=True), version=client.version
    )


@router.post(
    "/clients",
    operation_id="create_client",
    response_model=ClientWithSecret,
    status_code=201,
    tags=["clients"],
)
async def create_client(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    body: ClientCreate,
) -> Response:
    client, secret = await service.create_client(
        session, p, body, settings=request.app.state.settings
    )
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    out = ClientWithSecret.model_validate(
        {
            **ClientOut.model_validate(client, from_attributes=True).model_dump(),
            "client_secret": secret,
        }
    )
    return json_response(
        out, status_code=201, version=client.version, location=f"/api/v1/clients/{client.id}"
    )


@router.patch(
    "/clients/{client_id}", operation_id="update_client", response_model=ClientOut, tags=["clients"]
)
async def update_client(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    client_id: ClientId,
    body: ClientUpdate,
) -> Response:
    client = await service.get_client(session, p, client_id)
    check_if_match(request, client.version)
    client = await service.update_client(session, client, body)
    return json_response(
        ClientOut.model_validate(client, from_attributes=True), version=client.version
    )


@router.post(
    "/clients/{client_id}/rotate-secret",
    operation_id="rotate_client_secret",
    response_model=ClientWithSecret,
    tags=["clients"],
    summary="A new client secret, shown once; the previous one works for an overlap",
)
async def rotate_client_secret(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    client_id: ClientId,
    body: ClientSecretRotation | None = None,
) -> Response:
    client = await service.get_client(session, p, client_id)
    check_if_match(request, client.version)
    client, secret = await service.rotate_client_secret(
        session, client, body or ClientSecretRotation(), settings=request.app.state.settings
    )
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    out = ClientWithSecret.model_validate(
        {
            **ClientOut.model_validate(client, from_attributes=True).model_dump(),
            "client_secret": secret,
        }
    )
    return json_response(out, version=client.version)
