"""The contract's rule for ENCRYPTION_KEY: optional in production until a second factor
is turned on, required from then on. The server and the worker check it before they start."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from entrypoints.cli.errors import fail

if TYPE_CHECKING:
    from entrypoints.settings import Settings


def refuse_without_needed_key(settings: Settings) -> None:
    from entrypoints.container import encryption_key_cause

    if (cause := asyncio.run(encryption_key_cause(settings))) is not None:
        raise fail(cause)
