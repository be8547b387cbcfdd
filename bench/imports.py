"""Prints the throughput of enterprise imports (issue 16) end to end through the API, each next
to COPY of the same rows into the same table, measured in the same run.

    .venv/bin/python bench/imports.py                   # PostgreSQL, 100 000 rows
    .venv/bin/python bench/imports.py --rows 10000      # quick
    .venv/bin/python bench/imports.py --rows 10000 --profile   # and where the job's time goes

PostgreSQL on 127.0.0.1:5432: a template database ``anjian_bench_imports`` (or ``--database
NAME``, for a machine others share; schema by the migrations, one county with towns, bureaus and
a signed-in officer) is cloned into a fresh database per measurement (``<name>_copy``, ``_csv``,
``_xlsx``, ``_profile``), so each starts from the same empty register. The app runs as ``anjian serve`` in a subprocess with
``ANJIAN_SCHEDULER_ENABLED=true``: its own job worker (``app.services.jobs.scheduler_loop``, which
polls the queue every ~2 s) runs the import, exactly as in production. The figures:

- ``COPY``: asyncpg ``copy_records_to_table`` of the rows the import would write (the reference);
- ``CSV (GB18030)``, ``XLSX``: upload (``POST /api/v1/imports``) to ``succeeded`` seen by polling
  ``GET /api/v1/imports/{id}``, plus the job's own run time (``started_at`` to ``finished_at``);
- ``CSV again``: the same file a second time, every row ``unchanged``;
- the reader alone (``read_table``, in this process), against the job's time: reading vs applying.

``--profile`` runs one import job in this process (``app.services.jobs.run_jobs``) under cProfile
on ``--profile-rows`` rows and prints the top entries.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import re
import sys
import tempfile
import time
import types
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ would come first on the path and its statistics.py shadow the stdlib's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import xlsxwriter  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from app.auth.passwords import hash_password  # noqa: E402
from app.core.credit_code import make_credit_code  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.models import OrgUnit, User  # noqa: E402
from app.services.catalog_data import CATALOGS, SECTORS  # noqa: E402
from bench.enterprises_list import (  # noqa: E402
    BUREAUS,
    COUNTY,
    KINDS,
    PASSWORD,
    SURNAMES,
    TOWNS,
    TRADE_NAMES,
    admin_sql,
    clone_database,
    free_port,
    start,
    stop,
    tail,
    wait_until_up,
)

PG = "postgresql://postgres@127.0.0.1:5432"
TEMPLATE = "anjian_bench_imports"
MAX_BODY = 64 * 1024 * 1024
OFFICER = "bench_import_officer"
TITLE = "2026年埇桥区企业名录（由原系统导出）"
HEADERS = (
    "统一社会信用代码",
    "企业名称",
    "行政区划代码",
    "所属行业",
    "日常执法部门",
    "主要负责人",
    "联系电话",
    "地址",
    "企业规模",
    "风险等级",
    "纬度",
    "经度",
)
# Characters a GB18030 file carries and GBK cannot (CJK Extension B, and A beyond GBK).
OUTSIDE_GBK = ("𠀀", "䶮", "𡈼", "𬌗")
SECTOR_LABEL = {s.code: s.name_zh for s in SECTORS}
SCALE_LABEL = {e.code: e.name_zh for e in CATALOGS["enterprise_scales"]}
RISK_LABEL = {e.code: e.name_zh for e in CATALOGS["risk_colors"]}
COPY_COLUMNS = (
    "id",
    "name",
    "credit_code",
    "region_code",
    "address",
    "lat",
    "lng",
    "coordinate_system",
    "sector",
    "enforcement_department_id",
    "scale",
    "risk_color",
    "principal_name",
    "principal_phone",
    "status",
    "version",
    "created_at",
    "updated_at",
)


def sa_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"


# ---- the rows and the files ---------------------------------------------------------------


def make_rows(n: int) -> list[dict[str, Any]]:
    """``n`` enterprises as an office's register holds them: valid unique credit codes, towns,
    sectors with their bureau, contacts, coordinates; one name in 7 with a character outside
    GBK."""
    rnd = random.Random(16)
    bureau_of = {s: name for name, secs in BUREAUS for s in secs}
    sectors = [*bureau_of, "fire_key_units", "agriculture"]
    rows = []
    for i in range(1, n + 1):
        sector = rnd.choice(sectors)
        odd = OUTSIDE_GBK[i % len(OUTSIDE_GBK)] if i % 7 == 0 else ""
        rows.append(
            {
                "credit_code": make_credit_code(f"91{COUNTY}MA{i:07d}"),
                "name": f"宿州市{rnd.choice(TRADE_NAMES)}{odd}{rnd.choice(KINDS)}{i:06d}有限公司",
                "region_code": f"{TOWNS[i % len(TOWNS)][1]}{rnd.randrange(1, 40):03d}",
                "sector": sector,
                "department": bureau_of.get(sector, BUREAUS[0][0]),
                "principal_name": rnd.choice(SURNAMES) + "建国",
                "principal_phone": f"139{rnd.randrange(10**8):08d}",
                "address": f"安徽省宿州市埇桥区{rnd.randrange(1, 999)}号",
                "scale": rnd.choice(tuple(SCALE_LABEL)),
                "risk_color": rnd.choice(tuple(RISK_LABEL)),
                "lat": round(33.5 + rnd.random() * 0.4, 6),
                "lng": round(116.9 + rnd.random() * 0.4, 6),
            }
        )
    return rows


def cells(r: dict[str, Any]) -> list[Any]:
    """A row as the office's file shows it: catalog values by their Chinese labels, the bureau by
    its name."""
    return [
        r["credit_code"],
        r["name"],
        r["region_code"],
        SECTOR_LABEL[r["sector"]],
        r["department"],
        r["principal_name"],
        r["principal_phone"],
        r["address"],
        SCALE_LABEL[r["scale"]],
        RISK_LABEL[r["risk_color"]],
        r["lat"],
        r["lng"],
    ]


def gb18030_csv(rows: list[dict[str, Any]]) -> bytes:
    """What an old system exports: a title row, an empty row, Chinese headers, CRLF."""
    lines = [TITLE, "", ",".join(HEADERS)]
    lines += [",".join(str(c) for c in cells(r)) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The same register as a workbook: a merged title row above the headers, text cells for
    codes and phones, numbers for coordinates (xlsxwriter, constant_memory)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": True})
    sheet = book.add_worksheet("企业名录")
    sheet.merge_range(0, 0, 0, len(HEADERS) - 1, TITLE)
    for col, head in enumerate(HEADERS):
        sheet.write_string(1, col, head)
    for i, r in enumerate(rows, start=2):
        for col, value in enumerate(cells(r)):
            if isinstance(value, float):
                sheet.write_number(i, col, value)
            else:
                sheet.write_string(i, col, value)
    book.close()
    return out.getvalue()


# ---- the databases --------------------------------------------------------------------------


async def make_template() -> dict[str, str]:
    """The template: schema, the county with towns and bureaus, an officer of the county office.
    Answers bureau name -> id."""
    from app.core.db import make_engine

    await admin_sql(
        f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)', f'CREATE DATABASE "{TEMPLATE}"'
    )
    await asyncio.to_thread(upgrade, sa_url(TEMPLATE))
    engine = make_engine(sa_url(TEMPLATE))
    bureaus: dict[str, str] = {}
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
            for name, code in TOWNS:
                units.append(
                    {
                        "id": new_id(),
                        "kind": "town",
                        "name": name,
                        "region_code": code,
                        "county_code": COUNTY,
                        "parent_id": county_id,
                        "sectors": [],
                    }
                )
            for name, secs in BUREAUS:
                bureaus[name] = new_id()
                units.append(
                    {
                        "id": bureaus[name],
                        "kind": "bureau",
                        "name": name,
                        "region_code": None,
                        "county_code": COUNTY,
                        "parent_id": county_id,
                        "sectors": list(secs),
                    }
                )
            await conn.execute(insert(OrgUnit.__table__), units)
            await conn.execute(
                insert(User.__table__),
                [
                    {
                        "id": new_id(),
                        "username": OFFICER,
                        "password_hash": hash_password(PASSWORD),
                        "display_name": "导入专员",
                        "role": "officer",
                        "org_unit_id": county_id,
                        "enterprise_id": None,
                        "is_active": True,
                    }
                ],
            )
    finally:
        await engine.dispose()
    return bureaus


async def clone(name: str) -> str:
    """A fresh database from the template (same schema, same county)."""
    return await clone_database(name, TEMPLATE)


async def count_enterprises(database: str) -> int:
    conn = await asyncpg.connect(f"{PG}/{database}")
    try:
        return int(await conn.fetchval("SELECT count(*) FROM enterprises"))
    finally:
        await conn.close()


async def copy_reference(
    database: str, rows: list[dict[str, Any]], bureaus: dict[str, str]
) -> float:
    """Seconds of COPY of the rows the import writes, into the same table with its indexes."""
    now = datetime.now(UTC)
    records = [
        (
            new_id(),
            r["name"],
            r["credit_code"],
            r["region_code"],
            r["address"],
            r["lat"],
            r["lng"],
            "wgs84",
            r["sector"],
            bureaus[r["department"]],
            r["scale"],
            r["risk_color"],
            r["principal_name"],
            r["principal_phone"],
            "operating",
            1,
            now,
            now,
        )
        for r in rows
    ]
    conn = await asyncpg.connect(f"{PG}/{database}")
    try:
        t0 = time.perf_counter()
        await conn.copy_records_to_table("enterprises", records=records, columns=COPY_COLUMNS)
        return time.perf_counter() - t0
    finally:
        await conn.close()


# ---- imports through the API ----------------------------------------------------------------


def seconds_between(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


async def import_once(
    c: httpx.AsyncClient, headers: dict[str, str], data: bytes, filename: str
) -> dict[str, Any]:
    """Upload to a final status: the end-to-end seconds and the job as the API shows it."""
    t0 = time.perf_counter()
    r = await c.post(
        "/api/v1/imports",
        data={"kind": "enterprises"},
        files={"file": (filename, data, "application/octet-stream")},
        headers=headers,
        timeout=120,
    )
    accepted = time.perf_counter() - t0
    if r.status_code != 202:
        return {"error": f"{r.status_code} {r.text[:500]}", "e2e": time.perf_counter() - t0}
    url = r.headers["location"]
    while True:
        await asyncio.sleep(0.25)
        job = (await c.get(url, headers=headers, timeout=60)).json()
        if job.get("status") in ("succeeded", "failed", "cancelled"):
            break
    e2e = time.perf_counter() - t0
    return {
        "e2e": e2e,
        "accepted": accepted,
        "queued": seconds_between(job.get("created_at"), job.get("started_at")),
        "run": seconds_between(job.get("started_at"), job.get("finished_at")),
        "job": job,
    }


async def through_api(
    database: str, tmp: Path, files: list[tuple[str, bytes, str]]
) -> list[dict[str, Any]]:
    """Each (label, data, filename) imported in turn by the app's own worker."""
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": sa_url(database),
        "ANJIAN_DATA_DIR": str(tmp / f"data-{database}"),
        "ANJIAN_SCHEDULER_ENABLED": "true",
        # /api/v1/imports is not among the routes with their own body limit (attachments,
        # public reports): the general ANJIAN_MAX_BODY_BYTES (1 MB) refuses any bigger file
        # with 413 before the import's own 50 MB check. Raised here so the bench can upload.
        "ANJIAN_MAX_BODY_BYTES": str(MAX_BODY),
    }
    port = free_port()
    log = tmp / f"server-{database}.log"
    cmd = [sys.executable, "-m", "app.cli", "serve", f"--port={port}", "--workers=1"]
    server = start(cmd, env, log)
    results = []
    try:
        await wait_until_up(f"http://127.0.0.1:{port}/readyz", server, log)
        await asyncio.sleep(5.5)  # the worker starts 1-5 s after the server (instances stagger)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            r = await c.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": OFFICER, "password": PASSWORD},
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            for label, data, filename in files:
                out = await import_once(c, headers, data, filename)
                out["label"] = label
                results.append(out)
                print(f"   {label}: {describe(out)}", flush=True)
    finally:
        stop(server)
    if any("error" in r or r["job"]["status"] != "succeeded" for r in results):
        print(f"   server log tail:\n{tail(log)}")
    return results


