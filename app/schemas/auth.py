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

from app.schemas.common import NamedRef, RequestModel
from app.schemas.users import Password


class TokenRequest(BaseModel):
    """The token endpoint's fields, form-encoded or JSON. Passwords are taken exactly as typed."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["password", "client_credentials"]
    username: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=1, max_length=256)
    client_id: str | None = Field(default=None, min_length=1, max_length=128)
    client_secret: str | None = Field(default=None, min_length=1, max_length=256)
    scope: str | None = Field(
        default=None, max_length=256, description="Accepted and ignored: tokens carry no scopes"
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class MeUnit(BaseModel):
    id: str
    kind: str
    name: str
    region_code: str | None


class MeOut(BaseModel):
    id: str
    kind: Literal["user", "client"]
    username: str
    display_name: str
    role: str | None
    org_unit: MeUnit | None
    enterprise: NamedRef | None
    permissions: list[str]


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
