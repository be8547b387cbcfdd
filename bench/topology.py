"""The many-instance topology of docker-compose.yml, run natively and checked (issue 10).

PostgreSQL (the local one, a fresh database of this script's own), Debian's PgBouncer in
transaction mode in front of it (docker/pgbouncer.ini), two `anjian serve` processes through
PgBouncer, Debian's nginx balancing them (docker/nginx.conf). Everything runs from a temp dir on
free ports and is stopped at the end; the system services' configs are never touched. Then,
through nginx and straight at the instances:

- asyncpg through PgBouncer: the default connect settings are refused, the PgBouncer ones work
  under concurrent reads and writes that share few server connections;
- sign-in works, and nginx spreads requests over both instances;
- idempotency across instances: one POST with an Idempotency-Key to A, then to B: one answer;
- a deactivated user is refused by both instances within about a second;
- the client address behind nginx is the client's (per-address sign-in throttling), and a
  forged X-Forwarded-For sent straight to an instance is ignored.

    .venv/bin/python bench/topology.py        # prints each check; exit status 1 on a failure
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DATABASE = "anjian_topology"
ADMIN, ADMIN_PASSWORD = "admin", "Topology!2026pass"
SECRET_KEY = "topology-shared-secret-key-0123456789-abcdefgh"
PER_ADDRESS_LIMIT = 3  # ANJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS for the instances
CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def step(message: str) -> None:
    print(f"[topology] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"  ok  {message}", flush=True)


def ensure_packages() -> tuple[str, str]:
    """Debian's pgbouncer and nginx, installed when missing (their services are not started:
    the image's policy-rc.d forbids it, and nothing here uses them)."""
    found = {name: shutil.which(name, path="/usr/sbin:/usr/bin") for name in ("pgbouncer", "nginx")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        step(f"installing {' '.join(missing)} from Debian's packages")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(install, env=env, timeout=600).returncode != 0:
            # a fresh machine may hold no package lists yet
            subprocess.run(["apt-get", "update"], check=True, env=env, timeout=600)
            subprocess.run(install, check=True, env=env, timeout=600)
        found = {name: shutil.which(name, path="/usr/sbin:/usr/bin") for name in found}
    pgbouncer, nginx = found["pgbouncer"], found["nginx"]
    assert pgbouncer and nginx, "pgbouncer or nginx not found after installing"
    return pgbouncer, nginx


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_database() -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    asyncio.run(_admin(f"CREATE DATABASE {DATABASE}"))
    # Not passed at connect through PgBouncer (app/core/db.py): set on the database.
    asyncio.run(_admin(f"ALTER DATABASE {DATABASE} SET plan_cache_mode = force_custom_plan"))


def drop_database() -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))


def pgbouncer_ini(tmp: Path, port: int) -> Path:
    """docker/pgbouncer.ini with this run's database, port, auth and files."""
    ini = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read(ROOT / "docker" / "pgbouncer.ini")
    ini["databases"] = {DATABASE: f"host={PG_HOST} port={PG_PORT} dbname={DATABASE} user={PG_USER}"}
    users = tmp / "userlist.txt"
    users.write_text(f'"{PG_USER}" ""\n')
    # Few server connections, so the clients of both instances take turns on them.
    ini["pgbouncer"].update(
        listen_addr="127.0.0.1",
        listen_port=str(port),
        unix_socket_dir="",
        auth_type="trust",
        auth_file=str(users),
        default_pool_size="3",
        reserve_pool_size="0",
        logfile=str(tmp / "pgbouncer.log"),
        pidfile=str(tmp / "pgbouncer.pid"),
    )
    path = tmp / "pgbouncer.ini"
    with path.open("w") as out:
        ini.write(out)
    return path


