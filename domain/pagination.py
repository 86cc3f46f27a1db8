"""Pages of a list: what was asked for, and what came back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

from domain.errors import ValidationFailed

if TYPE_CHECKING:
    from domain.keyset import Key

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Far beyond any real list, and small enough that the offset fits every database integer.
MAX_PAGE = 1_000_000
# Counting every matching row costs as much as reading them all: a listing counts up to
# here, and past it says only that there are at least this many.
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A page by number (an offset), or with ``after`` the page that follows a cursor's
    key (``page`` is then the number the cursor carries). ``count``: whether the answer
    holds a ``total`` (counted up to ``COUNT_CAP``)."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    after: Key | None = None
    count: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.page <= MAX_PAGE:
            raise ValidationFailed("page", f"Must be between 1 and {MAX_PAGE}", "range")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed("page_size", f"Must be between 1 and {MAX_PAGE_SIZE}", "range")

    @property
    def offset(self) -> int:
        """Rows skipped before the page: none after a key."""
        return 0 if self.after is not None else (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        """Rows read: one more than the page, which says whether another follows."""
        return self.page_size + 1


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """``total``: how many rows match, None when not counted; when ``total_is_exact`` is
    false, at least that many. ``more``: whether rows follow (None: from ``total``)."""

    items: list[T]
    total: int | None
    page: int
    page_size: int
    more: bool | None = None
    total_is_exact: bool = True
    next_cursor: str | None = None

    @property
    def has_next(self) -> bool:
        if self.more is not None:
            return self.more
        return self.total is not None and self.page * self.page_size < self.total

    @classmethod
    def of_rows(cls, rows: list[T], counted: int | None, request: PageRequest) -> Page[T]:
        """The page from up to ``request.limit`` rows read and the matching rows counted up
        to ``COUNT_CAP + 1`` (None: not counted)."""
        shown = rows[: request.page_size]
        more = len(rows) > request.page_size
        total, exact = counted, counted is not None and counted <= COUNT_CAP
        if counted is not None and not exact:
            total = COUNT_CAP
        if request.after is None and not more and (shown or request.offset == 0):
            # The last page by number, counted or not: every row before it was skipped,
            # none follows.
            total, exact = request.offset + len(shown), True
        return cls(shown, total, request.page, request.page_size, more, exact)

    def with_count(self, counted: int) -> Page[T]:
        """This page, read without a count, given the matching rows counted apart (up to
        ``COUNT_CAP + 1``). The last page by number has counted itself already."""
        if self.total is not None:
            return self
        exact = counted <= COUNT_CAP
        return replace(self, total=counted if exact else COUNT_CAP, total_is_exact=exact)
