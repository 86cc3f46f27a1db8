import pytest

from domain.errors import WeakPassword
from domain.password import check_password_policy


@pytest.mark.parametrize("password", ["12345678", "correct horse battery staple", "é" * 128])
def test_acceptable_passwords(password: str) -> None:
    check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("", "at least 8"),
        ("1234567", "at least 8"),
        ("x" * 129, "at most 128"),
        ("abcd\x00efgh", "not allowed"),
        ("abcdefg\ud800", "not allowed"),
        ("        ", "whitespace"),
    ],
)
def test_unacceptable_passwords(password: str, fragment: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password_policy(password)
    assert fragment in caught.value.message
    assert caught.value.field == "password"
