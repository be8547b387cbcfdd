"""One error hierarchy, rendered as RFC 9457 problem details in Chinese or English."""

from __future__ import annotations

import errno
import json
import logging
import socket
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.core.i18n import VALIDATION_MESSAGES_ZH, wants_english
from app.core.openapi import document_headers, honours_if_match

log = logging.getLogger("anjian.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# A problem's `type` is `/problems/{code}`: a URI reference relative to the request URL (RFC 9457
# §3.1.1), served by app/api/problems.py from the registry in app/core/problem_codes.py.
TYPE_BASE = "/problems/"


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"
    title_zh: str = "请求有误"
    title_en: str = "Bad request"

    def __init__(
        self,
        detail_zh: str | None = None,
        detail_en: str | None = None,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail_en or detail_zh or self.title_en)
        self.detail_zh = detail_zh
        self.detail_en = detail_en or detail_zh
        if code:
            self.code = code
        self.errors = errors
        # RFC 9457 extension members, e.g. RFC 6749's `error` on the token endpoint.
        self.extensions: dict[str, Any] = {}
        self.headers = headers or {}


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status, code, title_zh, title_en = 401, "unauthorized", "未认证或认证失败", "Not authenticated"


class Forbidden(AppError):
    status, code, title_zh, title_en = 403, "forbidden", "无权执行此操作", "Forbidden"


class NotFound(AppError):
    status, code, title_zh, title_en = 404, "not_found", "资源不存在", "Not found"


class Conflict(AppError):
    status, code, title_zh, title_en = 409, "conflict", "资源冲突", "Conflict"


class Gone(AppError):
    """What was there is deleted for good (an export's file after its retention)."""

    status, code, title_zh, title_en = 410, "gone", "资源已不存在", "Gone"


class PreconditionFailed(AppError):
    status, code = 412, "precondition_failed"
    title_zh, title_en = "资源已被修改，请刷新后重试", "Precondition failed"


def version_conflict(version: int | None, *, if_match: bool) -> AppError:
    """A lost race on a row's version counter (two writers read the same version): retryable
    after reading the current version. With If-Match the tag the caller sent is now stale, which
    API.md answers 412; without it, 409 `conflict`."""
    headers = {"ETag": f'"v{version}"'} if version is not None else None
    if if_match:
        return PreconditionFailed(
            "资源已被他人修改，请重新获取后再提交",
            "The resource has changed since you read it; fetch it again and retry",
            headers=headers,
        )
    return Conflict(
        "资源同时被他人修改，请重新获取后再提交",
        "The resource was changed by someone else at the same time; fetch it and retry",
        code="conflict",
        headers=headers,
    )


class InvalidTransition(Conflict):
    code, title_zh, title_en = (
        "invalid_transition",
        "当前状态不允许此操作",
        "Action not allowed now",
    )


class PayloadTooLarge(AppError):
    status, code, title_zh, title_en = 413, "payload_too_large", "请求体过大", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"
    title_zh, title_en = "不支持的文件类型", "Unsupported media type"


class ValidationFailed(AppError):
    status, code, title_zh, title_en = (
        422,
        "validation_error",
        "请求参数校验失败",
        "Validation failed",
    )

    @classmethod
    def field(cls, field: str, zh: str, en: str, code: str | None = None) -> ValidationFailed:
        return cls(zh, en, code=code, errors=[{"field": field, "message_zh": zh, "message_en": en}])


class TooManyRequests(AppError):
    status, code, title_zh, title_en = 429, "too_many_requests", "请求过于频繁", "Too many requests"


class ServiceUnavailable(AppError):
    status, code = 503, "database_unavailable"
    title_zh, title_en = "数据库暂时不可用，请稍后重试", "The database is unavailable; retry later"


DATABASE_RETRY_AFTER_SECONDS = 5

# SQLSTATEs meaning "the database cannot serve this now, try again": connection exceptions
# (class 08), shutdown or start-up (57P0x), too many connections, serialisation failures and
# deadlocks (the transaction was rolled back and may simply be retried), lock timeouts.
_RETRYABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03", "40001", "40P01", "55P03"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open database")


# Raw socket errors that asyncpg raises at connect: the database host cannot be reached.
_UNREACHABLE_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
    }
)


