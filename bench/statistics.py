"""Statistics from the rollup vs the direct query vs a bare GROUP BY, on a bench database.

Loads with ``bench/hazards.py`` first (``--keep``, or the loader of this issue), then:

    .venv/bin/python bench/statistics.py --database anjian_bench_y [--rounds 5]

It migrates the database to head (0007 backfills the rollup), then times, serially and in the
same run, for the whole county (admin) and one town (the town officer): the service function
(rollup path; direct path with the rollup switched off) and the bare ``GROUP BY`` / town count
over ``hazards`` joined with ``enterprises``. Prints the medians in ms and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This file's own folder first on the path would shadow the standard library's ``statistics``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from app.auth.permissions import ROLE_PERMISSIONS, Role  # noqa: E402
from app.auth.principal import Principal, UnitInfo  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.models import OrgUnit, User  # noqa: E402
from app.services.hazards import statistics as service  # noqa: E402
from app.services.hazards.queries import HazardFilters  # noqa: E402
from bench.hazards import OFFICER_TOWN  # noqa: E402


async def principal_for(session, user_id: str) -> Principal:  # type: ignore[no-untyped-def]
    user, u = (
        await session.execute(
            select(User, OrgUnit)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(User.id == user_id)
        )
    ).one()
    unit = UnitInfo(u.id, u.kind, u.name, u.region_code, u.county_code, tuple(u.sectors or ()))
    role = Role(user.role)
    return Principal("user", user.id, user.username, role, ROLE_PERMISSIONS[role], unit)


BARE_COUNTY = (
    "SELECT substr(e.region_code, 1, 9), count(*) FROM hazards h "
    "JOIN enterprises e ON e.id = h.enterprise_id WHERE e.region_code LIKE '341302%' "
    "AND h.status <> 'voided' GROUP BY 1"
)
BARE_TOWN = (
    "SELECT count(*) FROM hazards h JOIN enterprises e ON e.id = h.enterprise_id "
    f"WHERE e.region_code LIKE '{OFFICER_TOWN}%' AND h.status <> 'voided'"
)


async def timed(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    await fn()  # warm
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)[len(out) // 2]  # median (the stdlib module is shadowed by this file)


async def main(args: argparse.Namespace) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.database}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(secret_key="x" * 32, database_url=url)
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    async with maker() as s:
        ids = dict(
            (
                await s.execute(
                    text("SELECT username, id FROM users WHERE username LIKE 'bench_%'")
                )
            ).all()
        )
        n = (await s.execute(text("SELECT count(*) FROM hazards"))).scalar_one()
        rows = (await s.execute(text("SELECT count(*) FROM hazard_rollup"))).scalar_one()
        admin = await principal_for(s, ids["bench_admin"])
        town = await principal_for(s, ids["bench_town_officer"])
    print(f"{n:,} hazards, {rows:,} rollup rows")
    served = service._rollup_conditions

    def call(p, group_by, direct=False):  # type: ignore[no-untyped-def]
        async def run() -> None:
            service._rollup_conditions = (lambda *a: None) if direct else served  # type: ignore[assignment]
            async with maker() as s:
                await service.hazard_statistics(s, p, settings, group_by, HazardFilters())

        return run

    def bare(sql: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            async with maker() as s:
                (await s.execute(text(sql))).all()

        return run

    r = args.rounds
    for who, p, group_by, sql in (
        ("county, group_by=town", admin, ["town"], BARE_COUNTY),
        ("town officer, group_by=town", town, ["town"], BARE_TOWN),
    ):
        rollup_ms = await timed(call(p, group_by), r)
        direct_ms = await timed(call(p, group_by, direct=True), r)
        bare_ms = await timed(bare(sql), r)
        print(
            f"{who}: rollup {rollup_ms:.1f} ms, direct {direct_ms:.1f} ms, bare {bare_ms:.1f} ms; "
            f"rollup/bare {rollup_ms / bare_ms:.2f}x, direct/bare {direct_ms / bare_ms:.2f}x"
        )
    service._rollup_conditions = served  # type: ignore[assignment]
    await engine.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database", default="anjian_bench_y")
    ap.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(ap.parse_args()))
