"""Sign-in for people and machine clients, with throttling kept in the database.

Every attempt counts against three keys: the username (or client id) from this client address,
the username anywhere, and the address for any username. An attempt first *reserves* a slot on
the three keys (one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, so counting and deciding
are atomic on PostgreSQL and SQLite alike) and commits, then verifies the password without
holding a database connection, then settles: a failure becomes a counted failure, a success
gives its slot back. All of it happens on the request's own session; nothing opens a second
connection, and nothing waits for the throttle's gate while holding one (docs/decisions.md,
"Hardening (issue 8)").

Sessions of people (issue 9, item 10): a sign-in starts a session, a family of single-use
refresh tokens; each refresh claims its token with one conditional ``UPDATE`` (so of two
concurrent refreshes with one token exactly one wins) and issues the next token of the family in
the same transaction. A used token presented again revokes the family (OAuth 2.0 Security BCP:
one of the two presenters is a thief). The family's first row has the family's id, so "is this
session revoked" is one primary-key lookup, which the caller lookup (app/auth/deps.py) folds
into its statement; that first row is kept while any row of the family may still matter.

Failures are counted in a sliding window of ``login_window_seconds``, approximated per key from
two aligned windows: the failures of the current one plus those of the previous one weighted by
the share of it still inside the last ``login_window_seconds``, rounded up (toward refusing). So
failures on both sides of a boundary count together (a fixed window restarted at 0 there and let
twice the limit through), and a refusal lasts until that count falls below the limit.

A reservation that is never settled (the process died, the settling commit failed) does not
count for the rest of the window: reservations are counted in aligned generations of
``RESERVATION_SECONDS``, and only the current and the previous generation count, so such a
slot lapses after one to two generations. A real check never takes that long.

Refused when, in the sliding count (failures and attempts in flight both count):
- the address has ``login_max_failures_per_address`` (spraying many usernames);
- the username from this address has ``login_max_failures`` (guessing one account);
- the username has ``login_max_failures`` from other addresses *and* this address has failed
  for it too: an address that has not failed may still sign in, so nobody can lock an account
  out by failing on purpose from elsewhere, and a botnet gets one guess per address.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import NoReturn, TypeVar

import anyio
from sqlalchemy import Update, case, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.auth.passwords import hash_password, in_hashing_thread, verify_password
from app.auth.principal import Principal
from app.auth.principal_cache import record_change
from app.auth.tokens import (
    LEEWAY_SECONDS,
    issue_token,
    new_refresh_token,
    refresh_token_hash,
    session_of,
)
from app.core.clock import aligned_window_start
from app.core.config import Settings
from app.core.db import upsert_insert
from app.core.errors import BadRequest, Forbidden, TooManyRequests, Unauthorized, ValidationFailed
from app.core.ids import new_id
from app.models import ApiClient, User
from app.models.base import utc_value, utcnow
from app.models.users import LoginThrottle, RefreshToken

T = TypeVar("T")
log = logging.getLogger("anjian.auth")

# How long a reserved attempt counts at least (at most twice this): far longer than a check takes
# (a hash and two short statements), short enough that a slot left by a crash or a failed
# settlement frees itself within two minutes rather than at the end of the window.
RESERVATION_SECONDS = 60
_GENERATION = timedelta(seconds=RESERVATION_SECONDS)


def _bad_credentials() -> Unauthorized:
    return Unauthorized(
        "用户名或密码错误", "Wrong username or password", code="invalid_credentials"
    )


def _throttled(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "登录失败次数过多，请稍后再试",
        "Too many failed sign-ins; try again later",
        code="login_throttled",
        headers={"Retry-After": str(retry_after)},
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _minus(column: ColumnElement[int], n: int) -> ColumnElement[int]:
    return case((column > n, column - n), else_=0)


# Throttle writes take a gate (per process): on SQLite one writer at a time (writers queue here,
# holding no connection, instead of holding one each while SQLite makes them wait for its lock);
# on PostgreSQL a few. Sign-in bookkeeping thus never takes more than that share of the pool.
_GATE_SIZE = {"sqlite": 1}
_DEFAULT_GATE_SIZE = 4
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def _gate(session: AsyncSession) -> AsyncIterator[None]:
    if session.in_transaction():
        # The caller holds a connection already (POST /me/password read its principal on this
        # session). Queuing here would hold it while the gate's holders wait for a connection
        # from the same pool: a queue of such requests stalls every request until the pool
        # times out. The gate is for writers that hold no connection; this one goes ahead.
        yield
        return
    dialect = session.get_bind().dialect.name
    gates = _gates.setdefault(asyncio.get_running_loop(), {})
    gate = gates.get(dialect)
    if gate is None:
        gate = gates[dialect] = asyncio.Semaphore(_GATE_SIZE.get(dialect, _DEFAULT_GATE_SIZE))
    async with gate:
        yield


@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt; settle it with ``fail`` or ``succeed``."""

    pair: str  # the username (or client id) from this address
    subject: str  # the username anywhere
    address: str  # the address, any username
    window_start: datetime
    window_seconds: int  # its length
    pair_failures: int  # the pair's failures settled in this window before this attempt began
    pair_previous: int  # and in the previous window
    generations: tuple[tuple[str, datetime], ...]  # per key, the generation our slot is in

    def _keys(self) -> list[str]:
        return sorted((self.pair, self.subject, self.address))

    def _release(self, key: str) -> dict[str, ColumnElement[int]]:
        """Gives our slot back from the generation it is in: the current one, or the previous
        one once another has begun. Nothing, if the window was reset or the generation has
        lapsed meanwhile (the slot is gone already)."""
        since = dict(self.generations)[key]
        ours = LoginThrottle.window_start == utc_value(self.window_start)
        return {
            "pending": case(
                (
                    ours
                    & (LoginThrottle.pending_since == utc_value(since))
                    & (LoginThrottle.pending > 0),
                    LoginThrottle.pending - 1,
                ),
                else_=LoginThrottle.pending,
            ),
            "pending_earlier": case(
                (
                    ours
                    & (LoginThrottle.pending_since == utc_value(since + _GENERATION))
                    & (LoginThrottle.pending_earlier > 0),
                    LoginThrottle.pending_earlier - 1,
                ),
                else_=LoginThrottle.pending_earlier,
            ),
        }

    async def fail(self, session: AsyncSession) -> None:
        """Counts the failure and commits it: the request's unit of work rolls back when the
        endpoint raises, which must not undo the count."""
        async with _gate(session):
            for key in self._keys():
                await session.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key)
                    .values(failures=LoginThrottle.failures + 1, **self._release(key))
                )
            await session.commit()

    async def abandon(self, session: AsyncSession) -> None:
        """Gives the slots back without counting anything (the check never finished)."""
        async with _gate(session):
            for key in self._keys():
                await session.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key)
                    .values(**self._release(key))
                )
            await session.commit()

    async def succeed(self, session: AsyncSession) -> None:
        """Gives the slots back and forgets this address's failures for the username that had
        been settled before this attempt began, in this window and the previous one: on the
        pair (which keeps none of them) and on the username (whose counts include the pair's,
        the windows being aligned). Failures that raced with it stay counted. If the window
        rolled over meanwhile, this window's share is taken from the previous window's count
        (the earlier window's share is gone already)."""
        t = LoginThrottle
        same = t.window_start == utc_value(self.window_start)
        rolled = t.window_start == utc_value(
            self.window_start + timedelta(seconds=self.window_seconds)
        )
        forgotten = {
            "failures": case((same, _minus(t.failures, self.pair_failures)), else_=t.failures),
            "failures_previous": case(
                (same, _minus(t.failures_previous, self.pair_previous)),
                (rolled, _minus(t.failures_previous, self.pair_failures)),
                else_=t.failures_previous,
            ),
        }
        async with _gate(session):
            for key in self._keys():
                values: dict[str, object] = dict(self._release(key))
                if key in (self.pair, self.subject) and (self.pair_failures or self.pair_previous):
                    values.update(forgotten)
                await session.execute(
                    update(LoginThrottle).where(LoginThrottle.key == key).values(**values)
                )
            await session.commit()


