from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.checklists import ChecklistCreate, ChecklistOut, ChecklistPage, ChecklistUpdate
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.org_units import SectorCode
from app.services import checklists as service

router = APIRouter(tags=["checklists"], route_class=ApiRoute)
ChecklistId = Annotated[str, Path(max_length=64)]


@router.get(
    "/checklists",
    operation_id="list_checklists",
    response_model=ChecklistPage,
    summary="List checklists",
)
async def list_checklists(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    sector: any_of(SectorCode) = None,
    code: Annotated[str | None, Query(max_length=64, description="One checklist's code")] = None,
    current: Annotated[
        bool, Query(description="Only the current version of each code (false: every version)")
    ] = True,
    risk_point_id: Annotated[
        str | None, Query(max_length=64, description="The checklists generated from this point")
    ] = None,
) -> Response:
    """Checklists (检查表) the caller may inspect with: the starter checklists shipped with the
    platform (`starter: true`, every county) and those of the caller's county, without their
    items (`item_count`; the items: `GET /api/v1/checklists/{checklist_id}`). One page at a
    time (`limit` ≤ 500, `cursor`, `include_total`). Filters: `sector` (several), `code`,
    `current` (default `true`: the newest version of each code; `false` adds the older ones),
    `risk_point_id` (the checklists generated from a risk point's control measures, which are
    left out otherwise unless `code` names one).
    `sort`: `code` (default), `name`, `created_at`, `updated_at`, `-` for descending.

    Who: every role with `inspections:read`, enterprise users included (they self-inspect with
    them). Errors: 422 `validation_error`, `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_checklists(
        session, p, params, sector=sector, code=code, current=current, risk_point_id=risk_point_id
    )
    en = wants_english(request)
    return page_response(ChecklistPage, [service.summary(r, en) for r in page.rows], page)


@router.get(
    "/checklists/{checklist_id}",
    operation_id="get_checklist",
    response_model=ChecklistOut,
    summary="Get a checklist version",
)
async def get_checklist(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.inspections_read),
    checklist_id: ChecklistId,
) -> Response:
    """One version of a checklist with its items (`code`, `text`, `basis`, `sector`,
    `major_if_failed` with `judgment_standard` and `judgment_clause`). The `ETag` is its
    version, for `If-Match` on a PATCH.

    Who: every role with `inspections:read`. Errors: 404 `not_found` when it does not exist or
    belongs to another county (the two are indistinguishable).
    """
    checklist = await service.get_visible(session, p, checklist_id)
    return json_response(
        service.to_out(checklist, wants_english(request)), version=checklist.version
    )


@router.post(
    "/checklists",
    operation_id="create_checklist",
    response_model=ChecklistOut,
    status_code=201,
    summary="Create a checklist",
)
async def create_checklist(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.checklists_write),
    body: Annotated[ChecklistCreate, Body(openapi_examples=examples.CHECKLIST_CREATE)],
) -> Response:
    """Creates version 1 of a checklist of the caller's county. Item codes are unique within
    the checklist; an item with `major_if_failed: true` names `judgment_standard` and
    `judgment_clause`, a clause of that standard (the citation 第十一条第（三）项 is accepted
    and stored as `11.3`); a general item names neither. Answers 201 with `Location`.

    Who: admins, and managers of the county office or of a bureau (`checklists:write`).
    Errors: 403 `forbidden` (a town's manager); 409 `duplicate_checklist_code`; 422
    `duplicate_item_code`, `judgment_required`, `unknown_judgment_clause`, `validation_error`.
    """
    checklist = await service.create(session, p, body)
    return json_response(
        service.to_out(checklist, wants_english(request)),
        status_code=201,
        version=checklist.version,
        location=f"/api/v1/checklists/{checklist.id}",
    )


@router.patch(
    "/checklists/{checklist_id}",
    operation_id="update_checklist",
    response_model=ChecklistOut,
    responses={201: {"model": ChecklistOut, "description": "The next version, created"}},
    summary="Edit a checklist (or write its next version)",
)
async def update_checklist(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.checklists_write),
    checklist_id: ChecklistId,
    body: Annotated[ChecklistUpdate, Body(openapi_examples=examples.CHECKLIST_UPDATE)],
) -> Response:
    """Changes `name`, `name_en` and `items` (those sent; `items` replaces the list as a
    whole, checked as on create). Send `If-Match` with the `ETag` you read (412
    `precondition_failed` if it changed since). A version not yet used by a signed inspection
    is edited in place (200). A `locked` version (used by a signed inspection) never changes:
    the edit becomes the next version (same `code`, `version_no` + 1, current), the old one is
    no longer current, and the answer is 201 with its `Location`.

    Who: admins, and managers of the county office or of a bureau (`checklists:write`).
    Errors: 404 `not_found` (missing or another county's); 403 `forbidden` (a town's manager);
    409 `checklist_read_only` (a starter checklist: create your own from it),
    `checklist_not_current` (an older version), `duplicate_checklist_code` (the next version
    written at the same moment); 412 `precondition_failed`; 422 `duplicate_item_code`,
    `judgment_required`, `unknown_judgment_clause`, `validation_error`.
    """
    checklist = await service.get_visible(session, p, checklist_id)
    check_if_match(request, checklist.version)
    edited, created = await service.update_checklist(session, p, checklist, body)
    out = service.to_out(edited, wants_english(request))
    if created:
        return json_response(
            out,
            status_code=201,
            version=edited.version,
            location=f"/api/v1/checklists/{edited.id}",
        )
    return json_response(out, version=edited.version)
