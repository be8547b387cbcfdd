"""Small HTTP helpers shared by routers: JSON responses, ETags and If-Match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core.errors import PreconditionFailed
from app.core.pagination import PageResult


def etag_for(version: int) -> str:
    return f'"v{version}"'


def check_if_match(request: Request, version: int) -> None:
    """A stale ``If-Match`` means someone else changed the resource first: 412."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags or etag_for(version) in tags:
        return
    raise PreconditionFailed(
        "资源已被他人修改，请重新获取后再提交",
        "The resource has changed since you read it; fetch it again and retry",
    )


def json_response(
    model: BaseModel,
    *,
    status_code: int = 200,
    version: int | None = None,
    location: str | None = None,
    exclude: set[str] | None = None,
) -> Response:
    """Serialises once with pydantic-core, skipping FastAPI's second validation pass."""
    headers: dict[str, str] = {}
    if version is not None:
        headers["ETag"] = etag_for(version)
    if location is not None:
        headers["Location"] = location
    return Response(
        model.model_dump_json(exclude=exclude),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def page_response(model: type[BaseModel], items: Sequence[Any], page: PageResult) -> Response:
    """``{items, next_cursor}``, plus ``total`` only when it was asked for."""
    out = model.model_construct(items=list(items), next_cursor=page.next_cursor, total=page.total)
    return json_response(out, exclude={"total"} if page.total is None else None)
