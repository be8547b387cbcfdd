"""Hot reads: the lists and details every screen sends, served without FastAPI's per-request
machinery in their common case, and by their documented route in every other.

A detail by id costs a bare server (Starlette, asyncpg, orjson) about 0.3 ms; through FastAPI's
dependency solving, routing and a unit-of-work session it cost several times that (issue 10,
`make bench`). This layer, the innermost of the middleware, answers ``GET`` of
``/api/v1/hazards``, ``/api/v1/hazards/{id}``, ``/api/v1/enterprises`` and
``/api/v1/enterprises/{id}`` itself when:

- ``Accept`` names neither CSV nor XLSX (an export is the route's, issue 16);
- the query is canonical: a detail has none; a list has only ``limit`` (digits, 1–500),
  ``cursor``, ``sort`` (one of the list's), ``include_total`` (``true``/``false``) and the
  enumeration filters (known values, comma-separated), each at most once and none blank —
  a strict subset of what the route accepts, read to the same values;
- the bearer token is valid and this worker's caller cache knows the caller
  (``app.auth.deps.cached_principal``: the same key, lifetime and invalidation as the route's);
- the caller holds the route's permission;
- and the read succeeds.

It renders with the route's own function (``render_list``/``render_detail`` of the router) on
a connection of the same read engine. In every other case — another parameter or form, no
token, a caller to resolve, a missing permission, an object not found or out of scope, a bad
cursor, a connection found dead, anything raised — it passes the request on untouched to the
application, whose route answers as it always does (401, 403, 404, 422, the read's retry on a
fresh connection). Only a database that cannot be reached at all (refused, the pool exhausted)
is answered here, with the route's 503 (``unavailable_response``), rather than waited for
twice. A read writes nothing, so doing it again there is safe, and nothing has been sent
before that decision.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.v1 import enterprises as enterprise_routes
from app.api.v1 import hazards as hazard_routes
from app.auth.deps import cached_principal
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.core.errors import is_database_unavailable, unavailable_response
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, sort_values
from app.schemas.common import ListParams
from app.schemas.enterprises import EnterpriseStatus, RiskColor
from app.schemas.hazards import Escalation, HazardCategory, HazardLevel, HazardSource, HazardStatus
from app.schemas.org_units import SectorCode
from app.services import enterprises
from app.services.hazards import service as hazards

log = logging.getLogger("anjian.hot")


def _connect(request: Request) -> Any:
    """A connection of the read sessions' engine (autocommit; the replica when configured),
    without a session around it: these reads go through ``app.core.reads`` only."""
    return request.app.state.read_sessionmaker.kw["bind"].connect()


class NotCanonical(Exception):
    """A query the hot read leaves to the route (which may well accept it, or answer 422)."""


def _limit(raw: str) -> int:
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise NotCanonical
    return int(raw)


_DIGITS = re.compile(r"[1-9][0-9]{0,2}")
_BOOLS = {"true": True, "false": False}


def _list_params(query: dict[str, str], sorts: Iterable[str]) -> ListParams:
    """``limit``, ``cursor``, ``sort`` and ``include_total`` in their plain forms only."""
    cursor = query.pop("cursor", None)
    sort = query.pop("sort", None)
    include_total = query.pop("include_total", "false")
    if (
        (cursor is not None and not 0 < len(cursor) <= 500)
        or (sort is not None and sort not in sort_values(sorts))
        or include_total not in _BOOLS
    ):
        raise NotCanonical
    return ListParams(
        limit=_limit(query.pop("limit", str(DEFAULT_LIMIT))),
        cursor=cursor,
        include_total=_BOOLS[include_total],
        sort=sort,
    )


def _any_of(query: dict[str, str], name: str, values: Any) -> list[str] | None:
    """An enumeration filter as the route's ``any_of`` reads it (comma-separated values)."""
    raw = query.pop(name, None)
    if raw is None:
        return None
    allowed = get_args(values)
    parts = list(dict.fromkeys(raw.split(",")))
    if not all(part in allowed for part in parts):
        raise NotCanonical
    return parts


def _bool(query: dict[str, str], name: str) -> bool | None:
    """A boolean filter in its plain form (``true``/``false``)."""
    raw = query.pop(name, None)
    if raw is None:
        return None
    if raw not in _BOOLS:
        raise NotCanonical
    return _BOOLS[raw]


