"""Upgrading a database that holds data: revision 0004 backfills what it adds.

The database is migrated to 0003, filled by SQL with rows as the code of that revision wrote
them (the demo loader writes through today's models, which 0003 cannot hold), then upgraded to
head. SQLite in a fresh file; on PostgreSQL (ANJIAN_TEST_DATABASE_URL) a database of its own.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.migrations import alembic_config
from tests.servers import own_database


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own; never the one the other tests truncate."""
    with own_database("anjian_migrations", tmp_path / "upgrade.db") as url:
        yield url


async def _execute(url: str, statements: list[tuple[str, dict[str, Any]]]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sql, params in statements:
                await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


async def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def _rows_at_0003(sqlite: bool) -> list[tuple[str, dict[str, Any]]]:
    """A county, a town, a bureau, an enterprise with a manager and a staff member, a town officer,
    a machine client, and three hazards with the history 0003's code would have written."""
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    ts = at.replace(tzinfo=None) if sqlite else at  # SQLite keeps naive UTC text
    stamps = {"created_at": ts, "updated_at": ts}
    unit = (
        "INSERT INTO org_units (id, kind, name, region_code, county_code, parent_id, sectors,"
        " version, created_at, updated_at) VALUES (:id, :kind, :name, :region_code, '341302',"
        " :parent_id, :sectors, 1, :created_at, :updated_at)"
    )
    user = (
        "INSERT INTO users (id, username, password_hash, display_name, role, org_unit_id,"
        " enterprise_id, is_active, version, created_at, updated_at) VALUES (:id, :username,"
        " 'x', :username, :role, :org_unit_id, :enterprise_id, :active, 3, :created_at,"
        " :updated_at)"
    )
    rows: list[tuple[str, dict[str, Any]]] = [
        (
            unit,
            {
                "id": "u-county",
                "kind": "county",
                "name": "埇桥区",
                "region_code": "341302",
                "parent_id": None,
                "sectors": "[]",
                **stamps,
            },
        ),
        (
            unit,
            {
                "id": "u-town",
                "kind": "town",
                "name": "埇桥街道",
                "region_code": "341302001",
                "parent_id": "u-county",
                "sectors": "[]",
                **stamps,
            },
        ),
        (
            unit,
            {
                "id": "u-bureau",
                "kind": "bureau",
                "name": "区应急管理局",
                "region_code": None,
                "parent_id": "u-county",
                "sectors": json.dumps(["industry_trade"]),
                **stamps,
            },
        ),
        (
            "INSERT INTO enterprises (id, name, credit_code, region_code, sector,"
            " enforcement_department_id, status, version, created_at, updated_at) VALUES"
            " ('e-1', '埇桥机械制造有限公司', '91341302MA0000001X', '341302001001',"
            " 'industry_trade', 'u-bureau', 'operating', 1, :created_at, :updated_at)",
            stamps,
        ),
        (
            user,
            {
                "id": "p-manager",
                "username": "ent_manager",
                "role": "enterprise_manager",
                "org_unit_id": None,
                "enterprise_id": "e-1",
                "active": True,
                **stamps,
            },
        ),
        (
            user,
            {
                "id": "p-staff",
                "username": "ent_staff",
                "role": "enterprise_staff",
                "org_unit_id": None,
                "enterprise_id": "e-1",
                "active": False,
                **stamps,
            },
        ),
        (
            user,
            {
                "id": "p-officer",
                "username": "town_officer",
                "role": "officer",
                "org_unit_id": "u-town",
                "enterprise_id": None,
                "active": True,
                **stamps,
            },
        ),
        (
            "INSERT INTO api_clients (id, client_id, secret_hash, name, org_unit_id, permissions,"
            " is_active, version, created_at, updated_at) VALUES ('c-1', 'province', 'x',"
            " '省级数据交换', 'u-county', '[\"hazards:read\"]', :active, 2, :created_at,"
            " :updated_at)",
            {"active": True, **stamps},
        ),
    ]
    hazard = (
        "INSERT INTO hazards (id, number, county_code, enterprise_id, title, level, source,"
        " category, found_at, deadline, status, escalation, version, created_at, updated_at)"
        " VALUES (:id, :number, '341302', 'e-1', '车间防护栏破损', 'general', :source,"
        " 'unsafe_condition', :created_at, :deadline, 'rectifying', 'none', 3, :created_at,"
        " :updated_at)"
    )
    event = (
        "INSERT INTO hazard_events (id, hazard_id, action, from_status, to_status, actor_kind,"
        " actor_id, actor_name, note, payload, attachment_ids, created_at) VALUES (:id,"
        " :hazard_id, :action, :from_status, :to_status, 'user', :actor_id, :actor_id, :note,"
        " '{}', '[]', :created_at)"
    )
    deadline = date(2026, 4, 1)
    histories = {
        # extended once by the enterprise's manager, then twice by the town
        "h-1": ["p-manager", "p-officer", "p-officer"],
        # extended by government only
        "h-2": ["p-officer"],
        # extended twice by enterprise users (before the limit), one of them since deactivated
        "h-3": ["p-staff", "p-manager"],
        # never extended
        "h-4": [],
    }
    for n, (hid, extenders) in enumerate(histories.items(), start=1):
        source = "inspection" if hid == "h-2" else "self_inspection"
        rows.append(
            (
                hazard,
                {
                    "id": hid,
                    "number": f"2026-{n:06d}",
                    "source": source,
                    "deadline": deadline + timedelta(days=30 * len(extenders)),
                    **stamps,
                },
            )
        )
        history = [
            ("register", "p-officer", None, "registered"),
            ("plan", "p-manager", "registered", "rectifying"),
        ]
        history += [("extend", who, "rectifying", "rectifying") for who in extenders]
        history.append(("reject", "p-manager", "rectifying", "rectifying"))  # not an extension
        for i, (action, who, before, after) in enumerate(history):
            rows.append(
                (
                    event,
                    {
                        "id": f"{hid}-ev{i}",
                        "hazard_id": hid,
                        "action": action,
                        "from_status": before,
                        "to_status": after,
                        "actor_id": who,
                        "note": "延期" if action == "extend" else None,
                        "created_at": ts + timedelta(hours=i),
                    },
                )
            )
    return rows


def test_upgrade_to_0004_counts_prior_enterprise_extensions_and_starts_credentials_at_1(
    fresh_database: str,
) -> None:
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "0003")
    asyncio.run(_execute(url, _rows_at_0003(url.startswith("sqlite"))))

    command.upgrade(cfg, "head")

    extensions = asyncio.run(_query(url, "SELECT id, enterprise_extensions FROM hazards"))
    assert dict(extensions) == {"h-1": 1, "h-2": 0, "h-3": 2, "h-4": 0}
    users = asyncio.run(_query(url, "SELECT id, credential_version, version FROM users"))
    assert sorted(users) == [("p-manager", 1, 3), ("p-officer", 1, 3), ("p-staff", 1, 3)]
    clients = asyncio.run(_query(url, "SELECT id, credential_version, version FROM api_clients"))
    assert clients == [("c-1", 1, 2)]
    # the history itself is untouched
    events = asyncio.run(_query(url, "SELECT count(*) FROM hazard_events WHERE action = 'extend'"))
    assert events == [(6,)]


