"""Figures for the hazard endpoints at province-like scale, on PostgreSQL, through the real server.

What it does, in one run:

1. creates a fresh database (default ``anjian_bench_hazards``; never ``test``) and migrates it
   with ``app.core.migrations.upgrade``;
2. bulk-loads one county (341302: the county office, 12 towns/streets, 10 bureaus with their
   sectors), ~5,000 enterprises, N hazards (default 1,000,000) found over three years in every
   state (mostly closed, recent ones open, ~7% overdue, ~6% major, open major ones mostly under
   supervision), and up to 3 events each, with asyncpg COPY (indexes that back no constraint are
   dropped for the load and rebuilt from their own definitions, then VACUUM ANALYZE);
3. starts ``anjian serve`` on a free port and signs tokens as ``app/auth/tokens.py`` does for an
   admin, a town officer and a bureau officer;
4. drives each scenario (lists, a deep cursor page, filters, ``include_total``, detail,
   statistics by town/sector/month/town,level as admin and as the town officer) with N
   concurrent clients for a fixed time: requests/s, p50/p95/p99 (``drive``/``Result`` are
   shared with bench/enterprises_list.py);
5. as the reference in the same run, right after its HTTP row, replays the exact SQL the service
   issued for that scenario (recorded from SQLAlchemy) on bare asyncpg connections;
6. EXPLAIN (ANALYZE, BUFFERS) of the slowest statements, with the plan the app really runs
   (PostgreSQL switches a prepared statement to its generic plan after five executions);
7. measures proposals on the same data: plan_cache_mode force_custom_plan, and indexes that are
   created for the measurement and dropped again (the app's schema is never changed).

Run from the project root (PostgreSQL on 127.0.0.1:5432, user postgres):

    .venv/bin/python bench/hazards.py                       # 1M hazards, ~10 minutes
    .venv/bin/python bench/hazards.py --hazards 200000      # quick, ~5 minutes
    .venv/bin/python bench/hazards.py --keep                # keep the database afterwards ...
    .venv/bin/python bench/hazards.py --reuse               # ... and measure it again, no reload
    .venv/bin/python bench/hazards.py --reuse --plan-cache-mode force_custom_plan
    .venv/bin/python bench/hazards.py --reuse --only statistics --duration 20

Absolute numbers depend on the machine and on what else runs on it (the load average is
printed); compare rows of the same run (STYLE.md, Speed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402

from app.auth.deps import _resolve as resolve_principal  # noqa: E402
from app.auth.permissions import Role  # noqa: E402
from app.auth.principal import Principal  # noqa: E402
from app.auth.tokens import issue_token  # noqa: E402
from app.core.clock import local_today  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.credit_code import make_credit_code  # noqa: E402
from app.core.db import make_engine, make_sessionmaker  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.pagination import encode_cursor, parse_sort  # noqa: E402
from app.models import User  # noqa: E402
from app.schemas.common import ListParams  # noqa: E402
from app.services.demo import BUREAUS, FALLBACK_BUREAU, MIX, SURNAMES, TOWNS, ZIHAO  # noqa: E402
from app.services.demo_hazards import FIRE, MAJOR, PLACES, TITLES  # noqa: E402
from app.services.hazards import rollup  # noqa: E402
from app.services.hazards import service as hazard_service  # noqa: E402
from app.services.hazards.queries import HazardFilters  # noqa: E402
from app.services.hazards.service import SORTS  # noqa: E402
from app.services.hazards.statistics import hazard_statistics  # noqa: E402
from app.services.hazards.workflow import ESCALATION_LADDER  # noqa: E402
from bench.enterprises_list import (  # noqa: E402
    Result,
    drive,
    free_port,
    start,
    stop,
    wait_until_up,
)

COUNTY_CODE, COUNTY_NAME = "341302", "埇桥区"
OFFICER_TOWN = "341302100"  # 符离镇: the town officer's home
FILTER_TOWN = "341302003"  # 道东街道: the region_code prefix of the filtered list
OFFICER_BUREAU = "区住房和城乡建设局"
CST = timezone(timedelta(hours=8))  # Asia/Shanghai, no DST since 1991
OPEN = ("registered", "rectifying", "awaiting_acceptance")
HIGH_RISK = set(MAJOR)

HAZARD_COLUMNS = (
    "id",
    "number",
    "county_code",
    "enterprise_id",
    "title",
    "description",
    "location",
    "level",
    "source",
    "category",
    "found_at",
    "found_by_id",
    "found_by_name",
    "deadline",
    "status",
    "judgment_standard",
    "judgment_clause",
    "judgment_text",
    "plan_responsible_person",
    "plan_measures",
    "plan_funds_fen",
    "plan_deadline",
    "plan_contingency_plan",
    "plan_interim_measures",
    "plan_equipment_out_of_service",
    "supervision_org_unit_id",
    "supervision_supervisor_user_id",
    "supervision_listed_at",
    "supervision_disclosed",
    "escalation",
    "overdue_marked_on",
    "closed_at",
    "version",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "id",
    "hazard_id",
    "action",
    "from_status",
    "to_status",
    "actor_kind",
    "actor_id",
    "actor_name",
    "note",
    "payload",
    "attachment_ids",
    "created_at",
)


# ---- ids and small helpers ---------------------------------------------------------------------


def uuid7(rng: random.Random, at: datetime) -> str:
    """The layout of ``app.core.ids.new_id`` with the row's own time, so ids sort like history."""
    ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0x2 << 62) | (rand & ((1 << 62) - 1))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def dsn(base: str, database: str) -> str:
    return f"{base.rstrip('/')}/{database}"


# ---- the county ----------------------------------------------------------------------------------


@dataclass
class Ent:
    id: str
    name: str
    region_code: str
    sector: str


