from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.ports import CredentialReader
from domain.personal_token import PersonalToken


@dataclass(frozen=True, slots=True)
class ListPersonalTokensCommand:
    user_id: uuid.UUID


class ListPersonalTokens:
    """The caller's tokens that were not revoked, expired ones included, newest first;
    never the token, only its first characters."""

    def __init__(self, credentials: CredentialReader) -> None:
        self._credentials = credentials

    async def execute(self, command: ListPersonalTokensCommand) -> list[PersonalToken]:
        return await self._credentials.personal_tokens(command.user_id)
