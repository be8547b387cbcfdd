"""Callers are cached per worker, and a change reaches every worker within about a second.

Two apps on one database stand for two workers (or two instances): each has its own cache and
its own engine. The one that makes a change refuses or updates the caller at once; the other one
after its next poll of `principal_changes` (once a second, app/auth/principal_cache.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx

from app.auth.principal_cache import poll_loop
from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, World
from tests.statements import statements

ME = "/api/v1/me"


def callers(seen: list[str]) -> list[str]:
    """The statements other than /me's own (its ``unread_count``): the caller's lookup."""
    return [s for s in seen if "FROM notifications" not in s]


@asynccontextmanager
async def other_worker(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """A second app with its own cache, engine and change poll, as another worker runs it."""
    app = create_app(settings)
    poll = asyncio.create_task(poll_loop(app.state.poll_sessionmaker, app.state.principal_cache))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as c:
            yield c, app
    finally:
        poll.cancel()
        await app.state.engine.dispose()


async def seconds_until(check: Callable[[], Awaitable[bool]], limit: float = 5.0) -> float:
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < limit, "the change never arrived"
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_a_cached_caller_costs_no_statement(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 200
    with statements(app) as seen:
        assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 200
    assert callers(seen) == []  # /me's own statement, the unread count, is all it sends
    assert len(seen) == 1


async def test_a_deactivated_user_is_refused_at_once_here_and_within_a_second_elsewhere(
    app, client, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    officer = world.h("town_a_officer")
    async with other_worker(settings) as (other, _):
        assert (await other.get(ME, headers=officer)).status_code == 200  # cached there
        assert (await client.get(ME, headers=officer)).status_code == 200  # and here
        r = await client.patch(
            f"/api/v1/users/{world['town_a_officer']}",
            json={"is_active": False},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        assert (await client.get(ME, headers=officer)).status_code == 401  # this worker: at once

        async def refused() -> bool:
            return (await other.get(ME, headers=officer)).status_code == 401

        assert await seconds_until(refused) < 2.0


async def test_a_revoked_session_ends_on_every_worker(client, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    tokens = (
        await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "town_a_officer", "password": PASSWORD},
        )
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with other_worker(settings) as (other, _):
        assert (await other.get(ME, headers=bearer)).status_code == 200
        revoke = await client.post("/api/v1/auth/revoke", data={"token": tokens["refresh_token"]})
        assert revoke.status_code == 200
        assert (await client.get(ME, headers=bearer)).status_code == 401

        async def refused() -> bool:
            return (await other.get(ME, headers=bearer)).status_code == 401

        assert await seconds_until(refused) < 2.0
    # the other sessions of the same person are untouched
    assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 200


async def test_a_clients_lost_permission_applies_on_every_worker(
    client, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    machine = world.h("machine")
    async with other_worker(settings) as (other, _):
        before = await other.get("/api/v1/hazards", headers=machine)
        assert before.status_code == 200, before.text
        r = await client.patch(
            f"/api/v1/clients/{world['machine']}",
            json={"permissions": ["enterprises:read"]},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        assert (await client.get("/api/v1/hazards", headers=machine)).status_code == 403

        async def forbidden() -> bool:
            return (await other.get("/api/v1/hazards", headers=machine)).status_code == 403

        assert await seconds_until(forbidden) < 2.0


async def test_a_renamed_unit_shows_on_every_worker(client, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    english = world.h("town_a_officer", **{"Accept-Language": "en"})
    async with other_worker(settings) as (other, _):
        first = (await other.get(ME, headers=english)).json()["org_unit"]["name"]
        r = await client.patch(
            f"/api/v1/org-units/{world['town_a']}",
            json={"name_en": "Yongqiao Subdistrict"},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        assert first != "Yongqiao Subdistrict"
        here = (await client.get(ME, headers=english)).json()
        assert here["org_unit"]["name"] == "Yongqiao Subdistrict"

        async def renamed() -> bool:
            got = (await other.get(ME, headers=english)).json()
            return got["org_unit"]["name"] == "Yongqiao Subdistrict"

        assert await seconds_until(renamed) < 2.0


async def test_without_the_poll_an_entry_still_ends_with_its_lifetime(
    world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """The fallback when a worker cannot read the changes (its database is away): entries live
    `ANJIAN_PRINCIPAL_CACHE_SECONDS` at most."""
    short = settings.model_copy(update={"principal_cache_seconds": 0.3})
    app = create_app(short)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://short") as c:
            assert (await c.get(ME, headers=world.h("town_a_viewer"))).status_code == 200
            assert len(app.state.principal_cache) == 1
            await asyncio.sleep(0.4)
            with statements(app) as seen:
                assert (await c.get(ME, headers=world.h("town_a_viewer"))).status_code == 200
            assert len(callers(seen)) == 1  # looked up again (beside /me's unread count)
    finally:
        await app.state.engine.dispose()
