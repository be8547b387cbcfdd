"""Prints throughput and latency of the enterprise list and detail endpoints over a big county,
each next to a reference measured in the same run.

    .venv/bin/python bench/enterprises_list.py                      # PostgreSQL, 100 000 enterprises
    .venv/bin/python bench/enterprises_list.py --enterprises 20000 --duration 5
    .venv/bin/python bench/enterprises_list.py --sqlite

PostgreSQL: a fresh database ``anjian_bench`` on 127.0.0.1:5432 (dropped and re-created each
run), or the database named by ``ANJIAN_BENCH_DATABASE_URL`` (loaded only when empty, never
dropped). The schema is made by the migrations; the county is bulk-loaded (COPY on PostgreSQL,
Core executemany on SQLite); the app runs as ``anjian serve`` in a subprocess; clients are httpx
tasks in this process. References, same rows, same machine, same moment:

- ``db``: the same SQL through a bare asyncpg pool (aiosqlite with ``--sqlite``), no HTTP;
- ``raw``: a bare Starlette + asyncpg server answering the same JSON (PostgreSQL only), the
  reference the figures in STYLE.md are relative to.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, make_url  # noqa: E402

from app.auth.passwords import hash_password  # noqa: E402
from app.core.credit_code import make_credit_code  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.pagination import encode_cursor, parse_sort  # noqa: E402
from app.models import Enterprise, OrgUnit, User  # noqa: E402
from app.services.enterprises import SORTS  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/anjian_bench"
COUNTY = "341302"
PASSWORD = "Bench!2026-anjian"
TOWNS = (
    ("埇桥街道", "341302001"),
    ("沱河街道", "341302002"),
    ("道东街道", "341302003"),
    ("三里街道", "341302004"),
    ("符离镇", "341302100"),
    ("大店镇", "341302101"),
    ("蒿沟镇", "341302102"),
    ("夹沟镇", "341302104"),
)
BUREAUS = (
    (
        "区应急管理局",
        ("hazardous_chemicals", "non_coal_mining", "fireworks", "metallurgy", "industry_trade"),
    ),
    ("区住房和城乡建设局", ("construction", "urban_gas", "self_built_housing")),
    ("区交通运输局", ("road_transport",)),
    ("区市场监督管理局", ("special_equipment", "commerce")),
    ("区教育局", ("campus",)),
    ("区卫生健康委员会", ("medical",)),
)
TRADE_NAMES = (
    "华宇 恒通 鑫源 金鼎 皖北 淮海 汴水 隋唐 宏达 盛源 永安 瑞丰 嘉禾 天成 正阳 福瑞".split()
)
KINDS = "机械制造 化工 建筑安装 运输 燃气 商贸 食品 物流 铸造 电梯工程".split()
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林"
# The columns the app's list selects (app.services.enterprises.COLUMNS), in that order.
COLUMNS = (
    "id, name, credit_code, region_code, address, lat, lng, sector, industry_code, "
    "enforcement_department_id, scale, risk_color, standardization_grade, principal_name, "
    "principal_phone, actual_controller_name, actual_controller_phone, status, created_at, "
    "updated_at"
)


# ---- the database ----------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def recreate_postgres(url: str) -> None:
    import asyncpg

    target = make_url(url)
    conn = await asyncpg.connect(asyncpg_dsn(str(target.set(database="postgres"))))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


def enterprise_rows(n: int, towns: list[str], bureaus: dict[str, str], fallback: str) -> list[dict]:
    """``n`` believable enterprises with valid, unique credit codes, spread over towns/sectors."""
    rnd = random.Random(341302)
    sectors = [s for _, secs in BUREAUS for s in secs] + ["fire_key_units", "agriculture"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(1, n + 1):
        town = towns[i % len(towns)]
        sector = rnd.choice(sectors)
        at = start + timedelta(seconds=rnd.randrange(60 * 86400 * 6))
        rows.append(
            {
                "id": new_id(),
                "name": f"宿州市{rnd.choice(TRADE_NAMES)}{rnd.choice(KINDS)}{i:06d}有限公司",
                "credit_code": make_credit_code(f"91{COUNTY}MA{i:07d}"),
                "region_code": f"{town}{rnd.randrange(1, 40):03d}",
                "address": f"安徽省宿州市埇桥区{rnd.randrange(1, 999)}号",
                "lat": 33.5 + rnd.random() * 0.4,
                "lng": 116.9 + rnd.random() * 0.4,
                "sector": sector,
                "industry_code": None,
                "enforcement_department_id": bureaus.get(sector, fallback),
                "scale": rnd.choice(("large", "medium", "small", "micro")),
                "risk_color": rnd.choice(("red", "orange", "yellow", "blue")),
                "standardization_grade": rnd.choice(("level_2", "level_3", "none")),
                "principal_name": rnd.choice(SURNAMES) + "建国",
                "principal_phone": f"139{rnd.randrange(10**8):08d}",
                "actual_controller_name": None,
                "actual_controller_phone": None,
                "status": "operating",
                "version": 1,
                "created_at": at,
                "updated_at": at,
            }
        )
    return rows


async def load(url: str, n: int) -> dict[str, Any]:
    """County, towns, bureaus, an admin and a town officer, then ``n`` enterprises."""
    from app.core.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            county_id = new_id()
            units: list[dict[str, Any]] = [
                {
                    "id": county_id,
                    "kind": "county",
                    "name": "埇桥区",
                    "region_code": COUNTY,
                    "county_code": COUNTY,
                    "parent_id": None,
                    "sectors": [],
                }
            ]
            towns = {code: new_id() for _, code in TOWNS}
            for name, code in TOWNS:
                units.append(
                    {
                        "id": towns[code],
                        "kind": "town",
                        "name": name,
                        "region_code": code,
                        "county_code": COUNTY,
                        "parent_id": county_id,
                        "sectors": [],
                    }
                )
            bureau_of: dict[str, str] = {}
            fallback = ""
            for name, secs in BUREAUS:
                uid = new_id()
                fallback = fallback or uid
                bureau_of.update(dict.fromkeys(secs, uid))
                units.append(
                    {
                        "id": uid,
                        "kind": "bureau",
                        "name": name,
                        "region_code": None,
                        "county_code": COUNTY,
                        "parent_id": county_id,
                        "sectors": list(secs),
                    }
                )
            await conn.execute(insert(OrgUnit.__table__), units)
            pw = hash_password(PASSWORD)
            home = {"bench_admin": county_id, "bench_town": towns[TOWNS[0][1]]}
            await conn.execute(
                insert(User.__table__),
                [
                    {
                        "id": new_id(),
                        "username": name,
                        "password_hash": pw,
                        "display_name": name,
                        "role": role,
                        "org_unit_id": home[name],
                        "enterprise_id": None,
                        "is_active": True,
                    }
                    for name, role in (("bench_admin", "admin"), ("bench_town", "officer"))
                ],
            )
        started = time.perf_counter()
        rows = enterprise_rows(n, list(towns), bureau_of, fallback)
        made = time.perf_counter() - started
        started = time.perf_counter()
        if engine.dialect.name == "postgresql":
            import asyncpg

            pg = await asyncpg.connect(asyncpg_dsn(url))
            try:
                cols = list(rows[0])
                await pg.copy_records_to_table(
                    "enterprises", records=[tuple(r[c] for c in cols) for r in rows], columns=cols
                )
                await pg.execute("ANALYZE")
            finally:
                await pg.close()
            how = "COPY + ANALYZE"
        else:
            async with engine.begin() as conn:
                for i in range(0, n, 10_000):
                    await conn.execute(insert(Enterprise.__table__), rows[i : i + 10_000])
            how = "Core executemany"
        took = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(
        f"loaded {n} enterprises in {took:.1f} s ({n / took:,.0f} rows/s, {how}); "
        f"generating them took {made:.1f} s"
    )
    return {"towns": [code for _, code in TOWNS]}


async def existing_enterprises(url: str) -> int:
    from sqlalchemy import func, select

    from app.core.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Enterprise))).scalar())
    finally:
        await engine.dispose()


async def sample(url: str, deep_cursors: int) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Ids for details, app cursors into the second half of the list, and their (name, id)."""
    from sqlalchemy import select

    from app.core.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            keys = (
                await conn.execute(
                    select(Enterprise.name, Enterprise.id).order_by(Enterprise.name, Enterprise.id)
                )
            ).all()
    finally:
        await engine.dispose()
    rnd = random.Random(7)
    ids = [k[1] for k in rnd.sample(keys, min(2000, len(keys)))]
    half = keys[len(keys) // 2 :]
    deep = [(str(k[0]), str(k[1])) for k in rnd.sample(half, min(deep_cursors, len(half)))]
    sort = parse_sort(None, SORTS, "name")
    return ids, [encode_cursor(sort, name, eid) for name, eid in deep], deep


# ---- load generation -------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


def merge(results: list[Result]) -> Result:
    return Result(
        results[0].name,
        sum(r.requests for r in results),
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        [x for r in results for x in r.latencies],
    )


async def drive(
    name: str, call: Callable[[random.Random], Awaitable[bool]], clients: int, seconds: float
) -> Result:
    """``clients`` loops calling ``call`` back to back: a warm-up second, then ``seconds``."""

    async def loop(rnd: random.Random, until: float, out: list[float] | None, err: list[int]):
        while time.perf_counter() < until:
            t0 = time.perf_counter()
            ok = await call(rnd)
            if out is not None:
                out.append(time.perf_counter() - t0)
                if not ok:
                    err[0] += 1

    warm_until = time.perf_counter() + 1
    await asyncio.gather(*(loop(random.Random(i), warm_until, None, [0]) for i in range(clients)))
    lat: list[float] = []
    err = [0]
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(loop(random.Random(100 + i), until, lat, err) for i in range(clients)))
    return Result(name, len(lat), err[0], time.perf_counter() - started, lat)


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432"  # the shared server, for CREATE/DROP DATABASE


