"""Issue 9 items 3 and 4: enumeration filters take several values (repeated or comma-separated,
any of them), an unknown query parameter is a 422 on every route, and `sort` is an enumeration."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.hazard_helpers import register


async def ids(client, world: World, path: str, actor: str = "admin", **params: Any) -> set[str]:  # type: ignore[no-untyped-def]
    r = await client.get(path, params={"limit": 500, **params}, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


async def test_hazard_status_repeated_and_comma_give_the_union(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await register(client, world)
    await register(client, world, enterprise="ent_a2", level="major")
    await register(client, world, enterprise="ent_b1", actor="county_officer", source="assigned")
    path = "/api/v1/hazards"
    general = await ids(client, world, path, level="general")
    major = await ids(client, world, path, level="major")
    assert general and major and not general & major
    repeated = await ids(client, world, path, level=["general", "major"])
    comma = await ids(client, world, path, level="general,major")
    assert repeated == comma == general | major

    inspection = await ids(client, world, path, source="inspection")
    assigned = await ids(client, world, path, source="assigned")
    assert await ids(client, world, path, source="inspection,assigned") == inspection | assigned

    registered = await ids(client, world, path, status="registered")
    voided = await ids(client, world, path, status="voided")
    both = await ids(client, world, path, status=["registered", "voided"])
    assert both == registered | voided and registered


async def test_statistics_take_several_values_too(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await register(client, world)
    await register(client, world, enterprise="ent_a2", level="major")
    path = "/api/v1/statistics/hazards"
    totals = {}
    for level in ("general", "major", "general,major"):
        r = await client.get(path, params={"level": level}, headers=world.h("admin"))
        assert r.status_code == 200, r.text
        totals[level] = r.json()["totals"]["found"]
    assert totals["general,major"] == totals["general"] + totals["major"] == 2


async def test_enterprise_filters_take_several_values(client, world: World) -> None:  # type: ignore[no-untyped-def]
    path = "/api/v1/enterprises"
    red = await ids(client, world, path, risk_color="red")
    blue = await ids(client, world, path, risk_color="blue")
    assert red and blue and not red & blue
    assert await ids(client, world, path, risk_color=["red", "blue"]) == red | blue
    assert await ids(client, world, path, risk_color="red,blue") == red | blue
    assert await ids(client, world, path, status="operating,closed") == await ids(
        client, world, path
    )


async def test_users_role_and_org_unit_kind_take_several_values(client, world: World) -> None:  # type: ignore[no-untyped-def]
    officers = await ids(client, world, "/api/v1/users", role="officer")
    viewers = await ids(client, world, "/api/v1/users", role="viewer")
    assert await ids(client, world, "/api/v1/users", role="officer,viewer") == officers | viewers
    towns = await ids(client, world, "/api/v1/org-units", kind="town")
    bureaus = await ids(client, world, "/api/v1/org-units", kind="bureau")
    both = await ids(client, world, "/api/v1/org-units", kind=["town", "bureau"])
    assert both == towns | bureaus and towns and bureaus


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/hazards", {"status": "registered,rectifyng"}, "status"),
        ("/api/v1/hazards", {"level": ["general", "huge"]}, "level"),
        ("/api/v1/hazards", {"status": ""}, "status"),
        ("/api/v1/statistics/hazards", {"sector": "nope"}, "sector"),
        ("/api/v1/enterprises", {"risk_color": "red,purple"}, "risk_color"),
        ("/api/v1/users", {"role": "king"}, "role"),
        ("/api/v1/org-units", {"kind": "village"}, "kind"),
    ],
)
async def test_an_unknown_value_is_422_naming_the_parameter(  # type: ignore[no-untyped-def]
    client, world: World, path: str, params: dict[str, Any], field: str
) -> None:
    r = await client.get(path, params=params, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_an_unknown_parameter_is_422_everywhere(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    calls = [
        ("GET", "/api/v1/hazards", None),
        ("GET", f"/api/v1/hazards/{h['id']}", None),
        ("GET", f"/api/v1/enterprises/{world['ent_a1']}", None),
        ("GET", "/api/v1/statistics/hazards", None),
        ("GET", "/api/v1/me", None),
        ("GET", "/healthz", None),
        ("POST", f"/api/v1/hazards/{h['id']}/transitions", {"action": "void", "reason": "x"}),
    ]
    for method, path, body in calls:
        r = await client.request(
            method, path, params={"statuss": "x"}, json=body, headers=world.h("admin")
        )
        assert r.status_code == 422, (path, r.text)
        problem = r.json()
        assert problem["code"] == "unknown_parameter", (path, problem)
        assert [e["field"] for e in problem["errors"]] == ["statuss"]
    # nothing ran: the hazard is not voided
    r = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    assert r.json()["status"] == "registered"


async def test_a_repeated_single_valued_parameter_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/hazards", params={"q": ["a", "b"]}, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "repeated_parameter"
    assert [e["field"] for e in r.json()["errors"]] == ["q"]


LISTS = {
    "list_hazards": ("found_at", "deadline", "updated_at"),
    "list_enterprises": ("name", "credit_code", "created_at", "updated_at"),
    "list_users": ("username", "created_at"),
    "list_clients": ("name", "created_at"),
    "list_org_units": ("name", "created_at"),
    "list_reminders": ("created_at",),
    "list_notifications": ("created_at",),
}
DEFAULTS = {
    "list_hazards": "-found_at",
    "list_enterprises": "name",
    "list_users": "username",
    "list_clients": "name",
    "list_org_units": "name",
    "list_reminders": "-created_at",
    "list_notifications": "-created_at",
}


async def test_sort_is_an_enumeration_in_the_schema(app) -> None:  # type: ignore[no-untyped-def]
    operations = {
        op["operationId"]: op
        for item in app.openapi()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    for operation_id, keys in LISTS.items():
        params = {p["name"]: p for p in operations[operation_id]["parameters"]}
        schema = params["sort"]["schema"]
        assert set(schema["enum"]) == {v for k in keys for v in (k, f"-{k}")}, operation_id
        assert schema["default"] == DEFAULTS[operation_id]
    status = {p["name"]: p for p in operations["list_hazards"]["parameters"]}["status"]["schema"]
    array = next(s for s in status["anyOf"] if s.get("type") == "array")
    assert "rectifying" in array["items"]["enum"]


@pytest.mark.parametrize("path", ["/api/v1/hazards", "/api/v1/enterprises", "/api/v1/users"])
async def test_an_unknown_sort_is_422(client, world: World, path: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(path, params={"sort": "-password"}, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["sort"]
    r = await client.get(
        path,
        params={"sort": "-created_at" if path != "/api/v1/hazards" else "deadline"},
        headers=world.h("admin"),
    )
    assert r.status_code == 200, r.text
