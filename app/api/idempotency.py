"""``Idempotency-Key`` on POST, recorded in the request's own unit of work.

Before the endpoint runs, a committed answer for the key is looked up (one read, no lock): a
retry of a request that committed is answered from it and nothing runs again. Otherwise the
request runs, and its answer is inserted under the key by a before-commit hook of the unit of
work, after rendering and before the commit and the send. So the record and the writes it
acknowledges commit together or not at all:

- a request that fails (any error, a failed commit, a crash) leaves no record: its key is free
  at once and a retry acts again, which is right because nothing was written;
- a request that committed always left its answer: a retry replays it and never acts twice;
- of concurrent requests with one key, the first to commit wins; the others' inserts find the
  key taken (PostgreSQL waits on the unique index for the winner's commit), so they roll back
  everything they did and answer the winner's response. Nothing is held while a request runs
  (no lock across an upload's checks, no connection queued behind another request).

Only 2xx answers are stored. Answers carrying a secret (``request.state.idempotency_no_store``)
are recorded as "not replayable": their retry is 409, never a second secret.

The body's hash is computed by ``IdempotencyBodyMiddleware`` (pure ASGI, in ``app/core``) while
the body streams past, because a multipart body is consumed by form parsing before any
dependency could read it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.api.routing import check_query, declared_query_params
from app.auth.deps import get_principal
from app.auth.principal import Principal
from app.core.db import READ_METHODS, SessionDep, before_commit, on_failure, upsert_insert
from app.core.errors import Conflict, ValidationFailed
from app.core.http import client_address
from app.core.middleware import IDEMPOTENCY_STATE
from app.models import IdempotencyRecord
from app.models.base import utcnow
from app.services.rate_limit import address_key

log = logging.getLogger("anjian.db")
# Where FastAPI keeps the exit stack of ``scope="function"`` dependencies (read per call).
_FUNCTION_STACK = "fastapi_function_astack"

_KEPT_HEADERS = frozenset({"content-type", "location", "etag"})


class IdempotentReplay(Exception):
    """Raised by the claim when the key already holds a committed answer: nothing runs."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        # Copied now: the unit of work rolls back (expiring the row) before the handler runs.
        self.status_code = record.status_code
        self.headers = dict(record.headers)
        self.body = record.body


async def replay_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    headers = {**exc.headers, "Idempotent-Replayed": "true"}
    media_type = headers.pop("content-type", None)
    return Response(exc.body, status_code=exc.status_code, headers=headers, media_type=media_type)


async def _committed(session: AsyncSession, owner: str, key: str) -> IdempotencyRecord | None:
    return (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
            )
        )
    ).scalar_one_or_none()


def _live(record: IdempotencyRecord, ttl: timedelta) -> bool:
    return record.created_at >= utcnow() - ttl


def _answer_for(record: IdempotencyRecord, request_hash: str) -> Exception:
    if record.request_hash != request_hash:
        return ValidationFailed(
            "同一 Idempotency-Key 已用于不同的请求内容",
            "This Idempotency-Key was used with a different request",
            code="idempotency_key_reused",
        )
    if record.no_store or record.status_code == 0:
        # status 0: a claim left by the previous version of the service, whose outcome is
        # unknown (it may have committed): never run it a second time.
        return Conflict(
            "该请求的响应不能重放（含只显示一次的密钥，或结果未知）",
            "The first response cannot be replayed (it carried a secret, or its outcome is unknown)",
            code="idempotency_not_replayable",
        )
    return IdempotentReplay(record)


def _recorder(
    request: Request, owner: str, key: str, request_hash: str, ttl: timedelta
) -> Callable[[AsyncSession], Coroutine[Any, Any, None]]:
    async def record_answer(session: AsyncSession) -> None:
        response: Response | None = getattr(request.state, "response", None)
        status = response.status_code if response is not None else 0
        if response is None or not 200 <= status < 300:
            return  # only successes are kept; anything else may be retried as a new request
        body = getattr(response, "body", None)
        no_store = bool(getattr(request.state, "idempotency_no_store", False)) or body is None
        # An expired record of this key gives way (within the TTL the pre-check answered).
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner,
                IdempotencyRecord.key == key,
                IdempotencyRecord.created_at < utcnow() - ttl,
            )
        )
        inserted = (
            await session.execute(
                upsert_insert(session, IdempotencyRecord)
                .values(
                    owner=owner,
                    key=key,
                    method="POST",
                    path=request.scope["path"],
                    request_hash=request_hash,
                    status_code=status,
                    headers={}
                    if no_store
                    else {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS},
                    body="" if no_store else bytes(body).decode("utf-8", "replace"),  # type: ignore[arg-type]
                    no_store=no_store,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["owner", "key"])
                .returning(IdempotencyRecord.id)
            )
        ).scalar_one_or_none()
        if inserted is None:
            # A concurrent request with this key committed first: everything this one did is
            # rolled back and the winner's answer is given instead.
            winner = await _committed(session, owner, key)
            if winner is None:  # pragma: no cover - the conflicting row vanished (expired)
                raise Conflict(
                    "使用同一 Idempotency-Key 的请求正在处理中",
                    "A request with this Idempotency-Key is in progress",
                    code="idempotency_in_progress",
                    headers={"Retry-After": "1"},
                )
            raise _answer_for(winner, request_hash)

    return record_answer


