"""The one jobs mechanism: a table of jobs, enqueued in the caller's transaction, claimed by
workers, retried with back-off, visible to admins.

- ``enqueue`` writes in the session it is given, so a job commits or rolls back with its cause
  (no second connection, nothing sent before the commit).
- A worker claims one due job at a time: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (many
  workers and instances), then a conditional ``UPDATE`` guarded by the status and ``attempts``
  it read, whose row count decides on SQLite (one process; the update is atomic there). The
  claim sets a lease (``locked_until``): a job still ``running`` after its lease ran out (its
  worker crashed) is claimed again.
- The handler runs in a unit of work of its own and the job is marked ``succeeded`` in that same
  transaction, guarded by the ``attempts`` the worker claimed: a worker that lost its lease to
  another cannot commit its work as well (its transaction is rolled back).
- A failure is recorded in a new transaction: ``failed`` with a later ``run_at`` (exponential
  back-off with jitter), or ``dead`` after ``max_attempts`` (a kind's ``on_dead`` runs in the
  transaction that makes it dead: an import is then ``failed``, not ``running`` for ever).

Kinds are registered once (``register("overdue", handler)``); later domains (imports, exports,
webhook deliveries) add theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.db import upsert_insert
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models.base import utcnow
from app.models.jobs import Job
from app.schemas.common import ListParams

log = logging.getLogger("anjian.jobs")

STATUSES = ("queued", "running", "succeeded", "failed", "dead")
DUE_STATUSES = ("queued", "failed")  # failed: waiting for its retry at ``run_at``
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_LEASE_SECONDS = 300
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
POLL_SECONDS = 2.0
ERROR_CHARS = 2000
_WAKE_KEY = "anjian.jobs.wake"
_WAKERS: set[asyncio.Event] = set()  # one per worker loop of this process


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    """A job enqueued here is due now: this process's workers take it at once, after the
    commit that makes it visible, instead of at their next poll (other instances still poll)."""
    if session.info.pop(_WAKE_KEY, False):
        for waker in _WAKERS:
            waker.set()


@event.listens_for(Session, "after_rollback")
def _forget_wake(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: its own unit of work (flush, never commit), the payload, the
    settings, and which attempt this is."""

    session: AsyncSession
    payload: dict[str, Any]
    settings: Settings
    job_id: str
    attempt: int


