"""Schemathesis over the live schema of a real server, as the county admin: no input yields a
5xx, and every answer (status, content type, body, documented headers) matches the schema.

The server runs in a subprocess (`anjian serve`) on its own database — a fresh SQLite file, or,
when ``ANJIAN_TEST_DATABASE_URL`` is set, a fresh PostgreSQL database next to the test one —
loaded with the demo county, so the run reaches the rules behind the validators. Bounded for
`make test` (20 examples per operation, fixed seed); raise ``ANJIAN_SCHEMATHESIS_EXAMPLES`` for
a longer hunt.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import own_database

ROOT = Path(__file__).resolve().parents[1]
MAX_EXAMPLES = os.environ.get("ANJIAN_SCHEMATHESIS_EXAMPLES", "20")
SEED = os.environ.get("ANJIAN_SCHEMATHESIS_SEED", "20260101")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "unsupported_method",
        "allow_header_conformance",
    )
)
# Used only when the demo county is not available.
FALLBACK_ADMIN = ("st_admin", "Schemathesis!2026")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"anjian {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def database_for_server(tmp_path: Path) -> Iterator[str]:
    """A database of the server's own; never the one the other tests truncate."""
    with own_database("anjian_schemathesis", tmp_path / "schemathesis.db") as url:
        yield url


def _seed(env: dict[str, str]) -> tuple[str, str]:
    """Loads the demo county and answers the admin's (username, password)."""
    _run(["db", "upgrade"], env)
    if importlib.util.find_spec("app.services.demo") is not None:
        from app.services.demo import DEMO_PASSWORD

        out = _run(["demo", "--print-accounts"], env)
        # the day's run: reminders and early warnings, so the inboxes and lists hold rows
        _run(["jobs", "run-once"], env)
        admins = [p[0] for p in (line.split() for line in out.splitlines()) if p[1:2] == ["admin"]]
        assert admins, f"`anjian demo` printed no admin account:\n{out}"
        return admins[0], DEMO_PASSWORD
    username, password = FALLBACK_ADMIN
    _run(
        [
            "init",
            "--county-code=341302",
            "--county-name=埇桥区",
            f"--admin-username={username}",
            f"--admin-password={password}",
        ],
        env,
    )
    return username, password


def _seed_over_http(base: str, token: str) -> None:
    """Without the demo: a town, a bureau and a few enterprises, so lists and links have data."""
    from app.core.credit_code import make_credit_code

    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=10) as c:
        town = c.post(
            "/api/v1/org-units",
            json={"kind": "town", "name": "埇桥街道", "region_code": "341302001"},
        )
        bureau = c.post(
            "/api/v1/org-units",
            json={"kind": "bureau", "name": "区应急管理局", "sectors": ["industry_trade"]},
        )
        assert town.status_code == bureau.status_code == 201, (town.text, bureau.text)
        for n in range(1, 6):
            r = c.post(
                "/api/v1/enterprises",
                json={
                    "name": f"埇桥测试企业{n}有限公司",
                    "credit_code": make_credit_code(f"91341302MA{n:07d}"),
                    "region_code": f"341302001{n:03d}",
                    "sector": "industry_trade",
                    "enforcement_department_id": bureau.json()["id"],
                },
            )
            assert r.status_code == 201, r.text


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()[-5000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server was not ready within 30 s:\n{log.read_text()[-5000:]}")


@pytest.fixture
def server(tmp_path: Path, database_for_server: str) -> Iterator[tuple[str, str]]:
    """A running `anjian serve` on a seeded database; yields (base URL, admin token)."""
    env = {
        **os.environ,
        "ANJIAN_DATABASE_URL": database_for_server,
        "ANJIAN_DATA_DIR": str(tmp_path / "data"),
        "ANJIAN_SCHEDULER_ENABLED": "false",
        # a long-poll of the change feed answers at once: the run is about inputs, not waiting
        "ANJIAN_CHANGES_MAX_WAIT_SECONDS": "0",
    }
    username, password = _seed(env)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host=127.0.0.1", f"--port={port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(proc, base, log)
        r = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        if username == FALLBACK_ADMIN[0]:
            _seed_over_http(base, token)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_no_input_gives_a_server_error_and_every_response_matches_the_schema(
    server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = server
    # Every operation as the county admin, then the open ones (public reports, the disclosed
    # hazards, published draws) as a stranger without any token, as the public meets them.
    for name, extra in (
        ("admin", [f"--header=Authorization: Bearer {token}"]),
        # the few open operations: examples and fuzzing (their coverage is the admin run's)
        ("public", ["--include-path-regex=^/api/v1/public/", "--phases=examples,fuzzing"]),
    ):
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{base}/openapi.json",
            *extra,
            f"--max-examples={MAX_EXAMPLES}",
            f"--seed={SEED}",
            f"--checks={CHECKS}",
            "--generation-database=none",  # no .hypothesis directory in the repository
            "--request-timeout=20",
            "--no-color",
        ]
        # Its own directory: no stray schemathesis.toml is picked up, nothing lands in the repo.
        work = tmp_path / f"schemathesis-{name}"
        work.mkdir()
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(
                f"schemathesis ({name}) failed (exit {done.returncode}):\n"
                f"{done.stdout[-20000:]}\n{done.stderr[-3000:]}\n--- server errors ---\n"
                f"{_server_errors(tmp_path)}",
                pytrace=False,
            )


def _server_errors(tmp_path: Path) -> str:
    """The end of each distinct traceback the server logged (its log lines are JSON)."""
    seen: dict[str, None] = {}
    for line in (tmp_path / "server.log").read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") == "error":
            seen[f"{record.get('msg')}: ...{str(record.get('exc', ''))[-1500:]}"] = None
    return "\n\n".join(seen) or "(none logged)"
