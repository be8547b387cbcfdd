from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
)

from app.auth.password_policy import MAX_LENGTH, MIN_LENGTH, check_new_password
from app.auth.permissions import CLIENT_GRANTABLE, Permission, Role
from app.schemas.common import NON_BLANK, NamedRef, RequestModel, ResponseModel

# Enumerations built from the tables in app/auth/permissions.py, so the schema cannot drift from
# what the server checks; in declaration order, as the catalogue lists them.
RoleCode = Literal[tuple(r.value for r in Role)]  # type: ignore[valid-type]
PermissionCode = Literal[tuple(x.value for x in Permission)]  # type: ignore[valid-type]
# What a machine client may hold: never user, client or org-unit management.
ClientPermissionCode = Literal[tuple(x.value for x in Permission if x in CLIENT_GRANTABLE)]  # type: ignore[valid-type]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9-]{4,19}$", max_length=20)]
# A password being set: 10+ characters, not a common one (app/auth/password_policy.py); kept
# exactly as typed (sign-in does not strip either).
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=MIN_LENGTH, max_length=MAX_LENGTH),
    AfterValidator(check_new_password),
]


class UserCreate(RequestModel):
    username: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9_.@-]{3,64}$", description="Case-insensitive; stored lower-case"
        ),
        AfterValidator(str.lower),
    ]
    password: Password
    display_name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
    phone: Phone | None = None
    role: RoleCode
    org_unit_id: str | None = None
    enterprise_id: str | None = None
    enforcement_cert_no: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=40,
            pattern=NON_BLANK,
            description="执法证号: an enforcement certificate; enforcement inspections need "
            "two inspectors holding one",
        ),
    ] = None


class UserUpdate(RequestModel):
    display_name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] = (
        None  # may be omitted, never null
    )
    phone: Phone | None = None
    role: RoleCode = None  # may be omitted, never null
    password: Password = None  # may be omitted, never null
    is_active: StrictBool = None  # may be omitted, never null
    enforcement_cert_no: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=40,
            pattern=NON_BLANK,
            description="执法证号: an enforcement certificate; enforcement inspections need "
            "two inspectors holding one",
        ),
    ] = None  # null removes it


class UserOut(ResponseModel):
    id: str
    username: str
    display_name: str
    phone: str | None
    role: RoleCode
    org_unit_id: str | None
    org_unit: NamedRef | None = Field(description="Government staff: their unit")
    enterprise_id: str | None
    enterprise: NamedRef | None = Field(description="Enterprise staff: their enterprise")
    enforcement_cert_no: str | None = Field(description="执法证号, when the user holds one")
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")


def _grantable(value: Any) -> Any:
    """Every value checked at once, so the 422 names the field (not an item's position) and
    says which permissions may be granted; a non-list is left to pydantic's own error."""
    if not isinstance(value, list):
        return value
    allowed = ClientPermissionCode.__args__  # type: ignore[attr-defined]
    bad = [str(v) for v in value if v not in allowed]
    if bad:
        wrong, one_of = ", ".join(bad), ", ".join(allowed)
        raise ValueError(
            f"Permissions not grantable to a machine client: {wrong}; grantable: {one_of}"
            f"|不可授予接口客户端的权限：{wrong}；可授予：{one_of}"
        )
    return value


ClientPermissions = Annotated[
    list[ClientPermissionCode],  # type: ignore[valid-type]
    BeforeValidator(_grantable),
    Field(min_length=1, max_length=50),
]


class ClientCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)]
    org_unit_id: str
    permissions: ClientPermissions


class ClientUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, pattern=NON_BLANK, max_length=100)] = (
        None  # may be omitted, never null
    )
    permissions: ClientPermissions = None  # may be omitted, never null
    is_active: StrictBool = None  # may be omitted, never null


class ClientOut(ResponseModel):
    id: str
    client_id: str
    name: str
    org_unit_id: str
    org_unit: NamedRef
    permissions: list[ClientPermissionCode]  # type: ignore[valid-type]
    is_active: bool
    previous_secret_expires_at: datetime | None = Field(
        default=None,
        description="After a rotation: until when the previous secret still works",
    )
    created_at: datetime
    updated_at: datetime


class ClientWithSecret(ClientOut):
    client_secret: str = Field(description="Shown once; store it now")


class ClientSecretRotation(RequestModel):
    revoke_previous: StrictBool = Field(
        default=False,
        description=(
            "For a leaked secret: the previous secret stops working at once and every token "
            "issued to the client ends. By default the previous secret keeps working for "
            "`ANJIAN_CLIENT_SECRET_OVERLAP_SECONDS` and issued tokens stay valid."
        ),
    )


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
