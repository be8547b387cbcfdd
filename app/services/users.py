"""People and machine clients: who may create and change whom."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.passwords import hash_password, in_hashing_thread
from app.auth.permissions import CLIENT_GRANTABLE, ENTERPRISE_ROLES, Role
from app.auth.principal import Principal
from app.auth.principal_cache import record_change
from app.auth.scope import visible_enterprises, visible_org_units, visible_users
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageResult, Sort, fetch_page, parse_sort
from app.models import ApiClient, Enterprise, OrgUnit, User
from app.models.base import utcnow
from app.schemas.common import ListParams, NamedRef
from app.schemas.users import (
    ClientCreate,
    ClientOut,
    ClientSecretRotation,
    ClientUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.services.refs import enterprise_name, remember, unit_names, unit_ref

# The unit and enterprise named by a user or client row, joined for their names. Aliases, so
# that the scope subqueries over ``org_units``/``enterprises`` are never correlated with them.
RefUnit = aliased(OrgUnit, name="ref_unit")
RefEnterprise = aliased(Enterprise, name="ref_enterprise")


async def _hash(settings: Settings, secret: str) -> str:
    """Argon2 off the event loop, bounded (``hash_password`` looked up here, so tests may
    swap in a cheaper hasher)."""
    return await in_hashing_thread(
        hash_password, secret, concurrency=settings.password_hash_concurrency
    )


def end_sessions(row: User | ApiClient) -> None:
    """Every token issued before carries the old ``cv`` and is refused from now on."""
    row.credential_version += 1


USER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.phone,
    User.role,
    User.org_unit_id,
    RefUnit.name.label("org_unit_name"),
    RefUnit.name_en.label("org_unit_name_en"),
    User.enterprise_id,
    RefEnterprise.name.label("enterprise_name"),
    User.enforcement_cert_no,
    User.is_active,
    User.created_at,
    User.updated_at,
)
USER_SORTS = {"username": User.username, "created_at": User.created_at}
USER_DEFAULT_SORT = "username"
CLIENT_SORTS = {"name": ApiClient.name, "created_at": ApiClient.created_at}
CLIENT_DEFAULT_SORT = "name"


def _user_out(get: Any, english: bool) -> UserOut:
    enterprise_id = get("enterprise_id")
    return UserOut.model_construct(
        id=get("id"),
        username=get("username"),
        display_name=get("display_name"),
        phone=get("phone"),
        role=get("role"),
        org_unit_id=get("org_unit_id"),
        org_unit=unit_ref(
            get("org_unit_id"), get("org_unit_name"), get("org_unit_name_en"), english
        ),
        enterprise_id=enterprise_id,
        enterprise=NamedRef.model_construct(id=enterprise_id, name=get("enterprise_name") or "")
        if enterprise_id
        else None,
        enforcement_cert_no=get("enforcement_cert_no"),
        is_active=get("is_active"),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
    )


def user_row_out(row: Any, english: bool) -> UserOut:
    """A list row (``USER_COLUMNS``: the unit's and enterprise's names joined in)."""
    return _user_out(row.__getitem__, english)


async def user_out(session: AsyncSession, user: User, english: bool) -> UserOut:
    """An entity. Its unit's or enterprise's names were read in the statement that loaded or
    checked the user (``get_visible_user``, ``_check_home``): no statement here."""
    unit = await unit_names(session, user.org_unit_id) if user.org_unit_id else (None, None)
    ent = await enterprise_name(session, user.enterprise_id) if user.enterprise_id else None
    names = {"org_unit_name": unit[0], "org_unit_name_en": unit[1], "enterprise_name": ent}
    return _user_out(lambda k: names[k] if k in names else getattr(user, k), english)


async def get_visible_user(session: AsyncSession, p: Principal, user_id: str) -> User:
    """The user, with its unit's or enterprise's names in the same statement."""
    row = (
        await session.execute(
            select(User, RefUnit.name, RefUnit.name_en, RefEnterprise.name)
            .outerjoin(RefUnit, RefUnit.id == User.org_unit_id)
            .outerjoin(RefEnterprise, RefEnterprise.id == User.enterprise_id)
            .where(User.id == user_id, visible_users(p))
        )
    ).first()
    if row is None:
        raise NotFound("用户不存在", "User not found")
    user = row[0]
    remember(session, user.org_unit_id, row[1], row[2])
    remember(session, user.enterprise_id, row[3])
    return user


async def list_users(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    role: Sequence[str] | None,
    org_unit_id: str | None,
    enterprise_id: str | None,
    q: str | None,
) -> tuple[PageResult, Sort]:
    sort = parse_sort(params.sort, USER_SORTS, USER_DEFAULT_SORT)
    stmt = (
        select(*USER_COLUMNS)
        .select_from(User)
        .outerjoin(RefUnit, RefUnit.id == User.org_unit_id)
        .outerjoin(RefEnterprise, RefEnterprise.id == User.enterprise_id)
        .where(visible_users(p))
    )
    if role:
        stmt = stmt.where(User.role.in_(role))
    if org_unit_id:
        stmt = stmt.where(User.org_unit_id == org_unit_id)
    if enterprise_id:
        stmt = stmt.where(User.enterprise_id == enterprise_id)
    if q:
        stmt = stmt.where(
            User.username.icontains(q, autoescape=True)
            | User.display_name.icontains(q, autoescape=True)
        )
    page = await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=User.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, sort


def _check_role_grant(p: Principal, role: Role) -> None:
    """Only admins make admins or managers; nobody grants more than they hold."""
    if role in (Role.admin, Role.manager) and not p.is_admin:
        raise Forbidden(
            "只有系统管理员可以授予该角色",
            "Only an administrator may grant this role",
            code="role_not_grantable",
        )


async def _check_home(
    session: AsyncSession,
    p: Principal,
    role: Role,
    org_unit_id: str | None,
    enterprise_id: str | None,
) -> None:
    if (org_unit_id is None) == (enterprise_id is None):
        raise ValidationFailed.field(
            "org_unit_id",
            "org_unit_id 与 enterprise_id 必须且只能填写一个",
            "Exactly one of org_unit_id and enterprise_id is required",
        )
    if role in ENTERPRISE_ROLES and enterprise_id is None:
        raise ValidationFailed.field(
            "enterprise_id", "企业角色须指定所属企业", "Enterprise roles need enterprise_id"
        )
    if role not in ENTERPRISE_ROLES and org_unit_id is None:
        raise ValidationFailed.field(
            "org_unit_id", "政府人员角色须指定所属单位", "Government roles need org_unit_id"
        )
    if org_unit_id is not None:
        unit = (
            await session.execute(
                select(OrgUnit).where(OrgUnit.id == org_unit_id, visible_org_units(p))
            )
        ).scalar_one_or_none()
        if unit is None:
            raise ValidationFailed.field("org_unit_id", "所属单位不存在", "Unknown org unit")
        remember(session, unit.id, unit.name, unit.name_en)  # the answer names it
        if role is Role.admin and unit.kind != "county":
            raise ValidationFailed.field(
                "role", "系统管理员只能属于县级单位", "Admins belong to the county unit"
            )
        if role is Role.expert and unit.kind != "county":
            raise ValidationFailed.field(
                "role", "外聘专家只能属于县级单位", "Experts belong to the county unit"
            )
        if not p.is_admin and unit.id != (p.unit.id if p.unit else None):
            raise Forbidden("只能管理本单位的用户", "You may manage users of your own unit only")
    else:
        ent = (  # with its name: the answer names it (``user_out``)
            await session.execute(
                select(Enterprise.id, Enterprise.name).where(
                    Enterprise.id == enterprise_id, visible_enterprises(p)
                )
            )
        ).one_or_none()
        if ent is None:
            raise ValidationFailed.field("enterprise_id", "所属企业不存在", "Unknown enterprise")
        remember(session, ent.id, ent.name)


async def create_user(
    session: AsyncSession, p: Principal, body: UserCreate, *, settings: Settings
) -> User:
    role = Role(body.role)
    _check_role_grant(p, role)
    await _check_home(session, p, role, body.org_unit_id, body.enterprise_id)
    user = User(
        username=body.username,
        password_hash=await _hash(settings, body.password),
        display_name=body.display_name,
        phone=body.phone,
        role=role.value,
        org_unit_id=body.org_unit_id,
        enterprise_id=body.enterprise_id,
        enforcement_cert_no=body.enforcement_cert_no,
        is_active=True,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("用户名已存在", "Username already taken", code="duplicate_username") from exc
    return user


async def update_user(
    session: AsyncSession, p: Principal, user: User, body: UserUpdate, *, settings: Settings
) -> User:
    """A change of password, activation or role ends the user's sessions (``cv`` bump); a
    change of name or phone does not."""
    data = body.model_dump(exclude_unset=True)
    ends_sessions = False
    if not p.is_admin and user.role in (Role.admin, Role.manager) and user.id != p.id:
        raise Forbidden("不能修改同级或上级管理人员", "You may not change another manager or admin")
    if "role" in data:
        role = Role(data["role"])
        if user.id == p.id and role.value != user.role:
            # Like self-deactivation: the last admin could otherwise lock the county out.
            raise ValidationFailed.field(
                "role", "不能修改自己的角色", "You cannot change your own role"
            )
        _check_role_grant(p, role)
        if (role in ENTERPRISE_ROLES) != (user.enterprise_id is not None):
            raise ValidationFailed.field(
                "role", "角色与所属单位类型不符", "The role does not fit the user's home"
            )
        if role in (Role.admin, Role.expert):
            await _check_home(session, p, role, user.org_unit_id, user.enterprise_id)
        ends_sessions |= role.value != user.role
        user.role = role.value
    if user.id == p.id and data.get("is_active") is False:
        raise ValidationFailed.field(
            "is_active", "不能停用自己的账号", "You cannot deactivate yourself"
        )
    if "display_name" in data:
        user.display_name = data["display_name"]
    if "phone" in data:
        user.phone = data["phone"]
    if "enforcement_cert_no" in data:
        user.enforcement_cert_no = data["enforcement_cert_no"]
    if "password" in data:
        user.password_hash = await _hash(settings, data["password"])
        ends_sessions = True
    if "is_active" in data:
        ends_sessions |= data["is_active"] != user.is_active
        user.is_active = data["is_active"]
    if ends_sessions:
        end_sessions(user)
    await session.flush()
    await record_change(session, user.id)  # cached callers drop it (name, role, activation)
    return user


# ---- machine clients -------------------------------------------------------------------------

CLIENT_COLUMNS = (
    ApiClient.id,
    ApiClient.client_id,
    ApiClient.name,
    ApiClient.org_unit_id,
    RefUnit.name.label("org_unit_name"),
    RefUnit.name_en.label("org_unit_name_en"),
    ApiClient.permissions,
    ApiClient.is_active,
    ApiClient.previous_secret_expires_at,
    ApiClient.created_at,
    ApiClient.updated_at,
)


def _check_grants(permissions: list[str]) -> list[str]:
    valid = {perm.value for perm in CLIENT_GRANTABLE}
    bad = [x for x in permissions if x not in valid]
    if bad:
        raise ValidationFailed.field(
            "permissions",
            f"不可授予的权限：{', '.join(bad)}",
            f"Permissions not grantable: {', '.join(bad)}",
        )
    return sorted(set(permissions))


def _visible_clients(p: Principal):  # type: ignore[no-untyped-def]
    return ApiClient.org_unit_id.in_(select(OrgUnit.id).where(visible_org_units(p)))


def _client_out(get: Any, english: bool) -> ClientOut:
    return ClientOut.model_construct(
        id=get("id"),
        client_id=get("client_id"),
        name=get("name"),
        org_unit_id=get("org_unit_id"),
        org_unit=unit_ref(
            get("org_unit_id"), get("org_unit_name"), get("org_unit_name_en"), english
        ),
        permissions=list(get("permissions") or []),
        is_active=get("is_active"),
        previous_secret_expires_at=get("previous_secret_expires_at"),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
    )


def client_row_out(row: Any, english: bool) -> ClientOut:
    """A list row (``CLIENT_COLUMNS``: the unit's names joined in)."""
    return _client_out(row.__getitem__, english)


async def client_out(session: AsyncSession, client: ApiClient, english: bool) -> ClientOut:
    """An entity; its unit's names came with it (``get_client``, ``create_client``)."""
    name, name_en = await unit_names(session, client.org_unit_id)
    names = {"org_unit_name": name, "org_unit_name_en": name_en}
    return _client_out(lambda k: names[k] if k in names else getattr(client, k), english)


async def list_clients(
    session: AsyncSession, p: Principal, params: ListParams
) -> tuple[PageResult, Sort]:
    sort = parse_sort(params.sort, CLIENT_SORTS, CLIENT_DEFAULT_SORT)
    stmt = (
        select(*CLIENT_COLUMNS)
        .select_from(ApiClient)
        .outerjoin(RefUnit, RefUnit.id == ApiClient.org_unit_id)
        .where(_visible_clients(p))
    )
    page = await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=ApiClient.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )
    return page, sort