async def reserve_attempt(
    session: AsyncSession,
    settings: Settings,
    kind: str,
    subject: str,
    address: str,
    load: Callable[[AsyncSession], Awaitable[T]],
) -> tuple[Attempt, T]:
    """Reserves one attempt on the three keys, runs ``load`` (the account lookup) in the same
    transaction and commits; or answers 429 having changed nothing. One statement reserves all
    three keys, in sorted order, so concurrent reservations cannot deadlock."""
    now = utcnow()
    seconds = settings.login_window_seconds
    window_start = aligned_window_start(now, seconds)
    pair, subject_key, address_key = (
        _digest(kind, subject, address),
        _digest(kind, subject),
        _digest("address", address),
    )
    window = timedelta(seconds=seconds)
    left = (window_start + window - now) // timedelta(microseconds=1)
    slide = _Slide(seconds, Fraction(left, 1_000_000))
    generation = aligned_window_start(now, RESERVATION_SECONDS)
    async with _gate(session):
        stale = LoginThrottle.window_start < utc_value(window_start)
        # (">=": a window of another length, before a change of settings, rolls over too)
        previous_window = LoginThrottle.window_start >= utc_value(window_start - window)
        since = LoginThrottle.pending_since
        current = since >= utc_value(generation)  # (">=": another worker's clock may run ahead)
        previous = since >= utc_value(generation - _GENERATION)  # becomes the previous generation
        stmt = upsert_insert(session, LoginThrottle).values(
            [
                {
                    "key": key,
                    "failures": 0,
                    "failures_previous": 0,
                    "pending": 1,
                    "pending_earlier": 0,
                    "pending_since": generation,
                    "window_start": window_start,
                }
                for key in sorted((pair, subject_key, address_key))
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                # The window rolls over: the last one's failures become the previous ones.
                "failures": case((stale, 0), else_=LoginThrottle.failures),
                "failures_previous": case(
                    (stale & previous_window, LoginThrottle.failures),
                    (stale, 0),
                    else_=LoginThrottle.failures_previous,
                ),
                # Older generations lapse here, in the statement that counts and decides.
                "pending": case((stale, 1), (current, LoginThrottle.pending + 1), else_=1),
                "pending_earlier": case(
                    (stale, 0),
                    (current, LoginThrottle.pending_earlier),
                    (previous, LoginThrottle.pending),
                    else_=0,
                ),
                "pending_since": case(
                    (stale, utc_value(generation)), (current, since), else_=utc_value(generation)
                ),
                "window_start": case(
                    (stale, utc_value(window_start)), else_=LoginThrottle.window_start
                ),
            },
        ).returning(
            LoginThrottle.key,
            LoginThrottle.failures,
            LoginThrottle.failures_previous,
            LoginThrottle.pending + LoginThrottle.pending_earlier,
            LoginThrottle.pending_since,
        )
        rows = (await session.execute(stmt)).all()
        # each key's counts before this attempt
        before = {
            key: _Counts(failures, previous_failures, in_flight - 1)
            for key, failures, previous_failures, in_flight, _ in rows
        }
        generations = tuple((key, since_) for key, *_, since_ in rows)
        retry_after = _refusal(settings, slide, before, pair, subject_key, address_key)
        if retry_after is not None:
            await session.rollback()  # the reservation is undone: a refused attempt costs nothing
            raise _throttled(retry_after)
        loaded = await load(session)
        # The reservation becomes visible to concurrent attempts, and the connection goes back to
        # the pool while the hash is checked (a queue of sign-ins must not hold connections).
        await session.commit()
    attempt = Attempt(
        pair,
        subject_key,
        address_key,
        window_start,
        seconds,
        before[pair].failures,
        before[pair].previous,
        generations,
    )
    return attempt, loaded


