"""``/api/v1/changes``: the change feed a provincial system mirrors the county from (issue 17;
the reading rules: app/services/changes/feed.py)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import json_response
from app.core.i18n import wants_english
from app.schemas.changes import ChangeHead, ChangePage, ChangeType
from app.schemas.common import any_of
from app.services.changes import feed
from app.services.changes.record import wait_for_change

router = APIRouter(tags=["changes"], route_class=ApiRoute)
Reader = Requires(Permission.changes_read)
MAX_WAIT_SECONDS = 60
POLL_SECONDS = 1.0  # another instance's commits are seen within this while waiting


@router.get(
    "/changes",
    operation_id="list_changes",
    response_model=ChangePage,
    responses={410: {"description": "`cursor_expired`: resynchronise from the lists"}},
    summary="Read the change feed",
)
async def list_changes(
    request: Request,
    session: SessionDep,
    p: Reader,
    after: Annotated[
        str | None,
        Query(
            max_length=41,
            description="A `cursor` or `next_cursor` the feed returned; without it the feed "
            "starts at the oldest retained change",
        ),
    ] = None,
    types: any_of(
        ChangeType, "The types of object to follow (default: every type you may read)"
    ) = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Changes per page")] = 100,
    wait: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="Long-poll: when nothing is new, wait up to this many seconds for a "
            "change before answering the empty page (at most ANJIAN_CHANGES_MAX_WAIT_SECONDS, "
            "60)",
        ),
    ] = 0,
) -> Response:
    """Every committed change in your scope, in commit order, after `after`: `cursor`, `type`,
    `id`, `op` (`upsert` | `delete`), `changed_at` and, for an `upsert`, `data`, the object's
    current representation as its detail endpoint gives it to you (a later entry of the same
    object supersedes an earlier one). An object that leaves your scope (an enterprise moved to
    another town, and with it its hazards) appears as a `delete` without anything else; one
    that enters it as an `upsert`. `next_cursor` is always present; an empty page with the same
    cursor means nothing is new. No change is skipped or repeated while others write.

    Who: every role and machine client holding `changes:read`, of the types it may read (an
    enterprise's with `enterprises:read`, a hazard's with `hazards:read`), in its scope. Errors:
    422 `validation_error` (a cursor the feed did not give); 410 `cursor_expired` (changes after
    the cursor were deleted by retention, `ANJIAN_CHANGES_RETENTION_DAYS`, 30: resynchronise
    from the lists, then follow from `GET /api/v1/changes/head`).
    """
    settings = request.app.state.settings
    english = wants_english(request)
    deadline = time.monotonic() + min(wait, settings.changes_max_wait_seconds)
    cursor = after
    while True:
        entries, cursor = await feed.page(session, p, settings, cursor, types, limit, english)
        remaining = deadline - time.monotonic()
        if entries or remaining <= 0:
            break
        await session.close()  # no connection is held while waiting
        await wait_for_change(min(remaining, POLL_SECONDS))
    body = ChangePage.model_validate(
        {"items": [entry.__dict__ for entry in entries], "next_cursor": cursor}
    )
    return json_response(body.model_dump(mode="json"))


@router.get(
    "/changes/head",
    operation_id="get_changes_head",
    response_model=ChangeHead,
    summary="The feed's current cursor",
)
async def get_changes_head(session: SessionDep, p: Reader) -> Response:
    """The cursor of the newest committed change: take it before a full load from the lists,
    then read `GET /api/v1/changes?after=` it to follow what changed since.

    Who: every role and machine client holding `changes:read`."""
    return json_response({"cursor": feed.cursor_text(await feed.head(session))})