Handler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]
# (session, payload, error): runs in the transaction that makes a job of its kind ``dead``.
DeadHook = Callable[[AsyncSession, dict[str, Any], str], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    on_dead: DeadHook | None = None


REGISTRY: dict[str, Kind] = {}


def register(
    kind: str,
    handler: Handler,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    on_dead: DeadHook | None = None,
) -> None:
    """Registers the handler of ``kind``. The lease must outlast a normal run: a job still
    running after it is taken by another worker (and the first one's commit is refused).
    ``on_dead`` runs in the transaction that makes a job ``dead`` (its last attempt failed, or
    its worker vanished): a kind whose own records show a status ends them there too, instead
    of leaving them ``running`` for ever."""
    REGISTRY[kind] = Kind(kind, handler, max_attempts, lease_seconds, on_dead)


async def _ended(session: AsyncSession, kind: str, payload: dict[str, Any], error: str) -> None:
    found = REGISTRY.get(kind)
    if found is not None and found.on_dead is not None:
        await found.on_dead(session, payload, error)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
    job_id: str | None = None,
) -> str | None:
    """Adds a job in the caller's transaction; the id, or None when a job with ``dedupe_key``
    already exists (``ON CONFLICT DO NOTHING``: one wins however many schedulers tick).
    ``job_id``: the id to give it (a record that names its job before enqueueing it)."""
    if kind not in REGISTRY:
        raise LookupError(f"no handler registered for job kind {kind!r}")
    now = utcnow()
    values = {
        "id": job_id or new_id(),
        "kind": kind,
        "payload": payload or {},
        "status": "queued",
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts or REGISTRY[kind].max_attempts,
        "dedupe_key": dedupe_key,
        "created_at": now,
    }
    if run_at is None or run_at <= now:
        session.info[_WAKE_KEY] = True
    if dedupe_key is None:
        await session.execute(insert(Job).values(**values))
        return str(values["id"])
    stmt = (
        upsert_insert(session, Job)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    inserted = (await session.execute(stmt.returning(Job.id))).scalar_one_or_none()
    return None if inserted is None else str(inserted)


def backoff_seconds(
    attempts: int,
    rng: random.Random | None = None,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
) -> float:
    """Seconds before the retry after the ``attempts``-th failure: ``base`` (30 s), twice it,
    four times … capped (an hour), plus up to a quarter more at random, so failures do not
    retry in lockstep. Webhook deliveries use it with their own base and cap."""
    wait = min(base * 2 ** max(attempts - 1, 0), cap)
    return wait + (rng or random).uniform(0, wait / 4)


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    dedupe_key: str | None


@dataclass
class Outcome:
    job: Claimed
    status: str  # succeeded, failed, dead, lease_lost
    result: dict[str, Any] | None = None
    error: str | None = None


class LeaseLost(Exception):
    """Another worker claimed the job after this one's lease ran out."""


def _error_text(exc: BaseException) -> str:
    """For admins only (``GET /api/v1/jobs``): the exception's class and message, cut short."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


@dataclass
class Worker:
    """Claims and runs due jobs with sessions of its own (never a request's)."""

    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    name: str = field(
        default_factory=lambda: f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    )
    # The kinds this worker takes (None: every kind) and those it leaves to others: webhook
    # deliveries have workers of their own, so a slow receiver never delays an import.
    kinds: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    async def claim(self) -> Claimed | None:
        """The next due job, now leased to this worker; None when nothing is due."""
        while True:
            async with self.maker() as session:
                now = utcnow()
                due = or_(
                    and_(Job.status.in_(DUE_STATUSES), Job.run_at <= now),
                    and_(Job.status == "running", Job.locked_until < now),
                )
                stmt = (
                    select(
                        Job.id,
                        Job.kind,
                        Job.status,
                        Job.attempts,
                        Job.max_attempts,
                        Job.payload,
                        Job.dedupe_key,
                    )
                    .where(due)
                    .where(Job.kind.in_(self.kinds) if self.kinds is not None else True)
                    .where(Job.kind.not_in(self.exclude) if self.exclude else True)
                    .order_by(Job.run_at, Job.id)
                    .limit(1)
                )
                if session.get_bind().dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                row = (await session.execute(stmt)).first()
                if row is None:
                    await session.rollback()
                    return None
                guard = and_(
                    Job.id == row.id, Job.status == row.status, Job.attempts == row.attempts
                )
                if row.status == "running" and row.attempts >= row.max_attempts:
                    # Its last attempt's worker vanished: no attempt left to give it.
                    error = "lease expired on the last attempt"
                    dead = await session.execute(
                        update(Job)
                        .where(guard)
                        .values(
                            status="dead",
                            last_error=error,
                            finished_at=now,
                            locked_by=None,
                            locked_until=None,
                        )
                    )
                    if dead.rowcount == 1:
                        await _ended(session, row.kind, dict(row.payload or {}), error)
                    await session.commit()
                    continue
                lease = self._lease(REGISTRY.get(row.kind))
                done = await session.execute(
                    update(Job)
                    .where(guard)
                    .values(
                        status="running",
                        attempts=row.attempts + 1,
                        locked_by=self.name,
                        locked_until=now + timedelta(seconds=lease),
                        started_at=now,
                    )
                )
                await session.commit()
                if done.rowcount != 1:  # SQLite: another claimant was first; look again
                    continue
                return Claimed(
                    id=row.id,
                    kind=row.kind,
                    payload=dict(row.payload or {}),
                    attempt=row.attempts + 1,
                    max_attempts=row.max_attempts,
                    dedupe_key=row.dedupe_key,
                )

    def _lease(self, kind: Kind | None) -> int:
        """``ANJIAN_JOB_LEASE_SECONDS`` when set, else the kind's own lease."""
        if self.settings.job_lease_seconds is not None:
            return self.settings.job_lease_seconds
        return kind.lease_seconds if kind else DEFAULT_LEASE_SECONDS

    def _mine(self, job: Claimed) -> Any:
        return and_(
            Job.id == job.id,
            Job.status == "running",
            Job.attempts == job.attempt,
            Job.locked_by == self.name,
        )

    async def run(self, job: Claimed) -> Outcome:
        """Runs the handler and marks the job succeeded in the handler's own transaction. The
        lease is renewed while the handler runs; a shutdown hands the job back at once."""
        kind = REGISTRY.get(job.kind)
        lease = self._lease(kind)
        beat = asyncio.create_task(self._heartbeat(job, lease))
        try:
            async with self.maker() as session:
                if kind is None:
                    raise LookupError(f"no handler registered for job kind {job.kind!r}")
                ctx = JobContext(session, job.payload, self.settings, job.id, job.attempt)
                result = (await kind.handler(ctx)) or {}
                done = await session.execute(
                    update(Job)
                    .where(self._mine(job))
                    .values(
                        status="succeeded",
                        result=result,
                        finished_at=utcnow(),
                        locked_by=None,
                        locked_until=None,
                    )
                )
                if done.rowcount != 1:
                    raise LeaseLost(job.id)
                await session.commit()
            return Outcome(job, "succeeded", result=result)
        except LeaseLost:
            log.warning("job lease lost; its work was rolled back", extra={"job_id": job.id})
            return Outcome(job, "lease_lost")
        except asyncio.CancelledError:
            await self._release(job)
            raise
        except Exception as exc:
            log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
            return await self._failed(job, exc)
        finally:
            beat.cancel()

    async def _heartbeat(self, job: Claimed, lease: int) -> None:
        """Every third of the lease, extends it while the job is still this worker's: a long
        handler keeps its job, and only a worker that stopped lets it expire (then another
        claims it). The renewal is a short transaction of its own, on the worker's engine."""
        while True:
            await asyncio.sleep(lease / 3)
            try:
                async with self.maker() as session:
                    done = await session.execute(
                        update(Job)
                        .where(self._mine(job))
                        .values(locked_until=utcnow() + timedelta(seconds=lease))
                    )
                    await session.commit()
            except Exception:
                log.warning("job lease not renewed", extra={"job_id": job.id}, exc_info=True)
                continue
            if done.rowcount != 1:  # finished, or no longer ours
                return

    async def _release(self, job: Claimed) -> None:
        """On shutdown (the worker's task cancelled mid-job): the handler's work is rolled back
        and the job is due again now, its attempt not counted, rather than after its lease."""
        try:
            async with self.maker() as session:
                await session.execute(
                    update(Job)
                    .where(self._mine(job))
                    .values(
                        status="queued",
                        attempts=job.attempt - 1,
                        run_at=utcnow(),
                        locked_by=None,
                        locked_until=None,
                    )
                )
                await session.commit()
        except Exception:  # the lease still ends it
            log.warning("job not released on shutdown", extra={"job_id": job.id}, exc_info=True)

    async def _failed(self, job: Claimed, exc: BaseException) -> Outcome:
        now = utcnow()
        error = _error_text(exc)
        dead = job.attempt >= job.max_attempts
        values: dict[str, Any] = {"last_error": error, "locked_by": None, "locked_until": None}
        if dead:
            values |= {"status": "dead", "finished_at": now}
        else:
            retry_at = now + timedelta(seconds=backoff_seconds(job.attempt))
            values |= {"status": "failed", "run_at": retry_at}
        async with self.maker() as session:
            done = await session.execute(update(Job).where(self._mine(job)).values(**values))
            if dead and done.rowcount == 1:
                await _ended(session, job.kind, job.payload, error)
            await session.commit()
        return Outcome(job, "dead" if dead else "failed", error=error)

    async def drain(self, max_jobs: int = 1000) -> list[Outcome]:
        """Runs due jobs one after another until none is due (or ``max_jobs`` ran)."""
        outcomes: list[Outcome] = []
        while len(outcomes) < max_jobs:
            job = await self.claim()
            if job is None:
                break
            outcomes.append(await self.run(job))
        return outcomes


async def worker_loop(worker: Worker, poll_seconds: float = POLL_SECONDS) -> None:
    """Drains the queue every few seconds (with jitter, so instances do not poll in step), and
    at once when this process commits a job that is due."""
    waker = asyncio.Event()
    _WAKERS.add(waker)
    try:
        await _work(worker, poll_seconds, waker)
    finally:
        _WAKERS.discard(waker)


async def _work(worker: Worker, poll_seconds: float, waker: asyncio.Event) -> None:
    while True:
        try:
            for outcome in await worker.drain():
                log.info(
                    "job",
                    extra={
                        "job_id": outcome.job.id,
                        "kind": outcome.job.kind,
                        "outcome": outcome.status,
                    },
                )
        except Exception:
            log.exception("job worker failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waker.wait(), poll_seconds * random.uniform(0.75, 1.25))
        waker.clear()


# ---- the admin view ---------------------------------------------------------------------------

SORTS = {"created_at": Job.created_at, "run_at": Job.run_at}
DEFAULT_SORT = "-created_at"
COLUMNS = (
    Job.id,
    Job.kind,
    Job.status,
    Job.payload,
    Job.run_at,
    Job.attempts,
    Job.max_attempts,
    Job.last_error,
    Job.locked_by,
    Job.locked_until,
    Job.dedupe_key,
    Job.created_at,
    Job.started_at,
    Job.finished_at,
    Job.result,
)


async def list_jobs(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    status: list[str] | None = None,
    kind: list[str] | None = None,
) -> PageResult:
    """Every job, whatever unit caused it: the queue is the system's, and only administrators
    (checked by the route's permission) see it."""
    stmt = select(*COLUMNS)
    if status:
        stmt = stmt.where(Job.status.in_(status))
    if kind:
        stmt = stmt.where(Job.kind.in_(kind))
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    return await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=Job.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def get_job(session: AsyncSession, p: Principal, job_id: str) -> Any:
    row = (await session.execute(select(*COLUMNS).where(Job.id == job_id))).mappings().first()
    if row is None:
        raise NotFound("任务不存在", "Job not found")
    return row