@dataclass
class World:
    county_id: str
    town_ids: dict[str, str]  # region code -> org unit id
    admin_id: str = ""
    town_officer_id: str = ""
    bureau_officer_id: str = ""
    enterprises: list[Ent] = field(default_factory=list)


async def load_county(conn: asyncpg.Connection, rng: random.Random, n_enterprises: int) -> World:
    now = datetime.now(UTC)
    county_id = uuid7(rng, now)
    units = [(county_id, "county", COUNTY_NAME, None, COUNTY_CODE, COUNTY_CODE, "[]")]
    town_ids: dict[str, str] = {}
    for name, code, _lat, _lng in TOWNS:
        town_ids[code] = uuid7(rng, now)
        units.append((town_ids[code], "town", name, county_id, code, COUNTY_CODE, "[]"))
    bureau_ids: dict[str, str] = {}
    sector_bureau: dict[str, str] = {}
    for name, sectors in BUREAUS:
        bureau_ids[name] = uuid7(rng, now)
        units.append(
            (bureau_ids[name], "bureau", name, county_id, None, COUNTY_CODE, json.dumps(sectors))
        )
        for s in sectors:
            sector_bureau[s] = bureau_ids[name]
    await conn.copy_records_to_table(
        "org_units",
        records=[(*u, 1, now, now) for u in units],
        columns=(
            "id",
            "kind",
            "name",
            "parent_id",
            "region_code",
            "county_code",
            "sectors",
            "version",
            "created_at",
            "updated_at",
        ),
    )
    world = World(county_id=county_id, town_ids=town_ids)
    people = (
        ("bench_admin", Role.admin, county_id, "王建国"),
        ("bench_town_officer", Role.officer, town_ids[OFFICER_TOWN], "陈静"),
        ("bench_bureau_officer", Role.officer, bureau_ids[OFFICER_BUREAU], "周海涛"),
    )
    user_rows = []
    for username, role, unit_id, display in people:
        uid = uuid7(rng, now)
        user_rows.append((uid, username, "!bench", display, None, role.value, unit_id, None, True))
        if role is Role.admin:
            world.admin_id = uid
        elif unit_id == town_ids[OFFICER_TOWN]:
            world.town_officer_id = uid
        else:
            world.bureau_officer_id = uid
    await conn.copy_records_to_table(
        "users",
        records=[(*u, 1, now, now) for u in user_rows],
        columns=(
            "id",
            "username",
            "password_hash",
            "display_name",
            "phone",
            "role",
            "org_unit_id",
            "enterprise_id",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ),
    )

    # Enterprises: the demo's sector mix; streets carry more of them than the rural towns.
    sectors = list(MIX)
    sector_weights = [MIX[s][0] for s in sectors]
    codes = [code for _name, code, _lat, _lng in TOWNS]
    town_weights = [1.4 if code[6] == "0" else 0.8 for code in codes]
    short = {code: name[:-2] if name.endswith("街道") else name[:-1] for name, code, *_ in TOWNS}
    full = {code: name for name, code, *_ in TOWNS}
    rural = [c for c in codes if c[6] != "0"]
    bureau_list = list(bureau_ids.values())
    rows = []
    for i in range(n_enterprises):
        sector = rng.choices(sectors, sector_weights)[0]
        if sector in ("non_coal_mining", "fireworks", "metallurgy"):  # kept out of the streets
            town = rng.choice(rural)
        else:
            town = rng.choices(codes, town_weights)[0]
        pattern, industry, kind = rng.choice(MIX[sector][1])
        name = pattern.format(z=rng.choice(ZIHAO) + str(i), t=short[town], T=full[town])
        dept = sector_bureau.get(sector, bureau_ids[FALLBACK_BUREAU])
        if rng.random() < 0.03:  # named for daily enforcement by another department
            dept = rng.choice(bureau_list)
        eid = uuid7(rng, now)
        region = f"{town}{rng.randint(200, 239):03d}"
        rows.append(
            (
                eid,
                name,
                make_credit_code(f"{kind}{COUNTY_CODE}{i:09d}"),
                region,
                f"安徽省宿州市埇桥区{full[town]}{rng.randint(1, 300)}号",
                sector,
                industry,
                dept,
                rng.choice(("large", "medium", "small", "small", "micro", "micro")),
                rng.choices(("red", "orange", "yellow", "blue"), (3, 12, 35, 50))[0],
                rng.choice(SURNAMES) + rng.choice(("伟", "芳", "强", "静", "军", "敏")),
                "operating",
                1,
                now,
                now,
            )
        )
        world.enterprises.append(Ent(eid, name, region, sector))
    await conn.copy_records_to_table(
        "enterprises",
        records=rows,
        columns=(
            "id",
            "name",
            "credit_code",
            "region_code",
            "address",
            "sector",
            "industry_code",
            "enforcement_department_id",
            "scale",
            "risk_color",
            "principal_name",
            "status",
            "version",
            "created_at",
            "updated_at",
        ),
    )
    return world


# ---- hazards and their history -------------------------------------------------------------------


@dataclass
class Load:
    hazards: int = 0
    events: int = 0
    per_year: Counter[int] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    major: int = 0
    overdue: int = 0
    supervised: int = 0


