"""Property tests of the 统一社会信用代码 validator (GB 32100-2015, mod-31 check character)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.core.credit_code import CHARSET, check_character, is_valid_credit_code, make_credit_code

charset_char = st.sampled_from(CHARSET)
digit = st.sampled_from("0123456789")


@st.composite
def first17(draw: st.DrawFn) -> str:
    """Registration authority + organisation kind, a 6-digit division code, 9-char org code."""
    head = draw(st.text(charset_char, min_size=2, max_size=2))
    division = draw(st.text(digit, min_size=6, max_size=6))
    org = draw(st.text(charset_char, min_size=9, max_size=9))
    return head + division + org


valid_codes = first17().map(make_credit_code)
# Printable characters outside the charset: I O S V Z, lower case, punctuation, CJK, full width.
foreign_char = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters=CHARSET)


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91110108551385082Q", "9144030071526726XG"],
)
def test_published_codes_validate(code: str) -> None:
    assert is_valid_credit_code(code)


@given(valid_codes)
def test_any_generated_code_validates(code: str) -> None:
    assert len(code) == 18
    assert is_valid_credit_code(code)


@given(first17())
def test_check_character_completes_the_first_17_and_is_in_the_charset(head: str) -> None:
    code = make_credit_code(head)
    assert code[:17] == head
    assert code[17] == check_character(head)
    assert code[17] in CHARSET


@given(valid_codes, st.integers(0, 17), charset_char)
def test_any_single_character_change_is_detected(code: str, position: int, new: str) -> None:
    assume(code[position] != new)
    changed = code[:position] + new + code[position + 1 :]
    assert not is_valid_credit_code(changed)


@given(valid_codes, st.integers(0, 17), foreign_char)
def test_a_character_outside_the_charset_is_rejected(code: str, position: int, new: str) -> None:
    changed = code[:position] + new + code[position + 1 :]
    assert not is_valid_credit_code(changed)


@given(valid_codes, st.integers(0, 16), st.integers(0, 16))
def test_swapping_two_different_characters_is_detected(code: str, i: int, j: int) -> None:
    assume(code[i] != code[j])
    chars = list(code)
    chars[i], chars[j] = chars[j], chars[i]
    assert not is_valid_credit_code("".join(chars))


@given(st.text(charset_char, max_size=40).filter(lambda s: len(s) != 18))
def test_wrong_length_is_rejected(code: str) -> None:
    assert not is_valid_credit_code(code)


@given(valid_codes, st.text(charset_char, min_size=1, max_size=3))
def test_extra_characters_are_rejected(code: str, extra: str) -> None:
    assert not is_valid_credit_code(code + extra)
    assert not is_valid_credit_code(extra + code)
    assert not is_valid_credit_code(code[: -len(extra)])


@given(valid_codes)
def test_lower_case_letters_are_not_in_the_charset(code: str) -> None:
    assume(any(c.isalpha() for c in code))
    assert not is_valid_credit_code(code.lower())


@given(first17(), st.integers(2, 7), st.sampled_from(CHARSET[10:]))
def test_division_code_must_be_digits_even_with_a_matching_check_character(
    head: str, position: int, letter: str
) -> None:
    bad_head = head[:position] + letter + head[position + 1 :]
    assert not is_valid_credit_code(make_credit_code(bad_head))
