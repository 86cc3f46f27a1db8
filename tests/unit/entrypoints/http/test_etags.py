"""Entity tags and the If-Match / If-None-Match conditions on them (RFC 9110)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.etags import (
    ANY,
    EntityTag,
    etag_of,
    none_match_fails,
    parse_condition,
    versions_matching,
)
from tests.support.builders import an_item


def test_the_etag_is_a_strong_tag_made_from_the_version() -> None:
    assert etag_of(an_item(version=3)) == '"v3"'
    assert parse_condition(etag_of(an_item(version=3))) == (EntityTag('"v3"'),)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("*", ANY),
        (" * ", ANY),
        ('"v1"', (EntityTag('"v1"'),)),
        ('W/"v1"', (EntityTag('"v1"', weak=True),)),
        ('"v1", W/"v2" ,"x,y"', (EntityTag('"v1"'), EntityTag('"v2"', True), EntityTag('"x,y"'))),
        (' , "v1",, ', (EntityTag('"v1"'),)),
        ('""', (EntityTag('""'),)),
        ("", ()),
        ('"caf\xe9"', (EntityTag('"caf\xe9"'),)),
    ],
)
def test_valid_conditions_are_parsed(header: str, parsed: object) -> None:
    assert parse_condition(header) == parsed


@pytest.mark.parametrize(
    "header",
    ["v1", '"v1', 'v1"', '"v1" "v2"', 'w/"v1"', 'W/ "v1"', '"v 1"', '"a"b"', '*, "v1"', "**"],
)
def test_anything_else_is_malformed(header: str) -> None:
    assert parse_condition(header) is None


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ("*", None),
        ('"v1"', {1}),
        ('"v1", "v12", W/"v3"', {1, 12}),
        ('W/"v1"', set()),
        ('"1", "v01", "v-1", "V1", "v1 ", "v99999999999999999999"', set()),
        ("garbage", set()),
        ("", set()),
    ],
)
def test_if_match_accepts_the_versions_of_its_strong_tags_only(
    header: str, versions: set[int] | None
) -> None:
    assert versions_matching(parse_condition(header)) == versions


@pytest.mark.parametrize(
    ("header", "fails"),
    [
        ('"v3"', True),
        ('W/"v3"', True),
        ('"v2", "v3"', True),
        ("*", True),
        ('"v2"', False),
        ('"v3', False),
        ("", False),
    ],
)
def test_if_none_match_compares_weakly(header: str, fails: bool) -> None:
    assert none_match_fails(parse_condition(header), an_item(version=3)) is fails


@given(st.text(alphabet=st.characters(max_codepoint=0xFF)))
def test_any_header_value_parses_to_a_condition_or_none(header: str) -> None:
    condition = parse_condition(header)
    versions = versions_matching(condition)
    assert versions is None or all(isinstance(v, int) for v in versions)
    none_match_fails(condition, an_item(version=1))
