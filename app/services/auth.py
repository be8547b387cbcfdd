"""Sign-in for people and machine clients, with per-username throttling kept in the database."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import verify_password
from app.auth.tokens import issue_token
from app.core.config import Settings
from app.core.errors import TooManyRequests, Unauthorized
from app.models import ApiClient, LoginFailure, User
from app.models.base import utcnow


def _bad_credentials() -> Unauthorized:
    return Unauthorized(
        "用户名或密码错误", "Wrong username or password", code="invalid_credentials"
    )


async def _check_throttle(session: AsyncSession, settings: Settings, username: str) -> None:
    window_start = utcnow() - timedelta(seconds=settings.login_window_seconds)
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.username == username, LoginFailure.at > window_start
            )
        )
    ).one()
    if count >= settings.login_max_failures:
        retry_after = settings.login_window_seconds
        if oldest is not None:
            retry_after = max(1, math.ceil((oldest - window_start).total_seconds()))
        raise TooManyRequests(
            "登录失败次数过多，请稍后再试",
            "Too many failed sign-ins; try again later",
            code="login_throttled",
            headers={"Retry-After": str(retry_after)},
        )


async def _record_failure(session: AsyncSession, username: str) -> None:
    """Written in a unit of work of its own: the request's rollback must not undo it."""
    async with AsyncSession(session.bind) as own:
        own.add(LoginFailure(username=username, at=utcnow()))
        await own.commit()


async def password_grant(
    session: AsyncSession, settings: Settings, username: str, password: str
) -> tuple[str, int]:
    username = username.strip().lower()  # usernames are stored lower-case
    key = "user:" + username
    await _check_throttle(session, settings, key)
    user = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        await _record_failure(session, key)
        raise _bad_credentials()
    await session.execute(delete(LoginFailure).where(LoginFailure.username == key))
    return issue_token(settings, user.id, "user")


async def client_credentials_grant(
    session: AsyncSession, settings: Settings, client_id: str, client_secret: str
) -> tuple[str, int]:
    key = "client:" + client_id.strip()
    await _check_throttle(session, settings, key)
    client = (
        await session.execute(select(ApiClient).where(ApiClient.client_id == client_id.strip()))
    ).scalar_one_or_none()
    ok = verify_password(client.secret_hash if client else None, client_secret)
    if not ok or client is None or not client.is_active:
        await _record_failure(session, key)
        raise Unauthorized("客户端凭据错误", "Wrong client credentials", code="invalid_client")
    await session.execute(delete(LoginFailure).where(LoginFailure.username == key))
    return issue_token(settings, client.id, "client")


async def purge_old_failures(session: AsyncSession, settings: Settings) -> None:
    cutoff = utcnow() - timedelta(seconds=settings.login_window_seconds)
    await session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))
