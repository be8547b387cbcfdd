"""A worker's memory under a long mixed load (issue 10: RSS flat within 10 % over 10 minutes).

One `anjian serve` worker on the bench database (bench/bench_db.py, loaded once and reused)
gets, for SOAK_MINUTES (10), wrk walking a mix of reads (hazard lists with filters and cursors,
hazard and enterprise details, enterprise lists, statistics, `/me`, catalogs, history), while
a writer registers hazards with an `Idempotency-Key` (half of them sent twice) and moves some
through `plan`. The worker's RSS is sampled every SOAK_SAMPLE_SECONDS (10). The first minute is
warm-up (caches, compiled statements, pools); the verdict compares the largest RSS after it with
the RSS at its end: within 10 % is flat. Results to bench/results/soak.json.

    .venv/bin/python -m bench.soak          # SOAK_MINUTES=2 for a quick look
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench import wrk  # noqa: E402
from bench.bench_db import ensure  # noqa: E402
from bench.enterprises_list import free_port, start, stop, wait_until_up  # noqa: E402
from bench.hazards import OFFICER_TOWN  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "soak.json"


def rss_mb(pid: int) -> float:
    """The resident set of the server's process tree (uvicorn runs one process per worker)."""
    total = 0
    for p in wrk.tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def mix_script(directory: Path, paths: list[str]) -> Path:
    quoted = ",".join(json.dumps(p) for p in paths)
    lua = (
        f"local paths = {{{quoted}}}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        '  return wrk.format("GET", paths[(n % #paths) + 1])\nend\n'
    )
    script = directory / "mix.lua"
    script.write_text(lua)
    return script


async def writer(base: str, token: str, enterprise_ids: list[str], stop_at: float) -> dict:
    """Registers hazards (each key sent twice every other time) and plans some of them."""
    headers = {"Authorization": f"Bearer {token}"}
    counts: dict[str, Any] = {"created": 0, "replayed": 0, "planned": 0, "errors": 0}
    refused: dict[str, int] = {}
    n = 0
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        while time.monotonic() < stop_at:
            n += 1
            body = {
                "enterprise_id": enterprise_ids[n % len(enterprise_ids)],
                "title": f"长时负载隐患 {n}",
                "level": "general",
                "source": "inspection",
                "category": "unsafe_condition",
            }
            keyed = {**headers, "Idempotency-Key": f"soak-{os.getpid()}-{n}"}
            r = await c.post("/api/v1/hazards", json=body, headers=keyed)
            if r.status_code != 201:
                counts["errors"] += 1
                code = (
                    r.json().get("code", "")
                    if r.headers.get("content-type", "").endswith("json")
                    else ""
                )
                refused[f"{r.status_code} {code}"] = refused.get(f"{r.status_code} {code}", 0) + 1
                await asyncio.sleep(0.5)
                continue
            counts["created"] += 1
            if n % 2 == 0:
                again = await c.post("/api/v1/hazards", json=body, headers=keyed)
                counts["replayed"] += again.headers.get("idempotent-replayed") == "true"
            if n % 3 == 0:
                plan = {
                    "action": "plan",
                    "plan": {
                        "responsible_person": "张三",
                        "measures": "更换防护栏",
                        "funds_yuan": "1200.00",
                        "deadline": r.json()["deadline"],
                    },
                }
                p = await c.post(
                    f"/api/v1/hazards/{r.json()['id']}/transitions",
                    json=plan,
                    headers={**headers, "If-Match": r.headers["etag"]},
                )
                counts["planned" if p.status_code == 200 else "errors"] += 1
                if p.status_code != 200:
                    key = f"plan {p.status_code} {p.json().get('code', '')}"
                    refused[key] = refused.get(key, 0) + 1
            await asyncio.sleep(0.05)
    counts["refused"] = refused
    return counts


