from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response, page_response
from app.core.i18n import wants_english
from app.schemas.accountability import (
    AccountabilityCreate,
    AccountabilityOut,
    AccountabilityPage,
    AccountabilityRung,
    TargetType,
)
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.dates import DateOrDateTime
from app.services.accountability import service
from app.services.accountability.service import RecordFilters

router = APIRouter(tags=["accountability"], route_class=ApiRoute)
AccountabilityId = Annotated[str, Path(max_length=64)]


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


@router.get(
    "/accountability",
    operation_id="list_accountability",
    response_model=AccountabilityPage,
    summary="List accountability records",
)
async def list_accountability(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.accountability_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    target_type: any_of(TargetType) = None,
    target_org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    target_enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    rung: any_of(AccountabilityRung) = None,
    decided_at_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    decided_at_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
) -> Response:
    """Accountability records (问责: 函告, 通报, 约谈, 曝光) in the caller's scope, newest first
    by default, one page at a time (`limit` ≤ 500, `cursor`, `include_total`). Scope: county
    staff and admins every record of their county; a town or bureau the records about itself
    and about the enterprises in its scope; an enterprise user the records about its own
    enterprise. Filters: `target_type` (`org_unit`, `enterprise`), `target_org_unit_id`,
    `target_enterprise_id`, `rung` (several), `decided_at_from`/`_to` (inclusive). `sort`:
    `decided_at` or `-decided_at`.

    Who: every role with `accountability:read`. Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    filters = RecordFilters(
        target_type=_tuple(target_type),
        target_org_unit_id=target_org_unit_id,
        target_enterprise_id=target_enterprise_id,
        rung=_tuple(rung),
        decided_at_from=decided_at_from,
        decided_at_to=decided_at_to,
    )
    settings = request.app.state.settings
    page = await service.list_records(session, p, settings, params, filters)
    en = wants_english(request)
    return page_response(AccountabilityPage, [service.summary(r, en) for r in page.rows], page)


@router.post(
    "/accountability",
    operation_id="create_accountability",
    response_model=AccountabilityOut,
    status_code=201,
    summary="Record an accountability action",
)
async def create_accountability(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.accountability_write),
    body: Annotated[AccountabilityCreate, Body(openapi_examples=examples.ACCOUNTABILITY_CREATE)],
) -> Response:
    """Records one action of the accountability ladder (问责) against a town or bureau
    (`target.org_unit_id`) or an enterprise (`target.enterprise_id`): 函告 `notice_letter` →
    通报 `circulated` → 约谈 `summoned` → 曝光 `exposed`. A target's ladder restarts every
    calendar year (local time): its first record of the year is `notice_letter`; each next one
    repeats the last rung or takes the next; after `exposed` only `exposed`. Anything else is
    409 `rung_out_of_order`. The record is immutable; its `basis` holds the target's figures
    now (as `GET /api/v1/statistics/units` computes them) and the decider's `note`.
    `hazard_ids` cite hazards in the caller's scope and the target's (they are not changed);
    `attachment_ids` are the caller's own uploads (the letter), bound to the record.

    Who: admins and the managers and officers of the county office, for any town, bureau or
    enterprise of the county; a town's managers and officers for the enterprises in its scope.
    Errors: 403 `forbidden` (bureaus, and towns about a unit); 409 `rung_out_of_order`,
    `conflict` (a record for the target written at the same moment; retry); 422
    `unknown_org_unit`, `unknown_enterprise`, `unknown_hazard`, `invalid_attachment`,
    `validation_error`.
    """
    settings = request.app.state.settings
    out = await service.create(session, p, settings, body, wants_english(request))
    return json_response(
        out,
        status_code=201,
        version=service.VERSION,
        location=f"/api/v1/accountability/{out['id']}",
    )


@router.get(
    "/accountability/{accountability_id}",
    operation_id="get_accountability",
    response_model=AccountabilityOut,
    summary="Get an accountability record",
)
async def get_accountability(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.accountability_read),
    accountability_id: AccountabilityId,
) -> Response:
    """One accountability record with its target, rung, place on the target's ladder
    (`year`, `sequence`), reason, `basis` figures, the hazards it cites (number and title) and
    its attachments with short-lived signed `download_url`s. Records never change, so the
    `ETag` never does.

    Who: every role with `accountability:read`. Errors: 404 `not_found` when the record does
    not exist or lies outside the caller's scope (the two are indistinguishable).
    """
    settings = request.app.state.settings
    out = await service.read_detail(session, p, settings, accountability_id, wants_english(request))
    return json_response(out, version=service.VERSION)
