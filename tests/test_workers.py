"""`anjian serve --workers 2`: every worker process writes its access log (issue 10 found none)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.servers import free_port, wait_until_serving


def test_two_workers_both_write_one_json_line_per_request(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ANJIAN_DATA_DIR": str(tmp_path),
        "ANJIAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        "ANJIAN_SCHEDULER_ENABLED": "false",
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(base, "/healthz", log)
            for _ in range(20):  # new connections: the kernel spreads them over both workers
                assert httpx.get(f"{base}/api/v1/me", timeout=10).status_code == 401
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "anjian.access" and e["path"] == "/api/v1/me"]
    assert len(access) == 20, log.read_text()
    assert all(e["status"] == 401 and e["request_id"] for e in access)
