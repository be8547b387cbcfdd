from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import public
from app.core.db import SessionDep
from app.core.errors import (
    AppError,
    BadRequest,
    UnsupportedMediaType,
    ValidationFailed,
    validation_errors,
)
from app.core.openapi import EXTRA_SCHEMAS
from app.schemas.auth import TokenOut, TokenRequest
from app.services import auth as service

router = APIRouter(tags=["auth"], route_class=ApiRoute)
EXTRA_SCHEMAS.append(TokenRequest)

_FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY = {"schema": {"$ref": "#/components/schemas/TokenRequest"}}

# RFC 6749 §5.2 names for our problem codes, so OAuth libraries (AppAuth) understand the error.
_OAUTH_ERRORS = {
    "invalid_credentials": "invalid_grant",
    "invalid_client": "invalid_client",
    "login_throttled": "temporarily_unavailable",
    "database_unavailable": "temporarily_unavailable",
    "unsupported_grant_type": "unsupported_grant_type",
}


async def _read(request: Request) -> TokenRequest:
    """The token request, form-encoded (OAuth 2.0) or JSON (API.md): the same fields either way."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: Any
    if not media and not await request.body():
        data = {}  # no body at all: the fields are missing (422), not of a wrong type
    elif media in _FORM:
        data = dict((await request.form()).items())
    elif media == "application/json" or media.endswith("+json"):
        try:
            data = await request.json()
        except ValueError:
            raise BadRequest(
                "请求体不是有效的 JSON", "The body is not valid JSON", code="malformed_body"
            ) from None
        if not isinstance(data, dict):
            raise ValidationFailed.field("body", "请求体应为对象", "The body must be an object")
    else:
        raise UnsupportedMediaType(
            "请求体类型应为 application/x-www-form-urlencoded 或 application/json",
            "The request body must be application/x-www-form-urlencoded or application/json",
            code="unsupported_media_type",
        )
    if data.get("grant_type") not in (None, "password", "client_credentials"):
        raise ValidationFailed.field(
            "grant_type",
            "不支持的授权类型（password 或 client_credentials）",
            "Unsupported grant_type (password or client_credentials)",
            code="unsupported_grant_type",
        )
    try:
        return TokenRequest.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors[:5])
        raise ValidationFailed(
            f"以下字段有误：{fields}", f"Invalid fields: {fields}", errors=errors
        ) from None


@router.post(
    "/auth/token",
    operation_id="issue_token",
    response_model=TokenOut,
    dependencies=[Depends(public)],
    summary="OAuth2 token endpoint (password and client_credentials grants)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": _BODY, "application/json": _BODY},
        }
    },
)
async def issue_token(request: Request, session: SessionDep) -> Response:
    """Form-encoded as OAuth 2.0 says, or JSON. Errors are problems that also carry RFC 6749's
    `error` and `error_description`; a token is never stored for replay (`Cache-Control: no-store`)."""
    try:
        return await _issue(request, session)
    except AppError as exc:
        exc.extensions = {
            "error": _OAUTH_ERRORS.get(exc.code, "invalid_request"),
            "error_description": exc.detail_en or exc.title_en,
        }
        raise


async def _issue(request: Request, session: SessionDep) -> Response:
    settings = request.app.state.settings
    body = await _read(request)
    # A token is a secret: never stored for Idempotency-Key replay.
    request.state.idempotency_no_store = True
    # uvicorn runs with proxy_headers=True: behind a trusted proxy this is the client's address.
    address = request.client.host if request.client else None
    if body.grant_type == "password":
        if not body.username or not body.password:
            raise ValidationFailed.field(
                "username", "需要提供用户名和密码", "username and password are required"
            )
        token, ttl = await service.password_grant(
            session, settings, body.username, body.password, address
        )
    else:
        if not body.client_id or not body.client_secret:
            raise ValidationFailed.field(
                "client_id",
                "需要提供 client_id 和 client_secret",
                "client_id and client_secret are required",
            )
        token, ttl = await service.client_credentials_grant(
            session, settings, body.client_id, body.client_secret, address
        )
    out = TokenOut(access_token=token, expires_in=ttl)
    return Response(
        out.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