def describe(out: dict[str, Any]) -> str:
    if "error" in out:
        return f"upload refused: {out['error']}"
    job = out["job"]
    rows = job["rows"]
    text = (
        f"{job['status']} in {out['e2e']:.1f} s end to end (run {out['run'] or 0:.1f} s, "
        f"waited {out['queued'] or 0:.1f} s in the queue); created {rows['created']}, "
        f"updated {rows['updated']}, unchanged {rows['unchanged']}, failed {rows['failed']}"
    )
    if job.get("errors"):
        text += f"; first error: {job['errors'][0]}"
    if job.get("file_error"):
        text += f"; file error: {job['file_error']}"
    return text


# ---- the reader alone, and the profile ------------------------------------------------------


def read_seconds(data: bytes, filename: str) -> tuple[float, int]:
    from app.services.imports.columns import SPECS
    from app.services.imports.reader import read_table

    t0 = time.perf_counter()
    table = read_table(data, filename, SPECS["enterprises"].is_header)
    return time.perf_counter() - t0, len(table.rows)


async def enqueue_in_process(database: str, data_dir: Path, data: bytes) -> None:
    """An import job created by the service itself, as the officer (no server involved)."""
    from sqlalchemy import select

    from app.auth.deps import resolve_principal
    from app.core.db import make_engine, make_sessionmaker
    from app.core.storage import LocalStorage
    from app.services.imports import service

    engine = make_engine(sa_url(database))
    try:
        async with make_sessionmaker(engine)() as s:
            officer = (await s.execute(select(User).where(User.username == OFFICER))).scalar_one()
            p = await resolve_principal(s, "user", officer.id, officer.credential_version)
            assert p is not None  # the template's own officer
            await service.create(
                s,
                p,
                LocalStorage(data_dir / "files"),
                kind="enterprises",
                filename="profile.csv",
                data=data,
                dry_run=False,
                mode="all_or_nothing",
                credit_code_check="error",
            )
            await s.commit()
    finally:
        await engine.dispose()


