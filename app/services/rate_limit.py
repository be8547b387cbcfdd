"""Rate limits per client address, kept in the database so that every worker and instance counts
together: the open endpoints (the public list of disclosed major hazards; public reports later)
each name a bucket and a limit.

A request costs one statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and
SQLite alike, as the sign-in throttle counts): it adds the request to its address's counter of
the current window (windows are aligned, ``window_seconds`` long), or starts a new window, and
answers the count, so counting and deciding are one atomic step however many requests arrive
together. Run on a connection in autocommit (the GET's own on the primary, or one of the primary
when GETs read a replica): no transaction is held, nothing waits. Requests over the limit still
count (a client that keeps hammering stays refused until its window ends) and answer 429
``rate_limited`` with ``Retry-After`` (the seconds left in the window).

The address is what sign-in throttling counts (``app.core.http.client_address``: a forged
``X-Forwarded-For`` from an untrusted peer changes nothing). IPv6 addresses count by their /64,
the block one subscriber is given, so that rotating addresses inside it does not reset the
count. Addresses are stored as digests. Housekeeping deletes counters whose window has ended.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.core.clock import aligned_window_start
from app.core.db import upsert_insert
from app.core.errors import TooManyRequests
from app.core.http import client_address
from app.models import RateLimit
from app.models.base import utc_value, utcnow


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` requests per address in each aligned window of ``window_seconds``."""

    bucket: str
    limit: int
    window_seconds: int = 60


def address_key(bucket: str, address: str | None) -> str:
    """The counter's key: a digest of the bucket and the address (an IPv6 address by its /64;
    an IPv4-mapped IPv6 address as the IPv4 one)."""
    text = address or "unknown"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address):
        text = (
            str(ip.ipv4_mapped)
            if ip.ipv4_mapped
            else str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
        )
    return hashlib.sha256(f"{bucket}\x1f{text}".encode()).hexdigest()


async def hit(
    session: AsyncSession, rule: Rule, address: str | None, now: datetime | None = None
) -> int:
    """Counts one request of ``address`` and answers its count in the current window; 429
    ``rate_limited`` with ``Retry-After`` when that passes the limit. ``session`` writes to the
    primary in autocommit (``check``)."""
    now = now or utcnow()
    end = aligned_window_start(now, rule.window_seconds) + timedelta(seconds=rule.window_seconds)
    ended = RateLimit.window_end < utc_value(end)
    stmt = (
        upsert_insert(session, RateLimit)
        .values(bucket=rule.bucket, key=address_key(rule.bucket, address), hits=1, window_end=end)
        .on_conflict_do_update(
            index_elements=["bucket", "key"],
            set_={
                "hits": case((ended, 1), else_=RateLimit.hits + 1),
                "window_end": case((ended, utc_value(end)), else_=RateLimit.window_end),
            },
        )
        .returning(RateLimit.hits, RateLimit.window_end)
    )
    hits, window_end = (await session.execute(stmt)).one()
    if hits > rule.limit:
        wait = max(1, math.ceil((window_end - now).total_seconds()))
        raise TooManyRequests(
            f"请求过于频繁：每个地址每 {rule.window_seconds} 秒最多 {rule.limit} 次，请 {wait} 秒后再试",
            f"Too many requests: at most {rule.limit} per {rule.window_seconds} seconds from "
            f"one address; retry in {wait} seconds",
            code="rate_limited",
            headers={"Retry-After": str(wait), "Cache-Control": "no-store"},
        )
    return int(hits)


async def check(request: Request, session: AsyncSession, rule: Rule) -> None:
    """``hit`` for a GET or HEAD: on the request's own session (autocommit on the primary) unless
    reads go to a replica (``ANJIAN_DATABASE_READ_URL``), then on a primary connection of its
    own, also in autocommit."""
    state = request.app.state
    address = client_address(request)
    if state.read_engine is None:
        await hit(session, rule, address)
        return
    async with state.poll_sessionmaker() as primary:
        await hit(primary, rule, address)


async def prune(session: AsyncSession, now: datetime | None = None) -> int:
    """Housekeeping: a counter whose window has ended is the same as none (a grace of a minute
    for clocks of other instances that run a little behind)."""
    cutoff = (now or utcnow()) - timedelta(minutes=1)
    result = await session.execute(delete(RateLimit).where(RateLimit.window_end < cutoff))
    return result.rowcount or 0
