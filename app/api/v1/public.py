"""Open endpoints (no sign-in): the public list of disclosed major hazards (向社会公布). Any
``Authorization`` header is ignored; requests are rate-limited per client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import public
from app.core.db import SessionDep
from app.core.errors import TooManyRequests
from app.core.http import page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.public import PublicHazardStatus, PublicMajorHazardPage
from app.services import public_hazards, rate_limit
from app.services.public_hazards import PublicFilters

router = APIRouter(tags=["public"], dependencies=[Depends(public)], route_class=ApiRoute)


def rule(request: Request) -> rate_limit.Rule:
    settings = request.app.state.settings
    return rate_limit.Rule("public", settings.public_rate_limit_per_minute, 60)


@router.get(
    "/public/major-hazards",
    operation_id="list_public_major_hazards",
    response_model=PublicMajorHazardPage,
    responses={429: {"description": "Too many requests from this address; see `Retry-After`"}},
    summary="List disclosed major hazards (public)",
)
async def list_public_major_hazards(
    request: Request,
    session: SessionDep,
    params: Annotated[
        ListParams,
        Depends(list_params_for(public_hazards.SORTS, public_hazards.DEFAULT_SORT)),
    ],
    county_code: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="One county (6-digit code)")
    ] = None,
    region_code: Annotated[
        str | None,
        Query(pattern=r"^\d{1,12}$", description="Prefix of the enterprise's region code"),
    ] = None,
    status: any_of(PublicHazardStatus, "rectifying (open) or closed") = None,
) -> Response:
    """Major hazards (重大事故隐患) under listed supervision (挂牌督办) that the supervising unit
    disclosed to the public (`supervise` with `disclosed=true`), for a public web page: open
    (`status=rectifying`: registered, rectifying or awaiting acceptance) and closed ones
    (`closed`) for `ANJIAN_PUBLIC_CLOSED_DAYS` (90) days after they were closed. Voided hazards
    and hazards taken off the list (`unsupervise`) are not shown.

    Each item carries only the public fields: number and county, enterprise name, town,
    `description` (the public description given when disclosing, else the title), deadline,
    supervising unit, status, listing and closing times. Never people (finder, responsible
    persons, supervisors), attachments or internal ids. Town and unit names and `status_label`
    are English under `Accept-Language: en`.

    Every county of the deployment: `county_code` narrows to one, `region_code` to a town or
    village (prefix). Newest listing first (`sort=-listed_at`), cursor pagination like every
    list (`limit` ≤ 500, `cursor`, `include_total`). `Cache-Control: public, max-age=60`;
    `Access-Control-Allow-Origin: *` (a public page on any origin may read it, without
    credentials).

    Who: anyone; no sign-in (an `Authorization` header is ignored). Rate-limited per client
    address (`ANJIAN_PUBLIC_RATE_LIMIT_PER_MINUTE`, 120 a minute): 429 `rate_limited` with
    `Retry-After`. Errors: 422 `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    try:
        await rate_limit.check(request, session, rule(request))
    except TooManyRequests as refused:  # a portal on another origin must read it too
        refused.headers["Access-Control-Allow-Origin"] = "*"
        raise
    filters = PublicFilters(
        county_code=county_code,
        region_code=region_code,
        status=tuple(status) if status else None,
    )
    items, page = await public_hazards.list_public(
        session, request.app.state.settings, params, filters, wants_english(request)
    )
    response = page_response(PublicMajorHazardPage, items, page)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Vary"] = "Accept-Language"
    # Public data, read without credentials: a county's portal on any origin may show it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