async def drain(database: str, data_dir: Path) -> dict[str, Any]:
    from app.core.config import Settings
    from app.core.db import make_engine, make_sessionmaker
    from app.services.jobs import run_jobs

    settings = Settings(database_url=sa_url(database), data_dir=data_dir)
    engine = make_engine(sa_url(database))

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        STATEMENTS[
            re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", " ".join(statement.split()))[:110]
        ] += 1

    try:
        return await run_jobs(make_sessionmaker(engine), settings, slot="bench-profile")
    finally:
        await engine.dispose()


STATEMENTS: Counter[str] = Counter()  # SQL statements the profiled job sent, by their start


def profile(rows: list[dict[str, Any]], tmp: Path, top: int) -> None:
    database = asyncio.run(clone(f"{TEMPLATE}_profile"))
    data_dir = tmp / "data-profile"
    data = gb18030_csv(rows)
    asyncio.run(enqueue_in_process(database, data_dir, data))
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    asyncio.run(drain(database, data_dir))
    prof.disable()
    took = time.perf_counter() - t0
    have = asyncio.run(count_enterprises(database))
    print(
        f"\n== profile: {len(rows):,} CSV rows imported in process under cProfile in {took:.1f} s "
        f"({have:,} enterprises written; cProfile slows Python code ~1.5-2x)"
    )
    total = sum(STATEMENTS.values())
    print(f"-- SQL statements sent: {total:,} ({total / max(have, 1):.1f} per row), the most sent:")
    for sql, k in STATEMENTS.most_common(12):
        print(f"{k:>8,}  {sql}")
    print("(coroutines: cProfile counts each resumption as a call, and cumulative times of")
    print(" nested coroutines overlap; read them as shares of the run, not as a sum)")
    for key, n in (("cumulative", top), ("tottime", 15)):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(n)
        text = out.getvalue()
        print(f"-- top {n} by {key}")
        print(text[text.find("   ncalls") :].rstrip())


