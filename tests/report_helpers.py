"""Helpers of the public report tests: submit from an address, a county manager, a report
walked to a state."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from app.auth.tokens import issue_token
from app.models import User
from tests.conftest import World

PUBLIC = "/api/v1/public/reports"
REPORTS = "/api/v1/reports"
NAME = "王小明"
PHONE = "13800138000"
_addresses = itertools.count(1)


def stranger(app: Any, address: str | None = None) -> httpx.AsyncClient:
    """A client without a token from an address of its own (each counts its own limits)."""
    if address is None:
        n = next(_addresses)
        address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def submit(app: Any, **body: Any) -> str:
    """Submits a report from a fresh address and answers its tracking code."""
    body.setdefault("description", "仓库内堆放大量易燃物品，消防通道被堵塞，夜间有人住宿")
    async with stranger(app) as c:
        r = await c.post(PUBLIC, json=body)
    assert r.status_code == 201, r.text
    return r.json()["tracking_code"]


async def add_person(app: Any, world: World, name: str, role: str, unit: str) -> None:
    """Another person of the world (``county_manager`` and the like), with a token."""
    async with app.state.sessionmaker() as s:
        user = User(
            username=name,
            password_hash="x",
            display_name=name,
            role=role,
            org_unit_id=world.ids[unit],
            is_active=True,
        )
        s.add(user)
        await s.commit()
    world.ids[name] = user.id
    world.tokens[name] = issue_token(world.settings, user.id, "user")[0]


async def newest(client: httpx.AsyncClient, world: World, actor: str = "admin") -> dict[str, Any]:
    """The newest report the actor sees, as its detail."""
    r = await client.get(f"{REPORTS}?limit=1", headers=world.h(actor))
    assert r.status_code == 200, r.text
    rid = r.json()["items"][0]["id"]
    d = await client.get(f"{REPORTS}/{rid}", headers=world.h(actor))
    assert d.status_code == 200, d.text
    return d.json()


async def act(
    client: httpx.AsyncClient, world: World, actor: str, report_id: str, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{REPORTS}/{report_id}/transitions",
        json={"action": action, **body},
        headers=world.h(actor),
    )


HAZARD = {"title": "消防通道堵塞", "level": "general", "category": "unsafe_condition"}