async def get_client(session: AsyncSession, p: Principal, client_id: str) -> ApiClient:
    row = (
        await session.execute(
            select(ApiClient, RefUnit.name, RefUnit.name_en)
            .outerjoin(RefUnit, RefUnit.id == ApiClient.org_unit_id)
            .where(ApiClient.id == client_id, _visible_clients(p))
        )
    ).first()
    if row is None:
        raise NotFound("客户端不存在", "Client not found")
    remember(session, row[0].org_unit_id, row[1], row[2])
    return row[0]


async def create_client(
    session: AsyncSession, p: Principal, body: ClientCreate, *, settings: Settings
) -> tuple[ApiClient, str]:
    unit = (
        await session.execute(
            select(OrgUnit).where(OrgUnit.id == body.org_unit_id, visible_org_units(p))
        )
    ).scalar_one_or_none()
    if unit is None:
        raise ValidationFailed.field("org_unit_id", "所属单位不存在", "Unknown org unit")
    remember(session, unit.id, unit.name, unit.name_en)  # the answer names it
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id="cli_" + secrets.token_hex(8),
        secret_hash=await _hash(settings, secret),
        name=body.name,
        org_unit_id=unit.id,
        permissions=_check_grants(body.permissions),
        is_active=True,
    )
    session.add(client)
    await session.flush()
    return client, secret


