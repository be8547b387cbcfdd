"""The bare reference server of `make bench`: Starlette + asyncpg + orjson, no ORM, no pydantic.

It answers the service's paths with the service's JSON from the statements the service itself
sent (bench/sql_capture.py): same SQL text, parameters templated from the captured ones (the id
in the path, or a value the previous statement returned), nothing else on the connection (no
BEGIN/COMMIT, no pre-ping). The caller is found by a dict lookup of the bearer token. Derived
fields (``allowed_actions``) come from the app's own workflow table, memoised per distinct facts,
so after the first rows they cost a dict lookup, as a precomputed table would.

Run by bench/run.py: ``BENCH_REF_SPEC=<pickle> python -m bench.reference PORT WORKERS``.
"""

from __future__ import annotations

import os
import pickle
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# A template of one parameter: ("lit", value) | ("path",) | ("ref", statement index, column).
Param = tuple[Any, ...]


@dataclass
class RefScenario:
    """What the reference needs for one request kind (pickled by bench/run.py)."""

    kind: str
    who: str
    path: str  # the service's route template, e.g. /api/v1/hazards/{id}
    query: tuple[tuple[str, str], ...]
    statements: list[tuple[str, list[Param]]]
    limit: int = 50


@dataclass
class Spec:
    dsn: str
    tokens: dict[str, str]  # bearer token -> who
    principals: dict[str, Any]  # who -> app Principal (for allowed_actions)
    today: date
    stock_cutoff: datetime
    extensions_max: int
    scenarios: list[RefScenario]


def _dumps(body: Any) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


