from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import Clock, CredentialReader
from domain.session import DeviceSession


@dataclass(frozen=True, slots=True)
class ListSessionsCommand:
    user_id: uuid.UUID


class ListSessions:
    """The caller's sessions that have not ended or expired, newest login first: one per
    device (a refresh-token family), with its last login or refresh."""

    def __init__(self, credentials: CredentialReader, clock: Clock) -> None:
        self._credentials = credentials
        self._clock = clock

    async def execute(self, command: ListSessionsCommand) -> list[DeviceSession]:
        return await self._credentials.live_sessions(command.user_id, self._clock.now())
