from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.api import examples
from app.api.idempotency import ApiRoute
from app.api.v1.exports import EXPORT_RESPONSES, FormatParam, LangParam, export_response, wanted
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import (
    ExternalIdFilter,
    ExternalIdValue,
    ExternalSystem,
    ListParams,
    any_of,
    list_params_for,
)
from app.schemas.enterprises import (
    EnterpriseCreate,
    EnterpriseDetail,
    EnterprisePage,
    EnterpriseStatus,
    EnterpriseUpdate,
    RiskColor,
)
from app.schemas.org_units import SectorCode
from app.services import enterprises as service
from app.services import upserts

router = APIRouter(tags=["enterprises"], route_class=ApiRoute)
EnterpriseId = Annotated[str, Path(max_length=64)]


async def enterprise_filters(
    q: Annotated[str | None, Query(max_length=100, description="Name or credit code")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{1,12}$", description="Prefix")] = None,
    sector: any_of(SectorCode) = None,
    risk_color: any_of(RiskColor) = None,
    status: any_of(EnterpriseStatus) = None,
    enforcement_department_id: Annotated[str | None, Query(max_length=64)] = None,
    blacklisted: Annotated[
        bool | None,
        Query(description="true: on the blacklist now (a current entry); false: not on it"),
    ] = None,
    external_id: ExternalIdFilter = None,
) -> dict[str, Any]:
    """The enterprise list's filters, shared with the enterprise statistics (the same rows)."""
    return {
        "q": q,
        "region_code": region_code,
        "sector": sector,
        "risk_color": risk_color,
        "status": status,
        "enforcement_department_id": enforcement_department_id,
        "blacklisted": blacklisted,
        "external_id": external_id,
    }


EnterpriseFilters = Annotated[dict[str, Any], Depends(enterprise_filters)]


@router.get(
    "/enterprises",
    operation_id="list_enterprises",
    responses=EXPORT_RESPONSES,
    response_model=EnterprisePage,
    summary="List enterprises",
)
async def list_enterprises(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    filters: EnterpriseFilters,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """Enterprises (生产经营单位) in the caller's scope, one page at a time: `limit` (default
    50, at most 500), `cursor` from `next_cursor`, `include_total=true` adds `total`. Scope:
    the county for admins and county staff; a town sees enterprises whose `region_code` starts
    with its code; a bureau those of its sectors and those naming it as
    `enforcement_department_id`; an enterprise user only its own.

    Filters: `sector`, `risk_color` and `status` take several values (repeated or
    comma-separated, meaning any of them); `region_code` is a prefix; `q` matches the name or
    the credit code; `blacklisted=true|false` those on (not on) the blacklist now;
    `external_id=<system>:<id>` the one another system knows by that id. Each item carries
    `blacklist` (current and past entries), `blacklisted` and `external_ids` (`{}` when none).
    `sort`: `name` (default), `credit_code`, `created_at`, `updated_at`, `-` for descending.

    Who: every role with `enterprises:read`. Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    if (fmt := wanted(request, format)) != "json":
        return await export_response(
            request, session, "enterprises", p, filters, params.sort, fmt, lang
        )
    return await render_list(request, session, p, params, filters)


async def render_list(
    request: Request, reader: Any, p: Principal, params: ListParams, filters: dict[str, Any]
) -> Response:
    """A page of the list, for the route and for its hot read (app/api/hot.py) alike."""
    page, _ = await service.list_enterprises(reader, p, params, **filters)
    en = wants_english(request)
    return page_response(EnterprisePage, [service.row_out(r, en) for r in page.rows], page)


async def render_detail(
    request: Request, reader: Any, p: Principal, enterprise_id: str
) -> Response:
    """The detail, for the route and for its hot read (app/api/hot.py) alike."""
    out, version = await service.read_detail(reader, p, enterprise_id, wants_english(request))
    return json_response(out, version=version)


@router.get(
    "/enterprises/{enterprise_id}",
    operation_id="get_enterprise",
    response_model=EnterpriseDetail,
    summary="Get an enterprise",
)
async def get_enterprise(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    enterprise_id: EnterpriseId,
) -> Response:
    """One enterprise's record (企业档案): credit code, region, sector, enforcement department,
    scale, risk colour (红橙黄蓝), standardisation grade, contacts, the blacklist entries
    (`blacklist`, current and past: 失信联合惩戒) and the major hazard installations
    (`major_hazard_installations`, 重大危险源). The `ETag` is its version, for `If-Match` on a
    PATCH.

    Who: every role with `enterprises:read`. Errors: 404 `not_found` when it does not exist or
    lies outside the caller's scope (the two are indistinguishable).
    """
    return await render_detail(request, session, p, enterprise_id)


@router.post(
    "/enterprises",
    operation_id="create_enterprise",
    response_model=EnterpriseDetail,
    status_code=201,
    summary="Register an enterprise",
)
async def create_enterprise(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_create),
    body: Annotated[EnterpriseCreate, Body(openapi_examples=examples.ENTERPRISE_CREATE)],
) -> Response:
    """Registers an enterprise (企业登记) by its unified social credit code (统一社会信用代码,
    GB 32100-2015, check character verified). The 12-digit `region_code` must lie in the
    caller's county, `enforcement_department_id` must be a bureau of the county, and the new
    enterprise must fall inside the caller's own scope. Answers 201 with the record, `ETag`
    and `Location`.

    Who: officers, managers and admins (`enterprises:create`). Errors: 403 `outside_scope`
    (it would lie outside the caller's jurisdiction); 409 `duplicate_credit_code` (naming no
    other record); 422 `region_outside_county`, `validation_error` (e.g. a bad credit code).
    """
    ent = await service.create_enterprise(session, p, body)
    return json_response(
        await service.to_out(session, ent, wants_english(request)),
        status_code=201,
        version=ent.version,
        location=f"/api/v1/enterprises/{ent.id}",
    )


@router.patch(
    "/enterprises/{enterprise_id}",
    operation_id="update_enterprise",
    response_model=EnterpriseDetail,
    summary="Update an enterprise",
)
async def update_enterprise(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    enterprise_id: EnterpriseId,
    body: Annotated[EnterpriseUpdate, Body(openapi_examples=examples.ENTERPRISE_UPDATE)],
) -> Response:
    """Changes the fields sent (partial update; a field omitted stays, `null` clears only an
    optional field). Send `If-Match` with the `ETag` you read (412 `precondition_failed` if it
    changed since). A change of region, sector or department must keep the enterprise inside
    the caller's scope.

    Who: government staff with `enterprises:update` (officers, managers, admins) change any
    field; the enterprise's own 企业负责人 (`enterprises:update_contact`) changes `principal`
    and `actual_controller` only. Errors: 404 `not_found` (missing or outside scope); 403
    `outside_scope`; 409 `duplicate_credit_code`, `conflict`; 422 `field_not_writable`
    (naming each field), `region_outside_county`, `validation_error`.
    """
    ent = await service.get_visible(session, p, enterprise_id)
    check_if_match(request, ent.version)
    ent = await service.update_enterprise(session, p, ent, body)
    out = await service.to_out(session, ent, wants_english(request))
    return json_response(out, version=ent.version)


@router.put(
    "/enterprises/by-external-id/{system}/{external_id:path}",
    operation_id="upsert_enterprise_by_external_id",
    response_model=EnterpriseDetail,
    responses={
        201: {"model": EnterpriseDetail, "description": "Created (with `Location`)"},
        409: {
            "description": "`duplicate_credit_code` (registered outside your scope, or the "
            "body's credit code is another record's), `external_id_mismatch`, `conflict`"
        },
    },
    summary="Create or update an enterprise by another system's id",
)
async def upsert_enterprise_by_external_id(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.enterprises_read),
    system: ExternalSystem,
    external_id: ExternalIdValue,
    body: Annotated[EnterpriseCreate, Body(openapi_examples=examples.ENTERPRISE_CREATE)],
) -> Response:
    """Upsert (the one `PUT` of the API): the enterprise `system` knows as `external_id` is
    created from the body (the create body of `POST /enterprises`, its rules and scope), or
    brought to it. The body is the record as the sender knows it: every field is written, an
    optional one omitted is cleared (except `risk_color` while risk points decide it). The same
    PUT again changes nothing (200, the same `ETag`); concurrent PUTs of one id make one
    enterprise. A body whose `credit_code` is an enterprise this system has no id for yet binds
    the id to it and updates it. Answers 201 with `Location` when created, else 200; `If-Match`
    (the `ETag`) makes the update conditional (412 when stale, or when nothing exists yet).

    Who: creating needs `enterprises:create`, updating `enterprises:update` (officers, managers,
    admins, machine clients granted them), with the scope rules of POST and PATCH. Errors: 404
    `not_found` (the id names an enterprise outside your scope); 403 `outside_scope`; 409
    `duplicate_credit_code`, `external_id_mismatch` (that enterprise has another id in this
    system); 412 `precondition_failed`; 422 `region_outside_county`, `risk_color_derived`,
    `validation_error` (a bad system or id in the path too).
    """
    ent, created = await upserts.upsert_enterprise(
        session, p, system, external_id, body, request.headers.get("if-match")
    )
    return json_response(
        await service.to_out(session, ent, wants_english(request)),
        status_code=201 if created else 200,
        version=ent.version,
        location=f"/api/v1/enterprises/{ent.id}" if created else None,
    )
