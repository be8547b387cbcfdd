"""``/api/v1/task-lists`` and ``/api/v1/tasks``: lists issued down the levels (清单), their tasks,
sub-tasks and each assignee's progress."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.api.v1.exports import EXPORT_RESPONSES, FormatParam, LangParam, export_response, wanted
from app.api.v1.risk_lists import spreadsheet_limiter
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.dates import StrictDate
from app.schemas.tasks import (
    DispatchTable,
    Progress,
    ReportDraft,
    TaskCreate,
    TaskEventList,
    TaskListCreate,
    TaskListDetail,
    TaskListKind,
    TaskListPage,
    TaskListStatus,
    TaskListTransition,
    TaskListUpdate,
    TaskOut,
    TaskPage,
    TaskReportCreate,
    TaskReportingOut,
    TaskReportList,
    TaskReportOut,
    TaskReportReturn,
    TaskTransition,
    TaskUpdate,
)
from app.services.tasks import dispatch, dispatch_xlsx, reports, service

router = APIRouter(tags=["tasks"], route_class=ApiRoute)
ListId = Annotated[str, Path(max_length=64)]
TaskId = Annotated[str, Path(max_length=64)]
ReportId = Annotated[str, Path(max_length=64)]
Id = Annotated[str | None, Query(max_length=64)]


# ---- task lists --------------------------------------------------------------------------------


@router.get(
    "/task-lists",
    operation_id="list_task_lists",
    response_model=TaskListPage,
    summary="List task lists",
)
async def list_task_lists(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    params: Annotated[
        ListParams, Depends(list_params_for(service.LIST_SORTS, service.LIST_DEFAULT_SORT))
    ],
    kind: any_of(TaskListKind) = None,
    status: any_of(TaskListStatus) = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    issuing_unit_id: Id = None,
    q: Annotated[str | None, Query(max_length=100, description="In the title")] = None,
) -> Response:
    """Task lists (清单) the caller sees: those its unit issued (drafts included), every issued
    list of the county for the county office and admins (admins: drafts too), and the issued
    lists holding a task of the caller's own (assigned to it, led by it, or split by it).
    Filters: `kind`, `status`, `year`, `issuing_unit_id`, `q`. `sort`: `-created_at` (default),
    `created_at`, `updated_at`, `year`.

    Who: `tasks:read` (government, enterprise users). Errors: 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_lists(
        session,
        p,
        params,
        kind=kind,
        status=status,
        year=year,
        issuing_unit_id=issuing_unit_id,
        q=q,
    )
    en = wants_english(request)
    return page_response(TaskListPage, [service.list_out(r, p, en) for r in page.rows], page)


@router.post(
    "/task-lists",
    operation_id="create_task_list",
    response_model=TaskListDetail,
    status_code=201,
    summary="Draw up a task list",
)
async def create_task_list(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_issue), body: TaskListCreate
) -> Response:
    """A new list in `draft` (the issuing unit's alone until issued): `kind`
    (`responsibility` 责任清单, `annual` 年度任务清单, `campaign` 专项行动, `dispatch` 调度指标),
    `title`, `year`, `basis`, `period_from`/`period_to`. The issuing unit is the caller's own
    (a county office or a town); an admin may name another county or town unit of its county.
    Add tasks with `POST /api/v1/tasks`, then `issue` it. Answers 201 with `ETag`, `Location`.

    Who: managers of the county office or a town, and admins (`tasks:issue`). Errors: 403
    `forbidden` (a bureau, another unit's list); 422 `unknown_org_unit`, `validation_error`.
    """
    tl = await service.create_list(session, p, body)
    settings = request.app.state.settings
    out, version = await service.read_list(session, p, settings, tl.id, wants_english(request))
    return json_response(
        out, status_code=201, version=version, location=f"/api/v1/task-lists/{tl.id}"
    )


