"""create_app(): routers, middleware and error handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.api import health, problems
from app.api.docs import install_docs
from app.api.hot import HotReadMiddleware
from app.api.idempotency import IdempotentReplay, replay_handler
from app.api.v1 import (
    accountability,
    attachments,
    auth,
    blacklist,  # i12-check
    catalogs,
    changes,  # issue 17, the change feed
    checklists,  # i12-check
    draws,  # issue 12, double-random draws
    enterprise_statistics,
    enterprises,
    exports,
    hazards,
    imports,  # issue 16, bulk import
    inspection_statistics,
    inspections,
    jobs,
    major_hazard_installations,  # i12-check
    maps,  # issue 13, maps (i13-geo)
    me,
    notice_boards,  # issue 13, 风险告知牌
    notifications,
    org_units,
    public,
    public_reports,  # issue 15, public reports (群众举报)
    reminders,
    reports,
    risk_lists,  # issue 13, the three lists (risklists)
    risk_points,
    tasks,  # issue 14, task lists and tasks
    unit_statistics,
    users,
    webhooks,  # issue 17, webhook subscriptions
)
from app.auth.principal_cache import PrincipalCache, poll_loop
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_read_sessionmaker, make_sessionmaker
from app.core.errors import install_error_handlers
from app.core.middleware import (
    CORS_EXPOSED_HEADERS,
    CORS_REQUEST_HEADERS,
    BodyLimitMiddleware,
    CompressionMiddleware,
    IdempotencyBodyMiddleware,
    MediaTypeMiddleware,
    RequestContextMiddleware,
    route_table,
)
from app.core.openapi import package_version
from app.core.storage import LocalStorage
from app.services.jobs import scheduler_loop

API_ROUTERS = (
    auth.router,
    changes.router,
    webhooks.router,
    me.router,
    org_units.router,
    users.router,
    catalogs.router,
    enterprises.router,
    hazards.router,
    enterprise_statistics.router,
    attachments.router,
    reminders.router,
    notifications.router,
    jobs.router,
    unit_statistics.router,
    accountability.router,
    public.router,
    inspections.router,
    risk_points.router,
    # issue 13, the risk register's three lists (一图一牌三清单)
    risk_lists.router,
    # issue 12, double-random draws (双随机一公开)
    draws.router,
    draws.public_router,
    # issue 12, checklists, blacklist and major hazard installations (i12-check)
    checklists.router,
    blacklist.router,
    major_hazard_installations.router,
    # issue 13, maps (i13-geo)
    maps.router,
    # issue 13, the risk notice board (风险告知牌)
    notice_boards.router,
    tasks.router,
    # issue 12: enforcement figures and self-inspection compliance
    inspection_statistics.router,
    # issue 15: public reports, open intake and tracking, and their handling
    public_reports.router,
    reports.router,
    # issue 16: bulk import
    imports.router,
    # issue 16: exports built in the background
    exports.router,
)

DESCRIPTION = """
安监 — multi-level work-safety supervision (安全生产隐患排查治理) for Chinese counties.

Conventions: cursor pagination (`limit` ≤ 500, `cursor`, `include_total`), `ETag`/`If-Match`,
`Idempotency-Key` on POST, RFC 9457 problems (Chinese by default, English with
`Accept-Language: en`), out-of-scope objects answer 404.

Versioning: `info.version` is the package version; `CHANGELOG.md` in the repository records
every change of this contract. Compatible changes keep the `/api/v1` prefix.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(poll_loop(app.state.poll_sessionmaker, app.state.principal_cache))
        ]
        if settings.scheduler_enabled:
            tasks.append(asyncio.create_task(scheduler_loop(app.state.sessionmaker, settings)))
        yield
        for task in tasks:
            task.cancel()
        await app.state.engine.dispose()
        if app.state.read_engine is not None:
            await app.state.read_engine.dispose()

    app = FastAPI(
        title="anjian 安监 API",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by install_docs (app/api/docs.py)
        redoc_url=None,
        telemetry=None
        if settings.opentelemetry_enabled
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    pgbouncer = settings.database_pgbouncer
    app.state.engine = make_engine(settings.resolved_database_url, pgbouncer=pgbouncer)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    # The caller-change poll reads and prunes on the primary, never on a replica.
    app.state.poll_sessionmaker = make_read_sessionmaker(app.state.engine)
    # GET/HEAD on the read replica when ANJIAN_DATABASE_READ_URL is set (it may lag the primary).
    read_url = settings.database_read_url
    app.state.read_engine = make_engine(read_url, pgbouncer=pgbouncer) if read_url else None
    app.state.read_sessionmaker = (
        make_read_sessionmaker(app.state.read_engine)
        if app.state.read_engine is not None
        else app.state.poll_sessionmaker
    )
    app.state.principal_cache = PrincipalCache(settings.principal_cache_seconds)
    app.state.storage = LocalStorage(settings.data_dir / "files")
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, replay_handler)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api/v1")
    app.include_router(health.router)
    app.include_router(problems.router)
    install_docs(app)
    # Added last = outermost: request ids wrap everything, then limits, then the body hash for
    # Idempotency-Key (its records are kept in the unit of work, app/api/idempotency.py).
    app.state.routes = route_table(app)
    app.add_middleware(HotReadMiddleware)  # innermost: answers or passes on (app/api/hot.py)
    app.add_middleware(IdempotencyBodyMiddleware)
    app.add_middleware(MediaTypeMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(CompressionMiddleware, minimum_size=1000)
    origins = [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        # Outside the limits, so a 413 or 415 still reaches the page with its CORS headers.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware)
    return app
