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
from app.schemas.dates import DateOrDateTime, StrictDate
from app.schemas.hazards import (
    Escalation,
    HazardCategory,
    HazardCreate,
    HazardEventList,
    HazardLevel,
    HazardOut,
    HazardPage,
    HazardRiskLevel,
    HazardSource,
    HazardStats,
    HazardStatus,
    StatsGroupBy,
    Transition,
)
from app.schemas.org_units import SectorCode
from app.services import upserts
from app.services.hazards import service
from app.services.hazards.queries import HazardFilters
from app.services.hazards.statistics import GROUPS, hazard_statistics

router = APIRouter(tags=["hazards"], route_class=ApiRoute)
HazardId = Annotated[str, Path(max_length=64)]


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


async def hazard_filters(
    status: any_of(HazardStatus, "Voided hazards appear only when status names voided") = None,
    level: any_of(HazardLevel) = None,
    source: any_of(HazardSource) = None,
    category: any_of(HazardCategory) = None,
    enterprise_id: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="Prefix, via the enterprise")
    ] = None,
    sector: any_of(SectorCode, "Via the enterprise") = None,
    escalation: any_of(Escalation) = None,
    overdue: Annotated[bool | None, Query()] = None,
    stock: Annotated[bool | None, Query(description="Found before the stock cut-off date")] = None,
    supervised: Annotated[
        bool | None, Query(description="Under listed supervision (挂牌督办)")
    ] = None,
    found_at_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    found_at_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
    closed_at_from: Annotated[
        DateOrDateTime | None,
        Query(
            description="Closed (销号) from: a date (the whole local day) or an RFC 3339 "
            "date-time; implies status closed"
        ),
    ] = None,
    closed_at_to: Annotated[
        DateOrDateTime | None, Query(description="Closed until, inclusive; implies status closed")
    ] = None,
    deadline_from: Annotated[StrictDate | None, Query()] = None,
    deadline_to: Annotated[StrictDate | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Title, number, location or enterprise name")
    ] = None,
    risk_point_id: Annotated[
        str | None, Query(max_length=64, description="The risk point whose measure failed")
    ] = None,
    risk_level: any_of(
        HazardRiskLevel, "The level the hazard's risk point has now; `none`: names no point"
    ) = None,
    external_id: ExternalIdFilter = None,
) -> HazardFilters:
    return HazardFilters(
        status=_tuple(status),
        level=_tuple(level),
        source=_tuple(source),
        category=_tuple(category),
        enterprise_id=enterprise_id,
        region_code=region_code,
        sector=_tuple(sector),
        escalation=_tuple(escalation),
        overdue=overdue,
        stock=stock,
        supervised=supervised,
        found_at_from=found_at_from,
        found_at_to=found_at_to,
        closed_at_from=closed_at_from,
        closed_at_to=closed_at_to,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        q=q,
        risk_point_id=risk_point_id,
        risk_level=_tuple(risk_level),
        external_id=external_id,
    )


Filters = Annotated[HazardFilters, Depends(hazard_filters)]


