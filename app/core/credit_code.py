"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARSET)}


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    if not code[2:8].isdigit():  # the registering authority's administrative division code
        return False
    return check_character(code[:17]) == code[17]


def make_credit_code(first17: str) -> str:
    """Completes 17 characters with their check character (demo data and tests)."""
    return first17 + check_character(first17)
