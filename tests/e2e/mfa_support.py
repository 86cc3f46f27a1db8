"""A Keel app on a real database with a clock the tests move, and the second factor's
moves: set up, confirm, log in with a code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
from dependency_injector import providers
from fastapi import FastAPI

from entrypoints.container import build_container
from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, bearer, make_settings, register, serving
from tests.support.clock import FixedClock
from tests.support.migrated import migrated

MFA = "/api/v1/auth/mfa"


@dataclass
class MfaWorld:
    client: httpx.AsyncClient
    app: FastAPI
    clock: FixedClock

    def code(self, secret: str, steps: int = 0) -> str:
        """The code of ``secret`` at the clock's time, ``steps`` steps of 30 s away."""
        return pyotp.TOTP(secret).at(self.clock.now() + timedelta(seconds=30 * steps))

    def next_step(self) -> None:
        self.clock.advance(timedelta(seconds=30))

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        answer = await self.client.post(
            "/api/v1/auth/login", data={"username": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def user_with_totp(self, email: str) -> tuple[str, str, list[str]]:
        """A registered user with TOTP on: (their access token, the secret, the codes)."""
        await register(self.client, email)
        token = (await self.login(email))["access_token"]
        setup = await self.client.post(f"{MFA}/totp/setup", headers=bearer(token))
        assert setup.status_code == 200, setup.text
        secret = setup.json()["secret"]
        confirm = await self.client.post(
            f"{MFA}/totp/confirm", json={"code": self.code(secret)}, headers=bearer(token)
        )
        assert confirm.status_code == 200, confirm.text
        self.next_step()  # the confirm's code is spent: the next login needs a newer one
        return token, secret, confirm.json()["recovery_codes"]

    async def verify(self, mfa_token: str, code: str) -> httpx.Response:
        return await self.client.post(f"{MFA}/verify", json={"mfa_token": mfa_token, "code": code})


def start_of_a_step() -> datetime:
    """Now, moved to the start of a 30-second step, so that moving by steps is exact."""
    now = int(datetime.now(UTC).timestamp())
    return datetime.fromtimestamp(now - now % 30 + 1, tz=UTC)


@asynccontextmanager
async def mfa_world(database_url: str, **overrides: Any) -> AsyncIterator[MfaWorld]:
    await migrated(database_url)
    settings = make_settings(database_url, **overrides)
    container = build_container(settings)
    clock = FixedClock(start_of_a_step())
    container.clock.override(providers.Object(clock))
    app = create_app(settings, container)
    async with serving(app) as client:
        yield MfaWorld(client, app, clock)
