"""Prints the figures of the change feed (issue 17). Prints, never asserts.

    .venv/bin/python bench/changes.py                        # 20,000 changes
    BENCH_CHANGES=100000 .venv/bin/python bench/changes.py

1. **Drain rate**: N hazards are loaded into the PostgreSQL database ``BENCH_DATABASE``
   (default ``anjian_bench_changes``; bench/bench_db.py, COPY, reused while its size matches)
   with one change row each (the migration's backfill, written straight into ``changes``).
   The reference reads the change table directly (asyncpg, pages of 1,000 in feed order below
   the xid horizon); the API drains ``GET /api/v1/changes?limit=1000`` as the county admin
   (each entry rendered as ``GET /hazards/{id}`` renders it), in-process over ASGI.
2. **The cost on a transition**: ``plan`` on general hazards through the API, alternating one
   with the change recorder's session events installed and one with them removed, in the same
   run: the median latency of each and their ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/statistics.py must not shadow the standard library's statistics
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_db import ensure  # noqa: E402

BACKFILL = """
INSERT INTO changes (type, object_id, op, changed_at, enterprise_id, region_code, sector,
                     department_id)
SELECT 'hazard', h.id, 'upsert', now(), e.id, e.region_code, e.sector, e.enforcement_department_id
FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id ORDER BY h.created_at, h.id
"""
PLAN = {"responsible_person": "李工", "measures": "更换破损护栏"}


async def direct_read(url: str) -> tuple[int, float]:
    conn = await asyncpg.connect(url)
    try:
        t0 = time.perf_counter()
        xid, seq, n = 0, 0, 0
        while True:
            rows = await conn.fetch(
                "SELECT xid, seq, type, object_id, changed_at FROM changes"
                " WHERE (xid, seq) > ($1, $2)"
                " AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
                " ORDER BY xid, seq LIMIT 1000",
                xid,
                seq,
            )
            if not rows:
                return n, time.perf_counter() - t0
            n += len(rows)
            xid, seq = rows[-1]["xid"], rows[-1]["seq"]
    finally:
        await conn.close()


async def drain(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    cursor, n = None, 0
    while True:
        params = {"limit": 1000, **({"after": cursor} if cursor else {})}
        r = await client.get("/api/v1/changes", params=params, headers=headers)
        r.raise_for_status()
        page = r.json()
        n += len(page["items"])
        if not page["items"] and page["next_cursor"] == cursor:
            return n, time.perf_counter() - t0
        cursor = page["next_cursor"]


def recorder(on: bool) -> None:
    from app.services.changes import record

    hooks = (("after_flush", record._noted), ("before_commit", record._before_commit))
    for name, fn in hooks:
        if on and not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
        if not on and event.contains(Session, name, fn):
            event.remove(Session, name, fn)


async def transitions(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, count: int
) -> dict[bool, list[float]]:
    conn = await asyncpg.connect(url)
    try:
        hazards = await conn.fetch(
            "SELECT id, deadline FROM hazards WHERE status = 'registered' AND level = 'general'"
            " ORDER BY id LIMIT $1",
            count,
        )
    finally:
        await conn.close()
    took: dict[bool, list[float]] = {True: [], False: []}
    for i, (hazard_id, deadline) in enumerate(hazards):
        on = i % 2 == 0
        recorder(on)
        t0 = time.perf_counter()
        r = await client.post(
            f"/api/v1/hazards/{hazard_id}/transitions",
            json={"action": "plan", "plan": {**PLAN, "deadline": deadline.isoformat()}},
            headers=headers,
        )
        took[on].append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"plan failed: {r.status_code} {r.text[:300]}")
    recorder(True)
    return took


async def main() -> None:
    from app.auth.tokens import issue_token
    from app.core.config import Settings
    from app.main import create_app

    n = int(os.environ.get("BENCH_CHANGES", "20000"))
    database = os.environ.get("BENCH_DATABASE", "anjian_bench_changes")
    url, world = await ensure(database, n)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DELETE FROM changes; DELETE FROM change_horizon")
        await conn.execute(BACKFILL)
        await conn.execute("ANALYZE changes")
        rows = await conn.fetchval("SELECT count(*) FROM changes")
    finally:
        await conn.close()
    print(f"== {rows:,} change rows")
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            secret_key=secrets.token_urlsafe(48),
            database_url=sa_url,
            data_dir=Path(data_dir),
            scheduler_enabled=False,
        )
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {issue_token(settings, world.admin_id, 'user')[0]}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for round_ in range(2):
                direct, direct_s = await direct_read(url)
                api, api_s = await drain(client, headers)
                print(
                    f"round {round_ + 1}: direct read {direct:,} rows in {direct_s:.2f}s "
                    f"({direct / direct_s:,.0f}/s); API drain {api:,} changes in {api_s:.2f}s "
                    f"({api / api_s:,.0f}/s): {api_s / direct_s:.1f}x the direct read"
                )
            count = int(os.environ.get("BENCH_TRANSITIONS", "400"))
            took = await transitions(client, headers, url, count)
        await app.state.engine.dispose()
    with_ms = statistics.median(took[True]) * 1000
    without_ms = statistics.median(took[False]) * 1000
    print(
        f"plan transition, median of {len(took[True])} each: with change rows {with_ms:.2f} ms, "
        f"without {without_ms:.2f} ms: {with_ms / without_ms:.3f}x "
        f"(+{with_ms - without_ms:.2f} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
