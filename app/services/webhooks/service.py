"""Webhook subscriptions (issue 17): who may hold them, their secrets, and what they show.

Administrators (``webhooks:manage`` with every permission) manage the subscriptions of their
county; a machine client granted ``webhooks:manage`` holds its own and sees no other. A
subscription delivers what its owner may read through the change feed (its ``types`` among
the owner's readable ones, in the owner's scope), rendered for the owner at delivery. It starts
at the feed's head: changes committed after it was created.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import Forbidden, Gone, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import ApiClient, User, WebhookDelivery, WebhookSubscription
from app.models.base import utcnow
from app.schemas.common import ListParams
from app.schemas.webhooks import SecretRotation, WebhookCreate, WebhookUpdate
from app.services.changes import feed
from app.services.changes.record import TYPES
from app.services.webhooks import delivery, signing, urls

S = WebhookSubscription
SORTS = {"created_at": S.created_at}
DEFAULT_SORT = "-created_at"
DELIVERY_SORTS = {"created_at": WebhookDelivery.created_at}
DELIVERY_DEFAULT_SORT = "-created_at"

COLUMNS = (
    S.id,
    S.url,
    S.types,
    S.description,
    S.enabled,
    S.disabled_reason,
    S.disabled_at,
    S.owner_kind,
    S.owner_id,
    S.cursor_xid,
    S.cursor_seq,
    S.attempts,
    S.retry_at,
    S.failing_since,
    S.last_success_at,
    S.previous_secret_expires_at,
    S.created_at,
    S.updated_at,
    S.version,
)


def _owner_name() -> Any:
    return (
        select(ApiClient.name)
        .where(S.owner_kind == "client", ApiClient.id == S.owner_id)
        .scalar_subquery()
        .label("client_name"),
        select(User.display_name)
        .where(S.owner_kind == "user", User.id == S.owner_id)
        .scalar_subquery()
        .label("user_name"),
    )


def _mine(p: Principal) -> Any:
    """The subscriptions the caller manages: an admin those of its county, a client its own."""
    if p.kind == "client":
        return and_(S.owner_kind == "client", S.owner_id == p.id)
    return S.county_code == (p.county_code or "")


def _manager(p: Principal) -> None:
    """``webhooks:manage``, held by administrators and the clients granted it; a county admin
    or a client with a unit (a person of an enterprise never holds it)."""
    ensure(p, Permission.webhooks_manage)
    if p.unit is None:
        raise Forbidden("仅政府单位的管理员或接口客户端可管理 Webhook", "Not a manager of webhooks")


def to_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "types": [t for t in TYPES if t in (row.types or [])],
        "description": row.description,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "disabled_at": row.disabled_at,
        "owner": {
            "kind": row.owner_kind,
            "id": row.owner_id,
            "name": row.client_name if row.owner_kind == "client" else row.user_name,
        },
        "cursor": feed.cursor_text((int(row.cursor_xid), int(row.cursor_seq))),
        "attempts": row.attempts,
        "retry_at": row.retry_at,
        "failing_since": row.failing_since,
        "last_success_at": row.last_success_at,
        "previous_secret_expires_at": row.previous_secret_expires_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _select() -> Any:
    return select(*COLUMNS, *_owner_name())


async def list_webhooks(session: AsyncSession, p: Principal, params: ListParams) -> PageResult:
    _manager(p)
    return await fetch_page(
        session,
        _select().where(_mine(p)),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=S.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def get_row(session: AsyncSession, p: Principal, webhook_id: str) -> Any:
    """One subscription the caller manages (one statement); 404 for any other."""
    _manager(p)
    row = (await session.execute(_select().where(S.id == webhook_id, _mine(p)))).first()
    if row is None:
        raise NotFound("Webhook 订阅不存在", "Webhook subscription not found")
    return row


async def _get(session: AsyncSession, p: Principal, webhook_id: str) -> WebhookSubscription:
    _manager(p)
    sub = (
        await session.execute(select(S).where(S.id == webhook_id, _mine(p)))
    ).scalar_one_or_none()
    if sub is None:
        raise NotFound("Webhook 订阅不存在", "Webhook subscription not found")
    return sub


def _types(p: Principal, wanted: list[str] | None, *, whose: str = "You") -> list[str]:
    readable = feed.readable_types(p, None)
    if wanted is None:
        if not readable:
            raise ValidationFailed.field("types", "无可订阅的变更类型", "You may read no type")
        return readable
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed.field("types", "类型重复", "A type is repeated")
    denied = [t for t in wanted if t not in readable]
    if denied:
        raise ValidationFailed.field(
            "types",
            f"无权读取的类型：{', '.join(denied)}",
            f"{whose} may not read: {', '.join(denied)}",
        )
    return [t for t in TYPES if t in wanted]


async def _owner_types(
    session: AsyncSession, p: Principal, sub: WebhookSubscription, wanted: list[str] | None
) -> list[str]:
    """The types checked against the owner's permissions, not the editor's: an administrator
    editing a client's subscription may not give it a type the client may not read (the feed
    would drop it silently at every delivery)."""
    if (sub.owner_kind, sub.owner_id) == (p.kind, p.id):
        return _types(p, wanted)
    owner = await delivery.owner_of(session, sub)
    if owner is None:  # deactivated or without the permissions: disabled at its next delivery
        return _types(p, wanted)
    return _types(owner, wanted, whose="The subscription's owner")


async def create(
    session: AsyncSession, p: Principal, settings: Settings, body: WebhookCreate
) -> tuple[str, str]:
    """The new subscription's id and its secret (shown once)."""
    _manager(p)
    ensure(p, Permission.changes_read)
    url = await urls.validate(settings, body.url)
    types = _types(p, body.types)
    xid, seq = await feed.head(session)
    sub_id = new_id()
    secret = signing.new_secret()
    sealed = signing.seal(settings, sub_id, secret)
    session.add(
        S(
            id=sub_id,
            owner_kind=p.kind,
            owner_id=p.id,
            county_code=p.county_code or "",
            url=url,
            types=types,
            description=body.description,
            enabled=body.enabled,
            secret_key_id=sealed.key_id,
            secret_sealed=sealed.ciphertext,
            cursor_xid=xid,
            cursor_seq=seq,
            attempts=0,
        )
    )
    await session.flush()
    return sub_id, secret


