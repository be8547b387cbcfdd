"""Small HTTP helpers shared by routers: JSON responses, ETags and If-Match."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from app.core.errors import PreconditionFailed
from app.core.pagination import PageResult


def client_address(request: Request) -> str | None:
    """The client's address, as sign-in throttling and rate limits count it. uvicorn runs with
    ``proxy_headers`` (app/server.py): behind a proxy in ``ANJIAN_FORWARDED_ALLOW_IPS`` this is
    the address it forwards, from any other peer its own address (a forged ``X-Forwarded-For``
    is ignored)."""
    return request.client.host if request.client else None


def etag_for(version: int) -> str:
    return f'"v{version}"'


def check_if_match(request: Request, version: int) -> None:
    """A stale ``If-Match`` means someone else changed the resource first: 412."""
    check_if_match_header(request.headers.get("if-match"), version)


def check_if_match_header(header: str | None, version: int | None) -> None:
    """``check_if_match`` on the header's value; ``version`` None: no current representation,
    which no ``If-Match`` (not even ``*``) matches (RFC 9110 §13.1.1), as for an upsert that
    would create."""
    if header is None:
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if version is not None and ("*" in tags or etag_for(version) in tags):
        return
    raise PreconditionFailed(
        "资源已被他人修改，请重新获取后再提交",
        "The resource has changed since you read it; fetch it again and retry",
    )


def _default(value: Any) -> Any:
    """What orjson does not know, as pydantic writes it: a model by its own JSON form, a
    ``Decimal`` as its text (``"1200.00"``)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> bytes:
    """An answer shaped as plain dicts (the hot reads), in the same JSON as pydantic's: UTC
    times with ``Z``, dates as ``YYYY-MM-DD``, models inside by their own serialiser."""
    return orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z)


def json_response(
    model: BaseModel | dict[str, Any],
    *,
    status_code: int = 200,
    version: int | None = None,
    location: str | None = None,
) -> Response:
    """Serialises once (pydantic-core for a model, orjson for a dict shaped from rows),
    skipping FastAPI's second validation pass."""
    headers: dict[str, str] = {}
    if version is not None:
        headers["ETag"] = etag_for(version)
    if location is not None:
        headers["Location"] = location
    body = dumps(model) if isinstance(model, dict) else model.model_dump_json()
    return Response(
        body,
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def page_response(model: type[BaseModel], items: Sequence[Any], page: PageResult) -> Response:
    """``{items, next_cursor}``, plus ``total`` only when it was asked for. ``model`` is the
    page's schema (``HazardPage``), which the items (dicts or models) follow."""
    body: dict[str, Any] = {"items": items, "next_cursor": page.next_cursor}
    if page.total is not None:
        body["total"] = page.total
    return json_response(body)


# issue 13, maps: GeoJSON answers (RFC 7946)
class GeoJSONResponse(JSONResponse):
    """``application/geo+json``, written by orjson like ``dumps``. As a route's
    ``response_class`` (with ``response_model``) openapi.json declares the 200 under that media
    type with the model's schema (FastAPI does so only for ``JSONResponse`` subclasses)."""

    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def geo_response(body: dict[str, Any]) -> Response:
    """A GeoJSON FeatureCollection shaped by app/services/geo.py, serialised once."""
    return GeoJSONResponse(body)
