"""The attachment settings are checked at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.sniffing import KNOWN_TYPES
from entrypoints.settings import Settings, describe_settings_error


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.attachment_max_bytes == 10 * 1024 * 1024
    assert settings.attachment_quota_bytes == 100 * 1024 * 1024
    assert settings.attachment_types == list(KNOWN_TYPES)


def test_types_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTACHMENT_TYPES", " image/PNG, text/plain ,image/png")
    assert Settings(_env_file=None).attachment_types == ["image/png", "text/plain"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ATTACHMENT_TYPES", "text/html"),
        ("ATTACHMENT_TYPES", ","),
        ("ATTACHMENT_MAX_BYTES", "0"),
        ("ATTACHMENT_MAX_BYTES", "lots"),
        ("ATTACHMENT_QUOTA_BYTES", "-1"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert name in describe_settings_error(caught.value)
