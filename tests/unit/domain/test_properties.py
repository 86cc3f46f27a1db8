"""Properties of the domain rules and of the HTTP request bodies built on them.

Each test states a rule for every input of a kind, not for a few chosen examples, so that a
change which breaks the rule for some odd input is caught.
"""

from __future__ import annotations

import contextlib
import json
import string
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.email import MAX_LENGTH as EMAIL_MAX_LENGTH
from domain.email import MAX_LOCAL_LENGTH, Email
from domain.errors import InvalidEmail, ValidationFailed, WeakPassword
from domain.item import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TITLE_LENGTH,
    normalise_description,
    normalise_title,
)
from domain.pagination import MAX_PAGE, MAX_PAGE_SIZE, Page, PageRequest
from domain.password import MAX_LENGTH, MIN_LENGTH, check_password_policy
from domain.session import token_digest
from domain.text import check_text, is_storable
from domain.user import MAX_FULL_NAME_LENGTH, normalise_full_name
from entrypoints.http.schemas.items import ItemCreate, ItemUpdate
from entrypoints.http.schemas.users import UserCreate, UserUpdate

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point at all, lone surrogates and controls included.
any_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=60)
# Printable text: letters, marks, numbers, punctuation, symbols and the ordinary space.
printable = st.characters(categories=["L", "M", "N", "P", "S"]) | st.just(" ")
lone_surrogate = st.integers(0xD800, 0xDFFF).map(chr)
forbidden = st.just("\x00") | lone_surrogate


def _refusal(rule: Callable[..., object], *args: Any, **kwargs: Any) -> ValidationFailed | None:
    """The ``ValidationFailed`` that ``rule`` raises, or None when it accepts."""
    try:
        rule(*args, **kwargs)
    except ValidationFailed as exc:
        return exc
    return None


def _insert(text: str, char: str, where: int) -> str:
    at = where % (len(text) + 1)
    return text[:at] + char + text[at:]


# --- Email ---------------------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits
ascii_label = st.builds(
    lambda head, tail: f"{head}-{tail}" if tail else head,
    st.text(alphabet=ALNUM, min_size=1, max_size=10),
    st.text(alphabet=ALNUM, max_size=6),
)
local_part = st.lists(
    st.text(alphabet=ALNUM + "+_-", min_size=1, max_size=10), min_size=1, max_size=3
).map(".".join)
emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    local_part,
    st.lists(ascii_label, min_size=1, max_size=3),
    st.text(alphabet=string.ascii_letters, min_size=2, max_size=6),
)
padding = st.text(alphabet=" \t\n\r", max_size=3)


def _assert_normal_form(value: str) -> None:
    assert value == value.strip()
    assert value == value.lower()
    assert value == unicodedata.normalize("NFC", value)
    assert 0 < len(value) <= EMAIL_MAX_LENGTH
    local, at, domain = value.rpartition("@")
    assert at
    assert 0 < len(local) <= MAX_LOCAL_LENGTH
    assert "." in domain
    assert is_storable(value)


@PROPERTY
@given(emails, padding, padding)
def test_valid_emails_are_accepted_and_normalised(raw: str, before: str, after: str) -> None:
    email = Email(before + raw + after)
    _assert_normal_form(email.value)
    assert email.value == raw.lower()
    assert Email(email.value) == email
    assert Email(email.value).value == email.value
    assert str(email) == email.value
    assert email.domain == raw.rpartition("@")[2].lower()


@FEW
@given(st.emails().filter(lambda e: len(e) <= EMAIL_MAX_LENGTH))
def test_addresses_from_the_standard_grammar_are_accepted(raw: str) -> None:
    email = Email(raw)
    _assert_normal_form(email.value)
    assert email.value == raw.lower()
    assert Email(email.value) == email


@PROPERTY
@given(emails, st.data())
def test_case_variants_of_an_address_are_equal(raw: str, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(raw), max_size=len(raw)))
    variant = "".join(ch.swapcase() if flip else ch for ch, flip in zip(raw, flips, strict=True))
    assert Email(variant) == Email(raw)
    assert hash(Email(variant)) == hash(Email(raw))
    assert Email(raw.upper()) == Email(raw.lower())


