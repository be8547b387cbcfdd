"""The transition body schema says exactly what the server accepts (issue 9, item 7): the plan
goes inside `plan` or its items beside `action` (flat), exactly one of the two forms."""

from __future__ import annotations

import itertools
import json
from typing import Any

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from app.schemas.hazards import Transition
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, act, register

FLAT_VALUES: dict[str, Any] = {
    "responsible_person": "李工",
    "measures": "更换破损护栏",
    "funds_yuan": 1200.5,
    "deadline": "2099-01-31",
    "contingency_plan": "高处坠落应急预案",
    "interim_measures": "设置警戒线",
    "equipment_out_of_service": True,
}
PLANS: dict[str, Any] = {"absent": None, "nested": GENERAL_PLAN, "null": None, "empty": {}}


@pytest.fixture(scope="module")
def schema_validator(app):  # type: ignore[no-untyped-def]
    """The transition body as the committed schema describes it, `$ref`s resolved in place."""
    spec = app.openapi()
    operation = spec["paths"]["/api/v1/hazards/{hazard_id}/transitions"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**body, "components": spec["components"]})


def _server_accepts(body: dict[str, Any]) -> bool:
    """What the server's body validation admits (the same model the route reads, from JSON)."""
    try:
        TypeAdapter(Transition).validate_json(json.dumps(body))
    except ValidationError:
        return False
    return True


def _bodies() -> list[dict[str, Any]]:
    out = []
    for plan, extra, bad in itertools.product(PLANS, (False, True), (False, True)):
        for n in range(len(FLAT_VALUES) + 1):
            for flat in itertools.combinations(FLAT_VALUES, n):
                body: dict[str, Any] = {"action": "plan", "note": "整改"}
                if plan != "absent":
                    body["plan"] = PLANS[plan]
                body.update({k: FLAT_VALUES[k] for k in flat})
                if extra:
                    body["foo"] = 1
                if bad:  # an item that breaks its own limits, in whichever form it is sent
                    if isinstance(body.get("plan"), dict):
                        body["plan"] = {**body["plan"], "measures": ""}
                    elif "measures" in body:
                        body["measures"] = ""
                out.append(body)
    return out


def test_the_schema_and_the_server_agree_on_every_plan_body(schema_validator) -> None:  # type: ignore[no-untyped-def]
    disagreements = [
        (body, valid)
        for body in _bodies()
        if (valid := schema_validator.is_valid(body)) != _server_accepts(body)
    ]
    assert disagreements == []
    # and the rule is what it says: either form alone passes, both or neither does not
    assert schema_validator.is_valid({"action": "plan", "plan": GENERAL_PLAN})
    assert schema_validator.is_valid({"action": "plan", **GENERAL_PLAN})
    assert not schema_validator.is_valid({"action": "plan"})
    assert not schema_validator.is_valid({"action": "plan", "plan": GENERAL_PLAN, "measures": "x"})
    assert not schema_validator.is_valid({"action": "plan", **GENERAL_PLAN, "foo": 1})
    # the other actions agree too
    bodies = [
        {"action": "fix_on_spot", "attachment_ids": ["a"]},
        {"action": "complete"},
        {"action": "reject", "reason": "不合格"},
        {"action": "reject"},
        {"action": "void", "reason": "误登", "measures": "x"},
        {"action": "extend", "deadline": "2099-01-01", "reason": "工期"},
        {"action": "supervise", "disclosed": True},
        {"action": "escalate", "note": "函告"},
        {"action": "escalate"},
        {"action": "nope"},
        {},
    ]
    for body in bodies:
        assert schema_validator.is_valid(body) == _server_accepts(body), body


async def test_a_body_valid_by_the_schema_is_accepted_and_others_are_not(  # type: ignore[no-untyped-def]
    client, world: World, schema_validator
) -> None:
    forms = [GENERAL_PLAN, {"plan": GENERAL_PLAN}, {"responsible_person": "李工", "plan": None}]
    for form in forms:  # flat, nested, and a null plan beside an item
        h = await register(client, world)
        body = {"action": "plan", **form}
        r = await act(client, world, "ent_a1_manager", h["id"], "plan", **form)
        assert schema_validator.is_valid(body) == (r.status_code == 200), (form, r.text)
        if r.status_code == 200:
            assert r.json()["status"] == "rectifying"
            assert r.json()["plan"]["measures"] == GENERAL_PLAN["measures"]


async def test_both_forms_or_neither_is_a_422_on_plan_saying_why(client, world: World) -> None:
    h = await register(client, world)
    en = world.h("ent_a1_manager", **{"Accept-Language": "en"})
    url = f"/api/v1/hazards/{h['id']}/transitions"
    both = await client.post(
        url, json={"action": "plan", "plan": GENERAL_PLAN, "measures": "x"}, headers=en
    )
    assert both.status_code == 422
    [error] = both.json()["errors"]
    assert error["field"] == "plan"
    assert "not both" in error["message"] and "measures" in error["message"]
    neither = await client.post(url, json={"action": "plan", "note": "稍后"}, headers=en)
    assert neither.status_code == 422
    [error] = neither.json()["errors"]
    assert error["field"] == "plan"
    assert "beside `action`" in error["message"]
    zh = await client.post(url, json={"action": "plan"}, headers=world.h("ent_a1_manager"))
    assert "缺少整改方案" in zh.json()["errors"][0]["message"]
    # unknown fields are still refused, in either form
    for body in (
        {"action": "plan", **GENERAL_PLAN, "owner": "x"},
        {"action": "plan", "plan": {**GENERAL_PLAN, "owner": "x"}},
    ):
        r = await client.post(url, json=body, headers=en)
        assert r.status_code == 422, body
    hazard = await client.get(f"/api/v1/hazards/{h['id']}", headers=en)
    assert hazard.json()["status"] == "registered"


async def test_values_the_schema_refuses_the_server_refuses_too(  # type: ignore[no-untyped-def]
    client, world: World, schema_validator
) -> None:
    """Where schema and server used to disagree: a bool given as text or a number, a sum with
    an exponent or three decimals, a text of spaces only."""
    h = await register(client, world)
    odd = [
        {**GENERAL_PLAN, "equipment_out_of_service": "yes"},
        {**GENERAL_PLAN, "equipment_out_of_service": 1},
        {**GENERAL_PLAN, "funds_yuan": "1e2"},
        {**GENERAL_PLAN, "funds_yuan": "abc"},
        {**GENERAL_PLAN, "funds_yuan": " 12"},
        {**GENERAL_PLAN, "measures": "   "},
    ]
    for items in odd:
        body = {"action": "plan", "plan": items}
        assert not schema_validator.is_valid(body), items
        r = await act(client, world, "ent_a1_manager", h["id"], "plan", plan=items)
        assert r.status_code == 422, (items, r.text)
    r = await act(
        client,
        world,
        "ent_a1_manager",
        h["id"],
        "plan",
        plan={**GENERAL_PLAN, "funds_yuan": "120.5"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["plan"]["funds_yuan"] == 120.5
