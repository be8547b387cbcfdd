"""The blacklist (联合惩戒黑名单): credit repair (信用修复) of an entry, and the public list of the
current entries (定期公布, no sign-in). Entries are put on by an inspection's decision
(app/services/blacklist.py: list_enterprise) and shown on the enterprise (`blacklist`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.api.v1.public import rule
from app.auth.deps import Requires, public
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.errors import TooManyRequests
from app.core.http import json_response, page_response
from app.schemas.blacklist import BlacklistRemove, PublicBlacklistPage
from app.schemas.common import ListParams, list_params_for
from app.schemas.enterprises import BlacklistEntryOut
from app.services import blacklist as service
from app.services import rate_limit

router = APIRouter(route_class=ApiRoute)
EnterpriseId = Annotated[str, Path(max_length=64)]
EntryId = Annotated[str, Path(max_length=64)]


@router.post(
    "/enterprises/{enterprise_id}/blacklist/{entry_id}/remove",
    operation_id="remove_blacklist_entry",
    response_model=BlacklistEntryOut,
    tags=["enterprises"],
    summary="Take an enterprise off the blacklist (credit repair)",
)
async def remove_blacklist_entry(
    session: SessionDep,
    p: Requires(Permission.enterprises_update),
    enterprise_id: EnterpriseId,
    entry_id: EntryId,
    body: Annotated[BlacklistRemove, Body(openapi_examples=examples.BLACKLIST_REMOVE)],
) -> Response:
    """信用修复: takes the current blacklist entry off, recording when, why (`reason`) and by
    whom (`removed_at`, `removed_reason`, `removed_by`); the entry stays in the enterprise's
    `blacklist` as a past one and leaves the public list. Answers the entry.

    Who: admins and the county office's managers and officers, or the managers and officers of
    the unit that decided the listing (`decided_by_unit_id`), with `enterprises:update`.
    Errors: 404 `not_found` (the enterprise or the entry does not exist or lies outside the
    caller's scope); 403 `forbidden` (another town or bureau); 409 `blacklist_entry_removed`
    (already removed); 422 `validation_error`.
    """
    out = await service.remove(session, p, enterprise_id, entry_id, body.reason)
    return json_response(out)


@router.get(
    "/public/blacklist",
    operation_id="list_public_blacklist",
    response_model=PublicBlacklistPage,
    dependencies=[Depends(public)],
    tags=["public"],
    responses={429: {"description": "Too many requests from this address; see `Retry-After`"}},
    summary="List blacklisted enterprises (public)",
)
async def list_public_blacklist(
    request: Request,
    session: SessionDep,
    params: Annotated[
        ListParams, Depends(list_params_for(service.PUBLIC_SORTS, service.PUBLIC_DEFAULT_SORT))
    ],
    county_code: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="One county (6-digit code)")
    ] = None,
) -> Response:
    """The enterprises on the joint-punishment blacklist now (失信联合惩戒黑名单, 定期公布): name,
    unified social credit code, county, reason and listing time; entries removed by credit
    repair are not shown. Newest listing first (`sort=-listed_at`), cursor pagination like
    every list (`limit` ≤ 500, `cursor`, `include_total`); every county of the deployment,
    `county_code` narrows to one. `Cache-Control: public, max-age=60`;
    `Access-Control-Allow-Origin: *`.

    Who: anyone; no sign-in (an `Authorization` header is ignored). Rate-limited per client
    address together with the other public endpoints (`ANJIAN_PUBLIC_RATE_LIMIT_PER_MINUTE`):
    429 `rate_limited` with `Retry-After`. Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    try:
        await rate_limit.check(request, session, rule(request))
    except TooManyRequests as refused:  # a portal on another origin must read it too
        refused.headers["Access-Control-Allow-Origin"] = "*"
        raise
    page = await service.list_public(session, params, county_code)
    response = page_response(PublicBlacklistPage, page.rows, page)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
