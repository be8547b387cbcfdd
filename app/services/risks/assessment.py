"""Risk assessment methods (风险评价方法): LEC, LS and the 5×5 risk matrix.

Every method turns its published inputs into a score and the score (or, for the matrix,
the cell) into one of the four levels of 安全风险分级管控:

    重大风险 red > 较大风险 orange > 一般风险 yellow > 低风险 blue

Sources of the inputs and thresholds:

* **LEC** (作业条件危险性评价法, Graham–Kinney): D = L × E × C with the published value
  sets of K. F. Graham and G. F. Kinney, "Practical risk analysis for safety management"
  (Kinney & Wiruth, Naval Weapons Center NWC TP 5865, 1976), as reproduced in Chinese safety
  engineering textbooks (《安全系统工程》) and provincial guidance on 风险分级管控 (e.g. the
  LEC annex of DB37/T 2882-2016 安全生产风险分级管控体系通则 and its sector guides). The
  five LEC grades are D > 320 极其危险, 160 < D ≤ 320 高度危险, 70 < D ≤ 160 显著危险,
  20 < D ≤ 70 一般危险 (可能危险), D ≤ 20 稍有危险; the four-level mapping used by Chinese
  enterprise guidance merges the lowest two grades into 低风险 (blue).
* **LS** (风险矩阵法 R = L × S, L and S integers 1–5): the widely published four-level table
  R 20–25 重大 (red), 15–16 较大 (orange), 9–12 一般 (yellow), 1–8 低 (blue), i.e.
  R ≥ 20, 15 ≤ R < 20, 9 ≤ R < 15, R < 9 (the products of 1–5 × 1–5 leave no value between
  the bands). Same provincial guidance as above (LS annex).
* **Risk matrix** (风险矩阵, the technique of GB/T 27921-2011 风险管理 风险评估技术 / ISO/IEC
  31010 B.29, which leaves the table to the organisation): the qualitative 5×5 matrix of
  AS/NZS 4360:2004 / HB 436 (likelihood A almost certain … E rare, consequence 1 insignificant
  … 5 catastrophic; Extreme/High/Moderate/Low read as red/orange/yellow/blue). See
  ``MATRIX`` for the table written out.

Only the published values are accepted; anything else raises ``AssessmentInputError``
(a ``ValueError``) naming the input, in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

RED, ORANGE, YELLOW, BLUE = "red", "orange", "yellow", "blue"
LEVELS = (RED, ORANGE, YELLOW, BLUE)
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    RED: ("重大风险", "Major risk"),
    ORANGE: ("较大风险", "Considerable risk"),
    YELLOW: ("一般风险", "Moderate risk"),
    BLUE: ("低风险", "Low risk"),
}


class AssessmentInputError(ValueError):
    """A bad assessment method or input; ``field`` names it, ``zh``/``en`` say why."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        self.field, self.zh, self.en = field, zh, en
        super().__init__(f"{zh} | {en}")


@dataclass(frozen=True, slots=True)
class Assessment:
    method: str
    inputs: dict[str, Any]  # normalised: LEC Decimals, LS/matrix ints
    score: int | Decimal  # LEC: Decimal (may be fractional); LS and matrix: int
    level: str  # red | orange | yellow | blue
    grade_zh: str  # the method's own grade, e.g. 极其危险
    grade_en: str

    @property
    def level_zh(self) -> str:
        return LEVEL_LABELS[self.level][0]

    @property
    def level_en(self) -> str:
        return LEVEL_LABELS[self.level][1]


# --- LEC -------------------------------------------------------------------------------------