def nginx_conf(tmp: Path, port: int, instances: list[int]) -> Path:
    """docker/nginx.conf's blocks, included in a main config of this run's own."""
    blocks = (ROOT / "docker" / "nginx.conf").read_text()
    blocks = blocks.replace("server api1:8000", f"server 127.0.0.1:{instances[0]}")
    blocks = blocks.replace("server api2:8000", f"server 127.0.0.1:{instances[1]}")
    blocks = blocks.replace("listen 80;", f"listen 127.0.0.1:{port};")
    assert "api1" not in blocks and "api2" not in blocks and f":{port};" in blocks
    (tmp / "anjian.conf").write_text(blocks)
    temp = {name: tmp / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
        if os.geteuid() == 0:  # nginx's workers run as nobody
            shutil.chown(path, "nobody")
    main = f"""
daemon off;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "nginx-error.log"} warn;
events {{ worker_connections 512; }}
http {{
    access_log {tmp / "nginx-access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {tmp / "anjian.conf"};
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(main)
    return path


def wait_for(ready: Callable[[], bool], what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come up within {limit:.0f} s")
        time.sleep(0.2)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Topology:
    """Starts the processes; ``close`` stops each one it started, by its own handle."""

    def __init__(self, pgbouncer_bin: str, nginx_bin: str) -> None:
        self.pgbouncer_bin, self.nginx_bin = pgbouncer_bin, nginx_bin
        self.tmp = Path(tempfile.mkdtemp(prefix="anjian-topology-"))
        self.tmp.chmod(0o755)
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.pgbouncer_port = free_port()
        self.instance_ports = [free_port(), free_port()]
        self.nginx_port = free_port()

    @property
    def direct_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{DATABASE}"

    @property
    def bouncer_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.pgbouncer_port}/{DATABASE}"

    def env(self, url: str) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ANJIAN_DATABASE_URL": url,
            "ANJIAN_DATABASE_PGBOUNCER": "true",
            "ANJIAN_SECRET_KEY": SECRET_KEY,
            # Both instances share one data dir, as the compose file's volume: uploads are files.
            "ANJIAN_DATA_DIR": str(self.tmp / "data"),
            "ANJIAN_FORWARDED_ALLOW_IPS": "127.0.0.1",  # nginx connects from here
            "ANJIAN_LOGIN_MAX_FAILURES_PER_ADDRESS": str(PER_ADDRESS_LIMIT),
            # The daily job is the jobs mechanism's to prove (issue 10, another part).
            "ANJIAN_SCHEDULER_ENABLED": "false",
        }

    def _spawn(self, name: str, cmd: list[str], **kwargs: object) -> None:
        log = (self.tmp / f"{name}.out").open("wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]
        self.processes.append((name, proc))

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_pgbouncer(self) -> None:
        run_dir = self.tmp / "pgbouncer"
        run_dir.mkdir()
        ini = pgbouncer_ini(run_dir, self.pgbouncer_port)
        cmd = [self.pgbouncer_bin, str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            shutil.chown(run_dir, "postgres")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        self._spawn("pgbouncer", cmd)
        wait_for(lambda: port_open(self.pgbouncer_port), "pgbouncer", 20)

    def schema_and_admin(self) -> None:
        # Migrations straight to PostgreSQL, as the compose file's migrate service does.
        env = self.env(self.direct_url)
        env.pop("ANJIAN_DATABASE_PGBOUNCER")
        subprocess.run([*CLI, "db", "upgrade"], env=env, cwd=ROOT, check=True, timeout=300)
        # The first admin through PgBouncer: a write on the PgBouncer settings.
        subprocess.run(
            [
                *CLI,
                "init",
                "--county-code",
                "341302",
                "--county-name",
                "拓扑区",
                "--admin-username",
                ADMIN,
                "--admin-password",
                ADMIN_PASSWORD,
            ],
            env=self.env(self.bouncer_url),
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
        )

    def start_instances(self) -> None:
        for n, port in enumerate(self.instance_ports):
            self._spawn(
                f"instance{n}",
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=self.env(self.bouncer_url),
                cwd=ROOT,
            )
        for n, port in enumerate(self.instance_ports):
            wait_for(lambda p=port: http_ok(f"http://127.0.0.1:{p}/readyz"), f"instance {n}")

    def start_nginx(self) -> None:
        (self.tmp / "nginx").mkdir()
        conf = nginx_conf(self.tmp / "nginx", self.nginx_port, self.instance_ports)
        self._spawn(
            "nginx", [self.nginx_bin, "-e", str(self.tmp / "nginx" / "stderr.log"), "-c", str(conf)]
        )
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.nginx_port}/healthz"), "nginx", 20)

    def close(self) -> None:
        for name, proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    print(f"[topology] {name} did not stop; killing it", flush=True)
                    proc.kill()
                    proc.wait(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)


def client(base: str, local_address: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from ``local_address`` (any 127.x address is local)."""
    return httpx.Client(
        base_url=base,
        timeout=20,
        transport=httpx.HTTPTransport(local_address=local_address),
    )


def sign_in(c: httpx.Client, username: str, password: str) -> httpx.Response:
    return c.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def access_lines(top: Topology, name: str) -> list[dict[str, object]]:
    lines = []
    for line in top.log(name).splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("logger") == "anjian.access":
                lines.append(entry)
    return lines


def check_default_settings_refused(top: Topology) -> None:
    """The control: asyncpg as the service connects without ANJIAN_DATABASE_PGBOUNCER."""

    async def attempt() -> str:
        from sqlalchemy import text

        from app.core.db import make_engine

        engine = make_engine(top.bouncer_url, pgbouncer=False)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            return "connected"
        except Exception as exc:  # the refusal is what is checked
            return f"{type(exc).__name__}: {exc}"
        finally:
            await engine.dispose()

    outcome = asyncio.run(attempt())
    check(
        "plan_cache_mode" in outcome,
        f"without ANJIAN_DATABASE_PGBOUNCER, PgBouncer refuses the connection ({outcome[:90]})",
    )


def check_named_statements_break(top: Topology) -> None:
    """The control for the statement cache: asyncpg's named prepared statements (its default)
    through PgBouncer in transaction mode, with only the startup parameter left out."""

    async def attempt() -> list[str]:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(top.bouncer_url, connect_args={"timeout": 5})
        auto = engine.execution_options(isolation_level="AUTOCOMMIT")

        async def one(n: int) -> str:
            try:
                async with auto.connect() as conn:
                    for i in range(5):
                        await conn.execute(text(f"select {n % 4} + :i"), {"i": i})
                return "ok"
            except Exception as exc:  # the failure is what is checked
                inner = getattr(exc, "orig", exc)  # SQLAlchemy's error, then asyncpg's
                return type(inner.__cause__ or inner).__name__

        try:
            return await asyncio.gather(*(one(n) for n in range(30)))
        finally:
            await engine.dispose()

    outcomes = asyncio.run(attempt())
    failed = sorted({o for o in outcomes if o != "ok"})
    check(
        bool(failed),
        f"with named prepared statements, {len(outcomes) - outcomes.count('ok')} of "
        f"{len(outcomes)} connections fail through PgBouncer ({', '.join(failed)})",
    )


def check_plan_cache_mode(top: Topology) -> None:
    async def show() -> str:
        from sqlalchemy import text

        from app.core.db import make_engine

        engine = make_engine(top.bouncer_url, pgbouncer=True)
        try:
            async with engine.connect() as conn:
                return str((await conn.execute(text("show plan_cache_mode"))).scalar())
        finally:
            await engine.dispose()

    mode = asyncio.run(show())
    check(
        mode == "force_custom_plan", f"plan_cache_mode through PgBouncer, from the database: {mode}"
    )


def check_concurrency(lb: str, token: str, county: str) -> None:
    """Many more clients than PgBouncer's 3 server connections: statements of different
    clients interleave on them (named prepared statements would collide or go missing)."""

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=lb, timeout=30, headers=bearer(token)) as c:
            reads = [
                c.get(path)
                for _ in range(40)
                for path in ("/api/v1/me", "/api/v1/users", "/api/v1/org-units", "/api/v1/catalogs")
            ]
            writes = [
                c.post(
                    "/api/v1/org-units",
                    json={
                        "kind": "town",
                        "name": f"并发镇{i}",
                        "region_code": f"3413021{i:02d}",
                        "parent_id": county,
                    },
                )
                for i in range(20)
            ]
            answers = await asyncio.gather(*reads, *writes)
            return [r.status_code for r in answers]

    statuses = asyncio.run(run())
    reads, writes = statuses[:160], statuses[160:]
    check(all(s == 200 for s in reads), f"160 concurrent reads through PgBouncer: {set(reads)}")
    check(all(s == 201 for s in writes), f"20 concurrent writes through PgBouncer: {set(writes)}")


