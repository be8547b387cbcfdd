"""Request dependencies: resolve the bearer token to a Principal and check permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import exists, select

from app.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from app.auth.principal import Principal, UnitInfo
from app.auth.tokens import read_token
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.models import ApiClient, OrgUnit, User
from app.models.users import RefreshToken

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _unit_info(unit: OrgUnit) -> UnitInfo:
    return UnitInfo(
        id=unit.id,
        kind=unit.kind,
        name=unit.name,
        region_code=unit.region_code,
        county_code=unit.county_code,
        sectors=tuple(unit.sectors or ()),
        name_en=unit.name_en,
    )


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "访问令牌缺失、无效或已过期",
        "The access token is missing, invalid or expired",
        code="invalid_token",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _current(row: User | ApiClient, claims: dict[str, object]) -> bool:
    """Active, and the token was issued at the row's credential version: a password change,
    (de)activation or role change bumps it, which ends every token issued before."""
    return row.is_active and claims["cv"] == row.credential_version


async def get_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise _unauthorized()
    claims = read_token(request.app.state.settings, token)
    if claims is None:
        raise _unauthorized()
    subject = str(claims["sub"])
    if claims["knd"] == "user":
        query = (
            select(User, OrgUnit)
            .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(User.id == subject)
        )
        sid = claims.get("sid")
        if isinstance(sid, str):
            # A token of a session answers 401 once the session is revoked (sign-out, a reused
            # refresh token). The session's first refresh row carries its id and is marked on
            # revocation: a primary-key probe in the same statement, no extra round trip.
            query = query.where(
                ~exists().where(RefreshToken.id == sid, RefreshToken.revoked_at.is_not(None))
            )
        row = (await session.execute(query)).first()
        if row is None or not _current(row[0], claims):
            raise _unauthorized()
        user, unit = row
        role = Role(user.role)
        principal = Principal(
            kind="user",
            id=user.id,
            name=user.username,
            role=role,
            permissions=ROLE_PERMISSIONS[role],
            unit=_unit_info(unit) if unit else None,
            enterprise_id=user.enterprise_id,
            display_name=user.display_name,
        )
    else:
        crow = (
            await session.execute(
                select(ApiClient, OrgUnit)
                .join(OrgUnit, OrgUnit.id == ApiClient.org_unit_id)
                .where(ApiClient.id == subject)
            )
        ).first()
        if crow is None or not _current(crow[0], claims):
            raise _unauthorized()
        client, unit = crow
        principal = Principal(
            kind="client",
            id=client.id,
            name=client.client_id,
            role=None,
            permissions=frozenset(Permission(p) for p in client.permissions),
            unit=_unit_info(unit),
            display_name=client.name,
        )
    request.state.principal_id = principal.audit_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def ensure(principal: Principal, permission: Permission) -> None:
    """For writes on one object: called after the scoped lookup, so out of scope stays 404."""
    if not principal.can(permission):
        raise Forbidden(
            f"当前角色无“{permission.value}”权限",
            f"Your role lacks the permission {permission.value}",
        )


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only callers holding ``permission``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        ensure(principal, permission)
        return principal

    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


async def public() -> None:
    """Marks a route as intentionally open (token endpoint, health checks)."""


public.is_public = True  # type: ignore[attr-defined]


def Requires(permission: Permission) -> type[Principal]:
    return Annotated[Principal, Depends(require(permission))]  # type: ignore[return-value]
