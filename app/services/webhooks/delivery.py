"""Webhook deliveries (issue 17): the change feed, sent to each subscription in order, signed.

The outbox is the change table itself (app/services/changes/record.py writes its rows in the
transaction of each change), read through the feed (app/services/changes/feed.py) from the
subscription's own cursor, with the owner's scope and permissions: what a subscription is
sent is exactly what its owner would read from ``GET /api/v1/changes``, in the same order.

- ``pump`` (each process, every ``ANJIAN_WEBHOOK_POLL_SECONDS`` and at once after a commit of
  changes in the process) enqueues one ``webhook_delivery`` job for each enabled subscription
  with changes after its cursor, no retry pending and no live job. The job's id is written to
  the subscription by a conditional update in the same transaction: one job per subscription
  at a time across instances, and so one attempt at a time, in order.
- The job sends the changes one by one. After a 2xx the cursor moves past the change, with
  the attempt logged, in one commit: a crash re-sends at most the change in flight (the same
  ``webhook-id``: receivers drop a repeat). Any other answer, a timeout, a refused address or
  a redirect (never followed) is a failed attempt: logged, the subscription held back until
  ``retry_at`` (exponential back-off with jitter), and disabled once it has failed for
  ``ANJIAN_WEBHOOK_DISABLE_AFTER_SECONDS`` (24 h), its owner notified.
- Nothing is sent while a database transaction is open, and a job holds one connection.
- ``webhook_redelivery`` sends one logged change again on request (its current
  representation, the same ``webhook-id``), once, logged as ``manual``. It takes the
  subscription's claim while it sends (a busy subscription: it is retried later), so it never
  overlaps a delivery or another redelivery.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.deps import resolve_principal
from app.auth.permissions import Permission, Role
from app.auth.principal import Principal
from app.core.config import Settings
from app.core.errors import AppError, Gone
from app.core.ids import new_id
from app.core.sealing import InvalidTag, KeyUnavailable
from app.models import ApiClient, Job, OrgUnit, User, WebhookDelivery, WebhookSubscription
from app.models.base import utcnow
from app.schemas.changes import ChangeOut
from app.services import notifications
from app.services.changes import feed
from app.services.changes.feed import Entry
from app.services.changes.record import wait_for_change
from app.services.job_queue import JobContext, backoff_seconds, enqueue, register
from app.services.webhooks import signing, urls

log = logging.getLogger("anjian.webhooks")
S = WebhookSubscription
KIND = "webhook_delivery"
REDELIVERY_KIND = "webhook_redelivery"
KINDS = (KIND, REDELIVERY_KIND)
BATCH = 100  # changes read per feed page
MAX_PER_JOB = 1000  # then the job ends and the pump starts the next: subscriptions take turns
LIVE = ("queued", "running", "failed")  # a job in these will still run
REDELIVERY_ATTEMPTS = 5  # a redelivery waits (the jobs' back-off) while a delivery is in flight
KEEP_DELIVERIES_DAYS = 30
ERROR_CHARS = 500
USER_AGENT = "anjian-webhooks/1"
ANSWER_BYTES = 64 * 1024  # of a receiver's answer read at most (only its status matters)

_SUB_COLUMNS = (
    S.id,
    S.owner_kind,
    S.owner_id,
    S.county_code,
    S.url,
    S.types,
    S.description,
    S.enabled,
    S.secret_key_id,
    S.secret_sealed,
    S.previous_secret_key_id,
    S.previous_secret_sealed,
    S.previous_secret_expires_at,
    S.cursor_xid,
    S.cursor_seq,
    S.attempts,
    S.retry_at,
    S.failing_since,
    S.dispatch_job_id,
)


def retry_delay(settings: Settings, attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` failures: the jobs' back-off with
    the webhook settings' base and cap."""
    return backoff_seconds(
        attempts,
        rng,
        base=settings.webhook_retry_base_seconds,
        cap=settings.webhook_retry_cap_seconds,
    )


# ---- what is sent ------------------------------------------------------------------------------


def message_id(subscription_id: str, cursor: str) -> str:
    """The ``webhook-id``: one per subscription and change, the same on every attempt."""
    return f"{subscription_id}.{cursor}"


def body_of(entry: Entry, now: datetime) -> bytes:
    """The Standard Webhooks envelope: ``type`` (``hazard.upsert``), ``timestamp`` and
    ``data``, the change exactly as ``GET /api/v1/changes`` lists it for the owner."""
    data = ChangeOut.model_validate(entry.__dict__).model_dump(mode="json")
    envelope = {"type": f"{entry.type}.{entry.op}", "timestamp": now.isoformat(), "data": data}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Attempt:
    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None