# The demo county at head, loaded once per test session and copied into each test's own
# database (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL): the loader is
# the same, and fifteen upgrade tests no longer pay for it fifteen times.
_DEMO_SNAPSHOT: dict[str, str] = {}


async def _load_demo(url: str) -> None:
    """The demo county into ``url`` (a database at head with nothing in it)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    snapshot = _DEMO_SNAPSHOT.get("sqlite" if target.drivername.startswith("sqlite") else "pg")
    if snapshot is None:
        await _really_load_demo(url)
        await _snapshot(url)
    elif target.drivername.startswith("sqlite"):
        shutil.copyfile(snapshot, str(target.database))
    else:
        await _admin(url, f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await _admin(url, f'CREATE DATABASE "{target.database}" TEMPLATE "{snapshot}"')


def _demo_back_at(url: str, revision: str, counted: str) -> tuple[Any, list[tuple[Any, ...]]]:
    """The demo county loaded at head, its counts read, then downgraded to ``revision``: the
    config (to upgrade again) and the counts the upgrade must keep."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, revision)
    return cfg, before


_DEMO_GRANTS = "SELECT permissions FROM api_clients WHERE client_id = 'demo_province'"


def _demo_grants(url: str) -> list[str]:
    import json

    (granted,) = asyncio.run(_query(url, _DEMO_GRANTS))[0]
    return list(granted if isinstance(granted, list) else json.loads(granted))


def _revoke_from_demo_client(url: str, permission: str) -> list[str]:
    """Takes ``permission`` from the demo province client (as before the revision that grants
    it); the permissions it keeps."""
    import json

    granted = _demo_grants(url)
    assert permission in granted  # a demo county loaded today has it
    without = [g for g in granted if g != permission]
    cast = "CAST(:p AS JSON)" if url.startswith("postgresql") else ":p"
    sql = f"UPDATE api_clients SET permissions = {cast} WHERE client_id = 'demo_province'"
    asyncio.run(_execute(url, [(sql, {"p": json.dumps(without)})]))
    return without


async def _really_load_demo(url: str) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.services.demo import load_demo

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            await load_demo(session)
            await session.commit()
    finally:
        await engine.dispose()


async def _snapshot(url: str) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.drivername.startswith("sqlite"):
        fd, copy = tempfile.mkstemp(prefix="anjian-demo-", suffix=".db")
        os.close(fd)
        shutil.copyfile(str(target.database), copy)
        atexit.register(os.unlink, copy)
        _DEMO_SNAPSHOT["sqlite"] = copy
        return
    name = f"anjian_demo_snapshot_{os.getpid()}"
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"')
    atexit.register(
        lambda: asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    )
    _DEMO_SNAPSHOT["pg"] = name


