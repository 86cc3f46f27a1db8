"""Schemathesis hooks for the contract run: who the generated requests act as.

Loaded by ``schemathesis run`` through ``SCHEMATHESIS_HOOKS``. The run acts as an ordinary
user or as an administrator (``KEEL_CONTRACT_ROLE``). Generated requests may end that
account's sessions, change its email or role, deactivate or delete it; when its credentials
stop working, a new account of the same role takes its place, so later requests are still
made as someone who is allowed to make them. Users register through the API;
administrators are made with ``keel create-superuser`` (run in this process, to save its
start-up), as an operator would, since any account the API can see may be changed by a
generated request.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any

import httpx
import schemathesis
from typer.testing import CliRunner

from adapters.passwords.common import ZxcvbnCommonPasswords
from entrypoints.cli.main import build_cli
from entrypoints.console import ASGI_FACTORY, openapi_document

BASE_URL = os.environ["KEEL_CONTRACT_BASE_URL"]
ROLE = os.environ["KEEL_CONTRACT_ROLE"]
PASSWORD = os.environ["KEEL_CONTRACT_PASSWORD"]
USERS = "/api/v1/users"


class Account:
    """The account requests are made as, replaced when it no longer works for its role."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.email: str | None = None
        self.replaced = 0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock, httpx.Client(base_url=BASE_URL, timeout=30.0) as client:
            if self.email is not None:
                token = _login(client, self.email)
                if token is not None and self._still_fit(client, token):
                    return token
                self.replaced += 1
            self.email = self._new_account(client)
            token = _login(client, self.email)
            if token is None:
                raise RuntimeError(f"cannot log in as the new account {self.email}")
            return token

    def _still_fit(self, client: httpx.Client, token: str) -> bool:
        me = client.get(f"{USERS}/me", headers=_bearer(token))
        return me.status_code == 200 and (self.role != "admin" or "admin" in me.json()["roles"])

    def _new_account(self, client: httpx.Client) -> str:
        email = f"{self.role}-{secrets.token_hex(6)}@example.com"
        if self.role == "admin":
            made = CliRunner().invoke(
                KEEL_CLI, ["create-superuser", "--email", email, "--password-stdin"], PASSWORD
            )
            if made.exit_code != 0:
                raise RuntimeError(f"cannot create the administrator {email}: {made.output}")
            return email
        created = client.post(USERS, json={"email": email, "password": PASSWORD})
        if created.status_code != 201:
            raise RuntimeError(f"cannot register {email}: {created.status_code} {created.text}")
        return email


def _login(client: httpx.Client, email: str) -> str | None:
    response = client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    if response.status_code != 200:
        return None
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


KEEL_CLI = build_cli(asgi_factory_path=ASGI_FACTORY, openapi_builder=openapi_document)
ACCOUNT = Account(ROLE)
COMMON_PASSWORDS = ZxcvbnCommonPasswords()
NEW_PASSWORD_FIELDS = ("password", "new_password")


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """A common password fits the schema but is refused on purpose (the document says so in
    words, which a schema cannot): such bodies are not generated."""
    if not isinstance(body, dict):
        return True
    return not any(
        isinstance(body.get(field), str) and COMMON_PASSWORDS.contains(body[field])
        for field in NEW_PASSWORD_FIELDS
    )


# Fetched again every second and after any 401, so that a role taken away by a generated
# request (an answer of 403, not 401) is noticed quickly too.
@schemathesis.auth(refresh_interval=1, retry_on=[401])
class KeelAuth:
    def get(self, case: Any, context: Any) -> str:
        return ACCOUNT.token()

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