@router.get(
    "/task-lists/{task_list_id}",
    operation_id="get_task_list",
    response_model=TaskListDetail,
    summary="Get a task list with its tasks",
)
async def get_task_list(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_read), task_list_id: ListId
) -> Response:
    """The list and the tasks the caller sees (all of them for the issuer and the county; its
    own for an assignee or a lead unit), by code. Two statements. Errors: 404 `not_found`."""
    settings = request.app.state.settings
    out, version = await service.read_list(
        session, p, settings, task_list_id, wants_english(request)
    )
    return json_response(out, version=version)


@router.patch(
    "/task-lists/{task_list_id}",
    operation_id="update_task_list",
    response_model=TaskListDetail,
    summary="Change a task list",
)
async def update_task_list(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_issue),
    task_list_id: ListId,
    body: TaskListUpdate,
) -> Response:
    """`title`, `basis`, `period_from`/`period_to` of a draft; of an issued list only with a
    `reason` (recorded as a `revise` event); a closed list never changes. `If-Match` is
    honoured. Errors: 403, 404, 409 `invalid_transition` (closed), 412, 422."""
    tl = await service.get_list(session, p, task_list_id)
    check_if_match(request, tl.version)
    await service.update_list(session, p, tl, body)
    settings = request.app.state.settings
    out, version = await service.read_list(session, p, settings, tl.id, wants_english(request))
    return json_response(out, version=version)


@router.post(
    "/task-lists/{task_list_id}/transitions",
    operation_id="transition_task_list",
    response_model=TaskListDetail,
    summary="Issue or close a task list",
)
async def transition_task_list(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_issue),
    task_list_id: ListId,
    body: TaskListTransition,
) -> Response:
    """`issue` (下达: draft → issued; every top-level task needs an assignee; each assignee
    unit's and enterprise's users get a `task_list_issued` notification in the same
    transaction) and `close` (issued → closed: progress stops). `allowed_actions` lists what
    the caller may take. Errors: 403 `action_forbidden`, 404, 409 `invalid_transition` (the
    detail says why: no task, a task without assignee), 412."""
    tl = await service.get_list(session, p, task_list_id)
    check_if_match(request, tl.version)
    await service.transition_list(session, p, tl, body.action, body.note)
    settings = request.app.state.settings
    out, version = await service.read_list(session, p, settings, tl.id, wants_english(request))
    return json_response(out, version=version)


@router.get(
    "/task-lists/{task_list_id}/dispatch",
    operation_id="get_dispatch_table",
    response_model=DispatchTable,
    responses={
        409: {"description": "Not a dispatch list: `not_a_dispatch_list`"},
        200: {
            "description": "The table as JSON, or with `format=xlsx` as a workbook",
            "content": {dispatch_xlsx.XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": "XLSX only: `attachment` with the file name (`filename*` "
                    "UTF-8, RFC 6266/5987; an ASCII `filename`)",
                    "schema": {"type": "string"},
                }
            },
        },
    },
    summary="The dispatch table of a period (调度表), as JSON or XLSX",
)
async def get_dispatch_table(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_list_id: ListId,
    period: Annotated[
        str,
        Query(
            pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$", description="2026-11, 2026-Q4 or 2026"
        ),
    ],
    format: Annotated[
        Literal["json", "xlsx"] | None,
        Query(description="`json` or `xlsx`; without it, `xlsx` when `Accept` names its type"),
    ] = None,
) -> Response:
    """A dispatch list's table for `period`: one row per assignee part the caller sees (the
    issuer, the county and the lead unit: every part; an assignee: its own) of the tasks
    reported in that period's cycle, with the report's `state` (`submitted`, `late`,
    `returned`, `missing` past its due day, `pending`), and per indicator the value `submitted`
    in the current report, the platform's `computed` value (computed indicators: the same
    figures as the report draft) and the `difference`; `totals` sum the submitted values (not
    for `%`). `format=xlsx` answers the workbook a county office circulates (Chinese headers,
    each indicator over 报送 / 平台计算 / 差异, missing red, late orange, returned yellow).

    Who: `tasks:read` for a list the caller sees. Errors: 404 `not_found`; 409
    `not_a_dispatch_list`; 422 `invalid_period`, `validation_error`."""
    english = wants_english(request)
    settings = request.app.state.settings
    body = await dispatch.dispatch_table(session, p, settings, task_list_id, period, english)
    wants_xlsx = format == "xlsx" or (
        format is None and dispatch_xlsx.XLSX in request.headers.get("accept", "")
    )
    if not wants_xlsx:
        return json_response(DispatchTable.model_validate(body))
    data = await anyio.to_thread.run_sync(
        dispatch_xlsx.workbook,
        body,
        english,
        settings.timezone,
        limiter=spreadsheet_limiter(request),
    )
    return Response(
        data,
        media_type=dispatch_xlsx.XLSX,
        headers={
            "Content-Disposition": dispatch_xlsx.content_disposition(body),
            "Cache-Control": "private",
        },
    )