async def _admin(url: str, sql: str) -> None:
    """A statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_upgrade_to_0005_names_the_demo_county_in_english_and_keeps_every_row(
    fresh_database: str,
) -> None:
    """The demo county as 0004 held it (loaded at head, taken back to 0004, which drops
    `name_en` and the refresh tokens), then upgraded again: every demo unit gets its English
    name; a unit the county added itself stays unnamed (shown in Chinese)."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counts_sql = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM users)"
    )
    before = asyncio.run(_query(url, counts_sql))
    command.downgrade(cfg, "0004")
    county = asyncio.run(_query(url, "SELECT id, county_code FROM org_units WHERE kind = 'county'"))
    asyncio.run(
        _execute(
            url,
            [
                (
                    "INSERT INTO org_units (id, kind, name, parent_id, region_code, county_code, "
                    "sectors, version, created_at, updated_at) VALUES ('u-own', 'bureau', "
                    "'区城市管理局', :parent, NULL, :county, '[]', 1, :ts, :ts)",
                    {"parent": county[0][0], "county": county[0][1], "ts": datetime.now(UTC)},
                )
            ],
        )
    )

    command.upgrade(cfg, "head")

    names = dict(asyncio.run(_query(url, "SELECT name, name_en FROM org_units")))
    assert names["埇桥区"] == "Yongqiao District"
    assert names["符离镇"] == "Fuli Town"
    assert names["区应急管理局"] == "District Emergency Management Bureau"
    assert names["区城市管理局"] is None
    assert sum(1 for v in names.values() if v) == 23
    after = asyncio.run(_query(url, counts_sql))
    assert after[0][0] == before[0][0] + 1 and after[0][1:] == before[0][1:]
    assert asyncio.run(_query(url, "SELECT count(*) FROM refresh_tokens")) == [(0,)]


