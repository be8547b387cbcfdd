"""Figures for the inspection endpoints over 100,000 inspections: the enforcement figures and the
self-inspection compliance as a county and a town caller, and the inspection list.

What it does, in one run:

1. a fresh SQLite file (default), or the PostgreSQL database of ``ANJIAN_BENCH_DATABASE_URL``
   (e.g. ``postgresql+asyncpg://postgres@127.0.0.1:5432/anjian_bench_insp``; never ``test``:
   its schema is dropped and re-created, unless it already holds exactly the requested number
   of inspections, which are then reused), migrated by ``app.core.migrations.upgrade``;
2. bulk-loads one county (341302: the county office, 8 towns, 6 bureaus), ``--enterprises``
   enterprises over towns, sectors and risk colours, and ``--inspections`` inspections over the
   last 15 months in every state and kind (~75% finished), with findings, decisions (rows and
   the outcome JSON, as the service writes them) and fines, by Core ``executemany`` in chunks
   (then ``ANALYZE``);
3. calls the app in process (``httpx.ASGITransport`` over ``create_app``: the whole HTTP stack,
   tokens, scope, serialisation) serially, ``--requests`` times per scenario after a warm-up,
   and prints p50/p95 in ms;
4. as the reference in the same run, a bare SQL statement through the same engine with no HTTP
   (for the figures: one ``count(*)`` over the inspections joined with the enterprises in the
   caller's scope; for the list: the first page's ``ORDER BY … LIMIT 51``), and the ratio
   app p50 / reference p50.

    .venv/bin/python bench/inspections.py                      # SQLite, 100,000 inspections
    .venv/bin/python bench/inspections.py --inspections 20000 --requests 10
    ANJIAN_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/anjian_bench_insp \\
      .venv/bin/python bench/inspections.py

Absolute numbers depend on the machine and on what else runs on it; compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file's own folder first on the path would shadow the standard library's ``statistics``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.auth.tokens import issue_token  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.credit_code import make_credit_code  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import (  # noqa: E402
    Enterprise,
    Inspection,
    InspectionDecision,
    OrgUnit,
    User,
)
from app.services.catalog_data import INSPECTION_KINDS, SECTORS  # noqa: E402

COUNTY = "341302"
TOWNS = [f"{COUNTY}{n:03d}" for n in (1, 2, 3, 4, 100, 101, 102, 103)]
OFFICER_TOWN = TOWNS[4]
BUREAUS = {
    "区应急管理局": ["hazardous_chemicals", "industry_trade", "metallurgy", "fireworks"],
    "区住房和城乡建设局": ["construction", "urban_gas", "self_built_housing"],
    "区交通运输局": ["road_transport", "water_transport"],
    "区市场监督管理局": ["special_equipment", "commerce"],
    "区教育体育局": ["campus"],
    "区消防救援大队": ["fire_key_units", "culture_tourism", "medical"],
}
KINDS = [e.code for e in INSPECTION_KINDS]
STATUSES = (
    ["signed"] * 55
    + ["completed"] * 20
    + ["planned"] * 12
    + ["in_progress"] * 8
    + ["cancelled"] * 5
)
CHUNK = 5_000


def _uses_postgres(url: str) -> bool:
    return url.startswith("postgresql")


async def reset_postgres(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def existing(url: str) -> int | None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM inspections"))).scalar_one())
    except Exception:
        return None
    finally:
        await engine.dispose()


async def seed(app: Any, args: argparse.Namespace) -> dict[str, str]:
    """The county, its people and the rows; answers the ids the scenarios need."""
    rng = random.Random(341302)
    now = datetime.now(UTC)
    engine = app.state.engine
    t0 = time.perf_counter()
    county_id = new_id()
    units = [
        {
            "id": county_id,
            "kind": "county",
            "name": "埇桥区",
            "region_code": COUNTY,
            "county_code": COUNTY,
            "sectors": [],
            "parent_id": None,
        }
    ]
    town_ids = {}
    for i, code in enumerate(TOWNS):
        town_ids[code] = new_id()
        units.append(
            {
                "id": town_ids[code],
                "kind": "town",
                "name": f"乡镇{i + 1}",
                "region_code": code,
                "county_code": COUNTY,
                "sectors": [],
                "parent_id": county_id,
            }
        )
    sector_bureau = {}
    bureau_ids = []
    for name, sectors in BUREAUS.items():
        bid = new_id()
        bureau_ids.append(bid)
        units.append(
            {
                "id": bid,
                "kind": "bureau",
                "name": name,
                "region_code": None,
                "county_code": COUNTY,
                "sectors": sectors,
                "parent_id": county_id,
            }
        )
        for s in sectors:
            sector_bureau[s] = bid
    for u in units:
        u.update(version=1, created_at=now, updated_at=now)
    people = {
        "bench_admin": ("admin", county_id),
        "bench_town_officer": ("officer", town_ids[OFFICER_TOWN]),
    }
    users = [
        {
            "id": new_id(),
            "username": name,
            "password_hash": "!bench",
            "display_name": name,
            "role": role,
            "org_unit_id": unit,
            "enterprise_id": None,
            "is_active": True,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for name, (role, unit) in people.items()
    ]
    sector_codes = [s.code for s in SECTORS]
    enterprises = []
    for n in range(args.enterprises):
        sector = rng.choice(sector_codes)
        town = TOWNS[n % len(TOWNS)]
        enterprises.append(
            {
                "id": new_id(),
                "name": f"企业{n:05d}",
                "credit_code": make_credit_code(f"91341302MA{n:07d}"),
                "region_code": f"{town}{n % 40 + 1:03d}",
                "sector": sector,
                "enforcement_department_id": sector_bureau.get(sector, bureau_ids[0]),
                "risk_color": rng.choice(["red", "orange", "yellow", "yellow", "blue", "blue"]),
                "status": rng.choice(["operating"] * 18 + ["suspended", "closed"]),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    unit_choices = [county_id, *town_ids.values(), *bureau_ids]
    inspections, decisions = [], []
    start = now - timedelta(days=450)
    for n in range(args.inspections):
        ent = enterprises[rng.randrange(len(enterprises))]
        kind = rng.choice(KINDS)
        status = rng.choice(STATUSES)
        planned = start + timedelta(seconds=rng.randrange(450 * 86400))
        done = status in ("completed", "signed")
        completed = planned + timedelta(hours=rng.randrange(1, 72)) if done else None
        if completed and completed > now:
            completed = now - timedelta(minutes=1)
        findings = rng.choice([0, 0, 0, 1, 1, 2, 3, 5]) if done else 0
        major = 1 if findings and rng.random() < 0.1 else 0
        exempt = 1 if findings and rng.random() < 0.1 else 0
        iid = new_id()
        outcome = []
        entity = person = 0
        if done and kind not in ("self_inspection", "expert_guidance"):
            kinds = ["no_issue"] if not findings else ["rectification_order"]
            if findings and rng.random() < 0.3:
                kinds.append("fine")
                entity = rng.randrange(1, 500) * 10_000
                person = rng.randrange(0, 50) * 10_000
            if findings and rng.random() < 0.05:
                kinds.append(rng.choice(["suspension", "closure", "referral", "blacklist"]))
            for k in kinds:
                d = {
                    "kind": k,
                    "entity_fine_fen": entity if k == "fine" else None,
                    "person_fine_fen": person if k == "fine" and person else None,
                    "person_name": "张某" if k == "fine" and person else None,
                }
                outcome.append(d)
                decisions.append({"id": new_id(), "inspection_id": iid, **d})
        inspections.append(
            {
                "id": iid,
                "number": f"J{planned.year}-{n:06d}",
                "county_code": COUNTY,
                "kind": kind,
                "enterprise_id": ent["id"],
                "conducting_unit_id": None
                if kind == "self_inspection"
                else rng.choice(unit_choices),
                "campaign": None,
                "planned_for": planned.date(),
                "started_at": planned if status in ("in_progress", "completed", "signed") else None,
                "completed_at": completed,
                "signed_at": completed if status == "signed" else None,
                "status": status,
                "inspectors": [],
                "experts": [],
                "results": [],
                "outcome": {"decisions": outcome, "note": None} if outcome else None,
                "signatures": [],
                "amendments": [],
                "rectification_checks": [],
                "findings_count": findings,
                "major_findings_count": major,
                "exempt_findings_count": exempt,
                "entity_fine_fen": entity,
                "person_fine_fen": person,
                "version": 1,
                "created_at": planned,
                "updated_at": completed or planned,
            }
        )
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    async with engine.begin() as conn:
        for table, rows in (
            (OrgUnit, units),
            (User, users),
            (Enterprise, enterprises),
            (Inspection, inspections),
            (InspectionDecision, decisions),
        ):
            for i in range(0, len(rows), CHUNK):
                await conn.execute(insert(table), rows[i : i + CHUNK])
        await conn.execute(text("ANALYZE"))
    took = time.perf_counter() - t0
    total = len(inspections) + len(decisions) + len(enterprises)
    print(
        f"loaded {len(inspections):,} inspections, {len(decisions):,} decisions, "
        f"{len(enterprises):,} enterprises in {took:.1f} s ({total / took:,.0f} rows/s, Core "
        f"executemany); generating them took {generated:.1f} s"
    )
    return {u["username"]: u["id"] for u in users}


async def people(app: Any) -> dict[str, str]:
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT username, id FROM users WHERE username LIKE 'bench_%'")
        )
        return dict(rows.all())  # type: ignore[arg-type]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def timed(fn: Any, n: int) -> list[float]:
    await fn()  # warm: caches, the caller, the plan
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def scope_sql(prefix: str) -> str:
    return (
        "SELECT count(*) FROM inspections i JOIN enterprises e ON e.id = i.enterprise_id "
        f"WHERE e.region_code LIKE '{prefix}%' AND i.status IN ('completed', 'signed') "
        "AND i.kind <> 'self_inspection'"
    )


LIST_SQL = (
    "SELECT i.id, i.number, i.kind, i.status, i.planned_for FROM inspections i "
    "JOIN enterprises e ON e.id = i.enterprise_id WHERE e.region_code LIKE '{prefix}%' "
    "ORDER BY i.planned_for DESC, i.id DESC LIMIT 51"
)


async def main(args: argparse.Namespace) -> None:
    url = os.environ.get("ANJIAN_BENCH_DATABASE_URL")
    tmp = None
    if url:
        name = make_url(url).database
        if name in (None, "test", "postgres"):
            raise SystemExit(f"refusing to use the database {name!r}")
        have = await existing(url)
        reuse = have == args.inspections
        if not reuse and _uses_postgres(url):
            await reset_postgres(url)
    else:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite+aiosqlite:///{tmp.name}/bench.db"
        reuse = False
    await asyncio.to_thread(upgrade, url)
    data_dir = Path(tmp.name if tmp else tempfile.mkdtemp())
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="bench-secret-key-not-for-production-0123456789",
        scheduler_enabled=False,
    )
    app = create_app(settings)
    ids = await people(app) if reuse else await seed(app, args)
    if reuse:
        print(f"reused {args.inspections:,} inspections in {make_url(url).database}")
    tokens = {k: issue_token(settings, v, "user")[0] for k, v in ids.items()}
    dialect = "PostgreSQL" if _uses_postgres(url) else "SQLite"
    has_list = "/api/v1/inspections" in app.openapi()["paths"]
    quarter = f"{date.today().year}-Q{(date.today().month - 1) // 3 + 1}"
    scenarios: list[tuple[str, str, str, str]] = [
        ("figures, county", "bench_admin", "/api/v1/statistics/enforcement", COUNTY),
        (
            "figures, county, group_by=conducting_unit",
            "bench_admin",
            "/api/v1/statistics/enforcement?group_by=conducting_unit",
            COUNTY,
        ),
        (
            "figures, county, group_by=town,month",
            "bench_admin",
            "/api/v1/statistics/enforcement?group_by=town,month",
            COUNTY,
        ),
        (
            "figures, county, 2 filters",
            "bench_admin",
            "/api/v1/statistics/enforcement?has_findings=true&decision=fine&group_by=sector",
            COUNTY,
        ),
        ("figures, town", "bench_town_officer", "/api/v1/statistics/enforcement", OFFICER_TOWN),
        (
            "figures, town, group_by=month",
            "bench_town_officer",
            "/api/v1/statistics/enforcement?group_by=month",
            OFFICER_TOWN,
        ),
        (
            "self-inspection, county",
            "bench_admin",
            f"/api/v1/statistics/self-inspection?period={quarter}",
            COUNTY,
        ),
        (
            "self-inspection, town",
            "bench_town_officer",
            f"/api/v1/statistics/self-inspection?period={quarter}",
            OFFICER_TOWN,
        ),
    ]
    if has_list:
        scenarios += [
            ("list, first page, county", "bench_admin", "/api/v1/inspections?limit=50", ""),
            (
                "list, filtered page, town",
                "bench_town_officer",
                "/api/v1/inspections?limit=50&status=signed&has_findings=true"
                "&kind=routine,double_random",
                "",
            ),
            (
                "list, filtered page + total, county",
                "bench_admin",
                "/api/v1/inspections?limit=50&status=completed,signed&decision=fine"
                "&include_total=true",
                "",
            ),
        ]
    print(
        f"\n{dialect}, {args.inspections:,} inspections, {args.requests} serial requests per "
        f"row (in-process ASGI), load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'scenario':44} {'p50 ms':>8} {'p95 ms':>8}  {'ref p50':>8}  app/ref")
    print("-" * 82)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, who, path, prefix in scenarios:
            headers = {"Authorization": f"Bearer {tokens[who]}"}

            async def call(path: str = path, headers: dict[str, str] = headers) -> None:
                r = await client.get(path, headers=headers)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])

            sql = (
                scope_sql(prefix)
                if path.startswith("/api/v1/statistics")
                else LIST_SQL.format(prefix=COUNTY if who == "bench_admin" else OFFICER_TOWN)
            )

            async def bare(sql: str = sql) -> None:
                async with app.state.engine.connect() as conn:
                    (await conn.execute(text(sql))).all()

            got = await timed(call, args.requests)
            ref = await timed(bare, args.requests)
            p50, ref50 = pct(got, 0.5), pct(ref, 0.5)
            print(f"{name:44} {p50:8.1f} {pct(got, 0.95):8.1f}  {ref50:8.1f}  {p50 / ref50:7.1f}")
    await app.state.engine.dispose()
    if tmp:
        tmp.cleanup()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inspections", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=20, help="per scenario, after a warm-up")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
