from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.schemas.common import NamedRef, RequestModel
from app.schemas.org_units import OrgUnitKind
from app.schemas.users import Password, PermissionCode, RoleCode


class TokenRequest(BaseModel):
    """The token endpoint's fields, form-encoded or JSON. Which fields a grant needs: `password`:
    `username`, `password`; `client_credentials`: `client_id`, `client_secret`; `refresh_token`:
    `refresh_token`. Others are ignored (a public client such as AppAuth sends its `client_id`
    with every request). Passwords are taken exactly as typed."""

    # Unknown parameters are ignored (RFC 6749 §3.2), so the schema does not forbid them.
    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["password", "client_credentials", "refresh_token"]
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=256)
    client_id: str | None = Field(default=None, min_length=1, max_length=128)
    client_secret: str | None = Field(default=None, min_length=1, max_length=256)
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="`refresh_token` grant: the refresh token of the last answer (single use)",
    )
    scope: str | None = Field(
        default=None, max_length=256, description="Accepted and ignored: tokens carry no scopes"
    )


class RevokeRequest(BaseModel):
    """RFC 7009 token revocation (sign-out), form-encoded or JSON."""

    # Unknown parameters are ignored (RFC 6749 §3.2), so the schema does not forbid them.
    model_config = ConfigDict(extra="ignore")

    token: str = Field(
        min_length=1,
        max_length=4096,
        description="A refresh token, or an access token of a person's session: either ends the "
        "whole session",
    )
    token_type_hint: Literal["refresh_token", "access_token"] | None = Field(
        default=None, description="Optional; both kinds are recognised without it"
    )
    client_id: str | None = Field(
        default=None,
        max_length=128,
        description="Accepted and ignored (public clients such as AppAuth send it)",
    )


class TokenOut(BaseModel):
    """A token answer. `refresh_token` and `refresh_expires_in` are sent for a person's session
    (password and refresh grants, password change) and absent for machine clients."""

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`")
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the access token is valid (default 1800)")
    refresh_token: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Opaque, single use: exchange it with `grant_type=refresh_token` for the next "
        "access and refresh token; keep it in secure storage",
    )
    refresh_expires_in: int | SkipJsonSchema[None] = Field(
        default=None,
        description="Seconds the refresh token is valid (each refresh issues one with a fresh "
        "lifetime); after that, sign in again",
    )


class MeUnit(BaseModel):
    id: str
    kind: OrgUnitKind
    name: str
    region_code: str | None


class MeOut(BaseModel):
    id: str
    kind: Literal["user", "client"]
    username: str = Field(description="A person's username, or a machine client's `client_id`")
    display_name: str
    role: RoleCode | None = Field(description="null for machine clients")
    org_unit: MeUnit | None = Field(description="Government staff and machine clients")
    enterprise: NamedRef | None = Field(description="Enterprise staff")
    permissions: list[PermissionCode] = Field(description="What the caller may do, sorted")
    unread_count: int | None = Field(
        description="The caller's unread notifications (`GET /api/v1/notifications?unread=true`); "
        "null for machine clients, which have no inbox"
    )


class PasswordChange(RequestModel):
    """Passwords are taken exactly as typed (no whitespace stripping), like the sign-in."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password = Field(
        description="At least 10 characters, not a common password, not the current one"
    )

    @field_validator("new_password")
    @classmethod
    def _differs(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("current_password"):
            raise ValueError(
                "The new password must differ from the current one|新密码不能与当前密码相同"
            )
        return value
