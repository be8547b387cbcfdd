from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from app.api.idempotency import ApiRoute
from app.auth.deps import public
from app.core.errors import NotFound, Unauthorized
from app.core.migrations import head_revision

router = APIRouter(tags=["operations"], dependencies=[Depends(public)], route_class=ApiRoute)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="Liveness probe")
async def healthz() -> Health:
    """Answers `{"status": "ok"}` while the process serves requests, without touching the
    database: for a liveness probe (restart the process when it fails). Use `/readyz` to decide
    whether to send traffic. Open to everyone, no token; like every route it refuses unknown
    query parameters (422 `unknown_parameter`)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: see `database`, `migrations`"}},
    summary="Readiness probe",
)
async def readyz(request: Request) -> Response:
    """200 when the database is reachable and migrated to the head revision this code expects;
    503 with the same body otherwise (`database`: `unreachable`, or `migrations`: the revision
    found and the one expected), so a load balancer sends traffic only to instances that can
    answer. Open to everyone, no token."""
    engine = request.app.state.engine
    database, migrations = "ok", "ok"
    try:
        async with engine.connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
        if current != head_revision():
            migrations = f"at {current}, head is {head_revision()}"
    except Exception:  # any failure to reach or read the database means not ready
        database, migrations = "unreachable", "unknown"
    ready = database == "ok" and migrations == "ok"
    body = Readiness(
        status="ok" if ready else "unavailable", database=database, migrations=migrations
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        401: {"description": "Missing or wrong metrics token"},
        404: {"description": "No metrics token is configured: metrics are not served"},
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route and status, and the process's figures, in the
    Prometheus text format. Only for the scraper: send `Authorization: Bearer
    <ANJIAN_METRICS_TOKEN>` (401 `invalid_metrics_token` without it or with another), since
    route names, statuses and latencies tell an attacker much. Without `ANJIAN_METRICS_TOKEN`
    configured the endpoint does not exist for anyone (404 `not_found`)."""
    expected = request.app.state.settings.metrics_token
    if not expected:
        raise NotFound("未找到", "Not found")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        raise Unauthorized(
            "需要指标访问令牌",
            "The metrics token is missing or wrong",
            code="invalid_metrics_token",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
