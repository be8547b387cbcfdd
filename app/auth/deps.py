"""Request dependencies: resolve the bearer token to a Principal and check permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from app.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from app.auth.principal import Principal, UnitInfo
from app.auth.principal_cache import PrincipalCache
from app.auth.tokens import read_token
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.models import ApiClient, Enterprise, OrgUnit, User
from app.models.users import RefreshToken

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Only what a Principal holds: no password hash, no ORM identity (issue 10).
_UNIT_COLUMNS = (
    OrgUnit.id.label("unit_id"),
    OrgUnit.kind.label("unit_kind"),
    OrgUnit.name.label("unit_name"),
    OrgUnit.name_en.label("unit_name_en"),
    OrgUnit.region_code.label("unit_region_code"),
    OrgUnit.county_code.label("unit_county_code"),
    OrgUnit.sectors.label("unit_sectors"),
)


def _unit_info(row: Any) -> UnitInfo | None:
    if row.unit_id is None:
        return None
    return UnitInfo(
        id=row.unit_id,
        kind=row.unit_kind,
        name=row.unit_name,
        region_code=row.unit_region_code,
        county_code=row.unit_county_code,
        sectors=tuple(row.unit_sectors or ()),
        name_en=row.unit_name_en,
    )


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "访问令牌缺失、无效或已过期",
        "The access token is missing, invalid or expired",
        code="invalid_token",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _load_user(session: AsyncSession, subject: str, cv: object, sid: object) -> Any:
    """Active, issued at the row's credential version (a password change, (de)activation or role
    change bumps it, ending every token issued before), and its session not revoked: one
    statement."""
    query = (
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            User.enterprise_id,
            Enterprise.name.label("enterprise_name"),
            Enterprise.region_code.label("enterprise_region_code"),
            *_UNIT_COLUMNS,
        )
        .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
        .outerjoin(Enterprise, Enterprise.id == User.enterprise_id)
        .where(User.id == subject, User.is_active.is_(True), User.credential_version == cv)
    )
    if isinstance(sid, str):
        # A token of a session answers 401 once the session is revoked (sign-out, a reused
        # refresh token). The session's first refresh row carries its id and is marked on
        # revocation: a primary-key probe in the same statement, no extra round trip.
        query = query.where(
            ~exists().where(RefreshToken.id == sid, RefreshToken.revoked_at.is_not(None))
        )
    return (await session.execute(query)).first()


async def _resolve(session: AsyncSession, claims: dict[str, Any]) -> Principal | None:
    subject, cv = str(claims["sub"]), claims["cv"]
    if claims["knd"] == "user":
        row = await _load_user(session, subject, cv, claims.get("sid"))
        if row is None:
            return None
        role = Role(row.role)
        return Principal(
            kind="user",
            id=row.id,
            name=row.username,
            role=role,
            permissions=ROLE_PERMISSIONS[role],
            unit=_unit_info(row),
            enterprise_id=row.enterprise_id,
            display_name=row.display_name,
            enterprise_name=row.enterprise_name,
            enterprise_region_code=row.enterprise_region_code,
            credential_version=int(cv),
        )
    crow = (
        await session.execute(
            select(ApiClient.id, ApiClient.client_id, ApiClient.name, ApiClient.permissions)
            .add_columns(*_UNIT_COLUMNS)
            .join(OrgUnit, OrgUnit.id == ApiClient.org_unit_id)
            .where(
                ApiClient.id == subject,
                ApiClient.is_active.is_(True),
                ApiClient.credential_version == cv,
            )
        )
    ).first()
    if crow is None:
        return None
    return Principal(
        kind="client",
        id=crow.id,
        name=crow.client_id,
        role=None,
        permissions=frozenset(Permission(p) for p in crow.permissions),
        unit=_unit_info(crow),
        display_name=crow.name,
        credential_version=int(cv),
    )


async def resolve_principal(
    session: AsyncSession, kind: str, subject: str, credential_version: int
) -> Principal | None:
    """The caller a background job acts for (an import, an export), as its request would
    resolve it now: None once it was deactivated or its credentials changed since."""
    return await _resolve(session, {"knd": kind, "sub": subject, "cv": credential_version})


def _cache_key(claims: dict[str, object]) -> tuple[str, str, int, str | None]:
    sid = claims.get("sid")
    return (
        str(claims["knd"]),
        str(claims["sub"]),
        int(claims["cv"]),  # type: ignore[call-overload]
        sid if isinstance(sid, str) else None,
    )


def cached_principal(request: HTTPConnection) -> Principal | None:
    """The caller when its bearer token is valid and this worker's cache knows it; None when
    either is not so (``get_principal`` then answers 401 or resolves it). For the hot reads
    (``app/api/hot.py``), which send no statement for the caller."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    if scheme.lower() != "bearer" or not token or cache is None:
        return None
    claims = read_token(request.app.state.settings, token)
    return None if claims is None else cache.get(_cache_key(claims))


async def get_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The caller, from this worker's cache (app/auth/principal_cache.py) or one statement."""
    if not token:
        raise _unauthorized()
    claims = read_token(request.app.state.settings, token)
    if claims is None:
        raise _unauthorized()
    key = _cache_key(claims)
    cache: PrincipalCache | None = getattr(request.app.state, "principal_cache", None)
    principal = cache.get(key) if cache is not None else None
    if principal is None:
        principal = await _resolve(session, claims)
        if principal is None:
            raise _unauthorized()
        if cache is not None:
            cache.put(key, principal)
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


def require_person(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """``require`` for what only a person has (an inbox): a machine client is 403
    ``not_a_person``, whatever it was granted."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.kind != "user":
            raise Forbidden(
                "接口客户端没有个人通知，仅限个人账号",
                "Machine clients have no notifications; only a person's account has an inbox",
                code="not_a_person",
            )
        ensure(principal, permission)
        return principal

    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


def RequiresPerson(permission: Permission) -> type[Principal]:
    return Annotated[Principal, Depends(require_person(permission))]  # type: ignore[return-value]


def Requires(permission: Permission) -> type[Principal]:
    return Annotated[Principal, Depends(require(permission))]  # type: ignore[return-value]