LEC_L = tuple(Decimal(v) for v in ("0.1", "0.2", "0.5", "1", "3", "6", "10"))
LEC_E = tuple(Decimal(v) for v in ("0.5", "1", "2", "3", "6", "10"))
LEC_C = tuple(Decimal(v) for v in ("1", "3", "7", "15", "40", "100"))
# (exclusive lower bound of D, level, grade zh, grade en), highest first; D ≤ 20 is the rest.
LEC_GRADES: tuple[tuple[Decimal, str, str, str], ...] = (
    (Decimal(320), RED, "极其危险，不能继续作业", "Extremely dangerous, stop the work"),
    (Decimal(160), ORANGE, "高度危险，需立即整改", "Highly dangerous, rectify at once"),
    (Decimal(70), YELLOW, "显著危险，需要整改", "Substantially dangerous, rectification needed"),
    (Decimal(20), BLUE, "一般危险，需要注意", "Possibly dangerous, attention needed"),
)
LEC_LOWEST = (BLUE, "稍有危险，可以接受", "Slightly dangerous, acceptable")

# --- LS --------------------------------------------------------------------------------------

LS_VALUES = (1, 2, 3, 4, 5)
# (inclusive lower bound of R, level, grade zh, grade en), highest first.
LS_GRADES: tuple[tuple[int, str, str, str], ...] = (
    (20, RED, "重大风险", "Major risk"),
    (15, ORANGE, "较大风险", "Considerable risk"),
    (9, YELLOW, "一般风险", "Moderate risk"),
    (1, BLUE, "低风险", "Low risk"),
)

# --- risk matrix -----------------------------------------------------------------------------

MATRIX_LIKELIHOOD: tuple[tuple[str, int, str, str], ...] = (
    ("A", 5, "几乎肯定", "Almost certain"),
    ("B", 4, "很可能", "Likely"),
    ("C", 3, "可能", "Possible"),
    ("D", 2, "不太可能", "Unlikely"),
    ("E", 1, "罕见", "Rare"),
)
MATRIX_SEVERITY: tuple[tuple[int, str, str], ...] = (
    (1, "可忽略", "Insignificant"),
    (2, "轻微", "Minor"),
    (3, "中等", "Moderate"),
    (4, "严重", "Major"),
    (5, "灾难性", "Catastrophic"),
)
_E, _H, _M, _L = RED, ORANGE, YELLOW, BLUE
# AS/NZS 4360:2004 / HB 436 qualitative risk analysis matrix; rows likelihood A..E,
# columns severity 1..5. E(xtreme)=red, H(igh)=orange, M(oderate)=yellow, L(ow)=blue.
MATRIX: dict[str, tuple[str, str, str, str, str]] = {
    "A": (_H, _H, _E, _E, _E),
    "B": (_M, _H, _H, _E, _E),
    "C": (_L, _M, _H, _E, _E),
    "D": (_L, _L, _M, _H, _E),
    "E": (_L, _L, _M, _H, _H),
}
_LETTER_BY_NUMBER = {n: letter for letter, n, _, _ in MATRIX_LIKELIHOOD}
_NUMBER_BY_LETTER = {letter: n for letter, n, _, _ in MATRIX_LIKELIHOOD}
_MATRIX_GRADES = {
    RED: ("极高风险", "Extreme"),
    ORANGE: ("高风险", "High"),
    YELLOW: ("中等风险", "Moderate"),
    BLUE: ("低风险", "Low"),
}


# --- metadata for the catalog endpoint ---------------------------------------------------------


def _num(d: Decimal) -> str:
    return format(d.normalize(), "f")