class Shaper:
    """Rows to the service's JSON; one method per request kind."""

    OPEN = ("registered", "rectifying", "awaiting_acceptance")

    def __init__(self, spec: Spec) -> None:
        from app.core.pagination import encode_cursor, parse_sort
        from app.services.enterprises import SORTS as ENTERPRISE_SORTS
        from app.services.hazards.service import SORTS as HAZARD_SORTS
        from app.services.hazards.workflow import Facts, allowed_actions

        self.spec = spec
        self.encode_cursor = encode_cursor
        self.hazard_sort = parse_sort(None, HAZARD_SORTS, "-found_at")
        self.enterprise_sort = parse_sort(None, ENTERPRISE_SORTS, "name")
        self.facts, self.allowed = Facts, allowed_actions
        self.memo: dict[tuple[Any, ...], list[str]] = {}

    def actions(self, who: str, r: Any, overdue: bool) -> list[str]:
        p = self.spec.principals[who]
        left = max(0, self.spec.extensions_max - (r["enterprise_extensions"] or 0))
        key = (
            who,
            r["enterprise_id"] if p.enterprise_id else None,
            r["status"],
            r["level"],
            r["source"],
            overdue,
            r["supervision_org_unit_id"] is not None,
            r["escalation"],
            left,
        )
        got = self.memo.get(key)
        if got is None:
            facts = self.facts(
                enterprise_id=r["enterprise_id"],
                status=r["status"],
                level=r["level"],
                source=r["source"],
                is_overdue=overdue,
                supervised=r["supervision_org_unit_id"] is not None,
                escalation=r["escalation"],
                enterprise_extensions_left=left,
            )
            got = self.memo[key] = self.allowed(p, facts)
        return got

    def hazard(self, who: str, r: Any) -> dict[str, Any]:
        overdue = r["status"] in self.OPEN and r["deadline"] < self.spec.today
        return {
            "id": r["id"],
            "number": r["number"],
            "enterprise": {"id": r["enterprise_id"], "name": r["enterprise_name"]},
            "enforcement_department": {
                "id": r["enforcement_department_id"],
                "name": r["department_name"],
            },
            "region_code": r["region_code"],
            "sector": r["sector"],
            "title": r["title"],
            "location": r["location"],
            "level": r["level"],
            "source": r["source"],
            "category": r["category"],
            "found_at": r["found_at"],
            "deadline": r["deadline"],
            "status": r["status"],
            "is_overdue": overdue,
            "stock": r["found_at"] < self.spec.stock_cutoff,
            "escalation": r["escalation"],
            "supervised": r["supervision_org_unit_id"] is not None,
            "allowed_actions": self.actions(who, r, overdue),
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
            "closed_at": r["closed_at"],
        }

    def page(self, s: RefScenario, items: list[Any], last: Any, total: int | None) -> Any:
        more = last is not None
        body: dict[str, Any] = {"items": items, "next_cursor": None}
        if more:
            sort, field = (
                (self.hazard_sort, "found_at")
                if s.kind == "hazard_list"
                else (self.enterprise_sort, "name")
            )
            body["next_cursor"] = self.encode_cursor(sort, last[field], last["id"])
        if total is not None or ("include_total", "true") in s.query:
            body["total"] = total
        return body

    def hazard_list(self, s: RefScenario, results: list[list[Any]]) -> Any:
        rows = next(r for r in results if r and "number" in r[0].keys())
        total = next((r[0][0] for r in results if r and len(r[0]) == 1), None)
        page = rows[: s.limit]
        last = page[-1] if len(rows) > s.limit else None
        return self.page(s, [self.hazard(s.who, r) for r in page], last, total)

    def hazard_detail(self, s: RefScenario, results: list[list[Any]]) -> Any:
        # The service's two statements: the hazard with its names, then its attachments and
        # escalation steps in one UNION ALL (row_kind tells them apart).
        h = results[0][0]
        ent = h
        extras = [r for rs in results[1:] for r in rs if "row_kind" in r.keys()]
        files = [r for r in extras if r["row_kind"] == "file"]
        steps = [r for r in extras if r["row_kind"] == "step"]
        row = dict(h)
        fen = h["plan_funds_fen"]
        plan = {
            "responsible_person": h["plan_responsible_person"],
            "measures": h["plan_measures"],
            "funds_yuan": None if fen is None else round(fen / 100, 2),
            "deadline": h["plan_deadline"],
            "contingency_plan": h["plan_contingency_plan"],
            "interim_measures": h["plan_interim_measures"],
            "equipment_out_of_service": h["plan_equipment_out_of_service"],
        }
        sup = h["supervision_org_unit_id"]
        return {
            **self.hazard(s.who, row),
            "enterprise_id": h["enterprise_id"],
            "description": h["description"],
            "found_by": {"id": h["found_by_id"], "name": h["found_by_name"] or ""}
            if h["found_by_id"]
            else None,
            "judgment": {
                "standard": h["judgment_standard"],
                "clause": h["judgment_clause"],
                "text": h["judgment_text"],
            }
            if h["judgment_standard"]
            else None,
            "plan": plan if any(v is not None for v in plan.values()) else None,
            "supervision": {
                "org_unit_id": sup,
                "org_unit": {"id": sup, "name": ent["supervising_unit_name"] or ""},
                "supervisor_user_id": h["supervision_supervisor_user_id"],
                "supervisor": {
                    "id": h["supervision_supervisor_user_id"],
                    "display_name": ent["supervisor_name"] or "",
                },
                "listed_at": h["supervision_listed_at"],
                "disclosed": bool(h["supervision_disclosed"]),
                "public_description": h["supervision_public_description"],
            }
            if sup
            else None,
            "escalation_history": [
                {
                    "level": orjson.loads(e["payload"]).get("level")
                    if isinstance(e["payload"], str)
                    else (e["payload"] or {}).get("level"),
                    "at": e["created_at"],
                    "actor": {"id": e["actor_id"], "name": e["actor_name"] or ""}
                    if e["actor_id"]
                    else None,
                    "note": e["note"],
                }
                for e in steps
            ],
            "attachments": [] if not files else None,  # the bench data hold no attachments
        }

    @staticmethod
    def enterprise(r: Any) -> dict[str, Any]:
        keys = r.keys()
        dept = r["department_name"] if "department_name" in keys else r["name_1"]

        def contact(kind: str) -> Any:
            name = r[f"{kind}_name"]
            return {"name": name, "phone": r[f"{kind}_phone"]} if name else None

        lat, lng = r["lat"], r["lng"]
        return {
            "id": r["id"],
            "name": r["name"],
            "credit_code": r["credit_code"],
            "region_code": r["region_code"],
            "address": r["address"],
            "location": {"lat": lat, "lng": lng} if lat is not None and lng is not None else None,
            "sector": r["sector"],
            "industry_code": r["industry_code"],
            "enforcement_department_id": r["enforcement_department_id"],
            "enforcement_department": {"id": r["enforcement_department_id"], "name": dept},
            "scale": r["scale"],
            "risk_color": r["risk_color"],
            "standardization_grade": r["standardization_grade"],
            "principal": contact("principal"),
            "actual_controller": contact("actual_controller"),
            "status": r["status"],
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
        }

    def enterprise_list(self, s: RefScenario, results: list[list[Any]]) -> Any:
        rows = next(r for r in results if r and "credit_code" in r[0].keys())
        page = rows[: s.limit]
        last = page[-1] if len(rows) > s.limit else None
        total = next((r[0][0] for r in results if r and len(r[0]) == 1), None)
        return self.page(s, [self.enterprise(r) for r in page], last, total)

    def enterprise_detail(self, s: RefScenario, results: list[list[Any]]) -> Any:
        return self.enterprise(next(r[0] for r in results if r and "credit_code" in r[0].keys()))

    def statistics(self, s: RefScenario, results: list[list[Any]]) -> Any:
        group_by = dict(s.query)["group_by"].split(",")
        counts = next(r for r in results if r and "found" in r[0].keys())
        med_rows = next((r for r in results if r and "median" in r[0].keys()), [])
        towns = {
            r["region_code"]: r["name"]
            for rs in results
            if rs and "name_en" in rs[0].keys()
            for r in rs
        }
        medians: dict[tuple[str, ...], float] = {}
        for r in med_rows:
            if r["median"] is not None:
                k = () if r["rolled_up"] else tuple(str(r[f"g_{g}"]) for g in group_by)
                medians[k] = round(float(r["median"]), 2)
        measures = ("found", "closed", "open", "overdue", "major_open", "major_supervised")
        measures += ("stock_open", "stock_cleared")

        def make(r: Any, key: dict[str, str]) -> dict[str, Any]:
            found, closed = int(r["found"]), int(r["closed"])
            out: dict[str, Any] = {
                "key": key,
                "labels": {g: towns.get(v, v) for g, v in key.items()},
            }
            out.update({d: key.get(d) for d in ("town", "sector", "level", "source", "month")})
            out.update({m: int(r[m]) for m in measures})
            out["rectification_rate"] = round(closed / found, 4) if found else 0.0
            out["median_days_to_close"] = medians.get(tuple(key.values()))
            return out

        groups = []
        for r in counts:
            key = {g: str(r[f"g_{g}"]) for g in group_by}
            if int(r["found"]):
                groups.append(make(r, key))
        groups.sort(key=lambda g: tuple(g["key"][d] for d in group_by))
        totals = make({m: sum(int(r[m]) for r in counts) for m in measures}, {})
        return {"group_by": group_by, "groups": groups, "totals": totals}


