"""Attachments of an item: uploaded as a stream, downloaded as one (with ranges)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from starlette.responses import StreamingResponse

from application.use_cases.attachments.delete_attachment import DeleteAttachmentCommand
from application.use_cases.attachments.read_attachments import (
    GetAttachmentCommand,
    ListAttachmentsCommand,
)
from application.use_cases.attachments.upload_attachment import UploadAttachmentCommand
from domain.attachment import (
    AttachmentNotFound,
    AttachmentTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
)
from domain.item import ItemNotFound
from domain.sniffing import KNOWN_TYPES
from entrypoints.http.bodies import json_body
from entrypoints.http.dependencies import (
    DeleteAttachmentCase,
    GetAttachmentCase,
    ItemsReader,
    ItemsWriter,
    ListAttachmentsCase,
    UploadAttachmentCase,
)
from entrypoints.http.envelope import FieldError
from entrypoints.http.etags import ANY, IF_NONE_MATCH_PARAMETER, none_match_condition
from entrypoints.http.multipart import file_field
from entrypoints.http.openapi import documented
from entrypoints.http.pagination import PageParams
from entrypoints.http.paths import API_PREFIX
from entrypoints.http.ranges import byte_range
from entrypoints.http.schemas.attachments import AttachmentOut, AttachmentPage

router = APIRouter(prefix=f"{API_PREFIX}/items/{{item_id}}/attachments", tags=["attachments"])

# The bytes are never rendered by the browser as part of the API's origin: no script, no
# plugin, no frame, whatever they hold.
DOWNLOAD_CSP = "default-src 'none'; sandbox"
MISSING_FILE = FieldError(field="file", message="The field `file` is missing", type="multipart")
EXAMPLE_MAX = 10 * 1024 * 1024
EXAMPLE_QUOTA = 100 * 1024 * 1024
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
                "additionalProperties": False,
            },
            "example": {"file": "(the file's bytes)"},
        }
    },
}
# Any of ATTACHMENT_TYPES, as sniffed when the file was stored.
BINARY = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
DOWNLOAD_HEADERS = {
    name: {"description": description, "required": True, "schema": {"type": "string"}}
    for name, description in (
        ("ETag", 'The SHA-256 of the content, quoted: `"9f86d0..."`'),
        ("Content-Disposition", "`attachment`, with the cleaned filename (RFC 6266)"),
        ("Accept-Ranges", "`bytes`"),
    )
}


DOWNLOAD_RESPONSES = documented(
    200,
    "The stored bytes, with the sniffed `Content-Type`",
    errors=(401, 404, 416, 422, 503),
    examples={404: AttachmentNotFound()},
    headers=DOWNLOAD_HEADERS,
    not_modified=True,
)
DOWNLOAD_RESPONSES[200]["content"] = BINARY
DOWNLOAD_RESPONSES[206] = {
    "description": "The range asked for, with `Content-Range`",
    "headers": DOWNLOAD_RESPONSES[200]["headers"],
    "content": BINARY,
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentOut,
    summary="Attach a file to an item",
    operation_id="uploadAttachment",
    responses=documented(
        201,
        "The attachment as stored",
        errors=(400, 401, 404, 409, 413, 415, 422, 503),
        examples={
            404: ItemNotFound(),
            413: [AttachmentTooLarge(EXAMPLE_MAX), QuotaExceeded(EXAMPLE_QUOTA)],
            415: UnsupportedMediaType(KNOWN_TYPES),
            422: MISSING_FILE,
        },
    ),
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_attachment(
    request: Request, item_id: uuid.UUID, user: ItemsWriter, use_case: UploadAttachmentCase
) -> Response:
    """The owner of the item or an administrator; 404 for anyone else. One multipart field,
    `file`, streamed to storage as it arrives. Its type is sniffed from the first bytes and
    must be one of `ATTACHMENT_TYPES` (415 otherwise: an HTML or SVG body never passes as
    text, whatever the client says); a file past `ATTACHMENT_MAX_BYTES` is a 413
    `PAYLOAD_TOO_LARGE`, one past what is left of the item owner's `ATTACHMENT_QUOTA_BYTES`
    a 413 `QUOTA_EXCEEDED`, both as soon as the upload passes the limit. The filename is
    kept, cleaned, as metadata only."""
    field = await file_field(request)
    attachment = await use_case.execute(
        UploadAttachmentCommand(
            actor=user, item_id=item_id, filename=field.filename, chunks=field.chunks
        )
    )
    return json_body(AttachmentOut.of(attachment), status_code=201)


@router.get(
    "",
    response_model=AttachmentPage,
    summary="List an item's attachments",
    operation_id="listAttachments",
    responses=documented(
        200, "A page of attachments", errors=(401, 404, 422, 503), examples={404: ItemNotFound()}
    ),
)
async def list_attachments(
    item_id: uuid.UUID, user: ItemsReader, use_case: ListAttachmentsCase, page: PageParams
) -> Response:
    """The owner of the item or an administrator; 404 for anyone else. Newest first."""
    command = ListAttachmentsCommand(
        actor=user, item_id=item_id, page=page.request(), cursor=page.cursor
    )
    found = await use_case.execute(command)
    return json_body(AttachmentPage.of(found, [AttachmentOut.of(a) for a in found.items]))


@router.get(
    "/{attachment_id}",
    response_class=StreamingResponse,
    summary="Download an attachment",
    operation_id="getAttachment",
    responses=DOWNLOAD_RESPONSES,
    openapi_extra={
        "parameters": [
            IF_NONE_MATCH_PARAMETER,
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": r"^bytes=(\d{1,15}-\d{0,15}|-\d{1,15})$"},
                "description": "One range of bytes: `bytes=0-99`, `bytes=100-`, `bytes=-100`",
            },
        ]
    },
)
async def download_attachment(
    request: Request,
    item_id: uuid.UUID,
    attachment_id: uuid.UUID,
    user: ItemsReader,
    use_case: GetAttachmentCase,
) -> Response:
    """The owner of the item or an administrator; 404 for anyone else. Always a download
    (`Content-Disposition: attachment`, `nosniff`, a sandboxing CSP), never rendered in the
    API's origin. `ETag` is the SHA-256: with `If-None-Match` naming it, a 304; one `Range`
    is answered with a 206, a bad or unsatisfiable one with a 416."""
    download = await use_case.execute(
        GetAttachmentCommand(actor=user, item_id=item_id, attachment_id=attachment_id)
    )
    attachment = download.attachment
    etag = f'"{attachment.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Cache-Control": "private, no-cache",
    }
    condition = none_match_condition(request)
    if condition is not None and (condition == ANY or any(tag.opaque == etag for tag in condition)):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    size = attachment.size
    wanted = byte_range(request.headers.get("range"), size)
    start, end = wanted if wanted is not None else (0, size)
    chunks = await download.open(start, end)
    headers["Content-Length"] = str(end - start)
    if wanted is None:
        return _streamed(chunks, 200, attachment.content_type, headers)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return _streamed(chunks, 206, attachment.content_type, headers)


def _streamed(
    chunks: AsyncIterator[bytes], status_code: int, media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    return StreamingResponse(
        chunks, status_code=status_code, media_type=media_type, headers=headers
    )


@router.delete(
    "/{attachment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an attachment",
    operation_id="deleteAttachment",
    responses=documented(
        204, "Deleted", errors=(401, 404, 422, 503), examples={404: AttachmentNotFound()}
    ),
)
async def delete_attachment(
    item_id: uuid.UUID, attachment_id: uuid.UUID, user: ItemsWriter, use_case: DeleteAttachmentCase
) -> None:
    """The owner of the item or an administrator; 404 for anyone else. The bytes are
    removed from storage by a background job committed with the deletion."""
    await use_case.execute(
        DeleteAttachmentCommand(actor=user, item_id=item_id, attachment_id=attachment_id)
    )


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, and the name itself, UTF-8 and
    percent-encoded (RFC 8187), for the rest."""
    fallback = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
