from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.api.v1.exports import EXPORT_RESPONSES, FormatParam, LangParam, export_response, wanted
from app.auth.deps import Requires, ensure
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
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


@router.get(
    "/users",
    operation_id="list_users",
    responses=EXPORT_RESPONSES,
    response_model=UserPage,
    summary="List users",
)
async def list_users(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.users_read),
    params: Annotated[
        ListParams, Depends(list_params_for(service.USER_SORTS, service.USER_DEFAULT_SORT))
    ],
    role: any_of(RoleCode) = None,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """People's accounts (用户) the caller manages, one page at a time (`limit` ≤ 500, `cursor`,
    `include_total`). Scope: admins see every user of the county and of its enterprises;
    managers the users of their own unit and of the enterprises in their scope. Filters:
    `role` (several values, repeated or comma-separated), `org_unit_id`, `enterprise_id`, `q`
    (username or display name). `sort`: `username` (default) or `created_at`, `-` for
    descending.

    Who: admins and managers (`users:read`). Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    filters = {"role": role, "org_unit_id": org_unit_id, "enterprise_id": enterprise_id, "q": q}
    if (fmt := wanted(request, format)) != "json":
        return await export_response(request, session, "users", p, filters, params.sort, fmt, lang)
    page, _ = await service.list_users(session, p, params, **filters)
    en = wants_english(request)
    return page_response(UserPage, [service.user_row_out(r, en) for r in page.rows], page)


@router.get(
    "/users/{user_id}", operation_id="get_user", response_model=UserOut, summary="Get a user"
)
async def get_user(
    request: Request, session: SessionDep, p: Requires(Permission.users_read), user_id: UserId
) -> Response:
    """One account: username, display name, phone, role, home unit or enterprise, whether it is
    active. Never a password or its hash. The `ETag` is its version, for `If-Match`.

    Who: admins and managers (`users:read`). Errors: 404 `not_found` when the user does not
    exist or lies outside the caller's scope (the two are indistinguishable).
    """
    user = await service.get_visible_user(session, p, user_id)
    out = await service.user_out(session, user, wants_english(request))
    return json_response(out, version=user.version)


@router.post(
    "/users",
    operation_id="create_user",
    response_model=UserOut,
    status_code=201,
    summary="Create a user",
)
async def create_user(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.users_write),
    body: Annotated[UserCreate, Body(openapi_examples=examples.USER_CREATE)],
) -> Response:
    """Creates a person's account with exactly one home: `org_unit_id` for government roles,
    `enterprise_id` for `enterprise_manager`/`enterprise_staff`. Usernames are
    case-insensitive (stored lower-case); the password has at least 10 characters and is not a
    common one. Answers 201 with the user, `ETag` and `Location`.

    Who: admins for any unit of the county and its enterprises; managers for their own unit and
    the enterprises in their scope, never granting `admin` or `manager`. Errors: 403
    `role_not_grantable`, `forbidden` (another unit); 409 `duplicate_username` (naming no
    other account); 422 `validation_error` (a weak password, both or neither home, a home
    unknown or outside scope).
    """
    user = await service.create_user(session, p, body, settings=request.app.state.settings)
    return json_response(
        await service.user_out(session, user, wants_english(request)),
        status_code=201,
        version=user.version,
        location=f"/api/v1/users/{user.id}",
    )


@router.patch(
    "/users/{user_id}", operation_id="update_user", response_model=UserOut, summary="Update a user"
)
async def update_user(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.users_read),
    user_id: UserId,
    body: Annotated[UserUpdate, Body(openapi_examples=examples.USER_UPDATE)],
) -> Response:
    """Changes the fields sent (partial). A new password, a role change, deactivation or
    reactivation ends the user's sessions at once (every token issued before is 401
    `invalid_token`); a new name or phone does not. Send `If-Match` with the `ETag` you read
    (412 `precondition_failed` if it changed since).

    Who: admins and managers (`users:write`) for users in their scope; managers may not change
    another manager or an admin, nor grant those roles. Nobody changes their own role or
    deactivates themselves. Errors: 404 `not_found` (missing or outside scope); 403
    `forbidden`, `role_not_grantable`; 409 `conflict`; 422 `validation_error`.
    """
    user = await service.get_visible_user(session, p, user_id)
    ensure(p, Permission.users_write)
    check_if_match(request, user.version)
    user = await service.update_user(session, p, user, body, settings=request.app.state.settings)
    out = await service.user_out(session, user, wants_english(request))
    return json_response(out, version=user.version)


@router.get(
    "/clients",
    operation_id="list_clients",
    response_model=ClientPage,
    tags=["clients"],
    summary="List machine clients",
)
async def list_clients(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    params: Annotated[
        ListParams, Depends(list_params_for(service.CLIENT_SORTS, service.CLIENT_DEFAULT_SORT))
    ],
) -> Response:
    """Machine clients (接口客户端: provincial data exchange, integrations, import scripts) of
    the units of the caller's county, one page at a time (`limit` ≤ 500, `cursor`,
    `include_total`). `sort`: `name` (default) or `created_at`, `-` for descending. Secrets are
    never listed.

    Who: admins (`clients:manage`). Errors: 422 `unknown_parameter`, `repeated_parameter`,
    `validation_error`.
    """
    page, _ = await service.list_clients(session, p, params)
    en = wants_english(request)
    return page_response(ClientPage, [service.client_row_out(r, en) for r in page.rows], page)


@router.get(
    "/clients/{client_id}",
    operation_id="get_client",
    response_model=ClientOut,
    tags=["clients"],
    summary="Get a machine client",
)
async def get_client(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    client_id: ClientId,
) -> Response:
    """One machine client: its `client_id` (for `grant_type=client_credentials`), name, unit,
    permissions, whether it is active and, after a rotation, until when its previous secret
    works. Never the secret. The `ETag` is its version, for `If-Match`.

    Who: admins (`clients:manage`). Errors: 404 `not_found` when it does not exist or belongs
    to another county.
    """
    client = await service.get_client(session, p, client_id)
    out = await service.client_out(session, client, wants_english(request))
    return json_response(out, version=client.version)


@router.post(
    "/clients",
    operation_id="create_client",
    response_model=ClientWithSecret,
    status_code=201,
    tags=["clients"],
    summary="Create a machine client",
)
async def create_client(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    body: Annotated[ClientCreate, Body(openapi_examples=examples.CLIENT_CREATE)],
) -> Response:
    """Creates a machine client of a unit with the permissions it is granted (never
    `users:write`, `clients:manage` or `org_units:write`); it sees what that unit sees. Answers
    201 with a generated `client_id` and the `client_secret`, **shown once**: it is stored only
    as a hash. Because of the secret, the answer is never stored for an `Idempotency-Key`
    replay: a retry with the same key is 409 `idempotency_not_replayable` (list the clients to
    find the one created).

    Who: admins (`clients:manage`). Errors: 409 `idempotency_not_replayable`; 422
    `validation_error` (a permission not grantable, an unknown unit).
    """
    client, secret = await service.create_client(
        session, p, body, settings=request.app.state.settings
    )
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    shown = await service.client_out(session, client, wants_english(request))
    out = ClientWithSecret.model_construct(**dict(shown), client_secret=secret)
    return json_response(
        out, status_code=201, version=client.version, location=f"/api/v1/clients/{client.id}"
    )


@router.patch(
    "/clients/{client_id}",
    operation_id="update_client",
    response_model=ClientOut,
    tags=["clients"],
    summary="Update a machine client",
)
async def update_client(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    client_id: ClientId,
    body: Annotated[ClientUpdate, Body(openapi_examples=examples.CLIENT_UPDATE)],
) -> Response:
    """Renames a client, changes its permissions or (de)activates it (partial). Deactivation
    ends its tokens at once, and reactivation does not revive them. Send `If-Match` with the
    `ETag` you read (412 `precondition_failed` if it changed since).

    Who: admins (`clients:manage`). Errors: 404 `not_found`; 409 `conflict`; 422
    `validation_error` (a permission not grantable).
    """
    client = await service.get_client(session, p, client_id)
    check_if_match(request, client.version)
    client = await service.update_client(session, client, body)
    out = await service.client_out(session, client, wants_english(request))
    return json_response(out, version=client.version)


@router.post(
    "/clients/{client_id}/rotate-secret",
    operation_id="rotate_client_secret",
    response_model=ClientWithSecret,
    tags=["clients"],
    summary="Rotate a machine client's secret",
)
async def rotate_client_secret(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.clients_manage),
    client_id: ClientId,
    body: Annotated[
        ClientSecretRotation | None, Body(openapi_examples=examples.CLIENT_ROTATION)
    ] = None,
) -> Response:
    """Issues a new secret, **shown once** in the answer. By default the previous secret keeps
    working for `ANJIAN_CLIENT_SECRET_OVERLAP_SECONDS` (`previous_secret_expires_at`) and the
    tokens already issued stay valid, so the integration can switch without downtime; with
    `{"revoke_previous": true}` (a leaked secret) the previous secret and every token issued to
    the client end at once. The body is optional. Send `If-Match` with the `ETag` you read;
    a replay under the same `Idempotency-Key` is 409 `idempotency_not_replayable`.

    Who: admins (`clients:manage`). Errors: 404 `not_found`; 409 `idempotency_not_replayable`,
    `conflict`; 412 `precondition_failed`.
    """
    client = await service.get_client(session, p, client_id)
    check_if_match(request, client.version)
    client, secret = await service.rotate_client_secret(
        session, client, body or ClientSecretRotation(), settings=request.app.state.settings
    )
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    shown = await service.client_out(session, client, wants_english(request))
    out = ClientWithSecret.model_construct(**dict(shown), client_secret=secret)
    return json_response(out, version=client.version)
