import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.email import Email
from domain.errors import InvalidEmail


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("user+tag@sub.example.org", "user+tag@sub.example.org"),
        ("JOSÉ@EXAMPLE.COM", "josé@example.com"),
        ("jose\u0301@example.com", "jos\u00e9@example.com"),  # NFC
        ("müller@bücher.de", "müller@bücher.de"),
        ("ada@example.com\n", "ada@example.com"),
    ],
)
def test_valid_addresses_are_normalised(raw: str, normal: str) -> None:
    assert Email(raw).value == normal


def test_case_variants_are_equal() -> None:
    assert Email("Ada@Example.com") == Email("ada@example.COM")
    assert hash(Email("Ada@Example.com")) == hash(Email("ada@example.com"))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "plain",
        "@example.com",
        "ada@",
        "ada@localhost",
        "ada@@example.com",
        "a b@example.com",
        "ada@exa mple.com",
        "ada@example..com",
        "ada@-example.com",
        "ada@example-.com",
        ".ada@example.com",
        "ada.@example.com",
        "a..da@example.com",
        "ada@example.123",
        "ada\x00@example.com",
        "ada@example.com\x00",
        "\ud800@example.com",
        "ada@exa_mple.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "ada\t@example.com",
        'a"da@example.com',
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        Email(raw)


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidEmail):
        Email(123)  # type: ignore[arg-type]


@given(st.text(max_size=300))
def test_any_text_either_normalises_idempotently_or_is_refused(raw: str) -> None:
    try:
        email = Email(raw)
    except InvalidEmail:
        return
    assert Email(email.value) == email
    assert email.value == email.value.strip().lower()
    assert len(email.value) <= 254
    assert "\x00" not in email.value
