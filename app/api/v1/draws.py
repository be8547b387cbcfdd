"""Double-random draws (双随机一公开): drawing (``POST /draws``), the record anyone in the unit may
check (``GET /draws/{draw_id}``), and its publication once the inspections are over
(``GET /public/draws/{draw_id}``, no sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.public import rule as public_rule
from app.auth.deps import Requires, public
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.errors import TooManyRequests
from app.core.http import json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, list_params_for
from app.schemas.draws import DrawCreate, DrawOut, DrawPage, PublicDraw
from app.services import rate_limit
from app.services.draws import service

router = APIRouter(tags=["draws"], route_class=ApiRoute)
public_router = APIRouter(tags=["public"], dependencies=[Depends(public)], route_class=ApiRoute)
DrawId = Annotated[str, Path(max_length=64)]
DRAW_EXAMPLES = {
    "rate": {
        "summary": "A fifth of the county's industry and trade enterprises",
        "value": {
            "name": "2026年第四季度工贸企业双随机抽查",
            "sector": ["industry_trade", "metallurgy"],
            "not_inspected_since": "2026-07-01",
            "inspector_ids": ["<user id>", "<user id>", "<user id>", "<user id>"],
            "sample_rate": "0.2",
            "seed": "福利彩票双色球2026140期开奖号码 03 09 14 21 27 30 + 11",
            "planned_for": "2026-12-15",
        },
    },
    "size": {
        "summary": "Five red or orange enterprises of one town",
        "value": {
            "name": "符离镇重点企业双随机检查",
            "region_code": "341302100",
            "risk_color": ["red", "orange"],
            "inspector_ids": ["<user id>", "<user id>"],
            "sample_size": 5,
            "seed": "2026-12-03 县应急管理局公告种子 A7F3",
            "planned_for": "2026-12-10",
        },
    },
}


@router.get(
    "/draws",
    operation_id="list_draws",
    response_model=DrawPage,
    summary="List double-random draws",
)
async def list_draws(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.draws_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
) -> Response:
    """The double-random draws (双随机) the caller sees, newest first by default, one page at a
    time (`limit` ≤ 500, `cursor`, `include_total`; `sort` on `created_at` or `planned_for`).
    Each item: name, conducting unit, planned day, seed, algorithm, the pools' sizes and the
    number picked; the detail has the pools and the picks.

    Who: government staff with `draws:read`: admins and county staff every draw of their
    county, a town or bureau the draws it conducts. Enterprise users and experts: 403. Errors:
    422 `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_draws(session, p, params)
    en = wants_english(request)
    return page_response(DrawPage, [service.summary(r, en) for r in page.rows], page)


@router.post(
    "/draws",
    operation_id="create_draw",
    response_model=DrawOut,
    status_code=201,
    summary="Make a double-random draw",
)
async def create_draw(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.draws_write),
    body: Annotated[DrawCreate, Body(openapi_examples=DRAW_EXAMPLES)],
) -> Response:
    """Makes a double-random draw (双随机抽查) and plans its inspections. The enterprise pool
    is the operating enterprises of the caller's scope matching every filter given (`sector`,
    `region_code` prefix, `risk_color`, `not_inspected_since`: no inspection other than its own
    self-inspection completed on or after that local day); the inspector pool is
    `inspector_ids`. `sample_size` (the whole pool when smaller) or `sample_rate` (0 < rate ≤
    1: round half up, at least one) says how many enterprises are picked.

    The picks follow the published algorithm `hmac-sha256-rank` version 1 (README, 双随机抽取算法)
    over the `seed`: the same inputs always give the same picks, and anyone can recompute them
    from `GET /api/v1/draws/{draw_id}`. The seed must be fixed before the draw and announced by
    the county (for example the number of a public lottery on a stated day), so that nobody can
    choose it after seeing the pools. Each picked enterprise gets two certified inspectors, never
    of the enterprise's own town (回避), the work spread evenly; one `double_random` inspection
    is planned per pick (`planned`, conducted by `conducting_unit_id`, numbered like every
    inspection, never visible to the enterprise before it starts), all in one transaction.
    `Idempotency-Key` makes a retry safe. 201 with `Location`.

    Who: admins, managers and officers (`draws:write`); the conducting unit is the caller's own,
    or for admins and county staff any unit of the county. Errors: 403 `forbidden`,
    `outside_scope` (a town or bureau naming another unit); 422 `draw_pool_empty`,
    `draw_unpaired` (names the enterprises no pair of inspectors can be formed for),
    `unknown_inspector`, `inspector_not_certified`, `unknown_org_unit`, `unknown_checklist`,
    `validation_error`.
    """
    out = await service.create(session, p, request.app.state.settings, body, wants_english(request))
    return json_response(
        out, status_code=201, version=service.VERSION, location=f"/api/v1/draws/{out['id']}"
    )


@router.get(
    "/draws/{draw_id}",
    operation_id="get_draw",
    response_model=DrawOut,
    summary="Get a double-random draw",
)
async def get_draw(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.draws_read),
    draw_id: DrawId,
) -> Response:
    """Everything needed to check a draw by recomputing it (the algorithm is in the README,
    双随机抽取算法): the seed, the algorithm's name and version, the criteria and sample, the
    enterprise pool (ids sorted, each with its region code at the draw) and the inspector pool
    (ids sorted, each with its name and town at the draw), and the picks in rank order with the
    enterprise, the two inspectors and the inspection planned (its number and current status).
    A draw never changes; its inspections' statuses are read live.

    Who: as for the list. Errors: 404 `not_found` when the draw does not exist or is not the
    caller's to see (the two are indistinguishable).
    """
    out = await service.read_detail(session, p, draw_id, wants_english(request))
    return json_response(out, version=service.VERSION)


@public_router.get(
    "/public/draws/{draw_id}",
    operation_id="get_public_draw",
    response_model=PublicDraw,
    responses={429: {"description": "Too many requests from this address; see `Retry-After`"}},
    summary="Get a published double-random draw (public)",
)
async def get_public_draw(request: Request, session: SessionDep, draw_id: DrawId) -> Response:
    """The publication of a double-random draw (双随机一公开), for a public web page, once every
    inspection it planned is over (completed, signed or cancelled): the draw's name, the day it
    was drawn, the planned day, the seed and the algorithm; per pick, in rank order, the
    enterprise's name, the inspectors' names and the result (the inspection's status, its
    number of findings and the kinds of its decisions). Nothing else: no ids of people, no
    pools. Before that, 404, exactly as for a draw that does not exist.
    `Access-Control-Allow-Origin: *`.

    Who: anyone; no sign-in (an `Authorization` header is ignored). Rate-limited per client
    address with the other public endpoints (`ANJIAN_PUBLIC_RATE_LIMIT_PER_MINUTE`): 429
    `rate_limited` with `Retry-After`. Errors: 404 `not_found`.
    """
    try:
        await rate_limit.check(request, session, public_rule(request))
    except TooManyRequests as refused:
        refused.headers["Access-Control-Allow-Origin"] = "*"
        raise
    out = await service.read_public(session, request.app.state.settings, draw_id)
    response = json_response(out)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