def is_database_unavailable(exc: BaseException) -> bool:
    """Connection errors, pool timeouts and serialisation failures: 503, never 500."""
    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError | socket.gaierror):
        return True
    if type(exc) is OSError and exc.errno in _UNREACHABLE_ERRNOS:
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        text = str(orig).lower()
        if any(marker in text for marker in _SQLITE_BUSY):
            return True
        if type(orig).__name__ == "ConnectionDoesNotExistError" or (
            type(orig).__name__ == "InterfaceError" and "closed" in text
        ):
            return True
        if isinstance(orig, ConnectionError | TimeoutError):
            return True
        exc = orig if orig is not None else exc
    sqlstate = str(getattr(exc, "sqlstate", "") or getattr(exc, "pgcode", "") or "")
    return sqlstate.startswith("08") or sqlstate in _RETRYABLE_SQLSTATES


def problem_body(
    request: Request,
    *,
    status: int,
    code: str,
    title_zh: str,
    title_en: str,
    detail_zh: str | None = None,
    detail_en: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    en = wants_english(request)
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title_en if en else title_zh,
        "status": status,
        "detail": (detail_en if en else detail_zh) or (title_en if en else title_zh),
        "instance": request.url.path,
        "code": code,
    }
    if errors is not None:
        body["errors"] = [
            {
                "field": e["field"],
                "message": e.get("message_en" if en else "message_zh") or e.get("message", ""),
            }
            for e in errors
        ]
    return body


def problem_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# Tags of discriminated request unions (e.g. hazard actions): pydantic puts the tag in the error
# location ("void.reason"); clients expect the field path of the body they sent ("reason").
UNION_TAGS: set[str] = set()


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form", "cookie"):
        if parts[0] == "body" and len(parts) > 2 and parts[1] in UNION_TAGS:
            parts = parts[1:]
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or str(loc[0] if loc else "")


# The values each discriminator of a request union takes (e.g. "action"), filled by the schemas,
# so a missing tag can be answered with the valid ones too (pydantic names them only when the tag
# is present but unknown).
UNION_DISCRIMINATORS: dict[str, list[str]] = {}
_DISCRIMINATOR_ZH = {"action": "操作"}

# Regular expressions of `pattern=` constraints, said in words: a client shows the message, and a
# regex in it helps nobody. A pattern not listed here is answered "invalid format".
PATTERN_WORDS: dict[str, tuple[str, str]] = {
    r"^\d{1,12}$": ("1 to 12 digits", "1 至 12 位数字"),
    r"^\d{9}$": ("9 digits", "9 位数字"),
    r"^\d{12}$": ("12 digits", "12 位数字"),
    r"^\+?[0-9][0-9-]{4,19}$": (
        "a phone number: 5 to 20 digits or hyphens, optionally after a leading +",
        "电话号码：5 至 20 位数字或连字符，可以 + 开头",
    ),
    r"^[A-Za-z0-9_.@-]{3,64}$": (
        "3 to 64 letters, digits or the characters _ . @ -",
        "3 至 64 个字母、数字或 _ . @ - 字符",
    ),
    r"^([A-T]|[A-T]?\d{2,4})$": (
        "a GB/T 4754 code: a section letter A to T, or 2 to 4 digits, optionally after it",
        "GB/T 4754 行业代码：门类字母 A 至 T，或 2 至 4 位数字（可带门类字母）",
    ),
}


def _listed(quoted: str) -> list[str]:
    """pydantic's "'a', 'b'" as ["a", "b"]."""
    return [t.strip().strip("'\"") for t in quoted.split(",") if t.strip()]