@router.get(
    "/task-lists/{task_list_id}/events",
    operation_id="list_task_list_events",
    response_model=TaskEventList,
    summary="List a task list's history",
)
async def list_task_list_events(
    session: SessionDep, p: Requires(Permission.tasks_read), task_list_id: ListId
) -> Response:
    """The list's own events, oldest first (created, changed or revised, issued, closed, a
    draft task deleted); each task's history is at `GET /api/v1/tasks/{task_id}/events`."""
    items = await service.events(session, p, list_id=task_list_id)
    return json_response(TaskEventList.model_construct(items=items))


# ---- tasks --------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    operation_id="list_tasks",
    responses=EXPORT_RESPONSES,
    response_model=TaskPage,
    summary="List tasks",
)
async def list_tasks(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    params: Annotated[
        ListParams, Depends(list_params_for(service.TASK_SORTS, service.TASK_DEFAULT_SORT))
    ],
    task_list_id: Id = None,
    parent_task_id: Id = None,
    lead_unit_id: Id = None,
    assignee_unit_id: Id = None,
    assignee_enterprise_id: Id = None,
    progress: any_of(
        Progress, "A part in this progress (the caller's own, for an assignee)"
    ) = None,
    overdue: Annotated[bool | None, Query(description="A part past its deadline, not done")] = None,
    deadline_from: Annotated[StrictDate | None, Query()] = None,
    deadline_to: Annotated[StrictDate | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="In the title or code")] = None,
    format: FormatParam = None,
    lang: LangParam = None,
) -> Response:
    """Tasks the caller sees (every task of the lists it sees whole; otherwise those assigned
    to it, led by it, or split by it), each with the parts the caller may see and
    `allowed_actions`. Filters: `task_list_id`, `parent_task_id`, `lead_unit_id`,
    `assignee_unit_id`, `assignee_enterprise_id`, `progress` (several), `overdue`,
    `deadline_from`/`_to`, `q`; the part filters look only at parts the caller sees (an
    assignee: its own). `sort`: `code` (default, as text), `deadline`, `created_at`,
    `updated_at`. One statement.

    Who: `tasks:read`. Errors: 422 `validation_error`, `unknown_parameter`,
    `repeated_parameter`.
    """
    filters = {
        "task_list_id": task_list_id,
        "parent_task_id": parent_task_id,
        "lead_unit_id": lead_unit_id,
        "assignee_unit_id": assignee_unit_id,
        "assignee_enterprise_id": assignee_enterprise_id,
        "progress": progress,
        "overdue": overdue,
        "deadline_from": deadline_from,
        "deadline_to": deadline_to,
        "q": q,
    }
    if (fmt := wanted(request, format)) != "json":
        return await export_response(request, session, "tasks", p, filters, params.sort, fmt, lang)
    settings = request.app.state.settings
    page, today = await service.list_tasks(session, p, settings, params, **filters)
    en = wants_english(request)
    return page_response(TaskPage, [service.task_out(r, p, today, en) for r in page.rows], page)


