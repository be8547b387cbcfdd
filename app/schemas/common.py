from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT


class RequestModel(BaseModel):
    """Every request body rejects unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ListParams(BaseModel):
    limit: int
    cursor: str | None
    include_total: bool
    sort: str | None


def list_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Page size, at most 500")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=500, description="Opaque cursor from next_cursor")
    ] = None,
    include_total: Annotated[bool, Query(description="Add the total count")] = False,
    sort: Annotated[str | None, Query(max_length=40, description="field or -field")] = None,
) -> ListParams:
    return ListParams(limit=limit, cursor=cursor, include_total=include_total, sort=sort)


class NamedRef(BaseModel):
    id: str
    name: str