METHODS: dict[str, dict[str, Any]] = {
    "lec": {
        "name_zh": "作业条件危险性评价法（LEC）",
        "name_en": "Job hazard analysis by L × E × C (Graham–Kinney)",
        "formula": "D = L × E × C",
        "source": "Kinney & Wiruth, NWC TP 5865 (1976); DB37/T 2882-2016 附录 (LEC)",
        "inputs": [
            {
                "key": "l",
                "name_zh": "事故发生的可能性 L",
                "name_en": "Likelihood L",
                "values": [_num(v) for v in LEC_L],
            },
            {
                "key": "e",
                "name_zh": "暴露于危险环境的频繁程度 E",
                "name_en": "Exposure E",
                "values": [_num(v) for v in LEC_E],
            },
            {
                "key": "c",
                "name_zh": "发生事故可能造成的后果 C",
                "name_en": "Consequence C",
                "values": [_num(v) for v in LEC_C],
            },
        ],
        "thresholds": [
            {"level": RED, "rule": "D > 320", "grade_zh": LEC_GRADES[0][2]},
            {"level": ORANGE, "rule": "160 < D ≤ 320", "grade_zh": LEC_GRADES[1][2]},
            {"level": YELLOW, "rule": "70 < D ≤ 160", "grade_zh": LEC_GRADES[2][2]},
            {"level": BLUE, "rule": "D ≤ 70", "grade_zh": "一般危险/稍有危险"},
        ],
    },
    "ls": {
        "name_zh": "风险矩阵法（LS）",
        "name_en": "Likelihood × severity (LS)",
        "formula": "R = L × S",
        "source": "DB37/T 2882-2016 附录 (LS): 20–25 重大, 15–16 较大, 9–12 一般, 1–8 低",
        "inputs": [
            {
                "key": "l",
                "name_zh": "可能性 L",
                "name_en": "Likelihood L",
                "values": list(LS_VALUES),
            },
            {"key": "s", "name_zh": "严重性 S", "name_en": "Severity S", "values": list(LS_VALUES)},
        ],
        "thresholds": [
            {"level": RED, "rule": "R ≥ 20"},
            {"level": ORANGE, "rule": "15 ≤ R < 20"},
            {"level": YELLOW, "rule": "9 ≤ R < 15"},
            {"level": BLUE, "rule": "R < 9"},
        ],
    },
    "matrix": {
        "name_zh": "风险矩阵（5×5 可能性 × 后果）",
        "name_en": "Risk matrix (5 × 5 likelihood × consequence)",
        "formula": "level = MATRIX[likelihood][severity]",
        "source": "GB/T 27921-2011 (风险矩阵); table of AS/NZS 4360:2004 / HB 436",
        "inputs": [
            {
                "key": "likelihood",
                "name_zh": "可能性",
                "name_en": "Likelihood",
                "values": [
                    {"code": letter, "number": n, "name_zh": zh, "name_en": en}
                    for letter, n, zh, en in MATRIX_LIKELIHOOD
                ],
            },
            {
                "key": "severity",
                "name_zh": "后果严重性",
                "name_en": "Severity",
                "values": [
                    {"code": n, "name_zh": zh, "name_en": en} for n, zh, en in MATRIX_SEVERITY
                ],
            },
        ],
        "matrix": {letter: list(row) for letter, row in MATRIX.items()},
    },
}


# --- evaluation ------------------------------------------------------------------------------


