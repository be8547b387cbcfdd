"""Pure-ASGI middleware: request ids, access log and metrics, body limits and read deadlines,
media types, and the body hash for ``Idempotency-Key`` (whose records live in the unit of work)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_body

access_log = logging.getLogger("anjian.access")

REQUESTS = Counter("anjian_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "anjian_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    zh: str,
    en: str,
    extra: dict[str, str] | None = None,
) -> None:
    conn = HTTPConnection(scope)
    body = problem_body(conn, status=status, code=code, title_zh=zh, title_en=en)  # type: ignore[arg-type]
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    for k, v in (extra or {}).items():
        headers.append((k.lower().encode(), v.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    """Outermost: every response gets ``X-Request-ID``; one structured log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = HTTPConnection(scope).headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            info = match_route(scope)
            template = info.template if info else "unmatched"
            status = status_holder["status"]
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "principal": scope["state"].get("principal_id"),
                },
            )


CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Accept-Language",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Content-Disposition",
    "Idempotent-Replayed",
]


class CompressionMiddleware:
    """gzip for answers over ``minimum_size`` bytes when the client accepts it (a page of 500
    hazards is over 300 KB of JSON), except file downloads: photos and PDFs are compressed
    already, and a download must keep its length for `Range` and resumption."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1000, compresslevel: int = 6) -> None:
        self.app = app
        # Level 6 (zlib's own default) rather than Starlette's 9: on JSON pages nearly the same
        # size for a fraction of the CPU, on the request's path.
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _is_download(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _is_download(scope: Scope) -> bool:
    path = scope["path"]
    return path.startswith("/api/v1/attachments/") and path.endswith(("/content", "/thumbnail"))


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI re-raises it from body parsing (instead of turning it into a
    400 "error parsing the body") and the problem handler answers 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyTooSlow(HTTPException):
    """The body did not arrive within its deadline (a trickling client): 408."""

    def __init__(self) -> None:
        super().__init__(status_code=408)


UPLOAD_PATH = "/api/v1/attachments"
PUBLIC_REPORTS_PATH = "/api/v1/public/reports"
PUBLIC_REPORT_PHOTOS = 5
IMPORTS_PATH = "/api/v1/imports"
IMPORT_MAX_BYTES = 50 * 1024 * 1024  # app/services/imports/service.py checks it again


def _is_upload(scope: Scope) -> bool:
    return scope["path"].rstrip("/") in (UPLOAD_PATH, PUBLIC_REPORTS_PATH, IMPORTS_PATH)


def _media(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


def body_limit_for(scope: Scope) -> int:
    settings = scope["app"].state.settings
    path = scope["path"].rstrip("/")
    if path == UPLOAD_PATH:
        return settings.attachment_max_bytes + 64 * 1024
    if path == IMPORTS_PATH and scope.get("method") == "POST":  # a register of 200,000 rows
        return IMPORT_MAX_BYTES + 64 * 1024
    if path == PUBLIC_REPORTS_PATH and _media(scope) == "multipart/form-data":
        # a report with its photos (at most five); as JSON it is held to the general limit
        return PUBLIC_REPORT_PHOTOS * settings.public_report_photo_max_bytes + 64 * 1024
    return settings.max_body_bytes


def body_deadline_for(scope: Scope) -> Callable[[int], float]:
    """Seconds the body may have taken once ``n`` bytes arrived. Every body gets
    ``ANJIAN_BODY_READ_TIMEOUT_SECONDS``; an upload earns more time only by sending
    (``ANJIAN_UPLOAD_MIN_RATE_BYTES`` per second), up to ``ANJIAN_UPLOAD_READ_TIMEOUT_SECONDS``,
    so a slow mobile upload completes while a trickle (even an unauthenticated one) is cut off
    as soon as any other body would be."""
    settings = scope["app"].state.settings
    base = float(settings.body_read_timeout_seconds)
    if not _is_upload(scope):
        return lambda n: base
    cap = max(base, float(settings.upload_read_timeout_seconds))
    rate = float(settings.upload_min_rate_bytes)
    return lambda n: min(cap, base + n / rate)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MULTIPART_TYPES = ("multipart/form-data",)
JSON_TYPES = ("application/json",)


@dataclass(frozen=True, slots=True)
class RouteInfo:
    regex: re.Pattern[str]
    methods: frozenset[str]
    template: str
    accepts: tuple[str, ...] | None  # media types of the body it reads; None: no body


def route_table(app: Any) -> list[RouteInfo]:
    """Every route's pattern, template and body media types, derived from the routes themselves
    (form/file parameters mean a form), so a new endpoint needs no entry anywhere."""
    from fastapi import params
    from fastapi.routing import APIRoute, iter_route_contexts

    table = []
    for ctx in iter_route_contexts(app.router.routes):
        route = ctx.route
        if not isinstance(route, APIRoute):
            continue
        infos = [f.field_info for f in route.dependant.body_params]
        accepts: tuple[str, ...] | None = None
        if any(isinstance(i, params.File) for i in infos):
            accepts = MULTIPART_TYPES
        elif any(isinstance(i, params.Form) for i in infos):
            accepts = FORM_TYPES
        elif infos:
            accepts = JSON_TYPES
        table.append(
            RouteInfo(ctx.path_regex, frozenset(ctx.methods or ()), ctx.path or "", accepts)
        )
    return table


def match_route(scope: Scope) -> RouteInfo | None:
    for info in scope["app"].state.routes:
        if scope["method"] in info.methods and info.regex.match(scope["path"]):
            return info
    return None


class MediaTypeMiddleware:
    """A body of a type the endpoint does not read is 415, not a confusing validation error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = HTTPConnection(scope).headers
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if has_body:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            info = match_route(scope)
            accepted = info.accepts if info else None
            if accepted is not None:
                json_like = accepted == JSON_TYPES and media.endswith("+json")
                if media not in accepted and not json_like:
                    await send_problem(
                        scope,
                        send,
                        415,
                        "unsupported_media_type",
                        f"请求体类型应为 {' 或 '.join(accepted)}",
                        f"The request body must be {' or '.join(accepted)}",
                    )
                    return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Enforces the body limit while reading, for declared and chunked bodies alike, and a
    deadline for the whole body (408 when a client trickles it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope)
        declared = HTTPConnection(scope).headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_problem(
                scope, send, 413, "payload_too_large", "请求体过大", "Payload too large"
            )
            return
        received = 0
        started = False
        body_done = False
        started_at = anyio.current_time()
        allowed = body_deadline_for(scope)

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body only a disconnect can come: no deadline
                return await receive()
            try:
                remaining = started_at + allowed(received) - anyio.current_time()
                with anyio.fail_after(max(0.0, remaining)):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_problem(
                    scope, send, 413, "payload_too_large", "请求体过大", "Payload too large"
                )
        except BodyTooSlow:
            if not started:
                await send_problem(
                    scope,
                    send,
                    408,
                    "request_timeout",
                    "请求体发送过慢，已超时",
                    "The request body was not received in time",
                    {"Connection": "close"},
                )


