from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.models import ApiClient, Enterprise, User
from app.schemas.auth import MeOut, MeUnit, PasswordChange, TokenOut
from app.schemas.common import NamedRef
from app.services import auth as auth_service

router = APIRouter(tags=["identity"], route_class=ApiRoute)


@router.get("/me", operation_id="get_me", response_model=MeOut)
async def get_me(session: SessionDep, p: Requires(Permission.me_read)) -> MeOut:
    unit = (
        MeUnit(id=p.unit.id, kind=p.unit.kind, name=p.unit.name, region_code=p.unit.region_code)
        if p.unit
        else None
    )
    enterprise = None
    if p.enterprise_id:
        name = (
            await session.execute(select(Enterprise.name).where(Enterprise.id == p.enterprise_id))
        ).scalar_one()
        enterprise = NamedRef(id=p.enterprise_id, name=name)
    if p.kind == "user":
        display_name = (
            await session.execute(select(User.display_name).where(User.id == p.id))
        ).scalar_one()
    else:
        display_name = (
            await session.execute(select(ApiClient.name).where(ApiClient.id == p.id))
        ).scalar_one()
    return MeOut(
        id=p.id,
        kind=p.kind,  # type: ignore[arg-type]
        username=p.name,
        display_name=display_name,
        role=p.role.value if p.role else None,
        org_unit=unit,
        enterprise=enterprise,
        permissions=sorted(perm.value for perm in p.permissions),
    )


@router.post(
    "/me/password",
    operation_id="change_my_password",
    response_model=TokenOut,
    responses={429: {"description": "Too many wrong current passwords; retry later"}},
    summary="Change one's own password; ends every other session and answers a new token",
)
async def change_my_password(
    request: Request, session: SessionDep, p: Requires(Permission.me_read), body: PasswordChange
) -> TokenOut:
    request.state.idempotency_no_store = True  # a token is a secret: never replayed
    token, ttl = await auth_service.change_own_password(
        session,
        request.app.state.settings,
        p,
        body.current_password,
        body.new_password,
        request.client.host if request.client else None,
    )
    return TokenOut(access_token=token, expires_in=ttl)
