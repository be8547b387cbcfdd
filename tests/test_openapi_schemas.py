"""Response schemas a generated client can use without casts or `!` (issue 9, item 6): every
field the server always sends is required, and every enumerated value is an enum with exactly the
values of the filter or input that takes it."""

from __future__ import annotations

from typing import Any

import pytest

# Properties of response schemas that are truly sometimes absent. Keep each one explained.
SOMETIMES_ABSENT = {
    # API.md: "include_total=true adds total"; without it the key is left out.
    ("AccountabilityPage", "total"),
    ("ClientPage", "total"),
    ("EnterprisePage", "total"),
    ("HazardPage", "total"),
    ("JobPage", "total"),
    ("NotificationPage", "total"),
    ("OrgUnitPage", "total"),
    ("PublicMajorHazardPage", "total"),
    ("ReminderPage", "total"),
    ("UserPage", "total"),
    # issue 12, enforcement figures: the self-inspection compliance page
    ("SelfInspectionCompliance", "total"),
    # The token answer (app/schemas/auth.py): no refresh token for client credentials.
    ("TokenOut", "refresh_token"),
    ("TokenOut", "refresh_expires_in"),
}


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            out.add(node["$ref"].rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def _response_schemas(schema: dict[str, Any]) -> set[str]:
    """Every component reachable from a 2xx response body."""
    components = schema["components"]["schemas"]
    todo: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    _refs(response.get("content", {}), todo)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            _refs(components[name], todo)
    return seen


@pytest.fixture(scope="module")
def schema(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.openapi()


def _components(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["components"]["schemas"]


def test_every_field_of_a_response_schema_is_required(schema) -> None:  # type: ignore[no-untyped-def]
    missing = []
    for name in sorted(_response_schemas(schema)):
        component = _components(schema)[name]
        required = set(component.get("required", []))
        missing += [
            (name, prop)
            for prop in component.get("properties", {})
            if prop not in required
            and (name, prop) not in SOMETIMES_ABSENT
            and not (name.endswith("Page") and prop == "total")  # include_total=true adds it
        ]
    assert missing == []


def test_the_plan_and_the_references_of_a_hazard_are_required(schema) -> None:  # type: ignore[no-untyped-def]
    components = _components(schema)
    hazard = components["HazardOut"]["properties"]
    plan_ref = next(s["$ref"] for s in hazard["plan"]["anyOf"] if "$ref" in s)
    plan = components[plan_ref.rsplit("/", 1)[-1]]
    assert set(plan["required"]) == {
        "responsible_person",
        "measures",
        "funds_yuan",
        "deadline",
        "contingency_plan",
        "interim_measures",
        "equipment_out_of_service",
    }
    # ... while a request's plan keeps every item optional (the level decides which are needed).
    assert "required" not in components["Plan-Input"]
    assert set(components["HazardEventList"]["required"]) == {"items", "next_cursor"}
    assert "previous_secret_expires_at" in components["ClientOut"]["required"]
    row = components["HazardStatsRow"]
    assert {"town", "sector", "level", "source", "month"} <= set(row["required"])


def _values(node: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """The enumeration a property (or a query parameter's schema) takes, through ``$ref``,
    ``anyOf`` with null, and arrays."""
    if "$ref" in node:
        return _values(components[node["$ref"].rsplit("/", 1)[-1]], components)
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    if node.get("type") == "array":
        return _values(node["items"], components)
    for option in node.get("anyOf", []):
        if option.get("type") != "null":
            return _values(option, components)
    raise AssertionError(f"not an enumeration: {node}")


def _leaf_type(node: dict[str, Any]) -> str | None:
    """The type of a value, or of an array's items, past ``anyOf`` with null (``None`` for a
    reference: objects such as ``CatalogsOut.sectors`` are not enumerations)."""
    if node.get("type") == "array":
        return _leaf_type(node["items"])
    for option in node.get("anyOf", []):
        if option.get("type") != "null":
            return _leaf_type(option)
    return node.get("type")


def _property(schema: dict[str, Any], component: str, prop: str) -> list[str]:
    components = _components(schema)
    return _values(components[component]["properties"][prop], components)


def _parameter(schema: dict[str, Any], operation_id: str, name: str) -> list[str]:
    for operations in schema["paths"].values():
        for operation in operations.values():
            if operation.get("operationId") == operation_id:
                [param] = [p for p in operation["parameters"] if p["name"] == name]
                return _values(param["schema"], _components(schema))
    raise AssertionError(operation_id)


def _request_field(schema: dict[str, Any], component: str, prop: str) -> list[str]:
    return _property(schema, component, prop)


# (response schema, property) -> where the same enumeration is taken as input.
SAME_AS_FILTER = {
    ("HazardSummary", "sector"): ("list_hazards", "sector"),
    ("HazardOut", "sector"): ("list_hazards", "sector"),
    ("HazardSummary", "status"): ("list_hazards", "status"),
    ("HazardSummary", "level"): ("list_hazards", "level"),
    ("HazardSummary", "source"): ("list_hazards", "source"),
    ("HazardSummary", "category"): ("list_hazards", "category"),
    ("HazardSummary", "escalation"): ("list_hazards", "escalation"),
    ("EnterpriseOut", "sector"): ("list_enterprises", "sector"),
    ("EnterpriseOut", "risk_color"): ("list_enterprises", "risk_color"),
    ("EnterpriseOut", "status"): ("list_enterprises", "status"),
    ("OrgUnitOut", "kind"): ("list_org_units", "kind"),
    ("UserOut", "role"): ("list_users", "role"),
    ("HazardStatsRow", "sector"): ("hazard_statistics", "sector"),
    ("HazardStatsRow", "level"): ("hazard_statistics", "level"),
    ("HazardStatsRow", "source"): ("hazard_statistics", "source"),
    ("HazardStats", "group_by"): ("hazard_statistics", "group_by"),
    ("EnterpriseStats", "group_by"): ("enterprise_statistics", "group_by"),
    ("EnterpriseStatsRow", "sector"): ("enterprise_statistics", "sector"),
    ("EnterpriseStatsRow", "risk_color"): ("list_enterprises", "risk_color"),
    ("EnterpriseStatsRow", "status"): ("list_enterprises", "status"),
    ("BureauEntry", "sectors"): ("list_hazards", "sector"),
    ("AccountabilitySummary", "rung"): ("list_accountability", "rung"),
    ("AccountabilityOut", "rung"): ("list_accountability", "rung"),
    ("TargetOut", "type"): ("list_accountability", "target_type"),
    ("UnitFigures", "kind"): ("unit_statistics", "kind"),
    ("ReminderOut", "kind"): ("list_reminders", "kind"),
    ("NotificationOut", "kind"): ("list_notifications", "kind"),
}
SAME_AS_INPUT = [
    (("EnterpriseOut", "scale"), ("EnterpriseCreate", "scale")),
    (("EnterpriseOut", "standardization_grade"), ("EnterpriseCreate", "standardization_grade")),
    (("EnterpriseStatsRow", "scale"), ("EnterpriseCreate", "scale")),
    (
        ("EnterpriseStatsRow", "standardization_grade"),
        ("EnterpriseCreate", "standardization_grade"),
    ),
    (("OrgUnitOut", "sectors"), ("OrgUnitCreate", "sectors")),
    (("ClientOut", "permissions"), ("ClientCreate", "permissions")),
    (("ClientOut", "permissions"), ("ClientUpdate", "permissions")),
]


def test_an_enumerated_response_field_takes_the_values_of_its_filter_or_input(schema) -> None:  # type: ignore[no-untyped-def]
    def values(getter, where):  # type: ignore[no-untyped-def]
        try:
            return getter(schema, *where)
        except AssertionError as exc:  # a plain string: no enumeration at all
            return str(exc)

    differ = [
        (where, source)
        for where, source in SAME_AS_FILTER.items()
        if values(_property, where) != values(_parameter, source)
    ]
    differ += [
        (where, source)
        for where, source in SAME_AS_INPUT
        if values(_property, where) != values(_request_field, source)
    ]
    assert differ == []
    assert all(len(_property(schema, *where)) > 1 for where in SAME_AS_FILTER)


def test_client_permissions_are_the_grantable_ones(schema) -> None:  # type: ignore[no-untyped-def]
    from app.auth.permissions import CLIENT_GRANTABLE

    values = _property(schema, "ClientOut", "permissions")
    assert set(values) == {p.value for p in CLIENT_GRANTABLE}
    assert "users:write" not in values
    assert _request_field(schema, "ClientUpdate", "permissions") == values


async def test_enumerations_without_a_filter_are_the_catalogue_codes(schema, client, world) -> None:  # type: ignore[no-untyped-def]
    catalogs = (await client.get("/api/v1/catalogs", headers=world.h("admin"))).json()

    def codes(name: str) -> list[str]:
        return [e["code"] for e in catalogs[name]]

    assert _property(schema, "ReminderOut", "kind") == codes("reminder_kinds")
    assert codes("reminder_kinds") == ["deadline_warning", "overdue"]
    assert _property(schema, "NotificationOut", "kind") == codes("notification_kinds")
    assert codes("notification_kinds") == [
        "hazard_deadline_warning",
        "hazard_overdue",
        "task_list_issued",
        "task_assigned",
        "task_overdue",
        "task_report_returned",
        "hazard_supervised",
        "inspection_to_sign",
        "webhook_disabled",
    ]
    assert _property(schema, "HazardEventOut", "actor_kind") == codes("event_actor_kinds")
    assert sorted(_property(schema, "HazardEventOut", "action")) == sorted(
        codes("hazard_event_actions")
    )
    assert sorted(_property(schema, "HazardSummary", "sector")) == sorted(codes("sectors"))
    assert _property(schema, "EnterpriseOut", "scale") == codes("enterprise_scales")
    assert _property(schema, "AccountabilitySummary", "rung") == codes("accountability_rungs")
    assert _property(schema, "TargetOut", "type") == codes("accountability_target_types")
    assert _property(schema, "UnitFigures", "reasons") == codes("unit_flag_reasons")
    assert _property(schema, "AttachmentOut", "content_type") == [
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
    ]


def test_no_plain_string_in_a_response_is_an_enumeration_in_disguise(schema) -> None:  # type: ignore[no-untyped-def]
    """Fields named like enumerations carry an enum (free text and ids stay strings)."""
    enum_like = ("kind", "kinds", "sector", "sectors", "status", "role", "level", "source")
    enum_like += ("category", "scale", "risk_color", "standardization_grade", "actor_kind")
    enum_like += ("permissions", "action", "phase", "escalation", "group_by", "content_type")
    components = _components(schema)
    for name in _response_schemas(schema):
        if name in ("Health", "Readiness", "MeUnit", "MeOut"):  # not response models of ours
            continue
        for prop, node in components[name].get("properties", {}).items():
            if prop in enum_like and _leaf_type(node) == "string":
                assert _values(components[name]["properties"][prop], components), (name, prop)
