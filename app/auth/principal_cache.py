"""Callers resolved without a database round trip on most requests.

A worker keeps each caller it resolved for ``ANJIAN_PRINCIPAL_CACHE_SECONDS`` (5 s), keyed by
what the token says (kind, subject, credential version, session): a new credential version is a
new key, so a password change or role change is never served from an older entry. What a key
cannot show (a deactivation, a revoked session, a unit's new sectors, a client's permissions) is
recorded as a row in ``principal_changes`` in the transaction that makes the change:

- the worker that made it drops the entries it names right after the commit (at once);
- every worker reads the rows of the last ``WINDOW_SECONDS`` once a second and drops what they
  name (within about a second on every other worker and instance). Re-reading a window rather
  than "after the last id seen" also catches a row whose transaction committed after a later
  one (ids and timestamps are taken before commit; transactions commit out of order).

The poll takes a pooled connection of its own once a second, never inside a request. A worker
whose poll fails (the database is down) keeps entries no longer than their lifetime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Principal
from app.models.base import utcnow
from app.models.users import PrincipalChange

log = logging.getLogger("anjian.auth")

WINDOW_SECONDS = 30
POLL_SECONDS = 1.0
PRUNE_AFTER_SECONDS = 3600
_PENDING = "principal_changes"

Key = tuple[str, str, int, str | None]


class PrincipalCache:
    """Bounded, per process; entries expire after ``ttl`` seconds and are dropped by subject."""

    def __init__(self, ttl: float, max_entries: int = 20_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, tuple[Principal, float, frozenset[str]]] = OrderedDict()

    def get(self, key: Key) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[0]

    def put(self, key: Key, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        subjects = {principal.id}
        if principal.unit is not None:
            subjects.add(principal.unit.id)
        if principal.enterprise_id is not None:
            subjects.add(principal.enterprise_id)
        if key[3] is not None:
            subjects.add(key[3])
        self._entries[key] = (principal, time.monotonic() + self.ttl, frozenset(subjects))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def evict(self, subject_ids: Iterable[str]) -> int:
        """Drops every entry naming one of ``subject_ids`` (a user, client, unit or session)."""
        gone = set(subject_ids)
        if not gone or not self._entries:
            return 0
        stale = [k for k, (_, _, subjects) in self._entries.items() if subjects & gone]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


async def record_change(session: AsyncSession, *subject_ids: str | None) -> None:
    """In the transaction of a change that alters how a caller resolves: one row per subject,
    so every worker drops its cached callers; this worker drops them after the commit."""
    ids = sorted({s for s in subject_ids if s})
    if not ids:
        return
    now = utcnow()
    await session.execute(
        insert(PrincipalChange), [{"subject_id": s, "changed_at": now} for s in ids]
    )
    session.info.setdefault(_PENDING, set()).update(ids)


def committed_changes(session: AsyncSession) -> set[str]:
    """The subjects ``record_change`` named in the transaction just committed (taken once)."""
    return session.info.pop(_PENDING, set())


async def poll_once(maker: async_sessionmaker[AsyncSession], cache: PrincipalCache) -> int:
    since = utcnow() - timedelta(seconds=WINDOW_SECONDS)
    async with maker() as session:
        rows = await session.execute(
            select(PrincipalChange.subject_id).where(PrincipalChange.changed_at >= since)
        )
        return cache.evict(r[0] for r in rows)


async def prune(maker: async_sessionmaker[AsyncSession]) -> None:
    cutoff = utcnow() - timedelta(seconds=PRUNE_AFTER_SECONDS)
    async with maker() as session:
        await session.execute(delete(PrincipalChange).where(PrincipalChange.changed_at < cutoff))
        await session.commit()


async def poll_loop(maker: async_sessionmaker[AsyncSession], cache: PrincipalCache) -> None:
    """Runs for the life of the worker (started by the app's lifespan)."""
    last_prune = 0.0
    while True:
        try:
            await poll_once(maker, cache)
            if time.monotonic() - last_prune > 60:
                last_prune = time.monotonic()
                await prune(maker)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is away: entries still expire by their lifetime
            log.warning("principal change poll failed", exc_info=True)
        await asyncio.sleep(POLL_SECONDS)
