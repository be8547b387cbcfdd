from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import RequiresPerson
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response, page_response
from app.core.i18n import wants_english
from app.schemas.common import ListParams, any_of, list_params_for
from app.schemas.notifications import (
    NotificationKind,
    NotificationOut,
    NotificationPage,
    NotificationsRead,
)
from app.services import notifications as service

router = APIRouter(tags=["notifications"], route_class=ApiRoute)

NotificationId = Annotated[str, Path(max_length=64)]
# Every person holds it; machine clients never (403 `not_a_person`).
PERSON = Permission.notifications_read


@router.get(
    "/notifications",
    operation_id="list_notifications",
    response_model=NotificationPage,
    summary="List my notifications",
)
async def list_notifications(
    request: Request,
    session: SessionDep,
    p: RequiresPerson(PERSON),
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
    unread: Annotated[
        bool | None, Query(description="`true`: only unread ones; `false`: only read ones")
    ] = None,
    kind: any_of(NotificationKind, "Notifications of any of these kinds") = None,
) -> Response:
    """The caller's own inbox (通知), and nobody else's: deadline warnings (预警) and overdue
    reminders (逾期) about hazards, sent to every user of the unit or enterprise reminded, and
    later kinds (task lists, reports, inspections). Each has `kind`, `title` and `body` (Chinese,
    or English under `Accept-Language: en`), `link` (the API path of its object, with
    `object_type` and `object_id`), `read_at` (null: unread) and `created_at`. One page at a
    time (`limit` ≤ 500, `cursor`, `include_total`); newest first by default (`sort`:
    `created_at` or `-created_at`). Filters: `unread`, `kind` (several values, repeated or
    comma-separated). The unread count is on `GET /api/v1/me` (`unread_count`).

    Who: every person. Errors: 403 `not_a_person` for machine clients; 422 `validation_error`,
    `unknown_parameter`, `repeated_parameter`.
    """
    page = await service.list_notifications(session, p, params, unread=unread, kind=kind)
    en = wants_english(request)
    return page_response(NotificationPage, [service.to_out(r, en) for r in page.rows], page)


@router.post(
    "/notifications/read-all",
    operation_id="read_all_notifications",
    response_model=NotificationsRead,
    responses={422: {"description": "Validation failed"}},
    summary="Mark all my notifications read",
)
async def read_all_notifications(session: SessionDep, p: RequiresPerson(PERSON)) -> Response:
    """Marks every unread notification of the caller read (now) and answers how many it
    marked (`marked_read`; 0 when none was unread). No body. Others' notifications are never
    touched.

    Who: every person. Errors: 403 `not_a_person` for machine clients.
    """
    count = await service.mark_all_read(session, p)
    return json_response(NotificationsRead(marked_read=count))


@router.post(
    "/notifications/{notification_id}/read",
    operation_id="read_notification",
    response_model=NotificationOut,
    summary="Mark one of my notifications read",
)
async def read_notification(
    request: Request,
    session: SessionDep,
    p: RequiresPerson(PERSON),
    notification_id: NotificationId,
) -> Response:
    """Marks the notification read and answers it. Idempotent: reading it again keeps the first
    `read_at`. No body. Only the caller's own: another person's notification is 404, exactly
    like one that does not exist.

    Who: every person. Errors: 403 `not_a_person` for machine clients; 404 `not_found`.
    """
    row = await service.mark_read(session, p, notification_id)
    return json_response(service.to_out(row, wants_english(request)))
