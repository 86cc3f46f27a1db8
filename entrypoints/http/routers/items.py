from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from entrypoints.http.dependencies import ContainerDep, CurrentUser
from entrypoints.http.envelope import error_responses
from entrypoints.http.pagination import PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas import ItemCreate, ItemOut, ItemUpdate, PageOut

router = APIRouter(prefix=f"{API_PREFIX}/items", tags=["items"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemOut,
    summary="Create an item",
    responses=error_responses(401, 422, 503),
)
async def create_item(body: ItemCreate, user: CurrentUser, container: ContainerDep) -> ItemOut:
    """A new item owned by the caller. Title 1 to 200 characters, description up to 10,000."""
    item = await container.create_item().execute(user, body.title, body.description)
    return ItemOut.of(item)


@router.get(
    "",
    response_model=PageOut[ItemOut],
    summary="List items",
    responses=error_responses(401, 403, 422, 503),
)
async def list_items(
    user: CurrentUser,
    container: ContainerDep,
    page: PageParams,
    q: Annotated[str | None, Query(max_length=200, description="Part of the title")] = None,
    owner_id: Annotated[uuid.UUID | None, Query(description="Administrators only")] = None,
) -> PageOut[ItemOut]:
    """Your items, newest first; an administrator sees everyone's and may filter by owner."""
    found = await container.list_items().execute(user, page, owner_id, q)
    return PageOut.of(found, [ItemOut.of(item) for item in found.items])


@router.get(
    "/{item_id}",
    response_model=ItemOut,
    summary="Read an item",
    responses=error_responses(401, 404, 422, 503),
)
async def read_item(item_id: uuid.UUID, user: CurrentUser, container: ContainerDep) -> ItemOut:
    """The owner or an administrator; 404 for anyone else."""
    return ItemOut.of(await container.get_item().execute(user, item_id))


@router.patch(
    "/{item_id}",
    response_model=ItemOut,
    summary="Change an item",
    responses=error_responses(401, 404, 422, 503),
)
async def update_item(
    item_id: uuid.UUID, body: ItemUpdate, user: CurrentUser, container: ContainerDep
) -> ItemOut:
    """Change the fields sent; the owner or an administrator, 404 for anyone else."""
    return ItemOut.of(await container.update_item().execute(user, item_id, body.changes()))


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an item",
    responses=error_responses(401, 404, 422, 503),
)
async def delete_item(item_id: uuid.UUID, user: CurrentUser, container: ContainerDep) -> None:
    """The owner or an administrator; 404 for anyone else."""
    await container.delete_item().execute(user, item_id)