async def what_if(
    database: str, data: bytes, bureaus: dict[str, str], *, core: bool = False
) -> dict[str, float]:
    """The same file through the same schemas and model, batched: one transaction, no savepoint
    per row, the existing credit codes fetched 1000 at a time, the county's bureaus and counties
    known once, the new rows flushed 1000 at a time (SQLAlchemy's insertmanyvalues), or with
    ``core`` inserted as dicts by Core executemany (no ORM objects). Not the
    app's code: the lower bound of the design proposed in the README, on the same machine."""
    from sqlalchemy import select

    from app.core.db import make_engine, make_sessionmaker
    from app.models import Enterprise
    from app.schemas.enterprises import EnterpriseCreate
    from app.services import enterprises as enterprise_service
    from app.services.imports import rows as row_rules
    from app.services.imports.columns import SPECS, convert
    from app.services.imports.reader import read_table

    spec = SPECS["enterprises"]
    t0 = time.perf_counter()
    table = read_table(data, "register.csv", spec.is_header)
    columns = {i: spec.column_of(h) for i, h in enumerate(table.headers) if spec.column_of(h)}
    rctx = row_rules.RowContext(None, None, None, departments=dict(bureaus))  # type: ignore[arg-type]
    models = []
    for _, row in table.rows:
        values = {c.field: convert(c, row[i] if i < len(row) else None) for i, c in columns.items()}
        models.append(EnterpriseCreate.model_validate(row_rules.enterprise_body(rctx, values)))
    validated = time.perf_counter() - t0
    engine = make_engine(sa_url(database))
    t1 = time.perf_counter()
    try:
        async with make_sessionmaker(engine)() as s:
            for k in range(0, len(models), 1000):
                chunk = models[k : k + 1000]
                codes = [m.credit_code for m in chunk]
                found = set(
                    (
                        await s.execute(
                            select(Enterprise.credit_code).where(Enterprise.credit_code.in_(codes))
                        )
                    ).scalars()
                )
                if core:  # the validated rows as dicts, one executemany INSERT per chunk
                    batch = []
                    for m in chunk:
                        if m.credit_code not in found:
                            row = types.SimpleNamespace()
                            enterprise_service._apply(row, m.model_dump())  # type: ignore[arg-type]
                            batch.append(vars(row))
                    if batch:
                        await s.execute(insert(Enterprise.__table__), batch)
                    continue
                for m in chunk:
                    if m.credit_code in found:
                        continue
                    ent = Enterprise()
                    enterprise_service._apply(ent, m.model_dump())
                    s.add(ent)
                await s.flush()
                s.expunge_all()
            await s.commit()
    finally:
        await engine.dispose()
    return {"read_validate": validated, "write": time.perf_counter() - t1}


