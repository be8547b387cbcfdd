"""`make bench`: the service against a bare reference sending the same SQL, one table.

Steps: the bench database (loaded once, bench/bench_db.py); the SQL and JSON of each request
taken from the service in this tree (bench/sql_capture.py); the reference (bench/reference.py)
checked to answer the same JSON; then for 1 and 2 workers, each request in alternated wrk rounds,
service then reference, so a burst of other load on the machine hits both; serial timings of
statistics against a bare GROUP BY and of include_total against the page alone. The table is
printed and written to bench/results/latest.json.

Environment: BENCH_HAZARDS (1000000), BENCH_DURATION seconds per round (15), BENCH_ROUNDS
alternations (2), BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_WORKERS ("1,2"),
BENCH_SERIAL_N (7), BENCH_DATABASE (anjian_bench_make).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds scripts named like stdlib modules (statistics.py): never import from it by name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
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
from bench.reference import Param, RefScenario, Spec  # noqa: E402
from bench.sql_capture import Scenario, capture  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"
# (key, target) -> minimum ratio service/reference
RATIO_TARGETS = {
    "hazard_list": 0.60,
    "hazard_detail": 0.50,
    "enterprise_list": 0.60,
    "enterprise_detail": 0.50,
}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def scenarios(hazard_ids: list[str], enterprise_ids: list[str]) -> list[Scenario]:
    return [
        Scenario(
            "hazard_list_town",
            "hazard list, town officer, status=rectifying",
            "hazard_list",
            "town",
            "/api/v1/hazards",
            {"limit": "50", "status": "rectifying"},
        ),
        Scenario(
            "hazard_detail",
            "hazard detail by id, admin",
            "hazard_detail",
            "admin",
            "/api/v1/hazards/{id}",
            ids=hazard_ids,
        ),
        Scenario(
            "enterprise_list",
            "enterprise list, admin",
            "enterprise_list",
            "admin",
            "/api/v1/enterprises",
            {"limit": "50"},
        ),
        Scenario(
            "enterprise_detail",
            "enterprise detail by id, admin",
            "enterprise_detail",
            "admin",
            "/api/v1/enterprises/{id}",
            ids=enterprise_ids,
        ),
        Scenario(
            "stats_admin",
            "statistics group_by=town, admin",
            "statistics",
            "admin",
            "/api/v1/statistics/hazards",
            {"group_by": "town"},
        ),
        Scenario(
            "stats_town",
            "statistics group_by=town, town officer",
            "statistics",
            "town",
            "/api/v1/statistics/hazards",
            {"group_by": "town"},
        ),
        Scenario(
            "list_town_total",
            "hazard list include_total, town officer",
            "hazard_list",
            "town",
            "/api/v1/hazards",
            {"limit": "50", "include_total": "true"},
        ),
        Scenario(
            "list_town_page",
            "hazard list, town officer (page alone)",
            "hazard_list",
            "town",
            "/api/v1/hazards",
            {"limit": "50"},
        ),
    ]


async def templates(dsn: str, s: Scenario) -> list[tuple[str, list[Param]]]:
    """Each captured parameter as the path id, a value an earlier statement returned, or itself."""
    conn = await asyncpg.connect(dsn)
    out: list[tuple[str, list[Param]]] = []
    firsts: list[Any] = []
    try:
        for sql, params in s.statements:
            tpl: list[Param] = []
            for v in params:
                if s.captured_id is not None and v == s.captured_id:
                    tpl.append(("path",))
                    continue
                ref = next(
                    (
                        (j, k)
                        for j, row in enumerate(firsts)
                        if row is not None
                        for k in row.keys()
                        if isinstance(v, str) and len(v) > 8 and row[k] == v
                    ),
                    None,
                )
                tpl.append(("ref", *ref) if ref else ("lit", v))
            rows = await conn.fetch(sql, *params)
            firsts.append(rows[0] if rows else None)
            out.append((sql, tpl))
    finally:
        await conn.close()
    return out


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'service' if k in a else 'reference'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


async def verify(svc: str, ref: str, tokens: dict[str, str], ss: list[Scenario]) -> dict[str, str]:
    """Parsed bodies of service and reference, for three ids per detail: '' when equal."""
    out = {}
    async with httpx.AsyncClient(timeout=120) as c:
        for s in ss:
            h = {"Authorization": f"Bearer {tokens[s.who]}"}
            diff = None
            for i in range(3 if s.ids else 1):
                a = await c.get(svc + s.url(i), headers=h)
                b = await c.get(ref + s.url(i), headers=h)
                if a.status_code != 200 or b.status_code != 200:
                    diff = diff or f"HTTP {a.status_code} vs {b.status_code}: {b.text[:300]}"
                    continue
                diff = diff or first_difference(a.json(), b.json())
            out[s.key] = diff or ""
    return out


async def serial_ms(call: Any, n: int) -> float:
    await call()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


BARE_COUNTY = (
    "SELECT substr(e.region_code, 1, 9), count(*) FROM hazards h "
    "JOIN enterprises e ON e.id = h.enterprise_id WHERE h.status <> 'voided' GROUP BY 1"
)
BARE_TOWN = (
    "SELECT substr(e.region_code, 1, 9), count(*) FROM hazards h "
    "JOIN enterprises e ON e.id = h.enterprise_id WHERE h.status <> 'voided' "
    "AND e.region_code LIKE $1 GROUP BY 1"
)


async def serial(dsn: str, svc: str, tokens: dict[str, str], by: dict[str, Scenario], n: int):
    conn = await asyncpg.connect(dsn)
    try:
        async with httpx.AsyncClient(base_url=svc, timeout=300) as c:

            def get(key: str):  # type: ignore[no-untyped-def]
                s = by[key]
                h = {"Authorization": f"Bearer {tokens[s.who]}"}
                return lambda: c.get(s.url(), headers=h)

            return {
                "stats_admin_ms": await serial_ms(get("stats_admin"), n),
                "bare_county_ms": await serial_ms(lambda: conn.fetch(BARE_COUNTY), n),
                "stats_town_ms": await serial_ms(get("stats_town"), n),
                "bare_town_ms": await serial_ms(
                    lambda: conn.fetch(BARE_TOWN, OFFICER_TOWN + "%"), n
                ),
                "list_town_total_ms": await serial_ms(get("list_town_total"), n),
                "list_town_page_ms": await serial_ms(get("list_town_page"), n),
            }
    finally:
        await conn.close()


def finite_mean(values: list[float]) -> float:
    """Mean over the rounds wrk gave a figure for (nan when none did)."""
    ok = [v for v in values if v == v]
    return round(statistics.mean(ok), 2) if ok else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


async def main() -> None:
    size = env_int("BENCH_HAZARDS", 1_000_000)
    database = os.environ.get("BENCH_DATABASE", "anjian_bench_make")
    duration = float(os.environ.get("BENCH_DURATION") or 15)
    rounds = env_int("BENCH_ROUNDS", 2)
    load_args = (env_int("BENCH_THREADS", 2), env_int("BENCH_CONNECTIONS", 32), duration)
    worker_counts = [int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(",")]
    n_serial = env_int("BENCH_SERIAL_N", 7)
    wrk_bin = wrk.ensure_wrk()
    started = time.time()

    dsn, world = await ensure(database, size)
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    from app.auth.tokens import issue_token
    from app.core.clock import local_today
    from app.core.config import Settings
    from app.services.hazards.queries import stock_cutoff_instant

    secret = secrets.token_urlsafe(32)
    settings = Settings(secret_key=secret, database_url=sa_url)
    uids = {"admin": world.admin_id, "town": world.town_officer_id}
    tokens = {who: issue_token(settings, uid, "user")[0] for who, uid in uids.items()}
    conn = await asyncpg.connect(dsn)
    try:
        hids = [
            r[0]
            for r in await conn.fetch(
                "SELECT id FROM hazards WHERE status <> 'voided' ORDER BY md5(id) LIMIT 500"
            )
        ]
        eids = [
            r[0] for r in await conn.fetch("SELECT id FROM enterprises ORDER BY md5(id) LIMIT 500")
        ]
    finally:
        await conn.close()

    ss = scenarios(hids, eids)
    print("== capturing the service's SQL (in-process app, before_cursor_execute, PostgreSQL log)")
    principals = await capture(dsn, database, tokens, secret, ss)
    by = {s.key: s for s in ss}
    spec = Spec(
        dsn=dsn,
        tokens={t: who for who, t in tokens.items()},
        principals=principals,
        today=local_today(settings.timezone),
        stock_cutoff=stock_cutoff_instant(settings),
        extensions_max=settings.enterprise_extensions_max,
        scenarios=[
            RefScenario(
                s.kind,
                s.who,
                s.path,
                tuple(sorted(s.query.items())),
                await templates(dsn, s),
                int(s.query.get("limit", 50)),
            )
            for s in ss
        ],
    )
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "hazards": size,
        "database": database,
        "wrk": dict(zip(("threads", "connections", "duration_s"), load_args, strict=True)),
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "statements": {
            s.key: {
                "sqlalchemy": s.sa_statements,
                "postgresql": s.pg_statements,
                "postgresql_log": s.pg_lines,
            }
            for s in ss
        },
        "runs": [],
    }
    measured = [s for s in ss if s.key not in ("list_town_page",)]
    with tempfile.TemporaryDirectory(prefix="anjian-make-bench-") as tmpdir:
        tmp = Path(tmpdir)
        spec_path = tmp / "spec.pickle"
        spec_path.write_bytes(pickle.dumps(spec))
        scripts = {s.key: wrk.id_script(tmp, s.path, s.ids) for s in ss if s.ids}
        for workers in worker_counts:
            sport, rport = free_port(), free_port()
            env = {
                **os.environ,
                "ANJIAN_DATABASE_URL": sa_url,
                "ANJIAN_SECRET_KEY": secret,
                "ANJIAN_DATA_DIR": str(tmp / "data"),
                "ANJIAN_SCHEDULER_ENABLED": "false",
                "BENCH_REF_SPEC": str(spec_path),
            }
            svc_proc = start(
                [
                    str(ROOT / ".venv/bin/anjian"),
                    "serve",
                    f"--port={sport}",
                    f"--workers={workers}",
                ],
                env,
                tmp / f"service{workers}.log",
            )
            ref_proc = start(
                [sys.executable, "-m", "bench.reference", str(rport), str(workers)],
                env,
                tmp / f"reference{workers}.log",
            )
            svc, ref = f"http://127.0.0.1:{sport}", f"http://127.0.0.1:{rport}"
            try:
                await wait_until_up(f"{svc}/readyz", svc_proc, tmp / f"service{workers}.log")
                await wait_until_up(f"{ref}/readyz", ref_proc, tmp / f"reference{workers}.log")
                same = await verify(svc, ref, tokens, measured)
                for key, d in same.items():
                    print(f"  JSON {key}: {'equal' if not d else 'DIFFERS ' + d}")
                for s in measured:
                    per: dict[str, list[wrk.Round]] = {"service": [], "reference": []}
                    path = s.url() if not s.ids else "/"
                    for _ in range(rounds):
                        for side, base, proc in (
                            ("service", svc, svc_proc),
                            ("reference", ref, ref_proc),
                        ):
                            per[side].append(
                                await asyncio.to_thread(
                                    wrk.run,
                                    wrk_bin,
                                    base,
                                    path,
                                    tokens[s.who],
                                    proc.pid,
                                    load_args,
                                    scripts.get(s.key),
                                )
                            )
                    row = {
                        "key": s.key,
                        "request": s.label,
                        "workers": workers,
                        "json_equal": not same[s.key],
                        "json_difference": same[s.key],
                        "load_average": os.getloadavg()[0],
                    }
                    for side, rs in per.items():
                        req = sum(r.requests for r in rs)
                        secs = sum(r.seconds for r in rs)
                        row[side] = {
                            "rps": round(req / secs, 1) if secs else 0.0,
                            "cpu_ms_per_request": round(1000 * sum(r.cpu_s for r in rs) / req, 3)
                            if req
                            else None,
                            "p50_ms": finite_mean([r.p50_ms for r in rs]),
                            "p99_ms": finite_mean([r.p99_ms for r in rs]),
                            "wrk_output": [r.output for r in rs],
                            "errors": sum(r.errors for r in rs),
                        }
                    rr = row["reference"]["rps"]
                    row["ratio"] = round(row["service"]["rps"] / rr, 3) if rr else None
                    results["runs"].append(row)
                    print(
                        f"  {workers}w {s.label:<44} service {row['service']['rps']:8.1f} "
                        f"reference {rr:8.1f} req/s  ratio {row['ratio']}",
                        flush=True,
                    )
                if workers == worker_counts[0]:
                    print(f"== serial timings, median of {n_serial}")
                    results["serial"] = await serial(dsn, svc, tokens, by, n_serial)
            finally:
                stop(svc_proc)
                stop(ref_proc)
    results["load_after"] = os.getloadavg()
    results["elapsed_s"] = round(time.time() - started, 1)
    report(results)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")


def report(res: dict[str, Any]) -> None:
    w = res["wrk"]
    print(
        f"\n== make bench, {res['date']}: {res['hazards']:,} hazards, wrk -t{w['threads']} "
        f"-c{w['connections']} -d{w['duration_s']:g}s x {res['rounds']} alternated rounds; "
        f"load average {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f} on {res['cpus']} CPUs"
    )
    head = (
        f"{'request':<44} {'w':>1} {'svc r/s':>8} {'ref r/s':>8} {'ratio':>6} {'target':<13} "
        f"{'CPU ms/req svc/ref':>18} {'p50 svc/ref':>13} {'p99 svc/ref':>13} {'stmts SA/PG':>11} {'load':>5} json"
    )
    print(head)
    print("-" * len(head))
    for r in res["runs"]:
        s, f = r["service"], r["reference"]
        st = res["statements"][r["key"]]
        t = RATIO_TARGETS.get(r["key"].replace("hazard_list_town", "hazard_list"))
        target = f">={t:.2f} {verdict(r['ratio'] is not None and r['ratio'] >= t)}" if t else ""
        if not r["json_equal"]:
            target = "no: JSON differs"
        r["target"] = target
        cpu = f"{s['cpu_ms_per_request'] or 0:.2f}/{f['cpu_ms_per_request'] or 0:.2f}"
        print(
            f"{r['request']:<44} {r['workers']:>1} {s['rps']:>8.1f} {f['rps']:>8.1f} "
            f"{r['ratio'] or 0:>6.2f} {target:<13} {cpu:>18} "
            f"{s['p50_ms']:>6.1f}/{f['p50_ms']:<6.1f} {s['p99_ms']:>6.1f}/{f['p99_ms']:<6.1f} "
            f"{st['sqlalchemy']:>5}/{st['postgresql'] if st['postgresql'] is not None else '?':<5} "
            f"{r['load_average']:>5.1f} {'equal' if r['json_equal'] else 'DIFFERS'}"
        )
    sr = res.get("serial")
    if sr:
        print("\nserial, median ms                          service   bare/page   x     target")
        rows = (
            (
                "statistics group_by=town, admin (county)",
                sr["stats_admin_ms"],
                sr["bare_county_ms"],
                0.25,
            ),
            (
                "statistics group_by=town, town officer",
                sr["stats_town_ms"],
                sr["bare_town_ms"],
                1.0,
            ),
            (
                "include_total, town vs the page alone",
                sr["list_town_total_ms"],
                sr["list_town_page_ms"],
                2.0,
            ),
        )
        sr["targets"] = {}
        for label, a, b, limit in rows:
            x = a / b if b else float("inf")
            sr["targets"][label] = {"x": round(x, 2), "limit": limit, "met": x <= limit}
            print(f"{label:<42} {a:>8.1f} {b:>10.1f} {x:>6.2f}  <={limit:g}x {verdict(x <= limit)}")
    print(
        "\nstatements per request: SA = SQLAlchemy cursor executes, PG = round trips in the "
        "PostgreSQL log (BEGIN, pre-ping, COMMIT included); steady state, third request"
    )


if __name__ == "__main__":
    asyncio.run(main())
