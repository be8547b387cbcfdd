from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError
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
from app.core.http import client_address
from app.core.openapi import EXTRA_SCHEMAS
from app.schemas.auth import RevokeRequest, TokenOut, TokenRequest
from app.services import auth as service

M = TypeVar("M", bound=BaseModel)
router = APIRouter(tags=["auth"], route_class=ApiRoute)
EXTRA_SCHEMAS.extend((TokenRequest, RevokeRequest))

_FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
_GRANTS = ("password", "client_credentials", "refresh_token")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# RFC 6749 §5.2 names for our problem codes, so OAuth libraries (AppAuth) understand the error.
_OAUTH_ERRORS = {
    "invalid_credentials": "invalid_grant",
    "invalid_refresh_token": "invalid_grant",
    "invalid_client": "invalid_client",
    "login_throttled": "temporarily_unavailable",
    "database_unavailable": "temporarily_unavailable",
    "unsupported_grant_type": "unsupported_grant_type",
}


def _request_body(schema: str, examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The body an operation reads by hand, declared for both media types (FastAPI cannot
    declare one operation with a form and a JSON body), with its examples."""
    content = {"schema": {"$ref": f"#/components/schemas/{schema}"}, "examples": examples}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": content, "application/json": content},
        }
    }


_TOKEN_EXAMPLES = {
    "password": {
        "summary": "A person signs in",
        "value": {"grant_type": "password", "username": "zhangsan", "password": "…"},
    },
    "refresh_token": {
        "summary": "Refresh: the refresh token of the last answer, once",
        "value": {"grant_type": "refresh_token", "refresh_token": "q7J1v0…"},
    },
    "client_credentials": {
        "summary": "A machine client signs in (no refresh token)",
        "value": {
            "grant_type": "client_credentials",
            "client_id": "cli_provincial_exchange",
            "client_secret": "…",
        },
    },
}
_REVOKE_EXAMPLES = {
    "refresh_token": {
        "summary": "Sign out with the refresh token",
        "value": {"token": "q7J1v0…", "token_type_hint": "refresh_token"},
    },
    "access_token": {
        "summary": "Sign out with the access token",
        "value": {"token": "eyJhbGciOiJIUzI1NiIs…", "token_type_hint": "access_token"},
    },
}


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, so a repeated key can be told."""


def _repeated(pairs: list[tuple[str, Any]]) -> str | None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return None


def _oauth_parameters(pairs: list[tuple[str, Any]], model: type[BaseModel]) -> dict[str, Any]:
    """RFC 6749 §3.2: a parameter is sent at most once (else ``invalid_request``), one sent
    without a value is as if omitted, and parameters the endpoint does not know are ignored
    (an OAuth library may add ``redirect_uri``, ``nonce`` …)."""
    twice = _repeated(pairs)
    if twice is not None:
        raise ValidationFailed.field(
            twice, "参数重复", "The parameter is sent more than once", code="repeated_parameter"
        )
    return {k: v for k, v in pairs if k in model.model_fields and v not in ("", None)}


async def _fields(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """The body's fields, form-encoded (OAuth 2.0) or JSON (API.md): the same fields either way."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media and not await request.body():
        return {}  # no body at all: the fields are missing (422), not of a wrong type
    if media in _FORM:
        return _oauth_parameters(list((await request.form()).multi_items()), model)
    if media == "application/json" or media.endswith("+json"):
        try:
            data = json.loads(await request.body(), object_pairs_hook=_Pairs)
        except ValueError:
            raise BadRequest(
                "请求体不是有效的 JSON", "The body is not valid JSON", code="malformed_body"
            ) from None
        if not isinstance(data, _Pairs):
            raise ValidationFailed.field("body", "请求体应为对象", "The body must be an object")
        return _oauth_parameters(data, model)
    raise UnsupportedMediaType(
        "请求体类型应为 application/x-www-form-urlencoded 或 application/json",
        "The request body must be application/x-www-form-urlencoded or application/json",
        code="unsupported_media_type",
    )


def _validated(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(list(exc.errors()))
        fields = ", ".join(e["field"] for e in errors[:5])
        raise ValidationFailed(
            f"以下字段有误：{fields}", f"Invalid fields: {fields}", errors=errors
        ) from None


def _with_oauth_error(exc: AppError) -> None:
    """RFC 6749 §5.2 (and RFC 7009 §2.2.1) error fields beside the problem's own."""
    exc.extensions = {
        "error": _OAUTH_ERRORS.get(exc.code, "invalid_request"),
        "error_description": exc.detail_en or exc.title_en,
    }


def _required(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed.field(field, zh, en)


@router.post(
    "/auth/token",
    operation_id="issue_token",
    response_model=TokenOut,
    dependencies=[Depends(public)],
    summary="Sign in or refresh: the OAuth 2.0 token endpoint",
    responses={
        200: {
            "description": "The tokens",
            "headers": {
                "Cache-Control": {
                    "description": "Always `no-store`: tokens are never cached",
                    "schema": {"type": "string", "enum": ["no-store"]},
                    "required": True,
                }
            },
        },
        400: {
            "description": "A malformed body (`malformed_body`), or a refresh token that is "
            "unknown, expired, used or revoked (`invalid_refresh_token`, `error: invalid_grant`)"
        },
    },
    openapi_extra=_request_body("TokenRequest", _TOKEN_EXAMPLES),
)
async def issue_token(request: Request, session: SessionDep) -> Response:
    """Issues an access token (30 minutes by default) for one of three grants:

    - `password` (`username`, `password`): a person signs in and starts a **session**; the
      answer also carries a `refresh_token`.
    - `refresh_token` (`refresh_token`): the session goes on. The refresh token is **single
      use**: the answer carries the next one, and the one sent is spent. Presenting a spent
      refresh token again ends the whole session (a copy was stolen), as do a password change,
      a role change and deactivation. Send one refresh at a time per session.
    - `client_credentials` (`client_id`, `client_secret`): a machine client; no refresh token
      (it signs in again with its credentials).

    Form-encoded as OAuth 2.0 says, or JSON. Errors are problems that also carry RFC 6749's
    `error` and `error_description`, so OAuth libraries read them: a refresh token that is
    unknown, expired, spent or revoked is 400 `invalid_grant` (`code` `invalid_refresh_token`):
    sign in again. Tokens are never cached or replayed (`Cache-Control: no-store`)."""
    try:
        return await _issue(request, session)
    except AppError as exc:
        _with_oauth_error(exc)
        raise


async def _issue(request: Request, session: SessionDep) -> Response:
    settings = request.app.state.settings
    data = await _fields(request, TokenRequest)
    if data.get("grant_type") not in (None, *_GRANTS):
        raise ValidationFailed.field(
            "grant_type",
            "不支持的授权类型（password、refresh_token 或 client_credentials）",
            "Unsupported grant_type (password, refresh_token or client_credentials)",
            code="unsupported_grant_type",
        )
    body = _validated(TokenRequest, data)
    # A token is a secret: never stored for Idempotency-Key replay.
    request.state.idempotency_no_store = True
    address = client_address(request)
    if body.grant_type == "password":
        if not body.username or not body.password:
            raise _required(
                "username", "需要提供用户名和密码", "username and password are required"
            )
        issued = await service.password_grant(
            session, settings, body.username, body.password, address
        )
    elif body.grant_type == "refresh_token":
        if not body.refresh_token:
            raise _required("refresh_token", "需要提供刷新令牌", "refresh_token is required")
        issued = await service.refresh_grant(session, settings, body.refresh_token)
    else:
        if not body.client_id or not body.client_secret:
            raise _required(
                "client_id",
                "需要提供 client_id 和 client_secret",
                "client_id and client_secret are required",
            )
        issued = await service.client_credentials_grant(
            session, settings, body.client_id, body.client_secret, address
        )
    out = TokenOut(
        access_token=issued.access_token,
        token_type="bearer",
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
    )
    # The unit of work commits (the refresh token claimed, its successor stored) before this
    # answer is sent: a client never holds a refresh token the database does not.
    return Response(
        out.model_dump_json(exclude_none=True), media_type="application/json", headers=_NO_STORE
    )


@router.post(
    "/auth/revoke",
    operation_id="revoke_token",
    response_class=Response,
    dependencies=[Depends(public)],
    summary="Sign out: revoke a session (RFC 7009)",
    responses={
        200: {"description": "Revoked, or there was nothing to revoke; the body is empty"},
        415: {"description": "Neither form-encoded nor JSON"},
    },
    openapi_extra=_request_body("RevokeRequest", _REVOKE_EXAMPLES),
)
async def revoke_token(request: Request, session: SessionDep) -> Response:
    """Ends the session a token belongs to: every refresh token of the sign-in it came from is
    revoked, and the session's access tokens are refused at once (401 `invalid_token`), on
    every instance. Send the refresh token (or an access token of the session, even an expired
    one) when the user signs out.

    No `Authorization` needed: holding the token is the proof, and a mobile app has no client
    secret. Answers 200 with an empty body also for a token that is unknown, expired, already
    revoked or a machine client's (whose tokens have no session and are unaffected), as RFC 7009
    §2.2 says: the client discards its tokens either way. Only a malformed request is an error
    (problem with RFC 6749 `error` fields)."""
    try:
        body = _validated(RevokeRequest, await _fields(request, RevokeRequest))
        await service.revoke(session, request.app.state.settings, body.token)
    except AppError as exc:
        _with_oauth_error(exc)
        raise
    return Response(status_code=200, headers=_NO_STORE)
