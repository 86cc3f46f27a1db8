"""Personal tokens, and the credential read side, in dictionaries, for the fast tests."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from adapters.memory.store import InMemoryStore
from domain.personal_token import PersonalToken
from domain.session import DeviceSession
from domain.user import User


class InMemoryPersonalTokenStore:
    """Writes reach the store on ``apply`` (the unit of work's commit)."""

    def __init__(self, committed: dict[uuid.UUID, PersonalToken]) -> None:
        self._committed = committed
        self._written: dict[uuid.UUID, PersonalToken] = {}
        self._deleted: set[uuid.UUID] = set()

    def _get(self, token_id: uuid.UUID) -> PersonalToken | None:
        return self._written.get(token_id) or self._committed.get(token_id)

    async def add(self, token: PersonalToken) -> None:
        self._written[token.id] = dataclasses.replace(token)

    async def revoke(self, token_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> bool:
        token = self._get(token_id)
        if token is None or token.user_id != user_id or token.revoked_at is not None:
            return False
        self._written[token_id] = dataclasses.replace(token, revoked_at=now)
        return True

    async def touch(self, token_id: uuid.UUID, now: datetime) -> None:
        token = self._get(token_id)
        if token is not None and token.last_use_is_stale(now):
            self._written[token_id] = dataclasses.replace(token, last_used_at=now)

    async def delete_ended_before(self, cutoff: datetime, limit: int) -> int:
        ended = [
            token.id
            for token in self._committed.values()
            if token.id not in self._deleted
            and (token.expires_at < cutoff or (token.revoked_at or cutoff) < cutoff)
        ][:limit]
        self._deleted.update(ended)
        return len(ended)

    def apply(self) -> None:
        self._committed.update(self._written)
        for token_id in self._deleted:
            self._committed.pop(token_id, None)
        self._written = {}
        self._deleted = set()

    def discard(self) -> None:
        self._written = {}
        self._deleted = set()


class InMemoryCredentialReader:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def live_sessions(self, user_id: uuid.UUID, now: datetime) -> list[DeviceSession]:
        live = [
            DeviceSession(
                id=s.family_id,
                created_at=s.started_at or s.created_at,
                last_used_at=s.created_at,
                user_agent=s.user_agent,
                address=s.address,
            )
            for s in self._store.sessions.values()
            if s.user_id == user_id and s.is_live(now)
        ]
        return sorted(live, key=lambda s: (s.created_at, s.id), reverse=True)

    async def personal_tokens(self, user_id: uuid.UUID) -> list[PersonalToken]:
        tokens = [
            dataclasses.replace(t)
            for t in self._store.personal_tokens.values()
            if t.user_id == user_id and t.revoked_at is None
        ]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    async def token_holder(self, token_hash: str) -> tuple[User, PersonalToken] | None:
        token = next(
            (t for t in self._store.personal_tokens.values() if t.token_hash == token_hash), None
        )
        user = self._store.users.get(token.user_id) if token is not None else None
        if token is None or user is None:
            return None
        return dataclasses.replace(user), dataclasses.replace(token)
