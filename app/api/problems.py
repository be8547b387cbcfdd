"""``GET /problems/{code}``: what a problem ``type`` URI resolves to. JSON by default, a small
HTML page for a browser (``Accept: text/html``). Public: the page describes a code, not data."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse, JSONResponse, Response

from app.api.idempotency import ApiRoute
from app.auth.deps import public
from app.core.errors import TYPE_BASE, NotFound
from app.core.problem_codes import PROBLEM_CODES_BY_CODE

router = APIRouter(tags=["operations"], dependencies=[Depends(public)], route_class=ApiRoute)


class ProblemType(BaseModel):
    """One problem type: the code a problem's `code` carries, and the status it is answered with."""

    type: str = Field(description="The problem `type` URI reference, `/problems/{code}`")
    code: str
    status: int
    title_zh: str
    title_en: str


def _prefers_html(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    if "text/html" not in accept:
        return False
    return "application/json" not in accept or accept.index("text/html") < accept.index(
        "application/json"
    )


@router.get(
    TYPE_BASE + "{code}",
    operation_id="get_problem_type",
    response_model=ProblemType,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    summary="Describe a problem type",
)
async def get_problem_type(request: Request, code: str) -> Response:
    """What a problem `code` means: its HTTP status and its Chinese and English titles. The
    `type` of every problem answer (`/problems/{code}`, relative to the request URL) resolves
    here: JSON by default, a short HTML page for a browser (`Accept: text/html`), cacheable for
    an hour. `GET /api/v1/catalogs` lists every code under `problem_codes`. Open to everyone,
    no token; an unknown code is 404 `not_found`."""
    entry = PROBLEM_CODES_BY_CODE.get(code)
    if entry is None:
        raise NotFound("未知的错误代码", "Unknown problem code")
    body = ProblemType(type=TYPE_BASE + entry.code, **entry._asdict())
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept"}
    if _prefers_html(request):
        page = (
            '<!doctype html><html lang="zh"><meta charset="utf-8">'
            f"<title>{escape(entry.code)}</title>"
            f"<h1>{escape(entry.title_zh)} / {escape(entry.title_en)}</h1>"
            f"<p>code <code>{escape(entry.code)}</code>, HTTP {entry.status}</p>"
            '<p><a href="/api/v1/catalogs">/api/v1/catalogs</a> (problem_codes)</p></html>'
        )
        return HTMLResponse(page, headers=headers)
    return JSONResponse(body.model_dump(), headers=headers)
