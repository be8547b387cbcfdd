"""The error catalogue (app/core/problem_codes.py) against the code base: every problem `code`
the service can answer is catalogued with its status and titles, no entry is dead, and every
problem `type` (`/problems/{code}`) resolves on the service."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from app.core import errors
from app.core.problem_codes import PROBLEM_CODES, PROBLEM_CODES_BY_CODE

APP = Path(__file__).resolve().parents[1] / "app"

# Codes catalogued ahead of the work that raises them: listed here, they are not reported as dead
# entries. Remove a code from here once it is raised in app/ (the test says when).
PENDING: set[str] = set()

_CODE = r"[a-z][a-z0-9_]*"
# `code="..."` keyword arguments and `code: str = "..."` defaults, wherever they are.
_KEYWORD = re.compile(rf"""\bcode\s*(?::\s*str\s*)?=\s*\\?["']({_CODE})\\?["']""")
# `Refusal(403, "action_forbidden", ...)` (app/services/lifecycle.py) and
# `send_problem(scope, send, 413, "payload_too_large", ...)` (app/core/middleware.py).
_REFUSAL = re.compile(rf"""Refusal\(\s*(\d{{3}}),\s*["']({_CODE})["']""")
_SEND_PROBLEM = re.compile(rf"""send_problem\(\s*scope,\s*send,\s*(\d{{3}}),\s*["']({_CODE})["']""")
# `code, zh, en = "malformed_body", ...` and the `("http_error", ...)` fallback of the HTTP handler.
_TUPLE = re.compile(rf"""\bcode\s*,[^=\n]*=\s*\(?\s*["']({_CODE})["']""")
_FALLBACK = re.compile(rf"""_HTTP_TITLES\.get\([^,]+,\s*\(\s*["']({_CODE})["']""")
# `"code": "request_timeout"` in a hand-written body (the 408 of app/server.py).
_BODY_CODE = re.compile(rf"""["']code["']\s*:\s*["']({_CODE})["']""")


def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(APP.parent)): p.read_text(encoding="utf-8") for p in APP.rglob("*.py")
    }


def _raised() -> dict[str, tuple[int | None, str]]:
    """code -> (status if the raising site states it, where it was found)."""
    found: dict[str, tuple[int | None, str]] = {}
    for path, text in _sources().items():
        if path == "app/core/problem_codes.py":
            continue
        for m in _KEYWORD.finditer(text):
            found.setdefault(m[1], (None, path))
        for m in _REFUSAL.finditer(text):
            found[m[2]] = (int(m[1]), path)
        for m in _SEND_PROBLEM.finditer(text.replace("\n", " ")):
            found[m[2]] = (int(m[1]), path)
        for m in [*_TUPLE.finditer(text), *_FALLBACK.finditer(text), *_BODY_CODE.finditer(text)]:
            found.setdefault(m[1], (None, path))
        # Class-level `code = "..."` and `status, code, ... = 401, "unauthorized", ...` of the
        # AppError subclasses (and any other exception class carrying a code).
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.ClassDef):
                continue
            for stmt in node.body:
                if not isinstance(stmt, ast.Assign | ast.AnnAssign):
                    continue
                target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
                names = [
                    t.id if isinstance(t, ast.Name) else None
                    for t in (target.elts if isinstance(target, ast.Tuple) else [target])
                ]
                if "code" not in names or stmt.value is None:
                    continue
                values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
                if len(names) != len(values):
                    continue
                code = values[names.index("code")]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    status = values[names.index("status")] if "status" in names else None
                    known = status.value if isinstance(status, ast.Constant) else None
                    found[code.value] = (known, f"{path}: class {node.name}")
    # The table of statuses Starlette raises itself, and the handler's fallback.
    for status, (code, _, _) in errors._HTTP_TITLES.items():
        found[code] = (status, "app/core/errors.py: _HTTP_TITLES")
    return found


def test_every_code_raised_in_the_code_base_is_catalogued() -> None:
    raised = _raised()
    assert len(raised) >= 40, sorted(raised)  # the scan itself works
    missing = {
        code: where for code, (_, where) in raised.items() if code not in PROBLEM_CODES_BY_CODE
    }
    assert not missing, (
        "problem codes raised but missing from PROBLEM_CODES in app/core/problem_codes.py "
        "(add each with its status and Chinese and English title):\n"
        + "\n".join(f"  {code!r:32} raised in {where}" for code, where in sorted(missing.items()))
    )


def test_catalogued_statuses_match_the_raising_sites() -> None:
    wrong = [
        f"  {code!r}: {where} answers {status}, catalogue says {PROBLEM_CODES_BY_CODE[code].status}"
        for code, (status, where) in sorted(_raised().items())
        if status is not None
        and code in PROBLEM_CODES_BY_CODE
        and PROBLEM_CODES_BY_CODE[code].status != status
        and code != "http_error"
    ]
    assert not wrong, "status mismatches:\n" + "\n".join(wrong)


def test_no_catalogue_entry_is_dead() -> None:
    raised = set(_raised())
    dead = sorted(c.code for c in PROBLEM_CODES if c.code not in raised and c.code not in PENDING)
    assert not dead, f"catalogued but raised nowhere in app/ (remove, or add to PENDING): {dead}"
    landed = sorted(PENDING & raised)
    assert not landed, f"now raised in app/: remove from PENDING in this test: {landed}"


def test_entries_are_well_formed() -> None:
    for c in PROBLEM_CODES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", c.code), c
        assert 400 <= c.status <= 599, c
        assert c.title_zh.strip() and c.title_en.strip(), c
        assert re.search(r"[\u4e00-\u9fff]", c.title_zh), c


async def test_catalogs_list_every_problem_code(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/catalogs", headers=world.h("county_viewer"))
    assert r.status_code == 200
    assert r.json()["problem_codes"] == [c._asdict() for c in PROBLEM_CODES]


@pytest.mark.parametrize("code", [c.code for c in PROBLEM_CODES])
async def test_every_problem_type_resolves(client, code: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"/problems/{code}")
    assert r.status_code == 200, r.text
    entry = PROBLEM_CODES_BY_CODE[code]
    assert r.json() == {"type": f"/problems/{code}", **entry._asdict()}


async def test_problem_type_as_html_and_unknown_code(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/problems/not_found", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "资源不存在" in r.text and "Not found" in r.text
    r = await client.get("/problems/no_such_code")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found" and r.json()["type"] == "/problems/not_found"


async def test_a_real_problem_type_resolves_on_the_service(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/enterprises/nope", headers=world.h("county_viewer"))
    problem = r.json()
    assert r.status_code == 404 and problem["type"] == f"/problems/{problem['code']}"
    described = await client.get(urljoin(str(r.request.url), problem["type"]))
    assert described.status_code == 200
    assert described.json()["code"] == problem["code"]
    assert described.json()["status"] == problem["status"]
    r = await client.get("/api/v1/catalogs")  # no credentials: 401
    described = await client.get(urljoin(str(r.request.url), r.json()["type"]))
    assert described.status_code == 200 and described.json()["status"] == 401


def test_readme_lists_every_problem_code() -> None:
    readme = (APP.parent / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z0-9_]+)` \| (\d{3}) \| ([^|]+) \| ([^|]+) \|$", readme, re.M))
    expected = {(c.code, str(c.status), c.title_zh, c.title_en) for c in PROBLEM_CODES}
    missing = sorted(expected - {(a, b, c.strip(), d.strip()) for a, b, c, d in rows})
    assert not missing, f"README 'Error codes' table is missing or differs for: {missing}"
