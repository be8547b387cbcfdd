"""Issue 9, item 15: every operation is documented (a summary and a description of substance),
every create and each hazard transition action has request examples that the request model and
the service itself accept, and `info.version` is the package version, recorded in CHANGELOG.md."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.api import examples
from app.core import openapi as openapi_module
from app.core.clock import local_today
from app.core.openapi import EXTRA_SCHEMAS, package_version
from app.schemas.hazards import HazardAction
from app.services.hazards.workflow import TRANSITIONS
from tests.conftest import World
from tests.hazard_helpers import upload

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Every operation that creates something from a JSON body; each has examples. An upload's body
# is a file (multipart), which an example in the schema cannot carry.
CREATES = {
    "create_hazard",
    "create_enterprise",
    "create_org_unit",
    "create_user",
    "create_client",
    "create_accountability",
    # issue 12 (i12-check)
    "create_checklist",
    "create_major_hazard_installation",
}
ACTIONS = set(get_args(HazardAction))


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def json_examples(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    content = op.get("requestBody", {}).get("content", {})
    return {
        name: example
        for media in content.values()
        for name, example in media.get("examples", {}).items()
    }


def routes(app) -> dict[str, APIRoute]:  # type: ignore[no-untyped-def]
    """Every schema route by operationId, through included routers (FastAPI 0.165 wraps them)."""
    return {
        ctx.route.operation_id: ctx.route
        for ctx in iter_route_contexts(app.router.routes)
        if isinstance(ctx.route, APIRoute) and ctx.route.include_in_schema
        if ctx.route.operation_id
    }


@pytest.fixture(scope="module")
def schema(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.openapi()


# ---- summaries and descriptions -------------------------------------------------------------


def test_every_operation_has_a_summary_and_a_description_of_substance(
    schema: dict[str, Any], app
) -> None:  # type: ignore[no-untyped-def]
    by_id = routes(app)
    problems = []
    for path, method, op in operations(schema):
        name = f"{method.upper()} {path} ({op.get('operationId')})"
        summary = (op.get("summary") or "").strip()
        description = (op.get("description") or "").strip()
        route = by_id.get(op.get("operationId", ""))
        generated = route.name.replace("_", " ").title() if route else None
        if not summary:
            problems.append(f"{name}: no summary")
        elif summary == generated:
            problems.append(f"{name}: summary {summary!r} is FastAPI's default; write one")
        elif len(summary) > 80 or summary.endswith("."):
            problems.append(f"{name}: a summary is a short phrase, not {summary!r}")
        if len(description) < 40:
            problems.append(f"{name}: description missing or too short ({len(description)} chars)")
        elif description.rstrip(".").lower() == summary.lower():
            problems.append(f"{name}: description only repeats the summary")
    assert not problems, "\n".join(problems)


def test_the_documentation_pages_are_not_operations(schema: dict[str, Any]) -> None:
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json"} & set(schema["paths"])


def test_the_transition_table_in_the_description_covers_every_rule(
    schema: dict[str, Any],
) -> None:
    missing = {t.who.__name__ for t in TRANSITIONS.values()} - set(examples.WHO)
    missing |= {t.guard.__name__ for t in TRANSITIONS.values()} - set(examples.GUARDS)
    assert not missing, f"describe these workflow rules in app/api/examples.py: {missing}"
    description = schema["paths"]["/api/v1/hazards/{hazard_id}/transitions"]["post"]["description"]
    for action in TRANSITIONS:
        assert f"| `{action}` |" in description


# ---- examples -------------------------------------------------------------------------------


def test_every_create_and_each_transition_action_has_examples(schema: dict[str, Any]) -> None:
    by_id = {op.get("operationId"): op for _, _, op in operations(schema)}
    for operation_id in sorted(CREATES):
        found = json_examples(by_id[operation_id])
        assert found, f"{operation_id} has no request example"
        for name, example in found.items():
            assert example.get("summary"), f"{operation_id}: example {name} has no summary"
    transition = json_examples(by_id["transition_hazard"])
    assert {e["value"]["action"] for e in transition.values()} == ACTIONS == set(TRANSITIONS)
    assert all(e.get("summary") for e in transition.values())


def test_every_example_in_the_schema_validates_against_its_request_model(
    schema: dict[str, Any], app
) -> None:  # type: ignore[no-untyped-def]
    """Bodies FastAPI parses are validated as it validates them (the route's body field);
    bodies an operation reads by hand (declared through ``openapi_extra``) by their model."""
    by_id = routes(app)
    extra = {model.__name__: model for model in EXTRA_SCHEMAS}
    checked = 0
    problems = []
    for path, method, op in operations(schema):
        content = op.get("requestBody", {}).get("content", {})
        for media_type, media in content.items():
            for name, example in media.get("examples", {}).items():
                where = f"{method.upper()} {path} {media_type} example {name!r}"
                route = by_id[op["operationId"]]
                if route.body_field is not None:
                    _, errors = route.body_field.validate(example["value"], {}, loc=("body",))
                else:
                    ref = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                    model = extra.get(ref)
                    if model is None:
                        problems.append(f"{where}: no request model to check it against")
                        continue
                    try:
                        model.model_validate(example["value"])
                        errors = []
                    except ValueError as exc:
                        errors = [str(exc)]
                if errors:
                    problems.append(f"{where}: {errors}")
                checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 20


# ---- the examples, sent to the service ------------------------------------------------------

PLACEHOLDERS = {
    examples.COUNTY_ID: "county",
    examples.TOWN_ID: "town_a",
    examples.BUREAU_ID: "bureau_e",
    examples.ENTERPRISE_ID: "ent_a1",
    examples.SUPERVISOR_ID: "town_a_officer",
}


async def filled(client, world: World, actor: str, value: Any) -> Any:  # type: ignore[no-untyped-def]
    """The example with its placeholder ids replaced by the world's, and each attachment
    placeholder by a fresh upload of the actor (evidence is the caller's own upload)."""
    text = json.dumps(value, ensure_ascii=False)
    for placeholder, key in PLACEHOLDERS.items():
        text = text.replace(placeholder, world[key])
    for placeholder in examples.ATTACHMENT_IDS:
        if placeholder in text:
            text = text.replace(placeholder, await upload(client, world, actor))
    return json.loads(text)


async def send(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, method: str, url: str, example: dict[str, Any], status: int
) -> dict[str, Any]:
    body = await filled(client, world, actor, example["value"])
    r = await client.request(method, url, json=body, headers=world.h(actor))
    assert r.status_code == status, f"{example['summary']}: {r.status_code} {r.text}"
    return r.json()


async def test_the_create_and_update_examples_are_accepted_by_the_service(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    for example in examples.ORG_UNIT_CREATE.values():
        await send(client, world, "admin", "POST", "/api/v1/org-units", example, 201)
    for example in examples.ENTERPRISE_CREATE.values():
        await send(client, world, "admin", "POST", "/api/v1/enterprises", example, 201)
    users = [
        await send(client, world, "admin", "POST", "/api/v1/users", example, 201)
        for example in examples.USER_CREATE.values()
    ]
    clients = [
        await send(client, world, "admin", "POST", "/api/v1/clients", example, 201)
        for example in examples.CLIENT_CREATE.values()
    ]

    ent = f"/api/v1/enterprises/{world['ent_a1']}"
    await send(
        client, world, "town_a_officer", "PATCH", ent, examples.ENTERPRISE_UPDATE["risk"], 200
    )
    contacts = examples.ENTERPRISE_UPDATE["contacts"]
    await send(client, world, "ent_a1_manager", "PATCH", ent, contacts, 200)
    unit = f"/api/v1/org-units/{world['bureau_e']}"
    for example in examples.ORG_UNIT_UPDATE.values():
        await send(client, world, "admin", "PATCH", unit, example, 200)
    for example in examples.USER_UPDATE.values():
        await send(client, world, "admin", "PATCH", f"/api/v1/users/{users[0]['id']}", example, 200)
    machine = f"/api/v1/clients/{clients[0]['id']}"
    for example in examples.CLIENT_UPDATE.values():
        await send(client, world, "admin", "PATCH", machine, example, 200)
    for example in examples.CLIENT_ROTATION.values():
        await send(client, world, "admin", "POST", f"{machine}/rotate-secret", example, 200)


async def test_the_hazard_examples_take_hazards_through_their_lifecycle(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    """Each registration example and each transition example, in an order the workflow allows,
    by the actors it is written for: the enterprise's staff, the town's officer."""
    created = examples.HAZARD_CREATE
    actions = examples.TRANSITION_EXAMPLES
    gov, staff = "town_a_officer", "ent_a1_staff"

    async def register(actor: str, example: dict[str, Any]) -> str:
        hazard = await send(client, world, actor, "POST", "/api/v1/hazards", example, 201)
        return hazard["id"]

    async def act(actor: str, hazard_id: str, name: str) -> dict[str, Any]:
        url = f"/api/v1/hazards/{hazard_id}/transitions"
        return await send(client, world, actor, "POST", url, actions[name], 200)

    major = await register(gov, created["major"])
    await act(gov, major, "supervise")
    await act(staff, major, "plan_major")
    await act(gov, major, "extend")
    await act(staff, major, "complete")
    await act(gov, major, "unsupervise")
    assert (await act(gov, major, "accept"))["status"] == "closed"

    found_by_enterprise = await register(staff, created["self_inspection"])
    assert (await act(staff, found_by_enterprise, "fix_on_spot"))["status"] == "closed"

    general = await register(gov, created["inspection"])
    await act(staff, general, "plan")
    await act(staff, general, "complete")
    await act(gov, general, "reject")
    assert (await act(gov, general, "reclassify"))["level"] == "major"
    assert (await act(gov, general, "void"))["status"] == "voided"

    # Escalation needs an overdue hazard: the inspection example, found and due in the past.
    today = local_today(world.settings.timezone)
    overdue = {
        **created["inspection"],
        "value": {
            **created["inspection"]["value"],
            "found_at": f"{today - timedelta(days=60)}T09:30:00+08:00",
            "deadline": str(today - timedelta(days=30)),
        },
    }
    late = await register(gov, overdue)
    assert (await act(gov, late, "escalate"))["escalation"] == "notice_letter"


# ---- version ----------------------------------------------------------------------------------


def test_info_version_is_the_package_version(schema: dict[str, Any]) -> None:
    assert PYPROJECT["project"]["name"] == openapi_module.DISTRIBUTION
    installed = metadata.version(openapi_module.DISTRIBUTION)
    assert schema["info"]["version"] == installed
    assert installed == PYPROJECT["project"]["version"], (
        "the installed metadata is stale: run `make install` (or pip install -e .)"
    )


def test_the_changelog_has_a_section_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    version = re.escape(package_version())
    assert re.search(rf"^## \[{version}\] — \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M), (
        f"CHANGELOG.md has no section '## [{package_version()}] — YYYY-MM-DD'"
    )


def test_the_version_comes_from_pyproject_when_the_package_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(openapi_module.metadata, "version", not_installed)
    assert package_version() == PYPROJECT["project"]["version"]
