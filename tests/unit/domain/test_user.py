from datetime import UTC, datetime

import pytest

from domain.email import Email
from domain.errors import ValidationFailed
from domain.role import Role
from domain.user import User, normalise_full_name

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_registered_user_is_an_active_unverified_ordinary_user() -> None:
    user = User.register(
        email=Email("a@example.com"), hashed_password="h", full_name=" Ada ", now=NOW
    )
    assert user.roles == {Role.USER}
    assert (user.is_active, user.is_superuser, user.is_verified, user.is_admin) == (
        True,
        False,
        False,
        False,
    )
    assert user.full_name == "Ada"
    assert user.created_at == user.updated_at == user.sessions_valid_after == NOW


def test_registered_admin_holds_both_roles() -> None:
    user = User.register(
        email=Email("a@example.com"), hashed_password="h", full_name=None, now=NOW, admin=True
    )
    assert user.roles == {Role.USER, Role.ADMIN}
    assert user.is_admin
    assert user.is_superuser


def test_empty_full_name_is_no_name() -> None:
    assert normalise_full_name("   ") is None
    assert normalise_full_name(None) is None


@pytest.mark.parametrize("name", ["x" * 256, "Ada\x00", "Ada\x07", "Ada\ud800"])
def test_bad_full_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_full_name(name)
    assert caught.value.field == "full_name"
