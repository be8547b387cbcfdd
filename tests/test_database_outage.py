"""With the database stopped every endpoint answers 503 `database_unavailable` with
`Retry-After`, as a problem, on an intact connection; when it is back, the service is too
(issue 8, item 7). The database is a PostgreSQL cluster of this test's own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth.passwords import hash_password
from app.auth.tokens import issue_token
from app.core.config import Settings
from app.core.errors import is_database_unavailable
from app.core.migrations import upgrade
from app.main import create_app
from app.models import Enterprise, OrgUnit, User
from tests.conftest import PASSWORD, credit
from tests.servers import Cluster, own_postgres, serving


async def _seed(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        county = OrgUnit(
            kind="county", name="埇桥区", region_code="341302", county_code="341302", sectors=[]
        )
        s.add(county)
        await s.flush()
        bureau = OrgUnit(
            kind="bureau",
            name="区应急管理局",
            county_code="341302",
            parent_id=county.id,
            sectors=["industry_trade"],
        )
        s.add(bureau)
        await s.flush()
        ent = Enterprise(
            enforcement_department_id=bureau.id,
            name="停库测试有限公司",
            credit_code=credit(9001),
            region_code="341302001001",
            sector="industry_trade",
            risk_color="yellow",
            status="operating",
        )
        admin = User(
            username="admin",
            password_hash=hash_password(PASSWORD),
            display_name="admin",
            role="admin",
            org_unit_id=county.id,
            is_active=True,
        )
        s.add_all([ent, admin])
        await s.commit()
        return {"admin": admin.id, "enterprise": ent.id}


def _requests(base: str, token: str, ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    h = {"Authorization": f"Bearer {token}"}
    return [
        ("GET", "/api/v1/enterprises", {"headers": h}),
        ("GET", f"/api/v1/enterprises/{ids['enterprise']}", {"headers": h}),
        ("GET", "/api/v1/hazards?status=registered", {"headers": h}),
        ("GET", "/api/v1/statistics/hazards", {"headers": h}),
        ("GET", "/api/v1/me", {"headers": h}),
        (
            "PATCH",
            f"/api/v1/enterprises/{ids['enterprise']}",
            {"headers": h, "json": {"address": "新地址"}},
        ),
        (
            "POST",
            "/api/v1/hazards",
            {
                "headers": {**h, "Idempotency-Key": "outage-1"},
                "json": {
                    "enterprise_id": ids["enterprise"],
                    "title": "停库时登记",
                    "level": "general",
                    "category": "unsafe_condition",
                },
            },
        ),
        (
            "POST",
            "/api/v1/auth/token",
            {"data": {"grant_type": "password", "username": "admin", "password": PASSWORD}},
        ),
    ]


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key="outage-test-secret-key-0123456789abcdef",
        scheduler_enabled=False,
    )


@contextlib.asynccontextmanager
async def outage_world(tmp_path: Path) -> AsyncIterator[tuple[Cluster, Any, dict[str, str], str]]:
    """A PostgreSQL cluster of the test's own, migrated, with a county, an admin and an
    enterprise; the app on it and the admin's token."""
    with own_postgres() as cluster:
        if cluster is None:
            pytest.skip("PostgreSQL binaries are not installed")
        await asyncio.to_thread(upgrade, cluster.url)
        settings = _settings(cluster.url, tmp_path)
        app = create_app(settings)
        ids = await _seed(app)
        try:
            yield cluster, app, ids, issue_token(settings, ids["admin"], "user")[0]
        finally:
            await app.state.engine.dispose()


