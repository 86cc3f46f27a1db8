import unicodedata

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
        ("jose\u0301@example.com", "jos\u00e9@example.com"),  # composed
        ("müller@bücher.de", "müller@xn--bcher-kva.de"),  # the local part stays Unicode
        ("ada@example.com\n", "ada@example.com"),
        ("\uff41da@Example.com", "ada@example.com"),  # fullwidth a
        (
            "\uff41\uff44\uff41\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
            "ada@example.com",
        ),
        ("\u3000ada@example.com\u3000", "ada@example.com"),  # ideographic spaces
        ("ada@bücher.example", "ada@xn--bcher-kva.example"),
        ("ada@BÜCHER.example", "ada@xn--bcher-kva.example"),
        ("ada@xn--bcher-kva.example", "ada@xn--bcher-kva.example"),
        ("ada@XN--BCHER-KVA.Example", "ada@xn--bcher-kva.example"),
        ("ada@bücher\u3002example", "ada@xn--bcher-kva.example"),  # ideographic full stop
        ("ada@straße.de", "ada@xn--strae-oqa.de"),  # IDNA2008: not strasse.de
        ("ada@мейл.рф", "ada@xn--e1aigb.xn--p1ai"),
        ("ada@मेल.भारत", "ada@xn--r2bi6d.xn--h2brj9c"),  # combining vowel signs
        ("ﬁona@example.com", "fiona@example.com"),  # the fi ligature
        ("ada@\u2126mega.example", "ada@xn--mega-fpd.example"),  # the ohm sign is omega
    ],
)
def test_valid_addresses_are_normalised(raw: str, normal: str) -> None:
    assert Email(raw).value == normal


def test_case_variants_are_equal() -> None:
    assert Email("Ada@Example.com") == Email("ada@example.COM")
    assert hash(Email("Ada@Example.com")) == hash(Email("ada@example.com"))


@pytest.mark.parametrize(
    "spellings",
    [
        ("\uff41da@Example.com", "ada@example.com", "ADA@EXAMPLE.COM", " ada@example.com "),
        ("ada@bücher.example", "ada@xn--bcher-kva.example", "Ada@BÜCHER.Example"),
        ("zoë@exämple.com", "zoe\u0308@exa\u0308mple.com", "ZOË@xn--exmple-cua.com"),
    ],
)
def test_every_spelling_of_one_address_is_one_email(spellings: tuple[str, ...]) -> None:
    assert len({Email(spelling) for spelling in spellings}) == 1


def test_different_domains_stay_different() -> None:
    assert Email("ada@straße.de") != Email("ada@strasse.de")
    assert Email("ada@bücher.example") != Email("ada@bucher.example")


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
        "ada@xn--bcher-kva-.example",  # not punycode
        "ada@xn--abc-.example",  # punycode of plain ASCII
        "ada@xn--a.example",  # punycode of a control character
        "ada@xn--.example",
        "ada@-bücher.example",
        "ada@bücher-.example",
        "ada@\u0301bücher.example",  # a combining mark first
        "ada@b☃cher.example",  # a symbol
        "ada@bü_cher.example",
        "ada@" + "ü" * 60 + ".example",  # its punycode is over 63 characters
        "ada@example.\uff11\uff12\uff13",  # a numeric top-level domain, fullwidth
        "ada\u00a8@example.com",  # NFKC makes it a space and a combining mark
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
    assert email.value == unicodedata.normalize("NFKC", email.value)
    assert email.domain.isascii()
    assert len(email.value) <= 254
    assert "\x00" not in email.value


ADDRESS_CHARACTERS = st.characters(
    codec="utf-8", categories=("L", "M", "N", "Pd", "Po"), include_characters="@.-\uff0e\u3002"
)


@given(st.text(ADDRESS_CHARACTERS, min_size=3, max_size=80))
def test_address_like_text_either_normalises_idempotently_or_is_refused(raw: str) -> None:
    """Text made mostly of what addresses are made of, so that many examples are valid."""
    try:
        email = Email(raw)
    except InvalidEmail:
        return
    assert Email(email.value) == email
    assert Email(email.value.upper()) == email or not email.value.upper().isascii()
    assert email.domain.isascii()


# Letters where IDNA2003 (the standard library's codec) and IDNA2008 agree: no ß, ς or joiners.
LABEL_LETTERS = st.sampled_from("abcxyz019-äöüéèçñøåłžœдежзийкαβγδελμπσωअकखमलेा")


@given(st.text(LABEL_LETTERS, min_size=1, max_size=20))
def test_domains_match_the_standard_librarys_idna_where_the_two_idnas_agree(label: str) -> None:
    try:
        email = Email(f"ada@{label}.example")
    except InvalidEmail:
        return
    reference = f"{label}.example".encode("idna").decode("ascii")
    assert email.domain == reference
