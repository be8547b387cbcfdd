"""Prints webhook deliveries per second (issue 17) through the real path, next to the same number
of signed POSTs sent straight to the same receiver, measured in the same run. Prints, never
asserts.

    .venv/bin/python bench/webhooks.py                          # 2,000 changes
    .venv/bin/python bench/webhooks.py --changes 5000 --rounds 3
    .venv/bin/python bench/webhooks.py --database anjian_h2     # a machine others share

PostgreSQL on 127.0.0.1:5432: a template database ``anjian_bench_webhooks`` (or ``--database
NAME``; schema by the migrations, a county with its administrator and ``--changes``
enterprises, written with Core so they leave no change rows) is cloned into ``NAME_run`` for
each round, so every round starts from the same state. The receiver is a separate process (a
bare ASGI app under uvicorn, answering 200 to every POST and counting them), so it does not
share this process's event loop or core with the sender.

- ``direct``, the reference: the same bodies the deliveries carry (the feed's entries in the
  Standard Webhooks envelope), each signed (``signing.signature``) and POSTed with one
  ``httpx.AsyncClient``, one after another: the cost of signing and HTTP alone.
- ``webhooks``: a subscription made through the API (in-process over ASGI, as the county
  administrator), then N change rows committed in one transaction (one ``upsert`` per
  enterprise, as the change recorder writes them), then ``delivery.pump`` and a
  ``Worker(kinds=delivery.KINDS)`` run until the receiver has all N: the feed read with the
  owner's scope, each entry rendered as its detail endpoint renders it, signed, sent, and the
  cursor moved and the attempt logged in one commit per delivery, exactly as a server's
  scheduler does it (there, the pump is woken by the commit and the worker by the job).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ would come first on the path and its statistics.py shadow the stdlib's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import statistics  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app.core.credit_code import make_credit_code  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.models import Enterprise, OrgUnit, User  # noqa: E402
from bench.enterprises_list import admin_sql, clone_database, free_port  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
TEMPLATE = "anjian_bench_webhooks"
COUNTY = "341302"
ADMIN = "bench_webhooks_admin"
CHANGES_SQL = """
INSERT INTO changes (type, object_id, op, changed_at, enterprise_id, region_code, sector,
                     department_id)
SELECT 'enterprise', e.id, 'upsert', now(), e.id, e.region_code, e.sector,
       e.enforcement_department_id
FROM enterprises e ORDER BY e.credit_code
"""


def sa_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"


# ---- the receiver (its own process) ---------------------------------------------------------


def receiver_main(port: int) -> None:
    """``POST`` anything: 200, counted; ``GET /count``: how many so far."""
    import uvicorn

    count = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal count
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if scope["method"] == "POST":
            count += 1
            body = b"ok"
        else:
            body = str(count).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


async def received(base: str) -> int:
    async with httpx.AsyncClient(trust_env=False) as c:
        return int((await c.get(f"{base}/count")).text)


# ---- the databases --------------------------------------------------------------------------


async def make_template(n: int) -> str:
    """The template: schema, a county, its administrator, ``n`` enterprises; the admin's id."""
    from app.auth.passwords import hash_password
    from app.core.db import make_engine

    await admin_sql(
        f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)', f'CREATE DATABASE "{TEMPLATE}"'
    )
    await asyncio.to_thread(upgrade, sa_url(TEMPLATE))
    engine = make_engine(sa_url(TEMPLATE))
    county, town, bureau, admin = new_id(), new_id(), new_id(), new_id()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(OrgUnit.__table__),
                [
                    {
                        "id": county,
                        "kind": "county",
                        "name": "埇桥区",
                        "region_code": COUNTY,
                        "county_code": COUNTY,
                        "parent_id": None,
                        "sectors": [],
                    },
                    {
                        "id": town,
                        "kind": "town",
                        "name": "埇桥街道",
                        "region_code": f"{COUNTY}001",
                        "county_code": COUNTY,
                        "parent_id": county,
                        "sectors": [],
                    },
                    {
                        "id": bureau,
                        "kind": "bureau",
                        "name": "区应急管理局",
                        "region_code": None,
                        "county_code": COUNTY,
                        "parent_id": county,
                        "sectors": ["industry_trade"],
                    },
                ],
            )
            await conn.execute(
                insert(User.__table__),
                [
                    {
                        "id": admin,
                        "username": ADMIN,
                        "password_hash": hash_password(secrets.token_urlsafe(16)),
                        "display_name": "Webhook 管理员",
                        "role": "admin",
                        "org_unit_id": county,
                        "enterprise_id": None,
                        "is_active": True,
                    }
                ],
            )
            await conn.execute(
                insert(Enterprise.__table__),
                [
                    {
                        "id": new_id(),
                        "name": f"基准测试{i:06d}机械制造有限公司",
                        "credit_code": make_credit_code(f"91341302MA{i:07d}"),
                        "region_code": f"{COUNTY}001{i % 97:03d}",
                        "sector": "industry_trade",
                        "enforcement_department_id": bureau,
                        "risk_color": ("red", "orange", "yellow", "blue")[i % 4],
                        "status": "operating",
                    }
                    for i in range(1, n + 1)
                ],
            )
    finally:
        await engine.dispose()
    return admin


async def clone(name: str) -> str:
    """A fresh database from the template (same schema, same county)."""
    return await clone_database(name, TEMPLATE)


# ---- one round ------------------------------------------------------------------------------


