"""The event bus of many processes and machines: Redis Streams.

Each user's item events go to a stream of their own and to one stream of everyone's (the
administrators', and what every process reads); the end of sessions to a control stream.
One script appends an event to both streams at once, and only when it is newer than what
was published for its item (so repeats and overtaken events are dropped), then trims them:
an entry goes once it is both older than five minutes and not among the newest 1,000.
Each process reads the everyone and control streams with one blocking ``XREAD`` and hands
each event to its own sockets; a replay reads the subscriber's stream with ``XRANGE``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from adapters.live.fanout import Fanout
from adapters.live.ordering import order_of, parse_id
from application.errors import StorageUnavailable
from application.outbox import decode, encode
from application.ports import Delivery, Notice, Reset, Subscription
from application.ports.live import KEPT_EVENTS, KEPT_SECONDS
from domain.events import ItemCreated, ItemDeleted, ItemUpdated, LiveEvent, SessionsEnded

logger = logging.getLogger("keel.live")

# However busy a user is, about this many of their events at most are kept.
MOST_KEPT_EVENTS = 20_000
# How long the last published version of an item is remembered.
ORDER_SECONDS = 86_400
# The end of sessions only matters to sockets open now: a short stream.
CONTROL_KEPT = 1_000
READ_BLOCK_MS = 1_000
READ_COUNT = 500
OUTAGE_PAUSE_SECONDS = 1.0

_PUBLISH = """
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return false end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[7])
local cap = tonumber(ARGV[6])
local uid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', cap, '*', 'k', ARGV[2], 'e', ARGV[3])
local aid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', cap * 10, '*',
    'k', ARGV[2], 'e', ARGV[3], 'u', uid)
