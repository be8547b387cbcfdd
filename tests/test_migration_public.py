"""Migration 0013 (public disclosure, rate limits) on a database holding the demo county: taken
back to the revision before it and upgraded again, every row is kept, the public description
starts empty (the public list shows titles), and the demo's disclosed hazards are listed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command

from app.core.config import Settings
from app.core.migrations import alembic_config
from tests.servers import own_database
from tests.test_migrations import _execute, _load_demo, _query


def test_upgrade_to_0013_keeps_the_demo_county_and_lists_its_disclosed_hazards(
    tmp_path: Path,
) -> None:
    with own_database("anjian_migration_public", tmp_path / "public.db") as url:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        asyncio.run(_load_demo(url))
        counted = (
            "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM enterprises), "
            "(SELECT count(*) FROM hazard_events), (SELECT count(*) FROM org_units)"
        )
        before = asyncio.run(_query(url, counted))
        disclosed = (
            "SELECT count(*) FROM hazards WHERE supervision_disclosed "
            "AND supervision_org_unit_id IS NOT NULL AND status <> 'voided'"
        )
        shown = asyncio.run(_query(url, disclosed))[0][0]
        assert shown > 0  # the demo discloses some of its listed major hazards

        command.downgrade(cfg, "0013-1")
        columns = (
            "SELECT name FROM pragma_table_info('hazards')"
            if url.startswith("sqlite")
            else "SELECT column_name FROM information_schema.columns WHERE table_name = 'hazards'"
        )
        assert ("supervision_public_description",) not in asyncio.run(_query(url, columns))
        command.upgrade(cfg, "head")

        assert asyncio.run(_query(url, counted)) == before
        assert asyncio.run(
            _query(url, "SELECT count(*) FROM hazards WHERE supervision_public_description IS NULL")
        ) == [(before[0][0],)]
        asyncio.run(_execute(url, [("DELETE FROM rate_limits", {})]))
        assert asyncio.run(_listed(url, tmp_path)) == shown


async def _listed(url: str, tmp_path: Path) -> int:
    import httpx

    from app.main import create_app

    settings = Settings(
        database_url=url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-not-for-production-0123456789",
        scheduler_enabled=False,
    )
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.get("/api/v1/public/major-hazards", params={"include_total": "true"})
            assert r.status_code == 200, r.text
            assert all(i["description"] for i in r.json()["items"])
            return int(r.json()["total"])
    finally:
        await app.state.engine.dispose()