async def claim_idempotency_key(
    request: Request, session: SessionDep, principal: Annotated[Principal, Depends(get_principal)]
) -> None:
    """Route dependency of every authenticated POST (added by ``ApiRoute``)."""
    await _claim(request, session, principal.audit_id)


async def claim_public_idempotency_key(request: Request, session: SessionDep) -> None:
    """The same for an open POST (a public report): keyed by the client address and the key,
    so a stranger's retry replays its own answer and nobody else's (addresses kept as digests,
    an IPv6 one by its /64, as the rate limits count them)."""
    await _claim(request, session, "public:" + address_key("idempotency", client_address(request)))


async def _claim(request: Request, session: AsyncSession, owner: str) -> None:
    state = request.scope.get("state", {}).get(IDEMPOTENCY_STATE)
    if state is None:
        return
    key, body_hash = state
    if not 1 <= len(key) <= 255:
        raise ValidationFailed(
            "Idempotency-Key 长度应为 1 至 255 个字符",
            "Idempotency-Key must be 1-255 characters",
            code="invalid_idempotency_key",
        )
    if not body_hash.done:
        # The route reads no body: read it now (through the hashing receive) to finish the hash.
        await request.body()
    request_hash = body_hash.hexdigest()
    ttl = timedelta(seconds=request.app.state.settings.idempotency_ttl_seconds)
    existing = await _committed(session, owner, key)
    if existing is not None and _live(existing, ttl):
        raise _answer_for(existing, request_hash)
    before_commit(session, _recorder(request, owner, key, request_hash, ttl))
    on_failure(session, _winner_instead(owner, key, request_hash, ttl))


def _winner_instead(
    owner: str, key: str, request_hash: str, ttl: timedelta
) -> Callable[[AsyncSession, BaseException], Coroutine[Any, Any, None]]:
    """A request that failed may have lost to a concurrent one with the same key (e.g. its
    insert met the winner's row): if the key now holds a committed answer, that is the answer."""

    async def answer_of_winner(session: AsyncSession, exc: BaseException) -> None:
        if isinstance(exc, IdempotentReplay | asyncio.CancelledError):
            return
        try:
            winner = await _committed(session, owner, key)
            answer = _answer_for(winner, request_hash) if winner and _live(winner, ttl) else None
            await session.rollback()
        except Exception:  # the database is gone: the original error stands
            return
        if answer is not None:
            raise answer from exc

    return answer_of_winner


def _claims_a_key(dependencies: Any) -> bool:
    return not any(getattr(d.dependency, "is_public", False) for d in dependencies or ())


class ApiRoute(APIRoute):
    """Every API route: authenticated POSTs claim their ``Idempotency-Key``, and the rendered
    response is left on ``request.state.response`` for the unit of work's before-commit hooks
    (the dependency exit runs after rendering and before sending). A query parameter the route
    does not declare, or a single-valued one repeated, is a 422 before anything runs
    (``app.api.routing``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if "POST" in methods and _claims_a_key(kwargs.get("dependencies")):
            kwargs["dependencies"] = [
                Depends(claim_idempotency_key),
                *(kwargs.get("dependencies") or ()),
            ]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        declared = declared_query_params(self.dependant)

        async def handle(request: Request) -> Response:
            check_query(request, declared)
            outer = request.scope.get(_FUNCTION_STACK)
            try:
                for attempt in (1, 2):
                    try:
                        # Each attempt closes its own function-scoped dependencies (the unit of
                        # work), so a failed attempt rolls back before the next one begins.
                        async with AsyncExitStack() as stack:
                            request.scope[_FUNCTION_STACK] = stack
                            response = await handler(request)
                            request.state.response = response
                        return response
                    except DBAPIError as exc:
                        # A read that met a connection the server had closed (there is no
                        # pre-ping): once more on a fresh one. Writes are not repeated here; they
                        # answer 503 and the client retries with its Idempotency-Key.
                        retry = (
                            attempt == 1
                            and request.method in READ_METHODS
                            and exc.connection_invalidated
                        )
                        if not retry:
                            raise
                        log.info("read retried on a fresh connection", extra={"error": str(exc)})
                raise AssertionError("unreachable")
            finally:
                request.scope[_FUNCTION_STACK] = outer

        return handle