async def update_client(session: AsyncSession, client: ApiClient, body: ClientUpdate) -> ApiClient:
    data = body.model_dump(exclude_unset=True)
    if "name" in data:
        client.name = data["name"]
    if "permissions" in data:
        client.permissions = _check_grants(data["permissions"])
    if "is_active" in data:
        if data["is_active"] != client.is_active:
            # Deactivation ends its tokens at once; reactivation must not revive them.
            end_sessions(client)
        client.is_active = data["is_active"]
    await session.flush()
    await record_change(session, client.id)  # its permissions and activation apply at once
    return client


async def rotate_client_secret(
    session: AsyncSession, client: ApiClient, body: ClientSecretRotation, *, settings: Settings
) -> tuple[ApiClient, str]:
    """A new secret, shown once. The previous one keeps working for the configured overlap
    (so the integration can be redeployed without downtime) and issued tokens stay valid,
    unless ``revoke_previous``: then the previous secret and every issued token end at once."""
    secret = secrets.token_urlsafe(32)
    overlap = settings.client_secret_overlap_seconds
    if body.revoke_previous or overlap == 0:
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
    else:
        client.previous_secret_hash = client.secret_hash
        client.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap)
    if body.revoke_previous:
        end_sessions(client)
    client.secret_hash = await _hash(settings, secret)
    await session.flush()
    if body.revoke_previous:
        await record_change(session, client.id)
    return client, secret
