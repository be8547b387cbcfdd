"""Prints the figures of the hardening work (issue 8) against a real `anjian serve`:

- the event loop while sign-ins hash passwords: `/healthz` latency during 20 concurrent sign-ins,
  next to `/healthz` alone (the reference, same run);
- the pool under a flood of failed sign-ins: a normal authenticated list's latency during 200
  concurrent failed sign-ins, next to the same list alone;
- memory on a decompression bomb: the server's peak RSS growth while it refuses a 12600×12600
  PNG, next to the growth on an ordinary photo.

    .venv/bin/python bench/hardening.py              # SQLite in a temporary data dir
    .venv/bin/python bench/hardening.py --pg         # PostgreSQL: a fresh database anjian_bench_hardening

The server runs in a subprocess (as deployed: `anjian serve`, one worker) with the demo county.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/anjian_bench_hardening"
DEMO_PASSWORD = "Anjian@2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _png(width: int, height: int) -> bytes:
    """A valid, tiny-on-disk PNG of any size (one grey channel, all zero)."""
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((3000, 2000), 64).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak(pid: int) -> None:
    """Linux 4.0+: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


async def _poll(
    client: httpx.AsyncClient, path: str, headers: dict, stop: asyncio.Event
) -> list[float]:
    times = []
    while not stop.is_set():
        started = time.perf_counter()
        r = await client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
        await asyncio.sleep(0.01)
    return times


async def _token(
    client: httpx.AsyncClient,
    username: str,
    password: str = DEMO_PASSWORD,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        headers=headers or {},
    )


async def measure(base: str, pid: int) -> None:
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        r = await _token(client, "admin")
        assert r.status_code == 200, r.text
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}

        # ---- event loop during sign-ins --------------------------------------------------
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll(client, "/healthz", {}, stop))
        await asyncio.sleep(1.0)
        stop.set()
        alone = await poller
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll(client, "/healthz", {}, stop))
        users = ["county_officer", "town_officer", "town_manager", "bureau_officer", "town_viewer"]
        started = time.perf_counter()
        answers = await asyncio.gather(*(_token(client, users[n % len(users)]) for n in range(20)))
        sign_in_wall = time.perf_counter() - started
        stop.set()
        during = await poller
        statuses = sorted({a.status_code for a in answers})
        print("== /healthz while 20 sign-ins hash passwords")
        print(
            f"   alone:  p50 {_ms(alone, 0.5):6.1f} ms  p90 {_ms(alone, 0.9):6.1f} ms  n={len(alone)}"
        )
        print(
            f"   during: p50 {_ms(during, 0.5):6.1f} ms  p90 {_ms(during, 0.9):6.1f} ms"
            f"  max {_ms(during, 1.0):6.1f} ms  n={len(during)}"
            f"  (20 sign-ins took {sign_in_wall:.2f} s, statuses {statuses})"
        )
        under_50 = sum(1 for t in during if t < 0.05) / max(1, len(during))
        print(f"   share of /healthz under 50 ms during sign-ins: {100 * under_50:.0f} %")

        # ---- pool under a flood of failed sign-ins ---------------------------------------
        list_path = "/api/v1/enterprises?limit=20"
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll(client, list_path, admin, stop))
        await asyncio.sleep(1.0)
        stop.set()
        list_alone = await poller
        print("== authenticated list during 200 concurrent failed sign-ins")
        print(f"   alone:  p50 {_ms(list_alone, 0.5):6.1f} ms  max {_ms(list_alone, 1.0):6.1f} ms")
        for label, spread in (("from one address", False), ("from 200 addresses", True)):
            stop = asyncio.Event()
            poller = asyncio.create_task(_poll(client, list_path, admin, stop))
            started = time.perf_counter()
            flood = await asyncio.gather(
                *(
                    _token(
                        client,
                        f"nobody-{label[5:8]}-{n}",
                        "wrong-password-123",
                        # the server trusts X-Forwarded-For from 127.0.0.1 (a local proxy)
                        {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"} if spread else {},
                    )
                    for n in range(200)
                )
            )
            flood_wall = time.perf_counter() - started
            await asyncio.sleep(0.3)
            stop.set()
            list_during = await poller
            counts: dict[int, int] = {}
            for a in flood:
                counts[a.status_code] = counts.get(a.status_code, 0) + 1
            t0 = time.perf_counter()
            after = await client.get(list_path, headers=admin)
            after_s = time.perf_counter() - t0
            print(
                f"   {label:<19} during: p50 {_ms(list_during, 0.5):6.1f} ms"
                f"  max {_ms(list_during, 1.0):6.1f} ms  n={len(list_during)}"
                f"  (flood took {flood_wall:.2f} s, statuses {counts});"
                f" right after: {after.status_code} in {1000 * after_s:.1f} ms"
            )

        # ---- memory on a decompression bomb ----------------------------------------------
        print("== server RSS growth while uploading")
        for label, name, data, mime in (
            ("photo 3000×2000 JPEG", "photo.jpg", _photo(), "image/jpeg"),
            ("PNG 12600×12600", "bomb.png", _png(12600, 12600), "image/png"),
        ):
            _reset_peak(pid)
            await asyncio.sleep(0.2)
            before = _rss_kb(pid, "VmRSS")
            r = await client.post(
                "/api/v1/attachments", files={"file": (name, data, mime)}, headers=admin
            )
            await asyncio.sleep(0.2)
            peak = _rss_kb(pid, "VmHWM")
            print(
                f"   {label:<22} {len(data) / 1024:8.0f} KB  -> {r.status_code}"
                f" {r.json().get('code', '') if r.status_code >= 400 else ''}"
                f"  peak RSS growth {max(0, peak - before) / 1024:7.1f} MB"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="anjian-bench-"))
    env = {
        **os.environ,
        "ANJIAN_DATA_DIR": str(data_dir),
        "ANJIAN_SCHEDULER_ENABLED": "false",
        "ANJIAN_LOG_JSON": "false",
    }
    if args.pg:
        import asyncpg

        async def recreate() -> None:
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute("DROP DATABASE IF EXISTS anjian_bench_hardening")
            await conn.execute("CREATE DATABASE anjian_bench_hardening")
            await conn.close()

        asyncio.run(recreate())
        env["ANJIAN_DATABASE_URL"] = PG_URL
    print(f"database: {'PostgreSQL' if args.pg else 'SQLite'}; data dir {data_dir}")
    subprocess.run([BIN / "anjian", "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([BIN / "anjian", "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "anjian", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(measure(base, server.pid))
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
