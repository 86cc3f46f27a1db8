"""One live-event socket, from its first message to its close: authentication, then the
caller's events out and the client's few messages in, until one side ends it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from application.errors import StorageUnavailable
from application.ports import (
    Clock,
    Delivery,
    EventBus,
    Reset,
    SocketSlots,
    SubscriberTooSlow,
)
from application.use_cases.sessions.get_current_user import (
    GetCurrentUser,
    GetCurrentUserCommand,
    SignedIn,
)
from domain.errors import AuthenticationFailed
from domain.events import SessionsEnded
from entrypoints.http.live import protocol as p
from entrypoints.metrics import Metrics

logger = logging.getLogger("keel.live")


class Disconnected(Exception):
    """The client went away: nothing is left to close."""


class ConnectionCounter:
    """The sockets open in this worker, and the worker's stop, which ends each of them. (The
    cap per user is the ``SocketSlots`` port's: it may count across workers.)"""

    def __init__(self) -> None:
        self._on_stop: set[Callable[[], None]] = set()
        self.total = 0
        self.stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    def renew(self) -> None:
        """Events of the running loop (the app may be started more than once in tests)."""
        self.stopping = False
        self._idle = asyncio.Event()
        if self.total == 0:
            self._idle.set()

    def stop(self) -> None:
        """Ask every socket of this worker to close (1001), and any that opens from now."""
        self.stopping = True
        for end in list(self._on_stop):
            end()

    def when_stopping(self, end: Callable[[], None]) -> Callable[[], None]:
        """Call ``end`` when the worker stops; returns what cancels that."""
        self._on_stop.add(end)
        if self.stopping:
            end()
        return lambda: self._on_stop.discard(end)

    async def all_closed(self) -> None:
        await self._idle.wait()

    def enter(self) -> None:
        self.total += 1
        self._idle.clear()

    def leave(self) -> None:
        self.total -= 1
        if self.total == 0:
            self._idle.set()


