from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from app.schemas.common import NamedRef


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
