"""The query parameters every listing takes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, PageRequest


async def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Which page, from 1")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Entries per page, 1 to {MAX_PAGE_SIZE}")
    ] = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    return PageRequest(page=page, page_size=page_size)


PageParams = Annotated[PageRequest, Depends(page_request)]