async def admin_sql(*statements: str) -> None:
    """Statements on the server's ``postgres`` database (CREATE and DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(f"{PG_ADMIN}/postgres")
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


async def clone_database(name: str, template: str) -> str:
    """A fresh database ``name`` from ``template`` (same schema and rows)."""
    await admin_sql(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    return name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(150):
            if proc.poll() is not None:
                raise SystemExit(f"server exited:\n{tail(log)}")
            try:
                if (await c.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"server not up:\n{tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the references ----------------------------------------------------------------------------

SQL_PAGE = f"SELECT {COLUMNS} FROM enterprises WHERE region_code LIKE $1 ORDER BY name, id LIMIT 51"
SQL_AFTER = (  # the row-value keyset of app.core.pagination
    f"SELECT {COLUMNS} FROM enterprises WHERE region_code LIKE $1 "
    "AND (name, id) > ($2, $3) ORDER BY name, id LIMIT 51"
)
SQL_TOWN = (
    f"SELECT {COLUMNS} FROM enterprises WHERE region_code LIKE $1 AND region_code LIKE $2 "
    "ORDER BY name, id LIMIT 51"
)
SQL_ONE = f"SELECT {COLUMNS} FROM enterprises WHERE id = $1 AND region_code LIKE $2"


def sqlite_sql(sql: str) -> str:
    for i in range(3, 0, -1):
        sql = sql.replace(f"${i}", "?")
    return sql


class DbReference:
    """The same statements as the app's, with nothing around them."""

    def __init__(self, url: str, size: int) -> None:
        self.url, self.size = url, size
        self.pool: Any = None
        self.sqlite: list[Any] = []

    async def __aenter__(self) -> DbReference:
        if self.url.startswith("postgresql"):
            import asyncpg

            self.pool = await asyncpg.create_pool(asyncpg_dsn(self.url), min_size=2, max_size=10)
        else:
            import aiosqlite

            path = make_url(self.url).database
            self.sqlite = [await aiosqlite.connect(path) for _ in range(self.size)]
            self.free = asyncio.Queue()
            for c in self.sqlite:
                self.free.put_nowait(c)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.pool is not None:
            await self.pool.close()
        for c in self.sqlite:
            await c.close()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        if self.pool is not None:
            return await self.pool.fetch(sql, *args)
        conn = await self.free.get()
        try:
            async with conn.execute(sqlite_sql(sql), args) as cur:
                return list(await cur.fetchall())
        finally:
            self.free.put_nowait(conn)