@dataclass(frozen=True)
class _Counts:
    """A key's settled failures (of this window, of the previous one) and attempts in flight."""

    failures: int
    previous: int
    pending: int


@dataclass(frozen=True)
class _Slide:
    """The sliding count at one moment: this window's failures plus the previous window's,
    weighted by the share of the previous window still inside the last ``length`` seconds."""

    length: int  # seconds
    left: Fraction  # seconds until this aligned window ends

    def count(self, failures: int, previous: int) -> int:
        # Rounded up, toward refusing: just after a boundary the previous window counts whole.
        return failures + math.ceil(previous * self.left / self.length)

    def wait(self, failures: int, previous: int, limit: int) -> Fraction:
        """Seconds until ``count`` falls below ``limit`` if nothing more fails: in this window, as
        the previous one's weight falls, or else in the next, as this one's does (at most
        ``left + length``). From ``ceil(previous * w) <= limit - 1 - failures``."""
        if failures >= limit:  # in the next window: ceil(failures * w) <= limit - 1
            return self.left + self.length - Fraction((limit - 1) * self.length, failures)
        if self.count(failures, previous) < limit:
            return Fraction(0)
        return self.left - Fraction((limit - 1 - failures) * self.length, previous)


def _refusal(
    settings: Settings,
    slide: _Slide,
    before: dict[str, _Counts],
    pair: str,
    subject: str,
    address: str,
) -> int | None:
    """The seconds to wait (``Retry-After``) when the attempt is refused, else None. A limit is
    reached by failures already settled and attempts in flight together; the wait is until the
    settled failures alone no longer reach it, or 1 s when attempts in flight are what refuses
    (they settle at once, or lapse within ``2 * RESERVATION_SECONDS`` if they never do)."""
    limit = settings.login_max_failures
    per_address = settings.login_max_failures_per_address
    a, p, s = before[address], before[pair], before[subject]
    a_failures, p_failures, s_failures = (slide.count(c.failures, c.previous) for c in (a, p, s))
    waits: list[Fraction] = []  # per limit reached
    if a_failures + a.pending >= per_address:
        waits.append(slide.wait(a.failures, a.previous, per_address))
    if p_failures + p.pending >= limit:
        waits.append(slide.wait(p.failures, p.previous, limit))
    # The username under attack from elsewhere: only addresses that have not failed may try.
    elsewhere = (s_failures + s.pending) - (p_failures + p.pending)
    if elsewhere >= limit and p_failures + p.pending > 0:
        settled = Fraction(0)
        if s_failures - p_failures >= limit and p_failures > 0:
            # Until the other addresses' count falls below the limit (counted as one key, which
            # rounds up at least as much) or this address's count reaches 0, whichever is first.
            others = slide.wait(
                max(0, s.failures - p.failures), max(0, s.previous - p.previous), limit
            )
            settled = min(others, slide.wait(p.failures, p.previous, 1))
        waits.append(settled)
    if not waits:
        return None
    return max(1, math.ceil(max(waits)))