def check_idempotency(top: Topology, token: str, county: str) -> str:
    a, b = (client(f"http://127.0.0.1:{p}") for p in top.instance_ports)
    key = str(uuid.uuid4())
    body = {
        "username": "topology_officer",
        "password": "Officer!2026pass",
        "display_name": "拓扑 officer",
        "role": "officer",
        "org_unit_id": county,
    }
    headers = {**bearer(token), "Idempotency-Key": key}
    first = a.post("/api/v1/users", json=body, headers=headers)
    second = b.post("/api/v1/users", json=body, headers=headers)
    check(first.status_code == 201, f"POST /users with a key on instance A: {first.status_code}")
    check(
        second.status_code == 201 and second.json() == first.json(),
        f"the same POST on instance B answers the same ({second.status_code}, "
        f"Idempotent-Replayed: {second.headers.get('idempotent-replayed')})",
    )
    listed = a.get("/api/v1/users", params={"limit": 500}, headers=bearer(token)).json()
    named = [u for u in listed["items"] if u["username"] == body["username"]]
    check(len(named) == 1, f"one user created, not two ({len(named)})")
    return str(first.json()["id"])


def check_deactivation(top: Topology, lb: str, admin_token: str, user_id: str) -> None:
    with client(lb) as via_lb:
        signed = sign_in(via_lb, "topology_officer", "Officer!2026pass")
        check(signed.status_code == 200, "the new user signs in through nginx")
        officer = bearer(signed.json()["access_token"])
    instances = [client(f"http://127.0.0.1:{p}") for p in top.instance_ports]
    for n, c in enumerate(instances):
        check(c.get("/api/v1/me", headers=officer).status_code == 200, f"instance {n} serves it")
    # The change is made on instance A; B learns it from the change feed.
    patched = instances[0].patch(
        f"/api/v1/users/{user_id}", json={"is_active": False}, headers=bearer(admin_token)
    )
    check(patched.status_code == 200, f"deactivated through instance A ({patched.status_code})")
    start = time.monotonic()
    refused_after: dict[int, float] = {}
    while len(refused_after) < 2 and time.monotonic() - start < 5:
        for n, c in enumerate(instances):
            if n not in refused_after and c.get("/api/v1/me", headers=officer).status_code == 401:
                refused_after[n] = time.monotonic() - start
        time.sleep(0.05)
    check(
        len(refused_after) == 2 and max(refused_after.values()) < 1.5,
        "refused by both instances: "
        + ", ".join(f"{n}: {s:.2f} s" for n, s in sorted(refused_after.items())),
    )