async def test_a_stopped_database_answers_503_with_retry_after_then_recovers(
    tmp_path: Path,
) -> None:
    async with outage_world(tmp_path) as (cluster, app, ids, token):
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
            for method, path, kw in _requests(base, token, ids):
                r = await client.request(method, path, **kw)
                assert r.status_code < 500, (method, path, r.status_code, r.text)

            await asyncio.to_thread(cluster.stop)
            seen: dict[int, int] = {}
            for _ in range(3):  # pooled connections go stale first, then new ones are refused
                for method, path, kw in _requests(base, token, ids):
                    r = await client.request(method, path, **kw)
                    seen[r.status_code] = seen.get(r.status_code, 0) + 1
                    if path.endswith("/me") and r.status_code == 200:
                        continue  # the caller alone, from the worker's cache: no database needed
                    assert r.status_code == 503, (method, path, r.status_code, r.text)
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert r.json()["code"] == "database_unavailable"
                    assert int(r.headers["retry-after"]) > 0
                    assert r.headers["x-request-id"]
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            print(f"statuses with the database stopped: {seen}")

            await asyncio.to_thread(cluster.start)
            r = await client.get(
                "/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200
            assert (await client.get("/readyz")).status_code == 200


async def _close_server_side(url: str) -> int:
    """What an idle timeout, a failover or a restarted proxy does to pooled connections."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return len(
            await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def test_a_read_on_a_connection_the_server_closed_is_retried_not_503(
    tmp_path: Path,
) -> None:
    """There is no pre-ping (issue 10): a GET that meets a connection closed by the server is
    run once more on a fresh one, so the client sees nothing of it."""
    async with outage_world(tmp_path) as (cluster, app, _, token):
        h = {"Authorization": f"Bearer {token}"}
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
            warm = await asyncio.gather(
                *(client.get("/api/v1/enterprises", headers=h) for _ in range(4))
            )
            assert all(r.status_code == 200 for r in warm)
            assert await _close_server_side(cluster.url) >= 1
            for path in ("/api/v1/enterprises", "/api/v1/hazards", "/api/v1/me"):
                r = await client.get(path, headers=h)
                assert r.status_code == 200, (path, r.status_code, r.text)


async def test_concurrent_requests_during_an_outage_all_get_an_answer(tmp_path: Path) -> None:
    async with outage_world(tmp_path) as (cluster, app, _, token):
        h = {"Authorization": f"Bearer {token}"}
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
            warm = await asyncio.gather(
                *(client.get("/api/v1/enterprises", headers=h) for _ in range(20))
            )
            assert {r.status_code for r in warm} == {200}
            await asyncio.to_thread(cluster.stop)
            answers = await asyncio.gather(
                *(client.get("/api/v1/enterprises", headers=h) for _ in range(105)),
                return_exceptions=True,
            )
            dropped = [a for a in answers if isinstance(a, BaseException)]
            assert not dropped, dropped[:3]
            assert {a.status_code for a in answers} == {503}  # type: ignore[union-attr]


def test_pool_timeouts_and_refused_connections_count_as_unavailable() -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    assert is_database_unavailable(PoolTimeout("QueuePool limit reached"))
    assert is_database_unavailable(ConnectionRefusedError(111, "refused"))
    locked = OperationalError("UPDATE x", {}, Exception("database is locked"))
    assert is_database_unavailable(locked)

    class Serialization(Exception):
        sqlstate = "40001"

    assert is_database_unavailable(OperationalError("UPDATE x", {}, Serialization()))
    assert not is_database_unavailable(ValueError("a bug"))
    import errno
    import socket

    assert is_database_unavailable(socket.gaierror(-2, "Name or service not known"))
    assert is_database_unavailable(OSError(errno.EHOSTUNREACH, "No route to host"))
    assert not is_database_unavailable(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_database_unavailable(FileNotFoundError(2, "missing"))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@db.invalid:5432/anjian",  # DNS fails (a restarting container)
        "postgresql+asyncpg://postgres@127.0.0.1:1/anjian",  # refused
    ],
)
async def test_an_unreachable_database_host_is_503(tmp_path: Path, url: str) -> None:
    settings = _settings(url, tmp_path)
    app = create_app(settings)
    token = issue_token(settings, "01a00000-0000-7000-8000-000000000000", "user")[0]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    await app.state.engine.dispose()
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "database_unavailable"
    assert r.headers["retry-after"]