RAW_SERVER = '''
"""A bare Starlette + asyncpg server answering the same JSON as the app, with no auth layer."""
import contextlib, json, sys
import asyncpg, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

DSN, PORT = sys.argv[1], int(sys.argv[2])
PAGE, AFTER, TOWN, ONE = json.loads(sys.argv[3])
state = {}


def item(r):
    d = dict(r)
    d["location"] = {"lat": d.pop("lat"), "lng": d.pop("lng")} if d["lat"] is not None else None
    for k in ("principal", "actual_controller"):
        n, p = d.pop(k + "_name"), d.pop(k + "_phone")
        d[k] = {"name": n, "phone": p} if n else None
    d["created_at"], d["updated_at"] = d["created_at"].isoformat(), d["updated_at"].isoformat()
    return d


def page(rows):
    body = {"items": [item(r) for r in rows[:50]], "next_cursor": "x" if len(rows) > 50 else None}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(app):
    state["pool"] = await asyncpg.create_pool(DSN, min_size=2, max_size=10)
    yield
    await state["pool"].close()


async def lst(request):
    q = request.query_params
    pool = state["pool"]
    if "after_name" in q:
        return page(await pool.fetch(AFTER, "341302%", q["after_name"], q["after_id"]))
    if "region_code" in q:
        return page(await pool.fetch(TOWN, q["region_code"] + "%", q["region_code"] + "%"))
    return page(await pool.fetch(PAGE, "341302%"))


async def one(request):
    row = await state["pool"].fetchrow(ONE, request.path_params["id"], "341302%")
    if row is None:
        return Response(status_code=404)
    return Response(json.dumps(item(row), ensure_ascii=False), media_type="application/json")


app = Starlette(
    routes=[Route("/e", lst), Route("/e/{id}", one), Route("/readyz", lambda r: Response("ok"))],
    lifespan=lifespan,
)
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
'''


