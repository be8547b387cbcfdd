"""The blacklist (联合惩戒黑名单): credit repair, and the public list of current entries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.schemas.common import NON_BLANK, RequestModel, ResponseModel


class BlacklistRemove(RequestModel):
    reason: Annotated[
        str,
        Field(
            min_length=1,
            pattern=NON_BLANK,
            max_length=2000,
            description="Why the enterprise comes off the list (信用修复的依据)",
        ),
    ]


class PublicBlacklistEntry(ResponseModel):
    """A current entry as the county publishes it: no people, no internal ids."""

    enterprise_name: str
    credit_code: str = Field(description="统一社会信用代码")
    county_code: str = Field(description="The enterprise's 6-digit county code")
    reason: str
    listed_at: datetime


class PublicBlacklistPage(BaseModel):
    items: list[PublicBlacklistEntry]
    next_cursor: str | None
    total: int | None = Field(default=None, description="Sent only with include_total=true")