@router.post(
    "/tasks",
    operation_id="create_task",
    response_model=TaskOut,
    status_code=201,
    summary="Add a task or split one",
)
async def create_task(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_read), body: TaskCreate
) -> Response:
    """Two uses:

    - **A task of a draft list** (`task_list_id`): `code`, `title`, `description`, `basis`,
      `lead_unit_id` (牵头单位: the issuing unit or a unit it may assign), `deadline`, `cycle`
      (`once`, `monthly`, `quarterly`, `annual`), `assignees` (`[{unit_id} | {enterprise_id}]`:
      for a county list the county's towns and bureaus and its enterprises; for a town list its
      enterprises). By the list's issuer (`tasks:issue`).
    - **A sub-task** (`parent_task_id`, 分解): an assignee unit splits its own part for units
      and enterprises in its own scope (the county office: the county's units and enterprises;
      a town or a bureau: the enterprises it supervises). It is issued at once and led by the
      splitting unit; its deadline defaults to the parent's and may not be later; the parent
      part then follows the sub-tasks. Its assignees get a `task_assigned` notification.
      By the assignee unit's staff (`tasks:progress`).

    Answers 201 with the task, `ETag`, `Location`. Errors: 403 `forbidden`; 409
    `task_list_not_draft`, `invalid_transition`; 422 `unknown_task_list`, `unknown_task`,
    `assignee_out_of_scope`, `duplicate_assignee`, `unknown_org_unit`, `validation_error`.
    """
    settings = request.app.state.settings
    task = await service.create_task(session, p, settings, body)
    out, version = await service.read_task(session, p, settings, task.id, wants_english(request))
    return json_response(out, status_code=201, version=version, location=f"/api/v1/tasks/{task.id}")


@router.get(
    "/tasks/{task_id}", operation_id="get_task", response_model=TaskOut, summary="Get a task"
)
async def get_task(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_read), task_id: TaskId
) -> Response:
    """One task with the parts the caller may see (every part for the issuer, the county and
    the lead unit; its own for an assignee), `revisions` and `allowed_actions`; `ETag` is its
    version. One statement. Errors: 404 `not_found` (missing or outside scope)."""
    settings = request.app.state.settings
    out, version = await service.read_task(session, p, settings, task_id, wants_english(request))
    return json_response(out, version=version)


@router.patch(
    "/tasks/{task_id}",
    operation_id="update_task",
    response_model=TaskOut,
    summary="Change or revise a task",
)
async def update_task(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    body: TaskUpdate,
) -> Response:
    """In a draft list anything changes, `assignees` included (the whole set). Once the list is
    issued its text is final: a change of `code`, `title`, `description`, `basis`, `deadline`,
    `cycle` or `lead_unit_id` needs a `reason` and is recorded in `revisions` (修订: who, when,
    why, each field from and to); assignees are fixed (409 `task_list_not_draft`). A sub-task is
    changed by the unit that split it. `If-Match` is honoured.

    Who: the list's issuer (`tasks:issue`); a sub-task's splitting unit. Errors: 403, 404, 409,
    412, 422."""
    task = await service.get_task(session, p, task_id)
    check_if_match(request, task.version)
    await service.update_task(session, p, task, body)
    settings = request.app.state.settings
    out, version = await service.read_task(session, p, settings, task.id, wants_english(request))
    return json_response(out, version=version)


@router.delete(
    "/tasks/{task_id}",
    operation_id="delete_task",
    status_code=204,
    responses={409: {"description": "The list is issued: `task_list_not_draft`"}},
    summary="Delete a task of a draft list",
)
async def delete_task(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_issue), task_id: TaskId
) -> Response:
    """Removes a task from a draft list (recorded in the list's history). Once issued, tasks
    stay (revise them). `If-Match` is honoured. Errors: 403, 404, 409 `task_list_not_draft`,
    412."""
    task = await service.get_task(session, p, task_id)
    check_if_match(request, task.version)
    await service.delete_task(session, p, task)
    return Response(status_code=204)