def test_upgrade_to_0007_backfills_the_hazard_rollup_as_the_write_path_keeps_it(
    fresh_database: str,
) -> None:
    """The demo county loaded at head (the rollup kept by the write path), taken back to 0006
    (the rollup dropped) and upgraded again: the backfill equals what the writes had kept."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    rollup_sql = (
        "SELECT * FROM hazard_rollup WHERE n <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    )
    kept = asyncio.run(_query(url, rollup_sql))
    hazards = asyncio.run(_query(url, "SELECT count(*) FROM hazards"))[0][0]
    assert kept and sum(row[-1] for row in kept) == hazards
    command.downgrade(cfg, "0006")
    command.upgrade(cfg, "head")
    assert asyncio.run(_query(url, rollup_sql)) == kept


def test_upgrade_to_0009_keeps_the_runs_of_job_runs_as_finished_jobs(fresh_database: str) -> None:
    """The demo county at head, taken back to 0008 (job_runs again) with two runs of the former
    scheduler, one finished and one not; upgraded: both are jobs an admin sees, job_runs is
    gone, and the demo rows are untouched. Downgrading moves them back."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM enterprises)"
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0008")
    started = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    sqlite = url.startswith("sqlite")
    at = (lambda t: t.replace(tzinfo=None).isoformat(" ")) if sqlite else (lambda t: t)
    insert = (
        "INSERT INTO job_runs (job, slot, started_at, finished_at, result) "
        "VALUES (:job, :slot, :started, :finished, :result)"
    )
    asyncio.run(
        _execute(
            url,
            [
                (
                    insert,
                    {
                        "job": "overdue",
                        "slot": "every300-5883840",
                        "started": at(started),
                        "finished": at(started + timedelta(seconds=2)),
                        "result": json.dumps({"marked": 3, "reminders": 6}),
                    },
                ),
                (
                    insert,
                    {
                        "job": "housekeeping",
                        "slot": "every300-5883841",
                        "started": at(started + timedelta(minutes=5)),
                        "finished": None,
                        "result": "{}",
                    },
                ),
            ],
        )
    )
    command.upgrade(cfg, "head")
    jobs = asyncio.run(
        _query(
            url,
            "SELECT kind, status, attempts, dedupe_key, last_error IS NULL, finished_at IS NULL "
            "FROM jobs WHERE dedupe_key LIKE 'legacy:%' ORDER BY kind",
        )
    )
    assert jobs == [
        ("housekeeping", "dead", 1, "legacy:housekeeping:every300-5883841", False, True),
        ("overdue", "succeeded", 1, "legacy:overdue:every300-5883840", True, False),
    ]
    result = asyncio.run(_query(url, "SELECT result FROM jobs WHERE kind = 'overdue'"))[0][0]
    assert (json.loads(result) if isinstance(result, str) else result) == {
        "marked": 3,
        "reminders": 6,
    }
    assert asyncio.run(_query(url, counted)) == before
    tables = (
        "SELECT name FROM sqlite_master WHERE name = 'job_runs'"
        if sqlite
        else "SELECT tablename FROM pg_tables WHERE tablename = 'job_runs'"
    )
    assert asyncio.run(_query(url, tables)) == []
    command.downgrade(cfg, "0008")
    assert len(asyncio.run(_query(url, "SELECT job, slot FROM job_runs"))) == 2
    assert asyncio.run(
        _query(url, "SELECT count(*) FROM jobs WHERE dedupe_key LIKE 'legacy:%'")
    ) == [(0,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0010_starts_the_previous_window_of_every_throttle_counter_at_0(
    fresh_database: str,
) -> None:
    """The demo county at head, taken back to 0009 (one window per throttle counter) with two
    counters as that code wrote them; upgraded: each keeps its failures and has none for the
    previous window (they were never kept), and the demo rows are untouched. Downgrading drops
    the column and keeps the counters."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM users)"
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0009")
    window = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    sqlite = url.startswith("sqlite")
    at = (lambda t: t.replace(tzinfo=None).isoformat(" ")) if sqlite else (lambda t: t)
    insert = (
        "INSERT INTO login_throttles (key, failures, pending, pending_earlier, pending_since,"
        " window_start) VALUES (:key, :failures, 0, 0, :since, :window)"
    )
    asyncio.run(
        _execute(
            url,
            [
                (insert, {"key": key, "failures": n, "since": at(window), "window": at(window)})
                for key, n in (("a" * 64, 3), ("b" * 64, 0))
            ],
        )
    )
    command.upgrade(cfg, "head")
    counters = "SELECT key, failures, failures_previous FROM login_throttles ORDER BY key"
    assert asyncio.run(_query(url, counters)) == [("a" * 64, 3, 0), ("b" * 64, 0, 0)]
    assert asyncio.run(_query(url, counted)) == before
    command.downgrade(cfg, "0009")
    columns = (
        "SELECT name FROM pragma_table_info('login_throttles')"
        if sqlite
        else "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'login_throttles'"
    )
    names = {name for (name,) in asyncio.run(_query(url, columns))}
    assert "failures_previous" not in names and "failures" in names
    assert len(asyncio.run(_query(url, "SELECT key FROM login_throttles"))) == 2
    command.upgrade(cfg, "head")


def test_upgrade_to_0012_adds_accountability_to_a_demo_county_and_keeps_every_row(
    fresh_database: str,
) -> None:
    """The demo county at head, taken back to 0009 (no accountability table, no
    `attachments.accountability_id`) with an evidence file of a demo hazard, then upgraded: every
    row is kept, the file is still its hazard's (accountability_id NULL), the new table is empty
    and takes a record about a demo town that binds a file, and refuses one with two targets."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM hazard_events), "
        "(SELECT count(*) FROM attachments)"
    )
    command.downgrade(cfg, "0009")
    sqlite = url.startswith("sqlite")
    now = datetime.now(UTC)
    ts = now.replace(tzinfo=None).isoformat(" ") if sqlite else now
    hazard = asyncio.run(_query(url, "SELECT id FROM hazards ORDER BY id LIMIT 1"))[0][0]
    attachment = (
        "INSERT INTO attachments (id, hazard_id, phase, filename, content_type, size, sha256, "
        "storage_key, thumbnail_key, uploaded_by, created_at) VALUES (:id, :hazard, :phase, "
        "'photo.png', 'image/png', 10, :sha, :key, NULL, 'user:u', :ts)"
    )
    asyncio.run(
        _execute(
            url,
            [
                (
                    attachment,
                    {
                        "id": "f-old",
                        "hazard": hazard,
                        "phase": "discovery",
                        "sha": "0" * 64,
                        "key": "attachments/f-old.png",
                        "ts": ts,
                    },
                ),
                (
                    attachment,
                    {
                        "id": "f-new",
                        "hazard": None,
                        "phase": None,
                        "sha": "1" * 64,
                        "key": "attachments/f-new.png",
                        "ts": ts,
                    },
                ),
            ],
        )
    )
    before = asyncio.run(_query(url, counted))

    command.upgrade(cfg, "head")

    assert asyncio.run(_query(url, counted)) == before
    assert asyncio.run(
        _query(url, "SELECT id, hazard_id, accountability_id FROM attachments ORDER BY id")
    ) == [("f-new", None, None), ("f-old", hazard, None)]
    assert asyncio.run(_query(url, "SELECT count(*) FROM accountability_records")) == [(0,)]
    town = asyncio.run(_query(url, "SELECT id FROM org_units WHERE kind = 'town' LIMIT 1"))[0][0]
    ent = asyncio.run(_query(url, "SELECT id FROM enterprises LIMIT 1"))[0][0]
    insert = (
        "INSERT INTO accountability_records (id, target_org_unit_id, target_enterprise_id, rung, "
        "ladder_year, ladder_seq, reason, basis, hazards, attachment_ids, decided_by_kind, "
        "decided_by_id, decided_by_name, decided_at, created_at) VALUES (:id, :unit, :ent, "
        "'notice_letter', 2026, 1, '逾期', '{}', '[]', '[\"f-new\"]', 'user', 'u', 'admin', :ts, :ts)"
    )
    asyncio.run(
        _execute(
            url,
            [
                (insert, {"id": "r-1", "unit": town, "ent": None, "ts": ts}),
                ("UPDATE attachments SET accountability_id = 'r-1' WHERE id = 'f-new'", {}),
            ],
        )
    )
    assert asyncio.run(
        _query(url, "SELECT accountability_id FROM attachments WHERE id = 'f-new'")
    ) == [("r-1",)]
    with pytest.raises(IntegrityError, match=r"(?i)check|constraint"):
        asyncio.run(_execute(url, [(insert, {"id": "r-2", "unit": town, "ent": ent, "ts": ts})]))
    with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
        asyncio.run(_execute(url, [(insert, {"id": "r-3", "unit": town, "ent": None, "ts": ts})]))


async def _run_day(url: str, day: date) -> dict[str, int]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.core.config import Settings
    from app.services.jobs import daily

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await daily(session, Settings(database_url=url), day)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def test_upgrade_to_0011_keeps_each_overdue_reminder_for_the_enterprise_and_its_department(
    fresh_database: str,
) -> None:
    """The demo county with a day's run at head, taken back to 0009 (one overdue reminder per
    hazard and day, naming the department; no warnings, no inbox), then upgraded again: each
    former row is the department's reminder plus one for the enterprise, with its deadline and
    the data that renders it in English; a rerun of that day adds only what 0009 never wrote
    (the towns' and supervisors' reminders) and writes nothing twice."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    today = date(2026, 12, 3)
    first = asyncio.run(_run_day(url, today))
    assert first["reminders"] and first["notifications"]
    counted = "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM enterprises)"
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0009")
    legacy = asyncio.run(
        _query(url, "SELECT hazard_id, kind, on_date, org_unit_id, message FROM reminders")
    )
    assert legacy and {r[1] for r in legacy} == {"overdue"}
    assert len({r[0] for r in legacy}) == len(legacy)  # one per hazard and day
    departments = dict(
        asyncio.run(_query(url, "SELECT id, enforcement_department_id FROM enterprises"))
    )
    of_hazard = dict(asyncio.run(_query(url, "SELECT id, enterprise_id FROM hazards")))
    assert all(r[3] == departments[of_hazard[r[0]]] for r in legacy)  # the department's row

    command.upgrade(cfg, "head")

    rows = asyncio.run(
        _query(
            url,
            "SELECT hazard_id, org_unit_id, recipient_id, enterprise_id, deadline, data, message "
            "FROM reminders ORDER BY hazard_id, org_unit_id",
        )
    )
    assert len(rows) == 2 * len(legacy)
    deadlines = dict(asyncio.run(_query(url, "SELECT id, deadline FROM hazards")))
    for hazard_id, org_unit_id, recipient_id, enterprise_id, deadline, data, message in rows:
        assert recipient_id == (org_unit_id or enterprise_id)
        assert org_unit_id in (None, departments[enterprise_id])
        data = json.loads(data) if isinstance(data, str) else data
        assert str(deadline)[:10] == data["deadline"] == str(deadlines[hazard_id])[:10]
        assert data["days_overdue"] > 0 and data["number"] in message
        assert f"《{data['title']}》" in message
    assert asyncio.run(_query(url, "SELECT count(*) FROM notifications")) == [(0,)]
    assert asyncio.run(_query(url, counted)) == before
    again = asyncio.run(_run_day(url, today))
    # the towns' (and supervisors') rows of that day are new; the enterprise and department
    # rows are not written again
    assert again["reminders"] == first["reminders"] - 2 * len(legacy)
    assert again["warnings"] == first["warnings"]  # dropped by the downgrade, written again
    third = asyncio.run(_run_day(url, today))
    assert (third["reminders"], third["warnings"], third["notifications"]) == (0, 0, 0)
    command.downgrade(cfg, "0009")
    assert len(asyncio.run(_query(url, "SELECT id FROM reminders"))) == len(legacy)
    command.upgrade(cfg, "head")


def test_upgrade_to_0014_indexes_closed_at_of_the_demo_county(fresh_database: str) -> None:
    """The demo county at head, taken back to before 0014 (no closed_at index) and upgraded
    again: the index is there, every row kept, and "closed in a period" is answered as before."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    sqlite = url.startswith("sqlite")
    indexes = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_hazards_closed_at'"
        if sqlite
        else "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_hazards_closed_at'"
    )
    counted = (
        "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM hazards WHERE "
        "closed_at IS NOT NULL), (SELECT count(*) FROM hazard_rollup)"
    )
    before = asyncio.run(_query(url, counted))
    assert before[0][1] > 0  # the demo county has closed hazards
    command.downgrade(cfg, "0014-1")
    assert asyncio.run(_query(url, indexes)) == []
    command.upgrade(cfg, "head")
    assert asyncio.run(_query(url, indexes)) == [("ix_hazards_closed_at",)]
    assert asyncio.run(_query(url, counted)) == before