def generate(
    world: World, n: int, rng: random.Random, events_cap: int, chunk: int, stats: Load
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Hazards in order of discovery (numbers per year follow it), in chunks, with their events.

    Found over the last three years, more recently than long ago; closed mostly, the recent ones
    often still open, some overdue and escalated; ~5% major, most open major ones supervised.
    """
    now = datetime.now(UTC)
    today = local_today("Asia/Shanghai", now)
    days = 3 * 365
    start = datetime.combine(today - timedelta(days=days), datetime.min.time(), tzinfo=CST)
    # minutes since ``start`` (local), working hours, never today
    keys = sorted(
        (days - 1 - int((days - 1) * rng.random() ** 1.3)) * 1440 + 480 + rng.randrange(600)
        for _ in range(n)
    )
    ents = world.enterprises
    weight = [rng.lognormvariate(0, 1.0) * (2.5 if e.sector in HIGH_RISK else 1.0) for e in ents]
    cum: list[float] = []
    acc = 0.0
    for w in weight:
        acc += w
        cum.append(acc)
    admin = (world.admin_id, "王建国")
    town_officer = (world.town_officer_id, "陈静")
    gov = (admin, town_officer, (world.bureau_officer_id, "周海涛"))
    sources = ("self_inspection", "inspection", "assigned", "public_report")
    categories = list(TITLES)
    json_empty, list_empty = "{}", "[]"
    for lo in range(0, n, chunk):
        hazards: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        picks = rng.choices(ents, cum_weights=cum, k=min(chunk, n - lo))
        for key, ent in zip(keys[lo : lo + chunk], picks, strict=True):
            found_local = start + timedelta(minutes=key)
            found_day = found_local.date()
            found_at = found_local.astimezone(UTC)
            age = (today - found_day).days
            major = rng.random() < (0.075 if ent.sector in HIGH_RISK else 0.015)
            source = rng.choices(sources, (55, 35, 6, 4))[0]
            category = rng.choices(categories, (50, 20, 20, 10))[0]
            judgment = MAJOR.get(ent.sector, FIRE) if major else None
            title = judgment[2] if judgment else rng.choice(TITLES[category])
            deadline = found_day + timedelta(
                days=rng.randint(30, 120) if major else rng.randint(7, 45)
            )
            enterprise_actor = (None, f"{ent.name}安全管理员")
            finder = enterprise_actor if source == "self_inspection" else rng.choice(gov)
            hid = uuid7(rng, found_at)
            stats.per_year[found_day.year] += 1
            number = f"{found_day.year}-{stats.per_year[found_day.year]:06d}"
            h: dict[str, Any] = {"status": "registered", "escalation": "none"}
            evs: list[tuple[Any, ...]] = []

            def ev(
                action: str,
                frm: str | None,
                to: str,
                at: datetime,
                who: tuple[str | None, str],
                note: str | None = None,
                payload: str = json_empty,
                hid: str = hid,
                evs: list[tuple[Any, ...]] = evs,
            ) -> None:
                kind = "system" if who[1] == "系统" else "user"
                evs.append(
                    (
                        uuid7(rng, at),
                        hid,
                        action,
                        frm,
                        to,
                        kind,
                        who[0],
                        who[1],
                        note,
                        payload,
                        list_empty,
                        at,
                    )
                )

            ev("register", None, "registered", found_at, finder)
            updated = found_at
            roll = rng.random()
            p_closed = 0.985 if age > 150 else 0.7 if age > 40 else 0.3
            if roll < 0.015:
                h["status"] = "voided"
                updated = found_at + timedelta(hours=3)
                ev("void", "registered", "voided", updated, rng.choice(gov), note="重复登记")
            elif (
                not major and source == "self_inspection" and rng.random() < 0.3 and roll < p_closed
            ):
                updated = found_at + timedelta(hours=rng.randint(1, 6))
                h.update(status="closed", closed_at=updated)
                ev(
                    "fix_on_spot",
                    "registered",
                    "closed",
                    updated,
                    enterprise_actor,
                    note="立查立改",
                )
            elif (
                not (rng.random() < 0.12 and roll >= p_closed)
                and (
                    planned := found_at
                    + timedelta(days=rng.randint(1, 4), minutes=rng.randrange(600))
                )
                < now
            ):
                h.update(
                    status="rectifying",
                    plan_responsible_person="企业主要负责人",
                    plan_measures=f"针对“{title}”制定整改措施并落实",
                    plan_deadline=deadline,
                    plan_funds_fen=rng.randint(5, 500) * 10000,
                )
                if major:
                    h.update(
                        plan_contingency_plan="专项应急预案",
                        plan_interim_measures="设置警戒区域，停止相关作业",
                        plan_equipment_out_of_service=True,
                    )
                ev("plan", "registered", "rectifying", planned, enterprise_actor)
                updated = planned
                # closing times: median ~2 weeks, a long tail of slow ones
                span = max(2.0, min(rng.lognormvariate(2.3, 0.8), (deadline - found_day).days + 30))
                done = planned + timedelta(days=span)
                if not (roll >= p_closed and rng.random() < 0.6) and done.date() < today:
                    h["status"] = "awaiting_acceptance"
                    ev("complete", "rectifying", "awaiting_acceptance", done, enterprise_actor)
                    updated = done
                    accepted = done + timedelta(days=rng.randint(1, 7), minutes=rng.randrange(300))
                    if roll < p_closed and accepted.date() < today:
                        accepter = (
                            enterprise_actor
                            if not major and source == "self_inspection" and rng.random() < 0.7
                            else rng.choice(gov)
                        )
                        h.update(status="closed", closed_at=accepted)
                        ev(
                            "accept",
                            "awaiting_acceptance",
                            "closed",
                            accepted,
                            accepter,
                            note="验收合格，予以销号",
                        )
                        updated = accepted
            status = h["status"]
            is_open = status in OPEN
            if is_open and major and rng.random() < 0.7:
                by_town = ent.region_code.startswith(OFFICER_TOWN) and rng.random() < 0.4
                who = town_officer if by_town else admin
                listed = min(found_at + timedelta(days=2), now - timedelta(hours=1))
                h.update(
                    supervision_org_unit_id=world.town_ids[OFFICER_TOWN]
                    if by_town
                    else world.county_id,
                    supervision_supervisor_user_id=who[0],
                    supervision_listed_at=listed,
                    supervision_disclosed=rng.random() < 0.3,
                )
                ev(
                    "supervise",
                    status,
                    status,
                    listed,
                    who,
                    payload=f'{{"supervisor_user_id": "{who[0]}"}}',
                )
                stats.supervised += 1
            if is_open and deadline < today:
                stats.overdue += 1
                marked = deadline + timedelta(days=1)
                h["overdue_marked_on"] = marked
                at = datetime.combine(marked, datetime.min.time(), tzinfo=CST).astimezone(UTC)
                ev(
                    "mark_overdue",
                    status,
                    status,
                    at,
                    (None, "系统"),
                    note=f"已超过整改期限 {deadline}",
                )
                rungs = (
                    rng.choices((0, 1, 2, 3), (50, 30, 15, 5))[0]
                    if (today - deadline).days > 20
                    else 0
                )
                for step in range(1, rungs + 1):
                    step_at = at + timedelta(days=10 * step, hours=2)
                    if step_at >= now:
                        break
                    h["escalation"] = ESCALATION_LADDER[step]
                    ev(
                        "escalate",
                        status,
                        status,
                        step_at,
                        admin,
                        note="逾期未整改，依规问责",
                        payload=f'{{"level": "{h["escalation"]}"}}',
                    )
                    updated = max(updated, step_at)
            stats.status[status] += 1
            stats.major += major
            hazards.append(
                (
                    hid,
                    number,
                    COUNTY_CODE,
                    ent.id,
                    title,
                    f"{title}，需按要求整改。",
                    rng.choice(PLACES),
                    "major" if major else "general",
                    source,
                    category,
                    found_at,
                    finder[0],
                    finder[1],
                    deadline,
                    status,
                    judgment[0] if judgment else None,
                    judgment[1] if judgment else None,
                    judgment[2] if judgment else None,
                    h.get("plan_responsible_person"),
                    h.get("plan_measures"),
                    h.get("plan_funds_fen"),
                    h.get("plan_deadline"),
                    h.get("plan_contingency_plan"),
                    h.get("plan_interim_measures"),
                    h.get("plan_equipment_out_of_service"),
                    h.get("supervision_org_unit_id"),
                    h.get("supervision_supervisor_user_id"),
                    h.get("supervision_listed_at"),
                    h.get("supervision_disclosed"),
                    h["escalation"],
                    h.get("overdue_marked_on"),
                    h.get("closed_at"),
                    len(evs),
                    found_at,
                    updated,
                )
            )
            if len(evs) > events_cap:  # keep the registration and the latest steps
                evs[:] = (
                    evs[:1] + evs[len(evs) - events_cap + 1 :]
                    if events_cap > 1
                    else evs[:events_cap]
                )
            events.extend(evs)
        stats.hazards += len(hazards)
        stats.events += len(events)
        yield hazards, events


async def drop_plain_indexes(conn: asyncpg.Connection, tables: tuple[str, ...]) -> list[str]:
    """Indexes that back no constraint are dropped for the load and rebuilt from their definition."""
    rows = await conn.fetch(
        """
        SELECT indexname, indexdef FROM pg_indexes i
        WHERE schemaname = 'public' AND tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        list(tables),
    )
    for r in rows:
        await conn.execute(f'DROP INDEX "{r["indexname"]}"')
    return [r["indexdef"] for r in rows]


