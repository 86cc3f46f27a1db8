""".env.example lists every setting with its default, so that it cannot drift from the code.

The rule: every field of ``Settings`` appears exactly once as an uncommented ``NAME=value``
line. A setting with no default (None) or holding a secret is listed empty; every other one
carries its default, written as a user would write it (``true``, comma-separated lists)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from entrypoints.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def listed() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line)
        if match is None:
            assert not line or line.startswith("#"), f"neither a setting nor a comment: {line!r}"
            continue
        name, value = match.groups()
        assert name not in values, f"{name} is listed twice"
        values[name] = value
    return values


def is_secret(name: str) -> bool:
    annotation = Settings.model_fields[name].annotation
    return SecretStr in getattr(annotation, "__args__", (annotation,))


def written(default: Any) -> str:
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, list):
        return ",".join(str(part) for part in default)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_every_setting_is_listed_and_nothing_else() -> None:
    assert set(listed()) == {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_each_setting_carries_its_default(name: str) -> None:
    value = listed().get(name.upper())
    assert value is not None, f"{name.upper()} is not in .env.example"
    default = Settings.model_fields[name].get_default(call_default_factory=True)
    if default is None or is_secret(name):
        assert value == "", f"{name.upper()} has no default or is a secret: list it empty"
    else:
        assert value == written(default), f"{name.upper()}: the code's default is {default!r}"


def test_the_file_as_is_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    from_file = Settings(_env_file=ENV_EXAMPLE)
    assert from_file.model_dump() == Settings(_env_file=None).model_dump()
