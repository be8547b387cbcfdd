"""Dates and date-times are strict and bounded everywhere: ISO strings only, years 1900–2999,
date-times with an offset; anything else is 422 naming the field, never a 500 and never a
silently reinterpreted value (``0.5`` as a Unix time)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.clock import local_date, start_of_local_day
from app.core.dates import MAX_DAY, MIN_DAY, parse_date, parse_date_or_datetime, parse_datetime
from tests.conftest import World
from tests.hazard_helpers import GENERAL_PLAN, act, register

LISTS = ("/api/v1/hazards", "/api/v1/statistics/hazards")

# What the attack report sent, and its neighbours.
BAD_FILTERS = [
    ("found_at_to", "9999-12-31"),
    ("found_at_from", "0001-01-01"),
    ("found_at_from", "0001-01-01T00:00:00+14:00"),
    ("found_at_to", "9999-12-31T23:59:59-12:00"),
    ("found_at_to", "0.5"),  # not a Unix time
    ("found_at_from", "1700000000"),
    ("found_at_from", "1899-12-31"),
    ("found_at_to", "3000-01-01"),
    ("found_at_to", "2025-02-30"),
    ("found_at_to", "2025-1-5"),
    ("found_at_to", "20250105"),
    ("found_at_to", "2025-W01-1"),
    ("found_at_from", "2025-01-01T08:00:00"),  # naive
    ("found_at_from", "2025-01-01T08:00+08:00"),  # no seconds
    ("found_at_from", "2025-01-01T24:00:00Z"),
    ("found_at_from", "2025-01-01T08:00:00+24:00"),
    ("found_at_from", "２０２５-01-01"),  # full-width digits
    ("deadline_from", "0001-01-01"),
    ("deadline_to", "9999-12-31"),
    ("deadline_to", "0.5"),
    ("deadline_to", "2025-01-01T00:00:00Z"),  # a deadline is a day
]
GOOD_FILTERS = [
    ("found_at_from", "1900-01-01"),
    ("found_at_to", "2999-12-31"),
    ("found_at_from", "1900-01-01T00:00:00Z"),
    ("found_at_to", "2999-12-31T23:59:59Z"),
    ("found_at_to", "2999-12-31T23:59:59.999999999+00:00"),
    ("found_at_from", "2025-01-01t08:00:00z"),
    ("deadline_from", "1900-01-01"),
    ("deadline_to", "2999-12-31"),
]


@pytest.mark.parametrize("path", LISTS)
async def test_extreme_and_malformed_filter_dates_are_422_naming_the_parameter(  # type: ignore[no-untyped-def]
    client, world: World, path: str
) -> None:
    await register(client, world)
    wrong = []
    for name, value in BAD_FILTERS:
        r = await client.get(path, params={name: value}, headers=world.h("county_officer"))
        fields = [e["field"] for e in r.json().get("errors", [])]
        if r.status_code != 422 or fields != [name]:
            wrong.append(f"{name}={value}: {r.status_code} {fields}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", LISTS)
async def test_dates_at_the_bounds_are_accepted(client, world: World, path: str) -> None:  # type: ignore[no-untyped-def]
    await register(client, world)
    for name, value in GOOD_FILTERS:
        r = await client.get(path, params={name: value}, headers=world.h("county_officer"))
        assert r.status_code == 200, (name, value, r.text)
    r = await client.get(
        path,
        params={"found_at_from": "1900-01-01", "found_at_to": "2999-12-31"},
        headers=world.h("county_officer"),
    )
    if path == LISTS[0]:
        assert len(r.json()["items"]) == 1
    else:
        assert r.json()["totals"]["found"] == 1


async def test_the_error_names_the_field_and_explains_in_both_languages(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/hazards",
        params={"found_at_to": "9999-12-31"},
        headers=world.h("county_officer", **{"Accept-Language": "en"}),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    [error] = r.json()["errors"]
    assert error["field"] == "found_at_to"
    assert "1900-01-01" in error["message"] and "2999-12-31" in error["message"]
    zh = await client.get(
        "/api/v1/hazards", params={"found_at_to": "0.5"}, headers=world.h("county_officer")
    )
    assert "日期" in zh.json()["errors"][0]["message"]


async def test_reminders_filter_by_a_strict_day(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for value in ("9999-12-31", "0001-01-01", "0.5", "1700000000", "2025-01-01T00:00:00Z"):
        r = await client.get(
            "/api/v1/reminders", params={"on_date": value}, headers=world.h("county_officer")
        )
        assert r.status_code == 422, value
        assert [e["field"] for e in r.json()["errors"]] == ["on_date"]
    r = await client.get(
        "/api/v1/reminders", params={"on_date": "2999-12-31"}, headers=world.h("county_officer")
    )
    assert r.status_code == 200


def _body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "enterprise_id": world["ent_a1"],
        "title": "配电柜前堆放杂物",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
        **fields,
    }


BAD_BODIES = [
    ({"found_at": "0001-01-01T00:00:00+14:00"}, "found_at"),
    ({"found_at": "1899-12-31T23:59:59Z"}, "found_at"),
    ({"found_at": 1700000000}, "found_at"),  # a JSON number is not a time
    ({"found_at": "1700000000"}, "found_at"),
    ({"found_at": "0.5"}, "found_at"),
    ({"found_at": "2025-03-01T08:00:00"}, "found_at"),  # naive: which clock?
    ({"found_at": "2025-03-01"}, "found_at"),
    ({"deadline": "9999-12-31"}, "deadline"),
    ({"deadline": "0001-01-01"}, "deadline"),
    ({"deadline": 20990101}, "deadline"),
    ({"deadline": "2099-01-01T00:00:00Z"}, "deadline"),
    ({"deadline": "3000-01-01"}, "deadline"),
]


async def test_extreme_dates_in_a_registration_are_422_naming_the_field(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    wrong = []
    for fields, field in BAD_BODIES:
        r = await client.post(
            "/api/v1/hazards", json=_body(world, **fields), headers=world.h("town_a_officer")
        )
        named = [e["field"] for e in r.json().get("errors", [])]
        if r.status_code != 422 or named != [field]:
            wrong.append(f"{fields}: {r.status_code} {named}")
    assert not wrong, "\n".join(wrong)
    r = await client.post(
        "/api/v1/hazards",
        json=_body(
            world,
            found_at="1900-01-01T00:00:00Z",
            deadline="2999-12-31",
            deadline_reason="历史遗留隐患，整改周期长",
        ),
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["stock"] is True and r.json()["deadline"] == "2999-12-31"


async def test_extreme_dates_in_a_plan_and_an_extension_are_422_naming_the_field(  # type: ignore[no-untyped-def]
    client, world: World
) -> None:
    h = await register(client, world)
    for value in ("9999-12-31", "0001-01-01", 20990101, "0.5"):
        r = await act(
            client,
            world,
            "town_a_officer",
            h["id"],
            "plan",
            plan={**GENERAL_PLAN, "deadline": value},
        )
        assert r.status_code == 422, value
        assert [e["field"] for e in r.json()["errors"]] == ["plan.deadline"], value
        for actor in ("town_a_officer", "ent_a1_staff"):
            r = await act(client, world, actor, h["id"], "extend", deadline=value, reason="延期")
            assert r.status_code == 422, (actor, value)
            assert [e["field"] for e in r.json()["errors"]] == ["deadline"], (actor, value)
    got = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    assert got.json()["deadline"] == "2099-12-31"


def _cursor(key: str, value: Any, row_id: str = "x") -> str:
    raw = json.dumps([key, value, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_forged_cursor_with_an_extreme_date_is_422(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await register(client, world)
    for sort, value in [
        ("-found_at", "0001-01-01T00:00:00+14:00"),
        ("-found_at", "9999-12-31T23:59:59-12:00"),
        ("-found_at", "2025-01-01T08:00:00"),
        ("found_at", 0.5),
        ("deadline", "9999-12-31"),
        ("-deadline", "0001-01-01"),
    ]:
        r = await client.get(
            "/api/v1/hazards",
            params={"sort": sort, "cursor": _cursor(sort, value)},
            headers=world.h("county_officer"),
        )
        assert r.status_code == 422, (sort, value, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["cursor"]


# ---- properties -----------------------------------------------------------------------------

# Biased to the edges (years 0001, 9999, the bounds, a valid month and day) as well as noise.
_digits = st.one_of(
    st.sampled_from(["0001", "0000", "1899", "1900", "2025", "2999", "3000", "9999"]),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
)
_two = st.one_of(
    st.sampled_from(["01", "12", "28", "31", "00", "59"]),
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
)
_offset = st.one_of(
    st.sampled_from(["Z", "z", "", "+00:00", "-00:00"]),
    st.tuples(st.sampled_from("+-"), _two, _two).map(lambda t: f"{t[0]}{t[1]}:{t[2]}"),
)
date_ish = st.one_of(
    st.tuples(_digits, _two, _two).map(lambda t: "-".join(t)),
    st.tuples(_digits, _two, _two, _two, _two, _two, _offset).map(
        lambda t: f"{t[0]}-{t[1]}-{t[2]}T{t[3]}:{t[4]}:{t[5]}{t[6]}"
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789-:+.TZtz ", max_size=40),
    st.text(max_size=40),
)


def _arithmetic(value: date | datetime) -> None:
    """What the rules do with a date: none of it may overflow for an accepted value."""
    tz = "Asia/Shanghai"
    if isinstance(value, datetime):
        value.astimezone(UTC)
        day = local_date(value, tz)
    else:
        day = value
        start_of_local_day(day, tz)
    start_of_local_day(day + timedelta(days=1), tz)
    day + timedelta(days=3650)
    day - timedelta(days=1)


@given(date_ish)
def test_the_parsers_accept_only_bounded_values_and_fail_only_with_value_error(text: str) -> None:
    for parse in (parse_date, parse_datetime, parse_date_or_datetime):
        try:
            value = parse(text)
        except ValueError:
            continue
        _arithmetic(value)
        day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
        assert MIN_DAY <= day <= MAX_DAY, (parse.__name__, text)
        if isinstance(value, datetime):
            assert value.utcoffset() is not None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=date_ish)
async def test_no_date_ish_string_makes_a_server_error(client, world: World, value: str) -> None:  # type: ignore[no-untyped-def]
    """Through the real endpoints: the list, the statistics, the reminders, a registration, a plan
    and an extension. Each answers 2xx or 422, nothing else."""
    headers = world.h("town_a_officer")
    if "hazard" not in world.ids:
        world.ids["hazard"] = (await register(client, world))["id"]
    hid = world["hazard"]
    for name in ("found_at_from", "found_at_to", "deadline_from", "deadline_to"):
        for path in LISTS:
            r = await client.get(path, params={name: value}, headers=headers)
            assert r.status_code in (200, 422), (path, name, value, r.text)
    r = await client.get("/api/v1/reminders", params={"on_date": value}, headers=headers)
    assert r.status_code in (200, 422), (value, r.text)
    for fields in ({"found_at": value}, {"deadline": value, "deadline_reason": "工程量大"}):
        r = await client.post("/api/v1/hazards", json=_body(world, **fields), headers=headers)
        assert r.status_code in (201, 422), (fields, r.text)
    plan = {**GENERAL_PLAN, "deadline": value}
    r = await act(client, world, "town_a_officer", hid, "plan", plan=plan)
    assert r.status_code in (200, 409, 422), (value, r.text)
    r = await act(client, world, "ent_a1_staff", hid, "extend", deadline=value, reason="延期")
    assert r.status_code in (200, 409, 422), (value, r.text)
