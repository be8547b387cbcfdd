from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from app.auth.deps import public
from app.core.migrations import head_revision

router = APIRouter(tags=["operations"], dependencies=[Depends(public)])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", operation_id="healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
)
async def readyz(request: Request) -> Response:
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
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