@router.post(
    "/tasks/{task_id}/transitions",
    operation_id="transition_task",
    response_model=TaskOut,
    summary="Start, complete or reopen a part of a task",
)
async def transition_task(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    body: TaskTransition,
) -> Response:
    """`start` and `complete` move the caller's own part (its unit's or enterprise's); a part
    split into sub-tasks follows them (`start` is 409; `complete` is 409 while a sub-task part
    is open, and the part becomes `done` by itself when all are). `reopen` (退回重办) takes the
    `assignee` (`{unit_id}` / `{enterprise_id}`, or `assignee_id`: the part's id) and a `reason`,
    by the lead unit or the list's issuer. `overdue` is never set: it is computed from the
    deadline. Only while the list is issued.

    Who: `tasks:progress` (the assignee's staff; the lead unit and issuer for `reopen`).
    Errors: 403 `action_forbidden`, 404, 409 `invalid_transition`, 412, 422 `unknown_assignee`."""
    task = await service.get_task(session, p, task_id)
    check_if_match(request, task.version)
    settings = request.app.state.settings
    await service.transition_task(session, p, settings, task, body)
    out, version = await service.read_task(session, p, settings, task.id, wants_english(request))
    return json_response(out, version=version)


@router.get(
    "/tasks/{task_id}/reports/draft",
    operation_id="get_task_report_draft",
    response_model=ReportDraft,
    summary="Open a period's report pre-filled",
)
async def get_task_report_draft(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    period: Annotated[
        str,
        Query(
            pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$", description="2026-11, 2026-Q4 or 2026"
        ),
    ],
    assignee_id: Annotated[
        str | None, Query(max_length=64, description="The lead unit or issuer: whose part")
    ] = None,
) -> Response:
    """The report an assignee opens for `period` (调度): every indicator of the list with, for a
    computed one (`source` a platform measure), its value for the assignee's own scope and the
    period, and `null` for a manual one, to be filled in. The values are what
    `GET /api/v1/statistics/hazards` and `/statistics/enforcement` give for that scope and
    period (README, Dispatch indicators). A list of another kind has no indicators (empty
    `figures`). The caller's own part by default; the lead unit, the issuer and the county may
    name `assignee_id`. Nothing is written.

    Errors: 404 `not_found`; 422 `unknown_assignee`, `validation_error`."""
    settings = request.app.state.settings
    body = await service.report_draft(
        session, p, settings, task_id, period, assignee_id, wants_english(request)
    )
    return json_response(ReportDraft.model_validate(body))


@router.get(
    "/tasks/{task_id}/events",
    operation_id="list_task_events",
    response_model=TaskEventList,
    summary="List a task's history",
)
async def list_task_events(
    session: SessionDep, p: Requires(Permission.tasks_read), task_id: TaskId
) -> Response:
    """Every change of the task, oldest first: created, updated or revised, split (a sub-task
    made from a part), each part's start, complete, reopen, `derive` (a split part following
    its sub-tasks), and each progress `report` and its `return` (退回). Errors: 404
    `not_found`."""
    items = await service.events(session, p, task_id=task_id)
    return json_response(TaskEventList.model_construct(items=items))


# ---- progress reports ---------------------------------------------------------------------------


