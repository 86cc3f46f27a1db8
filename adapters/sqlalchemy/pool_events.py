"""Tells an observer when connections leave and return to the engine's pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def watch_checkouts(
    engine: AsyncEngine, on_checkout: Callable[[], None], on_checkin: Callable[[], None]
) -> None:
    def checkout(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        on_checkout()

    def checkin(_dbapi_connection: Any, _record: Any) -> None:
        on_checkin()

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)
