"""Error answers a client can act on (issue 9 item 9): malformed JSON is 400 `malformed_body`,
an unknown transition action names the valid ones, a bad `group_by` names the valid values (and
no query parameter answers with a regular expression)."""

from __future__ import annotations

import re

import pytest

from app.schemas.hazards import HazardAction
from tests.conftest import World
from tests.hazard_helpers import register

ACTIONS = list(HazardAction.__args__)  # type: ignore[attr-defined]
REGEX_CHARS = re.compile(r"[\^$|\\]")
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def problem(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    assert body["status"] == status
    return body


@pytest.mark.parametrize("content", [b'{"name": "x",}', b"{", b'{"name": "x" "y"}'])
async def test_malformed_json_on_a_post_is_400_malformed_body(
    client, world: World, content
) -> None:  # type: ignore[no-untyped-def]
    for lang in (EN, ZH):
        r = await client.post(
            "/api/v1/enterprises",
            content=content,
            headers=world.h("admin", **{"Content-Type": "application/json"}, **lang),
        )
        body = problem(r, 400, "malformed_body")
        assert "errors" not in body or not body["errors"]
        # the position of the fault is kept in the detail, not turned into a field like "[9]"
        assert re.search(r"\d", body["detail"]), body
        assert body["type"].endswith("malformed_body")


async def test_malformed_json_on_a_patch_is_400_malformed_body(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"/api/v1/enterprises/{world['ent_a1']}",
        content=b'{"name": ',
        headers=world.h("admin", **{"Content-Type": "application/json"}, **EN),
    )
    body = problem(r, 400, "malformed_body")
    assert "position" in body["detail"] or "line" in body["detail"], body


async def test_malformed_json_on_a_transition_is_400(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    r = await client.post(
        f"/api/v1/hazards/{h['id']}/transitions",
        content=b'{"action": "accept"',
        headers=world.h("county_officer", **{"Content-Type": "application/json"}),
    )
    problem(r, 400, "malformed_body")


async def test_a_wellformed_body_of_the_wrong_shape_stays_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for content in (b"[]", b"null", b'"text"'):
        r = await client.post(
            "/api/v1/enterprises",
            content=content,
            headers=world.h("admin", **{"Content-Type": "application/json"}),
        )
        problem(r, 422, "validation_error")


async def test_an_unknown_action_names_the_valid_ones(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    url = f"/api/v1/hazards/{h['id']}/transitions"
    for lang, word in ((EN, "Unknown action 'sign_off'"), (ZH, "未知的操作")):
        r = await client.post(
            url,
            json={"action": "sign_off"},
            headers=world.h("county_officer", **lang),
        )
        body = problem(r, 422, "validation_error")
        [error] = body["errors"]
        assert error["field"] == "action"
        assert word in error["message"], error
        for action in ACTIONS:
            assert action in error["message"], (action, error)
        assert "action" in body["detail"]


async def test_a_missing_action_names_the_valid_ones(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    r = await client.post(
        f"/api/v1/hazards/{h['id']}/transitions",
        json={"note": "x"},
        headers=world.h("county_officer", **EN),
    )
    [error] = problem(r, 422, "validation_error")["errors"]
    assert error["field"] == "action"
    assert all(action in error["message"] for action in ACTIONS), error


@pytest.mark.parametrize("value", ["county", "town,level,month", "town;level", ""])
async def test_a_bad_group_by_lists_the_valid_values(client, world: World, value: str) -> None:  # type: ignore[no-untyped-def]
    for lang in (EN, ZH):
        r = await client.get(
            "/api/v1/statistics/hazards",
            params={"group_by": value},
            headers=world.h("county_officer", **lang),
        )
        body = problem(r, 422, "validation_error")
        assert body["errors"], body
        for error in body["errors"]:
            assert error["field"].startswith("group_by"), error
            assert not REGEX_CHARS.search(error["message"]), error
        message = " ".join(e["message"] for e in body["errors"])
        if value != "town,level,month":
            for group in ("town", "sector", "level", "source", "month"):
                assert group in message, (group, message)


@pytest.mark.parametrize("value", ["town", "level,source", "town,town", "month,sector", "sector"])
async def test_valid_group_by_values_still_work(client, world: World, value: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/statistics/hazards",
        params={"group_by": value},
        headers=world.h("county_officer"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["group_by"] == list(dict.fromkeys(value.split(",")))


@pytest.mark.parametrize(
    "path", ["/api/v1/hazards?region_code=34x", "/api/v1/enterprises?region_code=1234567890123"]
)
async def test_a_bad_region_code_filter_does_not_answer_with_a_regex(
    client, world: World, path
) -> None:  # type: ignore[no-untyped-def]
    for lang in (EN, ZH):
        r = await client.get(path, headers=world.h("admin", **lang))
        [error] = problem(r, 422, "validation_error")["errors"]
        assert error["field"] == "region_code"
        assert not REGEX_CHARS.search(error["message"]), error
        assert "12" in error["message"], error


async def test_group_by_may_be_repeated_as_the_schema_documents_an_array(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/statistics/hazards?group_by=level&group_by=source",
        headers=world.h("county_officer"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["group_by"] == ["level", "source"]
    r = await client.get(
        "/api/v1/statistics/hazards?group_by=level,source&group_by=town",
        headers=world.h("county_officer", **EN),
    )
    [error] = problem(r, 422, "validation_error")["errors"]
    assert "At most two" in error["message"], error