def build_app(spec: Spec) -> Starlette:
    shaper = Shaper(spec)
    table = {(s.path, s.who, s.query): s for s in spec.scenarios}
    pool: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette):  # type: ignore[no-untyped-def]
        pool["p"] = await asyncpg.create_pool(spec.dsn, min_size=4, max_size=10)
        yield
        await pool["p"].close()

    def handler(template: str):  # type: ignore[no-untyped-def]
        async def handle(request: Request) -> Response:
            token = request.headers.get("authorization", "")[7:]
            who = spec.tokens.get(token)
            if who is None:
                return Response(status_code=401)
            s = table.get((template, who, tuple(sorted(request.query_params.items()))))
            if s is None:
                return Response(status_code=404)
            path_id = request.path_params.get("id")
            results: list[list[Any]] = []
            async with pool["p"].acquire() as conn:
                for sql, params in s.statements:
                    args = [
                        p[1]
                        if p[0] == "lit"
                        else path_id
                        if p[0] == "path"
                        else results[p[1]][0][p[2]]
                        for p in params
                    ]
                    results.append(await conn.fetch(sql, *args))
            if s.kind.endswith("detail") and not results[0]:
                return Response(status_code=404)
            try:
                return _dumps(getattr(shaper, s.kind)(s, results))
            except Exception as exc:  # the service's SQL changed shape: say so, in the check
                return Response(f"reference cannot shape these rows: {exc!r}", status_code=500)

        return handle

    paths = sorted({s.path for s in spec.scenarios})
    routes = [Route(p, handler(p)) for p in paths]
    routes.append(Route("/readyz", lambda _r: Response("ok")))
    return Starlette(routes=routes, lifespan=lifespan)


def _load() -> Starlette:
    with open(os.environ["BENCH_REF_SPEC"], "rb") as f:
        return build_app(pickle.load(f))


if "BENCH_REF_SPEC" in os.environ:
    app = _load()

if __name__ == "__main__":
    import uvicorn

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(
        "bench.reference:app",
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