async def update_webhook(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    webhook_id: str,
    body: WebhookUpdate,
    check: Any,
) -> None:
    """``check(version)`` is the caller's If-Match test, run on the row as read."""
    sub = await _get(session, p, webhook_id)
    check(sub.version)
    given = body.model_fields_set
    if "url" in given:
        sub.url = await urls.validate(settings, body.url)
    if "types" in given:
        sub.types = await _owner_types(session, p, sub, body.types)
    if "description" in given:
        sub.description = body.description
    if "enabled" in given and body.enabled != sub.enabled:
        sub.enabled = body.enabled
        sub.disabled_at = None if body.enabled else utcnow()
        sub.disabled_reason = None
        if body.enabled:  # a fresh start at the change it stopped at
            if (sub.cursor_xid, sub.cursor_seq) < await feed.retention_horizon(session):
                raise Gone(
                    "该订阅未投递的部分变更已超过保留期限被删除，无法续投：请先从各列表重新同步，"
                    "再删除此订阅并重新订阅",
                    "Changes this subscription had not delivered were deleted by retention: "
                    "resynchronise from the lists, then delete it and subscribe anew",
                    code="cursor_expired",
                )
            sub.attempts, sub.retry_at, sub.failing_since = 0, None, None
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    webhook_id: str,
    body: SecretRotation,
    check: Any,
) -> str:
    sub = await _get(session, p, webhook_id)
    check(sub.version)
    overlap = (
        settings.webhook_secret_overlap_seconds
        if body.overlap_seconds is None
        else body.overlap_seconds
    )
    if overlap > 0:
        sub.previous_secret_key_id = sub.secret_key_id
        sub.previous_secret_sealed = sub.secret_sealed
        sub.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap)
    else:
        sub.previous_secret_key_id = None
        sub.previous_secret_sealed = None
        sub.previous_secret_expires_at = None
    secret = signing.new_secret()
    sealed = signing.seal(settings, sub.id, secret)
    sub.secret_key_id, sub.secret_sealed = sealed.key_id, sealed.ciphertext
    await session.flush()
    return secret


async def delete_webhook(session: AsyncSession, p: Principal, webhook_id: str, check: Any) -> None:
    sub = await _get(session, p, webhook_id)
    check(sub.version)
    await session.delete(sub)
    await session.flush()


async def list_deliveries(
    session: AsyncSession, p: Principal, webhook_id: str, params: ListParams
) -> PageResult:
    await get_row(session, p, webhook_id)
    stmt = select(
        WebhookDelivery.id,
        WebhookDelivery.message_id,
        WebhookDelivery.cursor,
        WebhookDelivery.type,
        WebhookDelivery.object_id,
        WebhookDelivery.op,
        WebhookDelivery.attempt,
        WebhookDelivery.manual,
        WebhookDelivery.outcome,
        WebhookDelivery.status_code,
        WebhookDelivery.latency_ms,
        WebhookDelivery.error,
        WebhookDelivery.created_at,
    ).where(WebhookDelivery.subscription_id == webhook_id)
    return await fetch_page(
        session,
        stmt,
        sort=parse_sort(params.sort, DELIVERY_SORTS, DELIVERY_DEFAULT_SORT),
        id_column=WebhookDelivery.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def delivery_of(
    session: AsyncSession, p: Principal, webhook_id: str, delivery_id: str
) -> Any:
    """A logged delivery of a subscription the caller manages (one statement)."""
    _manager(p)
    row = (
        await session.execute(
            select(WebhookDelivery.id, WebhookDelivery.message_id, WebhookDelivery.cursor)
            .join(S, S.id == WebhookDelivery.subscription_id)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.subscription_id == webhook_id,
                _mine(p),
            )
        )
    ).first()
    if row is None:
        raise NotFound("投递记录不存在", "Delivery not found")
    return row
