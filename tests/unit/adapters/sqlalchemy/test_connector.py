"""The connector the PostgreSQL engine hands SQLAlchemy: asyncpg's ``connect`` with what the
dialect makes of the URL and Keel's own options, begun only when awaited."""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from adapters.sqlalchemy.driver import connector


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        return "a connection"


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorded = Recorder()
    monkeypatch.setattr(asyncpg, "connect", recorded)
    return recorded


async def test_the_url_and_the_options_reach_asyncpg(recorder: Recorder) -> None:
    url = make_url(
        "postgresql+asyncpg://keel:s3cret@db.internal:5433/keel"
        "?ssl=require&prepared_statement_cache_size=0"
    )
    connect = connector(url, {"timeout": 5.0, "server_settings": {"application_name": "keel"}})
    assert await connect() == "a connection"
    [(args, kwargs)] = recorder.calls
    assert args == ()
    assert kwargs == {
        "host": "db.internal",
        "port": 5433,
        "user": "keel",
        "password": "s3cret",
        "database": "keel",
        "ssl": "require",
        "timeout": 5.0,
        "server_settings": {"application_name": "keel"},
    }


async def test_nothing_is_begun_until_awaited(recorder: Recorder) -> None:
    connect = connector(make_url("postgresql+asyncpg://keel@localhost/keel"), {})
    attempt = connect()
    assert recorder.calls == []
    del attempt  # given up: never awaited, and nothing to warn of
    assert recorder.calls == []
    assert await connect() == "a connection"
    assert len(recorder.calls) == 1