def _address(address: str | None) -> str:
    return address or "unknown"


async def _verify(
    session: AsyncSession,
    settings: Settings,
    attempt: Attempt,
    password_hash: str | None,
    password: str,
) -> bool:
    """The check, run with no connection held; if it is interrupted (the client went away, the
    server is stopping) the reserved slot is given back, so a failure frees what it claimed."""
    try:
        return await in_hashing_thread(
            verify_password, password_hash, password, concurrency=settings.password_hash_concurrency
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await attempt.abandon(session)
        raise


@dataclass(frozen=True)
class IssuedTokens:
    """What the token endpoint answers. Only a person's session has a refresh token: a machine
    client signs in again with its credentials (RFC 6749 §4.4.3)."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None


def _invalid_refresh_token() -> BadRequest:
    # One answer for unknown, expired, used, revoked and outdated tokens: nothing to probe.
    return BadRequest(
        "刷新令牌无效、已过期、已使用或已撤销，请重新登录",
        "The refresh token is invalid, expired, used or revoked; sign in again",
        code="invalid_refresh_token",
    )


async def _prune(session: AsyncSession, settings: Settings, user_id: str, now: datetime) -> None:
    """Drops the user's refresh tokens that can no longer matter: expired before ``cutoff`` (so
    every access token issued beside them has expired too). A family's first row, whose
    ``revoked_at`` says whether the session is revoked, goes only with the last of its family.
    Used rows stay until they expire: presenting one is how a stolen copy is detected."""
    cutoff = now - timedelta(seconds=settings.token_lifetime_seconds + LEEWAY_SECONDS)
    rt, live = RefreshToken, aliased(RefreshToken)
    family_alive = exists().where(live.family_id == rt.family_id, live.expires_at >= cutoff)
    # Rows another transaction holds (a claim, a sign-out) are left for the next time: waiting
    # for them is how concurrent sign-ins, refreshes and sign-outs of one user deadlocked.
    victims = (
        select(rt.id)
        .where(
            rt.user_id == user_id, rt.expires_at < cutoff, or_(rt.id != rt.family_id, ~family_alive)
        )
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(RefreshToken)
        .where(RefreshToken.id.in_(victims.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


async def _session_tokens(
    session: AsyncSession,
    settings: Settings,
    user_id: str,
    credential_version: int,
    family_id: str | None = None,
) -> IssuedTokens:
    """The next refresh token of a session (a new session when ``family_id`` is None; its first
    row's id is the session's id) and an access token carrying that session as ``sid``. Written
    in the caller's transaction; the unit of work commits before the answer is sent."""
    now = utcnow()
    await _prune(session, settings, user_id, now)
    row_id = new_id()
    family_id = family_id or row_id
    token = new_refresh_token()
    lifetime = settings.refresh_token_lifetime_seconds
    await session.execute(
        insert(RefreshToken).values(
            id=row_id,
            family_id=family_id,
            user_id=user_id,
            token_hash=refresh_token_hash(token),
            credential_version=credential_version,
            created_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    access, ttl = issue_token(
        settings, user_id, "user", credential_version=credential_version, session_id=family_id
    )
    return IssuedTokens(access, ttl, token, lifetime)


def _revoke_family(family_id: ColumnElement[str] | str, now: datetime) -> Update:
    """Marks the session's first row, the one the caller lookup and the refresh claim consult.
    One row lock per session: marking every row of the family (one per refresh) locked them in
    different orders in concurrent sign-outs and reuse detections, and deadlocked."""
    rt = RefreshToken
    return (
        update(rt)
        .where(rt.id == family_id, rt.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def refresh_grant(session: AsyncSession, settings: Settings, token: str) -> IssuedTokens:
    """Rotates a refresh token: claims it and issues the next of its session, atomically.

    The claim is one conditional ``UPDATE`` (unused, unrevoked, unexpired, its session not
    revoked, its user active at the credential version it was issued under): two concurrent
    refreshes with one token cannot both match, on PostgreSQL (the second waits for the first's
    row lock, then finds it used) and SQLite (one writer) alike. No hashing and no throttle:
    256 random bits cannot be guessed, and SHA-256 of them costs microseconds on the loop."""
    now = utcnow()
    digest = refresh_token_hash(token)
    rt, first = RefreshToken, aliased(RefreshToken)
    user_current = exists().where(
        User.id == rt.user_id,
        User.is_active.is_(True),
        User.credential_version == rt.credential_version,
    )
    session_revoked = exists().where(first.id == rt.family_id, first.revoked_at.is_not(None))
    claimed = (
        await session.execute(
            update(rt)
            .where(
                rt.token_hash == digest,
                rt.used_at.is_(None),
                rt.revoked_at.is_(None),
                rt.expires_at > now,
                user_current,
                ~session_revoked,
            )
            .values(used_at=now)
            .returning(rt.family_id, rt.user_id, rt.credential_version)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if claimed is None:
        await _refuse_refresh(session, digest, now)
    family_id, user_id, credential_version = claimed
    return await _session_tokens(session, settings, user_id, credential_version, family_id)


async def _refuse_refresh(session: AsyncSession, digest: str, now: datetime) -> NoReturn:
    """A token that could not be claimed. One already used (and not revoked) was presented a
    second time: the legitimate client and a thief hold the same family, and we cannot tell
    which is which, so the whole session ends. The revocation is committed before the 400 is
    raised (the unit of work rolls back when an endpoint raises, which must not undo it)."""
    rt, first = RefreshToken, aliased(RefreshToken)
    row = (
        await session.execute(
            select(rt.family_id, rt.user_id, rt.used_at, first.revoked_at.label("revoked_at"))
            .outerjoin(first, first.id == rt.family_id)
            .where(rt.token_hash == digest)
        )
    ).first()
    if row is not None and row.used_at is not None and row.revoked_at is None:
        await session.execute(_revoke_family(row.family_id, now))
        await record_change(session, row.family_id)
        await session.commit()
        log.warning(
            "refresh token reused: session revoked",
            extra={"session_id": row.family_id, "user_id": row.user_id},
        )
    raise _invalid_refresh_token()


async def revoke(session: AsyncSession, settings: Settings, token: str) -> None:
    """Ends the session of a refresh token, or of an access token carrying ``sid`` (signed by
    us, even if expired). Anything else (unknown, malformed, a machine client's token, a
    session already ended) changes nothing and is no error (RFC 7009 §2.2). The session's first
    row is marked, which refuses its refresh tokens and its access tokens."""
    now = utcnow()
    sid = session_of(settings, token)
    if sid is None:
        sid = (
            await session.execute(
                select(RefreshToken.family_id).where(
                    RefreshToken.token_hash == refresh_token_hash(token)
                )
            )
        ).scalar_one_or_none()
    if sid is not None:
        await session.execute(_revoke_family(sid, now))
        await record_change(session, sid)  # cached callers of the session end on every worker


async def password_grant(
    session: AsyncSession,
    settings: Settings,
    username: str,
    password: str,
    address: str | None = None,
) -> IssuedTokens:
    username = username.strip().lower()  # usernames are stored lower-case

    async def load(s: AsyncSession) -> User | None:
        return (await s.execute(select(User).where(User.username == username))).scalar_one_or_none()

    attempt, user = await reserve_attempt(
        session, settings, "user", username, _address(address), load
    )
    ok = await _verify(session, settings, attempt, user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await attempt.fail(session)
        raise _bad_credentials()
    await attempt.succeed(session)
    return await _session_tokens(session, settings, user.id, user.credential_version)


async def client_credentials_grant(
    session: AsyncSession,
    settings: Settings,
    client_id: str,
    client_secret: str,
    address: str | None = None,
) -> IssuedTokens:
    client_id = client_id.strip()

    async def load(s: AsyncSession) -> ApiClient | None:
        return (
            await s.execute(select(ApiClient).where(ApiClient.client_id == client_id))
        ).scalar_one_or_none()

    attempt, client = await reserve_attempt(
        session, settings, "client", client_id, _address(address), load
    )
    ok = await _verify(
        session, settings, attempt, client.secret_hash if client else None, client_secret
    )
    if (
        not ok
        and client is not None
        and client.previous_secret_hash
        and client.previous_secret_expires_at is not None
        and client.previous_secret_expires_at > utcnow()
    ):
        # Within the overlap after a rotation, the previous secret still works.
        ok = await _verify(session, settings, attempt, client.previous_secret_hash, client_secret)
    if not ok or client is None or not client.is_active:
        await attempt.fail(session)
        raise Unauthorized("客户端凭据错误", "Wrong client credentials", code="invalid_client")
    await attempt.succeed(session)
    return IssuedTokens(
        *issue_token(settings, client.id, "client", credential_version=client.credential_version)
    )


async def change_own_password(
    session: AsyncSession,
    settings: Settings,
    p: Principal,
    current_password: str,
    new_password: str,
    address: str | None = None,
) -> IssuedTokens:
    """The caller's own password, proven by the current one (throttled like a sign-in, so a
    stolen token cannot be used to guess it). Ends every other session (the ``cv`` bump refuses
    their access and refresh tokens) and starts a new one, so the caller stays signed in."""
    if p.kind != "user":
        raise Forbidden(
            "接口客户端没有密码，请由管理员轮换其密钥",
            "Machine clients have no password; an administrator rotates their secret",
            code="not_a_person",
        )

    async def load(s: AsyncSession) -> User:
        return (await s.execute(select(User).where(User.id == p.id))).scalar_one()

    attempt, user = await reserve_attempt(
        session, settings, "user", p.name, _address(address), load
    )
    if not await _verify(session, settings, attempt, user.password_hash, current_password):
        await attempt.fail(session)
        raise ValidationFailed.field(
            "current_password",
            "当前密码不正确",
            "The current password is wrong",
            code="wrong_current_password",
        )
    await attempt.succeed(session)
    user.password_hash = await in_hashing_thread(
        hash_password, new_password, concurrency=settings.password_hash_concurrency
    )
    user.credential_version += 1  # every other session ends
    await session.flush()
    await record_change(session, user.id)
    return await _session_tokens(session, settings, user.id, user.credential_version)


async def purge_old_failures(session: AsyncSession, settings: Settings) -> int:
    """Housekeeping: a counter of a window older than the previous one is the same as no
    counter (the previous window's failures still count, so its counters stay)."""
    seconds = settings.login_window_seconds
    cutoff = aligned_window_start(utcnow(), seconds) - timedelta(seconds=seconds)
    result = await session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < cutoff))
    return result.rowcount or 0