def test_upgrade_to_0015_keeps_the_demo_county_and_adds_the_inspection_tables_empty(
    fresh_database: str,
) -> None:
    """The demo county at head, taken back to before 0015 and upgraded again: every user and
    hazard kept, the new columns null on them (no certificate recorded, no hazard from a
    recorded inspection), and the inspection tables there and empty; downgrading drops them."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM hazards)"
    before = asyncio.run(_query(url, counted))
    assert before[0][0] > 0 and before[0][1] > 0
    command.downgrade(cfg, "0014")
    assert asyncio.run(_query(url, counted)) == before
    command.upgrade(cfg, "0015")
    assert asyncio.run(_query(url, counted)) == before
    assert asyncio.run(
        _query(
            url,
            "SELECT (SELECT count(*) FROM users WHERE enforcement_cert_no IS NOT NULL), "
            "(SELECT count(*) FROM hazards WHERE inspection_id IS NOT NULL)",
        )
    ) == [(0, 0)]
    for table in (
        "checklists",
        "draws",
        "inspections",
        "inspection_counters",
        "inspection_events",
        "inspection_decisions",
        "blacklist_entries",
        "major_hazard_installations",
    ):
        assert asyncio.run(_query(url, f"SELECT count(*) FROM {table}")) == [(0,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0016_rebuilds_who_each_demo_inspection_lists_and_its_findings(
    fresh_database: str,
) -> None:
    """The demo county (with its inspections) taken back to 0015 and up again: every
    inspection keeps its people as assignees (the scope of experts and of inspectors outside
    their own scope) and its findings from the hazards pointing at it; no attachment lost."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    people = "SELECT inspection_id, user_id, role FROM inspection_assignees ORDER BY 1, 2"
    findings = (
        "SELECT i.id, h.id FROM inspections i JOIN hazards h ON h.inspection_id = i.id "
        "ORDER BY 1, 2"
    )
    counted = "SELECT (SELECT count(*) FROM inspections), (SELECT count(*) FROM attachments)"
    before = asyncio.run(_query(url, people)), asyncio.run(_query(url, counted))
    assert len(before[0]) > 500
    listed = asyncio.run(_query(url, "SELECT sum(findings_count) FROM inspections"))
    command.downgrade(cfg, "0015")
    command.upgrade(cfg, "0016")
    assert (asyncio.run(_query(url, people)), asyncio.run(_query(url, counted))) == before
    assert asyncio.run(_query(url, findings))
    rows = asyncio.run(_query(url, "SELECT findings FROM inspections"))
    restored = sum(len(json.loads(r[0]) if isinstance(r[0], str) else r[0]) for r in rows)
    assert [(restored,)] == listed
    command.upgrade(cfg, "head")


