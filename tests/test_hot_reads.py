"""Hot reads (app/api/hot.py): the canonical list and detail GETs answered before FastAPI's
routing give exactly the route's answer, and everything else is the route's."""

from __future__ import annotations

from typing import Any

import pytest

from app.api import hot
from tests.conftest import World
from tests.hazard_helpers import register


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per hot-read candidate: True when the hot read answered it."""
    seen: list[bool] = []
    original = hot._try

    async def spy(*args: Any) -> Any:
        response = await original(*args)
        seen.append(response is not None)
        return response

    monkeypatch.setattr(hot, "_try", spy)
    return seen


async def _both(client, app, url: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """The route's answer (the caller not yet cached: the hot read passes) and the hot one."""
    app.state.principal_cache.clear()
    by_route = await client.get(url, headers=headers)
    by_hot = await client.get(url, headers=headers)
    return by_route, by_hot


async def _paths(client, world: World) -> list[str]:  # type: ignore[no-untyped-def]
    hazard = await register(client, world, "town_a_officer", title="配电箱未接地")
    return [
        f"/api/v1/hazards/{hazard['id']}",
        "/api/v1/hazards",
        "/api/v1/hazards?limit=1&sort=-updated_at&status=registered,rectifying&include_total=true",
        f"/api/v1/enterprises/{world['ent_a1']}",
        "/api/v1/enterprises",
        "/api/v1/enterprises?limit=2&sector=industry_trade,construction&include_total=false",
    ]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_a_hot_read_answers_what_the_route_answers(  # type: ignore[no-untyped-def]
    client, app, world: World, served: list[bool], language: str
) -> None:
    for url in await _paths(client, world):
        for actor in ("admin", "town_a_officer", "bureau_e_officer", "ent_a1_manager"):
            served.clear()
            headers = world.h(actor, **{"Accept-Language": language})
            by_route, by_hot = await _both(client, app, url, headers)
            assert served == [False, True], (url, actor)
            assert by_hot.status_code == by_route.status_code, (url, actor)
            assert by_hot.json() == by_route.json(), (url, actor)
            for header in ("content-type", "etag", "content-length"):
                assert by_hot.headers.get(header) == by_route.headers.get(header), header


async def test_out_of_scope_and_unknown_are_the_routes_404(  # type: ignore[no-untyped-def]
    client, app, world: World, served: list[bool]
) -> None:
    hazard = await register(client, world, "town_a_officer")
    for url in (f"/api/v1/hazards/{hazard['id']}", f"/api/v1/enterprises/{world['ent_a1']}"):
        await client.get(url, headers=world.h("town_b_officer"))  # cached from here on
        served.clear()
        r = await client.get(url, headers=world.h("town_b_officer"))
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        assert r.headers["content-type"] == "application/problem+json"
        assert served == [False]
    r = await client.get("/api/v1/hazards/" + "x" * 65, headers=world.h("admin"))
    assert r.status_code == 422  # longer than the route's path parameter allows


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("limit=0", 422, "validation_error"),
        ("limit=501", 422, "validation_error"),
        ("limit=abc", 422, "validation_error"),
        ("status=bogus", 422, "validation_error"),
        ("sort=title", 422, "validation_error"),
        ("include_total=maybe", 422, "validation_error"),
        ("cursor=not-a-cursor", 422, "validation_error"),
        ("colour=red", 422, "unknown_parameter"),
        ("limit=5&limit=6", 422, "repeated_parameter"),
        ("status=closed&status=voided", 200, None),
        ("include_total=1", 200, None),
        ("limit=007", 200, None),
        ("q=%E9%85%8D%E7%94%B5", 200, None),
        ("overdue=false", 200, None),
        ("closed_at_from=2025-01-01", 200, None),
        ("status=closed&closed_at_to=2025-01-01T00:00:00Z", 200, None),
        ("closed_at_to=soon", 422, "validation_error"),
    ],
)
async def test_every_other_query_is_the_routes(  # type: ignore[no-untyped-def]
    client, world: World, served: list[bool], query: str, status: int, code: str | None
) -> None:
    await client.get("/api/v1/hazards", headers=world.h("admin"))  # the caller is cached
    served.clear()
    r = await client.get(f"/api/v1/hazards?{query}", headers=world.h("admin"))
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["code"] == code
    assert served == [False]


async def test_without_a_valid_token_the_route_answers_401(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eA=="}):
        for url in ("/api/v1/hazards", f"/api/v1/enterprises/{world['ent_a1']}"):
            r = await client.get(url, headers=headers)
            assert r.status_code == 401, (url, headers)
            assert r.headers["www-authenticate"].startswith("Bearer")


async def test_a_deactivated_caller_is_refused_at_once(  # type: ignore[no-untyped-def]
    client, world: World, served: list[bool]
) -> None:
    url = f"/api/v1/enterprises/{world['ent_a1']}"
    assert (await client.get(url, headers=world.h("town_a_officer"))).status_code == 200
    assert (await client.get(url, headers=world.h("town_a_officer"))).status_code == 200
    assert served[-1] is True
    r = await client.patch(
        f"/api/v1/users/{world['town_a_officer']}",
        json={"is_active": False},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    assert (await client.get(url, headers=world.h("town_a_officer"))).status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/hazards?colour=red",
        "/api/v1/hazards?limit=abc",
        "/api/v1/hazards?limit=5&limit=6",
        "/api/v1/enterprises?sort=bogus",
        "/api/v1/hazards/some-id?x=1",
    ],
)
async def test_a_request_the_route_refuses_is_refused_even_with_the_database_down(  # type: ignore[no-untyped-def]
    tmp_path, url: str
) -> None:
    """The hot read looks at the query before it takes a connection: 422 as the route answers
    it, not a 503 (nor a wait for the pool)."""
    import httpx

    from app.auth.deps import _cache_key
    from app.auth.permissions import ROLE_PERMISSIONS, Role
    from app.auth.principal import Principal, UnitInfo
    from app.auth.tokens import issue_token, read_token
    from app.core.config import Settings
    from app.main import create_app

    settings = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nothing",  # refused
        data_dir=tmp_path,
        secret_key="hot-reads-outage-secret-key-0123456789abcdef",
        scheduler_enabled=False,
    )
    app = create_app(settings)
    token, _ = issue_token(settings, "u-admin", "user")
    unit = UnitInfo(id="c", kind="county", name="县", region_code="341302", county_code="341302")
    p = Principal("user", "u-admin", "admin", Role.admin, ROLE_PERMISSIONS[Role.admin], unit)
    app.state.principal_cache.put(_cache_key(read_token(settings, token)), p)  # cached before
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422, r.text
    await app.state.engine.dispose()