@PROPERTY
@given(
    st.text(alphabet=st.characters(categories=["L", "M", "N"]), min_size=1, max_size=12),
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12),
)
def test_nfc_and_nfd_spellings_of_an_address_are_equal(local: str, label: str) -> None:
    raw = f"{local}@{label}.example"
    try:
        email = Email(unicodedata.normalize("NFC", raw))
    except InvalidEmail:
        for form in ("NFD", "NFC"):
            with pytest.raises(InvalidEmail):
                Email(unicodedata.normalize(form, raw))
        return
    assert Email(unicodedata.normalize("NFD", raw)) == email
    assert Email(raw) == email
    _assert_normal_form(email.value)


@PROPERTY
@given(any_text | emails | st.builds("{}@{}".format, any_text, any_text))
def test_email_either_gives_the_normal_form_or_raises_invalid_email(raw: str) -> None:
    refusal = _refusal(Email, raw)
    if refusal is not None:
        assert isinstance(refusal, InvalidEmail)
        assert refusal.field == "email"
        return
    email = Email(raw)
    _assert_normal_form(email.value)
    assert Email(email.value) == email
    assert Email(email.value).value == email.value


@FEW
@given(emails, st.sampled_from(["\x00", " ", "\t", "\u00a0", "\u2003", "\x7f"]), st.integers())
def test_emails_with_nul_or_inner_space_are_refused(raw: str, char: str, where: int) -> None:
    text = _insert(raw, char, 1 + where % (len(raw) - 1))
    with pytest.raises(InvalidEmail):
        Email(text)


@FEW
@given(emails, lone_surrogate, st.integers())
def test_emails_with_a_lone_surrogate_are_refused(raw: str, char: str, where: int) -> None:
    with pytest.raises(InvalidEmail):
        Email(_insert(raw, char, where))