# ---- the run -----------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, url: str, tmp: Path) -> list[list[Result]]:
    """Each scenario on the app, then at once on its references, so background load hits all."""
    ids, cursors, deep_keys = await sample(url, 500)
    town = TOWNS[0][1]
    county = COUNTY + "%"
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": url,
        "ANJIAN_DATA_DIR": str(tmp / "data"),
        "ANJIAN_SCHEDULER_ENABLED": "false",
    }
    port, rport = free_port(), free_port()
    log, rlog = tmp / "server.log", tmp / "raw.log"
    cmd = [sys.executable, "-m", "app.cli", "serve", f"--port={port}", f"--workers={args.workers}"]
    with_raw = url.startswith("postgresql") and not args.no_raw
    stmts = json.dumps([SQL_PAGE, SQL_AFTER, SQL_TOWN, SQL_ONE])
    rcmd = [sys.executable, "-c", RAW_SERVER, asyncpg_dsn(url), str(rport), stmts]
    servers = [start(cmd, env, log)] + ([start(rcmd, env, rlog)] if with_raw else [])
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    try:
        await wait_until_up(f"http://127.0.0.1:{port}/readyz", servers[0], log)
        if with_raw:
            await wait_until_up(f"http://127.0.0.1:{rport}/readyz", servers[1], rlog)
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as c,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{rport}", limits=limits) as rc,
            DbReference(url, args.clients) as db,
        ):
            tokens = {}
            for who in ("bench_admin", "bench_town"):
                r = await c.post(
                    "/api/v1/auth/token",
                    data={"grant_type": "password", "username": who, "password": PASSWORD},
                )
                r.raise_for_status()
                tokens[who] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            admin, officer = tokens["bench_admin"], tokens["bench_town"]

            async def get(path: str, headers: dict[str, str], **params: Any) -> bool:
                r = await c.get(path, params=params, headers=headers, timeout=30)
                return r.status_code == 200

            async def raw(path: str, **params: Any) -> bool:
                return (await rc.get(path, params=params, timeout=30)).status_code == 200

            async def sql(statement: str, *a: Any) -> bool:
                await db.fetch(statement, *a)
                return True

            def deep(rnd: random.Random) -> tuple[str, str]:
                return rnd.choice(deep_keys)

            Call = Callable[[random.Random], Awaitable[bool]]
            scenarios: list[tuple[str, Call, Call, Call]] = [
                (
                    "list, first page (admin)",
                    lambda _: get("/api/v1/enterprises", admin, limit=50),
                    lambda _: sql(SQL_PAGE, county),
                    lambda _: raw("/e"),
                ),
                (
                    "list, deep page via cursor",
                    lambda rnd: get(
                        "/api/v1/enterprises", admin, limit=50, cursor=rnd.choice(cursors)
                    ),
                    lambda rnd: sql(SQL_AFTER, county, *deep(rnd)),
                    lambda rnd: raw(
                        "/e", **dict(zip(("after_name", "after_id"), deep(rnd), strict=True))
                    ),
                ),
                (
                    "list, town officer + region_code",
                    lambda _: get("/api/v1/enterprises", officer, limit=50, region_code=town),
                    lambda _: sql(SQL_TOWN, town + "%", town + "%"),
                    lambda _: raw("/e", region_code=town),
                ),
                (
                    "detail by id",
                    lambda rnd: get(f"/api/v1/enterprises/{rnd.choice(ids)}", admin),
                    lambda rnd: sql(SQL_ONE, rnd.choice(ids), county),
                    lambda rnd: raw(f"/e/{rnd.choice(ids)}"),
                ),
            ]
            rows = []
            slice_ = args.duration / args.rounds
            for name, app_call, db_call, raw_call in scenarios:
                runs: list[list[Result]] = [[], [], []]
                for _ in range(args.rounds):  # alternate, so a burst of other load hits all
                    runs[0].append(await drive(name, app_call, args.clients, slice_))
                    runs[1].append(await drive("db", db_call, args.clients, slice_))
                    if with_raw:
                        runs[2].append(await drive("raw", raw_call, args.clients, slice_))
                    print(".", end="", flush=True)
                rows.append([merge(r) for r in runs if r])
            print()
            return rows
    finally:
        for server in servers:
            stop(server)