def test_upgrade_to_0017_keeps_the_demo_blacklist_and_installations_and_adds_the_starters(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0016 and up again: its blacklist entry and major hazard
    installations kept (these at version 1), the starter checklists there once (a used one is
    not inserted twice), and a second current entry for one enterprise refused by the index."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    kept = (
        "SELECT (SELECT count(*) FROM blacklist_entries WHERE removed_at IS NULL), "
        "(SELECT count(*) FROM major_hazard_installations), "
        "(SELECT count(*) FROM checklists WHERE county_code IS NULL)"
    )
    before = asyncio.run(_query(url, kept))
    assert before[0][0] == 1 and before[0][1] > 0 and before[0][2] >= 3
    command.downgrade(cfg, "0016")
    command.upgrade(cfg, "0017")
    assert asyncio.run(_query(url, kept)) == before
    assert asyncio.run(_query(url, "SELECT DISTINCT version FROM major_hazard_installations")) == [
        (1,)
    ]
    entry = asyncio.run(
        _query(url, "SELECT enterprise_id FROM blacklist_entries WHERE removed_at IS NULL")
    )[0][0]
    with pytest.raises(Exception, match=r"(?i)unique"):
        asyncio.run(
            _execute(
                url,
                [
                    (
                        "INSERT INTO blacklist_entries (id, enterprise_id, listed_at, reason) "
                        "VALUES ('x-second', :e, '2026-12-01 00:00:00', 'again')",
                        {"e": entry},
                    )
                ],
            )
        )
    command.upgrade(cfg, "head")