local keep, keep_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local function ms(id) return tonumber(string.match(id, '^(%d+)-')) end
local function trim(key, gone_key, newest)
    -- Amortised: only once a tenth more than the count is held, and old entries exist.
    if redis.call('XLEN', key) <= keep + math.floor(keep / 10) then return end
    local cutoff = ms(newest) - keep_ms
    local oldest = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1][1]
    if ms(oldest) >= cutoff then return end
    local newest_kept = redis.call('XREVRANGE', key, '+', '-', 'COUNT', keep)
    local min_id = newest_kept[#newest_kept][1]
    if ms(min_id) > cutoff then min_id = tostring(cutoff) .. '-0' end
    -- The newest entry trimmed: a replay after an id older than it has lost something.
    local last_gone = redis.call('XREVRANGE', key, '(' .. min_id, '-', 'COUNT', 1)[1]
    if last_gone then
        redis.call('SET', gone_key, last_gone[1])
        redis.call('XTRIM', key, 'MINID', min_id)
    end
end
trim(KEYS[2], KEYS[4], uid)
trim(KEYS[3], KEYS[5], aid)
return {uid, aid}
"""


class RedisEventBus:
    def __init__(self, url: str, *, prefix: str = "keel:live:") -> None:
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        # The blocking read waits longer than a command may.
        self._reader_redis = Redis.from_url(
            url, socket_timeout=READ_BLOCK_MS / 1000 + 5, socket_connect_timeout=2
        )
        self._prefix = prefix
        self._everyone = f"{prefix}all"
        self._control = f"{prefix}control"
        self._publish = self._redis.register_script(_PUBLISH)
        self._fanout = Fanout()
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    def _user_stream(self, user_id: uuid.UUID) -> str:
        return f"{self._prefix}user:{user_id}"

    async def publish(self, event: LiveEvent) -> None:
        kind, payload = encode(event)
        try:
            if isinstance(event, SessionsEnded):
                await self._redis.xadd(
                    self._control,
                    {"k": kind, "e": payload},
                    maxlen=CONTROL_KEPT,
                    approximate=True,
                )
                return
            await self._publish(
                keys=[
                    f"{self._prefix}order:{event.item_id}",
                    self._user_stream(event.owner_id),
                    self._everyone,
                    f"{self._user_stream(event.owner_id)}:gone",
                    f"{self._everyone}:gone",
                ],
                args=[
                    order_of(event),
                    kind,
                    payload,
                    KEPT_EVENTS,
                    int(KEPT_SECONDS * 1000),
                    MOST_KEPT_EVENTS,
                    ORDER_SECONDS,
                ],
            )
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("the event bus is unavailable") from exc

    async def subscribe(
        self, user_id: uuid.UUID, *, everyone: bool, after: str | None, capacity: int
    ) -> Subscription:
        try:
            await self._start_reader()
            subscription = self._fanout.add(user_id, everyone=everyone, capacity=capacity)
            try:
                stream = self._everyone if everyone else self._user_stream(user_id)
                subscription.replay([] if after is None else await self._since(stream, after))
            except BaseException:
                subscription.close()
                raise
        except (RedisError, OSError) as exc:
            raise StorageUnavailable("the event bus is unavailable") from exc
        return subscription

    async def _since(self, stream: str, after: str) -> list[Notice]:
        place = parse_id(after)
        if place is None:
            return [Reset()]
        try:
            info: dict[Any, Any] = await self._redis.xinfo_stream(stream)
        except ResponseError:  # no such stream: the id is not one of its
            return [Reset()]
        newest = parse_id(_text(info["last-generated-id"]))
        gone = parse_id(_text(await self._redis.get(f"{stream}:gone") or b"0-0"))
        if newest is None or place > newest or (gone is not None and place < gone):
            return [Reset()]
        entries: Any = await self._redis.xrange(stream, min=f"({after}", max="+")
        notices: list[Notice] = []
        for entry_id, fields in entries:
            event = _event(fields)
            if isinstance(event, ItemCreated | ItemUpdated | ItemDeleted):
                notices.append(Delivery(_text(entry_id), event))
        return notices

    async def _start_reader(self) -> None:
        if self._reader is not None and not self._reader.done():
            return
        # From the newest entries as they are now, before the first subscriber is added:
        # what is published from here on reaches it, live or in its replay.
        last: dict[Any, Any] = {}
        for stream in (self._everyone, self._control):
            newest: Any = await self._redis.xrevrange(stream, count=1)
            last[stream] = _text(newest[0][0]) if newest else "0-0"
        self._reader = asyncio.create_task(self._read(last), name="keel live events")

    async def _read(self, last: dict[Any, Any]) -> None:
        while not self._closing:
            try:
                answer: Any = await self._reader_redis.xread(
                    last, count=READ_COUNT, block=READ_BLOCK_MS
                )
            except (RedisError, OSError) as exc:
                if self._closing:  # a cancelled read can surface as a connection error
                    return
                logger.warning("live events paused", extra={"error": repr(exc)})
                await asyncio.sleep(OUTAGE_PAUSE_SECONDS)
                continue
            for stream_name, entries in answer or []:
                stream = _text(stream_name)
                for entry_id, fields in entries:
                    last[stream] = _text(entry_id)
                    self._dispatch(stream, last[stream], fields)

    def _dispatch(self, stream: str, entry_id: str, fields: dict[bytes, bytes]) -> None:
        event = _event(fields)
        if isinstance(event, SessionsEnded):
            self._fanout.sessions_ended(event)
        elif stream == self._everyone and isinstance(
            event, ItemCreated | ItemUpdated | ItemDeleted
        ):
            self._fanout.item_event(event, _text(fields[b"u"]), entry_id)

    async def close(self) -> None:
        self._closing = True
        reader, self._reader = self._reader, None
        # Cancelled again until it ends: the client may take a cancellation for a failed read.
        while reader is not None and not reader.done():
            reader.cancel()
            await asyncio.wait({reader}, timeout=0.1)
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._redis.aclose()
        await self._reader_redis.aclose()


def _event(fields: dict[bytes, bytes]) -> object:
    """The event an entry holds; ``None`` for one this code cannot read (another version)."""
    try:
        return decode(_text(fields[b"k"]), _text(fields[b"e"]))
    except (KeyError, ValueError, TypeError) as exc:
        logger.warning("live event unreadable", extra={"error": repr(exc)})
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
