"""Engine and the one session-per-request unit of work."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError

from app.core.errors import version_conflict

log = logging.getLogger("anjian.db")

CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Prepared statements are re-used per connection; PostgreSQL's generic plans ignore the
    # filter values and were measured 50x slower on filtered hazard lists (bench/hazards.py).
    # A bounded connect timeout: with the database unreachable a request answers 503 within
    # seconds instead of holding its client for asyncpg's default minute.
    connect_args: dict[str, Any] = (
        {
            "server_settings": {"plan_cache_mode": "force_custom_plan"},
            "timeout": CONNECT_TIMEOUT_SECONDS,
        }
        if "asyncpg" in url
        else {}
    )
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args=connect_args,
        **kwargs,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
OnFailure = Callable[[AsyncSession, BaseException], Awaitable[None]]
_HOOKS = "before_commit"
_FAILURE_HOOKS = "on_failure"


def before_commit(session: AsyncSession, hook: BeforeCommit) -> None:
    """Runs ``hook`` in the request's transaction after the endpoint has rendered its response
    and just before the commit (the record of an ``Idempotency-Key`` answer is written so)."""
    session.info.setdefault(_HOOKS, []).append(hook)


def on_failure(session: AsyncSession, hook: OnFailure) -> None:
    """Runs ``hook`` after the request's transaction was rolled back because it failed; the hook
    may raise a better answer (a retry that lost to a concurrent request with the same
    ``Idempotency-Key`` answers the winner's response instead of, say, a duplicate error)."""
    session.info.setdefault(_FAILURE_HOOKS, []).append(hook)


_STALE_TABLE = re.compile(r"on table '([^']+)'")


async def _current_version(session: AsyncSession, exc: StaleDataError) -> int | None:
    """After a StaleDataError: the current version of the row that lost the race, found by
    the table the error names among the versioned rows this unit of work loaded."""
    match = _STALE_TABLE.search(str(exc))
    table = match.group(1) if match else None
    stale = [
        inspect(obj)
        for obj in list(session.identity_map.values())
        if inspect(obj).mapper.version_id_col is not None
        and inspect(obj).mapper.local_table.name == table
    ]
    await session.rollback()
    if len(stale) != 1 or stale[0].identity is None:
        return None
    mapper = stale[0].mapper
    return (
        await session.execute(
            select(mapper.version_id_col).where(mapper.primary_key[0] == stale[0].identity[0])
        )
    ).scalar_one_or_none()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Commits when the endpoint returns, rolls back when it raises; services only flush.

    The commit happens before the response is sent (``scope="function"``), so a failed commit
    is an error answer, never an acknowledgement of lost data.
    """
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            for hook in session.info.pop(_HOOKS, ()):
                await hook(session)
            await session.commit()
        except StaleDataError as exc:
            if_match = "if-match" in request.headers
            raise version_conflict(await _current_version(session, exc), if_match=if_match) from exc
        except BaseException as exc:
            try:
                await session.rollback()
            except Exception:  # a dead connection: the original error is what matters
                log.warning("rollback failed", exc_info=True)
                raise exc from None
            for hook in session.info.pop(_FAILURE_HOOKS, ()):
                await hook(session, exc)
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