async def rebuild_rollup(url: str) -> int:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with async_sessionmaker(engine)() as session:
            rows = await rollup.rebuild(session)
            await session.commit()
            return rows
    finally:
        await engine.dispose()


async def load(args: argparse.Namespace, url: str) -> World:
    rng = random.Random(args.seed)
    conn = await asyncpg.connect(url)
    try:
        # The data are consistent by construction; skip the per-row foreign-key triggers.
        await conn.execute("SET session_replication_role = replica")
        t0 = time.perf_counter()
        world = await load_county(conn, rng, args.enterprises)
        defs = await drop_plain_indexes(conn, ("hazards", "hazard_events"))
        stats = Load()
        gen_s = copy_s = 0.0
        g0 = time.perf_counter()
        for hazards, events in generate(
            world, args.hazards, rng, args.events_per_hazard, 50_000, stats
        ):
            c0 = time.perf_counter()
            gen_s += c0 - g0
            await conn.copy_records_to_table("hazards", records=hazards, columns=HAZARD_COLUMNS)
            if events:
                await conn.copy_records_to_table(
                    "hazard_events", records=events, columns=EVENT_COLUMNS
                )
            g0 = time.perf_counter()
            copy_s += g0 - c0
            print(
                f"\r  loaded {stats.hazards:,} hazards, {stats.events:,} events",
                end="",
                flush=True,
            )
        print()
        await conn.copy_records_to_table(
            "hazard_counters",
            records=[(COUNTY_CODE, y, last) for y, last in sorted(stats.per_year.items())],
            columns=("county_code", "year", "last"),
        )
        i0 = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for d in defs:
            await conn.execute(d)
        index_s = time.perf_counter() - i0
        r0 = time.perf_counter()
        rollup_rows = await rebuild_rollup(url)  # COPY went past the services' rollup writes
        print(
            f"  statistics rollup rebuilt: {rollup_rows:,} rows in {time.perf_counter() - r0:.1f}s"
        )
        v0 = time.perf_counter()
        await conn.execute(
            "VACUUM (ANALYZE) enterprises, hazards, hazard_events, org_units, users, hazard_rollup"
        )
        vacuum_s = time.perf_counter() - v0
        total = time.perf_counter() - t0
        rows = stats.hazards + stats.events
        print(
            f"  generate {gen_s:.1f}s, COPY {copy_s:.1f}s ({rows / copy_s:,.0f} rows/s), "
            f"{len(defs)} indexes rebuilt {index_s:.1f}s, vacuum analyze {vacuum_s:.1f}s; total {total:.1f}s"
        )
        st = stats.status
        print(
            "  hazards: "
            + ", ".join(f"{k} {v:,}" for k, v in st.most_common())
            + f"; major {stats.major:,}, overdue {stats.overdue:,}, supervised {stats.supervised:,}"
        )
        return world
    finally:
        await conn.close()