def _query(request: Request) -> dict[str, str]:
    """The query as single values; a repeated or blank parameter is the route's to read."""
    pairs = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs) or any(v == "" for v in query.values()):
        raise NotCanonical
    return query


def _done(query: dict[str, str]) -> None:
    if query:  # a parameter this hot read does not take (maybe one the route does)
        raise NotCanonical


# Each hot read first reads its request (raising NotCanonical for the route) and only then, with
# a connection, renders: a request the route would refuse never takes a connection here.
Render = Callable[[Any], Awaitable[Response]]


async def _hazard_list(request: Request, p: Principal, _: str | None) -> Render:
    query = _query(request)
    params = _list_params(query, hazards.SORTS)
    enums = {
        "status": HazardStatus,
        "level": HazardLevel,
        "source": HazardSource,
        "category": HazardCategory,
        "sector": SectorCode,
        "escalation": Escalation,
    }
    filters = await hazard_routes.hazard_filters(
        **{name: _any_of(query, name, values) for name, values in enums.items()}
    )
    _done(query)
    return lambda conn: hazard_routes.render_list(request, conn, p, params, filters)


async def _enterprise_list(request: Request, p: Principal, _: str | None) -> Render:
    query = _query(request)
    params = _list_params(query, enterprises.SORTS)
    filters = {
        "sector": _any_of(query, "sector", SectorCode),
        "risk_color": _any_of(query, "risk_color", RiskColor),
        "status": _any_of(query, "status", EnterpriseStatus),
        "blacklisted": _bool(query, "blacklisted"),  # i12-check
    }
    _done(query)
    return lambda conn: enterprise_routes.render_list(request, conn, p, params, filters)


async def _hazard(request: Request, p: Principal, hazard_id: str | None) -> Render:
    if request.scope["query_string"]:
        raise NotCanonical
    return lambda conn: hazard_routes.render_detail(request, conn, p, str(hazard_id))


async def _enterprise(request: Request, p: Principal, ent_id: str | None) -> Render:
    if request.scope["query_string"]:
        raise NotCanonical
    return lambda conn: enterprise_routes.render_detail(request, conn, p, str(ent_id))


Read = Callable[[Request, Principal, str | None], Awaitable[Render]]


@dataclass(frozen=True, slots=True)
class HotRead:
    path: re.Pattern[str]  # the route's path; a detail's id captured (at most 64 characters)
    permission: Permission
    read: Read


HOT_READS = (
    HotRead(re.compile(r"/api/v1/hazards"), Permission.hazards_read, _hazard_list),
    HotRead(re.compile(r"/api/v1/hazards/([^/]{1,64})"), Permission.hazards_read, _hazard),
    HotRead(re.compile(r"/api/v1/enterprises"), Permission.enterprises_read, _enterprise_list),
    HotRead(
        re.compile(r"/api/v1/enterprises/([^/]{1,64})"), Permission.enterprises_read, _enterprise
    ),
)


class HotReadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            for hot in HOT_READS:
                match = hot.path.fullmatch(path)
                if match is not None:
                    object_id = match.group(1) if match.re.groups else None
                    response = await _try(hot, Request(scope, receive), object_id)
                    if response is not None:
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)


async def _try(hot: HotRead, request: Request, object_id: str | None) -> Response | None:
    """The answer of the common case, or None for the route to answer."""
    accept = request.headers.get("accept", "").lower()
    if "text/csv" in accept or "spreadsheetml" in accept:
        return None  # an export (issue 16): the route answers it
    try:
        p = cached_principal(request)
        if p is None or not p.can(hot.permission):
            return None
        render = await hot.read(request, p, object_id)
        async with _connect(request) as conn:
            response = await render(conn)
    except NotCanonical:
        return None
    except Exception as exc:
        if is_database_unavailable(exc) and not getattr(exc, "connection_invalidated", False):
            # The database cannot be reached (refused, pool exhausted): the route would only
            # wait for it a second time. A connection found dead goes to the route's retry.
            return unavailable_response(request, exc)
        # Anything else the route answers (404, a bad cursor, ...) with its handlers.
        log.debug("hot read passed to its route", exc_info=True)
        return None
    request.state.principal_id = p.audit_id
    return response
