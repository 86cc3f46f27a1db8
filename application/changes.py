"""Partial updates: a field left out is not the same as a field set to nothing."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from domain.role import Role


class Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = Unset.UNSET


def given_fields(changes: object) -> frozenset[str]:
    return frozenset(
        f.name
        for f in fields(changes)  # type: ignore[arg-type]
        if getattr(changes, f.name) is not UNSET
    )


@dataclass(frozen=True, slots=True)
class UserChanges:
    email: str | Unset = UNSET
    full_name: str | Unset | None = UNSET
    password: str | Unset = UNSET
    current_password: str | Unset | None = UNSET
    roles: frozenset[Role] | Unset = UNSET
    is_active: bool | Unset = UNSET


@dataclass(frozen=True, slots=True)
class ItemChanges:
    title: str | Unset = UNSET
    description: str | Unset | None = UNSET
