"""What the service sends for each bench request, taken from the service itself, not copied.

The app is run in this process (``create_app`` + its lifespan, through httpx's ASGI transport)
with a class-level SQLAlchemy ``before_cursor_execute`` listener, so whatever the tree's code
does today is what the reference replays: same SQL text, the parameters with their Python types.
Each request is sent three times (caches warm, like a server in steady state) and the third is
recorded. The same request is counted on the PostgreSQL side too: with ``log_statement = all``
set on the bench database for this phase only, every round trip (``BEGIN``, pre-ping ``;``,
``COMMIT``, ...) appears in the server log, which SQLAlchemy's cursor events do not show.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")


@dataclass
class Scenario:
    """One measured request: ``path`` may hold ``{id}``, filled from ``ids`` in turn."""

    key: str
    label: str
    kind: str  # hazard_list | hazard_detail | enterprise_list | enterprise_detail | statistics
    who: str  # admin | town
    path: str
    query: dict[str, str] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    # filled by capture():
    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    captured_id: str | None = None
    body: Any = None
    sa_statements: int = 0
    pg_statements: int | None = None
    pg_lines: list[str] = field(default_factory=list)

    def url(self, i: int = 0) -> str:
        path = self.path.replace("{id}", self.ids[i % len(self.ids)]) if self.ids else self.path
        if self.query:
            path += "?" + "&".join(f"{k}={v}" for k, v in self.query.items())
        return path


def _pg_lines(database: str, start: int) -> list[str]:
    """Statement lines of ``database`` written to the server log since byte ``start``."""
    with PG_LOG.open("rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    tag = f"@{database} "
    return [
        line.split("LOG:  ", 1)[1][:160]
        for line in text.splitlines()
        if tag in line and ("LOG:  statement: " in line or "LOG:  execute " in line)
    ]


def _log_size() -> int | None:
    try:
        return PG_LOG.stat().st_size
    except OSError:
        return None


async def capture(
    dsn: str, database: str, tokens: dict[str, str], secret: str, scenarios: list[Scenario]
) -> dict[str, Any]:
    """Runs every scenario through the in-process app and fills in what it sent and answered.

    Returns the app's own ``Principal`` of each caller, as the app's workflow saw it (the
    reference needs it for ``allowed_actions``; building one here would copy the auth code)."""
    import app.services.hazards.workflow as workflow

    principals: dict[str, Any] = {}
    current = [""]
    original = workflow.allowed_actions

    def spy(p: Any, facts: Any) -> list[str]:
        principals.setdefault(current[0], p)
        return original(p, facts)

    conn = await asyncpg.connect(dsn)
    readable = _log_size() is not None
    try:
        if readable:
            await conn.execute(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")
        with tempfile.TemporaryDirectory(prefix="anjian-bench-capture-") as tmp:
            os.environ.update(
                ANJIAN_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
                ANJIAN_SECRET_KEY=secret,
                ANJIAN_DATA_DIR=tmp,
                ANJIAN_SCHEDULER_ENABLED="false",
            )
            from app.core.config import get_settings
            from app.main import create_app

            get_settings.cache_clear()
            app = create_app()
            recorded: list[tuple[str, tuple[Any, ...]]] = []

            def record(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
                recorded.append((statement, tuple(params or ())))

            event.listen(Engine, "before_cursor_execute", record)
            workflow.allowed_actions = spy  # type: ignore[assignment]
            try:
                async with (
                    app.router.lifespan_context(app),
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://bench"
                    ) as client,
                ):
                    for s in scenarios:
                        headers = {"Authorization": f"Bearer {tokens[s.who]}"}
                        current[0] = s.who
                        for i in range(3):
                            recorded.clear()
                            start = _log_size()
                            r = await client.get(s.url(i), headers=headers)
                            if r.status_code != 200:
                                raise SystemExit(f"{s.label}: HTTP {r.status_code} {r.text[:400]}")
                        s.statements = list(recorded)
                        s.sa_statements = len(recorded)
                        s.captured_id = s.ids[2 % len(s.ids)] if s.ids else None
                        s.body = r.json()
                        if readable and start is not None:
                            s.pg_lines = _pg_lines(database, start)
                            s.pg_statements = len(s.pg_lines)
            finally:
                workflow.allowed_actions = original  # type: ignore[assignment]
                event.remove(Engine, "before_cursor_execute", record)
    finally:
        if readable:
            await conn.execute(f'ALTER DATABASE "{database}" RESET log_statement')
        await conn.close()
    return principals
