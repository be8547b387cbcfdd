"""``Idempotency-Key`` on POST, kept in the request's own unit of work.

The key is claimed by inserting its record in the request's transaction before the endpoint
runs, and the answer is written into that record just before the same transaction commits. So
the record and the writes it acknowledges commit together or not at all:

- a request that fails (any error, a failed commit, a crash) leaves no record: its key is free
  at once and a retry acts again, which is right because nothing was written;
- a request that committed always left its answer: a retry replays it and never acts twice;
- a concurrent retry's insert waits on the first one's uncommitted row (PostgreSQL: the unique
  index; SQLite: the write lock) and then either replays the committed answer or, when the
  first rolled back, acts itself.

Only 2xx answers are stored. Answers carrying a secret (``request.state.idempotency_no_store``)
are recorded as "not replayable": their retry is 409, never a second secret.

The body's hash is computed by ``IdempotencyBodyMiddleware`` (pure ASGI, in ``app/core``),
because a multipart body is consumed by form parsing before any dependency could read it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.auth.deps import get_principal
from app.auth.principal import Principal
from app.core.db import SessionDep, before_commit
from app.core.errors import Conflict, ValidationFailed
from app.core.middleware import IDEMPOTENCY_STATE
from app.models import IdempotencyRecord
from app.models.base import utcnow

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


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    return (postgresql if dialect == "postgresql" else sqlite).insert(IdempotencyRecord)


async def _claim(
    session: AsyncSession, owner: str, key: str, path: str, request_hash: str, ttl: timedelta
) -> str | IdempotencyRecord:
    """The new record's id, or the committed record already holding the key."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    for _ in range(2):
        inserted = (
            await session.execute(
                _insert(dialect)
                .values(
                    owner=owner,
                    key=key,
                    method="POST",
                    path=path,
                    request_hash=request_hash,
                    status_code=0,
                    headers={},
                    body="",
                    no_store=False,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["owner", "key"])
                .returning(IdempotencyRecord.id)
            )
        ).scalar_one_or_none()
        if inserted is not None:
            return inserted
        existing = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                )
            )
        ).scalar_one_or_none()
        if existing is None:  # the holder was deleted between the two statements
            continue
        if existing.created_at >= now - ttl and existing.status_code != 0:
            return existing
        # Expired (or a pending row left by an older version of the service): take it over.
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
    raise Conflict(
        "使用同一 Idempotency-Key 的请求正在处理中",
        "A request with this Idempotency-Key is in progress",
        code="idempotency_in_progress",
        headers={"Retry-After": "1"},
    )


def _answer_for(record: IdempotencyRecord, request_hash: str) -> Exception:
    if record.request_hash != request_hash:
        return ValidationFailed(
            "同一 Idempotency-Key 已用于不同的请求内容",
            "This Idempotency-Key was used with a different request",
            code="idempotency_key_reused",
        )
    if record.no_store:
        return Conflict(
            "该请求的响应包含只显示一次的密钥，不能重放",
            "The first response carried a secret and cannot be replayed",
            code="idempotency_not_replayable",
        )
    return IdempotentReplay(record)


def _recorder(
    request: Request, record_id: str
) -> Callable[[AsyncSession], Coroutine[Any, Any, None]]:
    async def record_answer(session: AsyncSession) -> None:
        response: Response | None = getattr(request.state, "response", None)
        status = response.status_code if response is not None else 0
        if not 200 <= status < 300:
            # Only successes are kept; anything else may be retried as a new request.
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
            )
            return
        assert response is not None
        body = getattr(response, "body", None)
        no_store = bool(getattr(request.state, "idempotency_no_store", False)) or body is None
        record = await session.get(IdempotencyRecord, record_id)
        assert record is not None
        record.status_code = status
        record.no_store = no_store
        record.headers = (
            {}
            if no_store
            else {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        )
        record.body = "" if no_store else bytes(body).decode("utf-8", "replace")  # type: ignore[arg-type]
        await session.flush()

    return record_answer


async def claim_idempotency_key(
    request: Request, session: SessionDep, principal: Annotated[Principal, Depends(get_principal)]
) -> None:
    """Route dependency of every authenticated POST (added by ``ApiRoute``)."""
    state = request.scope.get("state", {}).get(IDEMPOTENCY_STATE)
    if state is None:
        return
    key, request_hash = state
    if not 1 <= len(key) <= 255:
        raise ValidationFailed(
            "Idempotency-Key 长度应为 1 至 255 个字符",
            "Idempotency-Key must be 1-255 characters",
            code="invalid_idempotency_key",
        )
    ttl = timedelta(seconds=request.app.state.settings.idempotency_ttl_seconds)
    claimed = await _claim(
        session, principal.audit_id, key, request.scope["path"], request_hash, ttl
    )
    if isinstance(claimed, IdempotencyRecord):
        raise _answer_for(claimed, request_hash)
    before_commit(session, _recorder(request, claimed))


async def not_idempotent() -> None:
    """Marks a POST that ignores ``Idempotency-Key`` (like the token endpoint): it answers a
    fresh secret, so a replay could never be given, and it commits its sign-in throttle
    mid-request, which would commit a claim too early."""


not_idempotent.skips_idempotency = True  # type: ignore[attr-defined]


def _claims_a_key(dependencies: Any) -> bool:
    return not any(
        getattr(d.dependency, "is_public", False)
        or getattr(d.dependency, "skips_idempotency", False)
        for d in dependencies or ()
    )


class ApiRoute(APIRoute):
    """Every API route: authenticated POSTs claim their ``Idempotency-Key``, and the rendered
    response is left on ``request.state.response`` for the unit of work's before-commit hooks
    (the dependency exit runs after rendering and before sending)."""

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

        async def handle(request: Request) -> Response:
            response = await handler(request)
            request.state.response = response
            return response

        return handle