def check_client_address(top: Topology, lb: str) -> None:
    """Per-address throttling counts the client behind nginx, and ignores a forged header."""

    def fail_from(c: httpx.Client, n: int, forged: Iterator[str] | None = None) -> list[int]:
        codes = []
        for i in range(n):
            headers = {"X-Forwarded-For": next(forged)} if forged else {}
            r = c.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": f"ghost{uuid.uuid4().hex[:8]}{i}",
                    "password": "wrong-password-1",
                },
                headers=headers,
            )
            codes.append(r.status_code)
        return codes

    def forged_addresses() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            yield f"203.0.113.{n}"

    limit = PER_ADDRESS_LIMIT
    with client(lb, "127.0.0.5") as five, client(lb, "127.0.0.6") as six:
        codes = fail_from(five, limit + 1)
        check(
            codes == [401] * limit + [429],
            f"through nginx, client 127.0.0.5 is throttled after {limit} failures: {codes}",
        )
        codes = fail_from(six, 1)
        check(codes == [401], f"through nginx, client 127.0.0.6 is not: {codes}")
        # A client that forges the header through nginx: nginx replaces it.
        forged = forged_addresses()
        codes = fail_from(six, limit, forged)
        check(
            codes == [401] * (limit - 1) + [429],
            f"a forged X-Forwarded-For through nginx is replaced by nginx: {codes}",
        )
    instance_a = f"http://127.0.0.1:{top.instance_ports[0]}"
    with client(instance_a, "127.0.0.7") as seven:
        # Straight at an instance from an untrusted peer, with a new forged address each time:
        # believed, every attempt would be a fresh address and never throttled.
        codes = fail_from(seven, limit + 1, forged_addresses())
        check(
            codes == [401] * limit + [429],
            f"a forged X-Forwarded-For straight to an instance from 127.0.0.7 is ignored: {codes}",
        )