async def main() -> None:
    minutes = float(os.environ.get("SOAK_MINUTES") or 10)
    sample = float(os.environ.get("SOAK_SAMPLE_SECONDS") or 10)
    database = os.environ.get("BENCH_DATABASE", "anjian_bench_make")
    size = int(os.environ.get("BENCH_HAZARDS") or 100_000)
    wrk_bin = wrk.ensure_wrk()
    dsn, world = await ensure(database, size)
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    from app.auth.tokens import issue_token
    from app.core.config import Settings

    secret = secrets.token_urlsafe(32)
    settings = Settings(secret_key=secret, database_url=sa_url)
    admin = issue_token(settings, world.admin_id, "user")[0]
    officer = issue_token(settings, world.town_officer_id, "user")[0]
    conn = await asyncpg.connect(dsn)
    try:
        hids = [r[0] for r in await conn.fetch("SELECT id FROM hazards ORDER BY md5(id) LIMIT 50")]
        eids = [
            r[0] for r in await conn.fetch("SELECT id FROM enterprises ORDER BY md5(id) LIMIT 50")
        ]
        town_eids = [
            r[0]
            for r in await conn.fetch(
                "SELECT id FROM enterprises WHERE region_code LIKE $1 LIMIT 20", OFFICER_TOWN + "%"
            )
        ]
    finally:
        await conn.close()
    paths = [
        "/api/v1/hazards?limit=50",
        "/api/v1/hazards?limit=20&status=rectifying,registered&sort=deadline",
        "/api/v1/hazards?limit=10&overdue=true&include_total=true",
        "/api/v1/hazards?q=%E9%98%B2%E6%8A%A4&limit=20",
        "/api/v1/enterprises?limit=50",
        "/api/v1/enterprises?sector=hazardous_chemicals&limit=20",
        "/api/v1/statistics/hazards?group_by=sector",
        "/api/v1/me",
        "/api/v1/catalogs",
        *[f"/api/v1/hazards/{h}" for h in hids[:20]],
        *[f"/api/v1/hazards/{h}/events" for h in hids[20:25]],
        *[f"/api/v1/enterprises/{e}" for e in eids[:20]],
    ]
    with tempfile.TemporaryDirectory(prefix="anjian-soak-") as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        env = {
            **os.environ,
            "ANJIAN_DATABASE_URL": sa_url,
            "ANJIAN_SECRET_KEY": secret,
            "ANJIAN_DATA_DIR": str(tmp / "data"),
            "ANJIAN_SCHEDULER_ENABLED": "true",
        }
        log = tmp / "service.log"
        proc = start([str(ROOT / ".venv/bin/anjian"), "serve", f"--port={port}"], env, log)
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(f"{base}/readyz", proc, log)
            script = mix_script(tmp, paths)
            duration = minutes * 60
            cmd = [wrk_bin, "-t2", "-c16", f"-d{duration:g}s", "--timeout", "60s", "--latency"]
            cmd += ["-H", f"Authorization: Bearer {admin}", "-s", str(script), base + "/"]
            load = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE)
            started = time.monotonic()
            writing = asyncio.create_task(writer(base, officer, town_eids, started + duration - 1))
            samples: list[tuple[float, float]] = []
            finished = asyncio.create_task(load.communicate())
            while not finished.done():
                samples.append((time.monotonic() - started, rss_mb(proc.pid)))
                print(f"  {samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB", flush=True)
                await asyncio.wait({finished}, timeout=sample)
            out = (await finished)[0].decode()
            written = await writing
            samples.append((time.monotonic() - started, rss_mb(proc.pid)))
        finally:
            stop(proc)
    warm = [mb for t, mb in samples if t >= 60] or [mb for _, mb in samples]
    first_after_warmup, peak, end = warm[0], max(warm), samples[-1][1]
    growth = (end - first_after_warmup) / first_after_warmup
    flat = peak <= first_after_warmup * 1.10
    done = re.search(r"(\d+) requests in", out)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": minutes,
        "requests": int(done.group(1)) if done else None,
        "writes": written,
        "rss_mb": [[round(t), round(mb, 1)] for t, mb in samples],
        "after_warmup_mb": round(first_after_warmup, 1),
        "peak_after_warmup_mb": round(peak, 1),
        "end_mb": round(end, 1),
        "growth_after_warmup": round(growth, 4),
        "flat_within_10_percent": flat,
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"== {report['requests']} reads, writes {written}")
    print(
        f"== RSS after warm-up {first_after_warmup:.1f} MB, peak {peak:.1f} MB, end {end:.1f} MB"
        f" ({growth:+.1%}): {'flat (within 10 %)' if flat else 'NOT flat'}"
    )
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
