"""Pure-ASGI middleware: request ids, access log and metrics, body limits, idempotency."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_body
from app.models import ApiClient, IdempotencyRecord, User
from app.models.base import utcnow

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


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI re-raises it from body parsing (instead of turning it into a
    400 "error parsing the body") and the problem handler answers 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def body_limit_for(scope: Scope) -> int:
    settings = scope["app"].state.settings
    if scope["path"].startswith("/api/v1/attachments"):
        return settings.attachment_max_bytes + 64 * 1024
    return settings.max_body_bytes


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
    """Enforces the body limit while reading, for declared and chunked bodies alike."""

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

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
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


def _normalised_hash(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    """Multipart boundaries differ between retries of the same upload, so they are masked."""
    match = re.search(r"boundary=\"?([^\";]+)\"?", content_type)
    if match:
        body = body.replace(match.group(1).encode(), b"BOUNDARY")
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


_PENDING = 0
_PENDING_TIMEOUT = timedelta(seconds=60)
_SKIP_PATHS = ("/api/v1/auth/token",)


class IdempotencyMiddleware:
    """Replays the first successful answer to a POST carrying the same ``Idempotency-Key``.

    Keys are scoped to the caller (token subject); a pending row claims the key first, so two
    concurrent retries never both act. Responses that carry a secret are never stored: their
    replay answers 409 ``idempotency_not_replayable``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in _SKIP_PATHS:
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        key = conn.headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255:
            await send_problem(
                scope,
                send,
                422,
                "invalid_idempotency_key",
                "Idempotency-Key 长度应为 1 至 255 个字符",
                "Idempotency-Key must be 1-255 characters",
            )
            return
        owner = self._owner(scope, conn)
        maker = scope["app"].state.sessionmaker
        if owner is None or not await self._owner_active(maker, owner):
            # No valid token, or a deactivated caller: the app answers 401 without acting,
            # and nothing stored is replayed to it.
            await self.app(scope, receive, send)
            return

        # `receive` is BodyLimitMiddleware's: reading past the limit raises its 413.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        request_hash = _normalised_hash(
            "POST",
            scope["path"],
            scope.get("query_string", b""),
            conn.headers.get("content-type", ""),
            body,
        )

        ttl = timedelta(seconds=scope["app"].state.settings.idempotency_ttl_seconds)
        claim = await self._claim(maker, owner, key, scope["path"], request_hash, ttl)
        if isinstance(claim, IdempotencyRecord):
            await self._answer_existing(scope, send, claim, request_hash)
            return

        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def capture_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            await self._finish(maker, claim, scope, captured)

    @staticmethod
    def _owner(scope: Scope, conn: HTTPConnection) -> str | None:
        from app.auth.tokens import read_token

        auth = conn.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        claims = read_token(scope["app"].state.settings, auth[7:].strip())
        return f"{claims['knd']}:{claims['sub']}" if claims else None

    @staticmethod
    async def _owner_active(maker, owner: str) -> bool:  # type: ignore[no-untyped-def]
        kind, _, subject = owner.partition(":")
        model = User if kind == "user" else ApiClient
        async with maker() as session:
            active = (
                await session.execute(select(model.is_active).where(model.id == subject))
            ).scalar_one_or_none()
        return bool(active)

    @staticmethod
    async def _claim(maker, owner, key, path, request_hash, ttl) -> IdempotencyRecord | str:  # type: ignore[no-untyped-def]
        now = utcnow()
        async with maker() as session:
            existing = (
                await session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                stale = existing.created_at < now - ttl or (
                    existing.status_code == _PENDING
                    and existing.created_at < now - _PENDING_TIMEOUT
                )
                if not stale:
                    return existing
                await session.execute(
                    delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id)
                )
            record = IdempotencyRecord(
                owner=owner,
                key=key,
                method="POST",
                path=path,
                request_hash=request_hash,
                status_code=_PENDING,
                headers={},
                body="",
                no_store=False,
                created_at=now,
            )
            session.add(record)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                again = (
                    await session.execute(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                        )
                    )
                ).scalar_one()
                return again
            return record.id

    @staticmethod
    async def _answer_existing(
        scope: Scope, send: Send, record: IdempotencyRecord, request_hash: str
    ) -> None:
        if record.request_hash != request_hash:
            await send_problem(
                scope,
                send,
                422,
                "idempotency_key_reused",
                "同一 Idempotency-Key 已用于不同的请求内容",
                "This Idempotency-Key was used with a different request",
            )
            return
        if record.status_code == _PENDING:
            await send_problem(
                scope,
                send,
                409,
                "idempotency_in_progress",
                "使用同一 Idempotency-Key 的请求正在处理中",
                "A request with this Idempotency-Key is in progress",
                {"Retry-After": "1"},
            )
            return
        if record.no_store:
            await send_problem(
                scope,
                send,
                409,
                "idempotency_not_replayable",
                "该请求的响应包含只显示一次的密钥，不能重放",
                "The first response carried a secret and cannot be replayed",
            )
            return
        headers = [(k.encode(), v.encode()) for k, v in record.headers.items()]
        headers.append((b"idempotent-replayed", b"true"))
        await send(
            {"type": "http.response.start", "status": record.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": record.body.encode()})

    @staticmethod
    async def _finish(maker, record_id: str, scope: Scope, captured: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
        status = captured["status"]
        async with maker() as session:
            if not 200 <= status < 300:
                # Failures changed nothing, so a retry may run again.
                await session.execute(
                    delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
                )
            else:
                record = await session.get(IdempotencyRecord, record_id)
                if record is not None:
                    no_store = bool(scope.get("state", {}).get("idempotency_no_store"))
                    keep = {"content-type", "location", "etag"}
                    record.status_code = status
                    record.no_store = no_store
                    record.headers = (
                        {}
                        if no_store
                        else {
                            k.decode().lower(): v.decode()
                            for k, v in captured["headers"]
                            if k.decode().lower() in keep
                        }
                    )
                    record.body = (
                        "" if no_store else b"".join(captured["body"]).decode("utf-8", "replace")
                    )
            await session.commit()
