"""A job survives a server restart (issue 16), with real processes: an enterprises import runs
in an `anjian serve` subprocess, which is killed with SIGKILL while the import is running. The
database then holds none of the job's rows (nothing half-applied); a second server on the same
database takes the job again once its lease runs out (``ANJIAN_JOB_LEASE_SECONDS``, short here)
and finishes it by itself: every good row exactly once, never a part. Both modes, since both are
one transaction: all-or-nothing, and ``valid_rows`` with a few failing rows (no row applied
twice, the failing ones reported)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, text

from app.core.config import Settings
from app.models import Enterprise, ImportJob, Job
from app.services.imports.service import PROGRESS_EVERY
from tests.conftest import World, credit
from tests.servers import free_port

ROWS = 30_000
BAD_EVERY = 3_000  # valid_rows: this row of each such stretch has a sector no catalog has
LEASE_SECONDS = 4
HEAD = "统一社会信用代码,企业名称,行政区划代码,所属行业,日常执法部门,主要负责人,联系电话"
CLI = [sys.executable, "-m", "app.cli"]


def _register(rows: int, bad_every: int | None) -> tuple[bytes, int]:
    """A county register as its old system writes it (GB18030, a title row); and how many of its
    rows are good."""
    lines = ["2026年埇桥区企业名录（重启测试）", "", HEAD]
    bad = 0
    for n in range(1, rows + 1):
        sector = "工贸"
        if bad_every and n % bad_every == 0:
            sector, bad = "不存在的行业", bad + 1
        lines.append(
            f"{credit(10_000 + n)},重启测试{n:05d}有限公司,341302001{n % 97:03d},{sector},"
            f"区应急管理局,王{n % 10},139{n:08d}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("gb18030"), rows - bad


@contextlib.contextmanager
def _servers(settings: Settings, tmp: Path) -> Iterator[Any]:
    """Starts `anjian serve` processes on the tests' database (each call of the yielded function
    one more, on a free port); every one of them is killed at the end, whatever happened."""
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": str(settings.database_url),
        "ANJIAN_DATA_DIR": str(tmp / "data"),  # the uploads: shared by the processes
        "ANJIAN_SECRET_KEY": str(settings.secret_key),  # the world's tokens are good there
        "ANJIAN_SCHEDULER_ENABLED": "true",  # the process's own job worker
        "ANJIAN_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "ANJIAN_LOG_JSON": "false",
    }
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], str, Path]:
        port = free_port()
        log = tmp / f"serve{len(procs)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
            )
        procs.append(proc)
        return proc, f"http://127.0.0.1:{port}", log

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as c:
        while True:
            assert proc.poll() is None, f"the server exited:\n{_tail(log)}"
            with contextlib.suppress(httpx.HTTPError):
                if (await c.get(f"{base}/readyz", timeout=2)).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"not serving:\n{_tail(log)}"
            await asyncio.sleep(0.1)


async def _poll(
    base: str, import_id: str, headers: dict[str, str], log: Path, until: Any, seconds: float
) -> dict[str, Any]:
    """GET the import until ``until(job)``; the last answer."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as c:
        while True:
            r = await c.get(f"/api/v1/imports/{import_id}")
            assert r.status_code == 200, r.text
            job = r.json()
            if until(job):
                return job
            assert time.monotonic() < deadline, (job, _tail(log))
            await asyncio.sleep(0.05)


@pytest.fixture
async def register_removed(app) -> AsyncIterator[None]:  # type: ignore[no-untyped-def]
    """After the test, its enterprises go at once: the next test's world deletes every row, and
    on PostgreSQL deleting 30,000 enterprises one foreign-key check after another takes ~15 s
    where TRUNCATE … CASCADE takes a moment (that world is rebuilt anyway)."""
    yield
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("TRUNCATE enterprises CASCADE"))
        else:
            await conn.execute(delete(Enterprise).where(Enterprise.name.like("重启测试%")))


async def _ours(app: Any) -> int:  # type: ignore[no-untyped-def]
    """The register's enterprises in the database (the world's own four are not theirs)."""
    async with app.state.sessionmaker() as s:
        return int(
            await s.scalar(
                select(func.count(Enterprise.id)).where(Enterprise.name.like("重启测试%"))
            )
        )


@pytest.mark.parametrize(
    ("mode", "bad_every"), [("all_or_nothing", None), ("valid_rows", BAD_EVERY)]
)
async def test_an_import_killed_midway_leaves_nothing_and_a_second_server_finishes_it(  # type: ignore[no-untyped-def]
    app, world: World, register_removed: None, tmp_path: Path, mode: str, bad_every: int | None
) -> None:
    data, good = _register(ROWS, bad_every)
    headers = world.h("county_officer")
    with _servers(world.settings, tmp_path) as start:
        first, base, log = start()
        await _up(base, first, log)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
            r = await c.post(
                "/api/v1/imports",
                data={"kind": "enterprises", "mode": mode},
                files={"file": ("名录.csv", data, "text/csv")},
            )
        assert r.status_code == 202, r.text
        import_id = r.json()["id"]

        # Running, with some progress and far from done: then the process dies at once.
        running = await _poll(
            base,
            import_id,
            headers,
            log,
            lambda j: j["status"] == "running" and j["rows"]["processed"] >= PROGRESS_EVERY,
            90,
        )
        assert running["rows"]["total"] == ROWS and running["rows"]["processed"] < ROWS
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

        # Nothing half-applied: none of its rows, no outcome; its job still leased to the dead.
        assert await _ours(app) == 0
        async with app.state.sessionmaker() as s:
            row = await s.get(ImportJob, import_id)
            assert row is not None and row.status in ("queued", "running") and not row.applied
            queued = await s.get(Job, row.job_id)
            assert queued is not None and (queued.status, queued.attempts) == ("running", 1)

        # A second process on the same database ends it by itself once the lease ran out.
        second, base, log = start()
        await _up(base, second, log)
        done = await _poll(
            base,
            import_id,
            headers,
            log,
            lambda j: j["status"] in ("succeeded", "failed", "cancelled"),
            90,
        )
    assert done["status"] == "succeeded" and done["applied"] is True, done
    assert done["rows"] == {
        "total": ROWS,
        "processed": ROWS,
        "created": good,
        "updated": 0,
        "unchanged": 0,
        "failed": ROWS - good,
    }
    assert {e["code"] for e in done["errors"]} == ({"invalid_value"} if bad_every else set())
    assert await _ours(app) == good  # every good row once: neither a part nor twice
    async with app.state.sessionmaker() as s:
        assert (
            await s.scalar(
                select(func.count(func.distinct(Enterprise.credit_code))).where(
                    Enterprise.name.like("重启测试%")
                )
            )
            == good
        )
        queued = await s.get(Job, row.job_id)
        assert queued is not None and (queued.status, queued.attempts) == ("succeeded", 2)
