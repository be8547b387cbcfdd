"""``/api/v1/webhooks``: subscriptions to the change feed, delivered signed (issue 17; the
rules: app/services/webhooks/service.py, the deliveries: app/services/webhooks/delivery.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import check_if_match, json_response, page_response
from app.schemas.common import ListParams, list_params_for
from app.schemas.webhooks import (
    DeliveryOut,
    DeliveryPage,
    RedeliveryOut,
    SecretRotation,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookUpdate,
    WebhookWithSecret,
)
from app.services.job_queue import enqueue
from app.services.webhooks import delivery, service

router = APIRouter(tags=["webhooks"], route_class=ApiRoute)
WebhookId = Annotated[str, Path(max_length=64)]
DeliveryId = Annotated[str, Path(max_length=64)]
Manager = Requires(Permission.webhooks_manage)
_WHO = (
    "Who: administrators (the subscriptions of their county) and machine clients granted "
    "`webhooks:manage` (their own)."
)


async def _shown(session: SessionDep, p: Manager, webhook_id: str) -> tuple[dict, int]:
    row = await service.get_row(session, p, webhook_id)
    return service.to_out(row), int(row.version)


@router.get(
    "/webhooks",
    operation_id="list_webhooks",
    response_model=WebhookPage,
    summary="List webhook subscriptions",
)
async def list_webhooks(
    session: SessionDep,
    p: Manager,
    params: Annotated[ListParams, Depends(list_params_for(service.SORTS, service.DEFAULT_SORT))],
) -> Response:
    """The subscriptions you manage, newest first (`sort`: `created_at`, `-created_at`), one page
    at a time. Never a secret.

    Who: administrators (every subscription of their county) and machine clients granted
    `webhooks:manage` (their own)."""
    page = await service.list_webhooks(session, p, params)
    return page_response(WebhookPage, [service.to_out(r) for r in page.rows], page)


@router.post(
    "/webhooks",
    operation_id="create_webhook",
    response_model=WebhookWithSecret,
    status_code=201,
    responses={409: {"description": "`idempotency_not_replayable`"}},
    summary="Subscribe a URL to the change feed",
)
async def create_webhook(
    request: Request,
    session: SessionDep,
    p: Manager,
    body: Annotated[
        WebhookCreate,
        Body(
            openapi_examples={
                "hazards": {
                    "summary": "Hazards and enterprises",
                    "value": {
                        "url": "https://exchange.example.gov.cn/anjian/webhooks",
                        "types": ["hazard", "enterprise"],
                        "description": "省级数据交换平台",
                    },
                }
            }
        ),
    ],
) -> Response:
    """Subscribes `url` to the changes of `types` (default: every type you may read) in your
    scope, from now on: each committed change is POSTed as it is listed by
    `GET /api/v1/changes` for you, wrapped `{"type": "hazard.upsert", "timestamp", "data"}`,
    signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
    in feed order, retried with back-off until a 2xx. Answers 201 with the `secret`
    (`whsec_…`), **shown once**; because of it, the answer is never stored for an
    `Idempotency-Key` replay (a retry is 409 `idempotency_not_replayable`: list the
    subscriptions to find it).

    The URL must be `https://` (http only with ANJIAN_WEBHOOK_ALLOW_HTTP, for development),
    without credentials, and may not be or resolve to a private, loopback, link-local or
    reserved address unless ANJIAN_WEBHOOK_ALLOWED_HOSTS names it; redirects are not followed.

    Who: administrators and machine clients granted `webhooks:manage`, holding
    `changes:read`. Errors: 403 `forbidden`; 409 `idempotency_not_replayable`; 422
    `webhook_url_refused`, `validation_error` (a type you may not read)."""
    settings = request.app.state.settings
    sub_id, secret = await service.create(session, p, settings, body)
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    shown, version = await _shown(session, p, sub_id)
    out = WebhookWithSecret.model_validate({**shown, "secret": secret})
    return json_response(
        out, status_code=201, version=version, location=f"/api/v1/webhooks/{sub_id}"
    )


@router.get(
    "/webhooks/{webhook_id}",
    operation_id="get_webhook",
    response_model=WebhookOut,
    summary="Get a webhook subscription",
)
async def get_webhook(session: SessionDep, p: Manager, webhook_id: WebhookId) -> Response:
    """One subscription: where and what it delivers, whether it is enabled (and why the service
    disabled it), how far it has delivered (`cursor`), its failure streak and next retry.
    Never the secret. The `ETag` is its version, for `If-Match`.

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`."""
    shown, version = await _shown(session, p, webhook_id)
    return json_response(WebhookOut.model_validate(shown), version=version)


@router.patch(
    "/webhooks/{webhook_id}",
    operation_id="update_webhook",
    response_model=WebhookOut,
    responses={410: {"description": "`cursor_expired`: it cannot resume; subscribe anew"}},
    summary="Update a webhook subscription",
)
async def update_webhook(
    request: Request,
    session: SessionDep,
    p: Manager,
    webhook_id: WebhookId,
    body: WebhookUpdate,
) -> Response:
    """Changes `url`, `types`, `description` or `enabled` (partial). Disabling stops deliveries
    where they are; enabling resumes from the first change not delivered. Send `If-Match` with
    the `ETag` you read (412 `precondition_failed` if it changed since).

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`; 410 `cursor_expired` (enabling one whose undelivered changes were deleted by
    retention); 412 `precondition_failed`; 422 `webhook_url_refused`, `validation_error`."""
    settings = request.app.state.settings
    await service.update_webhook(
        session, p, settings, webhook_id, body, lambda v: check_if_match(request, v)
    )
    shown, version = await _shown(session, p, webhook_id)
    return json_response(WebhookOut.model_validate(shown), version=version)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    operation_id="rotate_webhook_secret",
    response_model=WebhookWithSecret,
    responses={409: {"description": "`idempotency_not_replayable`"}},
    summary="Rotate a webhook subscription's signing secret",
)
async def rotate_webhook_secret(
    request: Request,
    session: SessionDep,
    p: Manager,
    webhook_id: WebhookId,
    body: SecretRotation | None = None,
) -> Response:
    """Issues a new signing secret, **shown once**. For `overlap_seconds` (default
    ANJIAN_WEBHOOK_SECRET_OVERLAP_SECONDS, 86400) each delivery carries two signatures in
    `webhook-signature`, by the new secret and by the previous, so the receiver can switch
    without losing a delivery; `0` drops the previous secret at once (a leaked secret). The
    body is optional. Send `If-Match` with the `ETag` you read.

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`; 409 `idempotency_not_replayable`; 412 `precondition_failed`."""
    settings = request.app.state.settings
    secret = await service.rotate_secret(
        session,
        p,
        settings,
        webhook_id,
        body or SecretRotation(),
        lambda v: check_if_match(request, v),
    )
    request.state.idempotency_no_store = True  # the secret is shown once, never replayed
    shown, version = await _shown(session, p, webhook_id)
    out = WebhookWithSecret.model_validate({**shown, "secret": secret})
    return json_response(out, version=version)


@router.delete(
    "/webhooks/{webhook_id}",
    operation_id="delete_webhook",
    status_code=204,
    summary="Delete a webhook subscription",
)
async def delete_webhook(
    request: Request, session: SessionDep, p: Manager, webhook_id: WebhookId
) -> Response:
    """Deletes the subscription and its delivery log; nothing more is sent. Answers 204.
    `If-Match` is honoured when sent.

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`; 412 `precondition_failed`."""
    await service.delete_webhook(session, p, webhook_id, lambda v: check_if_match(request, v))
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    response_model=DeliveryPage,
    summary="The delivery log of a webhook subscription",
)
async def list_webhook_deliveries(
    session: SessionDep,
    p: Manager,
    webhook_id: WebhookId,
    params: Annotated[
        ListParams,
        Depends(list_params_for(service.DELIVERY_SORTS, service.DELIVERY_DEFAULT_SORT)),
    ],
) -> Response:
    """Every delivery attempt, newest first (kept 30 days): the change (`cursor`, `type`,
    `object_id`, `op`), its `message_id` (the `webhook-id`), `attempt`, `outcome`, the
    receiver's `status_code`, `latency_ms` and `error`; `manual` for redeliveries.

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`."""
    page = await service.list_deliveries(session, p, webhook_id, params)
    items = [DeliveryOut.model_validate(dict(r)) for r in page.rows]
    return page_response(DeliveryPage, items, page)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    operation_id="redeliver_webhook_delivery",
    response_model=RedeliveryOut,
    status_code=202,
    summary="Send a logged delivery again",
)
async def redeliver_webhook_delivery(
    session: SessionDep, p: Manager, webhook_id: WebhookId, delivery_id: DeliveryId
) -> Response:
    """Sends the change of this delivery again, once, in the background: the object as it is
    now for the subscription's owner (or a `delete` when it is gone from its scope), with the
    same `webhook-id`, signed with the current secret, logged with `manual: true`. It does not
    move the subscription's cursor. It is never sent while another attempt to the subscription
    is in flight (it waits its turn, retried with the jobs' back-off). Answers 202 with the job.

    Who: administrators and machine clients granted `webhooks:manage` (their own). Errors: 404
    `not_found`."""
    row = await service.delivery_of(session, p, webhook_id, delivery_id)
    job_id = await enqueue(session, delivery.REDELIVERY_KIND, {"delivery_id": row.id})
    out = RedeliveryOut(job_id=str(job_id), message_id=row.message_id, status="queued")
    return json_response(out, status_code=202)