def report(pairs: list[list[Result]], args: argparse.Namespace, db: str) -> None:
    print()
    print(
        f"{db}, {args.enterprises} enterprises, {args.clients} concurrent clients, "
        f"{args.duration:g} s per row, app with {args.workers} worker(s)"
    )
    head = f"{'scenario':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'err':>5} {'app/ref':>8}"
    print(head)
    print("-" * len(head))
    for app_result, *refs in pairs:
        r = app_result
        print(
            f"{r.name:<34} {r.rps:>8.0f} {r.pct(50):>8.1f} {r.pct(95):>8.1f} {r.pct(99):>8.1f} {r.errors:>5}"
        )
        for ref in refs:
            label = {"db": "  ref: same SQL, bare driver", "raw": "  ref: bare Starlette+asyncpg"}
            print(
                f"{label[ref.name]:<34} {ref.rps:>8.0f} {ref.pct(50):>8.1f} {ref.pct(95):>8.1f} "
                f"{ref.pct(99):>8.1f} {ref.errors:>5} {r.rps / ref.rps:>8.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="alternations app/references")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the app")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead")
    parser.add_argument("--no-raw", action="store_true", help="skip the bare Starlette reference")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="anjian-bench-") as tmpdir:
        tmp = Path(tmpdir)
        given = os.environ.get("ANJIAN_BENCH_DATABASE_URL")
        if args.sqlite:
            url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        elif given:
            url = given
        else:
            url = DEFAULT_PG
            asyncio.run(recreate_postgres(url))
        upgrade(url)
        have = asyncio.run(existing_enterprises(url))
        if have:
            print(f"reusing the {have} enterprises already in {make_url(url).database}")
            args.enterprises = have
        else:
            asyncio.run(load(url, args.enterprises))
        pairs = asyncio.run(measure(args, url, tmp))
        report(pairs, args, "SQLite" if args.sqlite else "PostgreSQL")


if __name__ == "__main__":
    main()
