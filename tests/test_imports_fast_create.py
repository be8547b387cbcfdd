"""The short way to a new enterprise's columns (``imports.fast_create``) answers only what the
``EnterpriseCreate`` model answers: on any body it accepts, the model accepts it too and gives
the same columns; everything else is left to the model (and so gets the model's errors)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.core.credit_code import make_credit_code
from app.schemas.enterprises import EnterpriseCreate
from app.services.enterprises import column_values
from app.services.imports import fast_create

CODE = make_credit_code("91341302MA0000001")
VALID: dict[str, Any] = {
    "name": "宿州市示例机械有限公司",
    "credit_code": CODE,
    "region_code": "341302001001",
    "sector": "industry_trade",
    "enforcement_department_id": "0190d3f0-0000-7000-8000-000000000001",
    "address": "安徽省宿州市埇桥区1号",
    "scale": "small",
    "risk_color": "blue",
    "principal": {"name": "张建国", "phone": "13900000000"},
    "location": {"lat": 33.6, "lng": 117.0},
}

_odd_text = st.sampled_from(
    [
        "",
        " ",
        " a",
        "a ",
        "\u3000名",
        "名\t",
        "x" * 201,
        "x" * 301,
        "١٢٣",
        "A12",
        "a",
        "T1234",
        "U12",
    ]
)
_text = st.one_of(st.text(max_size=30), _odd_text)
_any = st.one_of(
    st.none(),
    _text,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


def _variant(field: str, value: Any) -> st.SearchStrategy[Any]:
    options: list[st.SearchStrategy[Any]] = [st.just(value), _any]
    if field == "credit_code":
        options += [st.just(CODE.lower()), st.just(CODE[:-1] + "0"), st.just(" " + CODE)]
    if field == "region_code":
        options += [st.just("34130200100１"), st.just("3413020010011"), st.just("341302001001\n")]
    if field in ("sector", "scale", "risk_color", "status", "standardization_grade"):
        options += [
            st.sampled_from(["operating", "closed", "level_1", "none", "red", "large", "Small"])
        ] * 3
    if field in ("principal", "actual_controller"):
        options += [
            st.fixed_dictionaries(
                {"name": _text},
                optional={"phone": st.one_of(st.none(), _text, st.just("+86-139000000"))},
            ),
            st.just({"name": "李四", "phone": "1390000000000000000000"}),
            st.just({"name": "李四"}),
            st.just({"name": "李四", "phone": "0557-3021234"}),
            st.just({"name": "李四", "phone": None, "email": "x"}),
        ]
    if field == "location":
        coordinate = st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(-200, 200)
        )
        options += [
            st.fixed_dictionaries({"lat": coordinate, "lng": coordinate}),
            st.just({"lat": 91.0, "lng": 0.0}),
            st.just({"lat": 0.0, "lng": -180.0}),
            st.just({"lat": 1.0, "lng": 2.0, "coordinate_system": "gcj02"}),
        ]
    if field == "industry_code":
        options += [st.sampled_from(["C", "C13", "1311", "Z1", "C13111", " C13"])]
    return st.one_of(*options)


_FIELDS = sorted(fast_create.KNOWN | {"extra"})


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field in _FIELDS:
        value = VALID.get(field)
        if draw(st.integers(0, 6)) == 0:  # one field in seven changed: many bodies stay valid
            value = draw(_variant(field, value))
        elif field not in VALID:
            continue
        if value is not None or draw(st.booleans()):
            body[field] = value
    return body


def _model_columns(body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return column_values(EnterpriseCreate.model_validate(body).model_dump())
    except ValidationError:
        return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=3000, deadline=None)
@given(bodies())
def test_what_the_short_way_accepts_the_model_accepts_with_the_same_columns(
    body: dict[str, Any],
) -> None:
    fast = fast_create.columns(body)
    if fast is None:
        return
    model = _model_columns(body)
    assert model is not None, body
    assert fast.keys() == model.keys()
    assert all(_same(fast[k], model[k]) for k in model), (fast, model)


def test_a_typical_row_takes_the_short_way_and_the_model_gives_the_same() -> None:
    for body in (
        VALID,
        {
            k: v
            for k, v in VALID.items()
            if k in ("name", "credit_code", "region_code", "sector", "enforcement_department_id")
        },
    ):
        fast = fast_create.columns(dict(body))
        assert fast is not None and fast == _model_columns(dict(body))


def test_the_short_way_knows_every_field_of_the_model() -> None:
    """A field added to EnterpriseCreate must be added to fast_create (or every body with it
    goes the long way, and its column would be missing from the short one's answer)."""
    assert set(EnterpriseCreate.model_fields) == fast_create.KNOWN
