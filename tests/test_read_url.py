"""ANJIAN_DATABASE_READ_URL: lists, details and statistics (GET/HEAD) on the read engine; writes,
and the caller-change poll that prunes its table, on the primary.

No replica here: the read URL points at the same database, so what is proven is where each
statement goes (counted on each engine), not replication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.core.config import Settings
from app.main import create_app
from tests.conftest import World
from tests.statements import statements


@asynccontextmanager
async def replica_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    app = create_app(settings.model_copy(update={"database_read_url": settings.database_url}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as c:
            yield c, app
    finally:
        await app.state.engine.dispose()
        await app.state.read_engine.dispose()


async def test_without_a_read_url_reads_use_the_primary(app) -> None:  # type: ignore[no-untyped-def]
    assert app.state.read_engine is None
    # The autocommit view of the primary engine shares its pool.
    assert app.state.read_sessionmaker.kw["bind"].sync_engine.pool is app.state.engine.pool


async def test_reads_go_to_the_read_engine_and_writes_to_the_primary(
    settings: Settings, world: World
) -> None:
    admin = world.h("admin")
    async with replica_app(settings) as (c, app):
        primary, replica = app.state.engine, app.state.read_engine  # type: ignore[attr-defined]
        assert replica is not None and replica is not primary
        with statements(primary) as on_primary, statements(replica) as on_replica:
            for path in (
                "/api/v1/org-units",
                f"/api/v1/org-units/{world['town_a']}",
                "/api/v1/enterprises",
                "/api/v1/hazards",
                "/api/v1/statistics/hazards",
                "/api/v1/me",
            ):
                r = await c.get(path, headers=admin)
                assert r.status_code == 200, (path, r.text)
        assert on_primary == []
        assert on_replica, "the reads sent nothing to the read engine"

        with statements(primary) as on_primary, statements(replica) as on_replica:
            created = await c.post(
                "/api/v1/org-units",
                json={"kind": "bureau", "name": "读写分离局"},
                headers=admin,
            )
            assert created.status_code == 201, created.text
        assert on_replica == []
        assert any(s.lstrip().upper().startswith("INSERT") for s in on_primary)

        # The change poll prunes principal_changes: it must never be given the replica.
        poll_bind = app.state.poll_sessionmaker.kw["bind"]  # type: ignore[attr-defined]
        assert poll_bind.sync_engine.pool is primary.pool