@FEW
@given(any_text.filter(lambda text: "@" not in text))
def test_text_without_an_at_sign_is_not_an_email(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        Email(raw)


@FEW
@given(emails, st.integers(EMAIL_MAX_LENGTH + 1, EMAIL_MAX_LENGTH + 300))
def test_emails_over_the_maximum_length_are_refused(raw: str, length: int) -> None:
    local, _, domain = raw.rpartition("@")
    labels = domain.split(".")
    filler = "a" * (length - len(raw))
    # Longer, and valid in every other way: the extra characters go into new 50-char labels.
    chunks = [filler[i : i + 50] for i in range(0, len(filler), 50)]
    longer = f"{local}@{'.'.join([*labels[:-1], *chunks, labels[-1]])}"
    assert len(longer) > EMAIL_MAX_LENGTH
    with pytest.raises(InvalidEmail):
        Email(longer)


@FEW
@given(st.none() | st.integers() | st.binary() | st.lists(st.text()))
def test_email_refuses_what_is_not_a_string(raw: Any) -> None:
    with pytest.raises(InvalidEmail):
        Email(raw)


# --- Passwords -----------------------------------------------------------------------------


@PROPERTY
@given(any_text | st.text(max_size=MAX_LENGTH + 20), st.sampled_from(["password", "new_password"]))
def test_password_policy_accepts_or_raises_weak_password(password: str, field: str) -> None:
    refusal = _refusal(check_password_policy, password, field)
    if refusal is not None:
        assert isinstance(refusal, WeakPassword)
        assert refusal.field == field
        assert refusal.kind == "password"
        return
    assert MIN_LENGTH <= len(password) <= MAX_LENGTH
    assert is_storable(password)
    assert password.strip()


@FEW
@given(
    st.text(alphabet=printable, max_size=MIN_LENGTH - 1)
    | st.text(min_size=MAX_LENGTH + 1, max_size=MAX_LENGTH + 30)
)
def test_passwords_of_a_length_out_of_range_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_policy(password)


@FEW
@given(st.text(alphabet=printable, min_size=MIN_LENGTH, max_size=MAX_LENGTH))
def test_printable_passwords_of_a_length_in_range_are_accepted(password: str) -> None:
    assume(password.strip())
    check_password_policy(password)
    check_password_policy(password, is_common=lambda _: False)
    with pytest.raises(WeakPassword):
        check_password_policy(password, is_common=lambda _: True)


@FEW
@given(
    st.text(alphabet=printable, min_size=MIN_LENGTH - 1, max_size=MAX_LENGTH - 1),
    forbidden,
    st.integers(),
)
def test_passwords_with_nul_or_a_lone_surrogate_are_refused(
    password: str, char: str, where: int
) -> None:
    with pytest.raises(WeakPassword):
        check_password_policy(_insert(password, char, where))


@FEW
@given(st.text(alphabet=" \t\n\r\u00a0\u2003\u3000", min_size=MIN_LENGTH, max_size=MAX_LENGTH))
def test_passwords_of_only_whitespace_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_policy(password)


# --- Free text -----------------------------------------------------------------------------


@PROPERTY
@given(any_text, forbidden, st.integers(), st.booleans())
def test_text_with_nul_or_a_lone_surrogate_is_refused(
    text: str, char: str, where: int, multiline: bool
) -> None:
    value = _insert(text, char, where)
    assert not is_storable(value)
    with pytest.raises(ValidationFailed) as caught:
        check_text("note", value, max_length=1000, multiline=multiline)
    assert caught.value.field == "note"


@FEW
@given(st.text(alphabet=printable, max_size=80), st.integers(0, 80), st.booleans())
def test_printable_text_within_the_limits_is_accepted_unchanged(
    text: str, spare: int, multiline: bool
) -> None:
    assert is_storable(text)
    limit = len(text) + spare
    assert check_text("note", text, max_length=limit, min_length=len(text)) == text
    assert check_text("note", text, max_length=len(text), multiline=multiline) == text


@FEW
@given(st.text(alphabet=printable, min_size=1, max_size=80), st.booleans())
def test_text_limits_are_exact(text: str, multiline: bool) -> None:
    with pytest.raises(ValidationFailed) as too_long:
        check_text("note", text, max_length=len(text) - 1, multiline=multiline)
    assert too_long.value.kind == "too_long"
    with pytest.raises(ValidationFailed) as too_short:
        check_text("note", text, max_length=1000, min_length=len(text) + 1)
    assert too_short.value.kind == "too_short"


@PROPERTY
@given(any_text, st.integers(0, 70), st.integers(0, 70), st.booleans())
def test_check_text_accepts_exactly_the_allowed_characters(
    text: str, low: int, high: int, multiline: bool
) -> None:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    ok = (
        low <= len(text) <= high
        and is_storable(text)
        and all(ch in allowed or (ord(ch) >= 0x20 and ord(ch) != 0x7F) for ch in text)
    )
    refusal = _refusal(
        check_text, "note", text, max_length=high, min_length=low, multiline=multiline
    )
    if refusal is not None:
        assert refusal.field == "note"
        assert not ok
    else:
        assert ok
        assert (
            check_text("note", text, max_length=high, min_length=low, multiline=multiline) == text
        )


# --- Full names ----------------------------------------------------------------------------


@PROPERTY
@given(st.none() | any_text | st.text(alphabet=printable, max_size=MAX_FULL_NAME_LENGTH + 5))
def test_normalise_full_name_is_idempotent_and_never_empty(raw: str | None) -> None:
    refusal = _refusal(normalise_full_name, raw)
    if refusal is not None:
        assert refusal.field == "full_name"
        return
    name = normalise_full_name(raw)
    if name is None:
        assert raw is None or not raw.strip()
        return
    assert name
    assert name == name.strip()
    assert len(name) <= MAX_FULL_NAME_LENGTH
    assert is_storable(name)
    assert normalise_full_name(name) == name


@FEW
@given(st.text(alphabet=" \t\n\r\u00a0\u3000", max_size=20))
def test_blank_full_names_are_no_name(raw: str) -> None:
    assert normalise_full_name(raw) is None


# --- Items ---------------------------------------------------------------------------------


@PROPERTY
@given(any_text | st.text(alphabet=printable, max_size=MAX_TITLE_LENGTH + 5))
def test_normalise_title_is_idempotent(raw: str) -> None:
    refusal = _refusal(normalise_title, raw)
    if refusal is not None:
        assert refusal.field == "title"
        return
    title = normalise_title(raw)
    assert title == raw.strip()
    assert 1 <= len(title) <= MAX_TITLE_LENGTH
    assert is_storable(title)
    assert "\n" not in title
    assert normalise_title(title) == title


@FEW
@given(st.characters(categories=["L", "N"]), padding, padding)
def test_title_limit_is_exact(char: str, before: str, after: str) -> None:
    at_limit = char * MAX_TITLE_LENGTH
    assert normalise_title(before + at_limit + after) == at_limit
    with pytest.raises(ValidationFailed):
        normalise_title(at_limit + char)
    assert normalise_title(char) == char
    with pytest.raises(ValidationFailed):
        normalise_title(before + after)


@FEW
@given(st.text(alphabet=printable, min_size=1, max_size=40), st.sampled_from(["\n", "\r", "\t"]))
def test_titles_are_one_line_and_descriptions_may_have_many(text: str, control: str) -> None:
    assume(text.strip())
    value = text + control + text
    with pytest.raises(ValidationFailed):
        normalise_title(value)
    assert normalise_description(value) == value


@PROPERTY
@given(st.none() | any_text | st.text(alphabet=printable | st.just("\n"), max_size=200))
def test_normalise_description_is_idempotent(raw: str | None) -> None:
    refusal = _refusal(normalise_description, raw)
    if refusal is not None:
        assert refusal.field == "description"
        return
    description = normalise_description(raw)
    assert description == raw
    assert normalise_description(description) == description


@FEW
@given(st.characters(categories=["L", "N"]) | st.sampled_from(["\n", "\t"]))
def test_description_limit_is_exact(char: str) -> None:
    at_limit = char * MAX_DESCRIPTION_LENGTH
    assert normalise_description(at_limit) == at_limit
    with pytest.raises(ValidationFailed):
        normalise_description(at_limit + char)


# --- Pagination ----------------------------------------------------------------------------

pages = st.integers(1, MAX_PAGE)
page_sizes = st.integers(1, MAX_PAGE_SIZE)


@PROPERTY
@given(pages, page_sizes, st.integers(0, MAX_PAGE * MAX_PAGE_SIZE + 1000))
def test_has_next_is_exactly_whether_items_remain(page: int, page_size: int, total: int) -> None:
    request = PageRequest(page, page_size)
    result: Page[int] = Page(items=[], total=total, page=page, page_size=page_size)
    assert result.has_next == (page * page_size < total)
    assert result.has_next == (request.offset + page_size < total)


@FEW
@given(st.integers(1, MAX_PAGE - 1), page_sizes)
def test_consecutive_pages_neither_overlap_nor_leave_gaps(page: int, page_size: int) -> None:
    this, following = PageRequest(page, page_size), PageRequest(page + 1, page_size)
    assert this.offset >= 0
    assert this.offset + page_size == following.offset
    assert set(range(this.offset, this.offset + page_size)).isdisjoint(
        range(following.offset, following.offset + page_size)
    )


@FEW
@given(page_sizes, st.integers(0, 500))
def test_walking_the_pages_visits_every_item_once(page_size: int, total: int) -> None:
    seen: list[int] = []
    page = 1
    while True:
        request = PageRequest(page, page_size)
        seen.extend(range(request.offset, min(request.offset + page_size, total)))
        if not Page(items=[], total=total, page=page, page_size=page_size).has_next:
            break
        page += 1
    assert seen == list(range(total))


@FEW
@given(
    st.integers(-(10**12), 0) | st.integers(MAX_PAGE + 1, 10**12),
    page_sizes,
)
def test_pages_out_of_range_are_refused(page: int, page_size: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(page, page_size)
    assert caught.value.field == "page"


@FEW
@given(pages, st.integers(-(10**12), 0) | st.integers(MAX_PAGE_SIZE + 1, 10**12))
def test_page_sizes_out_of_range_are_refused(page: int, page_size: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        PageRequest(page, page_size)
    assert caught.value.field == "page_size"


# --- Token digests -------------------------------------------------------------------------


@FEW
@given(st.text())
def test_token_digest_is_deterministic_hex(token: str) -> None:
    digest = token_digest(token)
    assert digest == token_digest(token)
    assert len(digest) == 64
    assert set(digest) <= set(string.hexdigits.lower())


@FEW
@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=50, unique=True))
def test_different_tokens_have_different_digests(tokens: list[str]) -> None:
    assert len({token_digest(token) for token in tokens}) == len(tokens)


@FEW
@given(st.text(max_size=60), st.characters(codec="utf-8"), st.integers())
def test_any_one_character_more_changes_the_digest(token: str, char: str, where: int) -> None:
    assert token_digest(_insert(token, char, where)) != token_digest(token)


# --- Request bodies ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | any_text
    | st.text(alphabet=printable, max_size=300)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = ["email", "password", "full_name", "current_password", "roles", "is_active"]
FIELDS += ["title", "description"]
# Values near the valid ones, so that bodies that pass are generated too.
plausible = {
    "email": emails
    | st.builds(
        lambda before, email, after: before + email.upper() + after, padding, emails, padding
    )
    | st.builds(_insert, emails, st.sampled_from([" ", "\x00", "\ud800", "@", ".."]), st.integers())
    | any_text,
    "password": st.text(alphabet=printable, min_size=MIN_LENGTH - 1, max_size=MAX_LENGTH + 1)
    | st.text(alphabet=" \t\x00\ud800a\u00e9", min_size=MIN_LENGTH, max_size=MIN_LENGTH + 4)
    | st.sampled_from([MIN_LENGTH - 1, MIN_LENGTH, MAX_LENGTH, MAX_LENGTH + 1]).map("p".__mul__)
    | any_text,
    "current_password": st.text(max_size=30)
    | st.builds(_insert, st.text(max_size=10), forbidden, st.integers())
    | any_text,
    "full_name": st.none()
    | st.text(alphabet=printable, max_size=60)
    | st.text(alphabet=" a\x00\x1f\x7f\n\ud800", max_size=10)
    | st.integers(MAX_FULL_NAME_LENGTH - 1, MAX_FULL_NAME_LENGTH + 1).map("n".__mul__)
    | any_text,
    "roles": st.lists(st.sampled_from(["user", "admin", "root", ""]), max_size=3),
    "is_active": st.booleans() | st.sampled_from(["true", "no", 1, 0, 2]),
    "title": st.text(alphabet=printable, max_size=MAX_TITLE_LENGTH + 2)
    | st.text(alphabet=" a\x00\x1f\n\ud800", max_size=10)
    | st.integers(MAX_TITLE_LENGTH - 1, MAX_TITLE_LENGTH + 1).map("t".__mul__)
    | any_text,
    "description": st.none()
    | st.text(alphabet=printable | st.just("\n"), max_size=60)
    | st.integers(MAX_DESCRIPTION_LENGTH - 1, MAX_DESCRIPTION_LENGTH + 1).map("d".__mul__),
}
bodies = (
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=5)
    | st.fixed_dictionaries({}, optional={name: plausible[name] | json_values for name in FIELDS})
    | st.fixed_dictionaries({name: plausible[name] for name in FIELDS[:3]})
    | st.fixed_dictionaries({"title": plausible["title"]}, optional={"description": json_values})
    | st.fixed_dictionaries({}, optional={name: plausible[name] for name in FIELDS})
    | json_values
)