@router.post(
    "/tasks/{task_id}/reports",
    operation_id="create_task_report",
    response_model=TaskReportOut,
    status_code=201,
    summary="Submit a progress report on one's own part",
)
async def create_task_report(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    body: TaskReportCreate,
) -> Response:
    """The caller's own part's report (进展报告) for `period`, written the task's `cycle` way:
    monthly `2026-11`, quarterly `2026-Q4`, annual `2026`, one-off `once` (anything else, or a
    period not begun yet or outside the list's period, is 422 `invalid_period`). `text`;
    `figures` (dispatch lists only: indicator code → a finite number ≥ 0, kept and answered as
    exact decimal text; a code the list does not define is 422 `unknown_indicator`);
    `attachment_ids` (the caller's own uploads or files it sees; kept as ids). `late` when
    submitted after `due_on`: the period's last day (one-off: the task's deadline; none: never
    late) plus `ANJIAN_TASK_REPORT_GRACE_DAYS`, to the end of that day in Asia/Shanghai. One
    submitted report per part and period: another is 409 `report_already_submitted` until it
    is returned. Only while the list is issued. Answers 201 with `Location`.

    Who: the assignee unit's staff or enterprise's users (`tasks:progress`). Errors: 403
    `action_forbidden`; 404; 409 `invalid_transition`, `report_already_submitted`; 422
    `invalid_period`, `unknown_indicator`, `invalid_attachment`, `validation_error`."""
    settings = request.app.state.settings
    report_id = await reports.submit(session, p, settings, task_id, body)
    out = await reports.read_report(session, p, task_id, report_id, wants_english(request))
    return json_response(
        out, status_code=201, location=f"/api/v1/tasks/{task_id}/reports/{report_id}"
    )


@router.get(
    "/tasks/{task_id}/reports",
    operation_id="list_task_reports",
    response_model=TaskReportList,
    summary="List a task's progress reports",
)
async def list_task_reports(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    period: Annotated[str | None, Query(max_length=8)] = None,
    assignee_id: Id = None,
) -> Response:
    """The reports on the parts the caller sees, oldest first: every part's for the issuer, the
    county, the lead unit and the splitter; **an assignee only its own**. Filters: `period`,
    `assignee_id` (the part's id). Two statements. Errors: 404 `not_found`."""
    items = await reports.list_reports(
        session, p, task_id, wants_english(request), period=period, assignee_id=assignee_id
    )
    return json_response({"items": items, "next_cursor": None})


@router.get(
    "/tasks/{task_id}/reports/{report_id}",
    operation_id="get_task_report",
    response_model=TaskReportOut,
    summary="Get a progress report",
)
async def get_task_report(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    report_id: ReportId,
) -> Response:
    """One report; another assignee's is 404, like a missing one. Errors: 404 `not_found`."""
    out = await reports.read_report(session, p, task_id, report_id, wants_english(request))
    return json_response(out)


@router.post(
    "/tasks/{task_id}/reports/{report_id}/return",
    operation_id="return_task_report",
    response_model=TaskReportOut,
    summary="Return a progress report",
)
async def return_task_report(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.tasks_read),
    task_id: TaskId,
    report_id: ReportId,
    body: TaskReportReturn,
) -> Response:
    """退回: a `submitted` report goes back with a `reason`; the assignee's users get one
    `task_report_returned` notification in the same transaction, and the assignee submits a
    new report for the period. Only while the list is issued.

    Who: the lead unit or the list's issuer (and the county's admins), `tasks:progress` or
    `tasks:issue`. Errors: 403 `action_forbidden`; 404; 409 `invalid_transition` (already
    returned, list closed); 422 `validation_error`."""
    await reports.return_report(session, p, task_id, report_id, body.reason)
    out = await reports.read_report(session, p, task_id, report_id, wants_english(request))
    return json_response(out)


@router.get(
    "/tasks/{task_id}/reporting",
    operation_id="get_task_reporting",
    response_model=TaskReportingOut,
    summary="Which periods each part has reported",
)
async def get_task_reporting(
    request: Request, session: SessionDep, p: Requires(Permission.tasks_read), task_id: TaskId
) -> Response:
    """For each part the caller sees (an assignee: its own), every period begun so far, from
    the list's `period_from` (or the task's creation) to today, up to the list's `period_to` or
    the task's deadline (`once`: the one period), with `due_on` and `state`: `submitted`,
    `late`, `returned`, `missing` (past `due_on`, nothing submitted) or `pending` (not yet
    due). Two statements. Errors: 404 `not_found`."""
    settings = request.app.state.settings
    out = await reports.reporting(session, p, settings, task_id, wants_english(request))
    return json_response(out)
