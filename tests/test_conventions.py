"""Project-wide guarantees: every route declares a permission, schema and migrations match."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.routing import APIRoute, iter_route_contexts

from app.main import create_app
from app.models import Base
from tests.conftest import METRICS_TOKEN

METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}

ROOT = Path(__file__).resolve().parents[1]


def _calls(dependant) -> list:  # type: ignore[no-untyped-def]
    out = []
    for dep in dependant.dependencies:
        out.append(dep.call)
        out.extend(_calls(dep))
    return out


def test_every_route_declares_a_permission_or_is_marked_public(app) -> None:  # type: ignore[no-untyped-def]
    checked, missing = 0, []
    for ctx in iter_route_contexts(app.router.routes):
        if not isinstance(ctx.route, APIRoute):
            continue
        checked += 1
        calls = _calls(ctx.route.dependant)
        if not any(
            hasattr(c, "required_permission") or getattr(c, "is_public", False) for c in calls
        ):
            missing.append(f"{sorted(ctx.methods or ())} {ctx.path}")
    assert checked >= 30
    assert missing == []


def test_every_operation_has_an_operation_id_and_named_schemas(app) -> None:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(not i.endswith("_get") and not i.endswith("_post") for i in ids)


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == create_app().openapi(), "openapi.json is stale: run `make openapi`"


async def test_migrations_match_the_models(app) -> None:  # type: ignore[no-untyped-def]
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with app.state.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_every_response_has_a_request_id(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/healthz")
    assert r.headers["x-request-id"]
    r = await client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"


async def test_readyz_checks_database_and_migrations(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "migrations": "ok"}


async def test_metrics_are_prometheus_text(client) -> None:  # type: ignore[no-untyped-def]
    await client.get("/healthz")
    r = await client.get("/metrics", headers=METRICS)
    assert r.status_code == 200
    assert "anjian_http_requests_total" in r.text


async def test_metrics_label_requests_by_route_template(client, world) -> None:  # type: ignore[no-untyped-def]
    await client.get(f"/api/v1/enterprises/{world['ent_a1']}", headers=world.h("admin"))
    text = (await client.get("/metrics", headers=METRICS)).text
    assert 'route="/api/v1/enterprises/{enterprise_id}"' in text
    assert world["ent_a1"] not in text
