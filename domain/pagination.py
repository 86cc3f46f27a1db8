"""Pages of a list: what was asked for, and what came back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Far beyond any real list, and small enough that the offset fits every database integer.
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise ValidationFailed("page", f"Must be between 1 and {MAX_PAGE}", "range")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed("page_size", f"Must be between 1 and {MAX_PAGE_SIZE}", "range")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total