async def one_round(database: str, admin_id: str, receiver: str, n: int) -> dict[str, float]:
    """The real path, then the direct reference with the same bodies; seconds of each."""
    from app.auth.tokens import issue_token
    from app.core.config import Settings
    from app.main import create_app
    from app.services.changes import feed
    from app.services.job_queue import Worker
    from app.services.webhooks import delivery, signing

    with tempfile.TemporaryDirectory(prefix="anjian-bench-webhooks-") as data_dir:
        settings = Settings(
            secret_key=secrets.token_urlsafe(48),
            database_url=sa_url(database),
            data_dir=Path(data_dir),
            scheduler_enabled=False,
            webhook_allow_http=True,
            webhook_allowed_hosts=("127.0.0.1",),
        )
        app = create_app(settings)
        maker = app.state.sessionmaker
        token = issue_token(settings, admin_id, "user")[0]
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                r = await c.post(
                    "/api/v1/webhooks",
                    json={"url": f"{receiver}/hook", "types": ["enterprise"]},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if r.status_code != 201:
                    raise SystemExit(f"subscribe failed: {r.status_code} {r.text[:300]}")
                sub = r.json()
            conn = await asyncpg.connect(f"{PG}/{database}")
            try:
                await conn.execute(CHANGES_SQL)
            finally:
                await conn.close()

            before = await received(receiver)
            t0 = time.perf_counter()
            jobs = 0
            while await received(receiver) - before < n:
                await delivery.pump(maker, settings)
                jobs += len(await Worker(maker, settings, kinds=delivery.KINDS).drain())
            webhooks_s = time.perf_counter() - t0
            if await received(receiver) - before != n:
                raise SystemExit("the receiver got more than was sent")

            # The reference: the same entries, rendered for the same owner (not timed), sent.
            async with maker() as session:
                row = await delivery._load(session, sub["id"])
                assert row is not None
                owner = await delivery.owner_of(session, row)
                assert owner is not None
                bodies: list[tuple[str, bytes]] = []
                cursor = sub["cursor"]
                while len(bodies) < n:
                    entries, cursor = await feed.page(
                        session, owner, settings, cursor, ["enterprise"], 1000, english=False
                    )
                    bodies += [
                        (
                            delivery.message_id(sub["id"], e.cursor),
                            delivery.body_of(e, e.changed_at),
                        )
                        for e in entries
                    ]
                secrets_ = delivery.secrets_of(settings, row)
            before = await received(receiver)
            t0 = time.perf_counter()
            async with httpx.AsyncClient(trust_env=False, timeout=None) as client:
                for msg_id, body in bodies:
                    now = time.time()
                    stamp = datetime.fromtimestamp(now, UTC)
                    response = await client.post(
                        f"{receiver}/hook",
                        content=body,
                        headers={
                            "content-type": "application/json",
                            "webhook-id": msg_id,
                            "webhook-timestamp": str(int(now)),
                            "webhook-signature": signing.signature(secrets_, msg_id, stamp, body),
                        },
                    )
                    response.raise_for_status()
            direct_s = time.perf_counter() - t0
            if await received(receiver) - before != n:
                raise SystemExit("the direct reference lost a POST")
        finally:
            await app.state.engine.dispose()
    return {"webhooks": webhooks_s, "direct": direct_s, "jobs": jobs}


def main() -> None:
    global TEMPLATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=2_000, help="changes (deliveries) per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=TEMPLATE, help="the template (its clone: NAME_run)")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)  # the receiver process
    args = parser.parse_args()
    if args.receiver:
        receiver_main(args.receiver)
        return
    if args.database in ("test", "postgres"):
        raise SystemExit(f"refusing to use the database {args.database!r}")
    TEMPLATE = args.database
    n = args.changes

    admin_id = asyncio.run(make_template(n))
    print(f"== template database {TEMPLATE}: migrated, {n:,} enterprises, admin {ADMIN}")
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)], env={**os.environ})
    try:
        for _ in range(100):
            try:
                asyncio.run(received(receiver))
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = []
        for i in range(args.rounds):
            database = asyncio.run(clone(f"{TEMPLATE}_run"))
            r = asyncio.run(one_round(database, admin_id, receiver, n))
            results.append(r)
            print(
                f"round {i + 1}: webhooks {n / r['webhooks']:,.0f}/s ({r['jobs']} jobs), "
                f"direct {n / r['direct']:,.0f}/s"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if not args.keep:
            asyncio.run(
                admin_sql(
                    f'DROP DATABASE IF EXISTS "{TEMPLATE}_run" WITH (FORCE)',
                    f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)',
                )
            )

    web = statistics.median(r["webhooks"] for r in results)
    direct = statistics.median(r["direct"] for r in results)
    print()
    print(f"PostgreSQL, {n:,} changes to one subscription, median of {len(results)} rounds")
    head = f"{'path':<44} {'s':>7} {'per s':>8} {'ms each':>8} {'/direct':>8}"
    print(head)
    print("-" * len(head))
    print(
        f"{'direct: signed httpx POSTs (reference)':<44} {direct:>7.2f} {n / direct:>8,.0f} "
        f"{direct / n * 1000:>8.2f} {1:>8.2f}"
    )
    print(
        f"{'webhooks: pump + Worker, feed, sign, log':<44} {web:>7.2f} {n / web:>8,.0f} "
        f"{web / n * 1000:>8.2f} {direct / web:>8.3f}"
    )
    print("'/direct' = direct time / webhooks time (1.0 = the machinery costs nothing)")


if __name__ == "__main__":
    main()