@router.get(
    "/hazards",
    operation_id="list_hazards",
    responses=EXPORT_RESPONSES,
    response_model=HazardPage,
    summary="List hazards",
)
async def list_hazards(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    filters: Filters,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """Hazards (隐患) in the caller's scope, one page at a time: `limit` (default 50, at most
    500), `cursor` from `next_cursor`, `include_total=true` adds `total`. Scope: the hazards of
    the enterprises the caller may see (the county for admins and county staff, a town's
    enterprises, a bureau's sectors and designated enterprises, an enterprise's own); nothing
    else is listed or counted.

    Filters combine with AND. Enumeration filters (`status`, `level`, `source`, `category`,
    `sector`, `escalation`) take several values, repeated or comma-separated, meaning any of
    them; voided hazards appear only when `status` names `voided`. `region_code` is a prefix
    (via the enterprise); `found_at_from`/`_to` and `deadline_from`/`_to` are inclusive;
    `closed_at_from`/`_to` (inclusive) select the hazards closed (销号) in that period; `q`
    searches title, number, location and enterprise name; `external_id=<system>:<id>` the
    hazard another system knows by that id. `sort`: `found_at`, `deadline` or
    `updated_at`, `-` for descending; default `-found_at`. Each item carries the caller's
    `allowed_actions` and `external_ids` (`{}` when none).

    Who: every role with `hazards:read` (enterprise users see their own enterprise's).
    Errors: 422 `validation_error` (a bad value, naming the parameter), `unknown_parameter`,
    `repeated_parameter`.
    """
    if (fmt := wanted(request, format)) != "json":
        return await export_response(
            request, session, "hazards", p, filters, params.sort, fmt, lang
        )
    return await render_list(request, session, p, params, filters)


async def render_list(
    request: Request, reader: Any, p: Principal, params: ListParams, filters: HazardFilters
) -> Response:
    """A page of the list, for the route and for its hot read (app/api/hot.py) alike."""
    settings = request.app.state.settings
    page, _, today = await service.list_hazards(reader, p, settings, params, filters)
    en = wants_english(request)
    return page_response(HazardPage, service.summaries(page.rows, p, settings, today, en), page)


async def render_detail(request: Request, reader: Any, p: Principal, hazard_id: str) -> Response:
    """The detail, for the route and for its hot read (app/api/hot.py) alike."""
    out, version = await service.read_detail(
        reader, p, request.app.state.settings, hazard_id, wants_english(request)
    )
    return json_response(out, version=version)


@router.post(
    "/hazards",
    operation_id="create_hazard",
    response_model=HazardOut,
    status_code=201,
    summary="Register a hazard",
)
async def create_hazard(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_create),
    body: Annotated[HazardCreate, Body(openapi_examples=examples.HAZARD_CREATE)],
) -> Response:
    """Registers a hazard (隐患登记) of an enterprise in the caller's scope; it starts
    `registered` with the next number of the county's year (`number`). Answers 201 with the
    hazard, its `ETag` and `Location`.

    `source` defaults to `self_inspection` for enterprise users (the only source they may
    use) and `inspection` for government (`inspection`, `assigned` or `public_report`).
    `found_at` defaults to now and is never in the future; enterprise users register findings
    of the last 30 days. The deadline defaults to 30 days and is at most 180 (general) or 365
    (major) days after discovery; government may set a later one with `deadline_reason`. A
    major hazard needs its `judgment` (重大事故隐患判定标准). `attachment_ids` are the
    caller's own unbound uploads (discovery photos).

    Who: roles with `hazards:create` (officers, inspectors, managers, admins, enterprise
    users). Errors: 422 `unknown_enterprise` (missing or outside scope), `judgment_required`,
    `found_at_too_early`, `deadline_too_late`, `deadline_reason_required`,
    `field_not_writable`, `invalid_attachment`, `validation_error`.
    """
    settings = request.app.state.settings
    hazard = await service.create_hazard(session, p, settings, body)
    out = await service.detail(session, p, settings, hazard, wants_english(request))
    return json_response(
        out, status_code=201, version=hazard.version, location=f"/api/v1/hazards/{hazard.id}"
    )


@router.put(
    "/hazards/by-external-id/{system}/{external_id:path}",
    operation_id="upsert_hazard_by_external_id",
    response_model=HazardOut,
    responses={
        201: {"model": HazardOut, "description": "Registered (with `Location`)"},
        409: {"description": "`conflict`: written by others at the same moment; retry"},
    },
    summary="Register a hazard, or change its description, by another system's id",
)
async def upsert_hazard_by_external_id(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_create),
    system: ExternalSystem,
    external_id: ExternalIdValue,
    body: Annotated[HazardCreate, Body(openapi_examples=examples.HAZARD_CREATE)],
) -> Response:
    """Upsert (the one `PUT` of the API): the hazard `system` knows as `external_id` is
    registered from the body (the create body of `POST /hazards`, its rules and scope; 201 with
    `Location`), or its descriptive fields are brought to it (200): `title`, `description`,
    `location` (omitted: cleared). The lifecycle moves only through transitions: a PUT never
    changes `status`, and any other field sent must equal the hazard's (`level`: use
    `reclassify`; `deadline`: `extend`; `enterprise_id`, `category`, `source`, `found_at`,
    `judgment`, `risk_point_id`, `attachment_ids`: fixed at registration), else 422
    `field_not_writable` naming each. The same PUT again changes nothing (200, the same `ETag`,
    no event); concurrent PUTs of one id register one hazard. `If-Match` (the `ETag`) makes the
    update conditional (412 when stale, or when nothing exists yet).

    Who: roles with `hazards:create`, machine clients granted it. Errors: 404 `not_found` (the
    id names a hazard outside your scope); 412 `precondition_failed`; 422 `field_not_writable`,
    `unknown_enterprise` and the other errors of `POST /hazards`, `validation_error` (a bad
    system or id in the path too).
    """
    settings = request.app.state.settings
    hazard, created = await upserts.upsert_hazard(
        session, p, settings, system, external_id, body, request.headers.get("if-match")
    )
    out = await service.detail(session, p, settings, hazard, wants_english(request))
    return json_response(
        out,
        status_code=201 if created else 200,
        version=hazard.version,
        location=f"/api/v1/hazards/{hazard.id}" if created else None,
    )