async def existing_world(url: str) -> World | None:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('public.hazards') IS NOT NULL"):
            return None
        users = {
            r["username"]: r["id"]
            for r in await conn.fetch(
                "SELECT username, id FROM users WHERE username LIKE 'bench_%'"
            )
        }
        if len(users) < 3:
            return None
        units = await conn.fetch("SELECT id, kind, region_code FROM org_units")
        world = World(
            county_id=next(r["id"] for r in units if r["kind"] == "county"),
            town_ids={r["region_code"]: r["id"] for r in units if r["kind"] == "town"},
            admin_id=users["bench_admin"],
            town_officer_id=users["bench_town_officer"],
            bureau_officer_id=users["bench_bureau_officer"],
        )
        return world
    finally:
        await conn.close()


# ---- the server ----------------------------------------------------------------------------------


async def start_server(
    db_url: str, secret: str, workers: int, tmp: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": db_url,
        "ANJIAN_DATA_DIR": str(tmp / "data"),
        "ANJIAN_SECRET_KEY": secret,
        "ANJIAN_SCHEDULER_ENABLED": "false",
    }
    cmd = [str(ROOT / ".venv/bin/anjian"), "serve", f"--port={port}", f"--workers={workers}"]
    log = tmp / "server.log"
    proc = start(cmd, env, log)
    base = f"http://127.0.0.1:{port}"
    await wait_until_up(f"{base}/readyz", proc, log)
    return proc, base


# ---- scenarios -----------------------------------------------------------------------------------

LIST_FILTERS = set(HazardFilters.__dataclass_fields__)


@dataclass
class Scenario:
    name: str
    who: str  # admin | town | bureau
    kind: str  # list | detail | stats
    query: dict[str, Any] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)  # detail: picked at random per request
    sql: list[list[tuple[str, tuple[Any, ...]]]] = field(default_factory=list)
    http: Result | None = None
    ref: Result | None = None

    def path(self, rng: random.Random) -> str:
        if self.kind == "detail":
            return f"/api/v1/hazards/{rng.choice(self.ids)}"
        if self.kind == "stats":
            return "/api/v1/statistics/hazards"
        return "/api/v1/hazards"

    def params(self) -> dict[str, str]:
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.query.items()}


async def build_scenarios(url: str, sample: int) -> list[Scenario]:
    conn = await asyncpg.connect(url)
    try:
        ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM hazards TABLESAMPLE SYSTEM (1) WHERE status <> 'voided' LIMIT $1",
                sample,
            )
        ]
        if len(ids) < sample // 10:  # a small table: TABLESAMPLE may find too few
            ids = [
                r["id"]
                for r in await conn.fetch(
                    "SELECT id FROM hazards WHERE status <> 'voided' ORDER BY random() LIMIT $1",
                    sample,
                )
            ]
        visible = await conn.fetchval("SELECT count(*) FROM hazards WHERE status <> 'voided'")
        deep = await conn.fetchrow(
            "SELECT found_at, id FROM hazards WHERE status <> 'voided' "
            "ORDER BY found_at DESC, id DESC OFFSET $1 LIMIT 1",
            int(visible * 0.6),
        )
    finally:
        await conn.close()
    cursor = encode_cursor(parse_sort(None, SORTS, "-found_at"), deep["found_at"], deep["id"])
    out = [
        Scenario("list first page", "admin", "list", {"limit": 50}),
        Scenario(
            "list deep page (cursor at 60%)", "admin", "list", {"limit": 50, "cursor": cursor}
        ),
        Scenario("list first page, town scope", "town", "list", {"limit": 50}),
        Scenario("list first page, bureau scope", "bureau", "list", {"limit": 50}),
        Scenario(
            "list status=rectifying&overdue=true",
            "admin",
            "list",
            {"limit": 50, "status": "rectifying", "overdue": True},
        ),
        Scenario(
            f"list region_code={FILTER_TOWN}&level=major",
            "admin",
            "list",
            {"limit": 50, "region_code": FILTER_TOWN, "level": "major"},
        ),
        Scenario("list include_total=true", "admin", "list", {"limit": 50, "include_total": True}),
        Scenario(
            "list include_total=true, town scope",
            "town",
            "list",
            {"limit": 50, "include_total": True},
        ),
        Scenario("detail by id", "admin", "detail", ids=ids),
    ]
    for who in ("admin", "town"):
        for g in ("town", "sector", "month", "town,level"):
            out.append(Scenario(f"statistics group_by={g}", who, "stats", {"group_by": g}))
    return out


async def principal_for(session: Any, user_id: str) -> Principal:
    """The caller exactly as the service resolves it (app/auth/deps.py)."""
    cv = (
        await session.execute(select(User.credential_version).where(User.id == user_id))
    ).scalar_one()
    principal = await resolve_principal(session, {"knd": "user", "sub": user_id, "cv": cv})
    assert principal is not None, user_id
    return principal


