"""Behind a load balancer, sign-in throttling counts the client's address: `X-Forwarded-For` is
believed only from the peers in ANJIAN_FORWARDED_ALLOW_IPS (uvicorn's proxy headers, as
app/server.py sets them), so a client that connects directly cannot choose its address by
forging the header. Run on a real socket: the peer address is what is tested.
(bench/topology.py checks the same through nginx.)"""

from __future__ import annotations

import itertools

import httpx

from app.core.config import Settings
from app.main import create_app
from app.server import uvicorn_options
from tests.conftest import World
from tests.servers import serving

LIMIT = 2


async def _failures(base: str, local_address: str, n: int) -> list[int]:
    """``n`` failed sign-ins from ``local_address``, each claiming a new forwarded address and
    a new username (so only the per-address limit can stop them)."""
    forged = (f"203.0.113.{i}" for i in itertools.count(1))
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=20) as c:
        codes = []
        for i in range(n):
            r = await c.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": f"ghost{i}", "password": "wrong-1"},
                headers={"X-Forwarded-For": next(forged)},
            )
            codes.append(r.status_code)
        return codes


async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    settings: Settings, world: World
) -> None:
    configured = settings.model_copy(
        update={"login_max_failures_per_address": LIMIT, "forwarded_allow_ips": "127.0.0.1"}
    )
    app = create_app(configured)
    try:
        async with serving(app, **uvicorn_options(configured)) as base:
            # 127.0.0.7 is not a trusted proxy: its header is ignored, its own address counted.
            assert await _failures(base, "127.0.0.7", LIMIT + 1) == [401] * LIMIT + [429]
            # The trusted proxy (127.0.0.1) is believed: each forwarded address is a new client.
            assert await _failures(base, "127.0.0.1", LIMIT + 1) == [401] * (LIMIT + 1)
    finally:
        await app.state.engine.dispose()