def _explained(err: dict[str, Any]) -> tuple[str, str, str] | None:
    """(field, English, Chinese) for the errors whose pydantic wording a client cannot act on."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "action_invalid":  # a union that names its own tags (a callable discriminator)
        given = err.get("input")
        tag = given.get("action") if isinstance(given, dict) else None
        kind = "union_tag_invalid" if tag is not None else "union_tag_not_found"
        ctx = {**ctx, "tag": tag}
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        name = str(ctx.get("discriminator", "")).strip("'\"")
        valid = _listed(str(ctx.get("expected_tags", ""))) or UNION_DISCRIMINATORS.get(name, [])
        one_of = ", ".join(valid)
        noun_zh = _DISCRIMINATOR_ZH.get(name, name)
        loc = [*err.get("loc", ()), name]
        if kind == "union_tag_invalid":
            tag = ctx.get("tag", "")
            en = f"Unknown {name} '{tag}'; expected one of: {one_of}"
            zh = f"未知的{noun_zh} '{tag}'；可选值：{one_of}"
        else:
            en = f"Missing {name}; expected one of: {one_of}"
            zh = f"缺少{noun_zh}（{name}）；可选值：{one_of}"
        return _field_path(loc), en, zh
    if kind == "string_pattern_mismatch":
        en, zh = PATTERN_WORDS.get(str(ctx.get("pattern", "")), ("", ""))
        if en:
            return _field_path(err.get("loc", ())), f"Should be {en}", f"应为{zh}"
        return _field_path(err.get("loc", ())), "Invalid format", "格式不正确"
    return None


def validation_errors(raw: list[dict[str, Any]]) -> list[dict[str, str]]:
    errors = []
    for err in raw:
        explained = _explained(err)
        if explained:
            field, en, zh = explained
            errors.append({"field": field, "message_en": en, "message_zh": zh})
            continue
        msg_en = str(err.get("msg", "invalid"))
        # Messages from our own validators ("Value error, ...") carry Chinese after a '|'.
        zh = VALIDATION_MESSAGES_ZH.get(err.get("type", ""), "取值无效")
        if "|" in msg_en:
            msg_en, _, zh = msg_en.partition("|")
            msg_en = msg_en.removeprefix("Value error, ").strip()
            zh = zh.strip()
        errors.append(
            {"field": _field_path(err.get("loc", ())), "message_en": msg_en, "message_zh": zh}
        )
    return errors


async def app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    body = problem_body(
        request,
        status=exc.status,
        code=exc.code,
        title_zh=exc.title_zh,
        title_en=exc.title_en,
        detail_zh=exc.detail_zh,
        detail_en=exc.detail_en,
        errors=exc.errors,
    )
    body.update(exc.extensions)
    return problem_response(request, exc.status, body, exc.headers)


async def request_validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    malformed = next((e for e in raw if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        return _malformed_body(request, malformed)
    errors = validation_errors(raw)
    fields = ", ".join(e["field"] for e in errors[:5])
    body = problem_body(
        request,
        status=422,
        code="validation_error",
        title_zh=ValidationFailed.title_zh,
        title_en=ValidationFailed.title_en,
        detail_zh=f"以下字段有误：{fields}",
        detail_en=f"Invalid fields: {fields}",
        errors=errors,
    )
    return problem_response(request, 422, body)


def _malformed_body(request: Request, err: dict[str, Any]) -> JSONResponse:
    """A body that is not JSON at all: 400 `malformed_body` (not a 422 naming a "field" like
    `[9]`, which is the character position FastAPI puts in the error location)."""
    loc = [p for p in err.get("loc", ()) if isinstance(p, int)]
    reason = str((err.get("ctx") or {}).get("error", "") or err.get("msg", ""))
    where_en = f" at position {loc[-1]}" if loc else ""
    where_zh = f"（位置 {loc[-1]}）" if loc else ""
    body = problem_body(
        request,
        status=400,
        code="malformed_body",
        title_zh="请求体格式错误",
        title_en="Malformed request body",
        detail_zh=f"请求体不是有效的 JSON{where_zh}：{reason}",
        detail_en=f"The body is not valid JSON{where_en}: {reason}",
    )
    return problem_response(request, 400, body)


_HTTP_TITLES = {
    400: ("bad_request", "请求有误", "Bad request"),
    401: ("unauthorized", "未认证或认证失败", "Not authenticated"),
    403: ("forbidden", "无权执行此操作", "Forbidden"),
    404: ("not_found", "资源不存在", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    406: ("not_acceptable", "无法提供所请求的格式", "Not acceptable"),
    408: ("request_timeout", "请求体发送过慢，已超时", "The request body was not received in time"),
    413: ("payload_too_large", "请求体过大", "Payload too large"),
    415: ("unsupported_media_type", "不支持的媒体类型", "Unsupported media type"),
}


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = _HTTP_TITLES.get(exc.status_code, ("http_error", "请求失败", "Request failed"))
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        code, zh, en = "malformed_body", "请求体格式错误", "Malformed request body"
    body = problem_body(request, status=exc.status_code, code=code, title_zh=zh, title_en=en)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 408:
        headers["Connection"] = "close"  # the rest of the body may still be on its way
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem_response(request, exc.status_code, body, headers)


def _allowed_methods(request: Request) -> str | None:
    """Every method of the resource (RFC 9110 §15.5.6), from the app's route table: Starlette
    names only the methods of the first route whose path matched, and GET and POST are
    separate routes."""
    path = request.scope["path"]
    methods = {
        m for info in request.app.state.routes if info.regex.match(path) for m in info.methods
    }
    return ", ".join(sorted(methods)) or None


def unavailable_response(request: Request, exc: Exception) -> JSONResponse:
    """503 ``database_unavailable`` with ``Retry-After`` (also for the hot reads, which answer
    an outage themselves rather than wait for it a second time in the route)."""
    log.warning("database unavailable: %s", type(exc).__name__, exc_info=exc)
    body = problem_body(
        request,
        status=503,
        code=ServiceUnavailable.code,
        title_zh=ServiceUnavailable.title_zh,
        title_en=ServiceUnavailable.title_en,
    )
    return problem_response(request, 503, body, {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


async def unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return unavailable_response(request, exc)
    log.exception("unhandled error", exc_info=exc)
    body = problem_body(
        request,
        status=500,
        code="internal_error",
        title_zh="服务器内部错误",
        title_en="Internal error",
    )
    return problem_response(request, 500, body)


# PostgreSQL refuses text it cannot store (U+0000 above all) with these; SQLite stores it.
_UNSTORABLE_TEXT_SQLSTATES = {"22021", "22P05"}


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Text the database cannot hold is bad input (422), wherever it was bound; anything else
    from the database stays an internal error."""
    if not isinstance(exc, DBAPIError) or (
        getattr(exc.orig, "sqlstate", None) not in _UNSTORABLE_TEXT_SQLSTATES
    ):
        return await unhandled_handler(request, exc)
    body = problem_body(
        request,
        status=422,
        code="invalid_character",
        title_zh=ValidationFailed.title_zh,
        title_en=ValidationFailed.title_en,
        detail_zh="文本中含有无法保存的字符（如 U+0000）",
        detail_en="The text contains a character that cannot be stored (such as U+0000)",
    )
    return problem_response(request, 422, body)


