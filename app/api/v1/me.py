from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.http import client_address
from app.core.i18n import localized_unit_name
from app.schemas.auth import MeOut, MeUnit, PasswordChange, TokenOut
from app.schemas.common import NamedRef
from app.services import auth as auth_service
from app.services import notifications

router = APIRouter(tags=["identity"], route_class=ApiRoute)


@router.get(
    "/me",
    operation_id="get_me",
    response_model=MeOut,
    summary="Who am I: the caller, its unit or enterprise, role and permissions",
)
async def get_me(request: Request, session: SessionDep, p: Requires(Permission.me_read)) -> MeOut:
    """The signed-in person or machine client: its home (an org unit for government staff and
    machine clients, an enterprise for enterprise staff), its role (people only) and every
    permission it holds, so a frontend shows what the caller may do without hard-coding the role
    table. Read when the app starts and after each sign-in; a role change ends the session, so
    the answer stays right for the life of a token. `unread_count` is the person's unread
    notifications (null for a machine client): poll `/me` for the badge."""
    unit = (
        MeUnit(
            id=p.unit.id,
            kind=p.unit.kind,  # type: ignore[arg-type]
            name=localized_unit_name(request, p.unit.name, p.unit.name_en),
            region_code=p.unit.region_code,
        )
        if p.unit
        else None
    )
    enterprise = (
        NamedRef(id=p.enterprise_id, name=p.enterprise_name or "") if p.enterprise_id else None
    )
    return MeOut(
        id=p.id,
        kind=p.kind,  # type: ignore[arg-type]
        username=p.name,
        display_name=p.display_name,  # read with the caller, in the same statement
        role=p.role.value if p.role else None,
        org_unit=unit,
        enterprise=enterprise,
        permissions=sorted(perm.value for perm in p.permissions),
        unread_count=await notifications.unread_count(session, p),
    )


@router.post(
    "/me/password",
    operation_id="change_my_password",
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses={429: {"description": "Too many wrong current passwords; retry later"}},
    summary="Change one's own password; ends every other session and answers a new token",
)
async def change_my_password(
    request: Request,
    response: Response,
    session: SessionDep,
    p: Requires(Permission.me_read),
    body: PasswordChange,
) -> TokenOut:
    """Proven by the current password (a wrong one is 422 `wrong_current_password`, counted and
    throttled like a sign-in, so a stolen access token cannot be used to guess it). Every other
    session of the person ends at once (their access and refresh tokens are refused), and this
    one starts afresh: the answer is a new token pair, as from a sign-in, to replace the stored
    one. Machine clients have no password (403 `not_a_person`). Never replayed for an
    `Idempotency-Key` (it carries a secret)."""
    request.state.idempotency_no_store = True  # a token is a secret: never replayed
    response.headers["Cache-Control"] = "no-store"  # nor cached (RFC 6749 §5.1)
    issued = await auth_service.change_own_password(
        session,
        request.app.state.settings,
        p,
        body.current_password,
        body.new_password,
        client_address(request),
    )
    return TokenOut(
        access_token=issued.access_token,
        token_type="bearer",
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
    )
