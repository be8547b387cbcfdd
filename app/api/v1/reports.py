"""``/api/v1/reports``: public reports (群众举报) as government handles them, in scope (the county
sees its county's; a town or a bureau those routed to it)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.exports import EXPORT_RESPONSES, FormatParam, LangParam, export_response, wanted
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.dates import DateOrDateTime
from app.schemas.org_units import SectorCode
from app.schemas.public_reports import (
    ReportDetail,
    ReporterViewList,
    ReportPage,
    ReportStatistics,
    ReportStatus,
    ReportTransition,
)
from app.services.public_reports import service, statistics

router = APIRouter(tags=["reports"], route_class=ApiRoute)
ReportId = Annotated[str, Path(max_length=64)]
Id = Annotated[str | None, Query(max_length=64)]


@router.get(
    "/reports",
    operation_id="list_reports",
    responses=EXPORT_RESPONSES,
    response_model=ReportPage,
    summary="List public reports",
)
async def list_reports(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.reports_read),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    status: any_of(ReportStatus) = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^\d{1,12}$", description="Prefix of the region code given")
    ] = None,
    sector: any_of(SectorCode, "The matched enterprise's sector") = None,
    enterprise_id: Id = None,
    routed_to: Annotated[
        str | None, Query(max_length=64, description="Reports routed to this unit")
    ] = None,
    received_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    received_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
    q: Annotated[str | None, Query(max_length=100, description="In the description")] = None,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """Public reports the caller sees: the county office's officers and managers (and admins)
    every report of their county; a town's or a bureau's those routed to it (on intake by
    region, enterprise, sector or daily-enforcement department, or assigned). Never the
    reporter's identity. Filters: `status`, `region_code` (prefix), `sector`,
    `enterprise_id`, `routed_to`, `received_from`/`received_to`, `q`. `sort`:
    `-received_at` (default), `received_at`, `updated_at`, `closed_at`. One statement.

    Who: `reports:read` (officers and managers, admins). Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`."""
    filters = {
        "status": status,
        "region_code": region_code,
        "sector": sector,
        "enterprise_id": enterprise_id,
        "routed_to": routed_to,
        "received_from": received_from,
        "received_to": received_to,
        "q": q,
    }
    if (fmt := wanted(request, format)) != "json":
        return await export_response(
            request, session, "reports", p, filters, params.sort, fmt, lang
        )
    page = await service.list_reports(session, p, request.app.state.settings, params, **filters)
    return page_response(ReportPage, service.summaries(page.rows, p, wants_english(request)), page)


@router.get(
    "/reports/{report_id}",
    operation_id="get_report",
    response_model=ReportDetail,
    summary="Get a public report",
)
async def get_report(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.reports_read),
    report_id: ReportId,
    include: Annotated[
        Literal["reporter"] | None,
        Query(description="`reporter`: the reporter's name and phone (logged)"),
    ] = None,
) -> Response:
    """The report with its routes, photos (signed links), history and `allowed_actions`: one
    statement. With `include=reporter` the reporter's `{name, phone}` (保密), only for
    `reports:view_reporter` (a manager of the county office, or of a unit the report is routed
    to; never an administrator or a machine client): the view is written to the report's
    access log and committed before the answer is sent. An anonymous report has none
    (`reporter` null, nothing logged). `Cache-Control: no-store` with it.

    Errors: 403 `reporter_confidential`; 404 `not_found`."""
    settings = request.app.state.settings
    english = wants_english(request)
    if include != "reporter":
        out, version = await service.read_detail(session, p, settings, report_id, english)
        return json_response(out, version=version)
    state = request.app.state
    request_id = request.scope.get("state", {}).get("request_id")
    if state.read_engine is None:
        out, version = await service.read_detail(session, p, settings, report_id, english)
        out["reporter"] = await service.reporter_of(session, p, settings, out, request_id)
    else:  # the log is written on the primary, and the identity read there
        async with state.poll_sessionmaker() as primary:
            out, version = await service.read_detail(primary, p, settings, report_id, english)
            out["reporter"] = await service.reporter_of(primary, p, settings, out, request_id)
    response = json_response(out, version=version)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(
    "/reports/{report_id}/transitions",
    operation_id="transition_report",
    response_model=ReportDetail,
    summary="Act on a public report",
)
async def transition_report(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.reports_handle),
    report_id: ReportId,
    body: ReportTransition,
) -> Response:
    """`assign` (交办: `unit_ids`, towns and bureaus of the county; adds them to the routes),
    `investigate` (调查核实), `substantiate` (查实: registers the hazard, source
    `public_report`, linked both ways, from `hazard` `{title, level, category, …}` for
    `enterprise_id`, the matched enterprise by default, or an unregistered operator registered
    first as `enterprise`; the enterprise must be in the caller's scope), `unsubstantiate`
    (`reason`), `reward` (`reward_yuan`, once, on a substantiated report), `close` (办结:
    `public_outcome`, the text the reporter sees). A field of another action is 422
    `field_not_allowed`. `assign` and `reward` are the county's; the rest also a routed
    unit's officers and managers; `substantiate` also needs `hazards:create`.

    Errors: 403 `action_forbidden`, `forbidden`; 404; 409 `invalid_transition`; 412; 422
    `unknown_org_unit`, `unknown_enterprise`, `unknown_region`, `duplicate_credit_code` (409),
    the hazard's own (`judgment_required` …)."""
    report = await service.get_for_update(session, p, report_id)
    check_if_match(request, report.version)
    settings = request.app.state.settings
    await service.transition(session, p, settings, report, body)
    out, version = await service.read_detail(
        session, p, settings, report.id, wants_english(request)
    )
    return json_response(out, version=version)


@router.get(
    "/reports/{report_id}/reporter-access-log",
    operation_id="get_reporter_access_log",
    response_model=ReporterViewList,
    summary="Who saw the reporter's identity",
)
async def get_reporter_access_log(
    session: SessionDep, p: Requires(Permission.reports_read), report_id: ReportId
) -> Response:
    """Every view of this report's reporter identity: who, from which unit, when, and the
    request's `X-Request-ID`, oldest first. Who: the county office's managers and the county's
    admins (`reports:audit`). Errors: 403 `forbidden`; 404 `not_found`."""
    items = await service.access_log(session, p, report_id)
    return json_response({"items": items})


@router.get(
    "/statistics/reports",
    operation_id="get_report_statistics",
    response_model=ReportStatistics,
    summary="Public report figures",
)
async def get_report_statistics(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.reports_read),
    group_by: Annotated[
        Literal["town", "sector", "month", "none"], Query(description="One dimension")
    ] = "none",
    received_from: Annotated[
        DateOrDateTime | None,
        Query(description="Date (the whole local day) or RFC 3339 date-time with an offset"),
    ] = None,
    received_to: Annotated[DateOrDateTime | None, Query(description="Inclusive")] = None,
) -> Response:
    """Reports in the caller's scope (the same as the list's): `received`, `substantiated`
    (substantiated, and closed after it), `rewarded` and the sum of rewards, `closed`, and the
    median days from receipt to closing, in total and by `town` (the town the report was
    routed to by its region or enterprise; `none` for the county office's), `sector` (the
    matched enterprise's; `none` without one) or `month` (of receipt, Asia/Shanghai). Never
    anything of reporters. Who: `reports:read`."""
    body = await statistics.report_statistics(
        session,
        p,
        request.app.state.settings,
        group_by=group_by,
        received_from=received_from,
        received_to=received_to,
        english=wants_english(request),
    )
    return json_response(body)
