"""The patterns the OpenAPI document gives for text fields say exactly what the domain's
rules accept, so that a client (or a generated test) that follows the document is never
refused for a character, and one that does not is."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.item import normalise_description, normalise_title
from domain.password import check_password_policy
from domain.text import is_storable
from domain.user import normalise_full_name
from entrypoints.http.schemas import common

# Any code point but a lone surrogate: JSON sent as UTF-8 cannot carry one, and where one
# arrives escaped it is refused whatever the pattern says (``StorableText``).
CHARACTERS = st.characters(exclude_categories=["Cs"])
EDGE = "\x00\x01\t\n\x0b\x0c\r\x1c\x1f \x7f\x85\xa0\u2028\u3000\ufeffa"
texts = st.text(CHARACTERS, max_size=40) | st.text(st.sampled_from(EDGE), max_size=12)
# Passwords of an accepted length, so that only their characters decide.
passwords = st.text(CHARACTERS, min_size=8, max_size=40) | st.text(
    st.sampled_from(EDGE), min_size=8, max_size=16
)


def _accepts(rule: Callable[[str], object], value: str) -> bool:
    try:
        rule(value)
    except ValidationFailed:
        return False
    return True


def _matches(pattern: str, value: str) -> bool:
    # JSON Schema patterns are searched for, not matched whole: ours are anchored.
    return re.search(pattern, value) is not None


def test_the_documented_whitespace_is_what_strip_removes() -> None:
    documented = re.compile(f"[{common.WHITESPACE}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(documented.fullmatch(char)) == char.isspace(), hex(code)


@pytest.mark.parametrize(
    ("pattern", "rule", "values"),
    [
        (common.NOT_BLANK_ONE_LINE, normalise_title, texts),
        (common.MULTI_LINE, normalise_description, texts),
        (common.ONE_LINE, normalise_full_name, texts),
        (common.NOT_BLANK_NO_NUL, check_password_policy, passwords),
        (common.NO_NUL, lambda value: is_storable(value) or _refuse(), texts),
    ],
    ids=["title", "description", "full_name", "password", "storable"],
)
def test_each_pattern_matches_exactly_what_its_rule_accepts(
    pattern: str, rule: Callable[[str], object], values: st.SearchStrategy[str]
) -> None:
    @settings(max_examples=300, deadline=None)
    @given(values)
    def agree(value: str) -> None:
        assert _matches(pattern, value) == _accepts(rule, value), repr(value)

    agree()


def _refuse() -> None:
    raise ValidationFailed("value", "refused")


def test_the_password_pattern_refuses_whitespace_only_and_nul() -> None:
    assert not _matches(common.NOT_BLANK_NO_NUL, " \t\u3000 \n ")
    assert not _matches(common.NOT_BLANK_NO_NUL, "secret\x00password")
    assert _matches(common.NOT_BLANK_NO_NUL, "  a  ")