class BodyHash:
    """SHA-256 of a request (method, path, query, body) computed while the body streams past,
    never buffered. Multipart boundaries differ between retries of the same upload, so every
    occurrence of the boundary is masked, also across chunk edges."""

    MASK = b"BOUNDARY"

    def __init__(self, method: str, path: str, query: bytes, content_type: str) -> None:
        self._digest = hashlib.sha256()
        for part in (method.encode(), path.encode(), query):
            self._digest.update(part)
            self._digest.update(b"\x00")
        match = re.search(r"boundary=\"?([^\";]+)\"?", content_type)
        self._boundary = match.group(1).encode() if match else b""
        self._pending = b""
        self.done = False

    def feed(self, chunk: bytes, more: bool) -> None:
        if self.done:
            return
        data = self._pending + chunk
        size = len(self._boundary)
        pos = 0
        if size:
            while (found := data.find(self._boundary, pos)) != -1:
                self._digest.update(data[pos:found])
                self._digest.update(self.MASK)
                pos = found + size
        # Keep back what could be the start of a boundary split by the chunk edge.
        keep = max(pos, len(data) - (size - 1)) if size and more else len(data)
        self._digest.update(data[pos:keep])
        self._pending = data[keep:]
        if not more:
            self._digest.update(b"\x00")
            self.done = True

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


IDEMPOTENCY_STATE = "idempotency"


class IdempotencyBodyMiddleware:
    """For a POST carrying ``Idempotency-Key``: hashes the body as the app reads it and puts
    ``(key, BodyHash)`` in the request state. The claim and the replay live in the unit of work
    (``app/api/idempotency.py``); this only sees bytes, because a multipart body is consumed by
    form parsing before any dependency could hash it. Nothing is buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = HTTPConnection(scope).headers
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        body_hash = BodyHash(
            "POST", scope["path"], scope.get("query_string", b""), headers.get("content-type", "")
        )
        scope.setdefault("state", {})[IDEMPOTENCY_STATE] = (key, body_hash)

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body_hash.feed(message.get("body", b""), bool(message.get("more_body", False)))
            return message

        await self.app(scope, hashing_receive, send)