class LiveSession:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        get_current_user: GetCurrentUser,
        bus: EventBus,
        clock: Clock,
        counter: ConnectionCounter,
        slots: SocketSlots,
        metrics: Metrics,
    ) -> None:
        self._ws = websocket
        self._get_current_user = get_current_user
        self._bus = bus
        self._clock = clock
        self._counter = counter
        self._slots = slots
        self._metrics = metrics
        self._received: deque[float] = deque()

    async def run(self) -> None:
        """Serve the socket, then close it with the code its end calls for."""
        try:
            code = await self._serve()
        except p.Violation as violation:
            await self._close(violation.code, violation.reason)
        except Disconnected:
            return
        else:
            await self._close(code)

    async def _serve(self) -> int:
        try:
            with anyio.fail_after(p.AUTH_SECONDS):
                hello = await self._receive()
        except TimeoutError:
            return p.AUTH_TIMEOUT
        token, after = p.auth_of(hello)
        signed = await self._signed_in(token)
        if signed is None:
            return p.UNAUTHORISED
        user = signed.user
        try:
            slot = await self._slots.take(user.id)
        except StorageUnavailable:
            # Like the rate limits: a count that cannot be read refuses, never lets past.
            return p.TRY_AGAIN_LATER
        if slot is None:
            return p.TOO_MANY_CONNECTIONS
        self._counter.enter()
        self._metrics.live_sockets.inc()
        try:
            try:
                subscription = await self._bus.subscribe(
                    user.id, everyone=user.is_admin, after=after, capacity=p.SEND_QUEUE
                )
            except StorageUnavailable:
                return p.TRY_AGAIN_LATER
            try:
                await self._send(p.READY)
                # Two tasks a socket (a thousand idle sockets are a thousand of each): the
                # token's expiry is a deadline and the worker's stop a callback, not tasks.
                return await _first_of(
                    lambda: self._forward(subscription.receive, token),
                    self._listen,
                    counter=self._counter,
                    deadline=self._seconds_left(signed.expires_at),
                )
            finally:
                subscription.close()
        finally:
            self._metrics.live_sockets.dec()
            self._counter.leave()
            # Given back even when the socket's task is being cancelled.
            with anyio.CancelScope(shield=True):
                await self._slots.release(user.id, slot)

    async def _signed_in(self, token: str) -> SignedIn | None:
        try:
            return await self._get_current_user.signed_in(GetCurrentUserCommand(token))
        except AuthenticationFailed:
            return None
        except StorageUnavailable:
            raise p.Violation(p.TRY_AGAIN_LATER, "try again later") from None

    async def _forward(self, receive: Any, token: str) -> int:
        while True:
            try:
                notice = await receive()
            except SubscriberTooSlow:
                self._metrics.live_dropped_slow.inc()
                return p.TRY_AGAIN_LATER
            if isinstance(notice, Delivery):
                await self._send(p.event_message(notice))
                self._metrics.live_events_sent.inc()
            elif isinstance(notice, Reset):
                await self._send(p.RESET)
            elif isinstance(notice, SessionsEnded) and await self._signed_in(token) is None:
                return p.UNAUTHORISED

    async def _listen(self) -> int:
        while True:
            message = await self._receive()
            if message["type"] == "ping":
                await self._send(p.PONG)
            elif message["type"] == "auth":
                raise p.Violation(p.POLICY_VIOLATION, "already authenticated")
            else:
                raise p.Violation(p.POLICY_VIOLATION, "unknown message type")

    def _seconds_left(self, expires_at: datetime | None) -> float | None:
        if expires_at is None:
            return None
        return max((expires_at - self._clock.now()).total_seconds(), 0.0)

    async def _receive(self) -> dict[str, Any]:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise Disconnected()
        now = time.monotonic()
        self._received.append(now)
        while self._received[0] < now - p.CLIENT_WINDOW_SECONDS:
            self._received.popleft()
        if len(self._received) > p.CLIENT_MESSAGES:
            raise p.Violation(p.POLICY_VIOLATION, "too many messages")
        return p.parse(message.get("text"), message.get("bytes"))

    async def _send(self, text: str) -> None:
        try:
            with anyio.fail_after(p.SEND_SECONDS):
                await self._ws.send_text(text)
        except TimeoutError:
            self._metrics.live_dropped_slow.inc()
            raise p.Violation(p.TRY_AGAIN_LATER, "too slow") from None
        except (WebSocketDisconnect, RuntimeError, OSError):
            raise Disconnected() from None

    async def _close(self, code: int, reason: str = "") -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._ws.close(code, reason)


async def _first_of(
    *works: Callable[[], Awaitable[int]],
    counter: ConnectionCounter,
    deadline: float | None,
) -> int:
    """The result of whichever ends first, the others cancelled; the protocol's exceptions
    of the first to end are raised. Past ``deadline`` seconds (the token's expiry) the end
    is 4401; once the worker stops, 1001."""
    outcome: list[int | p.Violation | Disconnected] = []
    expiry: asyncio.TimerHandle | None = None
    forget: Callable[[], None] | None = None
    try:
        async with anyio.create_task_group() as group:

            def end(code: int) -> None:
                outcome.append(code)
                group.cancel_scope.cancel()

            async def run(work: Callable[[], Awaitable[int]]) -> None:
                try:
                    outcome.append(await work())
                except (p.Violation, Disconnected) as exc:
                    outcome.append(exc)
                group.cancel_scope.cancel()

            if deadline is not None:
                expiry = asyncio.get_running_loop().call_later(deadline, end, p.UNAUTHORISED)
            forget = counter.when_stopping(lambda: end(p.GOING_AWAY))
            for work in works:
                group.start_soon(run, work)
    finally:
        if forget is not None:
            forget()
        if expiry is not None:
            expiry.cancel()
    first = outcome[0]
    if isinstance(first, BaseException):
        raise first
    return first
