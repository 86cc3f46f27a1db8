"""One file field of a multipart body, read as a stream: its bytes are handed on as they
arrive and never gathered (``request.form()`` would spool the whole file first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from domain.errors import ValidationFailed


class MultipartRefused(ValidationFailed):
    """The body is not one multipart part holding the file field."""

    def __init__(self, message: str, field: str = "file", kind: str = "multipart") -> None:
        super().__init__(field, message, kind)


@dataclass(frozen=True, slots=True)
class FileField:
    filename: str | None
    chunks: AsyncIterator[bytes]


class _Events:
    """The parser's callbacks, queued as (kind, data) until the reader takes them."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, bytes]] = []
        self._name = b""
        self._value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": lambda: self.queue.append(("begin", b"")),
            "on_part_data": lambda data, start, end: self.queue.append(
                ("data", bytes(data[start:end]))
            ),
            "on_part_end": lambda: self.queue.append(("part_end", b"")),
            "on_header_field": self._field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": lambda: self.queue.append(("headers", b"")),
            "on_end": lambda: self.queue.append(("end", b"")),
        }

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._name.lower() == b"content-disposition":
            self.queue.append(("disposition", self._value))
        self._name = self._value = b""


async def file_field(request: Request, name: str = "file") -> FileField:
    """The field ``name``, which must be the body's first and only part and a file. Its
    filename is known when this returns; its bytes come as ``chunks`` is iterated, which
    raises ``MultipartRefused`` for a second part or a body cut off before its end."""
    media_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise MultipartRefused(
            f"Send the file as multipart/form-data, in the field `{name}`",
            field="body",
            kind="multipart_expected",
        )
    events = _Events()
    parser = MultipartParser(boundary, events.callbacks())  # type: ignore[arg-type]
    stream = _events(request, parser, events)
    disposition = b""
    async for kind, data in stream:
        if kind == "disposition":
            disposition = data
        elif kind == "headers":
            break
        elif kind == "end":
            raise MultipartRefused(f"The field `{name}` is missing")
    else:
        raise MultipartRefused("The multipart body ended before its first part")
    _, parameters = parse_options_header(disposition)
    if parameters.get(b"name") != name.encode():
        raise MultipartRefused(f"Only the field `{name}` is accepted, first and alone")
    filename = parameters.get(b"filename")
    if filename is None:
        raise MultipartRefused(f"The field `{name}` must be a file")
    return FileField(filename.decode("utf-8", errors="replace"), _file_bytes(stream, name))


async def _file_bytes(stream: AsyncIterator[tuple[str, bytes]], name: str) -> AsyncIterator[bytes]:
    ended = False
    async for kind, data in stream:
        if kind == "data" and not ended:
            if data:
                yield data
        elif kind == "part_end":
            ended = True
        elif kind == "begin":
            raise MultipartRefused(f"Only one part is accepted: the field `{name}`")
        elif kind == "end":
            return
    raise MultipartRefused("The multipart body ended before its closing boundary")


async def _events(
    request: Request, parser: MultipartParser, events: _Events
) -> AsyncIterator[tuple[str, bytes]]:
    async for chunk in request.stream():
        if not chunk:
            continue
        try:
            parser.write(chunk)
        except MultipartParseError as error:
            raise MultipartRefused(f"The multipart body cannot be read: {error}") from None
        queued, events.queue = events.queue, []
        for event in queued:
            yield event