def run(top: Topology) -> None:
    step(f"fresh database {DATABASE}; PgBouncer on :{top.pgbouncer_port} (transaction mode)")
    fresh_database()
    top.start_pgbouncer()
    top.schema_and_admin()
    check_default_settings_refused(top)
    check_named_statements_break(top)
    check_plan_cache_mode(top)
    step(f"instances on :{top.instance_ports[0]} and :{top.instance_ports[1]}")
    top.start_instances()
    step(f"nginx on :{top.nginx_port}")
    top.start_nginx()
    lb = f"http://127.0.0.1:{top.nginx_port}"

    with client(lb) as c:
        signed = sign_in(c, ADMIN, ADMIN_PASSWORD)
        check(signed.status_code == 200, f"admin signs in through nginx ({signed.status_code})")
        token = signed.json()["access_token"]
        me = c.get("/api/v1/me", headers=bearer(token)).json()
        county = me["org_unit"]["id"]
    # New connections, so nginx's round robin is not hidden by one kept-alive connection.
    for _ in range(10):
        with client(lb) as c:
            assert c.get("/api/v1/me", headers=bearer(token)).status_code == 200
    served = [
        sum(1 for e in access_lines(top, f"instance{n}") if e.get("path") == "/api/v1/me")
        for n in range(2)
    ]
    check(
        min(served) > 0, f"nginx spreads requests over both instances ({served[0]} + {served[1]})"
    )

    check_concurrency(lb, token, county)
    user_id = check_idempotency(top, token, county)
    check_deactivation(top, lb, token, user_id)
    check_client_address(top, lb)

    errors = [
        line
        for n in range(2)
        for line in top.log(f"instance{n}").splitlines()
        if "prepared statement" in line or '"level": "error"' in line.lower()
    ]
    check(not errors, f"no errors in the instances' logs ({len(errors)})")


def main() -> int:
    pgbouncer_bin, nginx_bin = ensure_packages()
    top = Topology(pgbouncer_bin, nginx_bin)
    started = time.monotonic()
    try:
        run(top)
    except Exception as exc:
        print(f"[topology] FAILED: {type(exc).__name__}: {exc}", flush=True)
        for name, _ in top.processes:
            print(f"----- {name} (last lines)\n" + "\n".join(top.log(name).splitlines()[-15:]))
        return 1
    finally:
        top.close()
        drop_database()
    step(f"all checks passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
