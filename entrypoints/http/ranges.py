"""The ``Range`` header of a download: one range of bytes (RFC 9110, section 14)."""

from __future__ import annotations

import re

_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")


class RangeNotSatisfiable(Exception):
    """The range asked for is malformed, several, or outside the ``size`` bytes there are."""

    def __init__(self, size: int) -> None:
        super().__init__("The requested range cannot be served")
        self.message = f"The requested range cannot be served: the content has {size} bytes"
        self.size = size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (``end`` exclusive) of the range asked for; None for the whole."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        raise RangeNotSatisfiable(size)
    first, last = match[1], match[2]
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - length, 0), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(size)
    return start, end
