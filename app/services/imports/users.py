"""A row of a users import (用户), through the user service (``POST /users``, ``PATCH
/users/{id}``): the same grants, homes and scope.

- Natural key: ``username`` (case-insensitive, as the API stores it). A known username is
  compared on the columns the file holds (name, phone, role, 执法证号); a change is applied
  by ``update_user`` (so a role change ends that user's sessions, as through the API).
- Home: government roles an ``org_unit`` (a unit of the county by name or id), enterprise roles
  an ``enterprise`` (credit code or name, in scope). The API never moves a user to another
  home, so a known user whose row names another home is ``field_not_writable``.
- Password: the initial password of a new user (hashed by the service, in the bounded hashing
  pool; never stored, never echoed in errors). An existing user's password is never changed
  by an import: a row giving one is applied without it, with the warning
  ``password_not_changed``.
- Who: ``users:write`` (admins; managers for their own unit and the enterprises in scope,
  never granting ``admin``/``manager``); a row for a unit the caller does not manage, or a
  known user outside its scope, is ``outside_scope``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.scope import visible_org_units, visible_users
from app.core.errors import AppError
from app.models import OrgUnit, User
from app.schemas.users import UserCreate, UserUpdate
from app.services import users as user_service
from app.services.imports.rows import (
    RowContext,
    RowError,
    _enterprise_of,
    _validation,
    app_error,
    unit_by_ref,
)

_FIELDS = {"org_unit_id": "org_unit", "enterprise_id": "enterprise"}
_COMPARED = ("display_name", "phone", "role", "enforcement_cert_no")


def _outside(zh: str, en: str, field: str | None = None) -> RowError:
    return RowError(field, code="outside_scope", zh=zh, en=en)


async def user_row(ctx: RowContext, v: dict[str, Any], row: int, external: dict[str, str]) -> str:
    ensure(ctx.p, Permission.users_write)
    # Out of the values at once: the runner reports a failing field's value, never this one.
    password = v.pop("password", None)
    username = str(v.get("username") or "").strip().lower()
    if not username:
        raise RowError("username", code="validation_error", zh="缺少用户名", en="No username")
    if username in ctx.seen:
        raise RowError(
            "username",
            code="duplicate_in_file",
            zh="同一文件中该用户名已出现过",
            en="The username appears on an earlier row of this file",
        )
    ctx.seen.add(username)
    unit = (
        await unit_by_ref(ctx, v["org_unit"], "org_unit", visible_org_units(ctx.p))
        if v.get("org_unit")
        else None
    )
    ent = await _enterprise_of(ctx, v["enterprise"]) if v.get("enterprise") else None
    p = ctx.p
    if unit is not None and not p.is_admin and unit.id != (p.unit.id if p.unit else None):
        raise _outside(
            "只能管理本单位的用户", "You may manage users of your own unit only", "org_unit"
        )
    existing = (
        await ctx.session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    try:
        if existing is None:
            return await _create(ctx, v, username, password, unit, ent)
        return await _update(ctx, v, row, existing, password, unit, ent)
    except ValidationError as exc:
        error = _validation(exc)
        error.field = _FIELDS.get(error.field or "", error.field)
        raise error from None
    except AppError as exc:
        raise app_error(exc, _FIELDS) from None


async def _create(
    ctx: RowContext,
    v: dict[str, Any],
    username: str,
    password: str | None,
    unit: OrgUnit | None,
    ent: Any,
) -> str:
    if not password:
        raise RowError(
            "password",
            code="validation_error",
            zh="新用户须填写初始密码",
            en="A new user needs an initial password",
        )
    body = UserCreate.model_validate(
        {
            "username": username,
            "password": password,
            "display_name": v.get("display_name"),
            "phone": v.get("phone"),
            "role": v.get("role"),
            "org_unit_id": unit.id if unit else None,
            "enterprise_id": ent.id if ent else None,
            "enforcement_cert_no": v.get("enforcement_cert_no"),
        }
    )
    await user_service.create_user(ctx.session, ctx.p, body, settings=ctx.settings)
    return "created"


async def _update(
    ctx: RowContext,
    v: dict[str, Any],
    row: int,
    user: User,
    password: str | None,
    unit: OrgUnit | None,
    ent: Any,
) -> str:
    visible = (
        await ctx.session.execute(select(User.id).where(User.id == user.id, visible_users(ctx.p)))
    ).first()
    if visible is None:
        raise _outside(
            "该用户名已被管辖范围外的账号使用",
            "The username belongs to an account outside your scope",
            "username",
        )
    if (unit is not None and unit.id != user.org_unit_id) or (
        ent is not None and ent.id != user.enterprise_id
    ):
        raise RowError(
            "enterprise" if ent is not None else "org_unit",
            code="field_not_writable",
            zh="已有用户不能通过导入调整所属单位或企业",
            en="An existing user's unit or enterprise cannot be changed by an import",
        )
    if password:
        ctx.warnings.append(
            {
                "row": row,
                "field": "password",
                "code": "password_not_changed",
                "message_zh": "已有用户的密码不通过导入修改（已忽略初始密码）",
                "message_en": "An existing user's password is not changed by an import (ignored)",
            }
        )
    changes = {k: v[k] for k in _COMPARED if v.get(k) is not None and getattr(user, k) != v[k]}
    if not changes:
        return "unchanged"
    await user_service.update_user(
        ctx.session, ctx.p, user, UserUpdate.model_validate(changes), settings=ctx.settings
    )
    return "updated"
