from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from application.use_cases.items.create_item import CreateItemCommand
from application.use_cases.items.delete_item import DeleteItemCommand
from application.use_cases.items.get_item import GetItemCommand
from application.use_cases.items.list_items import ListItemsCommand
from application.use_cases.items.update_item import UpdateItemCommand
from domain.item import ItemBusy, ItemNotFound
from entrypoints.http.bodies import json_body
from entrypoints.http.dependencies import (
    CreateItemCase,
    DeleteItemCase,
    GetItemCase,
    ItemsReader,
    ItemsWriter,
    ListItemsCase,
    UpdateItemCase,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.etags import (
    IF_NONE_MATCH_PARAMETER,
    IfMatch,
    etag_of,
    none_match_condition,
    none_match_fails,
)
from entrypoints.http.openapi import ETAG_HEADER, documented, links_from_created
from entrypoints.http.pagination import BAD_CURSOR, PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.schemas.common import StorableText
from entrypoints.http.schemas.items import ItemCreate, ItemOut, ItemPage, ItemUpdate

router = APIRouter(prefix=f"{API_PREFIX}/items", tags=["items"])

NOT_FOUND = ItemNotFound()
BAD_ITEM_ID = FieldError(
    field="item_id",
    message="Input should be a valid UUID, invalid character: found `n` at 0",
    type="uuid_parsing",
)
EMPTY_TITLE = FieldError(
    field="title", message="String should have at least 1 character", type="string_too_short"
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemOut,
    summary="Create an item",
    operation_id="createItem",
    responses=documented(
        201,
        "The new item",
        errors=(400, 401, 403, 413, 422, 503),
        examples={422: EMPTY_TITLE},
        links=links_from_created("Item", "item_id", etag=True),
        headers=ETAG_HEADER,
    ),
)
async def create_item(body: ItemCreate, user: ItemsWriter, use_case: CreateItemCase) -> Response:
    """A new item owned by the caller. Title 1 to 200 characters, description up to 10,000.
    The `ETag` answered is the one to send in `If-Match` when changing it."""
    item = await use_case.execute(
        CreateItemCommand(actor=user, title=body.title, description=body.description)
    )
    return json_body(ItemOut.of(item), status_code=201, headers={"ETag": etag_of(item)})


@router.get(
    "",
    response_model=ItemPage,
    summary="List items",
    operation_id="listItems",
    responses=documented(
        200,
        "A page of items",
        errors=(401, 403, 422, 503),
        examples={
            403: "Only an administrator may list other users' items",
            422: [
                FieldError(
                    field="page",
                    message="Input should be greater than or equal to 1",
                    type="greater_than_equal",
                ),
                BAD_CURSOR,
            ],
        },
    ),
)
async def list_items(
    user: ItemsReader,
    use_case: ListItemsCase,
    page: PageParams,
    q: Annotated[
        StorableText | None, Query(max_length=200, description="Part of the title")
    ] = None,
    owner_id: Annotated[
        uuid.UUID | None,
        Query(description="Whose items: administrators may name anyone, others only themselves"),
    ] = None,
) -> Response:
    """Your items, newest first; an administrator sees everyone's and may filter by owner.
    `q` matches part of the title, ignoring case. Anyone else naming an `owner_id` not
    their own gets a 403."""
    found = await use_case.execute(
        ListItemsCommand(
            actor=user,
            page=page.request(search=bool(q)),
            owner_id=owner_id,
            q=q,
            cursor=page.cursor,
        )
    )
    return json_body(ItemPage.of(found, [ItemOut.of(item) for item in found.items]))


@router.get(
    "/{item_id}",
    response_model=ItemOut,
    summary="Read an item",
    operation_id="getItem",
    responses=documented(
        200,
        "The item",
        errors=(401, 403, 404, 422, 503),
        examples={404: NOT_FOUND, 422: BAD_ITEM_ID},
        headers=ETAG_HEADER,
        not_modified=True,
    ),
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER]},
)
async def read_item(
    request: Request, item_id: uuid.UUID, user: ItemsReader, use_case: GetItemCase
) -> Response:
    """The owner or an administrator; 404 for anyone else. With `If-None-Match` naming the
    current `ETag` (or `*`), a 304 with no body."""
    item = await use_case.execute(GetItemCommand(actor=user, item_id=item_id))
    etag = etag_of(item)
    if none_match_fails(none_match_condition(request), item):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return json_body(ItemOut.of(item), headers={"ETag": etag})


@router.patch(
    "/{item_id}",
    response_model=ItemOut,
    summary="Change an item",
    operation_id="updateItem",
    responses=documented(
        200,
        "The item as changed",
        errors=(400, 401, 403, 404, 409, 412, 413, 422, 503),
        examples={404: NOT_FOUND, 409: ItemBusy(), 422: [EMPTY_TITLE, BAD_ITEM_ID]},
        headers=ETAG_HEADER,
    ),
)
async def update_item(
    item_id: uuid.UUID,
    body: ItemUpdate,
    user: ItemsWriter,
    use_case: UpdateItemCase,
    if_match: IfMatch,
) -> Response:
    """Change the fields sent; the owner or an administrator, 404 for anyone else. With
    `If-Match`, only while the item's `ETag` is one it names (or `*`): otherwise a 412 and
    nothing changes. Without, concurrent changes of different fields all survive."""
    item = await use_case.execute(
        UpdateItemCommand(
            actor=user, item_id=item_id, changes=body.changes(), expected_versions=if_match
        )
    )
    return json_body(ItemOut.of(item), headers={"ETag": etag_of(item)})


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an item",
    operation_id="deleteItem",
    responses=documented(
        204,
        "Deleted",
        errors=(401, 403, 404, 412, 422, 503),
        examples={404: NOT_FOUND, 422: BAD_ITEM_ID},
    ),
)
async def delete_item(
    item_id: uuid.UUID, user: ItemsWriter, use_case: DeleteItemCase, if_match: IfMatch
) -> None:
    """The owner or an administrator; 404 for anyone else. With `If-Match`, only while the
    item's `ETag` is one it names (or `*`): otherwise a 412 and the item stays."""
    await use_case.execute(
        DeleteItemCommand(actor=user, item_id=item_id, expected_versions=if_match)
    )
