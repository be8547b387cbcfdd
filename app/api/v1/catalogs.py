from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import PERMISSION_LABELS, ROLE_LABELS, Permission
from app.auth.principal import Principal
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.problem_codes import PROBLEM_CODES
from app.models import OrgUnit
from app.schemas.catalogs import (
    BureauEntry,
    CatalogEntry,
    CatalogsOut,
    JudgmentClauseEntry,
    JudgmentStandardEntry,
    JudgmentStandardOut,
    ProblemCodeEntry,
    SectorEntry,
    TownEntry,
)
from app.services.catalog_data import CATALOGS, SECTORS
from app.services.judgment_standards import STANDARDS, Standard

router = APIRouter(tags=["catalogs"], route_class=ApiRoute)


@router.get(
    "/catalogs",
    operation_id="get_catalogs",
    response_model=CatalogsOut,
    responses={304: {"description": "Not modified (`If-None-Match` matched the `ETag`)"}},
    summary="Get the catalogues",
)
async def get_catalogs(
    request: Request, session: SessionDep, p: Requires(Permission.catalogs_read)
) -> Response:
    """Every enumeration of the API (字典) with its stable `code` and its Chinese and English
    labels (`name_zh`, `name_en`), the sectors (行业领域, with `high_risk`), the towns of the
    caller's county, the roles and permissions, and `problem_codes`: every error `code` the
    service answers with its status and titles. Frontends take labels from here and never
    hard-code them.

    Frontends cache it: the answer carries an `ETag` (a digest of the body) and
    `Cache-Control: private, max-age=300`, and a request with a matching `If-None-Match` is
    answered 304 without a body. Who: everyone signed in (`catalogs:read`), machine clients
    included; the towns listed are those of the caller's own county.
    """
    return _cacheable(request, (await _catalogs(session, p)).model_dump_json().encode())


def _cacheable(request: Request, body: bytes) -> Response:
    """A catalogue answer: its ``ETag`` is a digest of the body, 304 on a matching
    ``If-None-Match``, and browsers keep it five minutes."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=300"}
    wanted = {
        t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
    }
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _standard_entry(s: Standard) -> dict[str, object]:
    return {
        "code": s.code,
        "name_zh": s.name_zh,
        "name_en": s.name_en,
        "document": s.document,
        "sectors": list(s.sectors),
        "clause_count": len(s.clauses),
    }


# Static data: shaped once.
_STANDARD_BODIES = {
    code: JudgmentStandardOut(
        **_standard_entry(s),
        clauses=[
            JudgmentClauseEntry(
                code=c.code, text_zh=c.text_zh, text_en=c.text_en, sectors=list(c.sectors)
            )
            for c in s.clauses
        ],
    )
    .model_dump_json()
    .encode()
    for code, s in STANDARDS.items()
}


@router.get(
    "/catalogs/judgment-standards/{standard_code}",
    operation_id="get_judgment_standard",
    response_model=JudgmentStandardOut,
    responses={304: {"description": "Not modified (`If-None-Match` matched the `ETag`)"}},
    summary="Get a judgment standard with its clauses",
)
async def get_judgment_standard(
    request: Request,
    p: Requires(Permission.catalogs_read),
    standard_code: Annotated[str, Path(max_length=64, description="e.g. industry_trade")],
) -> Response:
    """One 重大事故隐患判定标准 (a code of `judgment_standards` in `GET /api/v1/catalogs`) with
    its clauses: `code` (the value of a major hazard's `judgment.clause`), a short paraphrase in
    Chinese and English (`text_zh`, `text_en`; read the standard itself before a decision) and
    the sectors the clause is written for.

    Clause codes follow the standard's numbering in ASCII: 第四条第（三）项 is `4.3`, an article
    without items its number (`14`), item 四 of a numbered list `4`, a clause of GB 35181 its
    number (`5.5`, `6.3.3`). Registration and `reclassify` also take the Chinese citation
    (`第四条第（三）项`) and store the code.

    Cacheable like the catalogue (`ETag`, `Cache-Control: private, max-age=300`, 304 on a
    matching `If-None-Match`). Who: everyone signed in (`catalogs:read`). Errors: 404
    `not_found` for an unknown standard.
    """
    body = _STANDARD_BODIES.get(standard_code)
    if body is None:
        raise NotFound("未知的判定标准", "Unknown judgment standard")
    return _cacheable(request, body)


async def _catalogs(session: AsyncSession, p: Principal) -> CatalogsOut:
    county = p.county_code
    if county is None and p.enterprise_region_code:
        county = p.enterprise_region_code[:6]  # read with the caller: no statement of its own
    towns: list[TownEntry] = []
    bureaus: list[BureauEntry] = []
    if county:  # towns by region code, bureaus by name: one statement for both
        stmt = (
            select(OrgUnit)
            .where(OrgUnit.kind.in_(("town", "bureau")), OrgUnit.county_code == county)
            .order_by(OrgUnit.kind, OrgUnit.region_code, OrgUnit.name, OrgUnit.id)
        )
        for u in (await session.execute(stmt)).scalars():
            names = {"name_zh": u.name, "name_en": u.name_en or u.name}
            if u.kind == "town":
                code = u.region_code or ""
                towns.append(TownEntry(id=u.id, code=code, region_code=code, **names))
            else:
                bureaus.append(
                    BureauEntry(id=u.id, code=u.id, sectors=list(u.sectors or []), **names)
                )
    entries: dict[str, list[CatalogEntry]] = {
        name: [CatalogEntry(**e._asdict()) for e in values] for name, values in CATALOGS.items()
    }
    entries["judgment_standards"] = [
        JudgmentStandardEntry(**_standard_entry(STANDARDS[e.code]))  # type: ignore[arg-type]
        for e in CATALOGS["judgment_standards"]
    ]
    return CatalogsOut(
        sectors=[SectorEntry(**s._asdict()) for s in SECTORS],
        towns=towns,
        bureaus=bureaus,
        roles=[
            CatalogEntry(code=r.value, name_zh=zh, name_en=en)
            for r, (zh, en) in ROLE_LABELS.items()
        ],
        permissions=[
            CatalogEntry(code=x.value, name_zh=zh, name_en=en)
            for x, (zh, en) in PERMISSION_LABELS.items()
        ],
        problem_codes=[ProblemCodeEntry(**c._asdict()) for c in PROBLEM_CODES],
        **entries,
    )