def test_upgrade_to_0018_names_wgs84_for_every_demo_location_and_keeps_every_row(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0017 and up again: every enterprise with a location gets
    `coordinate_system = wgs84` (the only system the API took before), the others none; every
    enterprise and hazard kept, no hazard naming a risk point."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = "SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM hazards)"
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0017")
    command.upgrade(cfg, "0018")
    assert asyncio.run(_query(url, counted)) == before
    systems = asyncio.run(
        _query(
            url,
            "SELECT coordinate_system, lat IS NOT NULL, count(*) FROM enterprises "
            "GROUP BY coordinate_system, lat IS NOT NULL ORDER BY 1",
        )
    )
    assert [(s, bool(located)) for s, located, _ in systems] == [("wgs84", True)]
    assert asyncio.run(
        _query(url, "SELECT count(*) FROM hazards WHERE risk_point_id IS NOT NULL")
    ) == [(0,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0019_gives_every_demo_risk_point_with_measures_its_checklist(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0018 and up again: each risk point with control measures
    has exactly one current checklist of its own, with one item per measure as the service
    writes them; the county's other checklists are kept as they were."""
    import json

    from app.services.risks.checklist import items_for

    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    library = "SELECT count(*) FROM checklists WHERE code NOT LIKE 'RP-%'"
    kept = asyncio.run(_query(url, library))
    command.downgrade(cfg, "0018")
    assert asyncio.run(_query(url, "SELECT count(*) FROM checklists WHERE code LIKE 'RP-%'")) == [
        (0,)
    ]
    command.upgrade(cfg, "0019")
    assert asyncio.run(_query(url, library)) == kept
    points = asyncio.run(_query(url, "SELECT id, name, control_measures FROM risk_points"))
    assert points
    generated = {
        rp: (code, n, json.loads(items) if isinstance(items, str) else items)
        for rp, code, n, items in asyncio.run(
            _query(
                url,
                "SELECT risk_point_id, code, version_no, items FROM checklists "
                "WHERE risk_point_id IS NOT NULL AND is_current",
            )
        )
    }
    for point_id, name, measures in points:
        measures = json.loads(measures) if isinstance(measures, str) else measures
        if not measures:
            assert point_id not in generated
            continue
        assert generated[point_id] == (f"RP-{point_id}", 1, items_for(name, measures))
    command.upgrade(cfg, "head")


def test_upgrade_to_0020_adds_the_task_tables_and_keeps_every_row(fresh_database: str) -> None:
    """The demo county taken back to 0019 and up again: the task tables come back empty, and
    every unit, enterprise, hazard and inspection is kept."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM inspections)"
    )
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0019")
    command.upgrade(cfg, "0020")
    assert asyncio.run(_query(url, counted)) == before
    tables = "SELECT (SELECT count(*) FROM task_lists), (SELECT count(*) FROM tasks)"
    assert asyncio.run(_query(url, tables)) == [(0, 0)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0021_adds_the_report_table_and_keeps_every_row(fresh_database: str) -> None:
    """The demo county taken back to 0020 and up again: the report table comes back empty, and
    every unit, enterprise, hazard, task list and task is kept."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    counted = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM task_lists), "
        "(SELECT count(*) FROM tasks)"
    )
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0020")
    command.upgrade(cfg, "0021")
    assert asyncio.run(_query(url, counted)) == before
    assert asyncio.run(_query(url, "SELECT count(*) FROM task_reports")) == [(0,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0022_binds_the_files_a_report_cites(fresh_database: str) -> None:
    """The demo county at 0021 with one progress report citing its submitter's unbound upload,
    a file bound to a hazard and another person's upload: up to 0022 only the first is bound to
    the report; every attachment is kept."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    command.downgrade(cfg, "0021")
    part = asyncio.run(
        _query(
            url,
            "SELECT a.id, t.id, t.task_list_id FROM task_assignees a "
            "JOIN tasks t ON t.id = a.task_id WHERE a.unit_id IS NOT NULL LIMIT 1",
        )
    )[0]
    hazard = asyncio.run(_query(url, "SELECT id FROM hazards LIMIT 1"))[0][0]
    now = "2026-12-01 08:00:00+00:00"

    def file(name: str, by: str, hazard_id: str | None) -> str:
        h = "NULL" if hazard_id is None else f"'{hazard_id}'"
        return (
            "INSERT INTO attachments (id, hazard_id, filename, content_type, size, sha256, "
            f"storage_key, uploaded_by, created_at) VALUES ('{name}', {h}, '{name}.png', "
            f"'image/png', 1, 'x', 'k/{name}', '{by}', '{now}')"
        )

    report = (
        "INSERT INTO task_reports (id, task_list_id, task_id, assignee_id, period, text, figures, "
        "attachment_ids, status, late, submitted_at, submitted_by) VALUES ('r1', "
        f"'{part[2]}', '{part[1]}', '{part[0]}', '2026-11', 'x', '{{}}', "
        '\'["f-own", "f-hazard", "f-other"]\', \'submitted\', false, '
        f"'{now}', 'user:u1')"
    )
    statements = [
        file("f-own", "user:u1", None),
        file("f-hazard", "user:u1", hazard),
        file("f-other", "user:u2", None),
        report,
    ]
    asyncio.run(_execute(url, [(sql, {}) for sql in statements]))
    before = asyncio.run(_query(url, "SELECT count(*) FROM attachments"))
    command.upgrade(cfg, "0022")
    assert asyncio.run(_query(url, "SELECT count(*) FROM attachments")) == before
    bound = asyncio.run(
        _query(url, "SELECT id, task_report_id FROM attachments WHERE id LIKE 'f-%' ORDER BY id")
    )
    assert bound == [("f-hazard", None), ("f-other", None), ("f-own", "r1")]
    command.upgrade(cfg, "head")


def test_upgrade_to_0023_records_a_report_for_every_demo_public_report_hazard(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0022 (its reports are gone, its hazards that came from a
    substantiated report stay) and up to 0023: every such hazard gets a report record linked
    both ways, substantiated or closed as the hazard is, anonymous, routed exactly as the
    service routes (the routes equal those the demo loader wrote through the service); every
    other row is kept."""
    url = fresh_database
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    asyncio.run(_load_demo(url))
    routes_sql = (
        "SELECT h.id, r.unit_id, r.reason FROM hazards h JOIN public_reports p "
        "ON p.hazard_id = h.id JOIN public_report_routes r ON r.report_id = p.id"
    )

    def routes() -> dict[str, set[tuple[str, str]]]:
        out: dict[str, set[tuple[str, str]]] = {}
        for hazard_id, unit_id, reason in asyncio.run(_query(url, routes_sql)):
            out.setdefault(hazard_id, set()).add((unit_id, reason))
        return out

    by_service = routes()
    counted = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM attachments), "
        "(SELECT count(*) FROM hazards WHERE source = 'public_report')"
    )
    before = asyncio.run(_query(url, counted))
    command.downgrade(cfg, "0022")
    command.upgrade(cfg, "0023")
    assert asyncio.run(_query(url, counted)) == before
    from_report = before[0][4]
    assert from_report > 0
    linked = asyncio.run(
        _query(
            url,
            "SELECT h.status, p.status, p.anonymous, p.reporter_sealed, p.public_outcome "
            "FROM hazards h JOIN public_reports p ON p.id = h.public_report_id "
            "AND p.hazard_id = h.id WHERE h.source = 'public_report'",
        )
    )
    assert len(linked) == from_report
    assert asyncio.run(_query(url, "SELECT count(*) FROM public_reports")) == [(from_report,)]
    for hazard_status, status, anonymous, sealed, outcome in linked:
        assert status == ("closed" if hazard_status == "closed" else "substantiated")
        assert bool(anonymous) and sealed is None
        assert (outcome is not None) == (status == "closed")
    assert routes() == by_service
    numbers = asyncio.run(_query(url, "SELECT count(DISTINCT number) FROM public_reports"))
    assert numbers == [(from_report,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0024_adds_the_import_tables_and_keeps_every_row(fresh_database: str) -> None:
    """The demo county taken back to 0023 and up again: the import and external-id tables come
    back empty (nothing to backfill: no import ran, no record has another system's id), and
    every unit, enterprise, hazard, inspection and public report is kept."""
    url = fresh_database
    counted = (
        "SELECT (SELECT count(*) FROM org_units), (SELECT count(*) FROM enterprises), "
        "(SELECT count(*) FROM hazards), (SELECT count(*) FROM inspections), "
        "(SELECT count(*) FROM public_reports)"
    )
    cfg, before = _demo_back_at(url, "0023", counted)
    command.upgrade(cfg, "0024")
    assert asyncio.run(_query(url, counted)) == before
    tables = "SELECT (SELECT count(*) FROM imports), (SELECT count(*) FROM external_ids)"
    assert asyncio.run(_query(url, tables)) == [(0, 0)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0025_adds_the_export_table_and_keeps_every_row(fresh_database: str) -> None:
    """The demo county taken back to 0024 and up again: the export-job table comes back empty
    (nothing to backfill: no export ran), and every row is kept."""
    url = fresh_database
    counted = (
        "SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM hazards), "
        "(SELECT count(*) FROM public_reports), (SELECT count(*) FROM imports)"
    )
    cfg, before = _demo_back_at(url, "0024", counted)
    command.upgrade(cfg, "0025")
    assert asyncio.run(_query(url, counted)) == before
    assert asyncio.run(_query(url, "SELECT count(*) FROM export_jobs")) == [(0,)]
    command.upgrade(cfg, "head")


def test_upgrade_to_0026_starts_the_change_feed_with_every_enterprise_and_hazard(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0025 (no change feed; its province client without
    `changes:read`) and up again: one `upsert` change per enterprise, hazard and inspection, in
    the scope each has (the enterprise's columns; an inspection's kind and start), the demo client granted `changes:read`, every row
    kept."""
    url = fresh_database
    counted = (
        "SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM hazards), "
        "(SELECT count(*) FROM inspections)"
    )
    cfg, before = _demo_back_at(url, "0025", counted)
    without = _revoke_from_demo_client(url, "changes:read")
    command.upgrade(cfg, "0026")
    assert asyncio.run(_query(url, counted)) == before
    (enterprises, hazards, inspections) = before[0]
    rows = asyncio.run(
        _query(
            url,
            "SELECT c.type, count(*), sum(CASE WHEN c.op = 'upsert' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN c.region_code = e.region_code AND c.sector = e.sector AND "
            "c.department_id = e.enforcement_department_id THEN 1 ELSE 0 END) "
            "FROM changes c JOIN enterprises e ON e.id = c.enterprise_id GROUP BY c.type "
            "ORDER BY c.type",
        )
    )
    assert rows == [
        ("enterprise", enterprises, enterprises, enterprises),
        ("hazard", hazards, hazards, hazards),
        ("inspection", inspections, inspections, inspections),
    ]
    assert hazards > 0 and inspections > 0
    facts = (
        "SELECT count(*) FROM changes c JOIN inspections i ON i.id = c.object_id "
        "WHERE c.kind = i.kind AND (c.started_at = i.started_at OR "
        "(c.started_at IS NULL AND i.started_at IS NULL))"
    )
    assert asyncio.run(_query(url, facts)) == [(inspections,)], "an inspection's kind and start"
    reports = (
        "SELECT (SELECT count(*) FROM public_reports), (SELECT count(*) FROM changes c "
        "JOIN public_reports r ON r.id = c.object_id WHERE c.type = 'report' "
        "AND c.county_code = r.county_code)"
    )
    ((total, with_county),) = asyncio.run(_query(url, reports))
    assert total == with_county > 0, "a public report's change carries its county"
    tasks = (
        "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM changes c "
        "JOIN tasks t ON t.id = c.object_id JOIN task_lists l ON l.id = t.task_list_id "
        "WHERE c.type = 'task' AND c.list_status = l.status "
        "AND c.issuing_unit_id = l.issuing_unit_id)"
    )
    ((total, with_list),) = asyncio.run(_query(url, tasks))
    assert total == with_list > 0, "a task's change carries its list's facts"
    assert sorted(_demo_grants(url)) == sorted([*without, "changes:read"])
    command.upgrade(cfg, "head")


def test_upgrade_to_0027_adds_the_webhook_tables_and_grants_the_demo_client(
    fresh_database: str,
) -> None:
    """The demo county taken back to 0026 (its province client without `webhooks:manage`) and up
    again: the webhook tables come back empty (no subscription existed to carry over), the demo
    client is granted `webhooks:manage` beside what it had, and every row is kept."""
    url = fresh_database
    counted = (
        "SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM hazards), "
        "(SELECT count(*) FROM changes), (SELECT count(*) FROM api_clients)"
    )
    cfg, before = _demo_back_at(url, "0026", counted)
    without = _revoke_from_demo_client(url, "webhooks:manage")
    command.upgrade(cfg, "0027")
    assert asyncio.run(_query(url, counted)) == before
    assert sorted(_demo_grants(url)) == sorted([*without, "webhooks:manage"])
    tables = (
        "SELECT (SELECT count(*) FROM webhook_subscriptions), "
        "(SELECT count(*) FROM webhook_deliveries)"
    )
    assert asyncio.run(_query(url, tables)) == [(0, 0)]
    command.upgrade(cfg, "head")
