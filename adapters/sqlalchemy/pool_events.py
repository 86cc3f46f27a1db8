"""Tells an observer when connections leave and return to the engine's pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_OUT = "keel_checked_out"


def watch_checkouts(
    engine: AsyncEngine, on_checkout: Callable[[], None], on_checkin: Callable[[], None]
) -> None:
    """``on_checkin`` once for each ``on_checkout``. The pool also says "checkin" of a
    connection that was never handed out: one taken from the pool whose connecting then
    failed (the database refused, or the checkout had to be made again in a greenlet), put
    back unused. Those are not counted, or the count of connections in use would drift
    below the truth with each."""

    def checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.record_info[_OUT] = True
        on_checkout()

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.record_info.pop(_OUT, False):
            on_checkin()

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)