def _near_valid(required: tuple[str, ...], optional: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Bodies with only the model's own fields, each often valid, sometimes just not."""
    return st.fixed_dictionaries(
        {name: plausible[name] for name in required},
        optional={name: plausible[name] for name in optional},
    )


user_create_bodies = _near_valid(("email", "password"), ("full_name",))
user_update_bodies = _near_valid((), tuple(FIELDS[:6]))
item_create_bodies = _near_valid(("title",), ("description",))
item_update_bodies = _near_valid((), ("title", "description"))


def _validate(model: type[BaseModel], body: Any) -> BaseModel | None:
    try:
        return model.model_validate(body)
    except ValidationError:
        return None


def _check_email(value: str) -> None:
    assert Email(value).value == value
    _assert_normal_form(value)


def _check_full_name(value: str | None) -> None:
    assert value is None or normalise_full_name(value) == value


def _check_item_text(title: object, description: object) -> None:
    # The body checks the length; the characters are the domain's to judge, and a refusal
    # there is a ValidationFailed, which the HTTP layer answers with a 422.
    if isinstance(title, str):
        assert 1 <= len(title) <= MAX_TITLE_LENGTH
        refusal = _refusal(normalise_title, title)
        if refusal is None:
            assert normalise_title(normalise_title(title)) == title.strip()
        else:
            assert refusal.field == "title"
    if isinstance(description, str):
        assert len(description) <= MAX_DESCRIPTION_LENGTH
        refusal = _refusal(normalise_description, description)
        if refusal is None:
            assert normalise_description(description) == description
        else:
            assert refusal.field == "description"


def _check_user_create(model: Any, body: dict[str, Any]) -> None:
    assert isinstance(model, UserCreate)
    assert set(body) <= {"email", "password", "full_name"}
    _check_email(model.email)
    check_password_policy(model.password)
    _check_full_name(model.full_name)


def _check_user_update(model: Any, body: dict[str, Any]) -> None:
    assert isinstance(model, UserUpdate)
    assert model.model_fields_set == set(body)
    changes = model.changes()
    if "email" in body:
        _check_email(model.email)
        assert changes.email == model.email
    if "password" in body:
        check_password_policy(model.password)
    if "current_password" in body:
        assert isinstance(model.current_password, str)
        assert is_storable(model.current_password)
    if "roles" in body:
        assert 1 <= len(model.roles) <= 2
        assert changes.roles == frozenset(model.roles)
    if "is_active" in body:
        assert isinstance(model.is_active, bool)
    _check_full_name(model.full_name)


def _check_item_create(model: Any, body: dict[str, Any]) -> None:
    assert isinstance(model, ItemCreate)
    assert set(body) <= {"title", "description"}
    assert isinstance(model.title, str)
    assert model.description is None or isinstance(model.description, str)
    _check_item_text(model.title, model.description)


def _check_item_update(model: Any, body: dict[str, Any]) -> None:
    assert isinstance(model, ItemUpdate)
    assert model.model_fields_set == set(body)
    changes = model.changes()
    if "title" in body:
        assert isinstance(model.title, str)
        assert changes.title == model.title
    _check_item_text(model.title if "title" in body else None, model.description)


CHECKS: dict[type[BaseModel], Callable[[Any, dict[str, Any]], None]] = {
    UserCreate: _check_user_create,
    UserUpdate: _check_user_update,
    ItemCreate: _check_item_create,
    ItemUpdate: _check_item_update,
}


def _validates_to_domain_values(model: type[BaseModel], body: Any) -> None:
    """Validation either raises ValidationError (no other exception gets out) or gives
    values the domain rules accept."""
    result = _validate(model, body)
    if result is not None:
        CHECKS[model](result, body)


@PROPERTY
@given(user_create_bodies)
def test_user_create_validates_to_domain_values_or_raises_validation_error(body: Any) -> None:
    _validates_to_domain_values(UserCreate, body)


@PROPERTY
@given(user_update_bodies)
def test_user_update_validates_to_domain_values_or_raises_validation_error(body: Any) -> None:
    _validates_to_domain_values(UserUpdate, body)


@PROPERTY
@given(item_create_bodies)
def test_item_create_validates_to_domain_values_or_raises_validation_error(body: Any) -> None:
    _validates_to_domain_values(ItemCreate, body)


@PROPERTY
@given(item_update_bodies)
def test_item_update_validates_to_domain_values_or_raises_validation_error(body: Any) -> None:
    _validates_to_domain_values(ItemUpdate, body)


@PROPERTY
@given(st.sampled_from(list(CHECKS)), bodies)
def test_arbitrary_json_bodies_validate_to_domain_values_or_raise_validation_error(
    model: type[BaseModel], body: Any
) -> None:
    _validates_to_domain_values(model, body)


@PROPERTY
@given(
    st.sampled_from([UserCreate, UserUpdate, ItemCreate, ItemUpdate]),
    bodies.map(lambda body: json.dumps(body)) | st.text(max_size=40),
)
def test_request_bodies_from_json_raise_nothing_but_validation_error(
    model: type[BaseModel], raw: str
) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(raw)
