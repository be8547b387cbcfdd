from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.auth.deps import Requires, ensure
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.org_units import (
    OrgUnitCreate,
    OrgUnitKind,
    OrgUnitOut,
    OrgUnitPage,
    OrgUnitUpdate,
)
from app.services import org_units as service

router = APIRouter(tags=["org-units"], route_class=ApiRoute)
UnitId = Annotated[str, Path(max_length=64)]


@router.get(
    "/org-units",
    operation_id="list_org_units",
    response_model=OrgUnitPage,
    summary="List org units",
)
async def list_org_units(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.org_units_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    kind: any_of(OrgUnitKind) = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The government units (组织单位) of the caller's county: the county itself (安委办), its
    towns and streets (乡镇/街道) and its sectoral bureaus (行业主管部门), one page at a time
    (`limit` ≤ 500, `cursor`, `include_total`). `kind` takes several values (repeated or
    comma-separated); `q` matches the name. `sort`: `name` (default) or `created_at`, `-` for
    descending.

    Who: government roles and machine clients with `org_units:read`; enterprise users have no
    such permission (403 `forbidden`). Errors: 422 `validation_error`, `unknown_parameter`,
    `repeated_parameter`.
    """
    page, _ = await service.list_units(session, p, params, kind, q)
    en = wants_english(request)
    return page_response(OrgUnitPage, [service.row_out(r, en) for r in page.rows], page)


@router.get(
    "/org-units/{org_unit_id}",
    operation_id="get_org_unit",
    response_model=OrgUnitOut,
    summary="Get an org unit",
)
async def get_org_unit(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.org_units_read),
    org_unit_id: UnitId,
) -> Response:
    """One unit of the caller's county: its kind, names (`name`, `name_en`), parent, town
    region code or bureau sectors. The `ETag` is its version, for `If-Match` on a PATCH.

    Who: roles with `org_units:read`. Errors: 404 `not_found` when it does not exist or
    belongs to another county (the two are indistinguishable).
    """
    unit = await service.get_visible(session, p, org_unit_id)
    out = await service.to_out(session, unit, wants_english(request))
    return json_response(out, version=unit.version)


@router.post(
    "/org-units",
    operation_id="create_org_unit",
    response_model=OrgUnitOut,
    status_code=201,
    summary="Create an org unit",
)
async def create_org_unit(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.org_units_write),
    body: Annotated[OrgUnitCreate, Body(openapi_examples=examples.ORG_UNIT_CREATE)],
) -> Response:
    """Adds a town (乡镇/街道) or a sectoral bureau (行业主管部门) under the county (the
    default `parent_id`). A town has a 9-digit `region_code` starting with the county's code
    and no sectors: its scope is the enterprises whose region code starts with it. A bureau
    has no region code and lists the `sectors` it supervises. Answers 201 with the unit, `ETag`
    and `Location`.

    Who: admins (`org_units:write`). Errors: 409 `duplicate_region_code`; 422
    `validation_error` (parent not the county, a town's code outside the county, sectors on a
    town, a region code on a bureau).
    """
    unit = await service.create_unit(session, p, body)
    return json_response(
        await service.to_out(session, unit, wants_english(request)),
        status_code=201,
        version=unit.version,
        location=f"/api/v1/org-units/{unit.id}",
    )


@router.patch(
    "/org-units/{org_unit_id}",
    operation_id="update_org_unit",
    response_model=OrgUnitOut,
    summary="Update an org unit",
)
async def update_org_unit(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.org_units_read),
    org_unit_id: UnitId,
    body: Annotated[OrgUnitUpdate, Body(openapi_examples=examples.ORG_UNIT_UPDATE)],
) -> Response:
    """Renames a unit or changes a bureau's `sectors` (which changes the enterprises it sees at
    once). Partial: fields omitted stay. Send `If-Match` with the `ETag` you read (412
    `precondition_failed` if it changed since).

    Who: admins (`org_units:write`; other government roles get 403 `forbidden`). Errors: 404
    `not_found` (missing or another county's); 409 `conflict`; 422 `validation_error` (sectors
    on a town).
    """
    unit = await service.get_visible(session, p, org_unit_id)
    ensure(p, Permission.org_units_write)
    check_if_match(request, unit.version)
    unit = await service.update_unit(session, unit, body)
    out = await service.to_out(session, unit, wants_english(request))
    return json_response(out, version=unit.version)
