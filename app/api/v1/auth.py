from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request

from app.api.idempotency import ApiRoute
from app.auth.deps import public
from app.core.db import SessionDep
from app.core.errors import BadRequest, ValidationFailed
from app.schemas.auth import TokenOut
from app.services import auth as service

router = APIRouter(tags=["auth"], route_class=ApiRoute)


@router.post(
    "/auth/token",
    operation_id="issue_token",
    response_model=TokenOut,
    dependencies=[Depends(public)],
    summary="OAuth2 token endpoint (password and client_credentials grants)",
)
async def issue_token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[Literal["password", "client_credentials"], Form()],
    username: Annotated[str | None, Form(max_length=128)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=128)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> TokenOut:
    settings = request.app.state.settings
    # A token is a secret: never stored for Idempotency-Key replay.
    request.state.idempotency_no_store = True
    # uvicorn runs with proxy_headers=True: behind a trusted proxy this is the client's address.
    address = request.client.host if request.client else None
    if grant_type == "password":
        if not username or not password:
            raise ValidationFailed.field(
                "username", "需要提供用户名和密码", "username and password are required"
            )
        token, ttl = await service.password_grant(session, settings, username, password, address)
    elif grant_type == "client_credentials":
        if not client_id or not client_secret:
            raise ValidationFailed.field(
                "client_id",
                "需要提供 client_id 和 client_secret",
                "client_id and client_secret are required",
            )
        token, ttl = await service.client_credentials_grant(
            session, settings, client_id, client_secret, address
        )
    else:  # pragma: no cover - Literal already restricts it
        raise BadRequest("不支持的授权类型", "Unsupported grant_type")
    return TokenOut(access_token=token, expires_in=ttl)
