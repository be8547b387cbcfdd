"""Two `anjian serve` processes on one PostgreSQL database, as two instances behind a load
balancer (issue 10): an Idempotency-Key holds across them, the daily overdue job runs once
though both schedule and work the queue, and a user deactivated through one is refused by the
other within about a second."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.services.demo import DEMO_PASSWORD
from tests.servers import free_port, own_database, wait_until_serving

BASE_URL = os.environ.get("ANJIAN_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not BASE_URL.startswith("postgresql"), reason="several processes on one database: PostgreSQL"
)
CLI = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """Two servers (scheduler on, ticking every second) on a fresh database holding the demo
    county; yields their base URLs and the database's DSN."""
    with own_database("anjian_two_processes", tmp_path / "unused.db") as url:
        yield from _serving_two(url, tmp_path)


def _serving_two(url: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": url,
        "ANJIAN_DATA_DIR": str(tmp_path),
        "ANJIAN_SECRET_KEY": "two-processes-secret-key-0123456789abcdef",
        "ANJIAN_SCHEDULER_ENABLED": "true",
        "ANJIAN_SCHEDULER_INTERVAL_SECONDS": "1",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for step in (["db", "upgrade"], ["demo"]):
            subprocess.run([*CLI, *step], env=env, check=True, capture_output=True, timeout=300)
        bases = []
        for n in range(2):
            port = free_port()
            log = (tmp_path / f"serve{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [*CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for n, base in enumerate(bases):
            wait_until_serving(base, "/readyz", tmp_path / f"serve{n}.log")
        yield (
            bases[0],
            bases[1],
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _token(base: str, username: str) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _fetch(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_two_instances_share_keys_the_daily_job_and_deactivations(
    instances: tuple[str, str, str],
) -> None:
    a, b, dsn = instances
    admin = {"Authorization": f"Bearer {_token(a, 'admin')}"}

    # An Idempotency-Key used on one instance is honoured by the other.
    enterprise = httpx.get(f"{a}/api/v1/enterprises?limit=1", headers=admin, timeout=30).json()
    body = {
        "enterprise_id": enterprise["items"][0]["id"],
        "title": "两个实例之间的幂等键",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
    }
    keyed = {**admin, "Idempotency-Key": "two-instances-0001"}
    first = httpx.post(f"{a}/api/v1/hazards", json=body, headers=keyed, timeout=30)
    again = httpx.post(f"{b}/api/v1/hazards", json=body, headers=keyed, timeout=30)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(_fetch(dsn, "SELECT id FROM hazards WHERE title = $1", body["title"])) == 1

    # Both instances schedule the day's overdue job and work the queue: it runs once.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    deadline = time.monotonic() + 60
    while True:
        rows = _fetch(
            dsn, "SELECT status, attempts FROM jobs WHERE dedupe_key = $1", f"overdue:{today}"
        )
        if rows and rows[0]["status"] == "succeeded":
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
    assert [tuple(r) for r in rows] == [("succeeded", 1)]
    time.sleep(3)  # a few more ticks of both schedulers
    marks = _fetch(
        dsn,
        "SELECT hazard_id, count(*) AS n FROM hazard_events WHERE action = 'mark_overdue' "
        "GROUP BY hazard_id",
    )
    overdue = _fetch(
        dsn,
        "SELECT id FROM hazards WHERE status IN ('registered', 'rectifying', "
        "'awaiting_acceptance') AND deadline < $1",
        datetime.fromisoformat(today).date(),
    )
    assert overdue, "the demo county always has overdue hazards"
    assert {r["hazard_id"] for r in marks} >= {r["id"] for r in overdue}
    assert all(r["n"] == 1 for r in marks)
    assert len(_fetch(dsn, "SELECT 1 FROM jobs WHERE dedupe_key LIKE 'overdue:%'")) == 1

    # A user deactivated through one instance is refused by the other within about a second.
    officer = {"Authorization": f"Bearer {_token(b, 'town_officer')}"}
    assert httpx.get(f"{b}/api/v1/hazards", headers=officer, timeout=30).status_code == 200
    assert httpx.get(f"{b}/api/v1/hazards", headers=officer, timeout=30).status_code == 200
    [row] = _fetch(dsn, "SELECT id FROM users WHERE username = 'town_officer'")
    r = httpx.patch(
        f"{a}/api/v1/users/{row['id']}", json={"is_active": False}, headers=admin, timeout=30
    )
    assert r.status_code == 200, r.text
    changed = time.monotonic()
    while httpx.get(f"{b}/api/v1/hazards", headers=officer, timeout=30).status_code != 401:
        assert time.monotonic() - changed < 2.5, "still served by the other instance"
        time.sleep(0.05)
    assert time.monotonic() - changed < 2.5
    assert httpx.get(f"{a}/api/v1/hazards", headers=officer, timeout=30).status_code == 401
