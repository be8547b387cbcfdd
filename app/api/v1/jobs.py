from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response, page_response
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.jobs import JobKind, JobOut, JobPage, JobStatus
from app.services import job_queue as service

router = APIRouter(tags=["jobs"], route_class=ApiRoute)

JobId = Annotated[str, Path(max_length=64)]
# Admins only: ``jobs:read`` is held by the admin role alone and never granted to a machine
# client (app/auth/permissions.py).
ADMIN = Permission.jobs_read


@router.get(
    "/jobs",
    operation_id="list_jobs",
    response_model=JobPage,
    summary="List background jobs",
)
async def list_jobs(
    session: SessionDep,
    p: Requires(ADMIN),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    status: any_of(JobStatus, "Jobs in any of these states") = None,
    kind: any_of(JobKind, "Jobs of any of these kinds") = None,
) -> Response:
    """The queue of scheduled and background work (后台任务): the daily overdue run
    (`overdue`, one per local day), housekeeping, and later imports, exports and webhook
    deliveries. Each job shows its state, attempts, the last error, the worker holding it and
    until when (its lease), and what it reported. One page at a time (`limit` ≤ 500, `cursor`,
    `include_total`); newest first by default (`sort`: `created_at` or `run_at`, `-` for
    descending). Filters: `status`, `kind` (several values, repeated or comma-separated).

    Who: admins. Errors: 403 `forbidden` for every other role and for machine clients; 422
    `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_jobs(session, p, params, status=status, kind=kind)
    return page_response(JobPage, [JobOut.model_validate(dict(r)) for r in page.rows], page)


@router.get(
    "/jobs/{job_id}",
    operation_id="get_job",
    response_model=JobOut,
    summary="Get a background job",
)
async def get_job(session: SessionDep, p: Requires(ADMIN), job_id: JobId) -> Response:
    """One job of the queue: its kind and payload, state, `run_at` (its retry after a failure),
    attempts out of `max_attempts`, the last error, the lease (`locked_by`, `locked_until`) and
    its result.

    Who: admins. Errors: 403 `forbidden` for every other role; 404 `not_found` when no such job
    exists (finished jobs are kept 30 days).
    """
    row = await service.get_job(session, p, job_id)
    return json_response(JobOut.model_validate(dict(row)))