# ---- the run --------------------------------------------------------------------------------


def main() -> None:
    global TEMPLATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="enterprise rows in each file")
    parser.add_argument("--profile", action="store_true", help="also profile a job in process")
    parser.add_argument("--profile-rows", type=int, default=10_000)
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX import")
    parser.add_argument("--no-again", action="store_true", help="skip the second CSV import")
    parser.add_argument(
        "--what-if", action="store_true", help="also time the batched design (not the app's code)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument(
        "--database", default=TEMPLATE, help="the template database (its clones: NAME_copy ...)"
    )
    args = parser.parse_args()
    TEMPLATE = args.database
    n = args.rows

    t0 = time.perf_counter()
    rows = make_rows(n)
    csv_data = gb18030_csv(rows)
    made_csv = time.perf_counter() - t0
    t0 = time.perf_counter()
    xlsx_data = b"" if args.no_xlsx else xlsx(rows)
    made_xlsx = time.perf_counter() - t0
    odd = sum(1 for r in rows if any(ch in r["name"] for ch in OUTSIDE_GBK))
    print(
        f"== {n:,} rows: GB18030 CSV {len(csv_data) / 1e6:.1f} MB ({made_csv:.1f} s, {odd:,} "
        f"names with a character outside GBK), XLSX {len(xlsx_data) / 1e6:.1f} MB ({made_xlsx:.1f} s)"
    )
    bureaus = asyncio.run(make_template())
    print(f"== template database {TEMPLATE}: migrated, county {COUNTY}, officer {OFFICER}")

    db_copy = asyncio.run(clone(f"{TEMPLATE}_copy"))
    copy_s = asyncio.run(copy_reference(db_copy, rows, bureaus))
    print(
        f"== COPY: {n:,} rows in {copy_s:.2f} s ({asyncio.run(count_enterprises(db_copy)):,} rows)"
    )

    read_csv, got_csv = read_seconds(csv_data, "register.csv")
    read_xlsx, got_xlsx = read_seconds(xlsx_data, "register.xlsx") if xlsx_data else (0.0, 0)
    print(
        f"== reader alone: CSV {read_csv:.2f} s ({got_csv:,} rows), XLSX {read_xlsx:.2f} s ({got_xlsx:,} rows)"
    )

    with tempfile.TemporaryDirectory(prefix="anjian-bench-imports-") as tmpdir:
        tmp = Path(tmpdir)
        print("== imports through the API (anjian serve, its scheduler's job worker)")
        files = [("CSV (GB18030)", csv_data, "register.csv")]
        if not args.no_again:
            files.append(("CSV again (unchanged)", csv_data, "register.csv"))
        db_csv = asyncio.run(clone(f"{TEMPLATE}_csv"))
        results = asyncio.run(through_api(db_csv, tmp, files))
        print(f"   {db_csv}: {asyncio.run(count_enterprises(db_csv)):,} enterprises")
        reads = {"CSV (GB18030)": read_csv, "CSV again (unchanged)": read_csv}
        if xlsx_data:
            db_xlsx = asyncio.run(clone(f"{TEMPLATE}_xlsx"))
            results += asyncio.run(
                through_api(db_xlsx, tmp, [("XLSX", xlsx_data, "register.xlsx")])
            )
            print(f"   {db_xlsx}: {asyncio.run(count_enterprises(db_xlsx)):,} enterprises")
            reads["XLSX"] = read_xlsx

        report(n, copy_s, results, reads)
        for core in (False, True) if args.what_if else ():
            db_what = asyncio.run(clone(f"{TEMPLATE}_whatif"))
            w = asyncio.run(what_if(db_what, csv_data, bureaus, core=core))
            total = w["read_validate"] + w["write"]
            how = "Core executemany" if core else "ORM flush per 1000"
            print(
                f"what-if, batched, {how} (not the app's code): read+validate "
                f"{w['read_validate']:.1f} s, write {w['write']:.1f} s, {n / total:,.0f} rows/s, "
                f"{n / total / (n / copy_s):.3f} of COPY "
                f"({asyncio.run(count_enterprises(db_what)):,} enterprises)"
            )
        if args.profile:
            profile(rows[: args.profile_rows], tmp, args.profile_top)

    if not args.keep:
        names = ["copy", "csv", "xlsx", "profile", "whatif"]
        asyncio.run(
            admin_sql(
                *(f'DROP DATABASE IF EXISTS "{TEMPLATE}_{s}" WITH (FORCE)' for s in names),
                f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)',
            )
        )


