"""The query parameters every listing takes: a page by number, or the page a cursor leads
to (the cursor itself is checked by the use case, which knows whom and what it is for)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from domain.errors import ValidationFailed
from domain.keyset import MAX_SIGNED_CURSOR_LENGTH
from domain.pagination import COUNT_CAP, DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, PageRequest
from entrypoints.http.envelope import FieldError

BAD_CURSOR = FieldError(field="cursor", message="Not a cursor this service gave", type="cursor")


@dataclass(frozen=True, slots=True)
class PageAsked:
    page: int | None
    page_size: int
    cursor: str | None
    total: bool | None

    def request(self, *, search: bool = False) -> PageRequest:
        """Counted, unless the client says otherwise, only on pages by number outside a
        title search: a search's count reads every row the search itself skips."""
        count = self.total if self.total is not None else self.cursor is None and not search
        return PageRequest(page=self.page or 1, page_size=self.page_size, count=count)


async def page_request(
    page: Annotated[
        int | None, Query(ge=1, le=MAX_PAGE, description="Which page, from 1 (or use `cursor`)")
    ] = None,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Entries per page, 1 to {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_SIGNED_CURSOR_LENGTH,
            description="The `next_cursor` of the page before, for the same filters: the "
            "next page by key, at the same cost however deep (instead of `page`)",
        ),
    ] = None,
    total: Annotated[
        bool | None,
        Query(
            description=f"Whether to count the matching entries (up to {COUNT_CAP:,}): by "
            "default on pages by number, not on pages by cursor nor title searches (`q`); "
            "a last page by number gives its exact total either way"
        ),
    ] = None,
) -> PageAsked:
    if cursor is not None and page is not None:
        raise ValidationFailed("cursor", "Send either page or cursor, not both", "cursor")
    return PageAsked(page, page_size, cursor, total)


PageParams = Annotated[PageAsked, Depends(page_request)]
