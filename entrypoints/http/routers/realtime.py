"""``GET /api/v1/ws``: the caller's item events, live (README, "Realtime")."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from entrypoints.container import Container
from entrypoints.http.live.protocol import POLICY_VIOLATION
from entrypoints.http.live.session import ConnectionCounter, LiveSession
from entrypoints.settings import Settings

router = APIRouter()


@router.websocket("/api/v1/ws")
async def live_events(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    container: Container = websocket.app.state.container
    origin = websocket.headers.get("origin")
    # A browser says where the page came from: only the origins allowed to call the API
    # may open a socket with the user's token (refused before the upgrade: 403).
    if origin is not None and not _allowed(origin, settings.cors_origins):
        await websocket.close(POLICY_VIOLATION)
        return
    await websocket.accept()
    counter: ConnectionCounter = websocket.app.state.live_connections
    await LiveSession(
        websocket,
        get_current_user=container.get_current_user(),
        bus=container.event_bus(),
        clock=container.clock(),
        counter=counter,
        slots=container.socket_slots(),
        metrics=container.metrics(),
    ).run()


def _allowed(origin: str, allowed: list[str]) -> bool:
    return "*" in allowed or origin.rstrip("/") in allowed