class ProblemFieldError(BaseModel):
    field: str = Field(description="Path of the offending field, e.g. `principal.phone`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error response."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str = Field(description="Stable machine-readable error code")
    errors: list[ProblemFieldError] = Field(
        default_factory=list, description="Validation errors, one per field (422 only)"
    )
    error: str | None = Field(
        default=None,
        description="Token endpoint only: the RFC 6749 error (`invalid_grant`, `invalid_client`, "
        "`invalid_request`, `unsupported_grant_type`, `temporarily_unavailable`)",
    )
    error_description: str | None = Field(
        default=None, description="Token endpoint only: RFC 6749 `error_description` (English)"
    )


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Missing, invalid or expired credentials",
    403: "In scope, but the caller may not take this action",
    404: "Not found, or outside the caller's scope",
    409: "Conflict with the current state (duplicate, Idempotency-Key in use)",
    412: "If-Match does not match the current ETag",
    413: "Request body over the size limit",
    415: "Unsupported media type (judged by content)",
    408: "The request body was not received in time",
    422: "Validation failed",
    429: "Too many failed attempts; retry after `Retry-After` seconds",
    503: "The database is unavailable; retry after `Retry-After` seconds",
}


def _problem_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses the shared machinery can answer for an operation."""
    statuses = {422} if "422" in operation.get("responses", {}) else set()
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 408, 409, 413, 422}
        if "multipart/form-data" in operation["requestBody"].get("content", {}):
            statuses.add(415)  # uploads are checked by content
    if honours_if_match(path, method):
        statuses.add(412)
    if path != "/healthz" and not path.startswith(TYPE_BASE):  # /problems/ reads no database
        statuses.add(503)  # every operation that reads the database may meet an outage
    if operation.get("operationId") == "revoke_token":
        statuses = (statuses - {409}) | {415}  # public (no Idempotency-Key); form or JSON
    if operation.get("operationId") == "issue_token":
        # no Idempotency-Key replay here; the body is read by hand (form or JSON, else 415)
        statuses = (statuses - {409}) | {401, 415, 429}
    return statuses


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare every error an operation can answer as ``application/problem+json`` ``Problem``,
    replacing FastAPI's default 422 schema, so generated clients and schema checks see the
    bodies that are really sent."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(k) for k in responses if k.startswith("4")}
            for status in sorted(_problem_statuses(path, method, operation) | declared):
                response = responses.setdefault(str(status), {})
                if status == 422 or response.get("description", "Additional Response") == (
                    "Additional Response"
                ):
                    response["description"] = _PROBLEM_DESCRIPTIONS.get(status, "Error")
                response["content"] = content
                if status == 429:
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "required": True}
                    }
            operation["responses"] = dict(sorted(responses.items()))
    paths = json.dumps(schema.get("paths"))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in paths:
            components.pop(unused, None)
    return schema


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    # Database errors (wrapped or raw from the driver, e.g. a refused connection) are handled
    # inside the app, so the answer is a problem with X-Request-ID on an intact connection.
    app.add_exception_handler(SQLAlchemyError, database_error_handler)
    app.add_exception_handler(OSError, unhandled_handler)
    try:
        from asyncpg import PostgresError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    else:
        app.add_exception_handler(PostgresError, unhandled_handler)
    app.add_exception_handler(Exception, unhandled_handler)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_headers(document_problems(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
