"""Prints the figures of list exports (issue 16): N hazards exported as CSV and as XLSX through
the API, rows/s and the serving process's peak RSS growth. Prints, never asserts.

    .venv/bin/python bench/exports.py                              # 1,000,000 hazards
    BENCH_EXPORT_HAZARDS=20000 .venv/bin/python bench/exports.py

The hazards are loaded straight into a PostgreSQL bench database (bench/bench_db.py, COPY; the
database ``BENCH_DATABASE``, default ``anjian_bench_exports``, reused while its size matches).
One ``anjian serve`` worker answers ``GET /api/v1/hazards?format=csv|xlsx`` for the county
admin (every hazard but the voided); the export-job threshold is raised above N so the file
itself is the answer (the job path builds the same file with the same code, in the jobs
worker). RSS: the server's ``VmRSS`` before each export and its ``VmHWM`` (peak) after, the
peak reset before each run through ``/proc/<pid>/clear_refs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/statistics.py must not shadow the standard library's statistics
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_db import ensure  # noqa: E402
from bench.enterprises_list import free_port, start, stop, wait_until_up  # noqa: E402


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _pids(pid: int) -> list[int]:
    """The server and its children (a worker process, if ``serve`` forks one)."""
    out = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            out += _pids(int(child))
    return out


def _reset_peak(pids: list[int]) -> None:
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass


async def export(base: str, token: str, fmt: str, pids: list[int], listed: int) -> None:
    """One export, streamed and counted (CSV lines; XLSX rows are the rows listed: reading a
    million rows back would measure the reader, not the export)."""
    _reset_peak(pids)
    before = {pid: _status_kb(pid, "VmRSS") for pid in pids}
    size = lines = 0
    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=None) as client:
        async with client.stream(
            "GET",
            f"{base}/api/v1/hazards",
            params={"format": fmt},
            headers={"Authorization": f"Bearer {token}"},
        ) as r:
            status = r.status_code
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\r\n")
    took = time.perf_counter() - t0
    growth = max(_status_kb(pid, "VmHWM") - before[pid] for pid in pids) / 1024
    rows = lines - 1 if fmt == "csv" else listed
    print(
        f"{fmt:>4}: HTTP {status}, {size / 1e6:8.1f} MB in {took:7.1f} s, {rows:,} rows, "
        f"{rows / took:9,.0f} rows/s; server peak RSS growth {growth:6.1f} MB"
    )


async def main() -> None:
    size = int(os.environ.get("BENCH_EXPORT_HAZARDS") or 1_000_000)
    database = os.environ.get("BENCH_DATABASE", "anjian_bench_exports")
    dsn, world = await ensure(database, size)
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    import asyncpg

    from app.auth.tokens import issue_token
    from app.core.config import Settings

    conn = await asyncpg.connect(dsn)
    try:
        listed = await conn.fetchval("SELECT count(*) FROM hazards WHERE status <> 'voided'")
    finally:
        await conn.close()
    secret = secrets.token_urlsafe(32)
    token = issue_token(Settings(secret_key=secret, database_url=sa_url), world.admin_id, "user")[0]
    with tempfile.TemporaryDirectory(prefix="anjian-bench-exports-") as tmpdir:
        tmp = Path(tmpdir)
        env = {
            **os.environ,
            "ANJIAN_DATABASE_URL": sa_url,
            "ANJIAN_DATA_DIR": str(tmp / "data"),
            "ANJIAN_SECRET_KEY": secret,
            "ANJIAN_SCHEDULER_ENABLED": "false",
            "ANJIAN_EXPORT_JOB_THRESHOLD_ROWS": str(size * 2),
        }
        port = free_port()
        cmd = [str(ROOT / ".venv/bin/anjian"), "serve", f"--port={port}", "--workers=1"]
        log = tmp / "server.log"
        proc = start(cmd, env, log)
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(f"{base}/readyz", proc, log)
            pids = _pids(proc.pid)
            idle = max(_status_kb(pid, "VmRSS") for pid in pids) / 1024
            print(f"== {size:,} hazards loaded, {listed:,} listed for the admin (voided excluded)")
            print(f"== server RSS at rest {idle:.1f} MB; one worker; pages of 1000 rows")
            await export(base, token, "csv", pids, listed)
            await export(base, token, "xlsx", pids, listed)
        finally:
            stop(proc)


if __name__ == "__main__":
    asyncio.run(main())