@router.get(
    "/hazards/{hazard_id}",
    operation_id="get_hazard",
    response_model=HazardOut,
    summary="Get a hazard",
)
async def get_hazard(
    request: Request, session: SessionDep, p: Requires(Permission.hazards_read), hazard_id: HazardId
) -> Response:
    """One hazard with everything a detail screen shows: the plan (五落实), supervision,
    escalation history, attachments with short-lived signed `download_url`/`thumbnail_url`,
    and `allowed_actions` (the transitions this caller may take now). The `ETag` is the
    hazard's version, for `If-Match` on a transition.

    Who: every role with `hazards:read`. Errors: 404 `not_found` when the hazard does not
    exist or lies outside the caller's scope (the two are indistinguishable).
    """
    return await render_detail(request, session, p, hazard_id)


@router.post(
    "/hazards/{hazard_id}/transitions",
    operation_id="transition_hazard",
    response_model=HazardOut,
    summary="Take a lifecycle action on a hazard",
    description=examples.TRANSITION_DESCRIPTION,
)
async def transition_hazard(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.hazards_read),
    hazard_id: HazardId,
    body: Annotated[Transition, Body(openapi_examples=examples.TRANSITION_EXAMPLES)],
) -> Response:
    """One action of the hazard lifecycle; the description comes from the workflow table."""
    settings = request.app.state.settings
    hazard = await service.get_visible(session, p, hazard_id)
    check_if_match(request, hazard.version)
    hazard = await service.transition(session, p, settings, hazard, body)
    out = await service.detail(session, p, settings, hazard, wants_english(request))
    return json_response(out, version=hazard.version)


@router.get(
    "/hazards/{hazard_id}/events",
    operation_id="list_hazard_events",
    response_model=HazardEventList,
    summary="List a hazard's history",
)
async def list_hazard_events(
    session: SessionDep, p: Requires(Permission.hazards_read), hazard_id: HazardId
) -> Response:
    """The complete history (办理记录) of one hazard, oldest first and never paged
    (`next_cursor` is always null): its registration, every transition, each overdue mark and
    each upload bound to it (`attach`), with who acted, when, the status before and after, the
    note and the action's details.

    Who: every role with `hazards:read`. Errors: 404 `not_found` when the hazard does not
    exist or lies outside the caller's scope.
    """
    return json_response(
        HazardEventList.model_construct(items=await service.events(session, p, hazard_id))
    )


@router.get(
    "/statistics/hazards",
    operation_id="hazard_statistics",
    response_model=HazardStats,
    tags=["statistics"],
    summary="Hazard statistics",
)
async def get_hazard_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.statistics_read),
    filters: Filters,
    group_by: Annotated[
        StatsGroupBy | None,
        Query(
            description="One or two of " + ", ".join(GROUPS) + " (comma-separated, or the "
            "parameter repeated)",
        ),
    ] = None,
) -> Response:
    """Dashboard figures (统计) over the hazards in the caller's scope: found, closed, open,
    overdue, rectification rate, major open and under supervision, stock open and cleared,
    median days to close. The same filters as `GET /api/v1/hazards` select the hazards, so the
    figures agree with the list (`closed_at_from`/`_to`: closed in the period, e.g. "rectified
    this month" of the dispatch figures). `group_by` (one or two dimensions, comma-separated or
    repeated) adds one row per group with its `key`, its labels (`Accept-Language: en` for
    English) and each dimension as a field; `totals` is always sent:

    - `town`, `sector`, `level`, `source`, `month` (of discovery, local time);
    - `enforcement_department`: the enterprise's designated department (exactly one each);
    - `bureau`: every bureau of the caller's county, each over its own scope (its sectors plus
      the enterprises naming it) within the caller's; an enterprise counts under every bureau
      that supervises it, so the groups overlap (`groups_overlap: true`) while `totals` counts
      each hazard once;
    - `stock_year`: the year of discovery of stock hazards (动态清零); implies `stock=true`;
    - `judgment_clause`: `<standard>:<clause>` of major hazards; implies `level=major`.

    Implied filters are listed in `implied_filters`. Who: government roles and machine clients
    with `statistics:read` (not enterprise users: 403 `forbidden`). Errors: 422
    `validation_error` (a bad grouping names the valid ones), `filter_conflicts_with_grouping`
    (`stock=false` with `stock_year`, a `level` without `major` with `judgment_clause`),
    `unknown_parameter`, `repeated_parameter`.
    """
    groups_wanted = list(dict.fromkeys(group_by)) if group_by else []
    assert all(g in GROUPS for g in groups_wanted)
    out = await hazard_statistics(
        session, p, request.app.state.settings, groups_wanted, filters, wants_english(request)
    )
    return json_response(
        HazardStats(
            group_by=groups_wanted,
            groups=out.groups,
            totals=out.totals,
            groups_overlap=out.groups_overlap,
            implied_filters=out.implied_filters,
        )
    )