async def capture_sql(
    sa_url: str, settings: Settings, world: World, scenarios: list[Scenario], detail_variants: int
) -> None:
    """Runs each scenario's service call once and records the statements it sent, verbatim."""
    engine = make_engine(sa_url)
    recorded: list[tuple[str, tuple[Any, ...]]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        recorded.append((statement, tuple(parameters or ())))

    users = {
        "admin": world.admin_id,
        "town": world.town_officer_id,
        "bureau": world.bureau_officer_id,
    }
    try:
        async with make_sessionmaker(engine)() as session:
            principals = {k: await principal_for(session, v) for k, v in users.items()}
            for s in scenarios:
                p = principals[s.who]
                q = s.query
                filters = HazardFilters(**{k: v for k, v in q.items() if k in LIST_FILTERS})
                variants = s.ids[:detail_variants] if s.kind == "detail" else [None]
                for hid in variants:
                    recorded.clear()
                    if s.kind == "list":
                        params = ListParams(
                            limit=q.get("limit", 50),
                            cursor=q.get("cursor"),
                            include_total=q.get("include_total", False),
                            sort=q.get("sort"),
                        )
                        await hazard_service.list_hazards(session, p, settings, params, filters)
                    elif s.kind == "detail":
                        h = await hazard_service.get_visible(session, p, hid or "")
                        await hazard_service.detail(session, p, settings, h)
                    else:
                        await hazard_statistics(
                            session, p, settings, q["group_by"].split(","), filters
                        )
                    s.sql.append(list(recorded))
                    session.expunge_all()
            await session.rollback()
    finally:
        await engine.dispose()


# ---- load generation (drive/Result shared with bench/enterprises_list.py) -----------------------


async def measure_http(
    client: httpx.AsyncClient, tokens: dict[str, str], s: Scenario, clients: int, seconds: float
) -> None:
    headers = {"Authorization": f"Bearer {tokens[s.who]}"}
    params = s.params()
    probe = await client.get(s.path(random.Random(0)), params=params, headers=headers)
    if probe.status_code != 200:
        raise SystemExit(f"{s.name}: HTTP {probe.status_code} {probe.text[:500]}")

    async def call(rnd: random.Random) -> bool:
        r = await client.get(s.path(rnd), params=params, headers=headers)
        return r.status_code == 200

    s.http = await drive(s.name, call, clients, seconds)


async def measure_sql(pool: asyncpg.Pool, s: Scenario, clients: int, seconds: float) -> None:
    """The statements of one request, one after another on one connection, as the session does."""

    async def call(rnd: random.Random) -> bool:
        async with pool.acquire() as conn:
            for statement, params in rnd.choice(s.sql):
                await conn.fetch(statement, *params)
        return True

    s.ref = await drive(s.name, call, clients, seconds)


# ---- EXPLAIN -------------------------------------------------------------------------------------


def plan_lines(node: dict[str, Any], depth: int = 0, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    what = node["Node Type"]
    if node.get("Index Name"):
        what += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        what += f" on {node['Relation Name']}"
    ms = node.get("Actual Total Time", 0.0) * max(1, node.get("Actual Loops", 1))
    bits = [f"{ms:.1f} ms", f"rows {node.get('Actual Rows', 0):,}×{node.get('Actual Loops', 1)}"]
    if node.get("Rows Removed by Filter"):
        bits.append(f"removed by filter {node['Rows Removed by Filter']:,}")
    if node.get("Sort Method"):
        bits.append(
            f"sort {node['Sort Method']} {node.get('Sort Space Used', '?')} kB {node.get('Sort Space Type', '')}"
        )
    if node.get("Workers Launched") is not None:
        bits.append(f"workers {node['Workers Launched']}")
    if node.get("Heap Fetches") is not None:
        bits.append(f"heap fetches {node['Heap Fetches']:,}")
    if node.get("Temp Written Blocks"):
        bits.append(f"temp written {node['Temp Written Blocks'] * 8 // 1024} MB")
    out.append(f"    {'  ' * depth}-> {what}  ({', '.join(bits)})")
    for child in node.get("Plans", []):
        plan_lines(child, depth + 1, out)
    return out


def sql_literal(value: Any) -> str:
    """For EXECUTE of a prepared statement; every placeholder in the app's SQL carries a cast."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


async def explain(
    url: str, label: str, statement: str, params: tuple[Any, ...], generic: bool
) -> None:
    """The plan the app runs: the generic one when PostgreSQL switched to it (PREPARE/EXECUTE
    with plan_cache_mode=force_generic_plan shows it; PostgreSQL 15 has no EXPLAIN GENERIC_PLAN)."""
    conn = await asyncpg.connect(url)
    try:
        if generic:
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE bench_q AS {statement}")
            args = ", ".join(sql_literal(v) for v in params)
            raw = await conn.fetchval(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_q({args})"
            )
        else:
            raw = await conn.fetchval(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", *params
            )
    finally:
        await conn.close()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    top = plan["Plan"]
    hit = top.get("Shared Hit Blocks", 0)
    read = top.get("Shared Read Blocks", 0)
    print(f"\n  {label}, {'generic' if generic else 'custom'} plan")
    print("    " + " ".join(statement.split())[:600] + (" …" if len(statement) > 600 else ""))
    print(
        f"    execution {plan['Execution Time']:.1f} ms, planning {plan['Planning Time']:.1f} ms, "
        f"buffers hit {hit:,} read {read:,} ({(hit + read) * 8 // 1024} MB)"
    )
    jit = plan.get("JIT")
    if jit:
        print(
            f"    JIT: {jit.get('Functions', 0)} functions, "
            f"{jit.get('Timing', {}).get('Total', 0.0):.1f} ms of the execution"
        )
    lines = plan_lines(top)
    print("\n".join(lines[:30]) + ("\n    …" if len(lines) > 30 else ""))


async def time_statements(url: str, s: Scenario) -> list[tuple[float, bool, str, tuple[Any, ...]]]:
    """Each statement of the scenario as the app runs it: the 7th execution on one connection,
    and whether PostgreSQL used its generic plan by then. Slowest first."""
    conn = await asyncpg.connect(url)
    try:
        out = []
        for statement, params in s.sql[0]:
            for _ in range(6):
                await conn.fetch(statement, *params)
            t0 = time.perf_counter()
            await conn.fetch(statement, *params)
            ms = (time.perf_counter() - t0) * 1000
            generic = await conn.fetchval(
                "SELECT coalesce(max(generic_plans), 0) > 0 FROM pg_prepared_statements "
                "WHERE statement = $1",
                statement,
            )
            out.append((ms, bool(generic), statement, params))
        return sorted(out, key=lambda r: -r[0])
    finally:
        await conn.close()


# ---- main ----------------------------------------------------------------------------------------


# ---- proposals -----------------------------------------------------------------------------------

# Indexes worth having if the lists they serve are slow: (index, the scenario it is for)
INDEX_PROPOSALS = (
    (
        "CREATE INDEX ix_bench_level_found_at_id ON hazards (level, found_at, id)",
        (f"list region_code={FILTER_TOWN}&level=major", "admin"),
    ),
    (
        "CREATE INDEX ix_bench_status_found_at_id ON hazards (status, found_at, id)",
        ("list status=rectifying&overdue=true", "admin"),
    ),
)


async def serial_ms(
    conn: asyncpg.Connection, variants: list[list[tuple[str, tuple[Any, ...]]]], runs: int = 15
) -> float:
    """p50 of one request's statements on one connection, after 6 runs: from the 6th execution
    of a prepared statement PostgreSQL may switch to its generic plan, as it does for the app
    (SQLAlchemy's asyncpg dialect prepares and caches every statement per connection)."""
    times = []
    for i in range(6 + runs):
        t0 = time.perf_counter()
        for statement, params in variants[i % len(variants)]:
            await conn.fetch(statement, *params)
        if i >= 6:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def proposals(url: str, scenarios: list[Scenario]) -> None:
    print(
        "\n== proposals, measured on this database: serial p50 of a scenario's SQL on one "
        "connection\n   (15 runs after 6 warm-ups), with plan_cache_mode auto (PostgreSQL's "
        "default, what the app gets) and force_custom_plan"
    )
    print(f"  {'scenario':<42} {'as':<7} {'auto':>9} {'custom':>9}")
    auto = await asyncpg.connect(url, server_settings={"plan_cache_mode": "auto"})
    custom = await asyncpg.connect(url, server_settings={"plan_cache_mode": "force_custom_plan"})
    try:
        for s in scenarios:
            if s.kind == "stats":
                continue
            a = await serial_ms(auto, s.sql)
            c = await serial_ms(custom, s.sql)
            print(f"  {s.name:<42} {s.who:<7} {a:>6.1f} ms {c:>6.1f} ms")
        by_key = {(s.name, s.who): s for s in scenarios}
        print("\n   indexes, created for the measurement and dropped again:")
        print(f"  {'index':<74} {'auto':>9} {'custom':>9}")
        for ddl, key in INDEX_PROPOSALS:
            s = by_key.get(key)
            if s is None:
                continue
            name = ddl.split()[2]
            await auto.execute(f"{ddl}; ANALYZE hazards")
            try:
                a = await serial_ms(auto, s.sql)
                c = await serial_ms(custom, s.sql)
            finally:
                await auto.execute(f"DROP INDEX {name}; ANALYZE hazards")
            what = ddl.split(" ON ")[1] + f", for '{s.name}'"
            print(f"  {what:<74} {a:>6.1f} ms {c:>6.1f} ms")
    finally:
        await auto.close()
        await custom.close()


def figures(r: Result) -> dict[str, float]:
    return {
        "requests": r.requests,
        "errors": r.errors,
        "rps": round(r.rps, 1),
        "p50_ms": round(r.pct(50), 1),
        "p95_ms": round(r.pct(95), 1),
        "p99_ms": round(r.pct(99), 1),
    }


def table(scenarios: list[Scenario]) -> None:
    head = (
        f"  {'scenario':<42} {'as':<7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'n':>6} {'err':>4}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for s in scenarios:
        h = s.http
        assert h is not None
        print(
            f"  {s.name:<42} {s.who:<7} {h.rps:>8.1f} {h.pct(50):>8.1f} {h.pct(95):>8.1f} "
            f"{h.pct(99):>8.1f} {h.requests:>6} {h.errors:>4}"
        )


def ref_table(scenarios: list[Scenario]) -> None:
    head = (
        f"  {'scenario':<42} {'as':<7} {'stmts':>5} {'SQL req/s':>9} {'SQL p50':>8} "
        f"{'SQL p99':>8} {'HTTP req/s':>10} {'HTTP p50':>8} {'kept':>5}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for s in scenarios:
        r, h = s.ref, s.http
        if r is None or h is None:
            continue
        print(
            f"  {s.name:<42} {s.who:<7} {len(s.sql[0]):>5} {r.rps:>9.1f} {r.pct(50):>8.1f} "
            f"{r.pct(99):>8.1f} {h.rps:>10.1f} {h.pct(50):>8.1f} {h.rps / r.rps:>5.2f}"
        )


async def main(args: argparse.Namespace) -> None:
    if args.database in ("test", "postgres"):
        raise SystemExit("refusing to use that database")
    url = dsn(args.pg, args.database)
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    world = await existing_world(url) if args.reuse else None
    if world is None:
        print(f"== database {args.database}: recreate, migrate, load")
        admin = await asyncpg.connect(dsn(args.pg, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{args.database}"')
        finally:
            await admin.close()
        await asyncio.to_thread(upgrade, sa_url)
        world = await load(args, url)
    else:
        print(f"== database {args.database}: reused as it is")
    conn = await asyncpg.connect(url)
    try:
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM enterprises) e, (SELECT count(*) FROM hazards) h, "
            "(SELECT count(*) FROM hazard_events) ev, pg_size_pretty(pg_database_size(current_database())) size"
        )
        server_version = await conn.fetchval("SHOW server_version")
        # for every later connection, the app's included (a setting of the bench database only)
        await conn.execute(
            f'ALTER DATABASE "{args.database}" SET plan_cache_mode = {args.plan_cache_mode}'
        )
    finally:
        await conn.close()
    print(
        f"  {counts['e']:,} enterprises, {counts['h']:,} hazards, {counts['ev']:,} events; "
        f"database {counts['size']}; PostgreSQL {server_version}; {os.cpu_count()} CPUs; "
        f"plan_cache_mode {args.plan_cache_mode}"
    )

    secret = secrets.token_urlsafe(32)
    settings = Settings(secret_key=secret, database_url=sa_url)
    tokens = {
        who: issue_token(settings, uid, "user")[0]
        for who, uid in (
            ("admin", world.admin_id),
            ("town", world.town_officer_id),
            ("bureau", world.bureau_officer_id),
        )
    }
    scenarios = await build_scenarios(url, 2000)
    if args.only:
        scenarios = [s for s in scenarios if any(o in f"{s.name} {s.who}" for o in args.only)]
    await capture_sql(sa_url, settings, world, scenarios, detail_variants=200)

    refs = {
        id(s)
        for s in scenarios
        if args.sql_ref == "all"
        or (s.who == "admin" and s.name in ("list first page", "detail by id"))
        or s.name == "statistics group_by=town"
    }
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="anjian-bench-hazards-") as tmp:
        proc, base = await start_server(sa_url, secret, args.workers, Path(tmp))
        print(
            f"\n== anjian serve --workers {args.workers}; {args.clients} concurrent clients "
            f"(httpx / asyncpg), {args.duration:g}s per row after a 1s warm-up; the SQL "
            f"reference right after its HTTP row"
        )
        limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
        pool = await asyncpg.create_pool(url, min_size=args.clients, max_size=args.clients)
        try:
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
                for s in scenarios:
                    await measure_http(client, tokens, s, args.clients, args.duration)
                    if id(s) in refs:
                        await measure_sql(pool, s, args.clients, args.duration)
                    assert s.http is not None
                    ref = f"   SQL alone {s.ref.rps:7.1f} req/s" if s.ref else ""
                    print(
                        f"  {s.name:<42} {s.who:<7} {s.http.rps:7.1f} req/s  "
                        f"p50 {s.http.pct(50):7.1f} ms{ref}",
                        flush=True,
                    )
        finally:
            await pool.close()
            stop(proc)
    load_after = os.getloadavg()
    print(
        f"\n== figures (load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
        f"on {os.cpu_count()} CPUs: other work on the machine shows up here)"
    )
    table(scenarios)
    print(
        "\n== HTTP against the same SQL on bare asyncpg, same clients and duration "
        "(kept = HTTP req/s / SQL req/s)"
    )
    ref_table([s for s in scenarios if s.ref])

    print("\n== EXPLAIN (ANALYZE, BUFFERS) of the slowest statements")
    slow = sorted(scenarios, key=lambda s: -(s.http.pct(50) if s.http else 0.0))
    picked = [slow[0]]
    lists = [s for s in slow if s.kind == "list"]
    if lists and lists[0] is not slow[0]:
        picked.append(lists[0])
    for s in picked:
        timed = await time_statements(url, s)
        print(f"\n  {s.name} ({s.who}): {len(timed)} statements, 7th run on one connection:")
        for ms, generic, statement, _ in timed:
            plan = "generic" if generic else "custom "
            print(f"    {ms:8.1f} ms {plan}  {' '.join(statement.split())[:100]}")
        for rank, (ms, generic, statement, params) in enumerate(timed[: args.explain]):
            label = f"#{rank + 1} of '{s.name}' ({s.who}), {ms:.1f} ms"
            await explain(url, label, statement, params, generic)
            if generic:
                await explain(url, label, statement, params, False)
    if not args.no_proposals:
        await proposals(url, scenarios)

    if args.json:
        rows = [
            {
                "scenario": s.name,
                "as": s.who,
                "http": figures(s.http) if s.http else None,
                "sql": figures(s.ref) if s.ref else None,
            }
            for s in scenarios
        ]
        await asyncio.to_thread(
            Path(args.json).write_text, json.dumps(rows, indent=2, ensure_ascii=False)
        )
    if not args.keep:
        admin = await asyncpg.connect(dsn(args.pg, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        finally:
            await admin.close()


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--pg", default="postgresql://postgres@127.0.0.1:5432", help="server, no database"
    )
    ap.add_argument("--database", default="anjian_bench_hazards")
    ap.add_argument("--hazards", type=int, default=1_000_000)
    ap.add_argument("--enterprises", type=int, default=5_000)
    ap.add_argument(
        "--events-per-hazard",
        type=int,
        default=3,
        help="at most this many events per hazard (0: none)",
    )
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per scenario")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument(
        "--sql-ref", choices=("some", "all"), default="some", help="reference for which scenarios"
    )
    ap.add_argument(
        "--explain",
        type=int,
        default=1,
        help="EXPLAIN the N slowest statements of each picked scenario",
    )
    ap.add_argument(
        "--only", nargs="*", help="run only scenarios whose name or role contains one of these"
    )
    ap.add_argument(
        "--plan-cache-mode",
        choices=("auto", "force_custom_plan", "force_generic_plan"),
        default="auto",
        help="set on the bench database for all connections (PostgreSQL's default: auto)",
    )
    ap.add_argument(
        "--no-proposals", action="store_true", help="skip measuring the proposed changes"
    )
    ap.add_argument("--seed", type=int, default=341302)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", action="store_true", help="measure the kept database, do not reload")
    ap.add_argument("--json", help="also write the figures to this file")
    return ap.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