def _check_keys(method: str, inputs: Any, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(inputs, Mapping):
        raise AssessmentInputError(
            "inputs", "评价输入必须是对象", "The assessment inputs must be an object"
        )
    for key in keys:
        if key not in inputs:
            raise AssessmentInputError(
                key, f"缺少评价输入 {key}", f"The {method} input {key!r} is missing"
            )
    extra = sorted(str(k) for k in inputs if k not in keys)
    if extra:
        raise AssessmentInputError(
            extra[0],
            f"未知的评价输入 {', '.join(extra)}",
            f"Unknown {method} input {', '.join(repr(k) for k in extra)}",
        )
    return inputs


def _not_allowed(key: str, value: Any, allowed: list[Any]) -> AssessmentInputError:
    shown = ", ".join(str(a) for a in allowed)
    return AssessmentInputError(
        key,
        f"评价输入 {key} 的值 {value!r} 不在允许值 {shown} 中",
        f"The value {value!r} of {key!r} is not one of {shown}",
    )


def _decimal(key: str, value: Any, allowed: tuple[Decimal, ...]) -> Decimal:
    """An LEC value: int, Decimal or decimal string; floats only when they are exact enough."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _not_allowed(key, value, [_num(a) for a in allowed])
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except ArithmeticError:
        raise _not_allowed(key, value, [_num(a) for a in allowed]) from None
    if not d.is_finite():
        raise _not_allowed(key, value, [_num(a) for a in allowed])
    for a in allowed:
        if d == a:
            return a
    raise _not_allowed(key, value, [_num(a) for a in allowed])


def _int(key: str, value: Any, allowed: tuple[int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise _not_allowed(key, value, list(allowed))
    return value


def lec_grade(d: Decimal) -> tuple[str, str, str]:
    """(level, grade zh, grade en) of an LEC score D; the bands are open below, closed above."""
    return next(((lv, z, e) for bound, lv, z, e in LEC_GRADES if d > bound), LEC_LOWEST)


def ls_grade(r: int) -> tuple[str, str, str]:
    """(level, grade zh, grade en) of an LS score R = L × S (1–25)."""
    return next((lv, z, e) for bound, lv, z, e in LS_GRADES if r >= bound)


def _lec(inputs: Any) -> Assessment:
    raw = _check_keys("lec", inputs, ("l", "e", "c"))
    l_ = _decimal("l", raw["l"], LEC_L)
    e = _decimal("e", raw["e"], LEC_E)
    c = _decimal("c", raw["c"], LEC_C)
    d = l_ * e * c  # exact: every factor has at most one decimal place
    level, zh, en = lec_grade(d)
    # Always a Decimal (exact, e.g. 0.05 or 10000), never in exponent notation.
    score = Decimal(int(d)) if d == d.to_integral_value() else d.normalize()
    return Assessment("lec", {"l": l_, "e": e, "c": c}, score, level, zh, en)


def _ls(inputs: Any) -> Assessment:
    raw = _check_keys("ls", inputs, ("l", "s"))
    l_ = _int("l", raw["l"], LS_VALUES)
    s = _int("s", raw["s"], LS_VALUES)
    r = l_ * s
    level, zh, en = ls_grade(r)
    return Assessment("ls", {"l": l_, "s": s}, r, level, zh, en)


def _matrix(inputs: Any) -> Assessment:
    raw = _check_keys("matrix", inputs, ("likelihood", "severity"))
    lk = raw["likelihood"]
    letters = [letter for letter, *_ in MATRIX_LIKELIHOOD]
    if isinstance(lk, str) and lk.strip().upper() in _NUMBER_BY_LETTER:
        letter = lk.strip().upper()
    elif isinstance(lk, int) and not isinstance(lk, bool) and lk in _LETTER_BY_NUMBER:
        letter = _LETTER_BY_NUMBER[lk]
    else:
        raise _not_allowed("likelihood", lk, letters + sorted(_LETTER_BY_NUMBER))
    severity = _int("severity", raw["severity"], tuple(n for n, *_ in MATRIX_SEVERITY))
    level = MATRIX[letter][severity - 1]
    zh, en = _MATRIX_GRADES[level]
    likelihood = _NUMBER_BY_LETTER[letter]
    return Assessment(
        "matrix",
        {"likelihood": likelihood, "severity": severity},
        likelihood * severity,  # informative only: the level comes from the table
        level,
        zh,
        en,
    )


_EVALUATORS = {"lec": _lec, "ls": _ls, "matrix": _matrix}


def assess(method: str, inputs: Mapping[str, Any]) -> Assessment:
    """Score ``inputs`` by ``method`` (``lec`` | ``ls`` | ``matrix``) and read the level.

    Raises ``AssessmentInputError`` (a ``ValueError``) naming the bad method or input.
    """
    evaluator = _EVALUATORS.get(method) if isinstance(method, str) else None
    if evaluator is None:
        raise AssessmentInputError(
            "method",
            f"未知的评价方法 {method!r}，可选 {', '.join(_EVALUATORS)}",
            f"Unknown assessment method {method!r}; one of {', '.join(_EVALUATORS)}",
        )
    return evaluator(inputs)
