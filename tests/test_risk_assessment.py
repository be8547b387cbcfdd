"""Risk assessment methods and risk catalogues: pure, table-driven, no database, no app.

Thresholds (see app/services/risks/assessment.py for the full citations):
* LEC, Graham–Kinney (Kinney & Wiruth, NWC TP 5865, 1976) as used in Chinese 风险分级管控
  guidance (e.g. DB37/T 2882-2016 附录): D > 320 red, 160 < D ≤ 320 orange,
  70 < D ≤ 160 yellow, D ≤ 70 blue (一般危险 20 < D ≤ 70 and 稍有危险 D ≤ 20 merged).
* LS (R = L × S, 1–5 × 1–5): 20–25 red, 15–16 orange, 9–12 yellow, 1–8 blue.
* Risk matrix: AS/NZS 4360:2004 / HB 436 qualitative 5×5 matrix (the GB/T 27921-2011 technique).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from app.services.risks import catalog
from app.services.risks.assessment import (
    LEC_C,
    LEC_E,
    LEC_L,
    LEVELS,
    METHODS,
    Assessment,
    AssessmentInputError,
    assess,
    lec_grade,
    ls_grade,
)

# --- LEC -------------------------------------------------------------------------------------

# (l, e, c, D, level, grade_zh prefix). D = 160 and D = 320 are not products of the published
# values, so the closed upper edges of those bands are tested on lec_grade below.
LEC_CASES = [
    ("0.1", "0.5", "1", Decimal("0.05"), "blue", "稍有危险"),  # the smallest D
    ("0.2", "6", "15", Decimal("18"), "blue", "稍有危险"),  # just below 20
    ("0.1", "2", "100", Decimal("20"), "blue", "稍有危险"),  # D = 20: 稍有危险 (D ≤ 20)
    ("0.5", "6", "7", Decimal("21"), "blue", "一般危险"),  # just above 20: 一般危险, still blue
    ("3", "3", "7", Decimal("63"), "blue", "一般危险"),  # just below 70
    ("1", "10", "7", Decimal("70"), "blue", "一般危险"),  # D = 70 is blue (D ≤ 70)
    ("0.5", "10", "15", Decimal("75"), "yellow", "显著危险"),  # just above 70
    ("0.5", "3", "100", Decimal("150"), "yellow", "显著危险"),  # just below 160
    ("6", "2", "15", Decimal("180"), "orange", "高度危险"),  # just above 160
    ("0.5", "6", "100", Decimal("300"), "orange", "高度危险"),  # just below 320
    ("3", "3", "40", Decimal("360"), "red", "极其危险"),  # just above 320
    ("10", "10", "100", Decimal("10000"), "red", "极其危险"),  # the largest D
]


@pytest.mark.parametrize(("l_", "e", "c", "score", "level", "grade"), LEC_CASES)
def test_lec_levels(l_: str, e: str, c: str, score: Decimal, level: str, grade: str) -> None:
    a = assess("lec", {"l": l_, "e": e, "c": c})
    assert isinstance(a, Assessment)
    assert (a.method, a.score, a.level) == ("lec", score, level)
    assert isinstance(a.score, Decimal)
    assert a.grade_zh.startswith(grade)
    assert a.inputs == {"l": Decimal(l_), "e": Decimal(e), "c": Decimal(c)}


@pytest.mark.parametrize(
    ("d", "level"),
    [
        ("20", "blue"),
        ("20.01", "blue"),
        ("70", "blue"),
        ("70.01", "yellow"),
        ("160", "yellow"),  # 70 < D ≤ 160
        ("160.01", "orange"),
        ("320", "orange"),  # 160 < D ≤ 320
        ("320.01", "red"),
    ],
)
def test_lec_band_edges(d: str, level: str) -> None:
    assert lec_grade(Decimal(d))[0] == level


def test_lec_score_exact_and_inputs_in_any_numeric_form() -> None:
    for form in ({"l": 0.1, "e": 0.5, "c": 1}, {"l": Decimal("0.10"), "e": "0.5", "c": "1"}):
        a = assess("lec", form)
        assert a.score == Decimal("0.05") and str(a.score) == "0.05"
    assert str(assess("lec", {"l": 10, "e": 10, "c": 100}).score) == "10000"


def test_lec_every_published_combination_matches_the_thresholds() -> None:
    for l_, e, c in product(LEC_L, LEC_E, LEC_C):
        d = l_ * e * c
        expected = "red" if d > 320 else "orange" if d > 160 else "yellow" if d > 70 else "blue"
        assert assess("lec", {"l": l_, "e": e, "c": c}).level == expected


# --- LS --------------------------------------------------------------------------------------

LS_CASES = [
    (1, 1, 1, "blue"),
    (2, 4, 8, "blue"),  # largest blue (R < 9)
    (3, 3, 9, "yellow"),  # R = 9: first yellow
    (3, 4, 12, "yellow"),  # largest yellow (R < 15)
    (3, 5, 15, "orange"),  # R = 15: first orange
    (4, 4, 16, "orange"),  # largest orange (R < 20)
    (4, 5, 20, "red"),  # R = 20: first red
    (5, 5, 25, "red"),
]


@pytest.mark.parametrize(("l_", "s", "score", "level"), LS_CASES)
def test_ls_levels(l_: int, s: int, score: int, level: str) -> None:
    a = assess("ls", {"l": l_, "s": s})
    assert (a.score, a.level, a.inputs) == (score, level, {"l": l_, "s": s})
    assert assess("ls", {"l": s, "s": l_}).level == level  # symmetric


@pytest.mark.parametrize(
    ("r", "level"),
    [(8, "blue"), (9, "yellow"), (14, "yellow"), (15, "orange"), (19, "orange"), (20, "red")],
)
def test_ls_band_edges(r: int, level: str) -> None:
    assert ls_grade(r)[0] == level


# --- risk matrix -----------------------------------------------------------------------------

# AS/NZS 4360:2004 / HB 436 table, rows A (almost certain) .. E (rare), columns severity 1..5:
# E = red, H = orange, M = yellow, L = blue.
EXPECTED_MATRIX = {
    "A": "HHEEE",
    "B": "MHHEE",
    "C": "LMHEE",
    "D": "LLMHE",
    "E": "LLMHH",
}
_COLOUR = {"E": "red", "H": "orange", "M": "yellow", "L": "blue"}
MATRIX_CASES = [
    (row, severity, _COLOUR[cell])
    for row, cells in EXPECTED_MATRIX.items()
    for severity, cell in enumerate(cells, start=1)
]


@pytest.mark.parametrize(("likelihood", "severity", "level"), MATRIX_CASES)
def test_matrix_levels(likelihood: str, severity: int, level: str) -> None:
    number = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}[likelihood]
    for given in (likelihood, likelihood.lower(), number):
        a = assess("matrix", {"likelihood": given, "severity": severity})
        assert a.level == level
        assert a.inputs == {"likelihood": number, "severity": severity}
        assert a.score == number * severity


# --- bad inputs ------------------------------------------------------------------------------

BAD = [
    ("risk", {"l": 1, "s": 1}, "method"),
    (None, {"l": 1, "s": 1}, "method"),
    ("LEC", {"l": 1, "e": 1, "c": 1}, "method"),  # codes are lower case
    ("lec", {"l": 2, "e": 1, "c": 1}, "l"),  # 2 is not a published L
    ("lec", {"l": 1, "e": 4, "c": 1}, "e"),
    ("lec", {"l": 1, "e": 1, "c": 50}, "c"),
    ("lec", {"l": "abc", "e": 1, "c": 1}, "l"),
    ("lec", {"l": "NaN", "e": 1, "c": 1}, "l"),
    ("lec", {"l": float("inf"), "e": 1, "c": 1}, "l"),
    ("lec", {"l": True, "e": 1, "c": 1}, "l"),  # bool is not a number here
    ("lec", {"l": [1], "e": 1, "c": 1}, "l"),
    ("lec", {"l": 1, "e": 1}, "c"),  # missing
    ("lec", {"l": 1, "e": 1, "c": 1, "d": 1}, "d"),  # extra
    ("lec", [1, 1, 1], "inputs"),
    ("ls", {"l": 0, "s": 1}, "l"),
    ("ls", {"l": 6, "s": 1}, "l"),
    ("ls", {"l": 1, "s": 2.0}, "s"),  # integers only
    ("ls", {"l": "3", "s": 1}, "l"),
    ("ls", {"l": True, "s": 1}, "l"),
    ("ls", {"l": 1, "s": False}, "s"),
    ("ls", {"l": 1}, "s"),
    ("ls", {"l": 1, "s": 1, "level": "red"}, "level"),  # a client-sent level is refused
    ("ls", None, "inputs"),
    ("matrix", {"likelihood": "F", "severity": 1}, "likelihood"),
    ("matrix", {"likelihood": 0, "severity": 1}, "likelihood"),
    ("matrix", {"likelihood": True, "severity": 1}, "likelihood"),
    ("matrix", {"likelihood": "A", "severity": 6}, "severity"),
    ("matrix", {"likelihood": "A", "severity": "1"}, "severity"),
    ("matrix", {"severity": 1}, "likelihood"),
    ("matrix", {"likelihood": "A", "severity": 1, "score": 5}, "score"),
]


@pytest.mark.parametrize(("method", "inputs", "field"), BAD)
def test_bad_inputs_name_the_input_in_both_languages(method, inputs, field) -> None:
    with pytest.raises(AssessmentInputError) as info:
        assess(method, inputs)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field
    assert err.zh and err.en and str(err) == f"{err.zh} | {err.en}"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.zh)  # Chinese
    assert err.en.isascii() or "×" in err.en
    if field not in ("method", "inputs"):
        assert field in err.zh and field in err.en


# --- metadata ---------------------------------------------------------------------------------


def test_methods_metadata() -> None:
    assert set(METHODS) == {"lec", "ls", "matrix"}
    for meta in METHODS.values():
        assert meta["name_zh"] and meta["name_en"] and meta["inputs"] and meta["source"]
        for spec in meta["inputs"]:
            assert spec["key"] and spec["name_zh"] and spec["name_en"] and spec["values"]
    assert [t["level"] for t in METHODS["lec"]["thresholds"]] == list(LEVELS)
    assert [t["level"] for t in METHODS["ls"]["thresholds"]] == list(LEVELS)
    assert METHODS["lec"]["inputs"][0]["values"] == ["0.1", "0.2", "0.5", "1", "3", "6", "10"]
    assert METHODS["matrix"]["matrix"]["A"] == ["orange", "orange", "red", "red", "red"]
    # every published value in the metadata is accepted by assess()
    lec = {s["key"]: s["values"] for s in METHODS["lec"]["inputs"]}
    for combo in product(*lec.values()):
        assess("lec", dict(zip(lec, combo, strict=True)))


# --- catalogues ------------------------------------------------------------------------------

ALL_CATALOGUES = {
    "hazard_factors": catalog.HAZARD_FACTORS,
    "accident_types": catalog.ACCIDENT_TYPES,
    "risk_levels": catalog.RISK_LEVELS,
    "control_levels": catalog.CONTROL_LEVELS,
    "measure_kinds": catalog.MEASURE_KINDS,
    "risk_point_kinds": catalog.RISK_POINT_KINDS,
    "coordinate_systems": catalog.COORDINATE_SYSTEMS,
}


@pytest.mark.parametrize("name", sorted(ALL_CATALOGUES))
def test_catalogue_codes_unique_and_labelled(name: str) -> None:
    entries = ALL_CATALOGUES[name]
    codes = [e.code for e in entries]
    assert len(codes) == len(set(codes))
    assert all(e.name_zh and e.name_en for e in entries)


def test_every_hazard_factor_parent_exists() -> None:
    codes = catalog.HAZARD_FACTOR_CODES
    assert {c for c in codes if len(c) == 1} == {"1", "2", "3", "4"}
    for code, parent in catalog.HAZARD_FACTOR_PARENT.items():
        assert code.isdigit() and len(code) in (1, 2, 4)
        assert parent is None if len(code) == 1 else parent in codes
    names = {e.code: e.name_zh for e in catalog.HAZARD_FACTORS}
    assert names["1"] == "人的因素" and names["4"] == "管理因素"
    assert names["2115"] == "信息系统缺陷" and names["2202"] == "健康危险"


def test_the_20_accident_types_of_gb_6441() -> None:
    names = [e.name_zh for e in catalog.ACCIDENT_TYPES]
    assert names == [
        "物体打击", "车辆伤害", "机械伤害", "起重伤害", "触电", "淹溺", "灼烫", "火灾",
        "高处坠落", "坍塌", "冒顶片帮", "透水", "放炮", "火药爆炸", "瓦斯爆炸", "锅炉爆炸",
        "容器爆炸", "其他爆炸", "中毒和窒息", "其他伤害",
    ]  # fmt: skip
    assert all(c.replace("_", "").isalpha() and c.islower() for c in catalog.ACCIDENT_TYPE_CODES)


def test_small_enumerations() -> None:
    assert catalog.CONTROL_LEVEL_CODES == {"company", "workshop", "team", "post"}
    assert catalog.MEASURE_KIND_CODES == {
        "engineering",
        "management",
        "training",
        "ppe",
        "emergency",
    }
    assert catalog.RISK_POINT_KIND_CODES == {"place", "equipment", "operation"}
    assert catalog.COORDINATE_SYSTEM_CODES == {"wgs84", "gcj02"}
    assert [e.code for e in catalog.RISK_LEVELS] == list(LEVELS)