def report(n: int, copy_s: float, results: list[dict[str, Any]], reads: dict[str, float]) -> None:
    copy_rate = n / copy_s
    print()
    print(f"PostgreSQL, {n:,} enterprise rows; end to end = upload to 'succeeded' through the API")
    head = (
        f"{'import':<24} {'e2e s':>7} {'rows/s':>8} {'/COPY':>6}   {'job s':>7} {'rows/s':>8} "
        f"{'/COPY':>6}   {'read s':>6} {'apply s':>7}"
    )
    print(head)
    print("-" * len(head))
    print(f"{'COPY (reference)':<24} {copy_s:>7.2f} {copy_rate:>8,.0f} {1:>6.2f}")
    for r in results:
        if "error" in r or r["job"]["status"] != "succeeded":
            print(f"{r['label']:<24} {'did not succeed: ' + describe(r)[:80]}")
            continue
        e2e, run = r["e2e"], r["run"] or float("nan")
        read = reads.get(r["label"], 0.0)
        print(
            f"{r['label']:<24} {e2e:>7.1f} {n / e2e:>8,.0f} {n / e2e / copy_rate:>6.3f}   "
            f"{run:>7.1f} {n / run:>8,.0f} {n / run / copy_rate:>6.3f}   {read:>6.2f} "
            f"{run - read:>7.1f}"
        )
    print(
        "e2e includes the upload, the wait for the worker's next poll (~2 s) and the 0.25 s "
        "polling; job = started_at..finished_at; read = the reader alone in this process; "
        "apply = job - read"
    )


if __name__ == "__main__":
    main()
