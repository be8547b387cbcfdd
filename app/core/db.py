"""Engine and the one session-per-request unit of work."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, false, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.exc import StaleDataError

from app.auth.principal_cache import committed_changes
from app.core.errors import version_conflict

log = logging.getLogger("anjian.db")

CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10
POOL_RECYCLE_SECONDS = 1800
READ_METHODS = frozenset({"GET", "HEAD"})


def make_engine(url: str, *, pgbouncer: bool | None = None, **kwargs: object) -> AsyncEngine:
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
    if pgbouncer is None:  # the commands (`anjian init`, `jobs run-once`) pass no settings
        from app.core.config import get_settings

        pgbouncer = get_settings().database_pgbouncer
    if pgbouncer and "asyncpg" in url:
        connect_args = pgbouncer_connect_args()
    # No pre-ping (it cost a round trip on every checkout, issue 10): connections are recycled
    # before a server or proxy idle timeout would close them, and a read that meets a dead one
    # anyway is retried once on a fresh connection (``app.api.idempotency.ApiRoute``; the
    # disconnect invalidates the whole pool, so the retry cannot meet another dead one).
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=False,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args=connect_args,
        **kwargs,
    )


def pgbouncer_connect_args() -> dict[str, Any]:
    """asyncpg behind PgBouncer in transaction mode (``ANJIAN_DATABASE_PGBOUNCER``).

    Consecutive statements of one client may run on different server connections, so a named
    prepared statement made on one is missing on the next (or its name is taken there by another
    client's). With asyncpg's own cache off, SQLAlchemy's ``prepare()`` makes *unnamed*
    statements, and asyncpg sends Parse again with every Bind, in the same message batch: nothing
    outlives a statement on the server. SQLAlchemy's cache of those statement objects stays on
    (it holds their result types, not server state). ``plan_cache_mode`` is not sent at connect:
    PgBouncer refuses unknown startup parameters; a statement parsed afresh for each execution is
    planned with its values anyway (PostgreSQL tries five custom plans before a generic one), and
    the setting belongs on the database (``ALTER DATABASE … SET plan_cache_mode =
    force_custom_plan``) for anything else.
    """
    return {"statement_cache_size": 0, "timeout": CONNECT_TIMEOUT_SECONDS}


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` of the session's dialect, which has ``ON CONFLICT`` (PostgreSQL and SQLite
    alike): the one way counters, claims and records are written atomically."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def write_lock_first(session: AsyncSession, table: Any) -> None:
    """SQLite: takes the database's write lock now, with a write to ``table`` that matches no
    row, before the transaction reads anything. A WAL transaction that reads, then writes after
    another writer committed, fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait); one that
    writes first waits its turn and reads what it will write on. For a read-then-write that
    concurrent requests race on (the upserts by external id). PostgreSQL: nothing (its unique
    indexes and row locks decide, each statement reading the latest commits)."""
    if session.get_bind().dialect.name == "sqlite":
        column = next(iter(table.c))
        await session.execute(update(table).where(false()).values({column.key: column}))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET and HEAD: the connection in autocommit, so a read sends no BEGIN and
    no COMMIT, only its statements (reads write nothing; PostgreSQL's default isolation, read
    committed, already gives each statement its own snapshot)."""
    return make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


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


Release = Callable[[], Awaitable[None]]
_RELEASE_HOOKS = "release"


def on_rollback(session: AsyncSession, release: Release) -> None:
    """Runs ``release`` when the request's transaction does not commit, whatever the reason (an
    error, a lost race, a dead connection): what the request put outside the database for it
    (an uploaded file) is taken back, so nothing is left that no row names."""
    session.info.setdefault(_RELEASE_HOOKS, []).append(release)


async def _release(releases: Any) -> None:
    for release in releases:
        try:
            await release()
        except Exception:  # never hides the request's own answer
            log.warning("releasing after a rollback failed", exc_info=True)


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
    state = request.app.state
    maker: async_sessionmaker[AsyncSession] = (
        state.read_sessionmaker if request.method in READ_METHODS else state.sessionmaker
    )
    async with maker() as session:
        committed = False
        try:
            yield session
            for hook in session.info.pop(_HOOKS, ()):
                await hook(session)
            await session.commit()
            committed = True
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
        finally:
            releases = session.info.pop(_RELEASE_HOOKS, ())
            if not committed:
                await _release(releases)
            # After the commit (or rollback): callers this request changed are dropped from this
            # worker's cache; dropping one whose change rolled back only costs a lookup.
            changed = committed_changes(session)
            cache = getattr(request.app.state, "principal_cache", None)
            if changed and cache is not None:
                cache.evict(changed)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
