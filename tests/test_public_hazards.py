"""The public list of disclosed major hazards (向社会公布, issue 11): only disclosed major hazards
under listed supervision, closed ones for ANJIAN_PUBLIC_CLOSED_DAYS, only the public fields, for
anyone, rate-limited per client address in the database."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import app.services.public_hazards as public_hazards
import app.services.rate_limit as rate_limit
from app.core.config import Settings
from app.main import create_app
from app.models import RateLimit
from app.server import uvicorn_options
from app.services.jobs import housekeeping
from tests.conftest import World
from tests.hazard_helpers import MAJOR_PLAN, act, register, upload
from tests.servers import serving
from tests.statements import statements

URL = "/api/v1/public/major-hazards"
ITEM_KEYS = {
    "number",
    "county_code",
    "enterprise_name",
    "town",
    "description",
    "deadline",
    "supervising_unit",
    "status",
    "status_label",
    "listed_at",
    "closed_at",
}
PUBLIC_TEXT = "粉尘涉爆车间除尘系统未采取控爆措施，已停用整改"


async def listed(client, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get(URL, params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def numbers(client, **params: Any) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["number"] for i in await listed(client, **params)]


async def _supervise(client, world: World, h: dict[str, Any], actor: str, **body: Any) -> None:  # type: ignore[no-untyped-def]
    r = await act(client, world, actor, h["id"], "supervise", **body)
    assert r.status_code == 200, r.text


async def _close(client, world: World, h: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    assert (
        await act(client, world, "town_a_officer", h["id"], "plan", plan=MAJOR_PLAN)
    ).status_code == 200
    photo = await upload(client, world, "town_a_officer")
    r = await act(client, world, "town_a_officer", h["id"], "complete", attachment_ids=[photo])
    assert r.status_code == 200, r.text
    r = await act(client, world, "town_a_officer", h["id"], "accept", note="验收合格")
    assert r.status_code == 200, r.text


@pytest.fixture
async def hazards(client, world: World) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Major hazards in every case that matters, listed in this order (oldest listing first)."""
    out = {}
    for name, actor, ent in (
        ("disclosed_a", "town_a_officer", "ent_a1"),
        ("closed_a", "town_a_officer", "ent_a1"),
        ("disclosed_b", "town_b_officer", "ent_b1"),
        ("undisclosed", "town_a_officer", "ent_a2"),
        ("unsupervised", "town_a_officer", "ent_a1"),
        ("delisted", "town_a_officer", "ent_a1"),
        ("voided", "town_a_officer", "ent_a1"),
    ):
        out[name] = await register(
            client, world, actor, ent, level="major", title=f"重大隐患{name}"
        )
    out["general"] = await register(client, world, "town_a_officer", "ent_a1", title="一般隐患")
    await _supervise(
        client, world, out["disclosed_a"], "town_a_officer", disclosed=True,
        public_description=PUBLIC_TEXT,
    )  # fmt: skip
    await _supervise(client, world, out["closed_a"], "county_officer", disclosed=True)
    await _close(client, world, out["closed_a"])
    await _supervise(client, world, out["disclosed_b"], "town_b_officer", disclosed=True)
    await _supervise(client, world, out["undisclosed"], "town_a_officer")
    await _supervise(client, world, out["delisted"], "town_a_officer", disclosed=True)
    r = await act(client, world, "town_a_officer", out["delisted"]["id"], "unsupervise")
    assert r.status_code == 200
    await _supervise(client, world, out["voided"], "town_a_officer", disclosed=True)
    r = await act(client, world, "town_a_officer", out["voided"]["id"], "void", reason="重复登记")
    assert r.status_code == 200
    return out


async def test_only_disclosed_major_hazards_under_supervision_are_listed_newest_first(
    client, hazards
) -> None:  # type: ignore[no-untyped-def]
    assert await numbers(client) == [
        hazards["disclosed_b"]["number"],
        hazards["closed_a"]["number"],
        hazards["disclosed_a"]["number"],
    ]


async def test_an_item_holds_exactly_the_public_fields_and_no_person(
    client, world: World, hazards
) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(URL)
    items = {i["number"]: i for i in r.json()["items"]}
    assert set(r.json()) == {"items", "next_cursor"}
    for item in items.values():
        assert set(item) == ITEM_KEYS
        assert set(item["town"]) == {"region_code", "name"}
        assert set(item["supervising_unit"]) == {"name"}
    a = items[hazards["disclosed_a"]["number"]]
    assert a == {
        "number": hazards["disclosed_a"]["number"],
        "county_code": "341302",
        "enterprise_name": "埇桥机械制造有限公司",
        "town": {"region_code": "341302001", "name": "埇桥街道"},
        "description": PUBLIC_TEXT,
        "deadline": "2099-12-31",
        "supervising_unit": {"name": "埇桥街道"},
        "status": "rectifying",
        "status_label": "整改中",
        "listed_at": a["listed_at"],
        "closed_at": None,
    }
    closed = items[hazards["closed_a"]["number"]]
    assert closed["status"] == "closed" and closed["status_label"] == "已销号"
    assert closed["closed_at"] is not None
    # no public text: a standard one, never the internal title
    assert closed["description"] == "重大事故隐患（挂牌督办，未发布公开说明）"
    assert closed["supervising_unit"] == {"name": "埇桥区"}
    b = items[hazards["disclosed_b"]["number"]]
    assert b["town"] == {"region_code": "341302100", "name": "符离镇"}
    # nobody's name, nothing of the plan, no ids of hazards, enterprises, units or people
    for secret in (
        *(name for name in world.tokens if not name.startswith("machine")),
        MAJOR_PLAN["responsible_person"],
        MAJOR_PLAN["measures"],
        *world.ids.values(),
        *(h["id"] for h in hazards.values()),
    ):
        assert secret not in r.text, secret