def _short(text: str) -> str:
    return text[:ERROR_CHARS]


async def send(
    client: httpx.AsyncClient,
    settings: Settings,
    url: str,
    secrets_: list[str],
    msg_id: str,
    body: bytes,
) -> Attempt:
    """One POST to the subscription's URL, to an address checked just before (SSRF), never
    following a redirect; bounded as a whole by ``ANJIAN_WEBHOOK_TIMEOUT_SECONDS``."""
    started = time.monotonic()
    limit = settings.webhook_timeout_seconds
    try:
        target = urls.parse(settings, url)
        async with asyncio.timeout(limit):  # a slow name server counts against the request
            address = (await urls.resolve(settings, target))[0]
    except urls.UnsafeDestination as exc:
        return Attempt(False, None, None, _short(f"not sent: {exc}"))
    except AppError as exc:
        return Attempt(False, None, None, _short(f"not sent: {exc.detail_en}"))
    except TimeoutError:
        return Attempt(False, None, None, f"not sent: {target.host} did not resolve in {limit} s")
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    now = utcnow()
    headers = {
        "host": target.netloc,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signing.signature(secrets_, msg_id, now, body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request_url = f"{target.scheme}://{host}:{target.port}{target.path}"
    try:
        async with asyncio.timeout(max(limit - (time.monotonic() - started), 0)):
            async with client.stream(
                "POST", request_url, content=body, headers=headers, extensions=extensions
            ) as response:
                status = response.status_code
                await _drain(response)
    except TimeoutError:
        latency = int((time.monotonic() - started) * 1000)
        return Attempt(
            False, None, latency, f"timed out after {settings.webhook_timeout_seconds} s"
        )
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return Attempt(False, None, latency, _short(f"{type(exc).__name__}: {exc}"))
    latency = int((time.monotonic() - started) * 1000)
    if 200 <= status < 300:
        return Attempt(True, status, latency, None)
    if 300 <= status < 400:
        return Attempt(False, status, latency, "redirect not followed")
    return Attempt(False, status, latency, f"HTTP {status}")


async def _drain(response: httpx.Response) -> None:
    """Reads what the receiver answered up to ``ANSWER_BYTES`` (so its connection can serve the
    next delivery), never more: a larger answer is cut and its connection closed."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > ANSWER_BYTES:
            break


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None)


# ---- the subscription's state --------------------------------------------------------------------


async def _load(session: AsyncSession, subscription_id: str) -> Any:
    """The subscription, and ``job_attempt``: the attempt its dispatch job is at now."""
    job_attempt = (
        select(Job.attempts)
        .where(Job.id == S.dispatch_job_id, Job.status == "running")
        .scalar_subquery()
        .label("job_attempt")
    )
    stmt = select(*_SUB_COLUMNS, job_attempt).where(S.id == subscription_id)
    return (await session.execute(stmt)).first()


def _running(sub: Any, job_id: str, attempt: int) -> bool:
    """Still this run's: its job, enabled, and the job not claimed since by another worker
    (this one's lease ran out while it was sending: the other run now delivers)."""
    return (
        sub is not None
        and sub.enabled
        and sub.dispatch_job_id == job_id
        and sub.job_attempt is not None
        and int(sub.job_attempt) == attempt
    )


async def owner_of(session: AsyncSession, sub: Any) -> Principal | None:
    """The owner as a request of it would be resolved now; None when it was deactivated or no
    longer holds ``webhooks:manage`` and ``changes:read``."""
    model = ApiClient if sub.owner_kind == "client" else User
    version = (
        await session.execute(select(model.credential_version).where(model.id == sub.owner_id))
    ).scalar_one_or_none()
    if version is None:
        return None
    p = await resolve_principal(session, sub.owner_kind, sub.owner_id, int(version))
    if p is None or not (p.can(Permission.webhooks_manage) and p.can(Permission.changes_read)):
        return None
    return p


def secrets_of(settings: Settings, sub: Any) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [signing.unseal(settings, sub.id, sub.secret_key_id, sub.secret_sealed)]
    expires = sub.previous_secret_expires_at
    if sub.previous_secret_sealed and expires is not None and expires > utcnow():
        found.append(
            signing.unseal(settings, sub.id, sub.previous_secret_key_id, sub.previous_secret_sealed)
        )
    return found


def _settings_of(sub: Any) -> tuple[Any, ...]:
    """What a page was read and signed for: an edit or a rotation makes the rest of it stale."""
    return (sub.url, sub.types, sub.secret_sealed, sub.previous_secret_sealed)


def _ours(sub: Any, job_id: str, attempt: int) -> Any:
    """The guard of every write of a delivery job: still this job's and this run's (not
    claimed since by another worker), at the cursor it read."""
    return (
        (S.id == sub.id)
        & (S.dispatch_job_id == job_id)
        & (S.cursor_xid == sub.cursor_xid)
        & (S.cursor_seq == sub.cursor_seq)
        & _this_run(job_id, attempt)
    )


def _this_run(job_id: str, attempt: int) -> Any:
    return (
        select(Job.id)
        .where(Job.id == job_id, Job.attempts == attempt, Job.status == "running")
        .exists()
    )


async def _log(
    session: AsyncSession,
    sub_id: str,
    entry: Entry,
    attempt_no: int,
    outcome: Attempt,
    *,
    manual: bool = False,
) -> None:
    session.add(
        WebhookDelivery(
            id=new_id(),
            subscription_id=sub_id,
            message_id=message_id(sub_id, entry.cursor),
            cursor=entry.cursor,
            type=entry.type,
            object_id=entry.id,
            op=entry.op,
            changed_at=entry.changed_at,
            attempt=attempt_no,
            manual=manual,
            outcome="succeeded" if outcome.ok else "failed",
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            created_at=utcnow(),
        )
    )
    await session.flush()


async def disable(session: AsyncSession, sub: Any, reason: str, job_id: str | None = None) -> None:
    """Disables the subscription (still this job's when ``job_id``) and tells its owner: the
    user who owns it, or the administrators of the county of the client that does (and of a
    user who can no longer own it)."""
    now = utcnow()
    stmt = update(S).where(S.id == sub.id, S.enabled.is_(True))
    if job_id is not None:
        stmt = stmt.where(S.dispatch_job_id == job_id)
    done = await session.execute(
        stmt.values(
            enabled=False,
            disabled_reason=reason,
            disabled_at=now,
            dispatch_job_id=None,
            updated_at=now,
            version=S.version + 1,
        )
    )
    if done.rowcount != 1:
        return
    log.warning("webhook disabled", extra={"webhook_id": sub.id, "reason": reason})
    if sub.owner_kind == "user" and reason != "owner_unavailable":
        people = [sub.owner_id]
    else:  # a client has no inbox; a deactivated user reads none
        people = list(
            (
                await session.execute(
                    select(User.id)
                    .join(OrgUnit, OrgUnit.id == User.org_unit_id)
                    .where(User.role == Role.admin.value, OrgUnit.county_code == sub.county_code)
                )
            ).scalars()
        )
    await notifications.notify(
        session,
        "webhook_disabled",
        {"url": sub.url, "description": sub.description or "", "reason": reason},
        link=f"/api/v1/webhooks/{sub.id}",
        object_type="webhook",
        object_id=sub.id,
        to_users=people,
        now=now,
    )


# ---- the jobs ----------------------------------------------------------------------------------


async def _deliver(ctx: JobContext) -> dict[str, Any]:
    """Sends the subscription's changes after its cursor until none is left, one fails, or the
    subscription is no longer this job's; then lets the pump start the next job."""
    session, settings, job_id, attempt = ctx.session, ctx.settings, ctx.job_id, ctx.attempt
    sub_id = str(ctx.payload["subscription_id"])
    delivered = 0
    outcome = "idle"
    async with _client() as client:
        while True:
            sub = await _load(session, sub_id)
            if not _running(sub, job_id, attempt):
                outcome = "not ours"
                break
            if sub.retry_at is not None and sub.retry_at > utcnow():
                outcome = "waiting"
                break
            owner = await owner_of(session, sub)
            if owner is None:
                await disable(session, sub, "owner_unavailable", job_id)
                outcome = "disabled"
                break
            try:
                secrets_ = secrets_of(settings, sub)
            except (KeyUnavailable, InvalidTag, ValueError):
                await disable(session, sub, "secret_unavailable", job_id)
                outcome = "disabled"
                break
            start = feed.cursor_text((int(sub.cursor_xid), int(sub.cursor_seq)))
            try:
                entries, next_cursor = await feed.page(
                    session, owner, settings, start, sub.types, BATCH, english=False
                )
            except Gone:
                await disable(session, sub, "cursor_expired", job_id)
                outcome = "disabled"
                break
            await session.commit()  # nothing is sent while a transaction is open
            repage = False
            for entry in entries:
                sent = await send(
                    client,
                    settings,
                    sub.url,
                    secrets_,
                    message_id(sub.id, entry.cursor),
                    body_of(entry, utcnow()),
                )
                if not await _record(session, settings, sub, job_id, attempt, entry, sent):
                    outcome = "retry" if not sent.ok else "not ours"
                    break
                await session.commit()
                delivered += 1
                if delivered >= MAX_PER_JOB:
                    outcome = "turn over"
                    break
                read = sub
                sub = await _load(session, sub_id)  # the cursor moved: the next guard's
                if not _running(sub, job_id, attempt):
                    outcome = "not ours"  # deleted, disabled or reclaimed while it was sent
                    break
                if _settings_of(sub) != _settings_of(read):
                    repage = True  # edited or its secret rotated meanwhile: read on as now
                    break
            else:
                if len(entries) < BATCH:  # the feed is drained up to its head
                    position = feed.parse_cursor(next_cursor)
                    await session.execute(
                        update(S)
                        .where(_ours(sub, job_id, attempt))
                        .values(
                            cursor_xid=position[0],
                            cursor_seq=position[1],
                            updated_at=S.updated_at,
                        )
                    )
                    outcome = "drained"
                    break
                continue
            if repage:
                continue
            break
    # The next job is the pump's to start (committed with this job's success).
    await session.execute(
        update(S)
        .where(S.id == sub_id, S.dispatch_job_id == job_id, _this_run(job_id, attempt))
        .values(dispatch_job_id=None, updated_at=S.updated_at)
    )
    return {"delivered": delivered, "outcome": outcome}


async def _record(
    session: AsyncSession,
    settings: Settings,
    sub: Any,
    job_id: str,
    attempt: int,
    entry: Entry,
    sent: Attempt,
) -> bool:
    """Logs the attempt and moves the subscription on (or holds it back): True when it was
    delivered and the subscription is still this job's."""
    now = utcnow()
    if sent.ok:
        position = feed.parse_cursor(entry.cursor)
        values: dict[str, Any] = {
            "cursor_xid": position[0],
            "cursor_seq": position[1],
            "attempts": 0,
            "retry_at": None,
            "failing_since": None,
            "last_success_at": now,
        }
    else:
        attempts = int(sub.attempts) + 1
        values = {
            "attempts": attempts,
            "retry_at": now + timedelta(seconds=retry_delay(settings, attempts)),
            "failing_since": sub.failing_since or now,
        }
    done = await session.execute(
        update(S).where(_ours(sub, job_id, attempt)).values(**values, updated_at=S.updated_at)
    )
    if done.rowcount != 1:  # deleted, or no longer this job's: nothing more to do
        await session.rollback()
        return False
    await _log(session, sub.id, entry, int(sub.attempts) + 1, sent)
    if sent.ok:
        return True
    failing_since = sub.failing_since or now
    if now - failing_since >= timedelta(seconds=settings.webhook_disable_after_seconds):
        await disable(session, sub, "failing", job_id)
    await session.commit()
    return False


async def _delivery_dead(session: AsyncSession, payload: dict[str, Any], error: str) -> None:
    """The job failed on every attempt (the database, not the receiver): free the subscription
    for the pump's next job."""
    await session.execute(
        update(S)
        .where(S.id == str(payload.get("subscription_id")))
        .values(dispatch_job_id=None, updated_at=S.updated_at)
    )


class Busy(Exception):
    """A redelivery found another attempt in flight for its subscription: retried later."""


def _live() -> Any:
    """The subscription's dispatch job will still run (or is running)."""
    return select(Job.id).where(Job.id == S.dispatch_job_id, Job.status.in_(LIVE)).exists()


async def _redeliver(ctx: JobContext) -> dict[str, Any]:
    """Sends one logged change again, as its object is now for the owner, logged ``manual``."""
    session, settings = ctx.session, ctx.settings
    row = (
        await session.execute(
            select(
                WebhookDelivery.cursor,
                WebhookDelivery.type,
                WebhookDelivery.object_id,
                WebhookDelivery.changed_at,
                WebhookDelivery.subscription_id,
            ).where(WebhookDelivery.id == str(ctx.payload["delivery_id"]))
        )
    ).first()
    sub = None if row is None else await _load(session, row.subscription_id)
    if row is None or sub is None:
        return {"outcome": "gone"}
    owner = await owner_of(session, sub)
    if owner is None:
        return {"outcome": "owner unavailable"}
    if row.type not in feed.readable_types(owner, sub.types):
        # The owner lost the permission to read the type (or it left the subscription's
        # types) since: nothing the feed would not give it now is sent.
        return {"outcome": "not readable"}
    data = await feed.current(session, owner, settings, row.type, row.object_id)
    entry = Entry(
        cursor=row.cursor,
        type=row.type,
        id=row.object_id,
        op="upsert" if data is not None else "delete",
        changed_at=row.changed_at,
        data=data,
    )
    msg_id = message_id(sub.id, row.cursor)
    tried = (
        await session.execute(
            select(func.max(WebhookDelivery.attempt)).where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.message_id == msg_id
            )
        )
    ).scalar_one_or_none()
    try:
        secrets_ = secrets_of(settings, sub)
    except (KeyUnavailable, InvalidTag, ValueError):
        return {"outcome": "secret unavailable"}
    # One attempt at a time per subscription: the redelivery takes the subscription's claim
    # (the pump starts no delivery meanwhile), or waits for the job in flight to end.
    claimed = await session.execute(
        update(S)
        .where(
            S.id == sub.id,
            # its own claim: an earlier attempt of this job stopped (its worker died) mid-send
            or_(S.dispatch_job_id.is_(None), S.dispatch_job_id == ctx.job_id, ~_live()),
        )
        .values(dispatch_job_id=ctx.job_id, updated_at=S.updated_at)
    )
    if claimed.rowcount != 1:
        await session.rollback()
        raise Busy(f"webhook {sub.id} has a delivery in flight: the redelivery waits its turn")
    await session.commit()  # nothing is sent while a transaction is open
    async with _client() as client:
        sent = await send(client, settings, sub.url, secrets_, msg_id, body_of(entry, utcnow()))
    await session.execute(
        update(S)
        .where(S.id == sub.id, S.dispatch_job_id == ctx.job_id)
        .values(dispatch_job_id=None, updated_at=S.updated_at)
    )
    if await _load(session, sub.id) is None:
        return {"outcome": "gone"}
    await _log(session, sub.id, entry, int(tried or 0) + 1, sent, manual=True)
    return {"outcome": "succeeded" if sent.ok else "failed", "status_code": sent.status_code}


# A short lease (renewed every 20 s while a job runs): a subscription whose instance died is
# taken over within a minute, not the queue's default five.
LEASE_SECONDS = 60
register(KIND, _deliver, on_dead=_delivery_dead, lease_seconds=LEASE_SECONDS)
register(REDELIVERY_KIND, _redeliver, max_attempts=REDELIVERY_ATTEMPTS, lease_seconds=LEASE_SECONDS)


async def pump(maker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Starts a delivery job for each enabled subscription with something after its cursor, no
    retry pending and no live job; how many were started."""
    async with maker() as session:
        now = utcnow()
        head = await feed.head(session)
        live = _live()
        rows = (
            await session.execute(
                select(S.id, S.dispatch_job_id)
                .where(
                    S.enabled.is_(True),
                    or_(S.retry_at.is_(None), S.retry_at <= now),
                    tuple_(S.cursor_xid, S.cursor_seq) < tuple_(*head),
                    or_(S.dispatch_job_id.is_(None), ~live),
                )
                .order_by(S.id)
                .limit(1000)
            )
        ).all()
        started = 0
        for r in rows:
            job_id = new_id()
            was = (
                S.dispatch_job_id.is_(None)
                if r.dispatch_job_id is None
                else S.dispatch_job_id == r.dispatch_job_id
            )
            done = await session.execute(
                update(S)
                .where(S.id == r.id, was)
                .values(dispatch_job_id=job_id, updated_at=S.updated_at)
            )
            if done.rowcount == 1:
                await enqueue(session, KIND, {"subscription_id": r.id}, job_id=job_id)
                started += 1
        await session.commit()
        return started


async def pump_loop(maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Started with the server's scheduler: pumps every ``ANJIAN_WEBHOOK_POLL_SECONDS`` (other
    instances' commits) and as soon as this process commits changes."""
    while True:
        try:
            await pump(maker, settings)
        except Exception:
            log.exception("webhook pump failed")
        await wait_for_change(settings.webhook_poll_seconds)


async def housekeeping(session: AsyncSession) -> int:
    """The delivery log is kept a month."""
    gone = await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.created_at < utcnow() - timedelta(days=KEEP_DELIVERIES_DAYS)
        )
    )
    return int(gone.rowcount or 0)
