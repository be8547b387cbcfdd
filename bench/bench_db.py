"""The bench database for `make bench`: loaded once by bench/hazards.py's loader, reused after.

A reload costs ~1 minute per million hazards, so the data are kept in their own database and
reused while the hazard count matches the requested size (the marker: bench/hazards.py's three
``bench_*`` users plus ``count(*)`` of hazards).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import types
from pathlib import Path

import asyncpg

from app.core.migrations import upgrade
from bench.hazards import World, existing_world, load

PG = "postgresql://postgres@127.0.0.1:5432"
ANJIAN = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "anjian"


def rebuild_aggregates(url: str) -> None:
    """The loader writes rows with COPY, past the services: maintained aggregates (issue 10's
    statistics rollup) must be rebuilt from the rows, on every run, when the tree has the
    command (a reused database may predate the rollup)."""
    usage = subprocess.run([str(ANJIAN), "--help"], capture_output=True, text=True).stdout
    if "stats" not in usage:
        return
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://", 1),
    }
    t0 = time.perf_counter()
    subprocess.run([str(ANJIAN), "db", "upgrade"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [str(ANJIAN), "stats", "rebuild"], env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - t0
    state = "done" if done.returncode == 0 else f"FAILED: {done.stderr.strip()[-300:]}"
    print(f"== anjian stats rebuild: {state} ({took:.1f}s)")


async def ensure(database: str, hazards: int, enterprises: int = 5_000) -> tuple[str, World]:
    """The asyncpg DSN of ``database`` holding ``hazards`` hazards, and its world."""
    if database in ("test", "postgres"):
        raise SystemExit(f"refusing to use the database {database!r}")
    url = f"{PG}/{database}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
    finally:
        await admin.close()
    world = await existing_world(url) if exists else None
    if world is not None:
        conn = await asyncpg.connect(url)
        try:
            have = await conn.fetchval("SELECT count(*) FROM hazards")
        finally:
            await conn.close()
        if have == hazards:
            print(f"== database {database}: reused ({have:,} hazards)")
            rebuild_aggregates(url)
            return url, world
        print(f"== database {database}: holds {have:,} hazards, {hazards:,} wanted: reloading")
    admin = await asyncpg.connect(f"{PG}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, url.replace("postgresql://", "postgresql+asyncpg://", 1))
    args = types.SimpleNamespace(
        seed=341302, enterprises=enterprises, hazards=hazards, events_per_hazard=3
    )
    print(f"== database {database}: loading {hazards:,} hazards")
    world = await load(args, url)  # type: ignore[arg-type]
    rebuild_aggregates(url)
    return url, world
