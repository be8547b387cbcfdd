from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.auth.password_policy import MAX_LENGTH, MIN_LENGTH, check_new_password
from app.schemas.common import RequestModel

RoleCode = Literal[
    "admin", "manager", "officer", "inspector", "viewer", "enterprise_manager", "enterprise_staff"
]
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
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Phone | None = None
    role: RoleCode
    org_unit_id: str | None = None
    enterprise_id: str | None = None


class UserUpdate(RequestModel):
    display_name: Annotated[str, Field(min_length=1, max_length=100)] = (
        None  # may be omitted, never null
    )
    phone: Phone | None = None
    role: RoleCode = None  # may be omitted, never null
    password: Password = None  # may be omitted, never null
    is_active: bool = None  # may be omitted, never null


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    phone: str | None
    role: RoleCode
    org_unit_id: str | None
    enterprise_id: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None
    total: int | None = None


class ClientCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    org_unit_id: str
    permissions: Annotated[list[str], Field(min_length=1, max_length=50)]


class ClientUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] = None  # may be omitted, never null
    permissions: Annotated[list[str], Field(min_length=1, max_length=50)] = (
        None  # may be omitted, never null
    )
    is_active: bool = None  # may be omitted, never null


class ClientOut(BaseModel):
    id: str
    client_id: str
    name: str
    org_unit_id: str
    permissions: list[str]
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
    revoke_previous: bool = Field(
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
    total: int | None = None
