"""Items created by many requests at once, on PostgreSQL: each created item is stored with
its one outbox entry by the same transaction, and its answer carries its first ETag."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from entrypoints.http.app import create_app
from tests.e2e.http_support import PASSWORD, access_token, bearer, make_settings, serving
from tests.support.migrated import migrated
from tests.support.sql import rows

pytestmark = pytest.mark.postgres

ITEMS = "/api/v1/items"
AT_ONCE = 30
TRIALS = 5


@pytest.fixture
async def url(postgres_url: str) -> str:
    await migrated(postgres_url)
    return postgres_url


@pytest.fixture
async def app(url: str) -> FastAPI:
    # No job runner: the outbox keeps every entry for the test to read.
    return create_app(
        make_settings(url, database_pool_size=20, database_max_overflow=20, jobs_in_process=False)
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


async def test_items_created_at_once_each_come_with_their_one_event_in_their_transaction(
    client: httpx.AsyncClient, url: str
) -> None:
    answer = await client.post(
        "/api/v1/users", json={"email": "w@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    headers = bearer(await access_token(client, "w@example.com"))
    created: list[str] = []
    for trial in range(TRIALS):
        responses = await asyncio.gather(
            *(
                client.post(ITEMS, json={"title": f"t{trial}-{n}"}, headers=headers)
                for n in range(AT_ONCE)
            )
        )
        for response in responses:
            assert response.status_code == 201, response.text
            assert response.headers["ETag"] == '"v1"'
            created.append(response.json()["id"])
    stored = dict(await rows(url, "SELECT id::text, xmin::text FROM items"))
    assert sorted(stored) == sorted(created)
    events = await rows(url, "SELECT payload, xmin::text FROM outbox WHERE kind = 'item_created'")
    told = [(json.loads(payload)["item_id"], xmin) for payload, xmin in events]
    assert sorted(told) == sorted((item_id, stored[item_id]) for item_id in created)