async def test_it_needs_no_sign_in_and_ignores_any_authorization(
    client, world: World, hazards
) -> None:  # type: ignore[no-untyped-def]
    anonymous = await client.get(URL)
    assert anonymous.status_code == 200
    assert anonymous.headers["cache-control"] == "public, max-age=60"
    assert "accept-language" in anonymous.headers["vary"].lower()
    assert anonymous.headers["access-control-allow-origin"] == "*"
    portal = await client.get(URL, headers={"Origin": "https://www.suzhou.gov.cn"})
    assert portal.headers["access-control-allow-origin"] == "*"
    for headers in (
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": "Bearer"},
        world.h("ent_b1_manager"),
        world.h("admin"),
    ):
        r = await client.get(URL, headers=headers)
        assert r.status_code == 200, headers
        assert r.json() == anonymous.json()


async def test_pages_follow_the_cursor_and_the_total_counts_them(client, hazards) -> None:  # type: ignore[no-untyped-def]
    seen, cursor = [], None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, "include_total": "true"}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(URL, params=params)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == 3
        seen += [i["number"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor:  # it carries what the page shows (county and number), no internal id
            decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            item = r.json()["items"][0]
            assert f"{item['county_code']}/{item['number']}" in decoded
            assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", decoded)
        if cursor is None:
            break
    assert seen == await numbers(client)
    oldest = await client.get(URL, params={"sort": "listed_at"})
    assert [i["number"] for i in oldest.json()["items"]] == seen[::-1]
    for bad in ({"cursor": "nope"}, {"limit": 501}, {"sort": "deadline"}, {"q": "x"}):
        r = await client.get(URL, params=bad)
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_filters_narrow_by_county_region_and_status(client, hazards) -> None:  # type: ignore[no-untyped-def]
    a, b, closed = (hazards[n]["number"] for n in ("disclosed_a", "disclosed_b", "closed_a"))
    assert await numbers(client, county_code="341302") == [b, closed, a]
    assert await numbers(client, county_code="341321") == []
    assert await numbers(client, region_code="341302100") == [b]
    assert await numbers(client, region_code="341302001") == [closed, a]
    assert await numbers(client, status="closed") == [closed]
    assert await numbers(client, status="rectifying") == [b, a]
    assert await numbers(client, status="rectifying,closed") == [b, closed, a]
    for bad in ({"county_code": "3413"}, {"region_code": "34x"}, {"status": "voided"}):
        r = await client.get(URL, params=bad)
        assert r.status_code == 422, bad


async def test_a_closed_hazard_stays_listed_for_the_configured_days_then_goes(
    client, settings: Settings, hazards, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    closed = hazards["closed_a"]["number"]
    now = datetime.now(UTC)
    monkeypatch.setattr(public_hazards, "utcnow", lambda: now + timedelta(days=89, hours=23))
    assert closed in await numbers(client)
    monkeypatch.setattr(public_hazards, "utcnow", lambda: now + timedelta(days=90, minutes=1))
    assert closed not in await numbers(client)
    assert len(await numbers(client)) == 2  # the open ones stay, whatever the date
    monkeypatch.setattr(settings, "public_closed_days", 120)
    assert closed in await numbers(client)
    monkeypatch.setattr(settings, "public_closed_days", 0)
    monkeypatch.setattr(public_hazards, "utcnow", lambda: now + timedelta(minutes=1))
    assert closed not in await numbers(client)


async def test_english_names_and_labels(client, world: World, hazards) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"/api/v1/org-units/{world['town_a']}",
        json={"name_en": "Yongqiao Subdistrict"},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
    r = await client.get(URL, headers={"Accept-Language": "en"})
    items = {i["number"]: i for i in r.json()["items"]}
    a = items[hazards["disclosed_a"]["number"]]
    assert a["town"]["name"] == a["supervising_unit"]["name"] == "Yongqiao Subdistrict"
    assert a["status_label"] == "Being rectified"
    assert items[hazards["closed_a"]["number"]]["status_label"] == "Closed"
    b = items[hazards["disclosed_b"]["number"]]
    assert b["town"]["name"] == "符离镇"  # no English name: the Chinese one


async def test_the_public_text_is_set_when_disclosing_only(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, level="major")
    r = await act(
        client, world, "town_a_officer", h["id"], "supervise", public_description="某企业隐患"
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["public_description"]
    r = await act(
        client, world, "town_a_officer", h["id"], "supervise", disclosed=True,
        public_description=PUBLIC_TEXT,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["supervision"]["public_description"] == PUBLIC_TEXT
    assert r.json()["supervision"]["disclosed"] is True
    r = await act(client, world, "town_a_officer", h["id"], "unsupervise")
    assert r.json()["supervision"] is None
    r = await act(client, world, "town_a_officer", h["id"], "supervise", disclosed=False)
    assert r.json()["supervision"]["public_description"] is None
    assert await numbers(client) == []


async def test_a_page_costs_the_counter_and_one_data_statement(
    app, client, world: World, hazards
) -> None:  # type: ignore[no-untyped-def]
    await client.get(URL)
    with statements(app) as seen:
        assert (await client.get(URL)).status_code == 200
    assert len(seen) == 2, seen
    assert "rate_limits" in seen[0]


# ---- the rate limit ------------------------------------------------------------------------------


async def test_requests_over_the_limit_are_429_with_retry_after(
    client, world: World, settings: Settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(settings, "public_rate_limit_per_minute", 3)
    start = datetime(2026, 5, 1, 8, 0, 10, tzinfo=UTC)
    monkeypatch.setattr(rate_limit, "utcnow", lambda: start)
    codes = [(await client.get(URL)).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    r = await client.get(URL, headers={"Accept-Language": "en", "Authorization": "Bearer x"})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "50"  # the rest of the minute
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["access-control-allow-origin"] == "*"  # a portal elsewhere reads it too
    assert r.json()["code"] == "rate_limited" and r.json()["status"] == 429
    assert "at most 3 per 60 seconds" in r.json()["detail"]
    # still refused later in the window (refused requests count too), free in the next one
    monkeypatch.setattr(rate_limit, "utcnow", lambda: start + timedelta(seconds=45))
    assert (await client.get(URL)).headers["retry-after"] == "5"
    monkeypatch.setattr(rate_limit, "utcnow", lambda: start + timedelta(seconds=50))
    assert (await client.get(URL)).status_code == 200
    # signed-in reads elsewhere are not limited by it
    assert (await client.get("/api/v1/hazards", headers=world.h("admin"))).status_code == 200


def test_addresses_count_by_address_and_ipv6_by_its_64_block() -> None:
    key = rate_limit.address_key
    assert key("public", "203.0.113.5") == key("public", "::ffff:203.0.113.5")
    assert key("public", "203.0.113.5") != key("public", "203.0.113.6")
    assert key("public", "2001:db8:1:2::1") == key("public", "2001:db8:1:2:ffff::9")
    assert key("public", "2001:db8:1:2::1") != key("public", "2001:db8:1:3::1")
    assert key("public", "203.0.113.5") != key("reports", "203.0.113.5")
    assert key("public", None) == key("public", "unknown")
    assert "203.0.113.5" not in key("public", "203.0.113.5")


async def test_housekeeping_prunes_counters_whose_window_ended(
    app, world: World, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    rule = rate_limit.Rule("public", 10)
    now = datetime.now(UTC)
    async with app.state.sessionmaker() as s:
        await rate_limit.hit(s, rule, "198.51.100.1", now - timedelta(minutes=10))
        await rate_limit.hit(s, rule, "198.51.100.2", now)
        assert await rate_limit.hit(s, rule, "198.51.100.2", now) == 2
        await s.commit()
        result = await housekeeping(s, settings)
        await s.commit()
        left = (await s.execute(select(func.count()).select_from(RateLimit))).scalar_one()
    assert result["rate_limits"] == 1
    assert left == 1


async def _clear_of_a_minute_boundary() -> None:
    """Windows are aligned minutes: start where a few calls cannot straddle two of them."""
    second = datetime.now(UTC).second
    if second >= 55:
        await asyncio.sleep(61 - second)


async def _public_calls(base: str, local_address: str, n: int) -> list[int]:
    """``n`` requests from ``local_address``, each claiming another forwarded address."""
    forged = (f"203.0.113.{i}" for i in itertools.count(1))
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=20) as c:
        return [
            (await c.get(URL, headers={"X-Forwarded-For": next(forged)})).status_code
            for _ in range(n)
        ]


async def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit(
    settings: Settings, world: World
) -> None:  # type: ignore[no-untyped-def]
    configured = settings.model_copy(
        update={"public_rate_limit_per_minute": 2, "forwarded_allow_ips": "127.0.0.1"}
    )
    app = create_app(configured)
    try:
        async with serving(app, **uvicorn_options(configured)) as base:
            # 127.0.0.8 is no trusted proxy: its header is ignored, its own address counted.
            await _clear_of_a_minute_boundary()
            assert await _public_calls(base, "127.0.0.8", 4) == [200, 200, 429, 429]
            # The trusted proxy (127.0.0.1) is believed: each forwarded address is a new client.
            assert await _public_calls(base, "127.0.0.1", 4) == [200] * 4
    finally:
        await app.state.engine.dispose()
